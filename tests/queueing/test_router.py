"""The routing policy (DESIGN.md "The routing policy"), checked as properties and by example.

Pure Python: only ``queueing.router`` is imported, no database. ``HallSim`` drives the router the
way the services do: it hands ``call_next`` the waiting tickets in issue order and applies the
decision (called tickets leave, greeted/attended tickets move into the counter's window,
released ones go back to the plain queue).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from queueing.router import (
    Counter,
    Decision,
    Lane,
    Policy,
    Slot,
    Ticket,
    VipMode,
    best,
    call_next,
    can_take,
    order_key,
)

BUSINESS_TYPES = ("bill", "sim", "broadband", "contract")
COUNTER_IDS = ("c1", "c2", "c3")
MINUTE = 60.0
DEFAULT_POLICY = Policy()

# Simulations draw a lot; the whole file should stay well under half a minute.
single_decision = settings(max_examples=300, deadline=None)
simulation = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ---------------------------------------------------------------------------------------------
# The rules, written out independently of the router's code.


def may_serve(counter: Counter, ticket: Ticket) -> bool:
    """Skills, transfer pins, VIP-only counters, and other counters' promises."""
    return (
        ticket.business_type in counter.business_types
        and ticket.pinned_counter in (None, counter.id)
        and (counter.vip_mode != VipMode.VIP_ONLY or ticket.lane == Lane.VIP)
        and not (ticket.slot == Slot.GREETED and ticket.slot_counter != counter.id)
    )


def promise_of(counter: Counter, tickets: list[Ticket]) -> Ticket | None:
    return next(
        (t for t in tickets if t.slot == Slot.GREETED and t.slot_counter == counter.id), None
    )


def greeted_at_a_busy_counter(counter, ticket, *, busy, policy) -> bool:
    """Issue 16: the greeting binds the order, not the counter. A ticket greeted at another
    counter that is busy may be called by any counter that can serve it (not under the hall's
    older binding)."""
    return (
        not policy.greeting_binds_counter
        and ticket.slot == Slot.GREETED
        and ticket.slot_counter != counter.id
        and ticket.slot_counter in busy
        and ticket.business_type in counter.business_types
        and ticket.pinned_counter in (None, counter.id)
        and (counter.vip_mode != VipMode.VIP_ONLY or ticket.lane == Lane.VIP)
    )


def promises_elsewhere(counter, tickets, *, busy, policy) -> list[Ticket]:
    return [t for t in tickets if greeted_at_a_busy_counter(counter, t, busy=busy, policy=policy)]


def called_promise(decision, *, counter, tickets, busy, policy) -> Ticket | None:
    """The promise this call keeps: the counter's own greeted ticket, or one greeted at a busy
    counter that it called."""
    own = promise_of(counter, tickets)
    if own is not None:
        return own
    called = decision.called
    if called is not None and greeted_at_a_busy_counter(counter, called, busy=busy, policy=policy):
        return called
    return None


def is_overdue(ticket: Ticket, *, policy: Policy, now: float) -> bool:
    return policy.max_wait is not None and now - ticket.issued_at > policy.max_wait


def strict_at(counter: Counter, ticket: Ticket, policy: Policy) -> bool:
    return ticket.lane in policy.strict or (
        ticket.lane == Lane.VIP and counter.vip_mode in (VipMode.VIP_FIRST, VipMode.VIP_ONLY)
    )


def goes_before(a: Ticket, b: Ticket, *, counter: Counter, policy: Policy, now: float) -> bool:
    """DESIGN.md's order as a comparison: overdue first (oldest first), then strict lanes (VIP,
    priority, normal, each by issue time), then lane weight x time waited; ties by issue."""
    a_late, b_late = is_overdue(a, policy=policy, now=now), is_overdue(b, policy=policy, now=now)
    earlier = (a.issued_at, a.id) < (b.issued_at, b.id)
    if a_late or b_late:
        return a_late and (earlier or not b_late)
    a_strict, b_strict = strict_at(counter, a, policy), strict_at(counter, b, policy)
    if a_strict or b_strict:
        if a_strict and b_strict and a.lane != b.lane:
            return list(Lane).index(a.lane) < list(Lane).index(b.lane)
        return a_strict and (earlier or not b_strict)
    a_score = policy.weights[a.lane] * (now - a.issued_at)
    b_score = policy.weights[b.lane] * (now - b.issued_at)
    return a_score > b_score or (a_score == b_score and earlier)


def handed(decision: Decision) -> list[Ticket]:
    return [t for t in decision.window if t is not None]


def assert_only_servable_tickets_handed(decision, *, counter, tickets, busy, policy) -> None:
    promise = called_promise(decision, counter=counter, tickets=tickets, busy=busy, policy=policy)
    for ticket in handed(decision):
        if promise is not None and ticket is decision.called and ticket.id == promise.id:
            continue  # a greeted ticket is a promise and is kept (here or at a busy counter)
        assert may_serve(counter, ticket), (counter, ticket)


