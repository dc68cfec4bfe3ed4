"""Writes of appointments: phone codes, booking, cancelling, check-in, the no-show sweep.

Each public function is keyword-only and makes its change in one transaction; a refusal
(``queueing.appointments.errors``) is raised before anything is written, or rolls it back.
"""

import datetime
import hmac
import secrets

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from hall.access import ISSUE_TICKET, admit
from hall.errors import NotFound
from hall.i18n import localized_name
from hall.models import AuditEvent, Device, EventKind, Hall
from hall.outbox import task_send_on_commit
from queueing.appointments.errors import (
    AlreadyBooked,
    BookingBarred,
    BookingClosed,
    CancelTooLate,
    NotBookable,
    SlotFull,
    SlotUnavailable,
    TooEarly,
    TooManyRequests,
    VerificationFailed,
)
from queueing.appointments.models import (
    BookableBusiness,
    Booking,
    BookingSettings,
    BookingSlot,
    BookingStatus,
    PhoneVerification,
)
from queueing.appointments.slots import bookable_window, day_is_open, slot_starts
from queueing.appointments.tasks import send_phone_verification
from queueing.models import Origin, Ticket
from queueing.services import IssuedTicket, ticket_issue

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: typed at a kiosk
CODE_LENGTH = 8
VERIFICATION_TTL = datetime.timedelta(minutes=10)
VERIFICATION_RESEND_AFTER = datetime.timedelta(seconds=60)
VERIFICATIONS_PER_HOUR = 5
VERIFICATION_MAX_FAILURES = 5


def _audit(*, booking: Booking, kind: str, at: datetime.datetime, actor=None, device=None, **data):
    """The booking's audit row, in its transaction. Not a live event: displays show tickets,
    and a booking takes no place in the hall's live sequence (``seq`` stays empty)."""
    AuditEvent.objects.create(
        hall_id=booking.hall_id,
        kind=kind,
        actor=actor if getattr(actor, "pk", None) else None,
        device=device,
        ticket_id=booking.ticket_id,
        created_at=at,
        data={"booking": booking.code, "slot_start": booking.slot_start, **data},
    )


# --- Phone verification -------------------------------------------------------------------------


def phone_verification_request(
    *, hall: Hall, phone: str, now: datetime.datetime | None = None
) -> PhoneVerification:
    """A new one-time code for ``phone``, sent through the phone notice path after commit.

    Rate-limited per phone: one a minute, ``VERIFICATIONS_PER_HOUR`` an hour (429 with
    ``retry_after``)."""
    now = now or timezone.now()
    recent = list(
        PhoneVerification.objects.filter(
            phone=phone, created_at__gt=now - datetime.timedelta(hours=1)
        ).values_list("created_at", flat=True)
    )
    if recent and max(recent) > now - VERIFICATION_RESEND_AFTER:
        wait = (max(recent) + VERIFICATION_RESEND_AFTER - now).total_seconds()
        raise TooManyRequests(
            _("A code was sent moments ago: wait a minute before asking again."),
            retry_after=max(1, int(wait) + 1),
        )
    if len(recent) >= VERIFICATIONS_PER_HOUR:
        wait = (min(recent) + datetime.timedelta(hours=1) - now).total_seconds()
        raise TooManyRequests(retry_after=max(1, int(wait) + 1))
    code = f"{secrets.randbelow(10**6):06d}"
    with transaction.atomic():
        verification = PhoneVerification.objects.create(
            phone=phone, hall=hall, code=code, created_at=now, expires_at=now + VERIFICATION_TTL
        )
        task_send_on_commit(send_phone_verification, verification.pk)
    return verification


def phone_verify(*, phone: str, code: str, now: datetime.datetime | None = None) -> None:
    """Is ``code`` the phone's latest live code? Else ``VerificationFailed``; a wrong guess is
    counted (committed at once, whatever the caller does next) and a code dies after
    ``VERIFICATION_MAX_FAILURES`` of them. Call outside the caller's transaction."""
    now = now or timezone.now()
    latest = (
        PhoneVerification.objects.filter(phone=phone, expires_at__gt=now)
        .order_by("-created_at", "-pk")
        .first()
    )
    if latest is None or latest.failed_attempts >= VERIFICATION_MAX_FAILURES:
        raise VerificationFailed(fields={"verification_code": "expired or unknown"})
    if not hmac.compare_digest(latest.code, (code or "").strip()):
        PhoneVerification.objects.filter(pk=latest.pk).update(
            failed_attempts=F("failed_attempts") + 1
        )
        raise VerificationFailed(fields={"verification_code": "wrong"})
    if latest.verified_at is None:
        PhoneVerification.objects.filter(pk=latest.pk).update(verified_at=now)


