"""The best any estimate from the hall's state could do: an oracle bound (issue 5 item 5).

    nice -n 10 .venv/bin/python deploy/bench/estimate_oracle.py [--replays K] [--every N]
        [--replications R] [--seed S] [--only NAME]

The same three scenarios and the same simulation as ``estimate_accuracy.py``. At each sampled
issue moment (every ``N``-th arrival) the observer also clones the simulator's exact state
(``queueing.simulation.engine._Day.fork``: the waiting tickets and windows, every counter's
state, who is served since when, no-shows being waited for, the scenario's rota of openings,
closings and pauses, the arrival process) and replays the future ``K`` times, each with its own
seed: services in progress end after a remaining time drawn from the true service distribution
given the time already spent, later services, no-shows and arrivals are drawn from the
scenario's true distributions. The replays give the new ticket's wait distribution given
everything the hall knows (and a little more: the rota and the true distributions).

The conditional median of those waits minimises the expected absolute error among all estimates
that are functions of that information, so its mean absolute error is a lower bound for any
estimator that sees the hall's state (``queueing.forecast`` included), up to Monte-Carlo noise:
a median of K draws misses the true one a little, which adds to its error (a bias of order
1 / K). The script measures that bias as MAE(median of the first K/2) - MAE(median of all K),
which is what it would shrink by from K/2 to K (and about what is left at K).

Reported per scenario, on the same sampled customers: the mean wait; the MAE of the forecast, of
the naive estimate (same-type people ahead x mean / counters serving it) and of the oracle's
median and mean, as % of the mean wait, with standard errors (days as clusters: customers of
one day are correlated); how much better than the naive estimate each is; and the oracle's
calibration (share of actual waits below its median, inside its 25-75 % and 10-90 % ranges) and
the width of those ranges.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from estimate_accuracy import RHO_90, SCENARIOS, Recorder  # noqa: E402

from queueing import forecast, router  # noqa: E402
from queueing.simulation import load_scenario, simulate  # noqa: E402


def replay_waits(day, ticket: router.Ticket, replays: int) -> list[float]:
    """The new ticket's wait in ``replays`` replays of the day's future from its exact state."""
    waits = []
    for k in range(replays):
        fork = day.fork(f"oracle/{ticket.id}/{k}", ticket.issued_at)
        called = fork.run_until_called(ticket.id, just_issued=True)
        if called is not None:
            waits.append(called - ticket.issued_at)
    return waits


def quantile(ordered: list[float], q: float) -> float:
    pos = (len(ordered) - 1) * q
    low = math.floor(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


class OracleRecorder(Recorder):
    """``Recorder`` (forecast and naive estimate) plus the oracle's replays, every ``every``-th
    arrival; one row per sampled customer once called."""

    def __init__(self, scenario, *, replays: int, every: int) -> None:
        super().__init__(scenario)
        self.replays, self.every = replays, every
        self.day, self.day_index, self.arrivals = None, -1, 0
        self.oracle: dict = {}
        self.sampled: list[dict] = []
        self.oracle_seconds = 0.0
        self.sampled_forecast: dict = {}
        self.sampled_seconds = 0.0

    def on_day(self, day) -> None:
        self.day, self.day_index = day, self.day_index + 1

    def on_arrival(self, ticket: router.Ticket, state) -> None:
        self.arrivals += 1
        if self.arrivals % self.every:
            return
        super().on_arrival(ticket, state)
        others = tuple(t for t in state.waiting if t.id != ticket.id)
        seen = dataclasses.replace(
            state, waiting=others, service_mean=self.mean, service_cv=self.cv
        )  # what the forecast is given (as Recorder.on_arrival)
        started = time.perf_counter()
        self.sampled_forecast[ticket.id] = forecast.forecast_new(
            seen, ticket.business_type, ticket.lane, replays=forecast.AUTO
        )
        self.sampled_seconds += time.perf_counter() - started
        started = time.perf_counter()
        drawn = replay_waits(self.day, ticket, self.replays)
        waits, half = sorted(drawn), sorted(drawn[: len(drawn) // 2])  # half: the first K/2 seeds
        self.oracle_seconds += time.perf_counter() - started
        if not waits:
            self.oracle[ticket.id] = None
            return
        self.oracle[ticket.id] = {
            "median": statistics.median(waits),
            "median_half": statistics.median(half) if half else statistics.median(waits),
            "mean": statistics.fmean(waits),
            **{f"q{round(100 * q)}": quantile(waits, q) for q in (0.1, 0.25, 0.75, 0.9)},
        }

    def on_called(self, ticket_id, now: float) -> None:
        if ticket_id not in self.pending:
            return
        ticket, estimate, naive = self.pending.pop(ticket_id)
        oracle = self.oracle.pop(ticket_id)
        sampled = self.sampled_forecast.pop(ticket_id)
        if estimate is None or naive is None or oracle is None or sampled is None:
            return
        self.sampled.append({
            "day": self.day_index,
            "lane": ticket.lane,
            "wait": now - ticket.issued_at,
            "forecast": estimate,
            "sampled": sampled,
            "naive": naive,
            **{f"oracle_{k}": v for k, v in oracle.items()},
        })  # fmt: skip


ESTIMATES = {
    "forecast": "forecast (queueing.forecast)",
    "sampled": "forecast, replays=AUTO (median)",
    "naive": "naive (ahead x mean / counters)",
    "oracle_median": "ORACLE median of K replays",
    "oracle_median_half": "oracle median of K/2 replays",
    "oracle_mean": "oracle mean of K replays",
}


def ratio_se(rows: list[dict], num, den) -> tuple[float, float]:
    """sum(num) / sum(den) and its standard error with days as clusters (delta method)."""
    days: dict = {}
    for r in rows:
        a, b = days.setdefault(r["day"], [0.0, 0.0])
        days[r["day"]] = [a + num(r), b + den(r)]
    total_a = sum(a for a, _ in days.values())
    total_b = sum(b for _, b in days.values())
    ratio = total_a / total_b
    n = len(days)
    if n < 2:
        return ratio, float("nan")
    spread = sum((a - ratio * b) ** 2 for a, b in days.values()) * n / (n - 1)
    return ratio, math.sqrt(spread) / total_b


def report(name: str, rec: OracleRecorder) -> dict:
    rows = rec.sampled
    days = len({r["day"] for r in rows})
    mean_wait = statistics.fmean(r["wait"] for r in rows)
    per = 1e3 * rec.oracle_seconds / max(len(rows), 1)
    auto = 1e3 * rec.sampled_seconds / max(len(rows), 1)
    print(f"{name}: {len(rows)} sampled customers on {days} days, mean wait {mean_wait:.1f} s;"
          f" oracle {rec.replays} replays in {per:.0f} ms, forecast replays=AUTO in {auto:.1f} ms"
          f" per customer")  # fmt: skip
    summary = {"n": len(rows), "days": days, "mean_wait": mean_wait}
    naive_abs = lambda r: abs(r["naive"] - r["wait"])  # noqa: E731
    for key, label in ESTIMATES.items():
        err = lambda r, key=key: abs(r[key] - r["wait"])  # noqa: E731
        pct, se = ratio_se(rows, err, lambda r: r["wait"])
        gain, gain_se = ratio_se(rows, err, naive_abs)
        summary[key] = {"mae_pct": 100 * pct, "se": 100 * se, "better_pct": 100 * (1 - gain),
                        "better_se": 100 * gain_se}  # fmt: skip
        print(f"  {label:32} MAE {100 * pct:5.1f}% ± {100 * se:3.1f} of the mean wait | "
              f"{100 * (1 - gain):+5.0f}% ± {100 * gain_se:2.0f} vs naive")  # fmt: skip
    bias = summary["oracle_median_half"]["mae_pct"] - summary["oracle_median"]["mae_pct"]
    summary["mc_bias"] = bias
    summary["bound_pct"] = summary["oracle_median"]["mae_pct"] - bias
    print(
        f"  Monte-Carlo: K/2 -> K replays lowers the oracle's MAE by {bias:.2f} points "
        f"(about the bias left at K): the bound is about {summary['bound_pct']:.1f}%"
    )
    # The replays are right only if, on average, they neither over- nor under-state the wait.
    drift, drift_se = ratio_se(rows, lambda r: r["wait"] - r["oracle_mean"], lambda r: 1.0)
    print(
        f"  check: actual - oracle mean = {drift:+.1f} s ± {drift_se:.1f} (0 if the replays "
        f"are drawn from the true law)"
    )
    for lane in router.Lane:
        sub = [r for r in rows if r["lane"] == lane]
        if not sub:
            continue
        mw = statistics.fmean(r["wait"] for r in sub)
        parts = [f"{100 * statistics.fmean(abs(r[k] - r['wait']) for r in sub) / mw:5.1f}%"
                 for k in ("forecast", "sampled", "naive", "oracle_median")]  # fmt: skip
        print(f"    {lane:8} n={len(sub):5} mean wait {mw:6.1f} s | forecast {parts[0]} | "
              f"AUTO {parts[1]} | naive {parts[2]} | oracle {parts[3]}")  # fmt: skip
    below = statistics.fmean(r["wait"] < r["oracle_median"] for r in rows)
    ties = statistics.fmean(r["wait"] == r["oracle_median"] for r in rows)
    inside50 = statistics.fmean(r["oracle_q25"] <= r["wait"] <= r["oracle_q75"] for r in rows)
    inside80 = statistics.fmean(r["oracle_q10"] <= r["wait"] <= r["oracle_q90"] for r in rows)
    width50 = statistics.fmean(r["oracle_q75"] - r["oracle_q25"] for r in rows)
    width80 = statistics.fmean(r["oracle_q90"] - r["oracle_q10"] for r in rows)
    zero = statistics.fmean(r["wait"] == 0.0 for r in rows)
    print(
        f"  calibration: actual < median {100 * below:.1f}% (= {100 * ties:.1f}%), "
        f"inside 25-75% {100 * inside50:.1f}%, inside 10-90% {100 * inside80:.1f}%; "
        f"called at once {100 * zero:.1f}%"
    )
    print(
        f"  range widths: 25-75% {width50:.0f} s = {100 * width50 / mean_wait:.0f}% of the "
        f"mean wait, 10-90% {width80:.0f} s = {100 * width80 / mean_wait:.0f}%"
    )
    summary.update(inside50=inside50, inside80=inside80, width50=width50, width80=width80)
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replays", type=int, default=200, help="K replays per customer")
    parser.add_argument("--every", type=int, default=1, help="sample every N-th arrival")
    parser.add_argument("--replications", type=int, default=None, help="override the scenarios'")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--only", default=None, help="run the scenarios whose name has this")
    parser.add_argument("--speed", action="store_true", help="also time replays=AUTO")
    args = parser.parse_args()
    print(f"python {platform.python_version()} on {platform.machine()} ({platform.system()})")
    scenarios = [
        load_scenario(SCENARIOS / "demo_weekday.yaml"),
        load_scenario(SCENARIOS / "lanes_pauses_no_shows.yaml"),
        load_scenario(RHO_90),
    ]
    table = []
    for sc in scenarios:
        if args.only and args.only not in sc.name:
            continue
        rec = OracleRecorder(sc, replays=args.replays, every=args.every)
        reps = args.replications or sc.replications
        started = time.perf_counter()
        simulate(sc, seed=args.seed, replications=reps, observer=rec)
        seed = sc.seed if args.seed is None else args.seed
        s = report(f"{sc.name} (x{reps}, seed {seed}, every {args.every})", rec)
        print(f"  ({time.perf_counter() - started:.0f} s)")
        table.append((sc.name, s))
    print("\nMAE as % of the mean wait (± standard error); better than naive in brackets")
    print(
        "| scenario | customers (days) | mean wait | forecast | forecast AUTO | naive "
        "| ORACLE (bound) |"
    )
    print("|---|---|---|---|---|---|---|")
    for name, s in table:
        cells = []
        for key in ("forecast", "sampled", "naive", "oracle_median"):
            e = s[key]
            better = "" if key == "naive" else f" ({e['better_pct']:+.0f}% ± {e['better_se']:.0f})"
            cells.append(f"{e['mae_pct']:.1f}% ± {e['se']:.1f}{better}")
        print(
            f"| {name} | {s['n']} ({s['days']}) | {s['mean_wait']:.0f} s | "
            + " | ".join(cells)
            + " |"
        )
    if args.speed:
        speed()


def speed(repeat: int = 50) -> None:
    """What replays=AUTO costs: forecast_new on the demo hall's 8 counters (all busy) with 5 to
    100 waiting, expected value against AUTO (wall time, median of ``repeat``)."""
    sc = load_scenario(SCENARIOS / "demo_weekday.yaml")
    types = [bt.code for bt in sc.business_types]
    lanes = [router.Lane.NORMAL] * 8 + [router.Lane.PRIORITY, router.Lane.VIP]
    counters = tuple(
        forecast.CounterState(
            id=spec.id,
            business_types=frozenset(spec.business_types),
            vip_mode=spec.vip_mode,
            serving_since=-60.0 * (i + 1),
            serving_business_type=sorted(spec.business_types)[0],
        )
        for i, spec in enumerate(sc.counters)
    )
    print("speed: forecast_new('service'), demo hall, 8 busy counters (median ms)")
    for n in (5, 10, 20, 50, 100):
        waiting = tuple(
            router.Ticket(i, types[(i * 7) % len(types)], lanes[i % len(lanes)], -1800.0 + 18 * i)
            for i in range(n)
        )
        state = forecast.HallState(
            now=0.0,
            policy=sc.policy,
            counters=counters,
            waiting=waiting,
            service_mean={bt.code: bt.service.mean_s for bt in sc.business_types},
            arrival_rate={(t, lane): 2 / 3600 for t in types for lane in router.Lane},
            service_cv={t: 0.6 for t in types},
        )
        cells = []
        for replays in (0, forecast.AUTO):
            times = []
            for _ in range(repeat):
                started = time.perf_counter()
                forecast.forecast_new(state, "service", replays=replays)
                times.append(time.perf_counter() - started)
            cells.append(1e3 * sorted(times)[len(times) // 2])
        print(f"  {n:3} waiting: expected {cells[0]:6.2f} ms | AUTO {cells[1]:6.2f} ms")


if __name__ == "__main__":
    main()
