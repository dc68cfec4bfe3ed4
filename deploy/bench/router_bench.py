"""How long the router takes to decide one call with a busy hall waiting.

DESIGN.md: "The router must decide in well under a millisecond of Python for 1,000 waiting
tickets." A timed unit test would be flaky on a loaded CI machine, so the claim is measured here
and the numbers are recorded in deploy/bench/results/router.md.

The hall: 1,000 waiting tickets over the last two hours (VIP 10%, priority 20%, normal 70%)
across 8 business types, a few transferred (pinned) to a counter; 12 counters with 2 to 5 skills,
one VIP-first and one VIP-only, each with a full window. Every decision is applied (the called
ticket leaves, the window moves) and a new ticket arrives, so the hall stays at 1,000 waiting.
Only ``call_next`` itself is timed. The whole list is passed every time, as the worst case: the
live path may hand the router fewer tickets.

    .venv/bin/python deploy/bench/router_bench.py [--waiting 1000] [--decisions 5000] [--seed 7]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from queueing.router import Counter, Lane, Policy, Slot, Ticket, VipMode, call_next  # noqa: E402

BUSINESS_TYPES = tuple(f"bt{i}" for i in range(8))
LANE_MIX = ((Lane.VIP, 0.10), (Lane.PRIORITY, 0.20), (Lane.NORMAL, 0.70))
PIN_SHARE = 0.01
HISTORY = 2 * 3600.0  # the waiting tickets arrived over the last two hours


def make_counters(rng: random.Random) -> list[Counter]:
    counters = []
    for i in range(12):
        skills = frozenset(rng.sample(BUSINESS_TYPES, rng.randint(2, 5)))
        mode = {0: VipMode.VIP_FIRST, 1: VipMode.VIP_ONLY}.get(i, VipMode.NONE)
        counters.append(Counter(id=f"c{i + 1}", business_types=skills, vip_mode=mode))
    # Every business type has a general counter.
    for j, bt in enumerate(BUSINESS_TYPES):
        if not any(bt in c.business_types for c in counters if c.vip_mode != VipMode.VIP_ONLY):
            c = counters[2 + j % 10]
            counters[2 + j % 10] = replace(c, business_types=c.business_types | {bt})
    return counters


class Hall:
    def __init__(self, *, waiting: int, seed: int) -> None:
        self.rng = random.Random(seed)
        self.counters = make_counters(self.rng)
        self.policy = Policy()  # default weights 4/2/1, 30 minutes maximum wait, window depth 2
        self.now = HISTORY
        self.next_id = 0
        self.tickets: dict[int, Ticket] = {}  # insertion order is issue order
        for at in sorted(self.rng.uniform(0.0, HISTORY) for _ in range(waiting)):
            self.issue(at)
        # Fill every counter's window the way the router would.
        for counter in self.counters:
            self.apply(counter, call_next(**self.args(counter)), keep_called=True)

    def issue(self, at: float) -> None:
        lane = self.rng.choices([lane for lane, _ in LANE_MIX], [w for _, w in LANE_MIX])[0]
        bt = self.rng.choice(BUSINESS_TYPES)
        pinned = None
        if self.rng.random() < PIN_SHARE:
            able = [
                c
                for c in self.counters
                if bt in c.business_types and (c.vip_mode != VipMode.VIP_ONLY or lane == Lane.VIP)
            ]
            pinned = self.rng.choice(able).id if able else None
        ticket = Ticket(self.next_id, bt, lane, at, pinned_counter=pinned)
        self.tickets[ticket.id] = ticket
        self.next_id += 1

    def args(self, counter: Counter) -> dict:
        tickets = list(self.tickets.values())
        return {"counter": counter, "tickets": tickets, "policy": self.policy, "now": self.now}

    def apply(self, counter, decision, *, keep_called=False) -> None:
        for t in decision.released:
            self.tickets[t.id] = replace(t, slot=None, slot_counter=None)
        if decision.called is not None and not keep_called:
            del self.tickets[decision.called.id]
        for slot, t in ((Slot.GREETED, decision.greeted), (Slot.ATTENDED, decision.attended)):
            if t is not None:
                self.tickets[t.id] = replace(t, slot=slot, slot_counter=counter.id)


def percentile(sorted_values: list[int], q: float) -> int:
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--waiting", type=int, default=1000)
    parser.add_argument("--decisions", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=7)
    options = parser.parse_args()

    hall = Hall(waiting=options.waiting, seed=options.seed)
    timings: dict[str, list[int]] = {c.id: [] for c in hall.counters}
    cpu: list[int] = []
    for n in range(options.decisions):
        counter = hall.counters[n % len(hall.counters)]
        hall.now += 2.0  # a call every two seconds somewhere in the hall
        args = hall.args(counter)
        start, start_cpu = time.perf_counter_ns(), time.thread_time_ns()
        decision = call_next(**args)
        timings[counter.id].append(time.perf_counter_ns() - start)
        cpu.append(time.thread_time_ns() - start_cpu)
        hall.apply(counter, decision)
        while len(hall.tickets) < options.waiting:
            hall.issue(hall.now)

    every = sorted(t for ts in timings.values() for t in ts)
    us = 1000.0
    print(f"python {platform.python_version()} on {platform.machine()} ({platform.system()})")
    print(f"{options.decisions} decisions, {options.waiting} waiting, seed {options.seed}")
    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(
        f"wall time:    p50 {percentile(every, 0.50) / us:.0f} us, "
        f"p99 {percentile(every, 0.99) / us:.0f} us, max {every[-1] / us:.0f} us, "
        f"mean {statistics.fmean(every) / us:.0f} us"
    )
    cpu.sort()
    print(
        f"cpu time:     p50 {percentile(cpu, 0.50) / us:.0f} us, "
        f"p99 {percentile(cpu, 0.99) / us:.0f} us, max {cpu[-1] / us:.0f} us "
        "(this thread only: without time the machine gave to other processes)"
    )
    print("wall time per counter (p50 / p99, us):")
    for counter in hall.counters:
        ts = sorted(timings[counter.id])
        print(
            f"  {counter.id:>3} {counter.vip_mode:<9} {len(counter.business_types)} types: "
            f"{percentile(ts, 0.50) / us:5.0f} / {percentile(ts, 0.99) / us:5.0f}"
        )
    p99 = percentile(every, 0.99)
    verdict = "meets" if p99 <= 1_000_000 else "MISSES"
    print(f"wall p99 {p99 / us:.0f} us {verdict} the 1 ms target")


if __name__ == "__main__":
    main()
