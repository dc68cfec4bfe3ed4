"""Estimated wait from the hall's current state: the plain data both the live system and the
simulator can build, and the forecast that runs the real router forward on it (issue 5).

``HallState`` is what a forecast needs to know about a hall at one instant: every waiting ticket
as the router sees it (with its window slot), each counter's skills, whether it is open, paused
or closed and whom it is serving since when, the routing policy, the observed mean service time
per business type, and the arrival rate per business type and lane (lanes that may overtake).
The live system builds it from the database (``queueing.selectors``); the simulator from its own
state, so that the accuracy of the forecast can be measured in simulation.

The forecast (``forecast``, ``forecast_new``, ``forecast_new_many``) is a deterministic replay of
the hall's next hours on expected values, with every call decided by ``router.call_next`` (the
live system's code, never a copy):

* A counter serving someone becomes free after the *expected remaining* service of that customer
  (``residual_service``): for a lognormal service time with the type's mean and coefficient of
  variation that is the conditional expectation E[S - a | S > a] after ``a`` seconds already
  spent; for an exponential one (cv 1, the assumption when the cv is unknown) it is the mean
  whatever the elapsed time (memoryless); for a deterministic one (cv 0) it is the mean minus the
  elapsed time. "Mean minus elapsed" alone would be wrong twice: a customer already past the mean
  is not about to leave (the longer a lognormal service has run, the longer it tends to run), and
  it would undercount whenever the service time varies. A floor of 5 % of the mean keeps a
  counter from being taken as free before it calls.
* An open idle counter calls at once. A paused counter calls again when its pause is expected to
  end: ``PAUSE_ASSUMED_S`` after it began (when the state says), and at least
  ``PAUSE_MIN_REMAINING_S`` from now; a pause's length is not known in advance, so this is an
  assumption. A counter closed during the day after being staffed (``closed_since``: its clerk
  signed out, mostly for a meal break) is back ``BREAK_ASSUMED_S`` after it closed, at least
  ``PAUSE_MIN_REMAINING_S`` from now, again an assumption (the hall keeps no rota). Other
  closed counters (not staffed yet today) do not come back within the forecast: staffing is
  the planner's business, not the estimate's.
* Each counter that frees up calls through the router with its window (greeted, attended) kept
  exactly as the live system keeps it: a greeted ticket waits for its own counter.
* Later arrivals in lanes that may overtake (a lane with a higher weight than the lowest, a strict
  lane, or VIP when some counter prefers VIP) are injected at their expected times, the i-th of a
  stream at ``now + (i - 1/2) / rate`` (so the count by any time is the expected count rounded);
  each takes its type's mean service. Arrivals that can never overtake are left out: they do not
  change anybody's call time.
* A new ticket's estimate (``forecast_new``) is the time at which a "probe" ticket issued now
  would be called. Probes take no service time: several can be estimated in one run (one per
  business type for a board) and each is called when it would be, without delaying the others.

Costs: one ``call_next`` per forecast call, each on a few candidates per lane and business type
(as ``queueing.selectors.router_candidates`` hands them), so a hall with 100 waiting and 8
counters is forecast in about a millisecond (deploy/bench/results/estimates.md).

Sampled replays (``replays=K`` on every forecast function): the median of K replays of the same
router in which each remainder, each later service and each overtaking arrival is *drawn*
(lognormal with the type's mean and cv, exponential when the cv is unknown or 1, fixed when it
is 0; Poisson arrivals) instead of taken at its expected value. What an estimate is judged by,
the mean absolute error, is smallest for the median of the wait, not for its mean, and the wait
of a short queue is skewed (mostly one remainder of one service); the expected-value replay
also misses the mean itself where a wait is the minimum or maximum of random times. Seeds are
fixed (replay k uses ``random.Random(k)``), so one state gives one estimate.
``replays=AUTO`` samples only where it is cheap and matters: see ``SAMPLED_*`` below. Measured
against the expected-value replay and an oracle bound in deploy/bench/results/estimates.md.

Why this is not the simulator's engine (queueing/simulation/engine.py), though both replay the
router event by event: the forecast runs inside a request or a board computation on *expected*
values from one frozen state (residual services, arrivals injected only where they can overtake,
probes that take no service, no no-shows, pauses of assumed length) and must answer in about a
millisecond; the simulator *draws* every arrival, service, no-show and pause of a whole day (or
a million customers) from a scenario, models clerks' behaviour (recall waits, open hours) and
keeps tallies. A shared core would carry the union of both event sets into the hot path. What
they must share, they share: the router (every decision) and ``router_candidates``' view of the
pool; tests/queueing/test_forecast.py and deploy/bench/estimate_accuracy.py hold the forecast
against the simulator's outcomes.
"""

