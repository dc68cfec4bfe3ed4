"""What the routing rules cost in waiting time (issue 5 item 7), measured on the simulator.

Every routing decision goes through ``queueing.router`` (``queueing.simulation.simulate``); this
script only builds scenarios and summarises results. Results: deploy/bench/results/rules_cost.md.

The hall of parts (a) and (b): 8 counters that serve everything, one business type with
exponential service of mean 6 minutes (capacity 80 customers an hour), lanes 10% VIP, 15%
priority, 75% normal (Poisson each).

* (a) window depth 0, 1 and 2 at rho = 0.7, 0.85 and 0.95 under the default policy (weights
  4/2/1, 30-minute guard): steady state, ``reps`` independent replications of ``hours`` hours
  (after a warm-up that is left out). Every depth sees the same arrivals (same seeds), so the
  differences from depth 0 are paired.
* (b) FCFS, the default weights (with and without the guard) and strict priority (with and
  without the guard) at window depth 2 over service days (8:30 to 18:00, the demo weekday's
  arrival profile scaled so that the day averages rho = 0.85). Batches of ``batch_days`` days;
  the "max" is the longest wait of a batch. Also: the default weights with and without the guard
  in steady state at rho = 0.85.
* (c) 8 counters and 4 business types (payment 3 min, consult 5, service 12, broadband 15,
  lognormal with cv 0.6, each a quarter of the work) at rho = 0.85, default policy: pooled
  (every counter everything), a skills mix (two skills each, in a chain) and dedicated (two
  counters per type).

Every figure is the mean over independent replications (or batches) with its standard error
(standard deviation of the replications / sqrt(n)); 95% intervals are about ±2.1 SE for 20.

    .venv/bin/python deploy/bench/rules_cost.py [--quick] [--only a|b|c] [--jobs N]
"""

from __future__ import annotations

import argparse
import hashlib
import math
import os
import platform
import statistics
import sys
import textwrap
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from queueing.simulation import load_scenario, simulate  # noqa: E402
from queueing.simulation.results import stats  # noqa: E402
from queueing.simulation.theory import mmc_mean_wait  # noqa: E402

COUNTERS = 8
SERVICE_MIN = 6.0
CAPACITY_PER_HOUR = COUNTERS * 60 / SERVICE_MIN
LANE_MIX = {"vip": 0.10, "priority": 0.15, "normal": 0.75}
LANES = tuple(LANE_MIX)
DEFAULT_WEIGHTS = {"vip": 4, "priority": 2, "normal": 1}
GUARD_MIN = 30

RHOS = (0.7, 0.85, 0.95)
DEPTHS = (0, 1, 2)

POLICIES = {  # (b): label -> the scenario's policy (window depth 2, the hall default)
    "FCFS (equal weights)": {"weights": {"vip": 1, "priority": 1, "normal": 1}},
    "default 4/2/1 + guard": {"weights": DEFAULT_WEIGHTS},
    "4/2/1, no guard": {"weights": DEFAULT_WEIGHTS, "max_wait_minutes": None},
    "strict + guard": {"strict": ["vip", "priority"]},
    "strict, no guard": {"strict": ["vip", "priority"], "max_wait_minutes": None},
}
# The demo weekday's customers per hour (queueing/scenarios/demo_weekday.yaml), for its shape.
WEEKDAY = {8: 26, 9: 58, 10: 80, 11: 72, 12: 50, 13: 55, 14: 76, 15: 76, 16: 62, 17: 44}
DAY_START, DAY_END = 8.5, 18.0

SKILL_TYPES = {"payment": 3, "consult": 5, "service": 12, "broadband": 15}  # mean minutes
SKILL_HALLS = {
    "pooled": [list(SKILL_TYPES)] * 8,
    "mixed (2 skills, chain)": [["payment", "consult"]] * 2 + [["consult", "service"]] * 2
    + [["service", "broadband"]] * 2 + [["broadband", "payment"]] * 2,
    "dedicated": [[code] for code in SKILL_TYPES for _ in range(2)],
}  # fmt: skip

SEEDS = {"a": 1000, "b": 2000, "guard": 2500, "c": 3000}


@dataclass(frozen=True)
class Sizes:
    reps: int = 20  # replications (a, c, the guard check) and batches (b)
    hours: dict = field(default_factory=lambda: {0.7: 300, 0.85: 600, 0.95: 1500})  # (a)
    warmup_hours: float = 20
    batch_days: int = 20  # (b): days per batch
    guard_hours: float = 300  # (b): the steady-state guard check
    skills_hours: float = 500  # (c)