# --- Booking ------------------------------------------------------------------------------------


def bookable_business(*, hall: Hall, business_type_code: str) -> BookableBusiness:
    bookable = (
        BookableBusiness.objects.select_related("business_type")
        .filter(
            business_type__hall=hall,
            business_type__code=business_type_code,
            business_type__active=True,
            active=True,
        )
        .first()
    )
    if bookable is None:
        raise NotBookable(
            _("%(code)s cannot be booked in this hall.") % {"code": business_type_code},
            fields={"business_type": "not bookable"},
        )
    return bookable


def _check_slot(
    *,
    hall: Hall,
    settings: BookingSettings,
    bookable: BookableBusiness,
    slot_start: datetime.datetime,
    now: datetime.datetime,
) -> datetime.date:
    """The slot's date if ``slot_start`` may be booked now; else ``SlotUnavailable``."""
    local = slot_start.astimezone(hall.tz)
    date = local.date()
    earliest, last_day = bookable_window(hall=hall, settings=settings, now=now)
    if slot_start < now:
        raise SlotUnavailable(_("This slot is in the past."), fields={"slot_start": "past"})
    if slot_start < earliest:
        raise SlotUnavailable(
            _("Slots must be booked at least %(minutes)s minutes ahead.")
            % {"minutes": settings.min_lead_minutes},
            fields={"slot_start": "too soon"},
        )
    if date > last_day:
        raise SlotUnavailable(
            _("Bookings open %(days)s days ahead.") % {"days": settings.days_ahead},
            fields={"slot_start": "too far ahead"},
        )
    if not day_is_open(hall=hall, settings=settings, date=date):
        raise SlotUnavailable(
            _("The hall takes no bookings on %(date)s.") % {"date": date.isoformat()},
            fields={"slot_start": "closed day"},
        )
    if local not in slot_starts(hall=hall, settings=settings, bookable=bookable, date=date):
        raise SlotUnavailable(
            _("No slot of %(name)s starts at %(time)s.")
            % {"name": localized_name(bookable.business_type), "time": local.strftime("%H:%M")},
            fields={"slot_start": "not a slot"},
        )
    return date


def _new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def booking_create(
    *,
    hall: Hall,
    business_type_code: str,
    slot_start: datetime.datetime,
    phone: str,
    verification_code: str,
    now: datetime.datetime | None = None,
) -> Booking:
    """Book a place in a slot for a verified phone.

    Lock precondition: none held before. The slot's counter row is raised by one conditional
    UPDATE (``booked < quota``), which row-locks it until commit: of two customers taking the
    last place at once the second waits, re-reads ``booked`` and updates nothing (``SlotFull``).
    One booking per phone and day is held by a partial unique constraint (``AlreadyBooked``).
    """
    now = now or timezone.now()
    bookable = bookable_business(hall=hall, business_type_code=business_type_code)
    settings = BookingSettings.for_hall(hall)
    date = _check_slot(
        hall=hall, settings=settings, bookable=bookable, slot_start=slot_start, now=now
    )
    phone_verify(phone=phone, code=verification_code, now=now)
    if settings.no_show_limit:
        since = now - datetime.timedelta(days=settings.no_show_period_days)
        missed = Booking.objects.filter(
            phone=phone, status=BookingStatus.NO_SHOW, slot_start__gte=since
        ).count()
        if missed >= settings.no_show_limit:
            raise BookingBarred()
    if Booking.objects.filter(
        hall=hall, phone=phone, service_date=date, status__in=_holding()
    ).exists():
        raise AlreadyBooked(fields={"phone": "already booked that day"})
    slot, _created = BookingSlot.objects.get_or_create(
        business_type=bookable.business_type, starts_at=slot_start
    )
    with transaction.atomic():
        taken = BookingSlot.objects.filter(pk=slot.pk, booked__lt=bookable.quota_per_slot).update(
            booked=F("booked") + 1
        )
        if taken != 1:
            raise SlotFull(fields={"slot_start": "full"})
        try:
            with transaction.atomic():
                booking = Booking.objects.create(
                    hall=hall,
                    business_type=bookable.business_type,
                    slot=slot,
                    slot_start=slot_start,
                    service_date=date,
                    phone=phone,
                    code=_new_code(),
                    created_at=now,
                )
        except IntegrityError:  # the same phone booked that day in a concurrent request
            raise AlreadyBooked(fields={"phone": "already booked that day"}) from None
        _audit(
            booking=booking,
            kind=EventKind.BOOKING_CREATED,
            at=now,
            business_type=bookable.business_type.code,
        )
    return booking


