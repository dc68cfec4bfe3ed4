"""The appointment API (issue 18): book with a verified phone, list the places left, cancel,
check in at the kiosk; bad input gets a clear 4xx in the error shape and changes nothing;
booking and check-in honour Idempotency-Key."""

import datetime

import pytest
import time_machine

from queueing.appointments.models import (
    Booking,
    BookingHoliday,
    BookingSlot,
    BookingStatus,
    PhoneVerification,
)
from queueing.models import Ticket
from tests.queueing.booking_helpers import ALICE, BOB, MONDAY_9, at, make_bookable

pytestmark = pytest.mark.django_db
SLOT = at(1, 10)


@pytest.fixture
def bookable(hall):
    return make_bookable(hall, quota=1)


def phone_code(api, hall, phone) -> str:
    response = api.post(f"/api/v1/halls/{hall.code}/phone-codes/", {"phone": phone}, format="json")
    assert response.status_code == 202, response.json()
    # Sent after commit (tests/queueing/test_booking.py: logged without a gateway).
    assert response.json()["sent"] == "pending"
    return PhoneVerification.objects.filter(phone=phone).first().code


def book(api, hall, phone, *, slot=SLOT, key=None, code=None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return api.post(
        f"/api/v1/halls/{hall.code}/bookings/",
        {
            "business_type": "service",
            "slot_start": slot.isoformat(),
            "phone": phone,
            "verification_code": code or phone_code(api, hall, phone),
        },
        format="json",
        **headers,
    )


def assert_error(response, status: int, code: str):
    assert response.status_code == status, response.content
    body = response.json()
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    return body["error"]


@time_machine.travel(MONDAY_9, tick=False)
def test_a_customer_books_sees_the_place_taken_and_gets_a_code_and_qr(api, hall, bookable):
    listing = api.get(f"/api/v1/halls/{hall.code}/bookable/").json()
    assert [b["business_type"] for b in listing["businesses"]] == ["service"]
    assert listing["check_in_early_minutes"] == 15

    response = book(api, hall, ALICE)

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "booked" and body["phone"] == "*******0001"
    assert body["qr_svg"].startswith("<svg") and len(body["code"]) == 8
    slots = api.get(
        f"/api/v1/halls/{hall.code}/bookable/service/slots/", {"date": SLOT.date().isoformat()}
    ).json()
    by_start = {s["starts_at"]: s["free"] for s in slots}
    assert by_start[SLOT.isoformat()] == 0
    assert by_start[(SLOT + datetime.timedelta(minutes=30)).isoformat()] == 1
    assert len(slots) == 48  # the test hall is open all day: 30-minute slots


@time_machine.travel(MONDAY_9, tick=False)
def test_booking_with_the_same_idempotency_key_books_once(api, hall, bookable):
    code = phone_code(api, hall, ALICE)
    first = book(api, hall, ALICE, key="k-1", code=code)
    again = book(api, hall, ALICE, key="k-1", code=code)

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert Booking.objects.count() == 1 and BookingSlot.objects.get().booked == 1


@time_machine.travel(MONDAY_9, tick=False)
def test_bad_bookings_get_a_clear_4xx_and_change_nothing(api, hall, bookable):
    BookingHoliday.objects.create(hall=hall, date=at(3, 9).date())
    past = assert_error(book(api, hall, ALICE, slot=at(0, 8)), 400, "slot_unavailable")
    assert past["fields"] == {"slot_start": "past"}
    closed = assert_error(book(api, hall, BOB, slot=at(3, 10)), 400, "slot_unavailable")
    assert closed["fields"] == {"slot_start": "closed day"}
    assert Booking.objects.count() == 0

    with time_machine.travel(MONDAY_9 + datetime.timedelta(minutes=2), tick=False):
        assert book(api, hall, ALICE).status_code == 201
    with time_machine.travel(MONDAY_9 + datetime.timedelta(minutes=4), tick=False):
        assert_error(book(api, hall, BOB), 409, "slot_full")
        assert_error(
            book(api, hall, ALICE, slot=SLOT + datetime.timedelta(hours=2)), 409, "already_booked"
        )
        wrong = book(api, hall, "13800000003", code="000000")
        assert_error(wrong, 400, "verification_failed")

    assert Booking.objects.count() == 1
    assert list(BookingSlot.objects.values_list("booked", flat=True)) == [1]


@time_machine.travel(MONDAY_9, tick=False)
def test_cancel_through_the_api_and_a_cancelled_booking_is_refused_at_the_kiosk(
    api, hall, bookable, kiosk
):
    booking_code = book(api, hall, ALICE).json()["code"]
    with time_machine.travel(MONDAY_9 + datetime.timedelta(minutes=2), tick=False):
        code = phone_code(api, hall, ALICE)
        response = api.post(
            f"/api/v1/bookings/{booking_code}/cancel/",
            {"phone": ALICE, "verification_code": code},
            format="json",
        )
        assert response.status_code == 200 and response.json()["status"] == "cancelled"
        someone_else = api.post(
            f"/api/v1/bookings/{booking_code}/cancel/",
            {"phone": BOB, "verification_code": "123456"},
            format="json",
        )
        assert_error(someone_else, 404, "not_found")

    with time_machine.travel(SLOT, tick=False):
        refused = api.as_device(kiosk).post(
            f"/api/v1/halls/{hall.code}/bookings/check-in/", {"code": booking_code}, format="json"
        )
    assert_error(refused, 409, "booking_closed")
    assert Ticket.objects.count() == 0


@time_machine.travel(MONDAY_9, tick=False)
def test_kiosk_check_in_gives_a_ticket_once_per_idempotency_key(api, hall, bookable, kiosk):
    booking_code = book(api, hall, ALICE).json()["code"]
    kiosk_api = api.as_device(kiosk)
    url = f"/api/v1/halls/{hall.code}/bookings/check-in/"

    with time_machine.travel(SLOT - datetime.timedelta(minutes=5), tick=False):
        first = kiosk_api.post(url, {"code": booking_code}, format="json", HTTP_IDEMPOTENCY_KEY="c")
        again = kiosk_api.post(url, {"code": booking_code}, format="json", HTTP_IDEMPOTENCY_KEY="c")

    assert first.status_code == 201, first.json()
    body = first.json()
    assert body["outcome"] == "appointment" and body["reason"] == ""
    assert datetime.datetime.fromisoformat(body["issued_at"]) == SLOT  # the slot, not now
    assert body["number"].startswith("C") and body["status_url"]
    assert again.json() == body and again["Idempotent-Replayed"] == "true"
    assert Ticket.objects.count() == 1
    assert Booking.objects.get().status == BookingStatus.CHECKED_IN


@time_machine.travel(MONDAY_9, tick=False)
def test_check_in_too_early_says_when_and_late_becomes_a_walk_in(api, hall, bookable, kiosk):
    booking_code = book(api, hall, ALICE).json()["code"]
    kiosk_api = api.as_device(kiosk)
    url = f"/api/v1/halls/{hall.code}/bookings/check-in/"

    with time_machine.travel(SLOT - datetime.timedelta(hours=1), tick=False):
        early = kiosk_api.post(url, {"code": booking_code}, format="json")
    error = assert_error(early, 409, "check_in_too_early")
    assert error["come_back_at"] == "2026-12-08T09:45:00+08:00" and error["walk_in_offered"]
    assert Ticket.objects.count() == 0

    with time_machine.travel(SLOT + datetime.timedelta(minutes=50), tick=False):
        late = kiosk_api.post(url, {"code": booking_code}, format="json")
    assert late.status_code == 201
    assert late.json()["outcome"] == "late_walk_in"
    assert "晚到50分钟" in late.json()["reason"]  # in the hall's language, Chinese first


@time_machine.travel(MONDAY_9, tick=False)
def test_a_code_of_another_hall_is_not_found_and_the_input_must_name_a_booking(
    api, hall, bookable, other_kiosk
):
    booking_code = book(api, hall, ALICE).json()["code"]
    other = other_kiosk.hall
    url = f"/api/v1/halls/{other.code}/bookings/check-in/"

    with time_machine.travel(SLOT, tick=False):
        assert_error(
            api.as_device(other_kiosk).post(url, {"code": booking_code}, format="json"),
            404,
            "not_found",
        )
        missing = api.as_device(other_kiosk).post(url, {}, format="json")
    assert assert_error(missing, 400, "invalid")["fields"]["code"]
    assert Ticket.objects.count() == 0 and Booking.objects.get().status == BookingStatus.BOOKED


def test_the_phone_code_is_rate_limited_with_retry_after(api, hall):
    url = f"/api/v1/halls/{hall.code}/phone-codes/"
    assert api.post(url, {"phone": ALICE}, format="json").status_code == 202

    again = api.post(url, {"phone": ALICE}, format="json")

    assert_error(again, 429, "too_many_requests")
    assert int(again["Retry-After"]) > 0


def test_slots_of_a_business_that_is_not_bookable_or_a_bad_date_are_refused(api, hall, bookable):
    base = f"/api/v1/halls/{hall.code}/bookable"
    assert_error(api.get(f"{base}/payment/slots/"), 400, "not_bookable")
    assert_error(api.get(f"{base}/service/slots/", {"date": "tomorrow"}), 400, "invalid")
    assert_error(api.get("/api/v1/halls/nope/bookable/"), 404, "not_found")