FULL = Sizes()
QUICK = Sizes(reps=4, hours={0.7: 40, 0.85: 60, 0.95: 120}, warmup_hours=10, batch_days=10,
              guard_hours=40, skills_hours=60)  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Scenarios (plain dicts: they travel to the worker processes).


def policy(depth: int = 2, **overrides) -> dict:
    return {"weights": DEFAULT_WEIGHTS, "max_wait_minutes": GUARD_MIN, "window_depth": depth,
            **overrides}  # fmt: skip


def steady_hall(*, rho: float, hours: float, warmup: float, pol: dict) -> dict:
    """Parts (a) and (b)'s hall in steady state: arrivals from hour 0, the first ``warmup``
    hours left out of the results."""
    rate = rho * CAPACITY_PER_HOUR
    return {
        "name": f"8 pooled counters, rho {rho}",
        "start_hour": 0,
        "end_hour": warmup + hours,
        "warmup_hours": warmup,
        "target_wait_s": GUARD_MIN * 60,
        "policy": pol,
        "business_types": [{"code": "x", "service": {"dist": "exponential",
                                                     "mean_minutes": SERVICE_MIN}}],
        "arrivals": [{"business_type": "x", "lane": lane, "per_hour": rate * share}
                     for lane, share in LANE_MIX.items()],
        "counters": [{"id": str(i + 1), "business_types": "all"} for i in range(COUNTERS)],
    }  # fmt: skip


def day_scale(rho: float = 0.85) -> float:
    """The factor on WEEKDAY that makes the service day average ``rho``."""
    customers = sum(rate * (min(h + 1, DAY_END) - max(h, DAY_START)) for h, rate in WEEKDAY.items())
    return rho * CAPACITY_PER_HOUR * (DAY_END - DAY_START) / customers


def service_day(pol: dict) -> dict:
    """Part (b): the same hall over a service day with the weekday's peaks, at rho 0.85 on
    average (the 10:00 hour is above capacity)."""
    scale = day_scale()
    return {
        "name": "8 pooled counters, weekday at rho 0.85",
        "start_hour": DAY_START,
        "end_hour": DAY_END,
        "target_wait_s": GUARD_MIN * 60,
        "policy": pol,
        "business_types": [{"code": "x", "service": {"dist": "exponential",
                                                     "mean_minutes": SERVICE_MIN}}],
        "arrivals": [{"business_type": "x", "lane": lane, "profile": WEEKDAY,
                      "scale": scale * share} for lane, share in LANE_MIX.items()],
        "counters": [{"id": str(i + 1), "business_types": "all"} for i in range(COUNTERS)],
    }  # fmt: skip


def skills_hall(skills: list[list[str]], *, hours: float, warmup: float, rho: float = 0.85):
    """Part (c): 8 counters with the given skills; each business type brings a quarter of the
    work, so every layout (pooled, chain, two dedicated counters a type) has the same load."""
    work_each = rho * len(skills) / len(SKILL_TYPES)  # counters' worth of work per type
    return {
        "name": "8 counters, 4 business types",
        "start_hour": 0,
        "end_hour": warmup + hours,
        "warmup_hours": warmup,
        "policy": policy(),
        "business_types": [{"code": code, "service": {"dist": "lognormal",
                                                      "mean_minutes": m, "cv": 0.6}}
                           for code, m in SKILL_TYPES.items()],
        "arrivals": [{"business_type": code, "lane": lane,
                      "per_hour": work_each * 60 / m * share}
                     for code, m in SKILL_TYPES.items() for lane, share in LANE_MIX.items()],
        "counters": [{"id": f"c{i + 1}", "business_types": s} for i, s in enumerate(skills)],
    }  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Running: one task = one simulate() call (one replication, or one batch of days).


class _Waits:
    """An observer keeping every called ticket's wait by lane."""

    def __init__(self) -> None:
        self.issued: dict = {}
        self.waits: dict = {lane: [] for lane in LANES}

    def on_arrival(self, ticket, state) -> None:
        self.issued[ticket.id] = ticket

    def on_called(self, ticket_id, now: float) -> None:
        ticket = self.issued.pop(ticket_id)
        self.waits[ticket.lane].append(now - ticket.issued_at)