from __future__ import annotations

import heapq
import math
import random
import statistics
from collections import deque
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field

from queueing import router

PAUSE_ASSUMED_S = 10 * 60.0  # a pause (phone call, fetching materials) is assumed to last this
PAUSE_MIN_REMAINING_S = 60.0  # a pause past its assumed length ends soon, not now
# A counter that closed during the day after being staffed (its clerk signed out: a meal
# break, mostly) is assumed back this long after it closed, and not before a minute from now.
# An assumption like the pause's: the hall keeps no rota. Measured on the lanes scenario
# (deploy/bench/results/estimates.md, issue 16), where it matters the most.
BREAK_ASSUMED_S = 60 * 60.0
RESIDUAL_FLOOR = 0.05  # the expected remaining service is at least this share of the mean
HORIZON_S = 24 * 3600.0  # nothing is forecast further ahead than this
# ``replays=AUTO``: the median of up to SAMPLED_REPLAYS sampled replays, stopping once they have
# made SAMPLED_CALL_BUDGET router calls (and at least SAMPLED_MIN_REPLAYS runs); when the
# expected-value run, which comes first, shows that SAMPLED_MIN_REPLAYS would not fit in the
# budget (a long queue, where one service more or less matters least), that run's answer alone.
AUTO = "auto"
SAMPLED_REPLAYS = 20
SAMPLED_MIN_REPLAYS = 8
SAMPLED_CALL_BUDGET = 300

# The bands (``forecast_bands``): the sampled replays know only the hall's state, not what the
# hall will do (pauses, counters opening or closing), so real waits spread wider than theirs;
# BAND_WIDEN stretches each band about the median, LONG_QUEUE_CV is the cv of services the
# long-queue band assumes. Both calibrated on the committed scenarios
# (deploy/bench/estimate_accuracy.py --bands, deploy/bench/results/estimates.md).
BAND_WIDEN = 1.05
LONG_QUEUE_CV = 1.0
_Z50, _Z80 = 0.6745, 1.2816  # the standard normal's 75th and 90th percentiles

OPEN, PAUSED, CLOSED = "open", "paused", "closed"
_FREE, _ARRIVE = 0, 1  # event kinds; at the same instant counters free up before arrivals


@dataclass(frozen=True, slots=True)
class CounterState:
    id: Hashable
    business_types: frozenset
    vip_mode: str = router.VipMode.NONE
    state: str = "open"  # "open", "paused" or "closed" (as counters.models.CounterState)
    serving_since: float | None = None  # when its current customer was called; None: idle
    serving_business_type: Hashable | None = None
    paused_since: float | None = None  # when its pause began (paused counters); None: unknown
    # Closed counters: when it closed, if it closed during today's service day after being
    # staffed (a break: it is expected back); None: not staffed yet today, or not known.
    closed_since: float | None = None


@dataclass(frozen=True, slots=True)
class HallState:
    now: float  # seconds, on the same clock as the tickets' issued_at
    policy: router.Policy
    counters: tuple[CounterState, ...]
    waiting: tuple[router.Ticket, ...]  # in issue order (issued_at, then id), with their slots
    service_mean: Mapping[Hashable, float]  # seconds per business type, observed
    arrival_rate: Mapping[tuple[Hashable, str], float] = field(default_factory=dict)  # per s
    service_cv: Mapping[Hashable, float] = field(default_factory=dict)  # observed; absent: 1