def assert_no_overdue_ticket_passed_over(
    decision, *, counter, tickets, policy, now, busy=frozenset()
) -> None:
    called = decision.called
    promise = called_promise(decision, counter=counter, tickets=tickets, busy=busy, policy=policy)
    if called is None or (promise is not None and called.id == promise.id):
        if promise is not None and promise is not promise_of(counter, tickets):
            # A promise kept for a busy counter goes first only if issued before them all.
            for ticket in tickets:
                if may_serve(counter, ticket) and is_overdue(ticket, policy=policy, now=now):
                    assert (called.issued_at, called.id) < (ticket.issued_at, ticket.id)
        return
    overdue = [
        t for t in tickets if may_serve(counter, t) and is_overdue(t, policy=policy, now=now)
    ]
    if overdue:
        oldest = min(overdue, key=lambda t: (t.issued_at, t.id))
        assert called.id == oldest.id, (called, oldest)


def assert_no_later_arrival_before_a_promise(decision, *, counter, tickets, busy, policy) -> None:
    """No ticket issued after a greeted ticket this counter may call is called before it."""
    if promise_of(counter, tickets) is not None:
        return  # its own promise first, as ever
    called = decision.called
    for promise in promises_elsewhere(counter, tickets, busy=busy, policy=policy):
        assert called is not None
        assert (called.issued_at, called.id) <= (promise.issued_at, promise.id), (called, promise)


def assert_window_bookkeeping(
    decision, *, counter, tickets, busy=frozenset(), policy=DEFAULT_POLICY
) -> None:
    by_id = {t.id: t for t in tickets}
    window = handed(decision)
    assert all(by_id.get(t.id) == t for t in window)
    assert len({t.id for t in window}) == len(window)
    # The window fills front to back: no greeted without a called, no attended without a greeted.
    assert decision.window[: len(window)] == tuple(window)

    promise = promise_of(counter, tickets)
    elsewhere = promises_elsewhere(counter, tickets, busy=busy, policy=policy)
    if promise is not None:
        assert decision.called == promise
    elif elsewhere or any(may_serve(counter, t) for t in tickets):
        assert decision.called is not None  # a counter with work never calls nobody

    own = {t.id for t in tickets if t.slot is not None and t.slot_counter == counter.id}
    kept = {t.id for t in window}
    assert {t.id for t in decision.released} == own - kept
    assert {t.id for t in decision.taken} == {
        t.id for t in window if t.slot is not None and t.slot_counter != counter.id
    }
    # Only attended tickets move into this window; a greeted one elsewhere may only be called.
    assert all(t.slot == Slot.ATTENDED or t is decision.called for t in decision.taken)
    # The counter whose greeted ticket was called greets its attended ticket, if still there.
    called = decision.called
    if called is not None and called.slot == Slot.GREETED and called.slot_counter != counter.id:
        expected = {
            t.id
            for t in tickets
            if t.slot == Slot.ATTENDED and t.slot_counter == called.slot_counter
        } - kept
        assert {t.id for t in decision.promoted} == expected
        assert all(
            t.slot == Slot.GREETED and t.slot_counter == called.slot_counter
            for t in decision.promoted
        )
    else:
        assert decision.promoted == ()


def assert_decision_follows_rules(
    decision, *, counter, tickets, policy, now, busy=frozenset()
) -> None:
    where = {"counter": counter, "tickets": tickets, "busy": busy, "policy": policy}
    assert_only_servable_tickets_handed(decision, **where)
    assert_no_overdue_ticket_passed_over(decision, now=now, **where)
    assert_no_later_arrival_before_a_promise(decision, **where)
    assert_window_bookkeeping(decision, **where)


# ---------------------------------------------------------------------------------------------
# A hall driven by the router alone.