def _run(task: tuple) -> dict:
    data, seed, replications, raw = task
    scenario = load_scenario(data)
    if not raw:
        result = simulate(scenario, seed=seed, replications=replications)
        return {"customers": result.customers, "unserved": result.unserved,
                "overall": result.overall, "lanes": result.lanes,
                "business_types": result.business_types}  # fmt: skip
    observer = _Waits()
    result = simulate(scenario, seed=seed, replications=replications, observer=observer)
    limit = GUARD_MIN * 60
    lanes = {}
    for lane, waits in observer.waits.items():
        over = [w - limit for w in waits if w > limit]
        lanes[lane] = {
            **stats(waits, limit),
            "beyond": len(over) / len(waits) if waits else math.nan,
            "excess_s": statistics.fmean(over) if over else math.nan,
            # A fingerprint of the waits up to the limit, to compare two policies' exactly.
            "under_limit": hashlib.sha256(
                repr(sorted(w for w in waits if w <= limit)).encode()
            ).hexdigest(),
        }
    return {"customers": result.customers, "unserved": result.unserved,
            "overall": result.overall, "lanes": lanes}  # fmt: skip


def run_all(tasks: list[tuple], jobs: int) -> list[dict]:
    if jobs <= 1:
        return [_run(t) for t in tasks]
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(_run, tasks, chunksize=1))


def mean_se(values: Iterable[float]) -> tuple[float, float]:
    """Mean and standard error of independent replications' values (NaNs left out)."""
    xs = [v for v in values if v is not None and not math.isnan(v)]
    if not xs:
        return math.nan, math.nan
    if len(xs) == 1:
        return xs[0], math.nan
    return statistics.fmean(xs), statistics.stdev(xs) / math.sqrt(len(xs))


def _summary(reps: list[dict], get: Callable[[dict], float]) -> tuple[float, float]:
    return mean_se(get(r) for r in reps)


def _paired(reps: list[dict], base: list[dict], get) -> tuple[float, float]:
    return mean_se(get(r) - get(b) for r, b in zip(reps, base, strict=True))


# ---------------------------------------------------------------------------------------------
# (a) window depth


def window_depth(sizes: Sizes = FULL, jobs: int = 1) -> dict:
    keys = [(rho, depth) for rho in RHOS for depth in DEPTHS]
    tasks = [
        (steady_hall(rho=rho, hours=sizes.hours[rho], warmup=sizes.warmup_hours,
                     pol=policy(depth)), SEEDS["a"] + r, 1, False)
        for rho, depth in keys
        for r in range(sizes.reps)
    ]  # fmt: skip
    results = run_all(tasks, jobs)
    per_key = {key: results[i * sizes.reps : (i + 1) * sizes.reps] for i, key in enumerate(keys)}

    def overall(stat):
        return lambda r: r["overall"][stat]

    def vip(stat):
        return lambda r: r["lanes"]["vip"][stat]

    rows = []
    for rho, depth in keys:
        reps, base = per_key[(rho, depth)], per_key[(rho, 0)]
        rows.append({
            "rho": rho,
            "depth": depth,
            "customers": sum(r["customers"] for r in reps),
            "unserved": sum(r["unserved"] for r in reps),
            "mean": _summary(reps, overall("mean_wait_s")),
            "d_mean": _paired(reps, base, overall("mean_wait_s")),
            "p99": _summary(reps, overall("p99_wait_s")),
            "d_p99": _paired(reps, base, overall("p99_wait_s")),
            "vip_mean": _summary(reps, vip("mean_wait_s")),
            "vip_p99": _summary(reps, vip("p99_wait_s")),
        })  # fmt: skip
    same = {rho: per_key[(rho, 1)] == per_key[(rho, 2)] for rho in RHOS}
    erlang = {rho: mmc_mean_wait(COUNTERS, rho * CAPACITY_PER_HOUR / 3600, 1 / (SERVICE_MIN * 60))
              for rho in RHOS}  # fmt: skip
    return {"sizes": sizes, "rows": rows, "depth2_equals_depth1": same, "erlang_c": erlang}


