"""Counter actions: open, close, call-next, recall, start, finish, no-show, transfer, pause, resume.

Every action runs in one transaction that first locks the hall row, then the counter row
(always in that order, so two actions never deadlock). The hall lock serialises routing
decisions within one hall: a call reads the pool and rewrites several windows, and no other
counter of the hall may decide on the same tickets meanwhile. Halls never wait for each other.
Ticket updates are compare-and-set on the expected status as a second guard, and the partial
unique constraints on Ticket are the last.
"""

import datetime
import functools
import math
from dataclasses import dataclass

from django.contrib.postgres.expressions import ArraySubquery
from django.db import connection, transaction
from django.db.models import Case, OuterRef, Q, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from counters.apologies import apology_for
from counters.models import ClerkSession, Counter, CounterState, Interruption, PauseReason
from hall.access import ACT_AT_COUNTER, RULES, Refused, admit
from hall.apologies import apology_record, apology_withdraw
from hall.errors import (
    ClerkElsewhere,
    CounterBusy,
    CounterClosed,
    CounterPaused,
    CounterTaken,
    InvalidInput,
    InvalidTransition,
    NoActiveTicket,
    NotFound,
    RecallTooSoon,
    TransferRefused,
)
from hall.i18n import localized_name
from hall.models import ApologyPlace, ApologySource, EventKind, Role
from hall.selectors import lane_settings_subquery, staff_role_subquery
from hall.services import event_record, hall_lock_condition
from hall.statements import PLACEHOLDER_ID, Statement
from queueing import router
from queueing.models import ACTIVE_STATUSES, Outcome, Slot, Status, Ticket
from queueing.notices import phone_notices_queue
from queueing.selectors import hall_policy, router_candidates
from queueing.services import transfer_business_type, transfer_check

PAUSE_REFUSED_MESSAGE = gettext_lazy(
    "A customer is called or being served here: finish, transfer, mark them no-show or send "
    "them back to the front of the queue before pausing."
)


# The actions that free the counter for a pause, as the API names them (the refusal lists them).
PAUSE_WAYS_OUT = ["finish", "transfer", "no-show", "requeue"]


@dataclass(frozen=True)
class Window:
    called: Ticket | None
    greeted: Ticket | None
    attended: Ticket | None


@dataclass(frozen=True)
class Recall:
    ticket: Ticket
    recall_limit: int

    @property
    def suggested_action(self) -> str | None:
        return "no_show" if self.ticket.recall_count >= self.recall_limit else None


# A counter never moves to another hall: its hall id is read once per process.
_counter_halls: dict[int, int] = {}


def _lock_read(*, counter_id: int, hall_id: int, user_id: int, routing: bool = False):
    """``_lock``'s one statement (PostgreSQL: with the hall lock, and when ``routing`` the
    counter's business types and the hall's lane settings)."""
    # of=("self",): without it PostgreSQL locks the joined hall row too, FOR UPDATE, undoing the
    # hall lock's NO KEY mode (see hall_lock).
    rows = (
        Counter.objects.select_for_update(of=("self",), no_key=True)
        .select_related("hall")
        .annotate(role=staff_role_subquery(user_id=user_id, hall=OuterRef("hall_id")))
        .filter(pk=counter_id)
        .order_by()
    )
    if connection.vendor == "postgresql":
        rows = rows.filter(hall_lock_condition(hall_id=hall_id))
        if routing:
            rows = rows.annotate(
                skills=ArraySubquery(
                    Counter.business_types.through.objects.filter(counter_id=OuterRef("pk"))
                    .order_by()
                    .values("businesstype_id")
                ),
                lane_settings=lane_settings_subquery(hall=OuterRef("hall_id")),
            )
    return rows[:1]


# Compiled once per process (hall.statements): building them cost more CPU than running them.
_LOCK_PLACEHOLDERS = {"counter_id": -7_300_002, "hall_id": PLACEHOLDER_ID, "user_id": -7_300_003}
_LOCK = Statement(_lock_read, **_LOCK_PLACEHOLDERS)
_LOCK_ROUTING = Statement(functools.partial(_lock_read, routing=True), **_LOCK_PLACEHOLDERS)