class HallSim:
    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.now = 0.0
        self.waiting: dict[int, Ticket] = {}  # insertion order is issue order
        self.called: list[Ticket] = []
        self.issued = 0
        self.busy: set = set()  # counters with a called ticket (finished with ``finish``)

    def issue(self, business_type, lane, *, pinned_counter=None) -> Ticket:
        ticket = Ticket(
            id=self.issued,
            business_type=business_type,
            lane=lane,
            issued_at=self.now,
            pinned_counter=pinned_counter,
        )
        self.issued += 1
        self.waiting[ticket.id] = ticket
        return ticket

    def call(self, counter: Counter) -> Decision:
        self.busy.discard(counter.id)  # a counter calls once it is done with its customer
        tickets = list(self.waiting.values())
        busy = frozenset(self.busy)
        decision = call_next(
            counter=counter, tickets=tickets, policy=self.policy, now=self.now, busy=busy
        )
        assert_decision_follows_rules(
            decision, counter=counter, tickets=tickets, policy=self.policy, now=self.now, busy=busy
        )
        for ticket in (*decision.released, *decision.taken):
            self.waiting[ticket.id] = replace(ticket, slot=None, slot_counter=None)
        if decision.called is not None:
            del self.waiting[decision.called.id]
            self.called.append(decision.called)
            self.busy.add(counter.id)
        for ticket in decision.promoted:
            self.waiting[ticket.id] = ticket
        for slot, ticket in ((Slot.GREETED, decision.greeted), (Slot.ATTENDED, decision.attended)):
            if ticket is not None:
                self.waiting[ticket.id] = replace(ticket, slot=slot, slot_counter=counter.id)
        self._assert_one_ticket_per_window_slot()
        return decision

    def window_of(self, counter_id) -> dict[str, Ticket]:
        return {t.slot: t for t in self.waiting.values() if t.slot_counter == counter_id}

    def _assert_one_ticket_per_window_slot(self) -> None:
        slots = [(t.slot_counter, t.slot) for t in self.waiting.values() if t.slot is not None]
        assert len(slots) == len(set(slots)), slots


# ---------------------------------------------------------------------------------------------
# Strategies.

lanes = st.sampled_from(list(Lane))
business_types = st.sampled_from(BUSINESS_TYPES)
skills = st.frozensets(business_types, min_size=1)
vip_modes = st.sampled_from(list(VipMode))
counter_ids = st.sampled_from(COUNTER_IDS)
window_depths = st.integers(0, 2)
# Half-minute steps make ties in issue time and waits exactly at the maximum common.
half_minutes = st.integers(0, 120).map(lambda n: n * 30.0)
max_waits = st.none() | half_minutes
bindings = st.booleans()  # the hall setting that keeps the older greeting binding


@st.composite
def policies(draw, depth=window_depths, max_wait=max_waits, binding=bindings) -> Policy:
    weight = st.sampled_from([0.5, 1.0, 2.0, 4.0, 1e9]) | st.floats(0.01, 100.0)
    return Policy(
        weights={lane: draw(weight) for lane in Lane},
        strict=frozenset(draw(st.sets(lanes))),
        max_wait=draw(max_wait),
        window_depth=draw(depth),
        greeting_binds_counter=draw(binding),
    )


def counters(counter_id=counter_ids):
    return st.builds(Counter, id=counter_id, business_types=skills, vip_mode=vip_modes)


@dataclass
class HallState:
    caller: Counter
    tickets: list[Ticket]
    policy: Policy
    now: float
    busy: frozenset = frozenset()


@st.composite
def hall_states(draw, policy=None, max_tickets=40) -> HallState:
    """Waiting tickets in issue order, some in counters' windows, some pinned, and a caller."""
    staff = draw(st.lists(counters(), min_size=1, max_size=3, unique_by=lambda c: c.id))
    specs = draw(
        st.lists(
            st.tuples(
                business_types, lanes, half_minutes, st.none() | st.sampled_from(COUNTER_IDS)
            ),
            max_size=max_tickets,
        )
    )
    specs.sort(key=lambda spec: spec[2])
    tickets = [
        Ticket(id=i, business_type=bt, lane=lane, issued_at=at, pinned_counter=pin)
        for i, (bt, lane, at, pin) in enumerate(specs)
    ]
    unslotted = list(range(len(tickets)))
    for counter_id in COUNTER_IDS:
        for slot in Slot:
            if unslotted and draw(st.booleans()):
                i = draw(st.sampled_from(unslotted))
                unslotted.remove(i)
                tickets[i] = replace(tickets[i], slot=slot, slot_counter=counter_id)
    last = tickets[-1].issued_at if tickets else 0.0
    now = last + draw(st.integers(0, 7200))
    policy = draw(policies() if policy is None else policy)
    busy = draw(st.frozensets(st.sampled_from(COUNTER_IDS)))
    return HallState(draw(st.sampled_from(staff)), tickets, policy, now, busy)


def decide(state: HallState) -> Decision:
    return call_next(
        counter=state.caller,
        tickets=state.tickets,
        policy=state.policy,
        now=state.now,
        busy=state.busy,
    )


def where(state: HallState) -> dict:
    return {
        "counter": state.caller,
        "tickets": state.tickets,
        "busy": state.busy,
        "policy": state.policy,
    }


@st.composite
def staffed_counters(draw) -> list[Counter]:
    """One to three counters such that every business type, in every lane, has a counter."""
    staff = [
        draw(counters(st.just(counter_id))) for counter_id in COUNTER_IDS[: draw(st.integers(1, 3))]
    ]
    if all(c.vip_mode == VipMode.VIP_ONLY for c in staff):
        staff[0] = replace(
            staff[0], vip_mode=draw(st.sampled_from([VipMode.NONE, VipMode.VIP_FIRST]))
        )
    general = [i for i, c in enumerate(staff) if c.vip_mode != VipMode.VIP_ONLY]
    for bt in BUSINESS_TYPES:
        if not any(bt in staff[i].business_types for i in general):
            i = draw(st.sampled_from(general))
            staff[i] = replace(staff[i], business_types=staff[i].business_types | {bt})
    return staff