def render_window_depth(part: dict) -> str:
    sizes = part["sizes"]
    out = [
        f"(a) window depth: {COUNTERS} counters serving everything, exponential service "
        f"{SERVICE_MIN:g} min, lanes 10/15/75% VIP/priority/normal, weights 4/2/1, "
        f"guard {GUARD_MIN} min; steady state, {sizes.reps} replications of "
        + ", ".join(f"{sizes.hours[rho]:g} h at rho {rho}" for rho in RHOS)
        + f" (after {sizes.warmup_hours:g} h warm-up). Minutes, mean ± standard error; "
        "d = paired difference from depth 0 (same arrivals).",
        "",
        f"{'rho':<6}{'depth':>5}{'customers':>11}{'mean':>15}{'d mean':>17}{'p99':>14}"
        f"{'d p99':>14}{'VIP mean':>15}{'VIP p99':>14}",
    ]
    for row in part["rows"]:
        first = row["depth"] == 0
        out.append(
            f"{row['rho']:<6}{row['depth']:>5}{row['customers']:>11,}{_pm(row['mean'], 2):>15}"
            f"{'-' if first else _pm(row['d_mean'], 3, sign=True):>17}{_pm(row['p99'], 1):>14}"
            f"{'-' if first else _pm(row['d_p99'], 1, sign=True):>14}"
            f"{_pm(row['vip_mean'], 2):>15}{_pm(row['vip_p99'], 1):>14}"
        )
    out.append("")
    out.append("Erlang C mean wait (M/M/8, FCFS; at depth 0 any lane weights give the same "
               "overall mean): " + ", ".join(f"rho {rho}: {w / 60:.2f} min"
                                              for rho, w in part["erlang_c"].items()))  # fmt: skip
    out.append("depth 2 identical to depth 1 in every replication: " + ", ".join(
        f"rho {rho}: {'yes' if same else 'NO'}" for rho, same in
        part["depth2_equals_depth1"].items()))  # fmt: skip
    unserved = sum(row["unserved"] for row in part["rows"])
    if unserved:
        out.append(f"({unserved} customers still waiting at the end of their run, left out)")
    return _wrap(out)


# ---------------------------------------------------------------------------------------------
# (b) lanes: weights, strict priority and the maximum-wait guard


def lanes(sizes: Sizes = FULL, jobs: int = 1) -> dict:
    tasks = [
        (service_day(policy(**pol)), SEEDS["b"] + b, sizes.batch_days, True)
        for pol in POLICIES.values()
        for b in range(sizes.reps)
    ]
    guard_pols = {"with": policy(), "without": policy(max_wait_minutes=None)}
    tasks += [
        (steady_hall(rho=0.85, hours=sizes.guard_hours, warmup=sizes.warmup_hours, pol=pol),
         SEEDS["guard"] + r, 1, False)
        for pol in guard_pols.values()
        for r in range(sizes.reps)
    ]  # fmt: skip
    results = run_all(tasks, jobs)
    n = sizes.reps
    rows, under = [], {}
    for i, label in enumerate(POLICIES):
        batches = results[i * n : (i + 1) * n]
        under[label] = [b["lanes"]["normal"].pop("under_limit") for b in batches]
        for b in batches:
            for s in b["lanes"].values():
                s.pop("under_limit", None)
        row = {
            "policy": label,
            "customers": sum(b["customers"] for b in batches),
            "all_mean": _summary(batches, lambda b: b["overall"]["mean_wait_s"]),
            "lanes": {},
        }
        for lane in LANES:
            lane_stats = [b["lanes"][lane] for b in batches]
            row["lanes"][lane] = {
                key: mean_se(s[key] for s in lane_stats)
                for key in ("mean_wait_s", "p90_wait_s", "p99_wait_s", "max_wait_s", "beyond",
                            "excess_s")
            }  # fmt: skip
        rows.append(row)
    steady = results[len(POLICIES) * n :]
    with_guard, without_guard = steady[:n], steady[n:]
    return {
        "sizes": sizes,
        "day_scale": day_scale(),
        "rows": rows,
        # A normal ticket under 30 minutes has the same tickets ahead of it with or without the
        # guard; checked here on the waits themselves, not assumed.
        "normal_under_limit_same": {
            "4/2/1": under["default 4/2/1 + guard"] == under["4/2/1, no guard"],
            "strict": under["strict + guard"] == under["strict, no guard"],
        },
        "steady_guard": {
            "customers": sum(r["customers"] for r in with_guard),
            "identical": with_guard == without_guard,
            "lanes": {
                lane: {
                    key: {
                        "beyond": mean_se(1 - r["lanes"][lane]["service_level"] for r in reps),
                        "p99": mean_se(r["lanes"][lane]["p99_wait_s"] for r in reps),
                        "max": mean_se(r["lanes"][lane]["max_wait_s"] for r in reps),
                    }
                    for key, reps in (("with", with_guard), ("without", without_guard))
                }
                for lane in LANES
            },
        },
    }