def _lock(counter_id: int, *, user, opening: bool = False, routing: bool = False) -> Counter:
    """Lock the counter's hall, then the counter, and check the user may act on it.

    A manager of the hall may act on any of its counters; a clerk only on the counter they are
    signed in at (or, when ``opening``, on a closed counter of their hall). PostgreSQL: one
    query, the hall lock folded into the statement that locks the counter's row and reads the
    user's role in its hall (and, when ``routing``, the counter's business types and the hall's
    lane settings, kept as ``counter.skills`` and ``counter.lane_settings``). SQLite: the same
    without the hall lock (its IMMEDIATE transactions serialise writers), and the routing reads
    apart.
    """
    hall_id = _counter_halls.get(counter_id)
    if hall_id is None:
        # order_by(): the default ordering (hall, number) would join the hall table for one pk.
        hall_id = (
            Counter.objects.filter(pk=counter_id)
            .values_list("hall_id", flat=True)
            .order_by()
            .first()
        )
        if hall_id is None:
            raise NotFound(_("No such counter."))
        _counter_halls[counter_id] = hall_id
    postgresql = connection.vendor == "postgresql"
    statement = _LOCK_ROUTING if routing and postgresql else _LOCK
    counter = statement.first(
        counter_id=counter_id, hall_id=hall_id, user_id=getattr(user, "pk", None)
    )
    if counter is not None and routing and not postgresql:
        counter.skills = list(counter.business_types.values_list("pk", flat=True).order_by())
        counter.lane_settings = None  # hall_policy reads them itself
    if counter is None:
        _counter_halls.pop(counter_id, None)
        raise NotFound(_("No such counter."))
    if counter.hall_id != hall_id:  # moved to another hall after all: lock that one instead
        _counter_halls.pop(counter_id, None)
        return _lock(counter_id, user=user, opening=opening)
    role = admit(who=user, hall=counter.hall, action=ACT_AT_COUNTER, membership=counter.role)
    if role == Role.MANAGER:
        return counter
    if opening or counter.clerk_id == user.pk:
        return counter
    if counter.clerk_id is None:
        raise CounterClosed(_("Open the counter first: you are not signed in at it."))
    raise Refused(RULES[ACT_AT_COUNTER].refusal)


def _window_read(*, counter_id: int):
    # of=("self",): lock the ticket only. A bare FOR UPDATE also locked the joined business
    # type row, which every ticket issued of that type must share-lock for its foreign key:
    # issuing and serving deadlocked on PostgreSQL (tests/integration/test_concurrency_postgres.py).
    return (
        Ticket.objects.select_for_update(of=("self",))
        .filter(
            Q(counter_id=counter_id, status__in=ACTIVE_STATUSES) | Q(window_counter_id=counter_id)
        )
        .select_related("business_type")
    )


_WINDOW = Statement(_window_read, counter_id=-7_300_004)


def _active_ticket(counter: Counter) -> Ticket | None:
    """The counter's called or serving ticket, locked. One query, which also reads the
    counter's greeted and attended tickets (kept as ``counter.window_read``: a service that
    changes the counter's ticket hands the live frame its window, ``_window_in_hand``)."""
    window = {"active": None, Slot.GREETED: None, Slot.ATTENDED: None}  # live_window's keys
    for ticket in _WINDOW.rows(counter_id=counter.pk):
        if ticket.status in ACTIVE_STATUSES and ticket.counter_id == counter.pk:
            ticket.counter = counter  # the row in hand, for whoever shows the ticket's counter
            window["active"] = ticket
        elif ticket.window_slot in window:
            window[ticket.window_slot] = ticket
    counter.window_read = window
    return window["active"]


def _window_in_hand(counter: Counter, active: Ticket | None) -> None:
    """Once the service's change is made: the counter's window for its live frame, with
    ``active`` as its called or serving ticket (display.selectors.counter_states)."""
    counter.live_window = {**counter.window_read, "active": active}


