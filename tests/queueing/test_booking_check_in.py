"""Check-in (issue 18): within the window a booking becomes an appointment ticket whose
priority runs from the slot; later the same day a walk-in ticket, saying why; earlier, when to
come back, or a walk-in ticket if the customer takes one. Refusals change nothing."""

import datetime

import pytest
from django.utils import translation

from counters.services import counter_call_next, counter_open
from hall.errors import NotFound
from hall.models import AuditEvent, EventKind
from queueing.appointments.errors import BookingClosed, TooEarly
from queueing.appointments.models import Booking, BookingSettings, BookingStatus
from queueing.appointments.services import booking_cancel, booking_check_in, booking_create
from queueing.models import Origin, Ticket
from tests.conftest import counter
from tests.factories import issue, payment_hall
from tests.queueing.booking_helpers import ALICE, BOB, MONDAY_9, at, make_bookable, verified_code

pytestmark = pytest.mark.django_db
SLOT = at(1, 10)  # Tuesday 10:00


@pytest.fixture
def booking(hall):
    make_bookable(hall)
    return booking_create(
        hall=hall,
        business_type_code="service",
        slot_start=SLOT,
        phone=ALICE,
        verification_code=verified_code(hall, ALICE),
        now=MONDAY_9,
    )


def check_in(hall, kiosk, booking, *, now, **kwargs):
    return booking_check_in(hall=hall, code=booking.code, device=kiosk, now=now, **kwargs)


def test_within_the_window_it_becomes_an_appointment_ticket_from_the_slot(hall, kiosk, booking):
    now = SLOT - datetime.timedelta(minutes=10)

    checked, issued, outcome = check_in(hall, kiosk, booking, now=now)

    assert outcome == "appointment"
    ticket = issued.ticket
    assert (ticket.origin, ticket.issued_at, ticket.business_type.code) == (
        Origin.APPOINTMENT,
        SLOT,
        "service",
    )
    assert ticket.phone == ALICE  # the call notice reaches the customer's phone
    booking.refresh_from_db()
    assert (booking.status, booking.ticket, booking.checked_in_at) == (
        BookingStatus.CHECKED_IN,
        ticket,
        now,
    )
    event = AuditEvent.objects.get(kind=EventKind.BOOKING_CHECKED_IN)
    assert event.ticket_id == ticket.pk and event.device == kiosk


def test_the_appointment_goes_ahead_of_walk_ins_who_came_after_its_slot(
    hall, kiosk, booking, clerk_a
):
    # Two walk-ins arrive after the slot began; the customer checks in at 10:20, late but in
    # the window: the router orders them by the slot, so the appointment is called first.
    issue(hall, "service", device=kiosk, at=SLOT + datetime.timedelta(minutes=5))
    issue(hall, "service", device=kiosk, at=SLOT + datetime.timedelta(minutes=15))
    _checked, issued, _outcome = check_in(
        hall, kiosk, booking, now=SLOT + datetime.timedelta(minutes=20)
    )
    c4 = counter(hall, 4)
    counter_open(counter_id=c4.pk, user=clerk_a, now=SLOT + datetime.timedelta(minutes=21))

    window = counter_call_next(
        counter_id=c4.pk, user=clerk_a, now=SLOT + datetime.timedelta(minutes=21)
    )

    assert window.called.pk == issued.ticket.pk


def test_late_beyond_the_window_it_becomes_a_walk_in_ticket_saying_why(hall, kiosk, booking):
    now = SLOT + datetime.timedelta(minutes=45)

    with translation.override("en"):
        checked, issued, outcome = check_in(hall, kiosk, booking, now=now)

    assert outcome == "late_walk_in"
    assert issued.ticket.issued_at == now and issued.ticket.origin == Origin.KIOSK
    assert checked.status == BookingStatus.LATE_WALK_IN
    assert "45 minutes after the slot" in checked.reason
    assert Booking.objects.get().ticket == issued.ticket


