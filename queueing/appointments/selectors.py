"""Reads of appointments: the bookable businesses of a hall and a day's slots with places left."""

import datetime

from django.utils import timezone

from hall.models import Hall
from queueing.appointments.models import BookableBusiness, BookingSettings, BookingSlot
from queueing.appointments.slots import bookable_window, slot_starts


def bookable_businesses(*, hall: Hall) -> list[BookableBusiness]:
    return list(
        BookableBusiness.objects.select_related("business_type")
        .filter(business_type__hall=hall, business_type__active=True, active=True)
        .order_by("business_type__sort_order", "business_type__code")
    )


def free_slots(
    *,
    hall: Hall,
    bookable: BookableBusiness,
    date: datetime.date,
    now: datetime.datetime | None = None,
) -> list[dict]:
    """The slots of ``date`` one may book now, each ``{"starts_at", "ends_at", "free"}``: none on
    a closed day, before the minimum notice or beyond the days ahead."""
    now = now or timezone.now()
    settings = BookingSettings.for_hall(hall)
    earliest, last_day = bookable_window(hall=hall, settings=settings, now=now)
    if date > last_day:
        return []
    starts = [
        s
        for s in slot_starts(hall=hall, settings=settings, bookable=bookable, date=date)
        if s >= earliest
    ]
    if not starts:
        return []
    taken = dict(
        BookingSlot.objects.filter(
            business_type=bookable.business_type,
            starts_at__gte=starts[0],
            starts_at__lte=starts[-1],
        ).values_list("starts_at", "booked")
    )
    length = datetime.timedelta(minutes=bookable.slot_minutes)
    return [
        {
            "starts_at": start,
            "ends_at": start + length,
            "free": max(bookable.quota_per_slot - taken.get(start, 0), 0),
        }
        for start in starts
    ]
