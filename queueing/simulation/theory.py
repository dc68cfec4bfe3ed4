"""Queueing theory the simulator is checked against: Erlang C, the M/M/c queue.

c servers, Poisson arrivals at rate ``lam``, exponential service at rate ``mu`` per server,
first-come-first-served, offered load a = lam / mu, utilisation rho = a / c < 1.
"""

from __future__ import annotations

import math


def erlang_c(c: int, a: float) -> float:
    """The probability that an arrival waits (Erlang C), for ``c`` servers and load ``a``.

    From the Erlang B recursion B(k) = a B(k-1) / (k + a B(k-1)), which stays stable for large c:
    C = B / (1 - rho (1 - B)).
    """
    if c < 1 or not 0 <= a < c:
        raise ValueError("need c >= 1 and 0 <= a < c")
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    rho = a / c
    return b / (1.0 - rho * (1.0 - b))


def mmc_mean_wait(c: int, lam: float, mu: float) -> float:
    """Mean wait in queue Wq = C(c, a) / (c mu - lam)."""
    return erlang_c(c, lam / mu) / (c * mu - lam)


def mmc_wait_quantile(c: int, lam: float, mu: float, q: float) -> float:
    """The q-quantile of the wait: P(W > t) = C exp(-(c mu - lam) t)."""
    waits = erlang_c(c, lam / mu)
    if q <= 1.0 - waits:
        return 0.0
    return math.log(waits / (1.0 - q)) / (c * mu - lam)


def mmc_service_level(c: int, lam: float, mu: float, target: float) -> float:
    """P(W <= target)."""
    return 1.0 - erlang_c(c, lam / mu) * math.exp(-(c * mu - lam) * target)
