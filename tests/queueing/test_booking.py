"""Booking a slot (issue 18): the slot grid, the quota, one booking per phone and day, the
no-show bar, cancelling before the deadline, and phone codes. A refusal changes nothing."""

import datetime

import pytest

from hall.models import AuditEvent, EventKind
from queueing.appointments.errors import (
    AlreadyBooked,
    BookingBarred,
    BookingClosed,
    CancelTooLate,
    NotBookable,
    SlotFull,
    SlotUnavailable,
    TooManyRequests,
    VerificationFailed,
)
from queueing.appointments.models import (
    Booking,
    BookingHoliday,
    BookingSettings,
    BookingSlot,
    BookingStatus,
    PhoneVerification,
)
from queueing.appointments.services import booking_cancel, booking_create, phone_verify
from queueing.appointments.slots import slot_starts
from queueing.appointments.sweeps import bookings_mark_no_shows
from tests.queueing.booking_helpers import ALICE, BOB, MONDAY_9, at, make_bookable, verified_code

pytestmark = pytest.mark.django_db


def book(hall, phone=ALICE, *, slot=None, code="service", now=MONDAY_9):
    return booking_create(
        hall=hall,
        business_type_code=code,
        slot_start=slot or at(1, 10),
        phone=phone,
        verification_code=verified_code(hall, phone, now=now),
        now=now,
    )


def test_the_defaults_are_sensible_without_a_settings_row(hall):
    settings = BookingSettings.for_hall(hall)

    assert settings.pk is None
    assert settings.open_weekdays == "0123456"
    assert (settings.days_ahead, settings.cancel_deadline_minutes) == (7, 60)
    assert (settings.check_in_early_minutes, settings.check_in_late_minutes) == (15, 30)
    assert (settings.no_show_limit, settings.no_show_period_days) == (3, 30)


def test_slots_follow_the_hall_hours_and_skip_closed_days_and_holidays(hall):
    bookable = make_bookable(hall, slot_minutes=60)
    hall.opens_at, hall.closes_at = datetime.time(9), datetime.time(12, 30)
    settings = BookingSettings.objects.create(hall=hall, open_weekdays="01234")  # Mon-Fri
    BookingHoliday.objects.create(hall=hall, date=at(2, 9).date(), name="元旦")

    monday = slot_starts(hall=hall, settings=settings, bookable=bookable, date=at(0, 9).date())
    assert [s.strftime("%H:%M") for s in monday] == ["09:00", "10:00", "11:00"]
    saturday = at(5, 9).date()
    assert slot_starts(hall=hall, settings=settings, bookable=bookable, date=saturday) == []
    holiday = at(2, 9).date()
    assert slot_starts(hall=hall, settings=settings, bookable=bookable, date=holiday) == []


def test_a_booking_takes_a_place_and_gets_a_code(hall):
    make_bookable(hall)

    booking = book(hall)

    assert booking.status == BookingStatus.BOOKED
    assert len(booking.code) == 8 and booking.code.isalnum()
    assert booking.service_date == at(1, 10).date()
    assert BookingSlot.objects.get().booked == 1
    assert AuditEvent.objects.filter(kind=EventKind.BOOKING_CREATED, seq__isnull=True).count() == 1


def test_a_full_slot_refuses_the_next_customer_and_changes_nothing(hall):
    make_bookable(hall, quota=1)
    book(hall, ALICE)

    with pytest.raises(SlotFull):
        book(hall, BOB)

    assert Booking.objects.count() == 1
    assert BookingSlot.objects.get().booked == 1


@pytest.mark.parametrize(
    ("slot", "field"),
    [
        (at(0, 8), "past"),
        (at(0, 9, 15), "too soon"),  # under the 30 minutes' notice (and off the grid)
        (at(9, 10), "too far ahead"),
        (at(1, 10, 10), "not a slot"),
    ],
)
def test_a_slot_that_cannot_be_booked_is_refused_and_changes_nothing(hall, slot, field):
    make_bookable(hall)

    with pytest.raises(SlotUnavailable) as refused:
        book(hall, slot=slot)

    assert refused.value.fields == {"slot_start": field}
    assert Booking.objects.count() == 0 and BookingSlot.objects.count() == 0


def test_a_closed_day_is_refused(hall):
    make_bookable(hall)
    BookingHoliday.objects.create(hall=hall, date=at(1, 9).date())

    with pytest.raises(SlotUnavailable) as refused:
        book(hall)

    assert refused.value.fields == {"slot_start": "closed day"}
    assert Booking.objects.count() == 0


def test_a_business_that_is_not_bookable_is_refused(hall):
    make_bookable(hall)

    with pytest.raises(NotBookable):
        book(hall, code="payment")