# An arrival: business type, lane, and an optional transfer pin (an index into the counters).
arrivals = st.tuples(business_types, lanes, st.none() | st.integers(0, 2))


def issue_arrival(sim: HallSim, staff: list[Counter], arrival) -> Ticket:
    """Issue an arrival; pin it only to a counter that can serve it (a transfer is to such)."""
    bt, lane, pin = arrival
    pinned = None
    if pin is not None:
        target = staff[pin % len(staff)]
        if may_serve(target, Ticket(0, bt, lane, 0.0)):
            pinned = target.id
    return sim.issue(bt, lane, pinned_counter=pinned)


# ---------------------------------------------------------------------------------------------
# 1. Only tickets the counter may serve.


@single_decision
@given(state=hall_states())
def test_counter_is_only_handed_tickets_it_may_serve(state):
    decision = decide(state)
    assert_only_servable_tickets_handed(decision, **where(state))
    assert_window_bookkeeping(decision, **where(state))


# 2. A greeted ticket is a promise.


@single_decision
@given(state=hall_states())
def test_no_later_arrival_is_called_before_a_greeted_ticket_the_counter_may_serve(state):
    assert_no_later_arrival_before_a_promise(decide(state), **where(state))


@simulation
@given(data=st.data())
def test_greeted_ticket_is_not_taken_by_a_vip_arrival_or_another_counter_under_the_binding(data):
    """The hall setting that keeps the older rule: a greeted ticket waits for its counter."""
    policy = data.draw(policies(depth=st.integers(1, 2), binding=st.just(True)), label="policy")
    greeter = data.draw(counters(st.just("c1")), label="greeter")
    others = data.draw(
        st.lists(
            counters(st.sampled_from(["c2", "c3"])),
            min_size=1,
            max_size=2,
            unique_by=lambda c: c.id,
        ),
        label="others",
    )
    sim = HallSim(policy)
    for arrival in data.draw(st.lists(arrivals, max_size=10), label="earlier arrivals"):
        issue_arrival(sim, [greeter, *others], arrival)
    # Two tickets the greeter can serve, so its first call also greets one.
    bt = data.draw(st.sampled_from(sorted(greeter.business_types)))
    lane = Lane.VIP if greeter.vip_mode == VipMode.VIP_ONLY else data.draw(lanes)
    sim.issue(bt, lane)
    sim.issue(bt, lane)
    sim.now += 60.0

    greeted = sim.call(greeter).greeted
    assert greeted is not None

    ops = st.one_of(
        st.tuples(st.just("arrive"), arrivals),
        st.tuples(st.just("vip rush"), st.integers(1, 5)),
        st.tuples(st.just("wait"), st.sampled_from([30.0, 600.0, 100_000.0])),
        st.tuples(st.just("call"), st.integers(0, len(others) - 1)),
    )
    for op, arg in data.draw(st.lists(ops, max_size=25), label="meanwhile"):
        if op == "arrive":
            issue_arrival(sim, [greeter, *others], arg)
        elif op == "vip rush":
            for _ in range(arg):
                sim.issue(greeted.business_type, Lane.VIP, pinned_counter="c1")
        elif op == "wait":
            sim.now += arg
        else:
            decision = sim.call(others[arg])
            assert greeted.id not in {t.id for t in handed(decision)}
        assert sim.window_of("c1")[Slot.GREETED].id == greeted.id

    assert sim.call(greeter).called.id == greeted.id


