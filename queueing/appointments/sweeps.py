"""The no-show sweep: bookings whose check-in window closed unused (run by Celery beat)."""

import datetime

from django.db import transaction
from django.utils import timezone

from hall.models import AuditEvent, EventKind, Hall
from queueing.appointments.models import Booking, BookingSettings, BookingStatus


def bookings_mark_no_shows(*, hall: Hall, now: datetime.datetime | None = None) -> int:
    """Mark the hall's bookings whose check-in window has closed unused as no-shows.

    Idempotent (a compare-and-set on ``status=booked``); run by Celery beat. A no-show still
    checks in the same day as a walk-in. Returns how many were marked."""
    now = now or timezone.now()
    settings = BookingSettings.for_hall(hall)
    cutoff = now - datetime.timedelta(minutes=settings.check_in_late_minutes)
    with transaction.atomic():
        missed = list(
            Booking.objects.select_for_update()
            .filter(hall=hall, status=BookingStatus.BOOKED, slot_start__lt=cutoff)
            .only("pk", "code", "slot_start", "hall_id", "ticket_id")
        )
        if not missed:
            return 0
        Booking.objects.filter(pk__in=[b.pk for b in missed]).update(status=BookingStatus.NO_SHOW)
        AuditEvent.objects.bulk_create(
            AuditEvent(
                hall=hall,
                kind=EventKind.BOOKING_NO_SHOW,
                created_at=now,
                data={"booking": b.code, "slot_start": b.slot_start},
            )
            for b in missed
        )
    return len(missed)
