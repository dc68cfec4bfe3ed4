"""The routing policy: which ticket a counter calls next, and whom it greets and attends to.

Pure Python on plain data, no Django: the live system (queueing.services), the simulator and the
property tests all run this same code. DESIGN.md's routing policy is the specification:

* A counter first calls its own greeted ticket: greeting is a promise ("请A013号准备").
* Otherwise it calls the best waiting ticket it can serve, which may be a ticket greeted at
  another counter that is still busy: the greeting binds the order, not the counter (issue 16).
  No later arrival, whatever its lane, is called before a greeted ticket this counter may take:
  if one was issued before the best ticket, the earliest such greeted ticket is called instead.
  The counter it was greeted at keeps its attended ticket, now greeted there (``promoted``).
  A hall may keep the stricter binding (``Policy.greeting_binds_counter``): a greeted ticket
  then waits for its own counter, and a counter may idle while only others' promises wait.
* "Best" is accumulating priority
  (Kleinrock's delay-dependent priority): lane weight x time waited, highest first, ties by issue
  time, then id. A lane marked strict is strictly ahead of all non-strict lanes (strict lanes among
  themselves in VIP, priority, normal order, then by issue time).
* The maximum-wait guard: a ticket that has waited longer than the hall's maximum-wait target goes
  ahead of every ticket that has not, oldest first. No lane starves.
* VIP counters: ``vip_first`` treats the VIP lane as strict at that counter (others when no VIP
  waits); ``vip_only`` serves nothing but the VIP lane.
* After a call the counter's window is refilled with the same ordering: greeted (depth >= 1),
  then attended (depth 2). A ticket greeted at another counter is never moved into this
  counter's window (only called, as above); a ticket attended at another counter is provisional
  and may be taken by the counter that calls first.
* A ticket transferred to a specific counter (``pinned_counter``) is eligible only there.

Performance: within one lane the ordering is monotone in issue time (same weight; the guard is
monotone too), so the best k tickets overall are among the first k eligible tickets of each lane.
Given tickets in issue order, ``call_next`` scans only until every lane has k candidates and
sorts at most 3k of them, far under a millisecond for thousands waiting.
"""

from __future__ import annotations

from collections.abc import Container, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from hall.lanes import DEFAULT_WEIGHTS, LANE_RANK, Lane  # noqa: F401  (pure Python, no Django)


class Slot(StrEnum):
    GREETED = "greeted"
    ATTENDED = "attended"


class VipMode(StrEnum):
    NONE = "none"
    VIP_FIRST = "vip_first"
    VIP_ONLY = "vip_only"


@dataclass(frozen=True, slots=True)
class Policy:
    """A hall's routing settings. ``weights`` must be positive; ``strict`` lanes go first."""

    weights: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    strict: frozenset[str] = frozenset()
    max_wait: float | None = 30 * 60.0  # seconds; None disables the guard
    window_depth: int = 2
    # The stricter, older rule: a greeted ticket is called only by the counter that greeted it.
    greeting_binds_counter: bool = False

    def __post_init__(self) -> None:
        if self.window_depth not in (0, 1, 2):
            raise ValueError("window_depth must be 0, 1 or 2")
        for lane in Lane:
            if lane not in self.strict and not self.weights.get(lane, 0) > 0:
                raise ValueError(f"lane {lane} needs a positive weight or to be strict")


@dataclass(frozen=True, slots=True)
class Ticket:
    """A waiting ticket as the router sees it. ``issued_at`` is seconds on any common clock."""

    id: Hashable
    business_type: Hashable
    lane: str
    issued_at: float
    slot: str | None = None  # Slot.GREETED / Slot.ATTENDED or None
    slot_counter: Hashable | None = None
    pinned_counter: Hashable | None = None


@dataclass(frozen=True, slots=True)
class Counter:
    id: Hashable
    business_types: frozenset
    vip_mode: str = VipMode.NONE


@dataclass(frozen=True, slots=True)
class Decision:
    called: Ticket | None
    greeted: Ticket | None
    attended: Ticket | None
    released: tuple[Ticket, ...] = ()  # this counter's window tickets it no longer holds
    taken: tuple[Ticket, ...] = ()  # tickets taken from another counter's window
    # Attended tickets of the counters whose greeted ticket this call took, now greeted there
    # (``slot_counter`` is that counter): the greeting counter greets its next.
    promoted: tuple[Ticket, ...] = ()

    @property
    def window(self) -> tuple[Ticket | None, Ticket | None, Ticket | None]:
        return self.called, self.greeted, self.attended


def can_serve(ticket: Ticket, counter: Counter) -> bool:
    """Could ``counter`` serve ``ticket`` at all? Skills, pins and VIP-only."""
    if ticket.business_type not in counter.business_types:
        return False
    if ticket.pinned_counter is not None and ticket.pinned_counter != counter.id:
        return False
    return not (counter.vip_mode == VipMode.VIP_ONLY and ticket.lane != Lane.VIP)


def can_take(ticket: Ticket, counter: Counter) -> bool:
    """May ``counter`` put ``ticket`` in its window (or call it as the best ticket)? Skills, pins,
    VIP-only, and others' promises (a ticket greeted elsewhere is called only through
    ``greeted_elsewhere``, never re-greeted here)."""
    if not can_serve(ticket, counter):
        return False
    return not (ticket.slot == Slot.GREETED and ticket.slot_counter != counter.id)


