"""Writes for tickets that do not belong to one counter: issuing, cancelling, closing a day."""

import datetime
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F, OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from counters.models import VipMode
from hall.access import HANDLE_TICKET, ISSUE_TICKET, Refused, admit
from hall.errors import (
    BusinessTypeSuspended,
    BusinessTypeUnavailable,
    HallClosed,
    InvalidInput,
    InvalidTransition,
    TransferRefused,
)
from hall.events import hall_reset_notify
from hall.i18n import in_english, localized_name
from hall.models import (
    AuditEvent,
    BusinessType,
    Device,
    EventKind,
    Hall,
    Incident,
    IncidentMode,
    Role,
)
from hall.services import event_record, event_seq_take, hall_lock
from hall.statements import PLACEHOLDER_ID, PLACEHOLDER_TEXT, PLACEHOLDER_TIME, Statement
from queueing.estimates import board_cached, new_ticket_estimate
from queueing.models import (
    OPEN_STATUSES,
    PRIORITY_LANE_REASONS,
    SELF_DECLARABLE_REASONS,
    Lane,
    Origin,
    PriorityReason,
    Status,
    Ticket,
)
from queueing.numbering import format_number, next_sequence
from queueing.selectors import serving_counters, waiting_count
from queueing.wait_words import with_wait


@dataclass
class IssuedTicket:
    """The new ticket, the people ahead and (``queueing.wait_words.with_wait``) its estimated
    wait: ``estimated_wait`` (a ``forecast.Wait`` or None), ``estimated_wait_s``, the bands."""

    ticket: Ticket
    people_ahead: int


def _resolve_lane(*, lane: str | None, reason: str, vip_account: str) -> tuple[str, str]:
    """Lane and reason, checked together; the lane may be implied by the reason."""
    if not lane:
        if reason == PriorityReason.VIP or vip_account:
            lane = Lane.VIP
        elif reason:
            lane = Lane.PRIORITY
        else:
            lane = Lane.NORMAL
    if lane == Lane.NORMAL and reason:
        raise InvalidInput(
            _("A normal ticket has no priority reason."), fields={"priority_reason": "not allowed"}
        )
    if lane == Lane.PRIORITY and reason not in PRIORITY_LANE_REASONS:
        raise InvalidInput(
            _("The priority lane needs a reason: elderly, disabled, pregnant or military."),
            fields={"priority_reason": "required"},
        )
    if lane == Lane.VIP:
        if reason not in ("", PriorityReason.VIP):
            raise InvalidInput(
                _("A VIP ticket takes no other priority reason."),
                fields={"priority_reason": "not allowed"},
            )
        reason = PriorityReason.VIP
    return lane, reason


def _suspending_incident():
    """The oldest open incident that makes the outer business type unavailable (a subquery of
    the business type's own query, so issuing costs no extra query for it)."""
    return (
        Incident.objects.filter(
            hall=OuterRef("hall"), resolved_at__isnull=True, mode=IncidentMode.UNAVAILABLE
        )
        .filter(Q(affects_all=True) | Q(business_types=OuterRef("pk")))
        .order_by("opened_at", "pk")
        .values("pk")[:1]
    )


def _issue_read(*, hall_id: int, code: str, now: datetime.datetime):
    """The business type an issue is for, with its fault, people ahead and counters."""
    return (
        BusinessType.objects.filter(hall_id=hall_id, code=code, active=True)
        .annotate(
            suspended_by=Subquery(_suspending_incident()),
            ahead=waiting_count(before=now),
            **serving_counters(),
        )
        .order_by()[:1]
    )


# One query, compiled once per process (hall.statements): building it cost more than running it.
_ISSUE_READ = Statement(
    _issue_read, hall_id=PLACEHOLDER_ID, code=PLACEHOLDER_TEXT, now=PLACEHOLDER_TIME
)


