"""Reads about counters: the list for a hall, a counter's open interruption, and what the clerk
console shows (the window, the phrases, today's count, the waiting tickets, transfer targets)."""

import datetime
from dataclasses import dataclass, field

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from counters.models import Counter, CounterState, Interruption
from hall.access import ACT_AT_COUNTER, admit_to_hall_of
from hall.models import AuditEvent, BusinessType, EventKind, Hall, PhraseStep, StandardPhrase
from queueing import router
from queueing.models import ACTIVE_STATUSES, PriorityReason, Slot, Status, Ticket
from queueing.selectors import counter_window

# Customers the clerk must help actively and explain to patiently (主动搀扶、耐心解释).
NEEDS_HELP = (PriorityReason.ELDERLY, PriorityReason.DISABLED)


def hall_counters(*, hall):
    return (
        Counter.objects.filter(hall=hall)
        .select_related("clerk")
        .prefetch_related("business_types")
        .order_by("number")
    )


def counter_admission(*, counter_id: int, user) -> tuple[Hall, str]:
    """The counter's hall and the role with which ``user`` may act there
    (``hall.access.ACT_AT_COUNTER``); 404 for no such counter. The rule alone; whether a clerk is
    signed in at this very counter is the counter action's to say (counters.services)."""
    rows = Counter.objects.filter(pk=counter_id)
    return admit_to_hall_of(rows, who=user, action=ACT_AT_COUNTER, missing=_("No such counter."))


def counter_interruption(*, counter: Counter) -> Interruption | None:
    return Interruption.objects.filter(counter=counter, ended_at__isnull=True).first()


def clerk_counter(*, user, hall) -> Counter | None:
    """The counter of ``hall`` the user is signed in at, if any."""
    if not getattr(user, "pk", None):
        return None
    return Counter.objects.filter(hall=hall, clerk=user).first()


# --- standard phrases ----------------------------------------------------------------------


def standard_phrases(*, hall, step: str, business_type: BusinessType | None = None) -> list[str]:
    """The phrases for ``step``: the business type's own, else the hall-wide ones."""
    phrases = StandardPhrase.objects.filter(hall=hall, step=step)
    if business_type is not None:
        own = [p.text for p in phrases.filter(business_type=business_type)]
        if own:
            return own
    return [p.text for p in phrases.filter(business_type__isnull=True)]


# --- transfer targets ----------------------------------------------------------------------


@dataclass(frozen=True)
class TransferTargets:
    business_types: list[BusinessType] = field(default_factory=list)
    counters: list[Counter] = field(default_factory=list)


def transfer_targets(*, counter: Counter, ticket: Ticket) -> TransferTargets:
    """Where ``counter`` may transfer ``ticket``: exactly what ``counter_transfer`` accepts.

    Mirrors its refusals one by one (tests/counters/test_transfer_targets.py holds the two
    together). To a business type: an active type of the hall, not the ticket's own, that some
    other counter serves (a VIP-only one only for a VIP ticket), whatever that counter's state.
    To a counter (keeping the business type): another counter of the hall, not closed, that
    serves the ticket's business type and is not VIP-only unless the ticket is VIP.
    """
    vip_only_excluded = ticket.lane != router.Lane.VIP  # a VIP-only counter would never call it
    other_servers = Counter.objects.filter(business_types=OuterRef("pk")).exclude(pk=counter.pk)
    if vip_only_excluded:
        other_servers = other_servers.exclude(vip_mode=router.VipMode.VIP_ONLY)
    types = (
        BusinessType.objects.filter(hall_id=counter.hall_id, active=True)
        .exclude(pk=ticket.business_type_id)
        .filter(Exists(other_servers))
        .order_by("sort_order", "prefix")
    )
    counters = (
        Counter.objects.filter(hall_id=counter.hall_id, business_types=ticket.business_type_id)
        .exclude(pk=counter.pk)
        .exclude(state=CounterState.CLOSED)
        .order_by("number")
    )
    if vip_only_excluded:
        counters = counters.exclude(vip_mode=router.VipMode.VIP_ONLY)
    return TransferTargets(business_types=list(types), counters=list(counters))


# --- the console ---------------------------------------------------------------------------

WAITING_SHOWN = 6