def _require_active(counter: Counter, *statuses: str) -> Ticket:
    ticket = _active_ticket(counter)
    if ticket is None:
        raise NoActiveTicket()
    if statuses and ticket.status not in statuses:
        raise InvalidTransition(
            _("Ticket %(number)s is %(status)s.")
            % {"number": ticket.number, "status": ticket.get_status_display()}
        )
    return ticket


def _release_window(counter: Counter) -> list[int]:
    """Give the counter's greeted and attended tickets back to the pool, keeping issue times."""
    ids = list(Ticket.objects.filter(window_counter=counter).values_list("pk", flat=True))
    if ids:
        Ticket.objects.filter(pk__in=ids).update(window_counter=None, window_slot=None)
    return ids


def _ticket_event(kind, *, counter: Counter, ticket: Ticket, actor, now, **data) -> None:
    event_record(
        hall=counter.hall,
        kind=kind,
        actor=actor,
        ticket=ticket,
        counter=counter,
        data={"number": ticket.number, "counter": counter.number, **data},
        at=now,
    )


def _counter_event(kind, *, counter: Counter, actor, now, **data) -> None:
    event_record(
        hall=counter.hall,
        kind=kind,
        actor=actor,
        counter=counter,
        data={"counter": counter.number, **data},
        at=now,
    )


@transaction.atomic
def counter_open(*, counter_id: int, user, now: datetime.datetime | None = None) -> Counter:
    """Sign ``user`` in at the counter and open it. Opening again by the same clerk is a no-op."""
    now = now or timezone.now()
    counter = _lock(counter_id, user=user, opening=True)
    if counter.clerk_id == user.pk:
        return counter
    if counter.state != CounterState.CLOSED:
        raise CounterTaken()
    if Counter.objects.filter(clerk=user).exists():
        raise ClerkElsewhere()
    counter.state, counter.clerk, counter.state_changed_at = CounterState.OPEN, user, now
    counter.save(update_fields=["state", "clerk", "state_changed_at"])
    ClerkSession.objects.create(counter=counter, clerk=user, started_at=now)
    _counter_event(EventKind.COUNTER_OPENED, counter=counter, actor=user, now=now)
    return counter


@transaction.atomic
def counter_close(*, counter_id: int, user, now: datetime.datetime | None = None) -> Counter:
    """Sign the clerk out and close the counter. Its window goes back to the pool.

    Refused while a ticket is called or being served: finish, transfer or mark it no-show first.
    """
    now = now or timezone.now()
    counter = _lock(counter_id, user=user)
    if counter.state == CounterState.CLOSED:
        return counter
    if _active_ticket(counter) is not None:
        raise CounterBusy(_("Finish, transfer or mark the current ticket no-show before closing."))
    released = _release_window(counter)
    # Tickets transferred to this counter must not be stranded: any counter serving their
    # business type may now call them, still in their original place.
    unpinned = list(
        Ticket.objects.filter(pinned_counter=counter, status=Status.WAITING).values_list(
            "pk", flat=True
        )
    )
    Ticket.objects.filter(pk__in=unpinned).update(pinned_counter=None)
    # Closing ends a pause too: its apology comes down from the counter display with it.
    pauses = Interruption.objects.filter(counter=counter, ended_at__isnull=True)
    for interruption_id in list(pauses.values_list("pk", flat=True)):
        apology_withdraw(hall=counter.hall, interruption_id=interruption_id, at=now)
    pauses.update(ended_at=now)
    ClerkSession.objects.filter(counter=counter, ended_at__isnull=True).update(ended_at=now)
    counter.state, counter.clerk, counter.state_changed_at = CounterState.CLOSED, None, now
    counter.save(update_fields=["state", "clerk", "state_changed_at"])
    _counter_event(
        EventKind.COUNTER_CLOSED, counter=counter, actor=user, now=now, released=released
    )
    return counter


