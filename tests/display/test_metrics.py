"""The wall's figures (display.wall.metrics.hall_metrics) against hand-built ticket histories.

Every history is driven through the real services with explicit times, in the hall "h1"
(Asia/Shanghai, open all day; target wait 15 min). Times below are the hall's local time.
"""

import datetime
import zoneinfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from counters.models import Counter, SatisfactionRating
from counters.services import (
    counter_call_next,
    counter_close,
    counter_finish,
    counter_no_show,
    counter_open,
    counter_pause,
    counter_recall,
    counter_start,
    counter_transfer,
)
from display.wall.metrics import hall_metrics, percentile
from hall.models import BusinessType, Incident, IncidentMode, Role, StaffMembership
from queueing.models import Ticket
from queueing.services import ticket_cancel
from recovery.alerts import alert_raise
from recovery.models import Complaint
from tests.conftest import counter
from tests.factories import issue, payment_hall

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
URL = "/api/v1/halls/h1/metrics/"

# Every metrics computation reads this many times, whatever the hall's size (see the module
# docstring of display.wall.metrics; the forecast's history is cached per hall, warm here).
QUERY_BOUND = 17


def at(hh: int, mm: int = 0, ss: int = 0, *, day: int = 24) -> datetime.datetime:
    return datetime.datetime(2026, 11, day, hh, mm, ss, tzinfo=SHANGHAI)


def serve(counter_obj, clerk, *, called, started, finished):
    """Call the counter's next ticket, start and finish it at the given times."""
    window = counter_call_next(counter_id=counter_obj.pk, user=clerk, now=called)
    counter_start(counter_id=counter_obj.pk, user=clerk, now=started)
    counter_finish(counter_id=counter_obj.pk, user=clerk, now=finished)
    return window.called


def by_code(metrics: dict) -> dict:
    return {row["code"]: row for row in metrics["waiting"]["by_business_type"]}


@pytest.mark.django_db
def test_an_empty_hall_has_zeros_and_no_waits(hall):
    metrics = hall_metrics(hall=hall, now=at(9))

    assert metrics["hall"] == "h1"
    assert metrics["service_date"] == "2026-11-24"
    assert metrics["target_wait_s"] == 15 * 60
    assert metrics["waiting"]["total"] == 0
    assert metrics["waiting"]["longest_wait_s"] is None
    assert metrics["waiting"]["by_lane"] == {"vip": 0, "priority": 0, "normal": 0}
    assert [row["code"] for row in metrics["waiting"]["by_business_type"]] == [
        "payment",
        "topup",
        "service",
    ]
    assert metrics["counters"]["closed"] == 4 and metrics["counters"]["open"] == 0
    assert metrics["today"] == {
        "issued": 0,
        "served": 0,
        "no_shows": 0,
        "transfers": 0,
        "cancelled": 0,
        "mean_wait_s": None,
        "p90_wait_s": None,
        "service_level": None,
        "service_level_last_hour": None,
    }
    assert metrics["satisfaction"]["score"] is None and metrics["satisfaction"]["target"] == 85
    assert metrics["clerks"] == [] and metrics["incidents"] == [] and metrics["alerts"] == []
    assert metrics["complaints"] == {
        "open": 0,
        "due_soon": 0,
        "overdue": 0,
        "reply_rate": None,
        "on_time_rate": None,
    }


