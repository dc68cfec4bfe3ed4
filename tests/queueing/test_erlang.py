"""Erlang C (queueing.simulation.theory) and a quick check of the simulator against it.

The ±7% check at rho = 0.85 and 0.7 with the customers it needs is in
tests/integration/test_simulation_theory.py (it takes several seconds); the one here is small and
uses a tolerance matched to its size (about four standard errors).
"""

import math

import pytest

from queueing.simulation import load_scenario, simulate
from queueing.simulation.theory import (
    erlang_c,
    mmc_mean_wait,
    mmc_service_level,
    mmc_wait_quantile,
)


def erlang_c_by_the_sum(c: int, a: float) -> float:
    """The textbook formula, written independently of the Erlang B recursion."""
    top = a**c / math.factorial(c) * c / (c - a)
    return top / (sum(a**k / math.factorial(k) for k in range(c)) + top)


def test_erlang_c_matches_the_textbook():
    assert erlang_c(1, 0.5) == pytest.approx(0.5)  # M/M/1: P(wait) = rho
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3)
    for c, a in [(5, 4.25), (5, 3.5), (20, 17.0), (3, 0.1)]:
        assert erlang_c(c, a) == pytest.approx(erlang_c_by_the_sum(c, a), rel=1e-12)


def test_mmc_waits():
    # M/M/1 at rho 0.5, mu = 1: Wq = rho / (mu - lambda) = 1.
    assert mmc_mean_wait(1, 0.5, 1.0) == pytest.approx(1.0)
    c, lam, mu = 5, 51 / 3600, 1 / 300
    assert mmc_mean_wait(c, lam, mu) == pytest.approx(261.79, abs=0.01)
    median = mmc_wait_quantile(c, lam, mu, 0.5)
    assert mmc_service_level(c, lam, mu, median) == pytest.approx(0.5)
    assert mmc_wait_quantile(c, lam, mu, 0.1) == 0.0  # 40% do not wait at all


def test_erlang_c_refuses_an_unstable_queue():
    with pytest.raises(ValueError):
        erlang_c(5, 5.0)


def mmc(*, rho: float, hours: float, replications: int, c: int = 5, mean_s: float = 300.0):
    return load_scenario({
        "name": f"M/M/{c} rho {rho}",
        "start_hour": 0,
        "end_hour": hours + 2,
        "warmup_hours": 2,
        "replications": replications,
        "policy": {"weights": {"vip": 1, "priority": 1, "normal": 1},
                   "max_wait_minutes": None, "window_depth": 0},
        "business_types": [{"code": "x", "service": {"dist": "exponential", "mean_s": mean_s}}],
        "arrivals": [{"business_type": "x", "per_hour": rho * c * 3600 / mean_s}],
        "counters": [{"id": str(i), "business_types": "all"} for i in range(c)],
    })  # fmt: skip


def test_the_simulator_is_near_erlang_c_at_rho_0_7():
    # About 100,000 customers: the relative standard error of the mean wait is about 4% here
    # (deploy/bench/results/simulation.md), so ±16% is four of them.
    scenario = mmc(rho=0.7, hours=2400, replications=1)
    result = simulate(scenario, seed=11)
    assert result.customers > 90_000
    theory = mmc_mean_wait(5, 42 / 3600, 1 / 300)
    assert result.overall["mean_wait_s"] == pytest.approx(theory, rel=0.16)
    assert result.overall["service_level"] == pytest.approx(
        mmc_service_level(5, 42 / 3600, 1 / 300, 900), abs=0.02
    )