def _ensure_can_call(counter: Counter) -> None:
    if counter.state == CounterState.CLOSED:
        raise CounterClosed()
    if counter.state == CounterState.PAUSED:
        raise CounterPaused()


@transaction.atomic
def counter_call_next(*, counter_id: int, user, now: datetime.datetime | None = None) -> Window:
    """Call the counter's next ticket and refill its window (greeted, attended).

    Lock precondition: the hall row, then the counter row (``_lock``). Under the hall lock no
    other counter of the hall routes at the same time, so the router's view of the pool is
    exact; the compare-and-set updates below still check each ticket is waiting.
    """
    now = now or timezone.now()
    counter = _lock(counter_id, user=user, routing=True)
    _ensure_can_call(counter)
    skills = frozenset(counter.skills)
    candidates = router_candidates(
        counter=counter,
        business_type_ids=skills,
        greeting_binds_counter=counter.hall.greeting_binds_counter,
    )
    if candidates.counter_busy:  # read after the hall lock was taken, in a statement of its own
        raise CounterBusy()
    # Issue 16: a ticket greeted at a busy counter may be called here (the greeting binds the
    # order, not the counter), unless the hall keeps the older binding.
    decision = router.call_next(
        counter=router.Counter(id=counter.pk, business_types=skills, vip_mode=counter.vip_mode),
        tickets=candidates.tickets,
        policy=hall_policy(hall=counter.hall, lane_settings=counter.lane_settings),
        now=now.timestamp(),
        busy=candidates.busy,
    )
    if decision.called is None:
        return Window(None, None, None)

    moving = {t.id for t in (*decision.released, *decision.taken)}
    moving |= {t.id for t in decision.window if t is not None and t.slot is not None}
    if moving:  # clear old slots first so the one-ticket-per-slot constraint holds throughout
        Ticket.objects.filter(pk__in=moving).update(window_counter=None, window_slot=None)
    claimed = Ticket.objects.filter(pk=decision.called.id, status=Status.WAITING).update(
        status=Status.CALLED, counter=counter, clerk_id=counter.clerk_id, called_at=now
    )
    if claimed != 1:  # impossible under the hall lock; refuse rather than double-call
        raise InvalidTransition(_("The ticket was taken by another counter; call again."))
    slots = {
        choice.id: slot
        for slot, choice in ((Slot.GREETED, decision.greeted), (Slot.ATTENDED, decision.attended))
        if choice is not None
    }
    if slots:  # one statement for both slots
        Ticket.objects.filter(pk__in=slots, status=Status.WAITING).update(
            window_counter=counter,
            window_slot=Case(*(When(pk=pk, then=Value(slot)) for pk, slot in slots.items())),
        )
    _greet_next_where_taken(decision)

    by_id = Ticket.objects.select_related("business_type", "counter").in_bulk(
        [t.id for t in decision.window if t is not None]
    )
    window = Window(*(by_id[t.id] if t is not None else None for t in decision.window))
    counter.window_read = {Slot.GREETED: window.greeted, Slot.ATTENDED: window.attended}
    _window_in_hand(counter, window.called)  # the live frame's: the window as it now is
    _ticket_event(
        EventKind.TICKET_CALLED,
        counter=counter,
        ticket=window.called,
        actor=user,
        now=now,
        greeted=window.greeted.number if window.greeted else None,
        attended=window.attended.number if window.attended else None,
        taken_from_others=[t.id for t in decision.taken],
        taken_from_counters=sorted({t.slot_counter for t in decision.taken if t.slot_counter}),
        greeted_elsewhere=decision.called.slot == Slot.GREETED
        and decision.called.slot_counter != counter.pk,
    )
    phone_notices_queue(counter=counter, called=window.called, greeted=window.greeted)
    return window


