"""The slot grid of a bookable business on a day: opening days, holidays and hours.

Reads only (the settings and holidays of one hall); the booking service checks a requested slot
against this grid, and the API lists it with the places left.
"""

import datetime

from queueing.appointments.models import BookableBusiness, BookingHoliday, BookingSettings


def day_is_open(*, hall, settings: BookingSettings, date: datetime.date) -> bool:
    """Does ``hall`` take bookings on ``date``? Its opening days, less its holidays."""
    if str(date.weekday()) not in settings.open_weekdays:
        return False
    return not BookingHoliday.objects.filter(hall=hall, date=date).exists()


def _open_intervals(hall, date: datetime.date) -> list[tuple[datetime.datetime, datetime.datetime]]:
    """The hall's opening hours on ``date`` as aware [start, end) intervals, local time."""
    tz = hall.tz
    midnight = datetime.datetime.combine(date, datetime.time.min, tzinfo=tz)
    next_midnight = datetime.datetime.combine(
        date + datetime.timedelta(days=1), datetime.time.min, tzinfo=tz
    )
    opens = datetime.datetime.combine(date, hall.opens_at, tzinfo=tz)
    closes = datetime.datetime.combine(date, hall.closes_at, tzinfo=tz)
    if hall.open_all_day:
        return [(midnight, next_midnight)]
    if hall.opens_at < hall.closes_at:
        return [(opens, closes)]
    return [(midnight, closes), (opens, next_midnight)]  # hours past midnight


def slot_starts(
    *, hall, settings: BookingSettings, bookable: BookableBusiness, date: datetime.date
) -> list[datetime.datetime]:
    """Every slot start of ``date`` (aware, the hall's timezone), in order; none on a closed
    day. A slot ends within opening hours."""
    if not day_is_open(hall=hall, settings=settings, date=date):
        return []
    length = datetime.timedelta(minutes=bookable.slot_minutes)
    starts = []
    for begin, end in _open_intervals(hall, date):
        start = begin
        while start + length <= end:
            starts.append(start)
            start += length
    return starts


def bookable_window(
    *, hall, settings: BookingSettings, now: datetime.datetime
) -> tuple[datetime.datetime, datetime.date]:
    """The earliest slot start one may book now, and the last day one may book."""
    earliest = now + datetime.timedelta(minutes=settings.min_lead_minutes)
    last_day = hall.service_date(now) + datetime.timedelta(days=settings.days_ahead)
    return earliest, last_day
