"""How fast the simulator runs, and how close FCFS mode comes to Erlang C.

DESIGN.md: "one 12-hour day of a 20-counter hall in <= 1 s; 1M customers in <= 60 s", and the
FCFS mean wait within ±7% of Erlang C (M/M/c). Results: deploy/bench/results/simulation.md.

* day: a 20-counter hall (the demo's 8 business types, 16 general counters with 3 or 4 skills,
  2 VIP-first, 2 express), default policy (weights 4/2/1, 30-minute guard, window depth 2),
  8:00 to 20:00 at about 85% load, lognormal service, 3% no-shows, two pauses. Each day timed.
* million: the demo weekday (queueing/scenarios/demo_weekday.yaml) repeated until 1,000,000
  customers, and the M/M/5 check scenario for 1,000,000 customers.
* erlang: M/M/5 at rho 0.7 and 0.85, 20 independent days of 2,000 hours each: the mean wait
  against Erlang C and the relative standard error of one day's mean (how many customers the ±7%
  needs).

    .venv/bin/python deploy/bench/sim_bench.py [--only day|million|erlang]
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from queueing.simulation import load_scenario, simulate  # noqa: E402
from queueing.simulation.theory import mmc_mean_wait  # noqa: E402

TYPES = {"payment": 3, "topup": 3, "service": 12, "cards": 4, "consult": 5, "query": 4,
         "complaint": 15, "broadband": 15}  # fmt: skip
MIX = {"payment": 0.30, "topup": 0.15, "service": 0.15, "cards": 0.08, "consult": 0.10,
       "query": 0.10, "complaint": 0.04, "broadband": 0.08}  # fmt: skip
LANES = {"normal": 0.87, "priority": 0.08, "vip": 0.05}


def twenty_counter_hall() -> dict:
    codes = list(TYPES)
    counters = []
    for i in range(16):  # general counters, 3 or 4 skills each, every type covered several times
        skills = {codes[(i + j * 3) % len(codes)] for j in range(3 + i % 2)}
        counters.append({"id": f"g{i + 1}", "business_types": sorted(skills)})
    counters += [{"id": f"v{i}", "business_types": "all", "vip_mode": "vip_first"} for i in (1, 2)]
    counters += [{"id": f"x{i}", "business_types": ["payment", "topup"]} for i in (1, 2)]
    mean_min = sum(MIX[c] * TYPES[c] for c in codes)
    per_hour = 0.85 * 20 * 60 / mean_min
    return {
        "name": "20-counter hall, 12 hours",
        "start_hour": 8,
        "end_hour": 20,
        "business_types": [
            {"code": c, "service": {"dist": "lognormal", "mean_minutes": m, "cv": 0.6}}
            for c, m in TYPES.items()
        ],
        "arrivals": [
            {"business_type": c, "lane": lane, "per_hour": per_hour * MIX[c] * share}
            for c in codes
            for lane, share in LANES.items()
        ],
        "counters": counters,
        "pauses": [
            {"counter": "g3", "at_hour": 10.5, "minutes": 15},
            {"counter": "g9", "at_hour": 15, "minutes": 10},
        ],  # fmt: skip
        "no_show": {"probability": 0.03, "recall_wait_s": 120},
    }


def mmc(rho: float, hours: float) -> dict:
    return {
        "name": f"M/M/5 rho {rho}",
        "start_hour": 0,
        "end_hour": hours + 2,
        "warmup_hours": 2,
        "policy": {"weights": {"vip": 1, "priority": 1, "normal": 1},
                   "max_wait_minutes": None, "window_depth": 0},
        "business_types": [{"code": "x", "service": {"dist": "exponential", "mean_s": 300}}],
        "arrivals": [{"business_type": "x", "per_hour": rho * 5 * 12}],
        "counters": [{"id": str(i), "business_types": "all"} for i in range(5)],
    }  # fmt: skip


def bench_day(days: int = 30) -> None:
    scenario = load_scenario(twenty_counter_hall())
    times, customers = [], 0
    for d in range(days):
        t0 = time.perf_counter()
        result = simulate(scenario, seed=d + 1)
        times.append(time.perf_counter() - t0)
        customers += result.customers
    times.sort()
    print(f"day: {days} days of '{scenario.name}', {customers / days:.0f} customers a day, "
          f"mean wait {result.overall['mean_wait_s']:.0f} s (last day)")  # fmt: skip
    print(f"  seconds per day: median {statistics.median(times):.3f}, max {times[-1]:.3f} "
          f"(target 1 s)")  # fmt: skip


def bench_million() -> None:
    for scenario in (
        load_scenario(ROOT / "queueing/scenarios/demo_weekday.yaml"),
        load_scenario(mmc(0.85, 1)),
    ):
        replications = math.ceil(1_000_000 / scenario.expected_customers())
        if scenario.name.startswith("M/M"):  # one long day instead of many short ones
            hours = 1_000_000 / (0.85 * 60)
            scenario, replications = load_scenario(mmc(0.85, hours)), 1
        t0 = time.perf_counter()
        result = simulate(scenario, seed=1, replications=replications)
        elapsed = time.perf_counter() - t0
        print(f"million: '{scenario.name}' x{replications}: {result.customers} customers in "
              f"{elapsed:.1f} s ({elapsed / result.customers * 1e6:.1f} us per customer; "
              f"target 60 s)")  # fmt: skip


def bench_erlang(days: int = 20, hours: float = 2000) -> None:
    print(f"erlang: M/M/5, mean service 300 s, {days} days of {hours:g} h (+2 h warm-up), FCFS")
    for rho in (0.7, 0.85):
        scenario = load_scenario(mmc(rho, hours))
        results = [simulate(scenario, seed=100 + d) for d in range(days)]
        means = [r.overall["mean_wait_s"] for r in results]
        n = sum(r.customers for r in results)
        mean = statistics.fmean(means)
        one = statistics.stdev(means) / mean
        theory = mmc_mean_wait(5, rho * 5 / 300, 1 / 300)
        need = (3 * one / 0.07) ** 2 * n / days  # customers for 3 standard errors inside 7%
        print(f"  rho {rho}: Erlang C {theory:.1f} s, simulated {mean:.1f} s "
              f"({(mean / theory - 1) * 100:+.1f}%), {n} customers; relative standard error of "
              f"one day's mean {one * 100:.1f}% ({n // days} customers), of all {days} "
              f"{one / days**0.5 * 100:.1f}%; 3 standard errors inside 7% needs about "
              f"{need:,.0f} customers")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", choices=("day", "million", "erlang"))
    args = parser.parse_args()
    print(f"python {platform.python_version()} on {platform.machine()} ({platform.system()}), "
          f"{os.cpu_count()} CPUs")  # fmt: skip
    for name, run in (("day", bench_day), ("million", bench_million), ("erlang", bench_erlang)):
        if args.only in (None, name):
            run()
    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
