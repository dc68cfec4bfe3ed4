"""The discrete-event simulation of a hall, routing every call through ``queueing.router``.

Events (a heap of ``(time, sequence, kind, data)``; equal times run in the order scheduled):
arrivals, a counter finishing a customer, the end of a no-show's recall wait, counters opening
and closing at their ``open_hours``, and pauses starting and ending.

Clerks, as on the console:

* A counter calls next (``router.call_next``) when it finishes a customer or gives up on a
  no-show, when it opens or its pause ends, and, while idle, when a ticket it may take arrives or
  is released from another counter's window. Idle counters react in the scenario's counter
  order; the first one that may take an arriving ticket calls it.
* The decision is applied exactly as ``counters.services.counter_call_next`` applies it: the
  moved tickets' slots are cleared, the called ticket leaves the pool, and the greeted and
  attended tickets take this counter's slots (an attended ticket may have been taken from
  another counter's window). A ticket greeted at a busy counter may be called by another counter
  (issue 16; not under ``greeting_binds_counter``), and that counter's attended ticket is then
  greeted there (``decision.promoted``).
* A called customer comes at once and is served, unless a no-show (probability
  ``no_show.probability``): then the counter waits ``recall_wait_s`` and calls next.
* A pause stops calling (the customer in service finishes first) and releases the counter's
  greeted and attended tickets to the pool with their issue times (invariant 3). A close does
  the same and ends the open period when the current customer is done. A counter whose open
  hours reach the end of the day stays until nobody it may serve is waiting.

The router is handed what the live system hands it (``queueing.selectors.router_candidates``):
the counter's own window, the greeted tickets of busy counters it may serve with those counters'
attended tickets, plus, per business type and lane it serves, the first ``1 + depth`` tickets it
may take in issue order. Within a lane issue order is priority order, so the decision
is the one the whole pool would give (tests/queueing/test_simulation.py checks it against
``full_pool=True``).

Why the forecast (queueing/forecast.py) has its own, smaller replay instead of this engine: it
runs on expected values from one frozen state within a millisecond, with none of the draws,
clerk behaviour (no-shows, recalls, open hours, pauses) or tallies this engine carries for a
day; both decide every call with the same ``router.call_next`` on the same candidates, and the
estimate's accuracy is measured against this engine (deploy/bench/estimate_accuracy.py).
"""

from __future__ import annotations

import heapq
import math
import random
from collections import deque
from dataclasses import dataclass, field

from queueing import forecast, router
from queueing.simulation.results import SimResult, Tally
from queueing.simulation.scenario import Scenario

HOUR = 3600.0
GREETED, ATTENDED = router.Slot.GREETED, router.Slot.ATTENDED

# Event kinds, in the order they run when scheduled at the same instant and sequence.
ARRIVE, FREE, OPEN, CLOSE, PAUSE, RESUME = range(6)

OPEN_STATE, PAUSED_STATE, CLOSED_STATE = "open", "paused", "closed"


@dataclass(slots=True, eq=False)
class _Counter:
    spec_id: str
    rc: router.Counter
    queues: list  # the (business type, lane) deques this counter may call from
    state: str = CLOSED_STATE
    active: router.Ticket | None = None  # the called/serving ticket (or the awaited no-show)
    called_at: float = 0.0
    window: dict = field(default_factory=dict)  # slot -> ticket id
    opened_at: float | None = None  # start of the current open period
    close_pending: bool = False  # closed while busy: the open period ends at the finish
    intervals: list = field(default_factory=list)  # [(open, close)] actual open periods
    last_close_s: float = 0.0  # the end of its last scheduled open period
    last_free: float = 0.0  # when it last finished a customer
    busy_s: float = 0.0
    served: int = 0
    # The id of the last called customer who did not come (set on that rare path only, never
    # cleared: ids are unique): ``active`` is a no-show while ``awaiting == active.id``. What
    # the live system sees as "called, not started"; ``_Day.fork`` needs it.
    awaiting: object = None
    # When the current pause began and when it last closed after being open (what the live
    # system reads from the counter's state change time): the forecast's view, ``hall_state``.
    paused_at: float | None = None
    closed_at: float | None = None