def test_early_it_says_when_to_come_back_and_changes_nothing(hall, kiosk, booking):
    with pytest.raises(TooEarly) as refused:
        check_in(hall, kiosk, booking, now=SLOT - datetime.timedelta(minutes=40))

    assert refused.value.extra == {
        "come_back_at": (SLOT - datetime.timedelta(minutes=15)).isoformat(),
        "walk_in_offered": True,
    }
    assert Ticket.objects.count() == 0
    assert Booking.objects.get().status == BookingStatus.BOOKED


def test_early_the_customer_may_take_a_walk_in_ticket(hall, kiosk, booking):
    now = SLOT - datetime.timedelta(minutes=40)

    checked, issued, outcome = check_in(hall, kiosk, booking, now=now, walk_in_if_early=True)

    assert outcome == "early_walk_in" and checked.status == BookingStatus.EARLY_WALK_IN
    assert issued.ticket.issued_at == now and issued.ticket.origin == Origin.KIOSK


def test_the_window_is_a_hall_setting(hall, kiosk, booking):
    BookingSettings.objects.create(hall=hall, check_in_early_minutes=60)

    _checked, issued, outcome = check_in(
        hall, kiosk, booking, now=SLOT - datetime.timedelta(minutes=40)
    )

    assert outcome == "appointment" and issued.ticket.issued_at == SLOT


def test_a_booking_checks_in_once(hall, kiosk, booking):
    now = SLOT - datetime.timedelta(minutes=5)
    check_in(hall, kiosk, booking, now=now)

    with pytest.raises(BookingClosed):
        check_in(hall, kiosk, booking, now=now)
    assert Ticket.objects.count() == 1


def test_a_cancelled_booking_is_refused_at_check_in(hall, kiosk, booking):
    code = verified_code(hall, ALICE, now=MONDAY_9 + datetime.timedelta(minutes=2))
    booking_cancel(
        code=booking.code,
        phone=ALICE,
        verification_code=code,
        now=MONDAY_9 + datetime.timedelta(minutes=2),
    )

    with pytest.raises(BookingClosed):
        check_in(hall, kiosk, booking, now=SLOT)
    assert Ticket.objects.count() == 0


def test_a_code_of_another_hall_is_not_found_here(hall, booking, db):
    other = payment_hall("h9", "别的营业厅")
    other_kiosk_device = other.devices.create(kind="kiosk", token_hash="x" * 64)

    with pytest.raises(NotFound):
        booking_check_in(hall=other, code=booking.code, device=other_kiosk_device, now=SLOT)
    assert Ticket.objects.count() == 0
    assert Booking.objects.get().status == BookingStatus.BOOKED


def test_a_booking_of_another_day_is_refused(hall, kiosk, booking):
    with pytest.raises(TooEarly) as refused:
        check_in(hall, kiosk, booking, now=MONDAY_9)
    assert refused.value.extra["walk_in_offered"] is False
    with pytest.raises(BookingClosed):
        check_in(hall, kiosk, booking, now=SLOT + datetime.timedelta(days=1))
    assert Ticket.objects.count() == 0


def test_the_greeter_checks_in_by_phone_and_code(hall, greeter, booking):
    now = SLOT - datetime.timedelta(minutes=5)
    code = verified_code(hall, ALICE, now=now)

    checked, issued, _outcome = booking_check_in(
        hall=hall, phone=ALICE, verification_code=code, issued_by=greeter, now=now
    )

    assert checked.pk == booking.pk and issued.ticket.origin == Origin.APPOINTMENT
    with pytest.raises(NotFound):  # Bob has no booking today
        booking_check_in(
            hall=hall,
            phone=BOB,
            verification_code=verified_code(hall, BOB, now=now),
            issued_by=greeter,
            now=now,
        )


def test_a_no_show_that_comes_the_same_day_gets_a_walk_in_ticket(hall, kiosk, booking):
    Booking.objects.filter(pk=booking.pk).update(status=BookingStatus.NO_SHOW)

    later = SLOT + datetime.timedelta(hours=2)
    checked, _issued, outcome = check_in(hall, kiosk, booking, now=later)

    assert outcome == "late_walk_in" and checked.status == BookingStatus.LATE_WALK_IN