def residual_service(mean: float, cv: float | None, elapsed: float) -> float:
    """Expected remaining seconds of a service of ``mean`` seconds (coefficient of variation
    ``cv``; None: unknown, taken as exponential) that has already run ``elapsed`` seconds."""
    floor = RESIDUAL_FLOOR * mean
    if elapsed <= 0.0:
        return mean
    if cv is None or abs(cv - 1.0) < 1e-9:
        return mean  # exponential: memoryless (and the honest choice when nothing is known)
    if cv <= 0.0:
        return max(mean - elapsed, floor)
    # Lognormal with this mean and cv: E[S | S > a] = mean * Phi(d + sigma) / Phi(d), where
    # d = (mu - ln a) / sigma; Phi(x) = erfc(-x / sqrt 2) / 2.
    sigma2 = math.log1p(cv * cv)
    sigma = math.sqrt(sigma2)
    mu = math.log(mean) - sigma2 / 2.0
    d = (mu - math.log(elapsed)) / sigma
    survive = math.erfc(-d / math.sqrt(2.0))
    if survive < 1e-300:  # far in the tail: the asymptote of the lognormal's mean residual life
        return max(elapsed * sigma2 / max(math.log(elapsed) - mu, 1.0), floor)
    beyond = math.erfc(-(d + sigma) / math.sqrt(2.0))
    return max(mean * beyond / survive - elapsed, floor)


def forecast(
    state: HallState, only: Iterable[Hashable] | None = None, *, replays: int | str = 0
) -> dict[Hashable, float | None]:
    """Expected seconds until each waiting ticket (or each of ``only``) is called (0: it is next
    at an idle counter); None for a ticket that no open or paused counter can serve.
    ``replays``: the median of that many sampled replays instead (``sampled``)."""
    targets = None if only is None else set(only)
    return _forecast(state, (), targets, replays)


def forecast_new(
    state: HallState, business_type: Hashable, lane: str = "normal", *, replays: int | str = 0
) -> float | None:
    """Expected seconds until a ticket of ``business_type`` in ``lane`` issued now is called;
    None when no open or paused counter (nor one closed for a break) can ever serve it (an
    honest "unknown")."""
    return forecast_new_many(state, [(business_type, lane)], replays=replays)[(business_type, lane)]


def forecast_new_many(
    state: HallState, requests: Iterable[tuple[Hashable, str]], *, replays: int | str = 0
) -> dict[tuple[Hashable, str], float | None]:
    """``forecast_new`` for several (business type, lane) at once, in one run (a board)."""
    requests = list(dict.fromkeys(requests))
    probes = [(("~probe", i), bt, lane) for i, (bt, lane) in enumerate(requests)]
    result = _forecast(state, probes, {probe[0] for probe in probes}, replays)
    return {req: result[probe[0]] for req, probe in zip(requests, probes, strict=True)}


@dataclass(frozen=True, slots=True)
class Wait:
    """A wait estimate in seconds: the point (the median, as ``replays=AUTO`` gives it) and the
    bands the wait falls in with 50 % (``p25``-``p75``: what customers are shown) and 80 %
    (``p10``-``p90``) probability."""

    point: float
    p10: float
    p25: float
    p75: float
    p90: float


def forecast_bands(
    state: HallState, only: Iterable[Hashable] | None = None
) -> dict[Hashable, Wait | None]:
    """``forecast(replays=AUTO)`` for each waiting ticket (or each of ``only``) with its bands;
    None for a ticket that no open or paused counter can serve (or beyond the horizon)."""
    return _bands(state, (), None if only is None else set(only))


def forecast_new_bands(
    state: HallState, requests: Iterable[tuple[Hashable, str]]
) -> dict[tuple[Hashable, str], Wait | None]:
    """``forecast_new_many(replays=AUTO)`` with the bands, for several (type, lane) at once."""
    requests = list(dict.fromkeys(requests))
    probes = [(("~probe", i), bt, lane) for i, (bt, lane) in enumerate(requests)]
    result = _bands(state, probes, {probe[0] for probe in probes})
    return {req: result[probe[0]] for req, probe in zip(requests, probes, strict=True)}


def _bands(state: HallState, probes, targets: set | None) -> dict:
    """Where the sampled replays run (a short queue: the wait is mostly one or two random
    services), the median and the quantiles of their waits; where ``replays=AUTO`` keeps the
    expected-value run (a long queue), that run's wait with ``long_queue_bands`` around it."""
    expected, calls_at, runs = _auto_runs(state, probes, targets)
    if runs is None:
        return {
            tid: None if wait is None else long_queue_bands(wait, calls_at.get(tid, 0))
            for tid, wait in expected.items()
        }
    return {tid: sampled_bands([run.get(tid) for run in runs]) for tid in runs[0]}


