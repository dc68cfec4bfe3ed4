"""Issue 18: customers taking the last places of a slot at the same instant, on PostgreSQL with
real threads (each its own connection): exactly the quota get a place, the rest are told the
slot is full, and the slot's counter row agrees with the bookings. And a booking's check-in,
replayed at once, gives one ticket."""

import threading

import pytest
from django.db import connection, transaction

from queueing.appointments.errors import BookingClosed, SlotFull
from queueing.appointments.models import Booking, BookingSlot
from queueing.appointments.services import booking_check_in, booking_create
from queueing.models import Ticket
from tests.queueing.booking_helpers import MONDAY_9, at, make_bookable, verified_code

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]
SLOT = at(1, 10)


def _at_once(calls) -> list:
    """Run each call in its own thread, released together; their results or exceptions."""
    barrier, results = threading.Barrier(len(calls)), [None] * len(calls)

    def one(i, call):
        try:
            barrier.wait(timeout=10)
            results[i] = call()
        except Exception as exc:
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=one, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def _booker(hall, phone):
    code = verified_code(hall, phone)
    return lambda: booking_create(
        hall=hall,
        business_type_code="service",
        slot_start=SLOT,
        phone=phone,
        verification_code=code,
        now=MONDAY_9,
    )


@pytest.mark.parametrize("quota", [1, 3])
def test_of_many_customers_taking_the_last_places_at_once_exactly_the_quota_get_one(hall, quota):
    assert connection.vendor == "postgresql", "the services suite runs on PostgreSQL"
    make_bookable(hall, quota=quota)
    phones = [f"1390000{i:04d}" for i in range(12)]

    results = _at_once([_booker(hall, phone) for phone in phones])

    booked = [r for r in results if isinstance(r, Booking)]
    refused = [r for r in results if isinstance(r, SlotFull)]
    assert len(booked) == quota, results
    assert len(refused) == len(phones) - quota, results
    assert Booking.objects.count() == quota
    assert BookingSlot.objects.get().booked == quota


def test_the_second_customer_waits_for_the_first_and_then_finds_the_slot_full(hall):
    make_bookable(hall, quota=1)
    first, second = _booker(hall, "13900000001"), _booker(hall, "13900000002")
    holding, release, results = threading.Event(), threading.Event(), {}

    def first_in_a_long_transaction():
        try:
            with transaction.atomic():
                results["first"] = first()
                holding.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    def second_customer():
        try:
            results["second"] = second()
        except Exception as exc:
            results["second"] = exc
        finally:
            connection.close()

    a = threading.Thread(target=first_in_a_long_transaction)
    a.start()
    assert holding.wait(timeout=10)
    b = threading.Thread(target=second_customer)
    b.start()
    b.join(timeout=0.5)
    assert b.is_alive(), "the second booking should wait on the slot's row lock"
    release.set()
    a.join(timeout=30)
    b.join(timeout=30)

    assert isinstance(results["first"], Booking)
    assert isinstance(results["second"], SlotFull), results
    assert BookingSlot.objects.get().booked == 1


def test_one_booking_checked_in_at_two_kiosks_at_once_gives_one_ticket(hall, kiosk):
    make_bookable(hall)
    booking = _booker(hall, "13900000001")()
    now = SLOT

    def check_in():
        return booking_check_in(hall=hall, code=booking.code, device=kiosk, now=now)

    results = _at_once([check_in] * 4)

    assert sum(1 for r in results if isinstance(r, tuple)) == 1, results
    assert all(isinstance(r, BookingClosed) for r in results if not isinstance(r, tuple))
    assert Ticket.objects.count() == 1
    assert Booking.objects.get().ticket_id == Ticket.objects.get().pk