@pytest.mark.django_db
def test_waiting_by_business_type_and_lane_to_the_second(hall, greeter):
    issue(hall, "payment", by=greeter, at=at(10, 0, 0))
    issue(hall, "payment", by=greeter, lane="priority", reason="elderly", at=at(10, 5, 30))
    issue(hall, "payment", by=greeter, lane="vip", at=at(10, 10, 0))
    issue(hall, "service", by=greeter, at=at(10, 19, 59))

    metrics = hall_metrics(hall=hall, now=at(10, 20, 0))

    waiting = metrics["waiting"]
    assert waiting["total"] == 4
    assert waiting["by_lane"] == {"vip": 1, "priority": 1, "normal": 2}
    assert waiting["longest_wait_s"] == 1200
    assert waiting["mean_wait_s"] == round((1200 + 870 + 600 + 1) / 4)
    payment, topup, service = (by_code(metrics)[c] for c in ("payment", "topup", "service"))
    assert payment["waiting"] == 3
    assert payment["by_lane"] == {"vip": 1, "priority": 1, "normal": 1}
    assert (payment["longest_wait_s"], payment["mean_wait_s"]) == (1200, 890)
    assert payment["over_target"] is True  # 20 min > 15 min
    assert service["over_target"] is False and service["longest_wait_s"] == 1
    assert topup["waiting"] == 0 and topup["longest_wait_s"] is None
    assert payment["prefix"] == "A" and payment["name_zh"] == "缴费"
    # Before any counter opens, the estimate assumes the hall staffs its counters.
    assert isinstance(payment["estimated_wait_s"], int)
    assert payment["unavailable"] is False


@pytest.mark.django_db
def test_todays_figures_waits_and_service_level(hall, greeter, clerk_a, clerk_b):
    one, two = counter(hall, 1), counter(hall, 2)
    counter_open(counter_id=one.pk, user=clerk_a, now=at(8, 0))
    counter_open(counter_id=two.pk, user=clerk_b, now=at(8, 0))
    # A001 waits 5 min, A002 20 min (past the 15 min target), A003 10 min: all served.
    issue(hall, by=greeter, at=at(9, 0))
    issue(hall, by=greeter, at=at(9, 0))
    issue(hall, by=greeter, at=at(9, 0))
    serve(one, clerk_a, called=at(9, 5), started=at(9, 6), finished=at(9, 10))  # 4 min
    # Counter 2 takes A003, counter 1's attended ticket, after 10 min: it calls first.
    assert counter_call_next(counter_id=two.pk, user=clerk_b, now=at(9, 10)).called.number == "A003"
    counter_start(counter_id=two.pk, user=clerk_b, now=at(9, 11))
    serve(one, clerk_a, called=at(9, 20), started=at(9, 20), finished=at(9, 26))  # 6 min
    # A004: called, recalled twice (the wait ends at the first call), no-show.
    issue(hall, by=greeter, at=at(9, 30))
    counter_call_next(counter_id=one.pk, user=clerk_a, now=at(9, 31))
    counter_recall(counter_id=one.pk, user=clerk_a, now=at(9, 33))
    counter_recall(counter_id=one.pk, user=clerk_a, now=at(9, 35))
    counter_no_show(counter_id=one.pk, user=clerk_a, now=at(9, 36))
    # A005: cancelled while waiting. A006: waiting.
    ticket_cancel(ticket=issue(hall, by=greeter, at=at(9, 40)), actor=greeter)
    issue(hall, by=greeter, at=at(9, 50))

    metrics = hall_metrics(hall=hall, now=at(10, 0))

    today = metrics["today"]
    assert (today["issued"], today["served"], today["no_shows"], today["cancelled"]) == (6, 2, 1, 1)
    assert today["transfers"] == 0
    # Waits of those who came: 5, 20 (done) and 10 min (serving now).
    assert today["mean_wait_s"] == round((300 + 1200 + 600) / 3)
    assert today["p90_wait_s"] == 1200
    assert today["service_level"] == round(2 / 3, 4)
    # Called within the last hour (since 09:00): the same three.
    assert today["service_level_last_hour"] == round(2 / 3, 4)
    later = hall_metrics(hall=hall, now=at(10, 9))  # 09:09 on: only A002 (09:20) and A003
    assert later["today"]["service_level_last_hour"] == 0.5
    clerks = {c["name"]: c for c in metrics["clerks"]}
    assert clerks["clerk_a"] == {
        "id": clerk_a.pk,
        "name": "clerk_a",
        "counter": 1,
        "served": 2,
        "mean_service_s": 300,  # 4 and 6 min
    }
    assert clerks["clerk_b"]["served"] == 0 and clerks["clerk_b"]["mean_service_s"] is None
    assert clerks["clerk_b"]["counter"] == 2