@simulation
@given(data=st.data())
def test_greeted_ticket_is_called_by_whichever_counter_frees_first_before_any_later_arrival(data):
    """The default (issue 16): while its greeting counter is busy, the greeted customer goes to
    the first counter that may serve them and calls, before every later arrival of any lane;
    the greeting counter then greets its next."""
    policy = data.draw(policies(depth=st.integers(1, 2), binding=st.just(False)), label="policy")
    greeter = data.draw(counters(st.just("c1")), label="greeter")
    others = data.draw(
        st.lists(
            counters(st.sampled_from(["c2", "c3"])),
            min_size=1,
            max_size=2,
            unique_by=lambda c: c.id,
        ),
        label="others",
    )
    sim = HallSim(policy)
    for arrival in data.draw(st.lists(arrivals, max_size=10), label="earlier arrivals"):
        issue_arrival(sim, [greeter, *others], arrival)
    bt = data.draw(st.sampled_from(sorted(greeter.business_types)))
    lane = Lane.VIP if greeter.vip_mode == VipMode.VIP_ONLY else data.draw(lanes)
    sim.issue(bt, lane)
    sim.issue(bt, lane)
    sim.now += 60.0
    greeted = sim.call(greeter).greeted  # the greeter is busy from now on
    assert greeted is not None

    ops = st.one_of(
        st.tuples(st.just("arrive"), arrivals),
        st.tuples(st.just("vip rush"), st.integers(1, 5)),
        st.tuples(st.just("wait"), st.sampled_from([30.0, 600.0, 100_000.0])),
        st.tuples(st.just("call"), st.integers(0, len(others) - 1)),
    )
    for op, arg in data.draw(st.lists(ops, max_size=25), label="meanwhile"):
        if op == "arrive":
            issue_arrival(sim, [greeter, *others], arg)
        elif op == "vip rush":
            for _ in range(arg):
                sim.issue(greeted.business_type, Lane.VIP)
        elif op == "wait":
            sim.now += arg
        else:
            caller = others[arg]
            own = sim.window_of(caller.id).get(Slot.GREETED)
            decision = sim.call(caller)
            if own is not None:
                assert decision.called.id == own.id  # its own promise first, as ever
                continue
            if greeted.id not in sim.waiting:  # called here: the greeter greets its next
                assert decision.called.id == greeted.id
                window = sim.window_of("c1")
                assert Slot.ATTENDED not in window
                assert all(t.id not in {greeted.id} for t in window.values())
                return
            if may_serve(caller, replace(greeted, slot=None, slot_counter=None)):
                # It could have: only a ticket issued before the promise went first.
                assert (decision.called.issued_at, decision.called.id) < (
                    greeted.issued_at,
                    greeted.id,
                )
            assert greeted.id not in {t.id for t in handed(decision)[1:]}
        assert sim.window_of("c1")[Slot.GREETED].id == greeted.id

    assert sim.call(greeter).called.id == greeted.id


# 3. Equal weights without a window are first come, first served.


@simulation
@given(
    weight=st.floats(0.01, 100.0),
    max_wait=st.none() | st.just(8 * 3600.0) | half_minutes,
    staff=st.integers(1, 3),
    steps=st.lists(
        st.tuples(st.lists(arrivals, max_size=4), half_minutes, st.integers(0, 3)), max_size=20
    ),
)
def test_equal_weights_and_no_window_call_in_issue_order(weight, max_wait, staff, steps):
    policy = Policy(weights={lane: weight for lane in Lane}, max_wait=max_wait, window_depth=0)
    everything = [Counter(COUNTER_IDS[i], frozenset(BUSINESS_TYPES)) for i in range(staff)]
    sim = HallSim(policy)
    for new, wait, calls in steps:
        sim.now += wait
        for bt, lane, _ in new:
            sim.issue(bt, lane)
        for i in range(calls):
            sim.call(everything[i % staff])
    while sim.waiting:
        sim.now += 30.0
        assert sim.call(everything[0]).called is not None

    assert [t.id for t in sim.called] == list(range(sim.issued))


# 4. Liveness: every ticket is called.


@simulation
@given(
    staff=staffed_counters(),
    policy=policies(),
    steps=st.lists(
        st.tuples(
            st.lists(arrivals, max_size=4),
            st.integers(0, 120).map(float),
            st.lists(st.booleans(), min_size=3, max_size=3),
        ),
        max_size=30,
    ),
)
def test_every_ticket_is_called_when_counters_keep_calling(staff, policy, steps):
    sim = HallSim(policy)
    for new, wait, who_calls in steps:
        sim.now += wait
        for arrival in new:
            issue_arrival(sim, staff, arrival)
        for counter, calls in zip(staff, who_calls, strict=False):
            if calls:
                sim.call(counter)
    # Every waiting ticket has a counter that may serve it, so each round calls at least one.
    for _ in range(len(sim.waiting) + 1):
        if not sim.waiting:
            break
        sim.now += MINUTE
        for counter in staff:
            sim.call(counter)

    assert not sim.waiting
    assert sorted(t.id for t in sim.called) == list(range(sim.issued))