def _greet_next_where_taken(decision: router.Decision) -> None:
    """The counter whose greeted ticket this call took greets its attended ticket now (issue 16:
    ``decision.promoted``), and its customer is told to get ready there. Nothing to do on most
    calls; when there is, two small queries on rows the decision names (no hall-wide read)."""
    if not decision.promoted:
        return
    for promoted in decision.promoted:
        Ticket.objects.filter(
            pk=promoted.id,
            status=Status.WAITING,
            window_counter_id=promoted.slot_counter,
            window_slot=Slot.ATTENDED,
        ).update(window_slot=Slot.GREETED)
    for ticket in Ticket.objects.filter(
        pk__in=[t.id for t in decision.promoted], window_slot=Slot.GREETED
    ).select_related("hall", "window_counter"):
        phone_notices_queue(counter=ticket.window_counter, called=None, greeted=ticket)


@transaction.atomic
def counter_recall(*, counter_id: int, user, now: datetime.datetime | None = None) -> Recall:
    """Call the called ticket again (the customer has not come). Counted; past the hall's
    recall limit a no-show is suggested.

    Refused within the hall's cool-down (``recall_cooldown_seconds``) of the last call or
    recall (issue 16): read from the ticket row locked here and the hall row the lock brought,
    so the check costs no query."""
    now = now or timezone.now()
    counter = _lock(counter_id, user=user)
    _ensure_can_call(counter)
    ticket = _require_active(counter, Status.CALLED)
    _ensure_recall_cooled_down(ticket, cooldown=counter.hall.recall_cooldown_seconds, now=now)
    ticket.recall_count += 1
    ticket.recalled_at = now
    ticket.save(update_fields=["recall_count", "recalled_at"])
    _window_in_hand(counter, ticket)
    _ticket_event(
        EventKind.TICKET_RECALLED,
        counter=counter,
        ticket=ticket,
        actor=user,
        now=now,
        recall_count=ticket.recall_count,
    )
    return Recall(ticket=ticket, recall_limit=counter.hall.recall_limit)


def _ensure_recall_cooled_down(ticket: Ticket, *, cooldown: int, now: datetime.datetime) -> None:
    last = max(t for t in (ticket.called_at, ticket.recalled_at) if t is not None)
    remaining = cooldown - (now - last).total_seconds()
    if remaining > 0:
        raise RecallTooSoon(
            _("%(number)s was called moments ago: recall again in %(seconds)s s.")
            % {"number": ticket.number, "seconds": math.ceil(remaining)},
            retry_after=math.ceil(remaining),
        )


@transaction.atomic
def counter_start(*, counter_id: int, user, now: datetime.datetime | None = None) -> Ticket:
    """The called customer has arrived at the counter: service starts."""
    now = now or timezone.now()
    counter = _lock(counter_id, user=user)
    _ensure_can_call(counter)
    ticket = _require_active(counter, Status.CALLED)
    ticket.status, ticket.started_at = Status.SERVING, now
    ticket.save(update_fields=["status", "started_at"])
    _window_in_hand(counter, ticket)
    _ticket_event(EventKind.TICKET_STARTED, counter=counter, ticket=ticket, actor=user, now=now)
    return ticket


@transaction.atomic
def counter_finish(
    *,
    counter_id: int,
    user,
    outcome: str = Outcome.COMPLETED,
    note: str = "",
    now: datetime.datetime | None = None,
) -> Ticket:
    """Service is over: the ticket is done with its outcome ("请您慢走")."""
    now = now or timezone.now()
    if outcome not in Outcome.values:
        raise InvalidInput(fields={"outcome": f"one of {', '.join(Outcome.values)}"})
    counter = _lock(counter_id, user=user)
    ticket = _require_active(counter, Status.SERVING)
    ticket.status, ticket.finished_at = Status.DONE, now
    ticket.outcome, ticket.note = outcome, note
    ticket.save(update_fields=["status", "finished_at", "outcome", "note"])
    _window_in_hand(counter, None)
    _ticket_event(
        EventKind.TICKET_DONE,
        counter=counter,
        ticket=ticket,
        actor=user,
        now=now,
        outcome=outcome,
        service_seconds=round((now - ticket.started_at).total_seconds()),
    )
    return ticket