@pytest.mark.django_db
def test_a_ticket_belongs_to_the_service_date_it_was_issued_on(hall, greeter, clerk_a):
    one = counter(hall, 1)
    counter_open(counter_id=one.pk, user=clerk_a, now=at(23, 0, day=23))
    issue(hall, by=greeter, at=at(23, 50, day=23))  # issued on the 23rd ...
    serve(
        one, clerk_a, called=at(0, 5), started=at(0, 6), finished=at(0, 10)
    )  # ... served on the 24th
    issue(hall, by=greeter, at=at(0, 1))  # the 24th's first ticket, still waiting

    before_midnight = hall_metrics(hall=hall, now=at(23, 59, day=23))
    after = hall_metrics(hall=hall, now=at(0, 30))

    assert before_midnight["service_date"] == "2026-11-23"
    assert before_midnight["today"]["issued"] == 1
    assert after["service_date"] == "2026-11-24"
    assert after["today"]["issued"] == 1  # only the 24th's own ticket
    assert after["today"]["served"] == 0 and after["today"]["service_level"] is None
    # The last hour looks across midnight: the 23rd's ticket was called 25 min ago, after 15 min.
    assert after["today"]["service_level_last_hour"] == 1.0
    # Its clerk's throughput belongs to the 23rd too.
    assert after["clerks"] == [
        {"id": clerk_a.pk, "name": "clerk_a", "counter": 1, "served": 0, "mean_service_s": None}
    ]
    assert hall_metrics(hall=hall, now=at(0, 20))["waiting"]["total"] == 1


@pytest.mark.django_db
def test_a_transferred_ticket_keeps_its_issue_time(hall, greeter, clerk_a, clerk_b):
    one, four = counter(hall, 1), counter(hall, 4)
    counter_open(counter_id=one.pk, user=clerk_a, now=at(8, 0))
    issue(hall, "payment", by=greeter, at=at(9, 0))
    counter_call_next(counter_id=one.pk, user=clerk_a, now=at(9, 4))
    counter_start(counter_id=one.pk, user=clerk_a, now=at(9, 5))
    counter_transfer(counter_id=one.pk, user=clerk_a, business_type_code="service", now=at(9, 8))

    waiting = hall_metrics(hall=hall, now=at(9, 10))

    service = by_code(waiting)["service"]
    assert service["waiting"] == 1
    assert service["longest_wait_s"] == 600  # since 09:00, its original issue
    assert by_code(waiting)["payment"]["waiting"] == 0
    assert waiting["today"]["transfers"] == 1 and waiting["today"]["issued"] == 1

    counter_open(counter_id=four.pk, user=clerk_b, now=at(9, 11))
    serve(four, clerk_b, called=at(9, 12), started=at(9, 13), finished=at(9, 23))
    done = hall_metrics(hall=hall, now=at(9, 30))

    # The wait runs from the issue to the call at the right counter: 12 min, within target.
    assert done["today"]["mean_wait_s"] == 720 and done["today"]["service_level"] == 1.0
    assert done["today"]["served"] == 1 and done["today"]["transfers"] == 1
    clerks = {c["name"]: c for c in done["clerks"]}
    assert clerks["clerk_b"]["served"] == 1 and clerks["clerk_b"]["mean_service_s"] == 600
    assert clerks["clerk_a"]["served"] == 0  # the wrong counter did not serve it