def _holding():
    return [s for s in BookingStatus if s != BookingStatus.CANCELLED]


def booking_cancel(
    *, code: str, phone: str, verification_code: str, now: datetime.datetime | None = None
) -> Booking:
    """The customer cancels their booking before the hall's deadline; the place is freed.

    Lock precondition: none held before. A compare-and-set on ``status=booked`` (one of two
    concurrent cancels wins), then the slot's counter row is lowered by one."""
    now = now or timezone.now()
    booking = Booking.objects.select_related("hall").filter(code=code.strip().upper()).first()
    if booking is None or booking.phone != phone:
        raise NotFound(_("No booking with this code for this phone."))
    phone_verify(phone=phone, code=verification_code, now=now)
    settings = BookingSettings.for_hall(booking.hall)
    if booking.status != BookingStatus.BOOKED:
        raise BookingClosed(
            _("This booking is %(status)s.") % {"status": booking.get_status_display()}
        )
    deadline = booking.slot_start - datetime.timedelta(minutes=settings.cancel_deadline_minutes)
    if now > deadline:
        raise CancelTooLate(
            _("Bookings can be cancelled up to %(minutes)s minutes before the slot.")
            % {"minutes": settings.cancel_deadline_minutes}
        )
    with transaction.atomic():
        cancelled = Booking.objects.filter(pk=booking.pk, status=BookingStatus.BOOKED).update(
            status=BookingStatus.CANCELLED, cancelled_at=now
        )
        if cancelled != 1:
            raise BookingClosed()
        BookingSlot.objects.filter(pk=booking.slot_id, booked__gt=0).update(booked=F("booked") - 1)
        booking.refresh_from_db()
        _audit(booking=booking, kind=EventKind.BOOKING_CANCELLED, at=now)
    return booking


# --- Check-in -----------------------------------------------------------------------------------


class CheckInOutcome:
    APPOINTMENT = "appointment"  # within the window: priority from the slot
    LATE_WALK_IN = "late_walk_in"  # after the window: a walk-in ticket
    EARLY_WALK_IN = "early_walk_in"  # before the window, the customer took a walk-in ticket


def check_in_window(
    *, booking: Booking, settings: BookingSettings
) -> tuple[datetime.datetime, datetime.datetime]:
    return (
        booking.slot_start - datetime.timedelta(minutes=settings.check_in_early_minutes),
        booking.slot_start + datetime.timedelta(minutes=settings.check_in_late_minutes),
    )


def _booking_to_check_in(
    *, hall: Hall, code: str, phone: str, verification_code: str, now: datetime.datetime
) -> Booking:
    """The booking named by its code, or the phone's booking of today (verified by a code)."""
    if code:
        booking = Booking.objects.filter(code=code.strip().upper()).first()
        if booking is None or booking.hall_id != hall.pk:  # another hall's code: not shown
            raise NotFound(_("No booking with this code in this hall."))
        return booking
    phone_verify(phone=phone, code=verification_code, now=now)
    booking = (
        Booking.objects.filter(hall=hall, phone=phone, service_date=hall.service_date(now))
        .exclude(status=BookingStatus.CANCELLED)
        .first()
    )
    if booking is None:
        raise NotFound(_("This phone has no booking here today."))
    return booking