@transaction.atomic
def counter_requeue(*, counter_id: int, user, now: datetime.datetime | None = None) -> Ticket:
    """Send the called or serving customer back to the front of the queue (issue 16): the ticket
    is waiting again with its original issue time, so the next counter that may serve it calls
    it first; the lobby and the status page tell the customer. The way out before a pause."""
    now = now or timezone.now()
    counter = _lock(counter_id, user=user)
    ticket = _require_active(counter)
    claimed = Ticket.objects.filter(pk=ticket.pk, status__in=ACTIVE_STATUSES).update(
        status=Status.WAITING, counter=None, clerk=None, called_at=None, started_at=None
    )
    if claimed != 1:  # impossible under the locks; refuse rather than lose the customer
        raise InvalidTransition(_("The ticket changed meanwhile; try again."))
    ticket.status, ticket.counter, ticket.clerk = Status.WAITING, None, None
    ticket.called_at = ticket.started_at = None
    _window_in_hand(counter, None)
    _ticket_event(
        EventKind.TICKET_REQUEUED,
        counter=counter,
        ticket=ticket,
        actor=user,
        now=now,
        recall_count=ticket.recall_count,
    )
    return ticket


@transaction.atomic
def counter_no_show(*, counter_id: int, user, now: datetime.datetime | None = None) -> Ticket:
    """The called customer did not come."""
    now = now or timezone.now()
    counter = _lock(counter_id, user=user)
    ticket = _require_active(counter, Status.CALLED)
    ticket.status, ticket.finished_at = Status.NO_SHOW, now
    ticket.save(update_fields=["status", "finished_at"])
    _window_in_hand(counter, None)
    _ticket_event(
        EventKind.TICKET_NO_SHOW,
        counter=counter,
        ticket=ticket,
        actor=user,
        now=now,
        recall_count=ticket.recall_count,
    )
    return ticket


@transaction.atomic
def counter_transfer(
    *,
    counter_id: int,
    user,
    business_type_code: str | None = None,
    target_counter_id: int | None = None,
    now: datetime.datetime | None = None,
) -> Ticket:
    """Send the counter's ticket to another business type or counter (热心指点正确的柜台).

    The ticket goes back to waiting with its original issue time, so the customer keeps their
    place. Refused unless some counter of the hall can serve it there.
    """
    now = now or timezone.now()
    if not business_type_code and target_counter_id is None:
        raise InvalidInput(
            _("Give a business type or a counter to transfer to."),
            fields={"business_type": "required", "counter": "required"},
        )
    counter = _lock(counter_id, user=user)
    ticket = _require_active(counter)
    business_type = ticket.business_type
    if business_type_code:
        business_type = transfer_business_type(hall_id=counter.hall_id, code=business_type_code)
    target = None
    if target_counter_id is not None:
        target = Counter.objects.filter(pk=target_counter_id, hall=counter.hall).first()
        if target is None:
            raise TransferRefused(
                _("No such counter in this hall."), fields={"counter": "not in this hall"}
            )
        if target.pk == counter.pk:
            raise TransferRefused(_("That is this counter."), fields={"counter": "same counter"})
        if target.state == CounterState.CLOSED:
            raise TransferRefused(
                _("Counter %(n)s is closed.") % {"n": target.number}, fields={"counter": "closed"}
            )
        if not target.business_types.filter(pk=business_type.pk).exists():
            raise TransferRefused(
                _("Counter %(n)s does not handle %(name)s.")
                % {"n": target.number, "name": localized_name(business_type)},
                fields={"counter": "cannot serve this business type"},
            )
        if target.vip_mode == router.VipMode.VIP_ONLY and ticket.lane != router.Lane.VIP:
            # Pinned there, the ticket could never be called: not by the target, which calls
            # VIP tickets only, and not by any other counter, because of the pin.
            raise TransferRefused(
                _("Counter %(n)s serves VIP customers only.") % {"n": target.number},
                fields={"counter": "VIP only"},
            )
    else:
        transfer_check(ticket=ticket, business_type=business_type, from_counter=counter)
    previous = {"business_type": ticket.business_type.code, "status": ticket.status}
    ticket.status = Status.WAITING
    ticket.business_type = business_type
    ticket.pinned_counter = target
    ticket.counter, ticket.clerk = None, None
    ticket.called_at = ticket.started_at = None
    ticket.recall_count = 0
    ticket.transfer_count += 1
    ticket.save(
        update_fields=[
            "status",
            "business_type",
            "pinned_counter",
            "counter",
            "clerk",
            "called_at",
            "started_at",
            "recall_count",
            "transfer_count",
        ]
    )
    _ticket_event(
        EventKind.TICKET_TRANSFERRED,
        counter=counter,
        ticket=ticket,
        actor=user,
        now=now,
        previous=previous,
        business_type=business_type.code,
        to_counter=target.number if target else None,
    )
    return ticket