class _Day:
    """One replication: one service day of the scenario."""

    def __init__(self, scenario: Scenario, *, seed: int, replication: int, tally: Tally,
                 observer, first_id: int, full_pool: bool, audit: bool) -> None:  # fmt: skip
        self.sc, self.tally, self.observer = scenario, tally, observer
        self.full_pool, self.audit = full_pool, audit
        self.policy = scenario.policy
        self.k = 1 + scenario.policy.window_depth
        self.rng_arrivals = random.Random(f"{seed}/{replication}/arrivals")
        self.rng_service = random.Random(f"{seed}/{replication}/service")
        self.rng_no_show = random.Random(f"{seed}/{replication}/no-show")
        self.next_id = first_id
        self.events: list = []
        self.seq = 0
        self.waiting: dict = {}  # ticket id -> router.Ticket (with its slot), in issue order
        self.queues = {
            (bt.code, lane): deque() for bt in scenario.business_types for lane in router.Lane
        }
        self.counters = {}
        self.takers: dict = {key: [] for key in self.queues}  # who may take a new ticket
        for spec in scenario.counters:
            rc = router.Counter(spec.id, frozenset(spec.business_types), spec.vip_mode)
            keys = [
                key
                for key in self.queues
                if key[0] in rc.business_types
                and (rc.vip_mode != router.VipMode.VIP_ONLY or key[1] == router.Lane.VIP)
            ]
            counter = _Counter(spec.id, rc, [self.queues[key] for key in keys])
            counter.last_close_s = max(b for _, b in scenario.open_hours(spec)) * HOUR
            self.counters[spec.id] = counter
            for key in keys:
                self.takers[key].append(counter)
        self.service = {bt.code: _sampler(bt.service, self.rng_service)
                        for bt in scenario.business_types}  # fmt: skip
        self.service_mean = {bt.code: bt.service.mean_s for bt in scenario.business_types}
        self.start_s, self.end_s = scenario.start_hour * HOUR, scenario.end_hour * HOUR
        self.called: set | None = set() if audit else None
        self.busy = _Busy(self.counters)

    # -- scheduling ---------------------------------------------------------------------------

    def push(self, at: float, kind: int, data) -> None:
        self.seq += 1
        heapq.heappush(self.events, (at, self.seq, kind, data))

    def run(self) -> int:
        sc = self.sc
        for index, spec in enumerate(sc.arrivals):
            rates = [spec.rate_at_hour(h) / HOUR for h in range(24)]
            at = self._next_arrival(self.start_s, rates)
            if at is not None:
                self.push(at, ARRIVE, (index, spec.business_type, spec.lane, rates))
        for at, code, lane in sc.replay:
            self.push(at, ARRIVE, (None, code, lane, None))
        for spec in sc.counters:
            for a, b in sc.open_hours(spec):
                self.push(a * HOUR, OPEN, spec.id)
                if b < sc.end_hour:  # the last shift of the day serves whoever is left
                    self.push(b * HOUR, CLOSE, spec.id)
        for pause in sc.pauses:
            self.push(pause.at_hour * HOUR, PAUSE, (pause.counter, pause.minutes * 60.0))

        events, pop = self.events, heapq.heappop
        now = self.start_s
        while events:
            now, _, kind, data = pop(events)
            if kind == ARRIVE:
                self._arrive(now, *data)
            elif kind == FREE:
                self._free(now, data)
            elif kind == OPEN:
                self._open(now, data)
            elif kind == CLOSE:
                self._close(now, data)
            elif kind == PAUSE:
                self._pause(now, *data)
            else:
                self._resume(now, data)
            if self.audit:
                self._check()
        for c in self.counters.values():  # open at the end: until closing time or last finish
            if c.opened_at is not None:
                c.intervals.append((c.opened_at, max(c.opened_at, c.last_close_s, c.last_free)))
                c.opened_at = None
        self.tally.end_day(self)
        return self.next_id

    def _next_arrival(self, t: float, rates: list[float]) -> float | None:
        """The next Poisson arrival after ``t`` at the hourly piecewise-constant ``rates`` (per
        second): one exponential draw of the cumulative intensity, walked hour by hour."""
        need = self.rng_arrivals.expovariate(1.0)
        end = self.end_s
        while t < end:
            hour = int(t // HOUR)
            rate = rates[hour % 24]
            edge = min((hour + 1) * HOUR, end)
            if rate > 0.0:
                if rate * (edge - t) >= need:
                    return t + need / rate
                need -= rate * (edge - t)
            t = edge
        return None

    # -- events -------------------------------------------------------------------------------

    def _arrive(self, now: float, index, code, lane, rates) -> None:
        if index is not None:  # the stream's next arrival
            at = self._next_arrival(now, rates)
            if at is not None:
                self.push(at, ARRIVE, (index, code, lane, rates))
        tid = self.next_id
        self.next_id += 1
        ticket = router.Ticket(tid, code, lane, now)
        self.waiting[tid] = ticket
        self.queues[(code, lane)].append(tid)
        self.tally.arrival(ticket)
        if self.observer is not None:
            self.observer.on_arrival(ticket, self.hall_state(now))
        for counter in self.takers[(code, lane)]:
            if counter.state == OPEN_STATE and counter.active is None:
                self._call(now, counter)
                if tid not in self.waiting:
                    break

    def _free(self, now: float, counter: _Counter) -> None:
        counter.busy_s += now - counter.called_at
        counter.active, counter.last_free = None, now
        if counter.close_pending:
            counter.close_pending = False
            counter.intervals.append((counter.opened_at, now))
            counter.opened_at = None
        if counter.state == OPEN_STATE:
            self._call(now, counter)

    def _open(self, now: float, cid: str) -> None:
        counter = self.counters[cid]
        if counter.close_pending:  # reopened before the last customer was done: one period
            counter.close_pending = False
        elif counter.opened_at is None:
            counter.opened_at = now
        counter.state = OPEN_STATE
        if counter.active is None:
            self._call(now, counter)

    def _close(self, now: float, cid: str) -> None:
        counter = self.counters[cid]
        if counter.state == CLOSED_STATE:
            return
        counter.state, counter.closed_at = CLOSED_STATE, now
        if counter.active is None:
            counter.intervals.append((counter.opened_at, now))
            counter.opened_at = None
        else:
            counter.close_pending = True
        self._release(now, counter)

    def _pause(self, now: float, cid: str, seconds: float) -> None:
        counter = self.counters[cid]
        if counter.state != OPEN_STATE:  # the live system refuses to pause a closed counter
            return
        counter.state, counter.paused_at = PAUSED_STATE, now
        self.push(now + seconds, RESUME, cid)
        self._release(now, counter)

    def _resume(self, now: float, cid: str) -> None:
        counter = self.counters[cid]
        if counter.state != PAUSED_STATE:
            return
        counter.state = OPEN_STATE
        if counter.active is None:
            self._call(now, counter)

    def _release(self, now: float, counter: _Counter) -> None:
        """Give the counter's greeted and attended tickets back to the pool (issue time kept),
        then let the idle counters call: a released greeted ticket is theirs to take now."""
        if not counter.window:
            return
        for tid in counter.window.values():
            self.waiting[tid] = _unslotted(self.waiting[tid])
        counter.window = {}
        for other in self.counters.values():
            if other.state == OPEN_STATE and other.active is None:
                self._call(now, other)

    # -- the call -----------------------------------------------------------------------------

    def _candidates(self, counter: _Counter) -> list[router.Ticket]:
        waiting = self.waiting
        if self.full_pool:
            return list(waiting.values())
        k, cid = self.k, counter.rc.id
        chosen = {}
        for queue in counter.queues:
            while queue and queue[0] not in waiting:
                queue.popleft()
            n = 0
            for tid in queue:
                ticket = waiting.get(tid)
                if ticket is None or (ticket.slot == GREETED and ticket.slot_counter != cid):
                    continue
                chosen[tid] = ticket
                n += 1
                if n == k:
                    break
        for tid in counter.window.values():
            chosen[tid] = waiting[tid]
        if not self.policy.greeting_binds_counter:
            skills = counter.rc.business_types
            for other in self.counters.values():
                if other is counter or other.active is None:
                    continue
                tid = other.window.get(GREETED)
                if tid is not None and waiting[tid].business_type in skills:
                    chosen[tid] = waiting[tid]
                    attended = other.window.get(ATTENDED)
                    if attended is not None:
                        chosen[attended] = waiting[attended]
        if len(chosen) > 1:
            return [chosen[tid] for tid in sorted(chosen)]  # ids are in issue order
        return list(chosen.values())

    def _call(self, now: float, counter: _Counter) -> None:
        tickets = self._candidates(counter)
        if not tickets:
            return
        decision = router.call_next(counter=counter.rc, tickets=tickets, policy=self.policy,
                                    now=now, busy=self.busy)  # fmt: skip
        called = decision.called
        if called is None:
            return
        waiting, counters = self.waiting, self.counters
        # As counter_call_next: clear the slots of every ticket that moves, then claim the
        # called ticket, then give this counter its greeted and attended tickets.
        for ticket in (*decision.released, *decision.taken, *decision.window):
            if ticket is not None and ticket.slot is not None:
                holder = counters[ticket.slot_counter]
                if holder.window.get(ticket.slot) == ticket.id:
                    del holder.window[ticket.slot]
                waiting[ticket.id] = _unslotted(waiting[ticket.id])
        if self.called is not None:
            if called.id in self.called or called.id not in waiting:
                raise AssertionError(f"ticket {called.id} called twice")
            self.called.add(called.id)
        del waiting[called.id]
        cid = counter.rc.id
        for slot, ticket in ((GREETED, decision.greeted), (ATTENDED, decision.attended)):
            if ticket is not None:
                waiting[ticket.id] = router.Ticket(
                    ticket.id, ticket.business_type, ticket.lane, ticket.issued_at, slot, cid
                )
                counter.window[slot] = ticket.id
        for ticket in decision.promoted:  # the greeting counter greets its next
            holder = counters[ticket.slot_counter]
            del holder.window[ATTENDED]
            holder.window[GREETED] = ticket.id
            waiting[ticket.id] = ticket
        counter.active, counter.called_at = called, now
        if self.observer is not None:
            self.observer.on_called(called.id, now)
            on_decision = getattr(self.observer, "on_decision", None)
            if on_decision is not None:
                on_decision(cid, decision, now)
        no_show = self.sc.no_show
        if no_show.probability and self.rng_no_show.random() < no_show.probability:
            counter.awaiting = called.id
            self.tally.called(called, now, served=False)
            self.push(now + no_show.recall_wait_s, FREE, counter)
        else:
            self.tally.called(called, now, served=True)
            counter.served += 1
            done = now + self.service[called.business_type]()
            self.tally.finished(called, done)
            self.push(done, FREE, counter)

    # -- the forecast's view, and the audit ---------------------------------------------------

    def hall_state(self, now: float) -> forecast.HallState:
        counters = tuple(
            forecast.CounterState(
                id=c.rc.id,
                business_types=c.rc.business_types,
                vip_mode=c.rc.vip_mode,
                state=c.state,
                serving_since=c.called_at if c.active is not None else None,
                serving_business_type=c.active.business_type if c.active is not None else None,
                paused_since=c.paused_at if c.state == PAUSED_STATE else None,
                closed_since=c.closed_at if c.state == CLOSED_STATE else None,
            )
            for c in self.counters.values()
        )
        hour = int(now // HOUR) % 24
        rates = {}
        for spec in self.sc.arrivals:
            key = (spec.business_type, spec.lane)
            rates[key] = rates.get(key, 0.0) + spec.rate_at_hour(hour) / HOUR
        return forecast.HallState(
            now=now,
            policy=self.policy,
            counters=counters,
            waiting=tuple(self.waiting.values()),
            service_mean=self.service_mean,
            arrival_rate=rates,
        )

    # -- the oracle: the same day's future replayed from its exact state ------------------------

    def fork(self, seed, now: float) -> _Day:
        """A copy of this day as it stands at ``now`` (the time of the event being handled: an
        observer's ``ticket.issued_at`` or ``state.now``), whose future is drawn afresh (seeded by
        ``seed``) from the scenario's true distributions, conditioned on everything that has
        happened: the waiting tickets and windows, the counters' states, the schedule (opening,
        closing, pauses: the scenario's rota), and who is being served since when. Left out is
        only what the hall cannot know yet: every service in progress ends after a remaining
        time drawn from its distribution given the time it has already run (``_residual``),
        future arrivals, service times and no-shows are drawn from the fork's own random stream
        (Poisson arrivals are memoryless, so a fresh draw from now is the true law). A called
        customer who did not come (the live system sees "called, not started") keeps the end
        of the recall wait. The copy shares nothing mutable with this day, which runs on
        unchanged; it records nothing (no tally, no observer, no audit).

        Called between events (from an observer), never from inside the engine's hot path: the
        normal simulation pays nothing for it (one field set on a no-show).
        """
        rng = random.Random(seed)
        clone = _Day.__new__(_Day)
        clone.sc, clone.tally, clone.observer = self.sc, _NO_TALLY, None
        clone.full_pool, clone.audit, clone.called = self.full_pool, False, None
        clone.policy, clone.k = self.policy, self.k
        clone.rng_arrivals = clone.rng_service = clone.rng_no_show = rng
        clone.next_id, clone.seq = self.next_id, self.seq
        clone.waiting = dict(self.waiting)  # router.Ticket is immutable
        clone.queues = {key: deque(q) for key, q in self.queues.items()}
        twin = {}  # original counter -> its copy
        for c in self.counters.values():
            copy = _Counter(c.spec_id, c.rc, [], state=c.state, active=c.active,
                            called_at=c.called_at, window=dict(c.window), opened_at=c.opened_at,
                            close_pending=c.close_pending, intervals=[],
                            last_close_s=c.last_close_s, last_free=c.last_free,
                            awaiting=c.awaiting, paused_at=c.paused_at,
                            closed_at=c.closed_at)  # fmt: skip
            twin[c] = copy
        clone.counters = {cid: twin[c] for cid, c in self.counters.items()}
        clone.busy = _Busy(clone.counters)
        key_of = {id(q): key for key, q in self.queues.items()}
        for c, copy in twin.items():
            copy.queues = [clone.queues[key_of[id(q)]] for q in c.queues]
        clone.takers = {key: [twin[c] for c in cs] for key, cs in self.takers.items()}
        clone.service = {bt.code: _sampler(bt.service, rng) for bt in self.sc.business_types}
        clone.service_mean = self.service_mean
        clone.start_s, clone.end_s = self.start_s, self.end_s
        specs = {bt.code: bt.service for bt in self.sc.business_types}
        events = []
        for at, seq, kind, data in self.events:
            if kind == ARRIVE and data[0] is not None:  # a Poisson stream: draw afresh
                at = clone._next_arrival(now, data[3])
                if at is None:
                    continue
            elif kind == FREE:
                c, data = data, twin[data]
                if c.awaiting != c.active.id and at > now:  # in service: the rest is unknown
                    elapsed = now - c.called_at
                    at = now + _residual(specs[c.active.business_type], elapsed, rng)
            events.append((at, seq, kind, data))
        heapq.heapify(events)
        clone.events = events
        clone.forked_at = now
        return clone

    def run_until_called(self, ticket_id, *, just_issued: bool = False) -> float | None:
        """Run this forked day until ``ticket_id`` is called: the call time, or None if the day
        ends without calling it. ``just_issued``: the day was forked from ``on_arrival`` of this
        ticket, so it is first offered to the idle counters that may take it, as ``_arrive``
        goes on to do."""
        waiting = self.waiting
        ticket = waiting.get(ticket_id)
        if ticket is None:
            return None
        now = self.forked_at
        if just_issued:
            for counter in self.takers[(ticket.business_type, ticket.lane)]:
                if counter.state == OPEN_STATE and counter.active is None:
                    self._call(now, counter)
                    if ticket_id not in waiting:
                        return now
        events, pop = self.events, heapq.heappop
        handle = (self._arrive, self._free, self._open, self._close, self._pause, self._resume)
        while events:
            now, _, kind, data = pop(events)
            if kind in (ARRIVE, PAUSE):
                handle[kind](now, *data)
            else:
                handle[kind](now, data)
            if ticket_id not in waiting:
                return now
        return None

    def _check(self) -> None:
        """Invariants 1 and 3, checked after every event when ``audit`` is on (tests)."""
        held = {}
        for c in self.counters.values():
            if c.state != OPEN_STATE and c.window:
                raise AssertionError(f"counter {c.rc.id} is {c.state} but holds {c.window}")
            for slot, tid in c.window.items():
                ticket = self.waiting.get(tid)
                if ticket is None or ticket.slot != slot or ticket.slot_counter != c.rc.id:
                    raise AssertionError(f"counter {c.rc.id} {slot} {tid} is out of step")
                if tid in held:
                    raise AssertionError(f"ticket {tid} in two slots")
                held[tid] = c.rc.id
        for ticket in self.waiting.values():
            if ticket.slot is not None and held.get(ticket.id) != ticket.slot_counter:
                raise AssertionError(f"ticket {ticket.id} has a slot no counter holds")


class _Busy:
    """The router's ``busy``: the counters with a called or serving ticket, read live."""

    __slots__ = ("counters",)

    def __init__(self, counters: dict) -> None:
        self.counters = counters

    def __contains__(self, cid) -> bool:
        counter = self.counters.get(cid)
        return counter is not None and counter.active is not None


def _unslotted(ticket: router.Ticket) -> router.Ticket:
    if ticket.slot is None:
        return ticket
    return router.Ticket(ticket.id, ticket.business_type, ticket.lane, ticket.issued_at)


class _NoTally:
    """A fork records nothing."""

    def arrival(self, ticket) -> None:
        pass

    def called(self, ticket, now, *, served) -> None:
        pass

    def finished(self, ticket, done) -> None:
        pass


_NO_TALLY = _NoTally()


def _residual(spec, elapsed: float, rng: random.Random) -> float:
    """A draw of the remaining service of a customer of this ``spec`` already served for
    ``elapsed`` seconds: S - a given S > a, from the service's true distribution."""
    mean = spec.mean_s
    if elapsed <= 0.0:
        return _sampler(spec, rng)()
    if spec.dist == "deterministic":
        return max(mean - elapsed, 0.0)
    if spec.dist == "exponential":
        return rng.expovariate(1.0 / mean)  # memoryless
    if spec.dist == "empirical":
        longer = [s for s in spec.samples if s > elapsed]
        return rng.choice(longer) - elapsed if longer else 0.0
    return forecast.lognormal_residual(mean, spec.cv, elapsed, rng)


def _sampler(spec, rng: random.Random):
    mean = spec.mean_s
    if spec.dist == "deterministic":
        return lambda: mean
    if spec.dist == "empirical":
        samples, choice = spec.samples, rng.choice
        return lambda: choice(samples)
    if spec.dist == "lognormal":
        sigma = math.sqrt(math.log1p(spec.cv**2))
        mu = math.log(mean) - sigma * sigma / 2.0
        draw = rng.lognormvariate
        return lambda: draw(mu, sigma)
    rate, draw = 1.0 / mean, rng.expovariate
    return lambda: draw(rate)


def simulate(
    scenario: Scenario,
    seed: int | None = None,
    replications: int | None = None,
    observer=None,
    *,
    full_pool: bool = False,
    audit: bool = False,
) -> SimResult:
    """Run ``replications`` independent service days of ``scenario`` (each with its own seeded
    random streams) and pool their results. Deterministic for a seed.

    ``observer`` (optional) gets ``on_arrival(ticket, hall_state)`` and ``on_called(ticket_id,
    now)``, ``on_decision(counter_id, decision, now)`` if it has one, and ``on_day(day)`` before
    each replication runs if it has one (the day itself: ``day.fork`` replays its future).
    Ticket ids are unique across replications. ``full_pool`` hands the router every waiting
    ticket instead of the live system's candidates (for tests; slower); ``audit`` checks the
    invariants after every event.
    """
    seed = scenario.seed if seed is None else seed
    replications = scenario.replications if replications is None else replications
    if replications < 1:
        raise ValueError("replications must be at least 1")
    tally = Tally(scenario)
    next_id = 1
    on_day = getattr(observer, "on_day", None)
    for r in range(replications):
        day = _Day(scenario, seed=seed, replication=r, tally=tally, observer=observer,
                   first_id=next_id, full_pool=full_pool, audit=audit)  # fmt: skip
        if on_day is not None:
            on_day(day)
        next_id = day.run()
    return tally.result(seed=seed, replications=replications)
