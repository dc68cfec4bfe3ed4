"""What a simulation measured: waits per lane, business type and hour, counter utilisation.

``Tally`` collects during the run (cheaply: one append per called customer); ``SimResult`` holds
the pooled numbers of every replication, as ``to_dict()`` (JSON-ready) and ``table()`` (text).
Waits are from issue to call; the service level is the share called within ``target_wait_s``.
Hourly waits belong to the hour the ticket was issued; ``served`` to the hour service finished.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field

from queueing import router
from queueing.simulation.scenario import Scenario

HOUR = 3600.0


def quantile(ordered: list[float], q: float) -> float:
    """Linear interpolation between order statistics (numpy's default) of a sorted list."""
    pos = (len(ordered) - 1) * q
    low = math.floor(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def stats(waits: list[float], target: float) -> dict:
    if not waits:
        return {"count": 0, "mean_wait_s": None, "p50_wait_s": None, "p90_wait_s": None,
                "p99_wait_s": None, "max_wait_s": None, "service_level": None}  # fmt: skip
    ordered = sorted(waits)
    within = _count_le(ordered, target)
    return {
        "count": len(ordered),
        "mean_wait_s": round(math.fsum(ordered) / len(ordered), 2),
        "p50_wait_s": round(quantile(ordered, 0.50), 2),
        "p90_wait_s": round(quantile(ordered, 0.90), 2),
        "p99_wait_s": round(quantile(ordered, 0.99), 2),
        "max_wait_s": round(ordered[-1], 2),
        "service_level": round(within / len(ordered), 4),
    }


def _count_le(ordered: list[float], x: float) -> int:
    import bisect

    return bisect.bisect_right(ordered, x)


class Tally:
    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.warm_s = (scenario.start_hour + scenario.warmup_hours) * HOUR
        self.waits: dict = defaultdict(list)  # (business type, lane) -> waits
        self.hour_waits: dict = defaultdict(list)  # issue hour -> waits
        self.hour_arrivals: dict = defaultdict(int)
        self.hour_served: dict = defaultdict(int)
        self.hour_open_s: dict = defaultdict(float)  # hour -> counter-seconds open
        self.customers = 0
        self.called_count = 0
        self.no_shows = 0
        self.counters = {c.id: {"busy_s": 0.0, "open_s": 0.0, "served": 0}
                         for c in scenario.counters}  # fmt: skip

    def arrival(self, ticket: router.Ticket) -> None:
        if ticket.issued_at >= self.warm_s:
            self.customers += 1
            self.hour_arrivals[int(ticket.issued_at // HOUR)] += 1

    def called(self, ticket: router.Ticket, now: float, *, served: bool) -> None:
        issued = ticket.issued_at
        if issued < self.warm_s:
            return
        wait = now - issued
        self.waits[(ticket.business_type, ticket.lane)].append(wait)
        self.hour_waits[int(issued // HOUR)].append(wait)
        self.called_count += 1
        if not served:
            self.no_shows += 1

    def finished(self, ticket: router.Ticket, done: float) -> None:
        if ticket.issued_at >= self.warm_s:
            self.hour_served[int(done // HOUR)] += 1

    def end_day(self, day) -> None:
        for c in day.counters.values():
            totals = self.counters[c.rc.id]
            totals["busy_s"] += c.busy_s
            totals["served"] += c.served
            for a, b in c.intervals:
                totals["open_s"] += b - a
                hour = int(a // HOUR)
                while hour * HOUR < b:
                    lo, hi = max(a, hour * HOUR), min(b, (hour + 1) * HOUR)
                    self.hour_open_s[hour] += max(0.0, hi - lo)
                    hour += 1

    def result(self, *, seed: int, replications: int) -> SimResult:
        sc, target = self.scenario, self.scenario.target_wait_s
        by_lane, by_type = defaultdict(list), defaultdict(list)
        for (code, lane), waits in self.waits.items():
            by_lane[str(lane)].extend(waits)
            by_type[code].extend(waits)
        everyone = [w for waits in self.waits.values() for w in waits]
        hours = []
        for hour in sorted(set(self.hour_arrivals) | set(self.hour_served) | set(self.hour_open_s)):
            waits = self.hour_waits.get(hour, [])
            s = stats(waits, target)
            hours.append({
                "hour": hour,
                "arrivals": self.hour_arrivals.get(hour, 0),
                "served": self.hour_served.get(hour, 0),
                "mean_wait_s": s["mean_wait_s"],
                "p90_wait_s": s["p90_wait_s"],
                "service_level": s["service_level"],
                "counters_open": round(self.hour_open_s.get(hour, 0.0) / HOUR / replications, 3),
            })  # fmt: skip
        counters = {
            cid: {
                "utilisation": round(t["busy_s"] / t["open_s"], 4) if t["open_s"] else 0.0,
                "served": t["served"],
            }
            for cid, t in self.counters.items()
        }
        return SimResult(
            scenario=sc.name,
            seed=seed,
            replications=replications,
            customers=self.customers,
            lanes={lane: stats(by_lane[lane], target) for lane in router.Lane if lane in by_lane},
            business_types={
                bt.code: stats(by_type[bt.code], target)
                for bt in sc.business_types
                if bt.code in by_type
            },  # fmt: skip
            counters=counters,
            hours=hours,
            overall=stats(everyone, target),
            unserved=self.customers - self.called_count,
            no_shows=self.no_shows,
            target_wait_s=target,
        )


@dataclass
class SimResult:
    scenario: str
    seed: int
    replications: int
    customers: int
    lanes: dict
    business_types: dict
    counters: dict
    hours: list
    overall: dict
    unserved: int = 0  # issued but never called (no open counter served them before the end)
    no_shows: int = 0
    target_wait_s: float = 900.0
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "scenario": self.scenario,
            "seed": self.seed,
            "replications": self.replications,
            "customers": self.customers,
            "target_wait_s": self.target_wait_s,
            "unserved": self.unserved,
            "no_shows": self.no_shows,
            "lanes": self.lanes,
            "business_types": self.business_types,
            "counters": self.counters,
            "hours": self.hours,
            "overall": self.overall,
        }

    def table(self) -> str:
        """A readable text table (minutes), for the terminal."""
        out = [
            f"scenario {self.scenario}: seed {self.seed}, {self.replications} replication(s), "
            f"{self.customers} customers, {self.no_shows} no-shows, {self.unserved} unserved; "
            f"service level = called within {self.target_wait_s / 60:g} min",
            "",
            f"{'waits (min)':<16}{'count':>8}{'mean':>8}{'p50':>8}{'p90':>8}{'p99':>8}"
            f"{'max':>8}{'SL':>8}",
        ]
        rows = [("overall", self.overall)]
        rows += [(f"lane {k}", v) for k, v in self.lanes.items()]
        rows += [(f"type {k}", v) for k, v in self.business_types.items()]
        for label, s in rows:
            out.append(f"{label:<16}{s['count']:>8}" + "".join(
                f"{_minutes(s[key]):>8}"
                for key in ("mean_wait_s", "p50_wait_s", "p90_wait_s", "p99_wait_s", "max_wait_s")
            ) + f"{_percent(s['service_level']):>8}")  # fmt: skip
        out += ["", f"{'counter':<16}{'served':>8}{'util':>8}"]
        for cid, c in self.counters.items():
            out.append(f"{cid:<16}{c['served']:>8}{_percent(c['utilisation']):>8}")
        if len(self.hours) > 48:  # a long steady-state horizon: the JSON has every hour
            out += ["", f"({len(self.hours)} hours: see --json for the hourly figures)"]
            return "\n".join(out)
        out += ["", f"{'hour':<8}{'arrived':>8}{'served':>8}{'open':>8}{'mean':>8}{'p90':>8}"
                f"{'SL':>8}"]  # fmt: skip
        for h in self.hours:
            out.append(
                f"{h['hour']:02d}:00{'':<3}{h['arrivals']:>8}{h['served']:>8}"
                f"{h['counters_open']:>8.1f}{_minutes(h['mean_wait_s']):>8}"
                f"{_minutes(h['p90_wait_s']):>8}{_percent(h['service_level']):>8}"
            )
        return "\n".join(out)


def _minutes(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds / 60:.1f}"


def _percent(share: float | None) -> str:
    return "-" if share is None else f"{share * 100:.0f}%"