def sampled_bands(waits: list[float | None]) -> Wait | None:
    """The median and quantiles of sampled waits (an unknown counts as longer than any); None
    when half or more are unknown. Quantiles by the (n + 1) p rule: the band between the
    order statistics at (n + 1) x 25 % and (n + 1) x 75 % holds on average 50 % of another draw
    from the same law, however few the draws (the usual n p rule holds less)."""
    known = sorted(w for w in waits if w is not None)
    if 2 * len(known) <= len(waits):
        return None
    ordered = known + [math.inf] * (len(waits) - len(known))
    p10, p25, p75, p90 = (_quantile(ordered, q) for q in (0.10, 0.25, 0.75, 0.90))
    wide = BAND_WIDEN
    point = statistics.median(ordered)
    return Wait(
        point=point,
        p10=max(point - wide * (point - p10), 0.0),
        p25=max(point - wide * (point - p25), 0.0),
        p75=point + wide * (p75 - point),
        p90=point + wide * (p90 - point),
    )


def _quantile(ordered: list[float], q: float) -> float:
    pos = min(max((len(ordered) + 1) * q, 1.0), float(len(ordered))) - 1.0
    low = math.floor(pos)
    high = min(low + 1, len(ordered) - 1)
    if pos == low or ordered[high] == ordered[low]:
        return ordered[low]
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def long_queue_bands(wait: float, calls: int) -> Wait:
    """Bands around an expected-value wait of a long queue, reached after ``calls`` calls: the
    time to the n-th of many services varies like a sum of n services shared by the counters,
    so its spread relative to the wait shrinks as 1 / sqrt(n) (``LONG_QUEUE_CV`` is the
    services' cv the spread assumes). A normal band: the 25-75 % band is the wait
    x (1 +- 0.674 cv / sqrt(n)), the 10-90 % one x (1 +- 1.282 cv / sqrt(n))."""
    spread = wait * LONG_QUEUE_CV / math.sqrt(max(calls, 1))
    return Wait(
        point=wait,
        p10=max(wait - _Z80 * spread, 0.0),
        p25=max(wait - _Z50 * spread, 0.0),
        p75=wait + _Z50 * spread,
        p90=wait + _Z80 * spread,
    )


def _forecast(state: HallState, probes, targets: set | None, replays: int | str) -> dict:
    if replays == AUTO:
        expected, _, runs = _auto_runs(state, probes, targets)
        return expected if runs is None else _median_of(runs)
    if not replays:
        return _Run(state, probes).run(targets=targets)
    return _median_of(_sampled_runs(state, probes, targets, replays, math.inf))


def _auto_runs(state: HallState, probes, targets: set | None) -> tuple[dict, dict, list | None]:
    """``replays=AUTO``: the expected-value run's result, its router calls made when each
    target was called, and the sampled runs (None where that run shows that sampling would not
    fit in the budget, or that nobody can be called)."""
    expected = _Run(state, probes)
    result = expected.run(targets=None if targets is None else set(targets))
    if (
        expected.calls * SAMPLED_MIN_REPLAYS > SAMPLED_CALL_BUDGET
        or all(v is None for v in result.values())
    ):  # fmt: skip
        return result, expected.calls_at, None
    runs = _sampled_runs(state, probes, targets, SAMPLED_REPLAYS, SAMPLED_CALL_BUDGET)
    return result, expected.calls_at, runs


def _sampled_runs(state: HallState, probes, targets, replays: int, budget: float) -> list[dict]:
    runs, spent = [], 0
    for k in range(replays):
        run = _Run(state, probes, random.Random(k))  # fixed seeds: a state, one estimate
        runs.append(run.run(targets=None if targets is None else set(targets)))
        spent += run.calls
        if spent >= budget and len(runs) >= SAMPLED_MIN_REPLAYS:
            break
    return runs


def _median_of(runs: list[dict]) -> dict:
    """Per ticket, the median over sampled runs (an unknown counts as longer than any)."""
    result = {}
    for tid in runs[0]:
        values = [run.get(tid) for run in runs]
        known = sorted(v for v in values if v is not None)
        if 2 * len(known) <= len(values):
            result[tid] = None
        else:
            result[tid] = statistics.median(known + [math.inf] * (len(values) - len(known)))
    return result


def draw_service(mean: float, cv: float | None, rng: random.Random) -> float:
    """One service time of this mean and cv: lognormal (exponential when the cv is unknown or 1,
    fixed when it is 0)."""
    if cv is None or abs(cv - 1.0) < 1e-9:
        return rng.expovariate(1.0 / mean) if mean > 0 else 0.0
    if cv <= 0.0 or mean <= 0:
        return mean
    sigma = math.sqrt(math.log1p(cv * cv))
    return rng.lognormvariate(math.log(mean) - sigma * sigma / 2.0, sigma)