@transaction.atomic
def counter_pause(
    *, counter_id: int, user, reason: str, note: str = "", now: datetime.datetime | None = None
) -> Interruption:
    """Interrupt service with a reason; customers see the apology while it lasts.

    The counter's greeted and attended tickets go back to the front of the pool with their issue
    times. Refused while a ticket is called or being served (issue 16): finish, transfer, mark it
    no-show or send the customer back to the front of the queue (``counter_requeue``) first.
    """
    now = now or timezone.now()
    if reason not in PauseReason.values:
        raise InvalidInput(fields={"reason": f"one of {', '.join(PauseReason.values)}"})
    counter = _lock(counter_id, user=user)
    if counter.state == CounterState.CLOSED:
        raise CounterClosed()
    if counter.state == CounterState.PAUSED:
        raise CounterPaused(_("The counter is already paused."))
    if _active_ticket(counter) is not None:
        # Issue 16: like close. A paused counter must not keep a customer walking to it.
        raise CounterBusy(PAUSE_REFUSED_MESSAGE, ways_out=PAUSE_WAYS_OUT)
    released = _release_window(counter)
    apology_zh, apology_en = apology_for(reason)
    interruption = Interruption.objects.create(
        counter=counter,
        clerk=counter.clerk,
        reason=reason,
        note=note,
        apology_zh=apology_zh,
        apology_en=apology_en,
        ticket=_active_ticket(counter),
        started_at=now,
    )
    apology_record(  # the apology log: shown on the counter display until resume or close
        hall=counter.hall,
        source=ApologySource.PAUSE,
        place=ApologyPlace.COUNTER,
        counter_id=counter.pk,
        interruption_id=interruption.pk,
        ticket_id=interruption.ticket_id,
        text_zh=apology_zh,
        text_en=apology_en,
        at=now,
    )
    counter.state, counter.state_changed_at = CounterState.PAUSED, now
    counter.save(update_fields=["state", "state_changed_at"])
    _counter_event(
        EventKind.COUNTER_PAUSED,
        counter=counter,
        actor=user,
        now=now,
        reason=reason,
        note=note,
        apology_zh=apology_zh,
        apology_en=apology_en,
        released=released,
        interruption=interruption.pk,
    )
    return interruption


@transaction.atomic
def counter_resume(*, counter_id: int, user, now: datetime.datetime | None = None) -> Counter:
    now = now or timezone.now()
    counter = _lock(counter_id, user=user)
    if counter.state != CounterState.PAUSED:
        raise InvalidTransition(_("The counter is not paused."))
    interruption = Interruption.objects.filter(counter=counter, ended_at__isnull=True).first()
    if interruption is not None:
        interruption.ended_at = now
        interruption.save(update_fields=["ended_at"])
        apology_withdraw(hall=counter.hall, interruption_id=interruption.pk, at=now)
    counter.state, counter.state_changed_at = CounterState.OPEN, now
    counter.save(update_fields=["state", "state_changed_at"])
    _counter_event(
        EventKind.COUNTER_RESUMED,
        counter=counter,
        actor=user,
        now=now,
        paused_seconds=round((now - interruption.started_at).total_seconds())
        if interruption
        else None,
    )
    return counter