def render_lanes(part: dict) -> str:
    sizes = part["sizes"]
    peak = max(WEEKDAY.values()) * part["day_scale"] / CAPACITY_PER_HOUR
    out = [
        f"(b) lanes: the same {COUNTERS} counters over service days "
        f"{_clock(DAY_START)}-{_clock(DAY_END)}, the demo weekday's arrival profile scaled "
        f"x{part['day_scale']:.3f} to rho 0.85 on average (the 10:00 hour at rho {peak:.2f}), "
        f"lanes 10/15/75%, window depth 2; {sizes.reps} batches of {sizes.batch_days} days "
        "per policy. Minutes, mean over batches ± standard error; max = the longest wait of a "
        f"batch; >{GUARD_MIN} = share waiting longer than the guard's {GUARD_MIN} min; excess = "
        f"mean wait beyond {GUARD_MIN} min of those.",
        "",
        f"{'policy':<23}{'lane':<10}{'mean':>13}{'p90':>13}{'p99':>13}{'max':>12}"
        f"{f'>{GUARD_MIN} min':>16}{'excess':>12}",
    ]
    for row in part["rows"]:
        for lane in LANES:
            s = row["lanes"][lane]
            out.append(
                f"{row['policy']:<23}{lane:<10}{_pm(s['mean_wait_s'], 2):>13}"
                f"{_pm(s['p90_wait_s'], 1):>13}{_pm(s['p99_wait_s'], 1):>13}"
                f"{_pm(s['max_wait_s'], 0):>12}{_pct(s['beyond']):>16}{_pm(s['excess_s'], 1):>12}"
            )
        out.append(f"{row['policy']:<23}{'all':<10}{_pm(row['all_mean'], 2):>13}"
                   f"   ({row['customers']:,} customers)")  # fmt: skip
    same = part["normal_under_limit_same"]
    out += [
        "",
        "Normal customers' waits up to 30 min identical with and without the guard (every "
        f"one): 4/2/1 {'yes' if same['4/2/1'] else 'NO'}, strict "
        f"{'yes' if same['strict'] else 'NO'}",
    ]
    g = part["steady_guard"]
    out += [
        "",
        f"The default weights with and without the guard in steady state at rho 0.85 (part a's "
        f"hall, window depth 2, {sizes.reps} replications of {sizes.guard_hours:g} h, "
        f"{g['customers']:,} customers); max = the longest wait of a replication. Every figure "
        f"identical with and without: {'yes' if g['identical'] else 'no'}.",
        "",
        f"{'lane':<10}{'guard':<9}{f'>{GUARD_MIN} min':>16}{'p99':>13}{'max':>12}",
    ]
    for lane, both in g["lanes"].items():
        for key, s in both.items():
            out.append(f"{lane:<10}{key:<9}{_pct(s['beyond']):>16}{_pm(s['p99'], 1):>13}"
                       f"{_pm(s['max'], 0):>12}")  # fmt: skip
    return _wrap(out)


# ---------------------------------------------------------------------------------------------
# (c) skills: pooled, mixed, dedicated


def skills(sizes: Sizes = FULL, jobs: int = 1) -> dict:
    tasks = [
        (skills_hall(layout, hours=sizes.skills_hours, warmup=sizes.warmup_hours),
         SEEDS["c"] + r, 1, False)
        for layout in SKILL_HALLS.values()
        for r in range(sizes.reps)
    ]  # fmt: skip
    results = run_all(tasks, jobs)
    n = sizes.reps
    per = {label: results[i * n : (i + 1) * n] for i, label in enumerate(SKILL_HALLS)}
    base = per["pooled"]
    rows = []
    for label, reps in per.items():
        rows.append({
            "layout": label,
            "customers": sum(r["customers"] for r in reps),
            "unserved": sum(r["unserved"] for r in reps),
            "mean": _summary(reps, lambda r: r["overall"]["mean_wait_s"]),
            "d_mean": _paired(reps, base, lambda r: r["overall"]["mean_wait_s"]),
            "p99": _summary(reps, lambda r: r["overall"]["p99_wait_s"]),
            "sl": _summary(reps, lambda r: r["overall"]["service_level"]),
            "types": {
                code: {
                    "mean": _summary(reps, lambda r, c=code: r["business_types"][c]["mean_wait_s"]),
                    "p99": _summary(reps, lambda r, c=code: r["business_types"][c]["p99_wait_s"]),
                }
                for code in SKILL_TYPES
            },
        })  # fmt: skip
    return {"sizes": sizes, "rows": rows}