@pytest.mark.django_db
def test_counters_serving_idle_paused_closed_with_their_since(
    hall, greeter, clerk_a, clerk_b, manager
):
    one, two, three = counter(hall, 1), counter(hall, 2), counter(hall, 3)
    counter_open(counter_id=one.pk, user=clerk_a, now=at(8, 0))
    counter_open(counter_id=two.pk, user=clerk_b, now=at(8, 0))
    counter_open(counter_id=three.pk, user=manager, now=at(8, 0))
    for _ in range(3):
        issue(hall, by=greeter, at=at(9, 0))
    serve(two, clerk_b, called=at(9, 1), started=at(9, 1), finished=at(9, 6))  # greets A002
    counter_call_next(counter_id=one.pk, user=clerk_a, now=at(9, 10))
    counter_pause(counter_id=three.pk, user=manager, reason="phone_call", now=at(9, 20))

    metrics = hall_metrics(hall=hall, now=at(9, 32, 30))

    counters = metrics["counters"]
    assert {k: counters[k] for k in ("open", "serving", "idle", "paused", "closed")} == {
        "open": 2,
        "serving": 1,
        "idle": 1,
        "paused": 1,
        "closed": 1,
    }
    rows = {c["number"]: c for c in counters["list"]}
    assert rows[1]["state"] == "serving" and rows[1]["ticket"] == "A003"  # attended by 2
    assert rows[1]["clerk"] == "clerk_a" and rows[1]["since"] == at(9, 10)
    assert rows[2]["state"] == "idle" and rows[2]["since"] == at(9, 6)  # its last finish
    assert rows[3]["state"] == "paused"
    assert rows[3]["pause"]["reason"] == "phone_call"
    assert rows[3]["pause"]["seconds"] == 12 * 60 + 30
    assert rows[3]["pause"]["since"] == at(9, 20)
    assert rows[3]["pause"]["reason_label_zh"] and rows[3]["pause"]["reason_label_en"]
    assert rows[4]["state"] == "closed" and rows[4]["clerk"] is None
    assert rows[1]["business_types"] == ["payment", "topup"]
    counter_close(counter_id=two.pk, user=clerk_b, now=at(9, 40))
    assert hall_metrics(hall=hall, now=at(9, 41))["counters"]["closed"] == 2


@pytest.mark.django_db
def test_satisfaction_complaints_incidents_and_alerts(hall, greeter, clerk_a, manager):
    one = counter(hall, 1)
    counter_open(counter_id=one.pk, user=clerk_a, now=at(8, 0))
    tickets = [issue(hall, by=greeter, at=at(9, 0)) for _ in range(3)]
    for minute in (1, 2, 3):
        serve(
            one,
            clerk_a,
            called=at(9, minute * 10),
            started=at(9, minute * 10),
            finished=at(9, minute * 10 + 5),
        )
    for ticket, rating, score in zip(
        tickets, ("very_satisfied", "satisfied", "dissatisfied"), (100, 80, 0), strict=True
    ):
        SatisfactionRating.objects.create(
            ticket=ticket,
            hall=hall,
            counter=one,
            clerk=clerk_a,
            rating=rating,
            score=score,
            service_date=datetime.date(2026, 11, 24),
            rated_at=at(9, 40),
        )
    # Complaints: one overdue, one due within the reminder window, one replied on time today,
    # one replied late today, one from yesterday replied.
    base = {"hall": hall, "owner": manager, "category": "billing", "description": "…"}
    Complaint.objects.create(**base, received_at=at(7, 0), callback_due_at=at(9, 0))
    Complaint.objects.create(**base, received_at=at(8, 0), callback_due_at=at(10, 10))
    Complaint.objects.create(
        **base,
        received_at=at(8, 0),
        callback_due_at=at(10, 0),
        status="replied",
        replied_at=at(9, 0),
    )
    Complaint.objects.create(
        **base,
        received_at=at(6, 0),
        callback_due_at=at(8, 0),
        status="replied",
        replied_at=at(9, 0),
    )
    Complaint.objects.create(
        **base,
        received_at=at(8, 0, day=23),
        callback_due_at=at(10, 0, day=23),
        status="replied",
        replied_at=at(9, 0, day=23),
    )
    incident = Incident.objects.create(
        hall=hall,
        kind="billing",
        mode=IncidentMode.UNAVAILABLE,
        apology_zh="系统故障",
        apology_en="System fault",
        reporter=manager,
        opened_at=at(9, 45),
    )
    incident.business_types.set(BusinessType.objects.filter(code="topup"))
    alert = alert_raise(
        hall=hall,
        kind="long_wait",
        subject="bt:payment",
        message_zh="缴费等候过长",
        message_en="Payment: long wait",
        now=at(9, 50),
    )

    metrics = hall_metrics(hall=hall, now=at(10, 0))

    assert metrics["satisfaction"] == {
        "ratings": 3,
        "score": 60.0,
        "target": 85,
        "very_satisfied": 1,
        "satisfied": 1,
        "dissatisfied": 1,
    }
    assert metrics["complaints"] == {
        "open": 2,
        "due_soon": 1,  # due 10:10, the hall reminds 30 min before
        "overdue": 1,
        "reply_rate": 0.5,  # of the four received today, two replied
        "on_time_rate": 0.5,
    }
    assert [i["id"] for i in metrics["incidents"]] == [incident.pk]
    assert by_code(metrics)["topup"]["unavailable"] is True
    assert by_code(metrics)["payment"]["unavailable"] is False
    assert metrics["alerts"] == [
        {
            "id": alert.pk,
            "kind": "long_wait",
            "subject": "bt:payment",
            "business_type": "payment",  # the wall links the alert to its row
            "counter": None,
            "suggested_counters": [],
            "message_zh": "缴费等候过长",
            "message_en": "Payment: long wait",
            "suggestion_zh": "",
            "suggestion_en": "",
            "raised_at": at(9, 50),
        }
    ]