@simulation
@given(
    staff=st.lists(st.sampled_from([VipMode.NONE, VipMode.VIP_FIRST]), min_size=1, max_size=3).map(
        lambda modes: [
            Counter(COUNTER_IDS[i], frozenset(BUSINESS_TYPES), mode) for i, mode in enumerate(modes)
        ]
    ),
    policy=policies().map(lambda p: replace(p, strict=p.strict | {Lane.VIP})),
    max_wait_minutes=st.integers(1, 20),
    step=st.integers(10, 120).map(float),
    steps=st.lists(st.lists(st.tuples(business_types, lanes), max_size=3), min_size=1, max_size=15),
)
def test_maximum_wait_calls_normal_tickets_despite_endless_strict_vip_arrivals(
    staff, policy, max_wait_minutes, step, steps
):
    # As many VIPs arrive each step as the counters can call: without the guard a strict VIP
    # lane would hold everyone else back for ever.
    policy = replace(policy, max_wait=max_wait_minutes * MINUTE)
    sim = HallSim(policy)

    def one_step(new):
        sim.now += step
        for bt, lane in new:
            sim.issue(bt, lane)
        for _ in staff:
            sim.issue(BUSINESS_TYPES[sim.issued % len(BUSINESS_TYPES)], Lane.VIP)
        for counter in staff:
            sim.call(counter)

    for new in steps:
        one_step(new)
    before = set(sim.waiting)
    # Once all of these are overdue only older tickets and one promise per counter go first.
    rounds = math.ceil(policy.max_wait / step) + 2 + len(before)
    for _ in range(rounds):
        one_step([])

    assert not before & set(sim.waiting)


# 5. The maximum-wait guard.


@single_decision
@given(state=hall_states(policy=policies(max_wait=half_minutes)))
def test_overdue_ticket_is_never_passed_over_by_one_that_is_not(state):
    decision = decide(state)
    assert_no_overdue_ticket_passed_over(decision, now=state.now, **where(state))


# The ordering itself.


@single_decision
@given(state=hall_states())
def test_window_follows_accumulated_priority_order(state):
    """Called, greeted, attended (after any promise) each go before every ticket left waiting."""
    caller, now, policy = state.caller, state.now, state.policy
    promise = called_promise(decide(state), **where(state))
    chosen = [t for t in handed(decide(state)) if promise is None or t.id != promise.id]
    out = {t.id for t in chosen} | {promise.id if promise else None}
    left = [t for t in state.tickets if may_serve(caller, t) and t.id not in out]
    for first, then in zip(chosen, chosen[1:], strict=False):
        assert goes_before(first, then, counter=caller, policy=policy, now=now)
    for ticket in chosen:
        for other in left:
            assert goes_before(ticket, other, counter=caller, policy=policy, now=now)


# 6. The per-lane scan agrees with sorting everything.


def reference_best(tickets, *, counter, policy, now, k):
    eligible = [t for t in tickets if can_take(t, counter)]
    eligible.sort(key=lambda t: order_key(t, counter=counter, policy=policy, now=now))
    return eligible[: max(k, 0)]


@single_decision
@given(state=hall_states(max_tickets=60), k=st.integers(0, 5))
def test_best_agrees_with_sorting_every_eligible_ticket(state, k):
    args = {"counter": state.caller, "policy": state.policy, "now": state.now, "k": k}
    assert best(state.tickets, **args) == reference_best(state.tickets, **args)


@single_decision
@given(state=hall_states(max_tickets=60))
def test_call_next_agrees_with_sorting_every_eligible_ticket(state):
    args = {"counter": state.caller, "policy": state.policy, "now": state.now}
    depth = state.policy.window_depth
    promise = promise_of(state.caller, state.tickets)
    if promise is None:
        # The earliest ticket greeted at a busy counter, if issued before the best one.
        elsewhere = promises_elsewhere(
            state.caller, state.tickets, busy=state.busy, policy=state.policy
        )
        top = reference_best(state.tickets, k=1, **args)
        if elsewhere and (not top or (elsewhere[0].issued_at, elsewhere[0].id) < (
            top[0].issued_at, top[0].id
        )):  # fmt: skip
            promise = elsewhere[0]
    if promise is None:
        expected = reference_best(state.tickets, k=1 + depth, **args)
    else:
        rest = [t for t in state.tickets if t.id != promise.id]
        expected = [promise, *reference_best(rest, k=depth, **args)]

    assert handed(decide(state)) == expected


# 7. Window depth.


@single_decision
@given(state=hall_states())
def test_window_depth_sets_how_many_tickets_are_greeted_and_attended(state):
    decision = decide(state)
    depth = state.policy.window_depth
    promise = called_promise(decision, **where(state))
    others = [t for t in state.tickets if t is not promise and may_serve(state.caller, t)]
    filled = (1 if promise else 0) + min(depth + (0 if promise else 1), len(others))

    assert len(handed(decision)) == filled
    if depth == 0:
        assert decision.greeted is None and decision.attended is None
    if depth == 1:
        assert decision.attended is None


@pytest.mark.parametrize(
    ("depth", "window"),
    [(0, (0, None, None)), (1, (0, 1, None)), (2, (0, 1, 2))],
)
def test_window_depth_zero_one_and_two(depth, window):
    tickets = [Ticket(i, "bill", Lane.NORMAL, issued_at=i * MINUTE) for i in range(4)]
    decision = call_next(
        counter=Counter("c1", frozenset({"bill"})),
        tickets=tickets,
        policy=Policy(window_depth=depth),
        now=10 * MINUTE,
    )
    assert tuple(t and t.id for t in decision.window) == window