def _refuse_suspended(business_type: BusinessType) -> None:
    incident = Incident.objects.get(pk=business_type.suspended_by)
    apology = incident.apology_en if in_english() else incident.apology_zh
    raise BusinessTypeSuspended(
        _("%(name)s is temporarily unavailable. %(apology)s")
        % {"name": localized_name(business_type), "apology": apology},
        fields={"business_type": "temporarily unavailable"},
        incident=incident.pk,
    )


def ticket_issue(
    *,
    hall: Hall,
    business_type_code: str,
    lane: str | None = None,
    priority_reason: str = "",
    phone: str = "",
    vip_account: str = "",
    issued_by=None,
    device: Device | None = None,
    override_hours: bool = False,
    now: datetime.datetime | None = None,
    origin: str | None = None,
    priority_from: datetime.datetime | None = None,
    within: Callable[[Ticket], None] | None = None,
) -> IssuedTicket:
    """Issue a ticket for a kiosk device or a staff member (greeter, clerk, manager).

    No lock is needed: the number comes from one UPSERT (see numbering) and the new ticket
    concerns no counter until one calls it.

    An appointment's check-in (``queueing.appointments``) passes ``origin`` (appointment),
    ``priority_from`` (the slot's start: the ticket's issue time, so the router's accumulating
    priority and its wait run from the slot, not from the check-in) and ``within``, called with
    the new ticket inside this transaction (the booking's own compare-and-set; raising there
    undoes the ticket and its number).
    """
    now = now or timezone.now()
    role = admit(who=device or issued_by, hall=hall, action=ISSUE_TICKET)
    origin = origin or (Origin.KIOSK if device is not None else Origin.GREETER)

    business_type = _ISSUE_READ.first(hall_id=hall.pk, code=business_type_code, now=now)
    if business_type is None:
        raise BusinessTypeUnavailable(
            _("Unknown or inactive business type: %(code)s") % {"code": business_type_code},
            fields={"business_type": "unavailable"},
        )
    servers = business_type.staffed or business_type.total  # open or paused, else configured
    if servers == 0:
        raise BusinessTypeUnavailable(
            _("No counter in this hall serves %(name)s.") % {"name": localized_name(business_type)},
            fields={"business_type": "no counter serves it"},
        )
    if business_type.suspended_by is not None:
        _refuse_suspended(business_type)
    if override_hours and role != Role.MANAGER:
        raise Refused(_("Only a manager may issue outside opening hours."))
    if not hall.is_open_at(now) and not override_hours:
        raise HallClosed(
            _("The hall is open from %(opens)s to %(closes)s.")
            % {"opens": hall.opens_at.strftime("%H:%M"), "closes": hall.closes_at.strftime("%H:%M")}
        )

    vip_account = vip_account.strip()
    lane, priority_reason = _resolve_lane(
        lane=lane, reason=priority_reason or "", vip_account=vip_account
    )
    self_declared = False
    if device is not None:
        if lane == Lane.VIP and not vip_account:
            raise InvalidInput(
                _("A VIP ticket needs a VIP account number or a greeter."),
                fields={"vip_account": "required for VIP at a kiosk"},
            )
        if lane == Lane.PRIORITY:
            if priority_reason not in SELF_DECLARABLE_REASONS:
                raise InvalidInput(
                    _(
                        "At the kiosk, priority is for elderly or disabled customers; "
                        "a greeter can help with other reasons."
                    ),
                    fields={"priority_reason": "ask a greeter"},
                )
            self_declared = True

    # Read before any lock: the hall's latest board (display.board computes it after commit),
    # for this ticket's estimate. Never a forecast, a cache call or a whole-hall read inside.
    board = board_cached(hall_id=hall.pk)
    with transaction.atomic():
        service_date = hall.service_date(now)
        sequence = next_sequence(
            hall_id=hall.pk, prefix=business_type.prefix, service_date=service_date
        )
        ticket = Ticket.objects.create(
            hall=hall,
            business_type=business_type,
            prefix=business_type.prefix,
            sequence=sequence,
            number=format_number(business_type.prefix, sequence),
            service_date=service_date,
            lane=lane,
            priority_reason=priority_reason,
            self_declared=self_declared,
            vip_account=vip_account,
            issued_at=priority_from or now,
            origin=origin,
            phone=phone,
            public_token=secrets.token_urlsafe(16),
            issued_by=issued_by if device is None else None,
            device=device,
        )
        event_record(
            hall=hall,
            kind=EventKind.TICKET_ISSUED,
            actor=issued_by,
            device=device,
            ticket=ticket,
            data={
                "number": ticket.number,
                "business_type": business_type.code,
                "lane": lane,
                "priority_reason": priority_reason,
                "origin": origin,
                "self_declared": self_declared,
            },
            at=now,
        )
        if within is not None:
            within(ticket)
    return with_wait(
        IssuedTicket(ticket=ticket, people_ahead=business_type.ahead),
        new_ticket_estimate(
            board=board,
            business_type=business_type,
            lane=lane,
            ahead=business_type.ahead,
            servers=servers,
        ),
        counters_open=business_type.counters_open,
    )


