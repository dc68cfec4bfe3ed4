"""The public HTTP contract of DESIGN.md, endpoint by endpoint, as a device or a clerk sees it.

Paths are spelled out literally (not reversed) on purpose: the paths are the contract.
"""

import datetime
import json
import zoneinfo
from urllib.parse import urlparse

import pytest
import time_machine
from django.urls import resolve

from counters.models import Counter, CounterState, Interruption
from counters.services import counter_call_next, counter_open, counter_start
from display.board import board_compute
from hall.models import AuditEvent, BusinessType, EventKind
from queueing.models import Ticket
from tests.conftest import counter
from tests.factories import issue

TICKET_FIELDS = {"id", "number", "business_type", "lane", "status", "issued_at"}
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def action(counter_obj, name: str) -> str:
    return f"/api/v1/counters/{counter_obj.pk}/{name}/"


def assert_ticket(data, *, number=None, status=None):
    assert isinstance(data, dict), data
    assert set(data) >= TICKET_FIELDS, data
    if number is not None:
        assert data["number"] == number
    if status is not None:
        assert data["status"] == status


def open_with_called(hall, kiosk, clerk, number=1, code="payment"):
    """Counter ``number`` opened by ``clerk`` with one ticket called; returns (counter, ticket)."""
    c = counter(hall, number)
    t = issue(hall, code, device=kiosk)
    counter_open(counter_id=c.pk, user=clerk)
    window = counter_call_next(counter_id=c.pk, user=clerk)
    assert window.called == t
    return c, t


# --- POST /api/v1/auth/token/ ------------------------------------------------------------------


def test_token_login_with_good_credentials_lets_a_clerk_open_a_counter(api, hall, clerk_a):
    response = api.post(
        "/api/v1/auth/token/", {"username": "clerk_a", "password": "pw"}, format="json"
    )
    assert response.status_code == 200
    assert set(response.json()) == {"token"}
    token = response.json()["token"]

    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    opened = api.post(action(counter(hall, 1), "open"))
    assert opened.status_code == 200, opened.json()
    assert opened.json()["counter"]["state"] == "open"
    assert opened.json()["counter"]["clerk"] == "clerk_a"
    assert counter(hall, 1).clerk == clerk_a


def test_token_login_twice_returns_the_same_token(api, clerk_a):
    body = {"username": "clerk_a", "password": "pw"}
    first = api.post("/api/v1/auth/token/", body, format="json").json()["token"]
    second = api.post("/api/v1/auth/token/", body, format="json").json()["token"]
    assert first == second