def counter_waiting(*, counter: Counter) -> tuple[list[Ticket], int]:
    """The waiting tickets ``counter`` may call, in issue order (at most ``WAITING_SHOWN``), and
    how many there are. As the router sees them: its business types, not pinned to another
    counter, VIP only at a VIP-only counter, not greeted at another counter unless that counter
    is busy and the hall lets the greeting bind the order rather than the counter (issue 16: a
    free counter takes a busy one's promise). Its own greeted and attended tickets are shown
    apart, in its window, so they are left out here. ``counter.hall`` loaded."""
    slots = Q(window_slot__isnull=True) | Q(window_slot=Slot.ATTENDED)
    if not counter.hall.greeting_binds_counter:
        busy = Ticket.objects.filter(counter=OuterRef("window_counter"), status__in=ACTIVE_STATUSES)
        slots |= Q(window_slot=Slot.GREETED) & Exists(busy)
    waiting = (
        Ticket.objects.filter(
            hall_id=counter.hall_id,
            status=Status.WAITING,
            business_type__in=counter.business_types.all(),
        )
        .filter(Q(pinned_counter__isnull=True) | Q(pinned_counter=counter.pk))
        .filter(slots)
        .exclude(window_counter=counter.pk)
    )
    if counter.vip_mode == router.VipMode.VIP_ONLY:
        waiting = waiting.filter(lane=router.Lane.VIP)
    shown = list(
        waiting.select_related("business_type").order_by("issued_at", "id")[:WAITING_SHOWN]
    )
    total = len(shown) if len(shown) < WAITING_SHOWN else waiting.count()
    return shown, total


def served_today(*, counter: Counter, clerk, now: datetime.datetime | None = None) -> dict:
    """Tickets finished today (the hall's service day) by ``clerk`` and at ``counter``."""
    done = Ticket.objects.filter(
        hall_id=counter.hall_id,
        service_date=counter.hall.service_date(now or timezone.now()),
        status=Status.DONE,
    )
    return {
        "clerk": done.filter(clerk=clerk).count() if getattr(clerk, "pk", None) else 0,
        "counter": done.filter(counter=counter).count(),
    }


def just_finished(*, counter: Counter) -> Ticket | None:
    """The ticket the counter finished last, if finishing it is the counter's latest event: the
    clerk is seeing the customer off ("请您慢走")."""
    last = (
        AuditEvent.objects.filter(hall_id=counter.hall_id, counter_id=counter.pk)
        .order_by("-id")
        .values("kind", "ticket_id")
        .first()
    )
    if last is None or last["kind"] != EventKind.TICKET_DONE:
        return None
    return Ticket.objects.select_related("business_type").filter(pk=last["ticket_id"]).first()


@dataclass
class ConsoleState:
    counter: Counter
    interruption: Interruption | None
    active: Ticket | None
    greeted: Ticket | None
    attended: Ticket | None
    finished: Ticket | None
    step: str | None
    phrases: list[str]
    resume_phrases: list[str]
    served: dict
    waiting: list[Ticket]
    waiting_total: int

    @property
    def recall_limit(self) -> int:
        return self.counter.hall.recall_limit

    @property
    def suggest_no_show(self) -> bool:
        return self.active is not None and self.active.recall_count >= self.recall_limit

    @property
    def needs_help(self) -> bool:
        return self.active is not None and self.active.priority_reason in NEEDS_HELP

    @property
    def actions(self) -> dict[str, bool]:
        """Which actions apply now. The server still refuses a raced one with its message."""
        state, active = self.counter.state, self.active
        is_open = state == CounterState.OPEN
        called = active is not None and active.status == Status.CALLED
        serving = active is not None and active.status == Status.SERVING
        return {
            "open": state == CounterState.CLOSED,
            "call-next": is_open and active is None,
            "recall": is_open and called,
            "start": is_open and called,
            "finish": serving,
            "no-show": called,
            "transfer": active is not None,
            # Issue 16: back to the front of the queue; a pause is refused while anyone is
            # called or served here, so the console offers it only when nobody is.
            "requeue": active is not None,
            "pause": is_open and active is None,
            "resume": state == CounterState.PAUSED,
            "close": state != CounterState.CLOSED and active is None,
        }


def console_state(*, counter: Counter, user, now: datetime.datetime | None = None) -> ConsoleState:
    """Everything the clerk console shows for ``counter`` (``counter.hall`` loaded)."""
    window = counter_window(counter=counter)
    active = window["active"]
    finished = None if active is not None else just_finished(counter=counter)
    if active is not None:
        step = PhraseStep.GREET if active.status == Status.CALLED else PhraseStep.CONFIRM
        subject = active
    elif finished is not None:
        step, subject = PhraseStep.CLOSE, finished
    else:
        step, subject = None, None
    phrases = (
        standard_phrases(hall=counter.hall, step=step, business_type=subject.business_type)
        if step
        else []
    )
    paused = counter.state == CounterState.PAUSED
    waiting, waiting_total = counter_waiting(counter=counter)
    return ConsoleState(
        counter=counter,
        interruption=counter_interruption(counter=counter) if paused else None,
        active=active,
        greeted=window["greeted"],
        attended=window["attended"],
        finished=finished,
        step=step,
        phrases=phrases,
        resume_phrases=standard_phrases(hall=counter.hall, step=PhraseStep.RESUME)
        if paused
        else [],
        served=served_today(counter=counter, clerk=counter.clerk or user, now=now),
        waiting=waiting,
        waiting_total=waiting_total,
    )
