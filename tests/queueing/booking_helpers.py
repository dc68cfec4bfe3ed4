"""Shared set-up of the appointment tests: a bookable business and a verified phone."""

import datetime
import zoneinfo

from queueing.appointments.models import BookableBusiness
from queueing.appointments.services import phone_verification_request

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
# A Monday morning in the test hall's timezone.
MONDAY_9 = datetime.datetime(2026, 12, 7, 9, 0, tzinfo=SHANGHAI)
ALICE = "13800000001"
BOB = "13800000002"


def at(day_offset: int, hour: int, minute: int = 0) -> datetime.datetime:
    return MONDAY_9.replace(hour=hour, minute=minute) + datetime.timedelta(days=day_offset)


def make_bookable(hall, code="service", *, quota=2, slot_minutes=30) -> BookableBusiness:
    business_type = hall.business_types.get(code=code)
    return BookableBusiness.objects.create(
        business_type=business_type, quota_per_slot=quota, slot_minutes=slot_minutes
    )


def verified_code(hall, phone, *, now=MONDAY_9) -> str:
    """A fresh one-time code for ``phone`` (read from its row, as the customer reads the SMS)."""
    return phone_verification_request(hall=hall, phone=phone, now=now).code