def test_token_login_with_a_wrong_password_is_refused_without_a_token(api, clerk_a):
    response = api.post(
        "/api/v1/auth/token/", {"username": "clerk_a", "password": "nope"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert "token" not in json.dumps(response.json())


def test_token_login_for_an_unknown_user_is_refused(api, hall):
    response = api.post(
        "/api/v1/auth/token/", {"username": "ghost", "password": "pw"}, format="json"
    )
    assert response.status_code == 400


def test_token_login_for_a_deactivated_user_is_refused(api, clerk_a):
    clerk_a.is_active = False
    clerk_a.save()
    response = api.post(
        "/api/v1/auth/token/", {"username": "clerk_a", "password": "pw"}, format="json"
    )
    assert response.status_code == 400


def test_a_bogus_api_token_is_rejected(api, hall, clerk_a):
    api.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    response = api.post(action(counter(hall, 1), "open"))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"
    assert counter(hall, 1).state == CounterState.CLOSED


# --- GET /api/v1/halls/{hall}/business-types/ --------------------------------------------------


def test_business_types_list_active_types_with_queue_and_estimate(api, hall, kiosk):
    BusinessType.objects.create(
        hall=hall, code="retired", prefix="Z", name_zh="停办", name_en="Retired", active=False
    )
    issue(hall, "payment", device=kiosk)
    issue(hall, "payment", device=kiosk)

    response = api.as_device(kiosk).get("/api/v1/halls/h1/business-types/")

    assert response.status_code == 200
    rows = {row["code"]: row for row in response.json()}
    assert set(rows) == {"payment", "topup", "service"}  # the inactive one is hidden
    payment = rows["payment"]
    assert {"code", "name_zh", "name_en", "prefix", "waiting", "estimated_wait_s"} <= set(payment)
    assert payment["name_zh"] == "缴费"
    assert payment["name_en"] == "Bill payment"
    assert payment["prefix"] == "A"
    assert payment["waiting"] == 2
    assert rows["topup"]["waiting"] == 0
    # Nobody is signed in yet: every configured counter is assumed; counter 1 calls the first
    # payment and greets the second, counter 2 would call a new one at once.
    assert payment["estimated_wait_s"] == 0


@pytest.mark.usefixtures("services_of_fixed_length")
def test_business_type_estimate_uses_only_staffed_counters_once_one_opens(
    api, hall, kiosk, clerk_a
):
    issue(hall, "payment", device=kiosk)
    issue(hall, "payment", device=kiosk)
    counter_open(counter_id=counter(hall, 1).pk, user=clerk_a)

    rows = {
        r["code"]: r for r in api.as_device(kiosk).get("/api/v1/halls/h1/business-types/").json()
    }

    assert rows["payment"]["estimated_wait_s"] == 2 * 3 * 60  # one staffed counter
    assert rows["payment"]["estimated_wait_range_s"] == [360, 360]  # services of fixed length
    assert rows["service"]["estimated_wait_s"] is None  # no open counter serves it: unknown


def test_business_types_are_readable_by_a_display_and_by_staff(api, hall, display_device, clerk_a):
    assert api.as_device(display_device).get("/api/v1/halls/h1/business-types/").status_code == 200
    assert api.as_user(clerk_a).get("/api/v1/halls/h1/business-types/").status_code == 200


def test_business_types_refuse_a_device_of_another_hall(api, hall, other_kiosk):
    response = api.as_device(other_kiosk).get("/api/v1/halls/h1/business-types/")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"


def test_business_types_refuse_staff_of_another_hall(api, hall, outsider):
    assert api.as_user(outsider).get("/api/v1/halls/h1/business-types/").status_code == 403


# --- GET /api/v1/halls/{hall}/counters/ --------------------------------------------------------


def test_counters_list_number_kind_state_and_business_types(api, hall, display_device, clerk_a):
    counter_open(counter_id=counter(hall, 2).pk, user=clerk_a)

    response = api.as_device(display_device).get("/api/v1/halls/h1/counters/")

    assert response.status_code == 200
    rows = {row["number"]: row for row in response.json()}
    assert sorted(rows) == [1, 2, 3, 4]
    for row in rows.values():
        assert {"id", "number", "kind", "state", "business_types"} <= set(row)
    assert rows[1]["id"] == counter(hall, 1).pk
    assert rows[1]["kind"] == "general"
    assert rows[1]["state"] == "closed"
    assert rows[2]["state"] == "open"
    assert set(rows[1]["business_types"]) == {"payment", "topup"}
    assert set(rows[3]["business_types"]) == {"payment", "topup", "service"}
    assert rows[4]["business_types"] == ["service"]


def test_counters_list_refuses_a_device_of_another_hall(api, hall, other_kiosk):
    assert api.as_device(other_kiosk).get("/api/v1/halls/h1/counters/").status_code == 403


# --- POST /api/v1/halls/{hall}/tickets/ --------------------------------------------------------


def test_kiosk_issues_a_ticket_with_the_contract_fields(api, hall, kiosk):
    issue(hall, "payment", device=kiosk)  # one person already waits
    board_compute(hall.pk)  # as the live tier computes it after that event (display.board)

    response = api.as_device(kiosk).post(
        "/api/v1/halls/h1/tickets/", {"business_type": "payment"}, format="json"
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert {
        "id",
        "number",
        "business_type",
        "lane",
        "status",
        "issued_at",
        "people_ahead",
        "estimated_wait_s",
        "status_url",
    } <= set(body)
    assert body["number"] == "A002"
    assert body["business_type"] == "payment"
    assert body["lane"] == "normal"
    assert body["status"] == "waiting"
    assert body["people_ahead"] == 1
    # From the board: every counter assumed (none open yet), counter 1 calls the first and
    # greets this one, which counter 2 calls at once (issue 16: a greeted customer goes to any
    # counter that can serve them while the greeting counter is busy).
    assert body["estimated_wait_s"] == 0
    # Issue 16: the bands (fields added) and the words, here "no counter open" (none is yet).
    assert body["estimated_wait_range_s"] == body["estimated_wait_range_10_90_s"] == [0, 0]
    assert body["wait"] == {"kind": "no_counter_open", "low": None, "high": None}
    ticket = Ticket.objects.get(pk=body["id"])
    assert ticket.number == "A002"
    assert ticket.origin == "kiosk"
    assert ticket.device_id == kiosk.pk
    assert AuditEvent.objects.filter(kind=EventKind.TICKET_ISSUED, ticket_id=ticket.pk).count() == 1


def test_status_url_of_an_issued_ticket_is_the_customers_status_page(api, hall, kiosk):
    body = (
        api.as_device(kiosk)
        .post("/api/v1/halls/h1/tickets/", {"business_type": "topup"}, format="json")
        .json()
    )
    path = urlparse(body["status_url"]).path
    ticket = Ticket.objects.get(pk=body["id"])

    assert path == f"/t/{ticket.public_token}/"
    assert resolve(path).url_name == "ticket-status"
    api.credentials()  # the customer's phone has no credentials at all
    page = api.get(path)
    assert page.status_code == 200
    assert body["number"] in page.content.decode()
    public = api.get(f"/api/v1/t/{ticket.public_token}/")  # the same ticket as JSON
    assert public.status_code == 200
    assert public.json()["number"] == body["number"]


def test_issue_response_does_not_echo_phone_or_vip_account(api, hall, kiosk):
    response = api.as_device(kiosk).post(
        "/api/v1/halls/h1/tickets/",
        {"business_type": "payment", "phone": "13812345678", "vip_account": "VIP-778899"},
        format="json",
    )
    assert response.status_code == 201
    text = response.content.decode()
    assert "13812345678" not in text
    assert "778899" not in text


def test_greeter_issue_is_recorded_as_greeter_origin(api, hall, greeter):
    response = api.as_user(greeter).post(
        "/api/v1/halls/h1/tickets/", {"business_type": "service"}, format="json"
    )
    assert response.status_code == 201
    ticket = Ticket.objects.get(pk=response.json()["id"])
    assert ticket.origin == "greeter"
    assert ticket.issued_by == greeter


def test_kiosk_vip_ticket_needs_a_vip_account(api, hall, kiosk):
    response = api.as_device(kiosk).post(
        "/api/v1/halls/h1/tickets/", {"business_type": "payment", "lane": "vip"}, format="json"
    )
    assert response.status_code == 400
    assert "vip_account" in response.json()["error"]["fields"]
    assert not Ticket.objects.exists()


def test_kiosk_vip_ticket_with_a_vip_account_is_issued_in_the_vip_lane(api, hall, kiosk):
    response = api.as_device(kiosk).post(
        "/api/v1/halls/h1/tickets/",
        {"business_type": "payment", "lane": "vip", "vip_account": "VIP-0001"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["lane"] == "vip"
    assert Ticket.objects.get().vip_account == "VIP-0001"


def test_a_vip_account_alone_implies_the_vip_lane(api, hall, kiosk):
    response = api.as_device(kiosk).post(
        "/api/v1/halls/h1/tickets/",
        {"business_type": "payment", "vip_account": "VIP-0001"},
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["lane"] == "vip"


def test_greeter_may_issue_a_vip_ticket_without_an_account(api, hall, greeter):
    response = api.as_user(greeter).post(
        "/api/v1/halls/h1/tickets/", {"business_type": "payment", "lane": "vip"}, format="json"
    )
    assert response.status_code == 201, response.json()
    assert response.json()["lane"] == "vip"


@pytest.mark.parametrize("reason", ["elderly", "disabled"])
def test_kiosk_may_self_declare_elderly_or_disabled_and_the_lane_is_implied(
    api, hall, kiosk, reason
):
    response = api.as_device(kiosk).post(
        "/api/v1/halls/h1/tickets/",
        {"business_type": "payment", "priority_reason": reason},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["lane"] == "priority"
    ticket = Ticket.objects.get(pk=response.json()["id"])
    assert ticket.priority_reason == reason
    assert ticket.self_declared is True


@pytest.mark.parametrize("reason", ["pregnant", "military"])
def test_kiosk_may_not_self_declare_pregnant_or_military(api, hall, kiosk, reason):
    response = api.as_device(kiosk).post(
        "/api/v1/halls/h1/tickets/",
        {"business_type": "payment", "priority_reason": reason},
        format="json",
    )
    assert response.status_code == 400
    assert "priority_reason" in response.json()["error"]["fields"]
    assert not Ticket.objects.exists()


@pytest.mark.parametrize("reason", ["pregnant", "military"])
def test_greeter_may_grant_pregnant_or_military_priority(api, hall, greeter, reason):
    response = api.as_user(greeter).post(
        "/api/v1/halls/h1/tickets/",
        {"business_type": "payment", "priority_reason": reason},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["lane"] == "priority"
    ticket = Ticket.objects.get()
    assert ticket.priority_reason == reason
    assert ticket.self_declared is False


def test_kiosk_issues_normally_without_a_reason(api, hall, kiosk):
    response = api.as_device(kiosk).post(
        "/api/v1/halls/h1/tickets/", {"business_type": "payment"}, format="json"
    )
    assert response.json()["lane"] == "normal"
    assert Ticket.objects.get().self_declared is False


@pytest.fixture
def hall_with_hours(hall):
    hall.opens_at = datetime.time(8, 30)
    hall.closes_at = datetime.time(18, 0)
    hall.save()
    return hall


AFTER_HOURS = datetime.datetime(2025, 3, 10, 21, 15, tzinfo=SHANGHAI)
DURING_HOURS = datetime.datetime(2025, 3, 10, 10, 0, tzinfo=SHANGHAI)


def test_kiosk_issues_during_opening_hours(api, hall_with_hours, kiosk):
    with time_machine.travel(DURING_HOURS, tick=False):
        response = api.as_device(kiosk).post(
            "/api/v1/halls/h1/tickets/", {"business_type": "payment"}, format="json"
        )
    assert response.status_code == 201


def test_kiosk_cannot_issue_outside_opening_hours(api, hall_with_hours, kiosk):
    with time_machine.travel(AFTER_HOURS, tick=False):
        response = api.as_device(kiosk).post(
            "/api/v1/halls/h1/tickets/", {"business_type": "payment"}, format="json"
        )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "hall_closed"
    assert not Ticket.objects.exists()


@pytest.mark.parametrize("who", ["kiosk", "greeter"])
def test_only_a_manager_may_override_opening_hours(api, hall_with_hours, kiosk, greeter, who):
    client = api.as_device(kiosk) if who == "kiosk" else api.as_user(greeter)
    with time_machine.travel(AFTER_HOURS, tick=False):
        response = client.post(
            "/api/v1/halls/h1/tickets/",
            {"business_type": "payment", "override_hours": True},
            format="json",
        )
    assert (response.status_code, response.json()["error"]["code"]) == (403, "forbidden")
    assert not Ticket.objects.exists()


def test_manager_without_override_also_gets_hall_closed(api, hall_with_hours, manager):
    with time_machine.travel(AFTER_HOURS, tick=False):
        response = api.as_user(manager).post(
            "/api/v1/halls/h1/tickets/", {"business_type": "payment"}, format="json"
        )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "hall_closed"


def test_manager_may_issue_outside_opening_hours_with_override(api, hall_with_hours, manager):
    with time_machine.travel(AFTER_HOURS, tick=False):
        response = api.as_user(manager).post(
            "/api/v1/halls/h1/tickets/",
            {"business_type": "payment", "override_hours": True},
            format="json",
        )
    assert response.status_code == 201, response.json()
    assert Ticket.objects.get().service_date == datetime.date(2025, 3, 10)


# --- GET /api/v1/tickets/{id}/ -----------------------------------------------------------------


def test_staff_read_a_ticket_with_the_phone_masked_to_its_last_four_digits(
    api, hall, clerk_a, kiosk
):
    ticket = issue(hall, "payment", device=kiosk, phone="13812345678")

    response = api.as_user(clerk_a).get(f"/api/v1/tickets/{ticket.pk}/")

    assert response.status_code == 200
    body = response.json()
    assert_ticket(body, number="A001", status="waiting")
    assert body["id"] == ticket.pk
    assert body["phone"].endswith("5678")
    assert "1381234" not in response.content.decode()


def test_ticket_detail_is_staff_only(api, hall, kiosk, display_device, outsider):
    ticket = issue(hall, "payment", device=kiosk, phone="13812345678")
    url = f"/api/v1/tickets/{ticket.pk}/"
    assert api.as_device(kiosk).get(url).status_code == 403
    assert api.as_device(display_device).get(url).status_code == 403
    assert api.as_user(outsider).get(url).status_code == 403
    api.credentials()
    api.force_authenticate(user=None)
    assert api.get(url).status_code == 401


# --- GET /api/v1/t/{public_token}/ -------------------------------------------------------------


def test_public_ticket_shows_position_and_estimate_without_personal_data(api, hall, kiosk):
    issue(hall, "payment", device=kiosk)
    ticket = issue(hall, "payment", device=kiosk, phone="13812345678", vip_account="VIP-778899")

    response = api.get(f"/api/v1/t/{ticket.public_token}/")

    assert response.status_code == 200
    body = response.json()
    assert body["number"] == ticket.number
    assert body["status"] == "waiting"
    assert body["people_ahead"] == 1
    assert body["estimated_wait_s"] == 0  # VIP: the first counter to call takes it
    assert body["counter"] is None
    text = response.content.decode()
    for private in ("phone", "vip_account", "13812345678", "5678", "778899", "VIP-"):
        assert private not in text, private


def test_public_ticket_shows_the_counter_only_while_called_or_serving(api, hall, clerk_a, kiosk):
    c1, ticket = open_with_called(hall, kiosk, clerk_a)
    url = f"/api/v1/t/{ticket.public_token}/"

    called = api.get(url).json()
    assert called["status"] == "called"
    assert called["counter"] == {"id": c1.pk, "number": 1}
    assert "clerk_a" not in json.dumps(called)

    counter_start(counter_id=c1.pk, user=clerk_a)
    assert api.get(url).json()["counter"]["number"] == 1

    api.as_user(clerk_a).post(action(c1, "finish"), {"outcome": "completed"}, format="json")
    api.force_authenticate(user=None)
    done = api.get(url).json()
    assert done["status"] == "done"
    assert done["counter"] is None


# --- counter actions ---------------------------------------------------------------------------


def test_open_signs_the_clerk_in_and_close_signs_them_out(api, hall, clerk_a):
    c1 = counter(hall, 1)
    opened = api.as_user(clerk_a).post(action(c1, "open"))
    assert opened.status_code == 200
    assert opened.json()["counter"]["state"] == "open"
    assert opened.json()["counter"]["id"] == c1.pk
    assert opened.json()["interruption"] is None

    closed = api.as_user(clerk_a).post(action(c1, "close"))
    assert closed.status_code == 200
    assert closed.json()["counter"]["state"] == "closed"
    c1.refresh_from_db()
    assert (c1.state, c1.clerk_id) == ("closed", None)
    kinds = list(AuditEvent.objects.filter(counter_id=c1.pk).values_list("kind", flat=True))
    assert sorted(kinds) == ["counter.closed", "counter.opened"]


def test_call_next_returns_called_greeted_and_attended(api, hall, clerk_a, kiosk):
    for _ in range(4):
        issue(hall, "payment", device=kiosk)
    c1 = counter(hall, 1)
    api.as_user(clerk_a).post(action(c1, "open"))

    response = api.as_user(clerk_a).post(action(c1, "call-next"))

    assert response.status_code == 200
    body = response.json()
    assert set(body) >= {"called", "greeted", "attended"}
    assert_ticket(body["called"], number="A001", status="called")
    assert_ticket(body["greeted"], number="A002", status="waiting")
    assert_ticket(body["attended"], number="A003", status="waiting")
    assert body["called"]["counter"]["number"] == 1
    assert Ticket.objects.get(number="A001").counter == c1


def test_call_next_with_nobody_waiting_returns_three_nulls(api, hall, clerk_a):
    c1 = counter(hall, 1)
    api.as_user(clerk_a).post(action(c1, "open"))
    response = api.as_user(clerk_a).post(action(c1, "call-next"))
    assert response.status_code == 200
    assert response.json() == {"called": None, "greeted": None, "attended": None}


def test_call_next_with_one_waiting_leaves_greeted_and_attended_null(api, hall, clerk_a, kiosk):
    issue(hall, "topup", device=kiosk)
    c1 = counter(hall, 1)
    api.as_user(clerk_a).post(action(c1, "open"))
    body = api.as_user(clerk_a).post(action(c1, "call-next")).json()
    assert_ticket(body["called"], number="B001")
    assert body["greeted"] is None
    assert body["attended"] is None


def test_recall_counts_and_suggests_no_show_at_the_hall_limit(api, hall, clerk_a, kiosk):
    c1, ticket = open_with_called(hall, kiosk, clerk_a)
    client = api.as_user(clerk_a)

    answers = [client.post(action(c1, "recall")).json() for _ in range(3)]

    assert [a["recall_count"] for a in answers] == [1, 2, 3]
    assert all(a["recall_limit"] == 3 for a in answers)
    assert [a["suggested_action"] for a in answers] == [None, None, "no_show"]
    assert_ticket(answers[0]["ticket"], number=ticket.number, status="called")
    ticket.refresh_from_db()
    assert ticket.recall_count == 3
    assert AuditEvent.objects.filter(kind=EventKind.TICKET_RECALLED).count() == 3


def test_recall_follows_a_hall_with_a_lower_recall_limit(api, hall, clerk_a, kiosk):
    hall.recall_limit = 1
    hall.save()
    c1, _ = open_with_called(hall, kiosk, clerk_a)
    answer = api.as_user(clerk_a).post(action(c1, "recall")).json()
    assert (answer["recall_limit"], answer["suggested_action"]) == (1, "no_show")


def test_start_then_finish_with_an_outcome(api, hall, clerk_a, kiosk):
    c1, ticket = open_with_called(hall, kiosk, clerk_a)
    client = api.as_user(clerk_a)

    started = client.post(action(c1, "start"))
    assert started.status_code == 200
    assert_ticket(started.json()["ticket"], number=ticket.number, status="serving")

    finished = client.post(
        action(c1, "finish"), {"outcome": "missing_documents", "note": "no ID"}, format="json"
    )
    assert finished.status_code == 200
    assert_ticket(finished.json()["ticket"], number=ticket.number, status="done")
    ticket.refresh_from_db()
    assert (ticket.status, ticket.outcome, ticket.note) == ("done", "missing_documents", "no ID")


def test_finish_without_an_outcome_means_completed(api, hall, clerk_a, kiosk):
    c1, ticket = open_with_called(hall, kiosk, clerk_a)
    counter_start(counter_id=c1.pk, user=clerk_a)
    response = api.as_user(clerk_a).post(action(c1, "finish"), {}, format="json")
    assert response.status_code == 200
    ticket.refresh_from_db()
    assert ticket.outcome == "completed"


def test_no_show_ends_the_called_ticket(api, hall, clerk_a, kiosk):
    c1, ticket = open_with_called(hall, kiosk, clerk_a)
    response = api.as_user(clerk_a).post(action(c1, "no-show"))
    assert response.status_code == 200
    assert_ticket(response.json()["ticket"], number=ticket.number, status="no_show")
    ticket.refresh_from_db()
    assert ticket.status == "no_show"


def test_transfer_to_a_business_type_puts_the_ticket_back_with_its_issue_time(
    api, hall, clerk_a, kiosk
):
    c1, ticket = open_with_called(hall, kiosk, clerk_a)
    counter_start(counter_id=c1.pk, user=clerk_a)

    response = api.as_user(clerk_a).post(
        action(c1, "transfer"), {"business_type": "service"}, format="json"
    )

    assert response.status_code == 200, response.json()
    body = response.json()["ticket"]
    assert_ticket(body, number=ticket.number, status="waiting")
    assert body["business_type"] == "service"
    assert body["transfer_count"] == 1
    refreshed = Ticket.objects.get(pk=ticket.pk)
    assert refreshed.issued_at == ticket.issued_at
    assert refreshed.counter is None
    assert refreshed.business_type.code == "service"


def test_transfer_to_a_counter_pins_the_ticket_to_it(api, hall, clerk_a, clerk_b, kiosk):
    c1, ticket = open_with_called(hall, kiosk, clerk_a)
    c3 = counter(hall, 3)
    counter_open(counter_id=c3.pk, user=clerk_b)

    response = api.as_user(clerk_a).post(action(c1, "transfer"), {"counter": c3.pk}, format="json")

    assert response.status_code == 200, response.json()
    assert_ticket(response.json()["ticket"], number=ticket.number, status="waiting")
    ticket.refresh_from_db()
    assert ticket.pinned_counter == c3
    # Only counter 3 may call it now: counter 1 finds nobody.
    assert api.as_user(clerk_a).post(action(c1, "call-next")).json()["called"] is None
    called = api.as_user(clerk_b).post(action(c3, "call-next")).json()["called"]
    assert called["number"] == ticket.number


def test_pause_returns_the_apology_and_resume_reopens(api, hall, clerk_a):
    c1 = counter(hall, 1)
    client = api.as_user(clerk_a)
    client.post(action(c1, "open"))

    paused = client.post(
        action(c1, "pause"), {"reason": "fetching_materials", "note": "printer"}, format="json"
    )

    assert paused.status_code == 200, paused.json()
    body = paused.json()
    assert body["counter"]["state"] == "paused"
    assert body["interruption"]["reason"] == "fetching_materials"
    assert body["interruption"]["note"] == "printer"
    assert "取资料" in body["interruption"]["apology"]["zh"]
    assert "fetching materials" in body["interruption"]["apology"]["en"]
    assert Interruption.objects.filter(counter=c1, ended_at__isnull=True).count() == 1

    resumed = client.post(action(c1, "resume"))
    assert resumed.status_code == 200
    assert resumed.json()["counter"]["state"] == "open"
    assert resumed.json()["interruption"] is None
    assert not Interruption.objects.filter(counter=c1, ended_at__isnull=True).exists()


def test_pause_gives_the_window_back_to_the_pool(api, hall, clerk_a, kiosk):
    for _ in range(3):
        issue(hall, "payment", device=kiosk)
    c1 = counter(hall, 1)
    client = api.as_user(clerk_a)
    client.post(action(c1, "open"))
    client.post(action(c1, "call-next"))
    assert Ticket.objects.filter(window_counter=c1).count() == 2

    # Issue 16: refused like close while a customer is called, naming the ways out.
    refused = client.post(action(c1, "pause"), {"reason": "break"}, format="json")
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "counter_busy"
    assert refused.json()["error"]["ways_out"] == ["finish", "transfer", "no-show", "requeue"]

    back = client.post(action(c1, "requeue"))
    assert back.status_code == 200
    assert back.json()["ticket"]["status"] == "waiting"
    assert back.json()["ticket"]["number"] == "A001"
    paused = client.post(action(c1, "pause"), {"reason": "break"}, format="json")
    assert paused.status_code == 200

    assert not Ticket.objects.filter(window_counter=c1).exists()
    assert Ticket.objects.filter(status="waiting").count() == 3


def test_manager_may_act_on_any_counter_of_the_hall(api, hall, clerk_a, manager, kiosk):
    c1, ticket = open_with_called(hall, kiosk, clerk_a)
    response = api.as_user(manager).post(action(c1, "no-show"))
    assert response.status_code == 200
    ticket.refresh_from_db()
    assert ticket.status == "no_show"


def test_every_counter_action_writes_exactly_one_audit_event(api, hall, clerk_a, kiosk):
    issue(hall, "payment", device=kiosk)
    issue(hall, "payment", device=kiosk)
    c1 = counter(hall, 1)
    client = api.as_user(clerk_a)
    steps = [
        ("open", None),
        ("call-next", None),
        ("recall", None),
        ("start", None),
        ("finish", {"outcome": "completed"}),
        ("call-next", None),
        ("transfer", {"business_type": "topup"}),
        ("call-next", None),
        ("no-show", None),
        ("pause", {"reason": "break"}),
        ("resume", None),
        ("close", None),
    ]
    for name, body in steps:
        before = AuditEvent.objects.count()
        response = client.post(action(c1, name), body, format="json")
        assert response.status_code == 200, (name, response.json())
        assert AuditEvent.objects.count() == before + 1, name
    assert Counter.objects.get(pk=c1.pk).state == "closed"