def draw_residual(mean: float, cv: float | None, elapsed: float, rng: random.Random) -> float:
    """A draw of the remaining service after ``elapsed`` seconds, given it has not ended: the
    conditional law of ``S - a`` given ``S > a`` for the service ``draw_service`` draws."""
    if elapsed <= 0.0:
        return draw_service(mean, cv, rng)
    if cv is None or abs(cv - 1.0) < 1e-9:
        return rng.expovariate(1.0 / mean) if mean > 0 else 0.0  # memoryless
    if cv <= 0.0:
        return max(mean - elapsed, RESIDUAL_FLOOR * mean)
    return lognormal_residual(mean, cv, elapsed, rng)


def lognormal_residual(mean: float, cv: float, elapsed: float, rng: random.Random) -> float:
    """A draw of S - a given S > a (a = ``elapsed`` > 0) for S lognormal with this mean and cv:
    ln S ~ N(mu, sigma) truncated below at ln a, by inversion in the upper tail."""
    sigma = math.sqrt(math.log1p(cv * cv))
    mu = math.log(mean) - sigma * sigma / 2.0
    z = (math.log(elapsed) - mu) / sigma
    survive = 0.5 * math.erfc(z / math.sqrt(2.0))
    if survive < 1e-300:  # beyond floating point: the tail's mean residual life, exponentially
        return rng.expovariate(max(math.log(elapsed) - mu, 1.0) / (elapsed * sigma * sigma))
    u = survive * (1.0 - rng.random())  # in (0, survive]
    return max(math.exp(mu - sigma * _STD_NORMAL.inv_cdf(u)) - elapsed, 0.0)


_STD_NORMAL = statistics.NormalDist()


def overtaking_lanes(policy: router.Policy, counters: Iterable[CounterState]) -> set[str]:
    """The lanes whose later arrivals may be called before a ticket already waiting."""
    lanes = set(policy.strict)
    relaxed = [lane for lane in router.Lane if lane not in policy.strict]
    if relaxed:
        lowest = min(policy.weights[lane] for lane in relaxed)
        lanes.update(lane for lane in relaxed if policy.weights[lane] > lowest)
    if any(c.vip_mode != router.VipMode.NONE for c in counters):
        lanes.add(router.Lane.VIP)
    return lanes