def test_one_booking_per_phone_per_day(hall):
    make_bookable(hall)
    book(hall, ALICE, slot=at(1, 10))

    with pytest.raises(AlreadyBooked):
        book(hall, ALICE, slot=at(1, 14), now=MONDAY_9 + datetime.timedelta(minutes=2))
    assert Booking.objects.count() == 1
    assert BookingSlot.objects.get(starts_at=at(1, 10)).booked == 1
    # Another day is fine.
    book(hall, ALICE, slot=at(2, 10), now=MONDAY_9 + datetime.timedelta(minutes=4))
    assert Booking.objects.count() == 2


def test_a_wrong_or_expired_code_is_refused_and_dies_after_five_guesses(hall):
    make_bookable(hall)
    code = verified_code(hall, ALICE)
    for _ in range(5):
        with pytest.raises(VerificationFailed):
            phone_verify(phone=ALICE, code="000000" if code != "000000" else "111111", now=MONDAY_9)

    with pytest.raises(VerificationFailed):  # the right code, too late: five wrong guesses
        phone_verify(phone=ALICE, code=code, now=MONDAY_9)
    later = MONDAY_9 + datetime.timedelta(minutes=11)
    fresh = verified_code(hall, BOB, now=MONDAY_9)
    with pytest.raises(VerificationFailed):  # expired after ten minutes
        phone_verify(phone=BOB, code=fresh, now=later)


def test_codes_are_rate_limited_per_phone(hall):
    verified_code(hall, ALICE)

    with pytest.raises(TooManyRequests) as refused:
        verified_code(hall, ALICE, now=MONDAY_9 + datetime.timedelta(seconds=20))
    assert refused.value.extra["retry_after"] == 41
    for minute in range(1, 5):
        verified_code(hall, ALICE, now=MONDAY_9 + datetime.timedelta(minutes=minute))
    with pytest.raises(TooManyRequests):  # five an hour
        verified_code(hall, ALICE, now=MONDAY_9 + datetime.timedelta(minutes=6))


def test_the_code_goes_through_the_phone_notice_path_logged_without_a_gateway(
    hall, django_capture_on_commit_callbacks, caplog
):
    with django_capture_on_commit_callbacks(execute=True):
        code = verified_code(hall, ALICE)

    verification = PhoneVerification.objects.get()
    assert verification.send_status == "logged"
    assert code in caplog.text


def test_a_phone_with_too_many_no_shows_is_barred(hall):
    make_bookable(hall)
    BookingSettings.objects.create(hall=hall, no_show_limit=2, no_show_period_days=30)
    for day in (1, 2):
        book(hall, ALICE, slot=at(day, 10), now=MONDAY_9 + datetime.timedelta(minutes=2 * day))
    assert bookings_mark_no_shows(hall=hall, now=at(3, 12)) == 2

    with pytest.raises(BookingBarred):
        book(hall, ALICE, slot=at(4, 10), now=at(3, 12))
    assert Booking.objects.filter(status=BookingStatus.NO_SHOW).count() == 2
    assert Booking.objects.count() == 2


def test_cancel_before_the_deadline_frees_the_place(hall):
    make_bookable(hall, quota=1)
    booking = book(hall, ALICE)
    later = MONDAY_9 + datetime.timedelta(minutes=2)

    cancelled = booking_cancel(
        code=booking.code.lower(),
        phone=ALICE,
        verification_code=verified_code(hall, ALICE, now=later),
        now=later,
    )

    assert cancelled.status == BookingStatus.CANCELLED and cancelled.cancelled_at == later
    assert BookingSlot.objects.get().booked == 0
    book(hall, BOB, now=later)  # the place is free again


def test_cancel_after_the_deadline_or_twice_is_refused(hall):
    make_bookable(hall)
    booking = book(hall, ALICE)
    late = at(1, 9, 30)  # 30 minutes before the slot; the deadline is 60
    with pytest.raises(CancelTooLate):
        booking_cancel(
            code=booking.code,
            phone=ALICE,
            verification_code=verified_code(hall, ALICE, now=late),
            now=late,
        )
    assert Booking.objects.get().status == BookingStatus.BOOKED
    # A booking of another day, cancelled in time, then once more.
    other = book(hall, BOB, slot=at(2, 10), now=late)
    soon = late + datetime.timedelta(minutes=2)
    code = verified_code(hall, BOB, now=soon)
    booking_cancel(code=other.code, phone=BOB, verification_code=code, now=soon)
    with pytest.raises(BookingClosed):
        booking_cancel(code=other.code, phone=BOB, verification_code=code, now=soon)
    assert BookingSlot.objects.get(starts_at=at(2, 10)).booked == 0
    assert BookingSlot.objects.get(starts_at=at(1, 10)).booked == 1