@pytest.mark.django_db
def test_a_business_type_no_counter_serves_is_unavailable(hall):
    BusinessType.objects.create(
        hall=hall, code="cards", prefix="D", name_zh="售卡", name_en="Cards"
    )

    row = by_code(hall_metrics(hall=hall, now=at(9)))["cards"]

    assert row["unavailable"] is True and row["estimated_wait_s"] is None


def _busy_hall(code: str, *, counters: int, tickets: int, django_user_model):
    """A payment hall with ``counters`` counters, each with its clerk, that served all but three
    of ``tickets`` tickets round the counters; its first counter is paused, its last closed."""
    busy = payment_hall(code, code, counters=counters)
    desks = list(Counter.objects.filter(hall=busy).order_by("number"))
    clerks = []
    for desk in desks:
        clerk = django_user_model.objects.create_user(username=f"{code}-{desk.number}")
        StaffMembership.objects.create(user=clerk, hall=busy, role=Role.CLERK)
        counter_open(counter_id=desk.pk, user=clerk, now=at(7, 0))
        clerks.append(clerk)
    for n in range(tickets):
        issue(busy, device=None, by=clerks[0], at=at(8, 0) + datetime.timedelta(seconds=20 * n))
    for n in range(tickets - 3):
        desk, clerk = desks[n % counters], clerks[n % counters]
        t = at(8, 1) + datetime.timedelta(seconds=25 * n)
        if counter_call_next(counter_id=desk.pk, user=clerk, now=t).called is None:
            continue
        counter_start(counter_id=desk.pk, user=clerk, now=t)
        counter_finish(counter_id=desk.pk, user=clerk, now=t + datetime.timedelta(seconds=20))
    counter_pause(counter_id=desks[0].pk, user=clerks[0], reason="break", now=at(9, 0))
    counter_close(counter_id=desks[-1].pk, user=clerks[-1], now=at(9, 1))  # served, gone home
    SatisfactionRating.objects.create(
        ticket=Ticket.objects.filter(hall=busy, status="done").first(),
        hall=busy,
        counter=desks[1],
        rating="satisfied",
        score=80,
        service_date=datetime.date(2026, 11, 24),
    )
    return busy


