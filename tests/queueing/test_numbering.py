"""Ticket numbers: prefix + sequence per hall, prefix and the hall's LOCAL service date."""

import datetime
import zoneinfo

import pytest
import time_machine
from django.db import IntegrityError, transaction

from hall.services import device_register
from queueing.models import Ticket, TicketSequence
from tests.factories import issue, payment_hall

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
NEW_YORK = zoneinfo.ZoneInfo("America/New_York")


def _local(tz, *args) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=tz)


@pytest.fixture
def new_york_hall(db):
    """A hall whose midnight falls at a different UTC instant than Shanghai's."""
    hall = payment_hall("nyc", "New York hall", timezone_name="America/New_York")
    hall.kiosk, _ = device_register(hall=hall, kind="kiosk", name="NY kiosk")
    return hall


def _issue_in_new_york(hall):
    return issue(hall, "payment", device=hall.kiosk)


def test_numbers_count_up_per_prefix_within_a_hall(hall, greeter):
    numbers = [
        issue(hall, "payment", by=greeter).number,
        issue(hall, "payment", by=greeter).number,
        issue(hall, "topup", by=greeter).number,
        issue(hall, "payment", by=greeter).number,
        issue(hall, "service", by=greeter).number,
    ]
    assert numbers == ["A001", "A002", "B001", "A003", "C001"]


def test_each_hall_has_its_own_sequence(hall, other_hall, greeter, other_kiosk):
    first = issue(hall, "payment", by=greeter)
    second = issue(hall, "payment", by=greeter)
    elsewhere = issue(other_hall, "payment", device=other_kiosk)
    assert (first.number, second.number) == ("A001", "A002")
    assert elsewhere.number == "A001"
    assert elsewhere.service_date == first.service_date


def test_ticket_records_prefix_sequence_and_the_halls_local_date(hall, greeter):
    # 16:30 UTC on the 14th is already 00:30 on the 15th in Shanghai.
    with time_machine.travel(datetime.datetime(2025, 3, 14, 16, 30, tzinfo=datetime.UTC)):
        ticket = issue(hall, "topup", by=greeter)
    assert (ticket.prefix, ticket.sequence, ticket.number) == ("B", 1, "B001")
    assert ticket.service_date == datetime.date(2025, 3, 15)


def test_numbering_restarts_at_the_halls_local_midnight(hall, greeter):
    with time_machine.travel(_local(SHANGHAI, 2025, 3, 14, 23, 59, 59, 900000), tick=False) as t:
        before = [issue(hall, "payment", by=greeter) for _ in range(2)]
        t.move_to(_local(SHANGHAI, 2025, 3, 15, 0, 0, 0, 100000))
        after = [issue(hall, "payment", by=greeter) for _ in range(2)]

    assert [x.number for x in before] == ["A001", "A002"]
    assert {x.service_date for x in before} == {datetime.date(2025, 3, 14)}
    assert [x.number for x in after] == ["A001", "A002"]
    assert {x.service_date for x in after} == {datetime.date(2025, 3, 15)}


def test_a_shanghai_midnight_does_not_reset_a_hall_in_another_timezone(
    hall, greeter, new_york_hall
):
    with time_machine.travel(_local(SHANGHAI, 2025, 3, 14, 23, 59, 59, 900000), tick=False) as t:
        ny_before = _issue_in_new_york(new_york_hall)
        sh_before = issue(hall, "payment", by=greeter)
        t.move_to(_local(SHANGHAI, 2025, 3, 15, 0, 0, 0, 100000))
        ny_after = _issue_in_new_york(new_york_hall)
        sh_after = issue(hall, "payment", by=greeter)

    # Shanghai rolled over; New York is still in the middle of its 14 March (12:00 EDT).
    assert (sh_before.number, sh_after.number) == ("A001", "A001")
    assert sh_after.service_date == datetime.date(2025, 3, 15)
    assert (ny_before.number, ny_after.number) == ("A001", "A002")
    assert ny_before.service_date == ny_after.service_date == datetime.date(2025, 3, 14)


def test_a_hall_in_new_york_restarts_at_new_york_midnight(hall, greeter, new_york_hall):
    with time_machine.travel(_local(NEW_YORK, 2025, 3, 14, 23, 59, 59, 900000), tick=False) as t:
        ny_before = [_issue_in_new_york(new_york_hall) for _ in range(2)]
        sh_before = issue(hall, "payment", by=greeter)
        t.move_to(_local(NEW_YORK, 2025, 3, 15, 0, 0, 0, 100000))
        ny_after = _issue_in_new_york(new_york_hall)
        sh_after = issue(hall, "payment", by=greeter)

    assert [x.number for x in ny_before] == ["A001", "A002"]
    assert {x.service_date for x in ny_before} == {datetime.date(2025, 3, 14)}
    assert ny_after.number == "A001"
    assert ny_after.service_date == datetime.date(2025, 3, 15)
    # New York's midnight is 12:00 in Shanghai: the Shanghai hall just carries on.
    assert (sh_before.number, sh_after.number) == ("A001", "A002")
    assert sh_before.service_date == sh_after.service_date == datetime.date(2025, 3, 15)


def test_numbers_past_999_keep_growing(hall, greeter):
    first = issue(hall, "payment", by=greeter)
    TicketSequence.objects.filter(hall=hall, prefix="A", service_date=first.service_date).update(
        last_value=998
    )
    assert issue(hall, "payment", by=greeter).number == "A999"
    thousandth = issue(hall, "payment", by=greeter)
    assert (thousandth.number, thousandth.sequence) == ("A1000", 1000)
    assert issue(hall, "payment", by=greeter).number == "A1001"


def test_the_unique_constraint_refuses_a_duplicate_number(hall, greeter):
    ticket = issue(hall, "payment", by=greeter)
    with pytest.raises(IntegrityError), transaction.atomic():
        Ticket.objects.create(
            hall=hall,
            business_type=ticket.business_type,
            prefix=ticket.prefix,
            sequence=ticket.sequence,
            number=ticket.number,
            service_date=ticket.service_date,
            public_token="duplicate-number",
        )
    assert Ticket.objects.filter(hall=hall, number="A001").count() == 1


def test_the_same_sequence_on_another_day_or_prefix_is_allowed(hall, greeter):
    ticket = issue(hall, "payment", by=greeter)
    Ticket.objects.create(
        hall=hall,
        business_type=ticket.business_type,
        prefix=ticket.prefix,
        sequence=ticket.sequence,
        number=ticket.number,
        service_date=ticket.service_date - datetime.timedelta(days=1),
        public_token="yesterday",
    )
    assert Ticket.objects.filter(hall=hall, number="A001").count() == 2