# ---------------------------------------------------------------------------------------------
# Examples a hall manager would recognise.

BILLS = Counter("c1", frozenset({"bill"}))
NOW = 60 * MINUTE


def waiting(ticket_id, lane, minutes, **kwargs) -> Ticket:
    return Ticket(ticket_id, "bill", lane, issued_at=NOW - minutes * MINUTE, **kwargs)


def call(counter, tickets, policy=None, busy=frozenset()) -> Decision:
    in_issue_order = sorted(tickets, key=lambda t: (t.issued_at, t.id))
    return call_next(
        counter=counter,
        tickets=in_issue_order,
        policy=policy or Policy(),
        now=NOW,
        busy=frozenset(busy),
    )


def test_default_weights_put_a_vip_waiting_5_minutes_before_a_normal_waiting_15():
    vip, normal = waiting(1, Lane.VIP, 5), waiting(2, Lane.NORMAL, 15)
    assert call(BILLS, [vip, normal]).called == vip  # 4 x 5 = 20 > 1 x 15


def test_default_weights_put_a_normal_waiting_25_minutes_before_a_vip_waiting_5():
    vip, normal = waiting(1, Lane.VIP, 5), waiting(2, Lane.NORMAL, 25)
    assert call(BILLS, [vip, normal]).called == normal  # 1 x 25 = 25 > 4 x 5


def test_default_weights_put_priority_between_vip_and_normal():
    vip = waiting(1, Lane.VIP, 5)
    priority = waiting(2, Lane.PRIORITY, 9)
    normal = waiting(3, Lane.NORMAL, 17)
    decision = call(BILLS, [normal, priority, vip])
    assert decision.window == (vip, priority, normal)  # 4 x 5 = 20 > 2 x 9 = 18 > 1 x 17


def test_strict_vip_lane_goes_first_however_long_others_waited():
    policy = Policy(strict=frozenset({Lane.VIP}))
    vip, normal = waiting(1, Lane.VIP, 0), waiting(2, Lane.NORMAL, 29)
    assert call(BILLS, [vip, normal], policy).called == vip


def test_overdue_normal_ticket_goes_before_a_strict_vip():
    policy = Policy(strict=frozenset({Lane.VIP}), max_wait=30 * MINUTE)
    vip, normal = waiting(1, Lane.VIP, 0), waiting(2, Lane.NORMAL, 31)
    assert call(BILLS, [vip, normal], policy).called == normal


def test_strict_lanes_go_vip_then_priority_then_normal():
    policy = Policy(strict=frozenset(Lane))
    normal, priority, vip = (
        waiting(1, Lane.NORMAL, 9),
        waiting(2, Lane.PRIORITY, 5),
        waiting(3, Lane.VIP, 0),
    )
    assert call(BILLS, [normal, priority, vip], policy).window == (vip, priority, normal)


def test_ticket_goes_ahead_only_once_its_wait_passes_the_maximum():
    policy = Policy(strict=frozenset({Lane.VIP}), max_wait=30 * MINUTE)
    vip = waiting(1, Lane.VIP, 0)
    at_the_maximum, past_it = waiting(2, Lane.NORMAL, 30), waiting(3, Lane.NORMAL, 30 + 1 / 60)
    assert call(BILLS, [vip, at_the_maximum], policy).called == vip
    assert call(BILLS, [vip, past_it], policy).called == past_it


def test_vip_first_counter_calls_a_vip_before_a_longer_waiting_normal():
    vip_desk = replace(BILLS, vip_mode=VipMode.VIP_FIRST)
    vip, normal = waiting(1, Lane.VIP, 1), waiting(2, Lane.NORMAL, 25)
    assert call(vip_desk, [vip, normal]).called == vip
    assert call(BILLS, [vip, normal]).called == normal  # an ordinary counter does not


def test_vip_first_counter_serves_others_when_no_vip_waits():
    vip_desk = replace(BILLS, vip_mode=VipMode.VIP_FIRST)
    normal = waiting(2, Lane.NORMAL, 3)
    assert call(vip_desk, [normal]).called == normal


def test_vip_only_counter_calls_nobody_when_only_normal_tickets_wait():
    vip_desk = replace(BILLS, vip_mode=VipMode.VIP_ONLY)
    assert call(vip_desk, [waiting(1, Lane.NORMAL, 20)]).called is None


def test_ticket_transferred_to_a_counter_is_called_only_there():
    transferred = waiting(1, Lane.NORMAL, 20, pinned_counter="c2")
    later = waiting(2, Lane.NORMAL, 1)
    assert call(BILLS, [transferred, later]).called == later
    assert call(replace(BILLS, id="c2"), [transferred, later]).called == transferred