def greeted_elsewhere(
    tickets: Iterable[Ticket], *, counter: Counter, policy: Policy, busy: Container
) -> Ticket | None:
    """The earliest ticket greeted at another counter that is busy (in ``busy``) and that
    ``counter`` may serve, or None; always None under ``greeting_binds_counter``. ``tickets``
    in issue order. A greeting counter that is not busy is about to call its greeted ticket
    itself (it has just finished), so its promise stays with it."""
    if policy.greeting_binds_counter:
        return None
    for ticket in tickets:
        if (
            ticket.slot == Slot.GREETED
            and ticket.slot_counter != counter.id
            and ticket.slot_counter in busy
            and can_serve(ticket, counter)
        ):
            return ticket
    return None


def order_key(ticket: Ticket, *, counter: Counter, policy: Policy, now: float) -> tuple:
    """Sort key, smallest first, for the tickets ``counter`` may take at time ``now``."""
    waited = now - ticket.issued_at
    if policy.max_wait is not None and waited > policy.max_wait:
        return (0, ticket.issued_at, 0, 0, 0.0, ticket.issued_at, _tiebreak(ticket.id))
    lane = ticket.lane
    strict = lane in policy.strict or (lane == Lane.VIP and counter.vip_mode != VipMode.NONE)
    if strict:
        return (1, 0.0, 0, LANE_RANK.get(lane, 9), 0.0, ticket.issued_at, _tiebreak(ticket.id))
    score = policy.weights[lane] * max(waited, 0.0)
    return (1, 0.0, 1, 0, -score, ticket.issued_at, _tiebreak(ticket.id))


def _tiebreak(ticket_id: Hashable) -> tuple:
    # Ids may be ints or strings; compare within a type, never across.
    return (type(ticket_id).__name__, ticket_id)


def best(
    tickets: Iterable[Ticket], *, counter: Counter, policy: Policy, now: float, k: int
) -> list[Ticket]:
    """The best ``k`` tickets ``counter`` may take, best first.

    ``tickets`` must be in issue order (issued_at, then id), as the database returns them;
    within a lane that order is priority order, so scanning stops once each lane has ``k``.
    """
    if k <= 0:
        return []
    per_lane: dict[str, list[Ticket]] = {}
    full = 0
    lanes = len(Lane)
    for ticket in tickets:
        bucket = per_lane.setdefault(ticket.lane, [])
        if len(bucket) >= k or not can_take(ticket, counter):
            continue
        bucket.append(ticket)
        if len(bucket) == k:
            full += 1
            if full >= lanes:
                break
    candidates = [t for bucket in per_lane.values() for t in bucket]
    candidates.sort(key=lambda t: order_key(t, counter=counter, policy=policy, now=now))
    return candidates[:k]


def _precedes(a: Ticket, b: Ticket) -> bool:
    return (a.issued_at, _tiebreak(a.id)) < (b.issued_at, _tiebreak(b.id))


def call_next(
    *,
    counter: Counter,
    tickets: Sequence[Ticket],
    policy: Policy,
    now: float,
    busy: Container = frozenset(),
) -> Decision:
    """Decide what ``counter`` calls now and how its window is refilled.

    ``tickets`` are the waiting tickets (in issue order) that may concern this counter: at least
    every ticket it could take, plus its own greeted and attended ones, the tickets greeted at
    busy counters it may serve and those counters' attended tickets. ``busy``: the ids of the
    counters with a called or serving ticket (others' greeted tickets are taken only from them).
    """
    own = [t for t in tickets if t.slot is not None and t.slot_counter == counter.id]
    promised = next((t for t in own if t.slot == Slot.GREETED), None)

    depth = policy.window_depth
    if promised is None:
        top = best(tickets, counter=counter, policy=policy, now=now, k=1)
        other = greeted_elsewhere(tickets, counter=counter, policy=policy, busy=busy)
        # A promise goes before every later arrival: call it unless the best ticket came first.
        if other is not None and (not top or _precedes(other, top[0])):
            promised = other
    if promised is not None:
        rest = [t for t in tickets if t.id != promised.id]
        chosen = [promised, *best(rest, counter=counter, policy=policy, now=now, k=depth)]
    else:
        chosen = best(tickets, counter=counter, policy=policy, now=now, k=1 + depth)
    chosen += [None] * (3 - len(chosen))
    called, greeted, attended = chosen[:3]

    kept = {t.id for t in chosen if t is not None}
    released = tuple(t for t in own if t.id not in kept)
    taken = tuple(
        t for t in chosen if t is not None and t.slot is not None and t.slot_counter != counter.id
    )
    promoted = ()
    if called is not None and called.slot == Slot.GREETED and called.slot_counter != counter.id:
        holder = called.slot_counter
        promoted = tuple(
            Ticket(
                t.id, t.business_type, t.lane, t.issued_at, Slot.GREETED, holder, t.pinned_counter
            )  # fmt: skip
            for t in tickets
            if t.slot == Slot.ATTENDED and t.slot_counter == holder and t.id not in kept
        )
    return Decision(called, greeted, attended, released, taken, promoted)
