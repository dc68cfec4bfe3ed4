"""Issue 5 item 3: in FCFS mode the simulator's mean wait matches Erlang C (M/M/c) within ±7%
at c = 5, rho = 0.85 and rho = 0.7.

How many customers: one day of 2,000 hours (after a 2-hour warm-up) has about 100,000 customers
at rho = 0.85 and 84,000 at rho = 0.7; the relative standard error of the mean wait of one such
day, measured over 20 independent days, is about 6% and 4% (deploy/bench/results/simulation.md).
Eight days give about 2.1% and 1.5%: 7% is more than three standard errors. The test also
checks that standard error from its own replications, so that a too-small run cannot pass.
Runs in about 10 s; marked ``services`` to keep the unit suite fast.
"""

import statistics

import pytest

from queueing.simulation import simulate
from queueing.simulation.theory import mmc_mean_wait
from tests.queueing.test_erlang import mmc

pytestmark = pytest.mark.services


@pytest.mark.parametrize("rho", [0.85, 0.7])
def test_fcfs_mean_wait_matches_erlang_c_within_7_percent(rho):
    days = [simulate(mmc(rho=rho, hours=2000, replications=1), seed=100 + day) for day in range(8)]
    means = [day.overall["mean_wait_s"] for day in days]
    counts = [day.overall["count"] for day in days]
    mean = sum(m * n for m, n in zip(means, counts, strict=True)) / sum(counts)
    relative_error = statistics.stdev(means) / len(means) ** 0.5 / mean
    theory = mmc_mean_wait(5, rho * 5 / 300, 1 / 300)
    assert relative_error < 0.07 / 3, "too few customers for the 7% claim"
    assert mean == pytest.approx(theory, rel=0.07)