class _Run:
    """One deterministic replay of the hall from ``state`` (see the module docstring)."""

    def __init__(self, state: HallState, probes, rng: random.Random | None = None) -> None:
        self.state, self.policy, self.now = state, state.policy, state.now
        self.rng = rng  # None: expected values; else one sampled replay
        self.calls = 0  # router calls made (what a run costs)
        self.calls_at: dict = {}  # target -> router calls made when it was called
        self.k = 1 + state.policy.window_depth
        self.mean = state.service_mean
        self.counters = [c for c in state.counters if c.state in (OPEN, PAUSED) or _back(c)]
        self.rcs = [router.Counter(c.id, c.business_types, c.vip_mode) for c in self.counters]
        active = {c.id for c in self.counters}
        self.windows: list[dict] = [{} for _ in self.counters]
        self.index = index = {c.id: i for i, c in enumerate(self.counters)}
        self.waiting: dict = {}
        self.order: dict = {}  # ticket id -> its place in issue order
        self.queues: dict = {}  # (business type, lane) -> ticket ids in issue order
        for ticket in state.waiting:
            if ticket.slot is not None:
                if ticket.slot_counter in active:
                    self.windows[index[ticket.slot_counter]][ticket.slot] = ticket.id
                else:  # a closed counter holds no window: its tickets are back in the pool
                    ticket = _unslotted(ticket)
            self._add(ticket)
        self.probes = set()
        for pid, bt, lane in probes:
            self._add(router.Ticket(pid, bt, lane, self.now))
            self.probes.add(pid)
        # Which counters may take from which queue (skills, VIP-only); pins are the router's.
        self.counter_keys: list[list] = []
        self.takers: dict = {}
        for i, rc in enumerate(self.rcs):
            keys = [
                (bt, lane)
                for bt in rc.business_types
                for lane in router.Lane
                if rc.vip_mode != router.VipMode.VIP_ONLY or lane == router.Lane.VIP
            ]
            self.counter_keys.append(keys)
            for key in keys:
                self.takers.setdefault(key, []).append(i)

    def _add(self, ticket: router.Ticket) -> None:
        self.waiting[ticket.id] = ticket
        self.order[ticket.id] = len(self.order)
        self.queues.setdefault((ticket.business_type, ticket.lane), deque()).append(ticket.id)

    def run(self, *, targets: set | None = None) -> dict[Hashable, float | None]:
        now, state = self.now, self.state
        result: dict[Hashable, float | None] = {}
        targets = set(self.waiting) if targets is None else targets & set(self.waiting)
        for tid in list(targets):  # nobody can ever call these: say so now
            ticket = self.waiting[tid]
            if not any(router.can_take(ticket, rc) for rc in self.rcs):
                result[tid] = None
                targets.discard(tid)
        if not targets:
            return result

        self.events: list = []
        self.seq = 0
        self.idle: set[int] = set()
        frees = []
        rng, cvs = self.rng, state.service_cv
        for c in self.counters:
            free = now
            if c.serving_since is not None:
                bt = c.serving_business_type
                mean = self.mean.get(bt, 0.0)
                elapsed = max(now - c.serving_since, 0.0)
                if rng is None:
                    free = now + residual_service(mean, cvs.get(bt), elapsed)
                else:
                    free = now + draw_residual(mean, cvs.get(bt), elapsed, rng)
            if c.state == PAUSED:
                began = now if c.paused_since is None else c.paused_since
                free = max(free, now + max(began + PAUSE_ASSUMED_S - now, PAUSE_MIN_REMAINING_S))
            elif c.state == CLOSED:  # closed for a break: back after its assumed length
                back = c.closed_since + BREAK_ASSUMED_S
                free = max(free, now + max(back - now, PAUSE_MIN_REMAINING_S))
            frees.append(free)
        if rng is None:  # a sampled replay draws each remainder: no staggering needed
            frees = _staggered(frees, now, self._cvs())
        for i, free in enumerate(frees):
            self._push(free, _FREE, i)
        served_types = {bt for rc in self.rcs for bt in rc.business_types}
        lanes = overtaking_lanes(self.policy, self.counters)
        for (bt, lane), rate in state.arrival_rate.items():
            if rate > 0.0 and lane in lanes and bt in served_types:
                first = 0.5 / rate if rng is None else rng.expovariate(rate)
                self._push(now + first, _ARRIVE, (bt, lane, rate, 0))

        end = now + HORIZON_S
        events, pop = self.events, heapq.heappop
        while targets and events:
            t, kind, _, data = pop(events)
            if t > end:
                break
            if kind == _ARRIVE:
                bt, lane, rate, n = data
                tid = ("~arrival", bt, lane, n)
                self._add(router.Ticket(tid, bt, lane, t))
                later = now + (n + 1.5) / rate if rng is None else t + rng.expovariate(rate)
                self._push(later, _ARRIVE, (bt, lane, rate, n + 1))
                for i in self.takers.get((bt, lane), ()):
                    if i in self.idle:  # an idle counter that may take it calls now
                        self.idle.discard(i)
                        self._push(t, _FREE, i)
                continue
            called, released = self._call(data, t)
            if called is None:
                self.idle.add(data)
                continue
            if called.id in targets:
                targets.discard(called.id)
                result[called.id] = t - now
                self.calls_at[called.id] = self.calls
            if called.id in self.probes:
                self._push(t, _FREE, data)  # a probe takes no time: call again
            elif rng is None:
                self._push(t + self.mean.get(called.business_type, 0.0), _FREE, data)
            else:
                bt = called.business_type
                self._push(t + draw_service(self.mean.get(bt, 0.0), cvs.get(bt), rng), _FREE, data)
            if released and self.idle:
                for i in list(self.idle):
                    self.idle.discard(i)
                    self._push(t, _FREE, i)
        for tid in targets:
            result[tid] = None  # beyond the horizon: unknown
        return result

    def _cvs(self) -> list[float]:
        cvs = []
        for c in self.counters:
            cv = self.state.service_cv.get(c.serving_business_type) if c.serving_since else None
            cvs.append(1.0 if cv is None else min(max(cv, 0.0), 1.0))
        return cvs

    def _push(self, at: float, kind: int, data) -> None:
        self.seq += 1
        heapq.heappush(self.events, (at, kind, self.seq, data))

    def _candidates(self, i: int) -> list[router.Ticket]:
        """As the live system hands them: the counter's window plus the first ``k`` tickets it
        may take of each business type and lane it serves, in issue order."""
        waiting, rc, k = self.waiting, self.rcs[i], self.k
        chosen = {}
        for key in self.counter_keys[i]:
            queue = self.queues.get(key)
            if not queue:
                continue
            while queue and queue[0] not in waiting:
                queue.popleft()
            n = 0
            for tid in queue:
                ticket = waiting.get(tid)
                if ticket is None or not router.can_take(ticket, rc):
                    continue
                chosen[tid] = ticket
                n += 1
                if n == k:
                    break
        for tid in self.windows[i].values():
            chosen[tid] = waiting[tid]
        if not self.policy.greeting_binds_counter:  # promises of busy counters it may serve
            for j, window in enumerate(self.windows):
                tid = window.get(router.Slot.GREETED)
                if j == i or tid is None or j in self.idle:
                    continue
                if waiting[tid].business_type in rc.business_types:
                    for slot_tid in window.values():
                        chosen[slot_tid] = waiting[slot_tid]
        order = self.order
        return sorted(chosen.values(), key=lambda t: order[t.id])

    def _call(self, i: int, t: float) -> tuple[router.Ticket | None, bool]:
        """Counter ``i`` calls at ``t``; the decision is applied as counter_call_next does."""
        tickets = self._candidates(i)
        if not tickets:
            return None, False
        self.calls += 1
        busy = {rc.id for j, rc in enumerate(self.rcs) if j != i and j not in self.idle}
        decision = router.call_next(
            counter=self.rcs[i], tickets=tickets, policy=self.policy, now=t, busy=busy
        )
        called = decision.called
        if called is None:
            return None, False
        waiting = self.waiting
        for ticket in (*decision.released, *decision.taken, *decision.window):
            if ticket is not None and ticket.slot is not None:
                holder = self.windows[self.index[ticket.slot_counter]]
                if holder.get(ticket.slot) == ticket.id:
                    del holder[ticket.slot]
                waiting[ticket.id] = _unslotted(waiting[ticket.id])
        del waiting[called.id]
        cid, window = self.rcs[i].id, self.windows[i]
        for slot, ticket in ((router.Slot.GREETED, decision.greeted),
                             (router.Slot.ATTENDED, decision.attended)):  # fmt: skip
            if ticket is not None:
                waiting[ticket.id] = router.Ticket(
                    ticket.id, ticket.business_type, ticket.lane, ticket.issued_at, slot, cid
                )
                window[slot] = ticket.id
        for ticket in decision.promoted:  # the greeting counter greets its next
            holder = self.windows[self.index[ticket.slot_counter]]
            del holder[router.Slot.ATTENDED]
            holder[router.Slot.GREETED] = ticket.id
            waiting[ticket.id] = ticket
        return called, bool(decision.released)