def ticket_cancel(*, ticket: Ticket, actor, reason: str = "") -> Ticket:
    """A greeter or manager cancels a waiting ticket (the customer left or asked to).

    Locks the ticket row; a ticket that a counter has already called cannot be cancelled here.
    """
    admit(who=actor, hall=ticket.hall, action=HANDLE_TICKET)
    with transaction.atomic():
        hall_lock(hall_id=ticket.hall_id)  # the ticket may sit in a counter's window
        window_counter_id = (
            Ticket.objects.filter(pk=ticket.pk).values_list("window_counter_id", flat=True).first()
        )
        updated = Ticket.objects.filter(pk=ticket.pk, status=Status.WAITING).update(
            status=Status.CANCELLED,
            finished_at=timezone.now(),
            window_counter=None,
            window_slot=None,
            note=reason,
        )
        if updated != 1:
            raise InvalidTransition(_("Only a waiting ticket can be cancelled."))
        ticket.refresh_from_db()
        event_record(
            hall=ticket.hall,
            kind=EventKind.TICKET_CANCELLED,
            actor=actor,
            ticket=ticket,
            data={
                "number": ticket.number,
                "reason": reason,
                "window_counter_id": window_counter_id,
            },
        )
    return ticket


def transfer_business_type(*, hall_id: int, code: str) -> BusinessType:
    """The active business type ``code`` of the hall a ticket is transferred to, else refused.
    The one copy for the greeter's and the counter's transfer (counters.services)."""
    business_type = BusinessType.objects.filter(hall_id=hall_id, code=code, active=True).first()
    if business_type is None:
        raise TransferRefused(
            _("Unknown or inactive business type: %(code)s") % {"code": code},
            fields={"business_type": "unavailable"},
        )
    return business_type


def transfer_check(*, ticket: Ticket, business_type: BusinessType, from_counter=None) -> None:
    """May ``ticket`` move to ``business_type``? Not to its own, and only if some counter
    (other than ``from_counter``, the one transferring it) could ever call it."""
    if business_type.pk == ticket.business_type_id:
        raise TransferRefused(
            _("The ticket is already for %(name)s.") % {"name": localized_name(business_type)},
            fields={"business_type": "same business type"},
        )
    servers = business_type.counters.all()
    if from_counter is not None:
        servers = servers.exclude(pk=from_counter.pk)
    if ticket.lane != Lane.VIP:  # a VIP-only counter would never call it
        servers = servers.exclude(vip_mode=VipMode.VIP_ONLY)
    if not servers.exists():
        name = {"name": localized_name(business_type)}
        message = (
            _("No counter handles %(name)s.")
            if from_counter is None
            else _("No other counter handles %(name)s.")
        )
        raise TransferRefused(message % name, fields={"business_type": "no counter serves it"})


