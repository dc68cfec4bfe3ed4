"""How long the staffing planner takes, and why 30 simulated days per evaluation.

Issue 5: "a 12-hour day of the demo hall should take well under a second per evaluation; the
search may take a few seconds". Results: deploy/bench/results/planner.md.

On a fresh SQLite file: migrate, seed the demo hall (8 counters, no history: the default
profile of queueing.planning, about 640 customers 8:00-18:00), then

* evaluate: ``planning.evaluate`` with every counter open and with the suggested staffing,
  ``--runs`` times each (each evaluation is ``planning.REPLICATIONS`` simulated days);
* suggest: ``planning.suggest`` for an 80% target, ``--runs`` times, with its simulation count;
* precision: the suggested staffing simulated one day at a time for ``--days`` seeds: the
  standard deviation of one day's hourly service level, hence the standard error of the mean
  of ``planning.REPLICATIONS`` days, against the change one counter fewer makes at each hour
  (common random numbers).

    .venv/bin/python deploy/bench/planner_bench.py [--runs 5] [--days 200]
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--days", type=int, default=200)
    args = parser.parse_args()

    var = tempfile.mkdtemp(prefix="planner-bench-")
    os.environ["HALLQ_VAR_DIR"] = var
    os.environ["DATABASE_URL"] = f"sqlite:///{var}/bench.sqlite3"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("seed_demo", stdout=io.StringIO())

    from hall.models import Hall
    from queueing import planning

    print(f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs")
    hall = Hall.objects.get(code="demo")
    plan = planning.scenario_for_hall(hall=hall)
    customers = sum(plan.expected_arrivals(h) for h in plan.hours)
    print(
        f"demo hall: {plan.max_counters} counters, {plan.hours[0]}:00-{plan.hours[-1] + 1}:00, "
        f"{customers:.0f} customers a day ({plan.profile_source} profile), "
        f"{planning.REPLICATIONS} simulated days per evaluation"
    )

    def timed(fn):
        start = time.perf_counter()
        value = fn()
        return time.perf_counter() - start, value

    suggest_times, sims = [], []
    for _ in range(args.runs):
        seconds, suggestion = timed(lambda: planning.suggest(scenario=plan, target_share=0.8))
        suggest_times.append(seconds)
        sims.append(suggestion.evaluations)
    staffing = suggestion.counters_per_hour
    for label, counters in (("every counter", plan.full_staffing()), ("suggested", staffing)):
        times = [
            timed(lambda c=counters: planning.evaluate(scenario=plan, counters_per_hour=c))[0]
            for _ in range(args.runs)
        ]
        print(
            f"evaluate ({label}): median {statistics.median(times):.3f} s, "
            f"max {max(times):.3f} s over {args.runs} runs"
        )
    print(
        f"suggest: median {statistics.median(suggest_times):.2f} s, max {max(suggest_times):.2f} s "
        f"over {args.runs} runs; {statistics.median(sims):.0f} simulations; staffing "
        + ", ".join(f"{h}:{n}" for h, n in staffing.items())
    )

    per_hour = {h: [] for h in plan.hours}
    for seed in range(1, args.days + 1):
        day = planning.evaluate(
            scenario=plan, counters_per_hour=staffing, replications=1, seed=seed
        )
        for row in day.hours:
            if row.service_level is not None:
                per_hour[row.hour].append(row.service_level)
    base = planning.evaluate(scenario=plan, counters_per_hour=staffing)
    print(
        f"precision over {args.days} single days (suggested staffing); SE = sd / sqrt("
        f"{planning.REPLICATIONS}); 'one fewer' = the hour's level with one counter fewer there"
    )
    print(f"{'hour':>6}{'sd 1 day':>10}{'SE':>8}{'level':>8}{'one fewer':>11}")
    for row in base.hours:
        levels = per_hour[row.hour]
        sd = statistics.stdev(levels)
        fewer = ""
        if staffing[row.hour] > plan.min_counters:
            less = planning.evaluate(
                scenario=plan, counters_per_hour={**staffing, row.hour: staffing[row.hour] - 1}
            )
            fewer = f"{less.hours[plan.hours.index(row.hour)].service_level:.3f}"
        print(
            f"{row.hour:>4}:00{sd:>10.3f}{sd / planning.REPLICATIONS**0.5:>8.3f}"
            f"{row.service_level:>8.3f}{fewer:>11}"
        )
    print("load average at the end:", " ".join(f"{x:.2f}" for x in os.getloadavg()))


if __name__ == "__main__":
    main()