def test_counter_calls_its_greeted_ticket_before_a_new_strict_vip():
    policy = Policy(strict=frozenset({Lane.VIP}))
    greeted = waiting(1, Lane.NORMAL, 2, slot=Slot.GREETED, slot_counter="c1")
    vip = waiting(2, Lane.VIP, 0)
    decision = call(BILLS, [greeted, vip], policy)
    assert (decision.called, decision.greeted) == (greeted, vip)
    # Counter c1 has just finished and is about to call: its promise stays with it.
    assert call(replace(BILLS, id="c2"), [greeted, vip], policy).window == (vip, None, None)


def test_idle_counter_calls_the_ticket_greeted_at_a_busy_counter_not_a_later_strict_vip():
    policy = Policy(strict=frozenset({Lane.VIP}))
    greeted = waiting(1, Lane.NORMAL, 2, slot=Slot.GREETED, slot_counter="c1")
    vip = waiting(2, Lane.VIP, 0)
    decision = call(replace(BILLS, id="c2"), [greeted, vip], policy, busy={"c1"})
    assert decision.window == (greeted, vip, None)
    assert decision.taken == (greeted,)


def test_hall_that_binds_the_greeting_to_the_counter_keeps_the_older_rule():
    policy = Policy(greeting_binds_counter=True)
    greeted = waiting(1, Lane.NORMAL, 2, slot=Slot.GREETED, slot_counter="c1")
    assert call(replace(BILLS, id="c2"), [greeted], policy, busy={"c1"}).called is None


def test_earlier_ticket_that_now_ranks_first_goes_before_a_greeted_one_issued_later():
    policy = Policy(max_wait=30 * MINUTE)
    overdue = waiting(1, Lane.NORMAL, 31)
    greeted = waiting(2, Lane.NORMAL, 20, slot=Slot.GREETED, slot_counter="c1")
    decision = call(replace(BILLS, id="c2"), [overdue, greeted], policy, busy={"c1"})
    assert decision.called == overdue


@pytest.mark.parametrize("binding", [False, True])
def test_counter_that_frees_takes_the_customer_greeted_at_a_busy_counter_instead_of_idling(
    binding,
):
    """The issue's smallest case: counter 1 serves A001 and greets A002 ("请A002号准备"); counter 2
    then asks for its next. It takes A002 rather than idle while counter 1 is still busy; under
    the older binding A002 waits for counter 1 and counter 2 idles."""
    policy = Policy(max_wait=None, window_depth=1, greeting_binds_counter=binding)
    c1, c2 = replace(BILLS, id="c1"), replace(BILLS, id="c2")
    sim = HallSim(policy)
    sim.issue("bill", Lane.NORMAL)
    sim.issue("bill", Lane.NORMAL)
    assert [t.id for t in handed(sim.call(c1))] == [0, 1]
    sim.now += 5 * MINUTE
    decision = sim.call(c2)
    if binding:
        assert decision.called is None
        assert sim.window_of("c1")[Slot.GREETED].id == 1
    else:
        assert decision.called.id == 1
        assert decision.taken[0].slot_counter == "c1"
        assert sim.window_of("c1") == {}


def test_greeting_counter_greets_its_attended_ticket_when_its_greeted_one_is_called_elsewhere():
    greeted = waiting(1, Lane.NORMAL, 5, slot=Slot.GREETED, slot_counter="c1")
    attended = waiting(2, Lane.NORMAL, 4, slot=Slot.ATTENDED, slot_counter="c1")
    other = Counter("c2", frozenset({"sim"}) | BILLS.business_types)
    decision = call(other, [greeted, attended], Policy(window_depth=0), busy={"c1"})
    assert decision.called == greeted
    assert decision.promoted == (replace(attended, slot=Slot.GREETED),)


def test_ticket_attended_at_one_counter_may_be_taken_by_another():
    attended = waiting(1, Lane.NORMAL, 10, slot=Slot.ATTENDED, slot_counter="c1")
    decision = call(replace(BILLS, id="c2"), [attended])
    assert decision.called == attended
    assert decision.taken == (attended,)


def test_own_attended_ticket_that_loses_its_place_is_released():
    policy = Policy(strict=frozenset({Lane.VIP}))
    greeted = waiting(1, Lane.NORMAL, 8, slot=Slot.GREETED, slot_counter="c1")
    attended = waiting(2, Lane.NORMAL, 6, slot=Slot.ATTENDED, slot_counter="c1")
    vips = [waiting(3, Lane.VIP, 1), waiting(4, Lane.VIP, 0)]
    decision = call(BILLS, [greeted, attended, *vips], policy)
    assert decision.window == (greeted, *vips)
    assert decision.released == (attended,)
    assert decision.taken == ()


def test_window_depth_must_be_zero_one_or_two():
    with pytest.raises(ValueError):
        Policy(window_depth=3)
