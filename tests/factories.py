"""Helpers to build ticket histories quickly through the real services."""

import datetime

from django.utils import timezone

from counters.models import Counter
from hall.models import BusinessType, Hall
from hall.services import hall_create
from queueing.services import ticket_issue

ALL_DAY = (datetime.time(0, 0), datetime.time(0, 0))  # equal times: open all day
OFFICE_HOURS = (datetime.time(8, 30), datetime.time(18, 0))


def payment_hall(
    code: str,
    name: str,
    *,
    timezone_name: str = "Asia/Shanghai",
    hours: tuple[datetime.time, datetime.time] = ALL_DAY,
    counters: int = 1,
) -> Hall:
    """A hall with one business type, payment (prefix A), and ``counters`` counters for it."""
    hall = hall_create(
        code=code, name=name, timezone_name=timezone_name, opens_at=hours[0], closes_at=hours[1]
    )
    payment = BusinessType.objects.create(
        hall=hall, code="payment", prefix="A", name_zh="缴费", name_en="Bill payment"
    )
    for number in range(1, counters + 1):
        Counter.objects.create(hall=hall, number=number).business_types.set([payment])
    return hall


def issue(hall, code="payment", *, by=None, device=None, lane=None, reason="", at=None, **kw):
    """Issue a ticket through the service; returns the Ticket."""
    return ticket_issue(
        hall=hall,
        business_type_code=code,
        lane=lane,
        priority_reason=reason,
        issued_by=by,
        device=device,
        now=at,
        **kw,
    ).ticket


def minutes_ago(minutes: float, now=None) -> datetime.datetime:
    return (now or timezone.now()) - datetime.timedelta(minutes=minutes)