def render_skills(part: dict) -> str:
    sizes = part["sizes"]
    out = [
        "(c) skills: 8 counters, 4 business types ("
        + ", ".join(f"{c} {m} min" for c, m in SKILL_TYPES.items())
        + ", lognormal cv 0.6, each a quarter of the work), rho 0.85, lanes 10/15/75%, "
        f"weights 4/2/1, guard {GUARD_MIN} min, window depth 2; steady state, {sizes.reps} "
        f"replications of {sizes.skills_hours:g} h (after {sizes.warmup_hours:g} h warm-up). "
        "Minutes, mean ± standard error; d = paired difference from pooled; SL = share called "
        "within 15 min.",
        "  pooled: every counter every type; mixed: c1-2 payment+consult, c3-4 consult+service, "
        "c5-6 service+broadband, c7-8 broadband+payment; dedicated: two counters per type",
        "",
        f"{'layout':<25}{'customers':>11}{'mean':>14}{'d mean':>15}{'p99':>14}{'SL':>13}",
    ]
    for row in part["rows"]:
        first = row["layout"] == "pooled"
        out.append(
            f"{row['layout']:<25}{row['customers']:>11,}{_pm(row['mean'], 2):>14}"
            f"{'-' if first else _pm(row['d_mean'], 2, sign=True):>15}{_pm(row['p99'], 1):>14}"
            f"{_pm_pct(row['sl']):>13}"
        )
    out += ["", f"{'mean (p99) by type':<25}" + "".join(f"{c:>22}" for c in SKILL_TYPES)]
    for row in part["rows"]:
        out.append(f"{row['layout']:<25}" + "".join(
            f"{_pm(t['mean'], 1) + ' (' + _num(t['p99'][0], 0) + ')':>22}"
            for t in row["types"].values()))  # fmt: skip
    unserved = sum(row["unserved"] for row in part["rows"])
    if unserved:
        out.append(f"({unserved} customers still waiting at the end of their run, left out)")
    return _wrap(out)


# ---------------------------------------------------------------------------------------------
# Formatting


def _wrap(lines: list[str]) -> str:
    """Table rows as they are; the prose lines (no run of spaces) wrapped at 100 columns."""
    out = []
    for line in lines:
        if "   " in line or len(line) <= 100:
            out.append(line)
        else:
            out.append(textwrap.fill(line, 100, subsequent_indent="  "))
    return "\n".join(out)


def _num(x: float, digits: int) -> str:
    return "nan" if x is None or math.isnan(x) else f"{x / 60:.{digits}f}"


def _pm(value: tuple[float, float], digits: int, *, sign: bool = False) -> str:
    """Seconds (mean, standard error) as minutes "m ± se"."""
    mean, se = value
    if math.isnan(mean):
        return "-"
    text = f"{mean / 60:+.{digits}f}" if sign else f"{mean / 60:.{digits}f}"
    return text if math.isnan(se) else f"{text} ± {se / 60:.{digits}f}"


def _pct(value: tuple[float, float]) -> str:
    mean, se = value
    if math.isnan(mean):
        return "-"
    return f"{mean * 100:.2f}%" + ("" if math.isnan(se) else f" ± {se * 100:.2f}")


def _pm_pct(value: tuple[float, float]) -> str:
    mean, se = value
    return f"{mean * 100:.1f}% ± {se * 100:.1f}" if not math.isnan(se) else f"{mean * 100:.1f}%"


def _clock(hour: float) -> str:
    return f"{int(hour):02d}:{round(hour % 1 * 60):02d}"


PARTS = {
    "a": (window_depth, render_window_depth),
    "b": (lanes, render_lanes),
    "c": (skills, render_skills),
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="a small smoke run (seconds)")
    parser.add_argument("--only", choices=tuple(PARTS))
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    args = parser.parse_args()
    sizes = QUICK if args.quick else FULL
    print(f"python {platform.python_version()} on {platform.machine()} ({platform.system()}), "
          f"{os.cpu_count()} CPUs, {args.jobs} worker processes"
          + (" (--quick: too small for conclusions)" if args.quick else ""))  # fmt: skip
    total = time.perf_counter()
    for name, (measure, render) in PARTS.items():
        if args.only in (None, name):
            t0 = time.perf_counter()
            part = measure(sizes, args.jobs)
            print()
            print(render(part))
            print(f"[{time.perf_counter() - t0:.0f} s]")
    print()
    print(f"total {time.perf_counter() - total:.0f} s; load average at the end: "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")  # fmt: skip


if __name__ == "__main__":
    main()