def _queries(hall) -> int:
    hall_metrics(hall=hall, now=at(9, 30))  # warm the forecast's per-hall history cache
    with CaptureQueriesContext(connection) as queries:
        metrics = hall_metrics(hall=hall, now=at(9, 30))
    assert metrics["counters"]["paused"] == 1 and metrics["counters"]["closed"] == 1
    assert any(c["counter"] is None and c["served"] for c in metrics["clerks"])
    return len(queries.captured_queries)


@pytest.mark.django_db
def test_the_number_of_queries_does_not_grow_with_the_hall(django_user_model):
    small = _busy_hall("small", counters=2, tickets=6, django_user_model=django_user_model)
    big = _busy_hall("big", counters=12, tickets=80, django_user_model=django_user_model)

    assert hall_metrics(hall=big, now=at(9, 30))["today"]["issued"] == 80
    assert _queries(small) == _queries(big) <= QUERY_BOUND


@pytest.mark.django_db
def test_staff_of_the_hall_read_the_metrics_api(hall, greeter, clerk_a, manager, api):
    issue(hall, by=greeter)
    for person in (greeter, clerk_a, manager):
        response = api.as_user(person).get(URL)
        assert response.status_code == 200
        body = response.json()
        assert body["hall"] == "h1" and body["waiting"]["total"] == 1
        assert set(body) >= {
            "at",
            "service_date",
            "target_wait_s",
            "counters",
            "clerks",
            "today",
            "satisfaction",
            "incidents",
            "complaints",
            "alerts",
        }


@pytest.mark.django_db
def test_devices_outsiders_and_strangers_cannot_read_the_metrics(
    hall, display_device, kiosk, outsider, api
):
    for device in (display_device, kiosk):
        response = api.as_device(device).get(URL)
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "forbidden"
    response = api.as_user(outsider).get(URL)
    assert response.status_code == 403 and response.json()["error"]["code"] == "forbidden"
    api.as_user(None)
    assert api.get(URL).status_code in (401, 403)
    assert api.as_user(outsider).get("/api/v1/halls/nope/metrics/").status_code == 404


@pytest.mark.django_db
def test_a_wait_of_exactly_the_target_is_within_it(hall, greeter, clerk_a):
    one = counter(hall, 1)
    counter_open(counter_id=one.pk, user=clerk_a, now=at(8, 0))
    issue(hall, by=greeter, at=at(9, 0, 0))
    issue(hall, by=greeter, at=at(9, 0, 0))
    serve(one, clerk_a, called=at(9, 15, 0), started=at(9, 15, 0), finished=at(9, 16, 0))
    serve(one, clerk_a, called=at(9, 16, 2), started=at(9, 16, 2), finished=at(9, 17, 0))

    today = hall_metrics(hall=hall, now=at(9, 30))["today"]

    assert today["service_level"] == 0.5  # 15:00 is within, 16:02 is not
    assert (today["mean_wait_s"], today["p90_wait_s"]) == (931, 962)


@pytest.mark.django_db
def test_p90_is_the_nearest_rank_of_the_waits(hall, greeter, clerk_a):
    one = counter(hall, 1)
    counter_open(counter_id=one.pk, user=clerk_a, now=at(8, 0))
    for _ in range(10):
        issue(hall, by=greeter, at=at(9, 0))
    for minute in range(1, 11):  # waits of 1, 2, ... 10 minutes
        called = at(9, minute)
        serve(one, clerk_a, called=called, started=called, finished=called)

    today = hall_metrics(hall=hall, now=at(9, 30))["today"]

    assert today["p90_wait_s"] == 9 * 60  # nine of the ten waits are at or below it
    assert today["mean_wait_s"] == 330 and today["service_level"] == 1.0


def test_percentile_is_the_nearest_rank():
    assert percentile([], 0.9) is None
    assert percentile([5], 0.9) == 5
    assert percentile(list(range(1, 11)), 0.9) == 9
    assert percentile(list(range(1, 12)), 0.9) == 10