def ticket_transfer(*, ticket: Ticket, business_type_code: str, actor, reason: str = "") -> Ticket:
    """Move a waiting ticket to another business type (the greeter sent the customer to the
    wrong queue, or the customer changed their mind).

    The customer keeps their place: the issue time stays, and so does the number, as with a
    counter's transfer (the number is what the customer holds on paper). A greeted or attended
    window slot goes back to the pool with the ticket's issue time (DESIGN invariant 3), and a
    pin to a counter is cleared: the new business type decides who may call it.

    Lock precondition: the hall row (the ticket may sit in a counter's window, which the counter
    actions rewrite under that lock), then a compare-and-set on ``status=waiting``.
    """
    admit(who=actor, hall=ticket.hall, action=HANDLE_TICKET)
    business_type = transfer_business_type(hall_id=ticket.hall_id, code=business_type_code)
    with transaction.atomic():
        hall_lock(hall_id=ticket.hall_id)
        previous = Ticket.objects.select_related("business_type").filter(pk=ticket.pk).first()
        if previous is None or previous.status != Status.WAITING:
            raise InvalidTransition(_("Only a waiting ticket can be transferred here."))
        transfer_check(ticket=previous, business_type=business_type)
        updated = Ticket.objects.filter(pk=ticket.pk, status=Status.WAITING).update(
            business_type=business_type,
            window_counter=None,
            window_slot=None,
            pinned_counter=None,
            transfer_count=F("transfer_count") + 1,
        )
        if updated != 1:  # impossible under the hall lock; refuse rather than guess
            raise InvalidTransition(_("Only a waiting ticket can be transferred here."))
        ticket.refresh_from_db()
        event_record(
            hall=ticket.hall,
            kind=EventKind.TICKET_TRANSFERRED,
            actor=actor,
            ticket=ticket,
            data={
                "number": ticket.number,
                "previous": {
                    "business_type": previous.business_type.code,
                    "status": Status.WAITING,
                    "window_slot": previous.window_slot,
                    "pinned_counter_id": previous.pinned_counter_id,
                },
                "business_type": business_type.code,
                "to_counter": None,
                "reason": reason,
                # The counter whose window the ticket left: its display changes (touched).
                "window_counter_id": previous.window_counter_id,
            },
        )
    return ticket


def day_close(*, hall: Hall, now: datetime.datetime | None = None, force: bool = False) -> int:
    """Expire what is left of past service days, and of today once the hall has closed.

    Idempotent: run it as often as you like (Celery beat runs it every 15 minutes). Returns the
    number of tickets expired. Tickets still being served today are left to their clerk; from
    a past day nothing is left open. One audit event per expired ticket.
    """
    now = now or timezone.now()
    today = hall.service_date(now)
    closed_for_today = force or (
        hall.opens_at < hall.closes_at and hall.local_now(now).time() >= hall.closes_at
    )
    leftovers = Q(service_date__lt=today, status__in=OPEN_STATUSES)
    if closed_for_today:
        leftovers |= Q(service_date=today, status__in=(Status.WAITING, Status.CALLED))
    with transaction.atomic():
        # The hall lock first, as the counter actions take it: they rewrite windows of these
        # tickets, and a different lock order could deadlock with them.
        hall_lock(hall_id=hall.pk)
        tickets = list(
            Ticket.objects.select_for_update()
            .filter(leftovers, hall=hall)
            .only("pk", "number", "status", "service_date")
        )
        if not tickets:
            return 0
        Ticket.objects.filter(pk__in=[t.pk for t in tickets]).update(
            status=Status.EXPIRED, finished_at=now, window_counter=None, window_slot=None
        )
        # One event per ticket, each with its own seq; displays get one "hall.reset" instead
        # of hundreds of messages, and re-read their snapshot.
        last_seq = event_seq_take(hall_id=hall.pk, count=len(tickets))
        first_seq = last_seq - len(tickets) + 1
        AuditEvent.objects.bulk_create(
            AuditEvent(
                hall=hall,
                kind=EventKind.TICKET_EXPIRED,
                ticket_id=t.pk,
                created_at=now,
                data={"number": t.number, "was": t.status, "service_date": t.service_date},
                seq=first_seq + i,
            )
            for i, t in enumerate(tickets)
        )
        hall_reset_notify(hall_id=hall.pk, seq=last_seq, reason="day.closed")
    return len(tickets)