def _staggered(frees: list[float], now: float, cvs: list[float]) -> list[float]:
    """When the busy counters are expected to free up, in turn rather than all at once.

    Each counter's expected remaining service is right for that counter alone, but the first of
    several busy counters to finish is expected much sooner: for independent exponential
    remainders with means r_i, the next finish comes after 1 / sum(1 / r_i), the one after
    that after 1 / (the sum over those left), and so on. Counters take those expected finishing
    times in the order of their own remainders. How far a counter moves from its own remainder
    towards its turn grows with the variability of its service (its cv, capped at 1: the
    exponential case); a fixed-length service (cv 0) ends exactly when expected.
    """
    busy = sorted((free - now, i) for i, free in enumerate(frees) if free > now)
    result = list(frees)
    remaining_rate = sum(1.0 / r for r, _ in busy)
    elapsed = 0.0
    for r, i in busy:
        elapsed += 1.0 / remaining_rate
        remaining_rate -= 1.0 / r
        w = cvs[i]
        result[i] = now + w * min(elapsed, r) + (1.0 - w) * r
    return result


def _back(counter: CounterState) -> bool:
    """A closed counter the forecast expects back: it closed during the day (a break)."""
    return counter.state == CLOSED and counter.closed_since is not None


def _unslotted(ticket: router.Ticket) -> router.Ticket:
    if ticket.slot is None:
        return ticket
    return router.Ticket(ticket.id, ticket.business_type, ticket.lane, ticket.issued_at)