def booking_check_in(
    *,
    hall: Hall,
    code: str = "",
    phone: str = "",
    verification_code: str = "",
    issued_by=None,
    device: Device | None = None,
    walk_in_if_early: bool = False,
    now: datetime.datetime | None = None,
) -> tuple[Booking, IssuedTicket, str]:
    """Turn a booking into a ticket at the kiosk or by the greeter: (booking, ticket, outcome).

    Within the hall's window (default 15 minutes before to 30 after the slot) the ticket is an
    appointment ticket whose issue time is the slot's start: the router's accumulating
    priority, and its wait, run from the slot. Later the same day it is a walk-in ticket and
    the booking says why. Earlier, ``TooEarly`` says when to come back, unless the customer
    takes a walk-in ticket now (``walk_in_if_early``).

    Lock precondition: none held before. The booking moves by compare-and-set inside the
    ticket's own transaction (``ticket_issue(within=...)``): of two check-ins of one booking
    exactly one gets a ticket; the other's ticket and number are rolled back.
    """
    now = now or timezone.now()
    admit(who=device or issued_by, hall=hall, action=ISSUE_TICKET)
    booking = _booking_to_check_in(
        hall=hall, code=code, phone=phone, verification_code=verification_code, now=now
    )
    settings = BookingSettings.for_hall(hall)
    today = hall.service_date(now)
    opens, closes = check_in_window(booking=booking, settings=settings)
    if booking.status not in (BookingStatus.BOOKED, BookingStatus.NO_SHOW):
        raise BookingClosed(
            _("This booking is %(status)s.") % {"status": booking.get_status_display()},
            status=booking.status,
        )
    if booking.service_date != today:
        if booking.service_date > today:
            raise TooEarly(
                _("This booking is for %(date)s; please come back then.")
                % {"date": booking.service_date.isoformat()},
                come_back_at=opens.astimezone(hall.tz).isoformat(),
                walk_in_offered=False,
            )
        raise BookingClosed(_("This booking was for an earlier day."), status=booking.status)
    if now < opens:
        if not walk_in_if_early:
            raise TooEarly(
                _(
                    "Check-in opens at %(time)s. You may come back then, or take a walk-in "
                    "ticket now."
                )
                % {"time": opens.astimezone(hall.tz).strftime("%H:%M")},
                come_back_at=opens.astimezone(hall.tz).isoformat(),
                walk_in_offered=True,
            )
        outcome, status = CheckInOutcome.EARLY_WALK_IN, BookingStatus.EARLY_WALK_IN
        priority_from = None
        reason = _("Came before check-in opened and took a walk-in ticket.")
    elif now > closes:
        outcome, status = CheckInOutcome.LATE_WALK_IN, BookingStatus.LATE_WALK_IN
        priority_from = None
        reason = _(
            "Arrived %(minutes)s minutes after the slot (check-in closes %(late)s minutes "
            "after it): a walk-in ticket instead."
        ) % {
            "minutes": int((now - booking.slot_start).total_seconds() // 60),
            "late": settings.check_in_late_minutes,
        }
    else:
        outcome, status = CheckInOutcome.APPOINTMENT, BookingStatus.CHECKED_IN
        priority_from, reason = booking.slot_start, ""

    def claim(ticket: Ticket) -> None:
        claimed = Booking.objects.filter(
            pk=booking.pk, status__in=(BookingStatus.BOOKED, BookingStatus.NO_SHOW)
        ).update(status=status, ticket=ticket, checked_in_at=now, reason=reason)
        if claimed != 1:  # a concurrent check-in of the same booking won
            raise BookingClosed(_("This booking was checked in already."))
        booking.status, booking.ticket, booking.checked_in_at, booking.reason = (
            status,
            ticket,
            now,
            reason,
        )
        _audit(
            booking=booking,
            kind=EventKind.BOOKING_CHECKED_IN,
            at=now,
            actor=issued_by,
            device=device,
            outcome=outcome,
            number=ticket.number,
        )

    issued = ticket_issue(
        hall=hall,
        business_type_code=booking.business_type.code,
        phone=booking.phone,
        issued_by=issued_by,
        device=device,
        now=now,
        origin=Origin.APPOINTMENT if outcome == CheckInOutcome.APPOINTMENT else None,
        priority_from=priority_from,
        within=claim,
    )
    return booking, issued, outcome
