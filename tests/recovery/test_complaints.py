"""Complaints (首问负责制): the first receiver owns the complaint, a callback is promised, every
complaint gets one reply; the KPIs; the API; nothing private reaches the displays."""

import datetime

import pytest
import time_machine
from django.utils import timezone

from counters.services import counter_call_next, counter_open, counter_start
from display.events import event_message
from hall.errors import Forbidden, InvalidInput
from hall.models import AuditEvent, EventKind
from recovery.complaints import ComplaintAlreadyReplied, complaint_register, complaint_reply
from recovery.models import Complaint, ComplaintStatus
from recovery.selectors import complaint_kpis, complaints_for
from tests.conftest import counter
from tests.factories import issue

NOON = datetime.datetime(2026, 3, 2, 12, 0, tzinfo=datetime.UTC)
PHONE = "13812345678"
WORDS = "上月话费多扣了二十元,营业员态度冷淡"


def register(hall, owner, **kw):
    fields = {"category": "billing", "description": WORDS, "customer_phone": PHONE}
    return complaint_register(hall=hall, owner=owner, **{**fields, **kw})


def served_ticket(hall, greeter, clerk):
    ticket = issue(hall, by=greeter, phone=PHONE)
    c = counter(hall, 1)
    counter_open(counter_id=c.pk, user=clerk)
    counter_call_next(counter_id=c.pk, user=clerk)
    counter_start(counter_id=c.pk, user=clerk)
    return ticket


# --- registering ----------------------------------------------------------------------------


def test_the_clerk_who_receives_a_complaint_owns_it_with_a_callback_in_two_hours(
    hall, greeter, clerk_a
):
    ticket = served_ticket(hall, greeter, clerk_a)

    complaint = register(hall, clerk_a, ticket=ticket, customer_name="李先生", now=NOON)

    stored = Complaint.objects.get(pk=complaint.pk)
    assert stored.owner == clerk_a
    assert stored.ticket == ticket
    assert stored.status == ComplaintStatus.OPEN
    assert stored.received_at == NOON
    assert stored.callback_due_at == NOON + datetime.timedelta(hours=2)
    assert (stored.customer_name, stored.customer_phone, stored.description) == (
        "李先生",
        PHONE,
        WORDS,
    )


def test_the_promised_callback_follows_the_halls_setting_or_the_clerks_promise(hall, clerk_a):
    hall.complaint_callback_minutes = 240
    hall.save()
    assert register(hall, clerk_a, now=NOON).callback_due_at == NOON + datetime.timedelta(hours=4)
    promised = register(hall, clerk_a, callback_minutes=30, now=NOON)
    assert promised.callback_due_at == NOON + datetime.timedelta(minutes=30)


def test_registering_writes_one_event_with_nothing_private_in_it(hall, clerk_a):
    complaint = register(hall, clerk_a, customer_name="李先生")

    event = AuditEvent.objects.get(kind=EventKind.COMPLAINT_REGISTERED)
    assert event.actor == clerk_a
    assert event.data == {"complaint": complaint.pk, "category": "billing"}
    assert event.ticket_id is None
    # What every display of the hall would receive:
    frame = str(event_message(event, ticket=None, counters=[]))
    assert PHONE not in frame and PHONE[-4:] not in frame
    assert "李先生" not in frame and "话费" not in frame
    assert event_message(event, ticket=None, counters=[])["complaint"] == {
        "id": complaint.pk,
        "category": "billing",
    }


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"category": "rude"}, "category"),
        ({"description": "   "}, "description"),
        ({"description": "x" * 2001}, "description"),
        ({"customer_phone": "call me"}, "customer_phone"),
        ({"callback_minutes": 0}, "callback_minutes"),
        ({"customer_name": "名" * 51}, "customer_name"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(hall, clerk_a, change, field):
    with pytest.raises(InvalidInput) as refused:
        register(hall, clerk_a, **change)
    assert field in refused.value.fields
    assert not Complaint.objects.exists()
    assert not AuditEvent.objects.filter(kind=EventKind.COMPLAINT_REGISTERED).exists()


def test_a_ticket_of_another_hall_is_refused(hall, other_hall, outsider, clerk_a):
    ticket = issue(other_hall, by=outsider)
    with pytest.raises(InvalidInput) as refused:
        register(hall, clerk_a, ticket=ticket)
    assert "ticket" in refused.value.fields
    assert not Complaint.objects.exists()


def test_greeters_and_outsiders_do_not_register_complaints(hall, greeter, outsider):
    for person in (greeter, outsider):
        with pytest.raises(Forbidden):
            register(hall, person)
    assert not Complaint.objects.exists()


# --- replying -------------------------------------------------------------------------------


def test_the_owner_replies_once_and_on_time(hall, clerk_a):
    complaint = register(hall, clerk_a, now=NOON)

    replied = complaint_reply(
        complaint_id=complaint.pk,
        user=clerk_a,
        reply="已核实多扣费用,下月返还",
        now=NOON + datetime.timedelta(minutes=50),
    )

    assert replied.status == ComplaintStatus.REPLIED
    assert replied.replied_by == clerk_a
    assert replied.replied_at == NOON + datetime.timedelta(minutes=50)
    assert replied.replied_on_time is True
    event = AuditEvent.objects.get(kind=EventKind.COMPLAINT_REPLIED)
    assert event.data == {"complaint": complaint.pk, "category": "billing", "on_time": True}


def test_a_second_reply_is_refused_and_the_first_stands(hall, clerk_a, manager):
    complaint = register(hall, clerk_a, now=NOON)
    complaint_reply(complaint_id=complaint.pk, user=clerk_a, reply="first", now=NOON)

    with pytest.raises(ComplaintAlreadyReplied) as refused:
        complaint_reply(complaint_id=complaint.pk, user=manager, reply="second")

    assert refused.value.status_code == 409
    stored = Complaint.objects.get(pk=complaint.pk)
    assert (stored.reply, stored.replied_by) == ("first", clerk_a)
    assert AuditEvent.objects.filter(kind=EventKind.COMPLAINT_REPLIED).count() == 1


def test_a_late_reply_is_recorded_as_late(hall, clerk_a):
    complaint = register(hall, clerk_a, callback_minutes=60, now=NOON)
    late = NOON + datetime.timedelta(minutes=61)
    replied = complaint_reply(complaint_id=complaint.pk, user=clerk_a, reply="抱歉", now=late)
    assert replied.replied_on_time is False


def test_only_the_owner_or_a_manager_replies(hall, clerk_a, clerk_b, manager, outsider):
    complaint = register(hall, clerk_a)
    for person in (clerk_b, outsider):
        with pytest.raises(Forbidden):
            complaint_reply(complaint_id=complaint.pk, user=person, reply="ok")
    assert Complaint.objects.get(pk=complaint.pk).status == ComplaintStatus.OPEN
    complaint_reply(complaint_id=complaint.pk, user=manager, reply="经理已回复")
    assert Complaint.objects.get(pk=complaint.pk).replied_by == manager


def test_an_empty_reply_is_refused(hall, clerk_a):
    complaint = register(hall, clerk_a)
    with pytest.raises(InvalidInput):
        complaint_reply(complaint_id=complaint.pk, user=clerk_a, reply="  ")
    assert Complaint.objects.get(pk=complaint.pk).status == ComplaintStatus.OPEN


# --- KPIs -----------------------------------------------------------------------------------


def test_kpis_reply_rate_over_registered_and_on_time_rate_over_replied(hall, clerk_a):
    day = (NOON - datetime.timedelta(hours=4), NOON + datetime.timedelta(hours=8))
    on_time = register(hall, clerk_a, callback_minutes=60, now=NOON)
    late = register(hall, clerk_a, callback_minutes=10, now=NOON)
    register(hall, clerk_a, callback_minutes=30, now=NOON)  # due 12:30, open
    register(hall, clerk_a, callback_minutes=120, now=NOON)  # due 14:00, open
    register(hall, clerk_a, now=NOON - datetime.timedelta(days=1))  # yesterday: overdue
    at = NOON + datetime.timedelta(minutes=20)
    complaint_reply(complaint_id=on_time.pk, user=clerk_a, reply="ok", now=at)
    complaint_reply(complaint_id=late.pk, user=clerk_a, reply="ok", now=at)

    kpis = complaint_kpis(hall=hall, since=day[0], until=day[1], now=at)

    assert (kpis.registered, kpis.replied, kpis.replied_on_time) == (4, 2, 1)
    assert kpis.reply_rate == 0.5
    assert kpis.on_time_rate == 0.5
    # As of 12:20 with the default 30-minute reminder lead: 12:30 is due soon, yesterday's is
    # overdue whenever it came in.
    assert (kpis.open, kpis.due_soon, kpis.overdue) == (3, 1, 1)


def test_kpis_of_a_day_without_complaints_are_empty_not_zero(hall):
    kpis = complaint_kpis(hall=hall, since=NOON, until=NOON + datetime.timedelta(days=1))
    assert (kpis.reply_rate, kpis.on_time_rate) == (None, None)


def test_open_complaints_are_listed_soonest_deadline_first(hall, clerk_a, clerk_b):
    later = register(hall, clerk_a, callback_minutes=90, now=NOON)
    sooner = register(hall, clerk_b, callback_minutes=15, now=NOON)
    assert list(complaints_for(hall=hall, status=ComplaintStatus.OPEN)) == [sooner, later]
    assert list(complaints_for(hall=hall, owner=clerk_a)) == [later]


# --- the API --------------------------------------------------------------------------------


def test_api_registers_a_complaint_owned_by_the_caller(api, hall, greeter, clerk_a):
    ticket = served_ticket(hall, greeter, clerk_a)
    with time_machine.travel(NOON, tick=False):
        response = api.as_user(clerk_a).post(
            "/api/v1/halls/h1/complaints/",
            {"category": "service", "description": WORDS, "ticket": ticket.pk},
            format="json",
        )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["owner"] == "clerk_a"
    assert body["ticket"] == {"id": ticket.pk, "number": ticket.number}
    assert body["status"] == "open"
    assert body["seconds_to_deadline"] == 7200
    assert Complaint.objects.get(pk=body["id"]).owner == clerk_a


def test_api_replays_a_registration_with_the_same_idempotency_key_once(api, hall, clerk_a):
    api.as_user(clerk_a)
    payload = {"category": "network", "description": "信号差"}
    first = api.post(
        "/api/v1/halls/h1/complaints/", payload, format="json", HTTP_IDEMPOTENCY_KEY="k1"
    )
    again = api.post(
        "/api/v1/halls/h1/complaints/", payload, format="json", HTTP_IDEMPOTENCY_KEY="k1"
    )
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert Complaint.objects.count() == 1


def test_api_refuses_bad_input_in_the_error_shape(api, hall, other_hall, outsider, clerk_a):
    api.as_user(clerk_a)
    response = api.post(
        "/api/v1/halls/h1/complaints/", {"category": "nope", "description": ""}, format="json"
    )
    assert response.status_code == 400
    assert {"category", "description"} <= set(response.json()["error"]["fields"])
    foreign = issue(other_hall, by=outsider)
    response = api.post(
        "/api/v1/halls/h1/complaints/",
        {"category": "other", "description": "x", "ticket": foreign.pk},
        format="json",
    )
    assert response.status_code == 400
    assert "ticket" in response.json()["error"]["fields"]
    assert api.get("/api/v1/halls/h1/complaints/?status=closed").status_code == 400
    assert not Complaint.objects.exists()


def test_api_who_may_register_and_list(api, hall, greeter, outsider, display_device):
    payload = {"category": "other", "description": "x"}
    assert (
        api.as_user(greeter)
        .post("/api/v1/halls/h1/complaints/", payload, format="json")
        .status_code
        == 403
    )
    assert (
        api.as_user(outsider)
        .post("/api/v1/halls/h1/complaints/", payload, format="json")
        .status_code
        == 403
    )
    assert api.as_user(greeter).get("/api/v1/halls/h1/complaints/").status_code == 403
    assert api.as_device(display_device).get("/api/v1/halls/h1/complaints/").status_code == 403
    assert api.as_user(outsider).get("/api/v1/halls/h1/complaints/").status_code == 403
    assert not Complaint.objects.exists()


def test_api_a_clerk_lists_their_own_a_manager_the_halls(api, hall, clerk_a, clerk_b, manager):
    mine = register(hall, clerk_a)
    theirs = register(hall, clerk_b)
    replied = register(hall, clerk_a)
    complaint_reply(complaint_id=replied.pk, user=clerk_a, reply="ok")

    clerks_view = api.as_user(clerk_a).get("/api/v1/halls/h1/complaints/?status=open").json()
    assert [c["id"] for c in clerks_view] == [mine.pk]
    assert clerks_view[0]["customer_phone"] == PHONE  # the owner calls back
    managers_view = api.as_user(manager).get("/api/v1/halls/h1/complaints/?status=open").json()
    assert {c["id"] for c in managers_view} == {mine.pk, theirs.pk}
    everything = api.as_user(manager).get("/api/v1/halls/h1/complaints/").json()
    assert len(everything) == 3
    assert api.as_user(manager).get("/api/v1/halls/h1/complaints/?mine=1").json() == []


def test_api_reply_then_a_second_reply_is_a_409(api, hall, clerk_a, clerk_b):
    complaint = register(hall, clerk_a)
    url = f"/api/v1/complaints/{complaint.pk}/reply/"

    assert api.as_user(clerk_b).post(url, {"reply": "x"}, format="json").status_code == 403
    first = api.as_user(clerk_a).post(url, {"reply": "已处理"}, format="json")
    assert first.status_code == 200
    assert first.json()["status"] == "replied"
    assert first.json()["replied_on_time"] is True
    assert first.json()["replied_by"] == "clerk_a"
    second = api.as_user(clerk_a).post(url, {"reply": "again"}, format="json")
    assert second.status_code == 409
    assert second.json()["error"]["code"] == "complaint_already_replied"
    assert (
        api.as_user(clerk_a)
        .post("/api/v1/complaints/999999/reply/", {"reply": "x"}, format="json")
        .status_code
        == 404
    )
    assert Complaint.objects.get(pk=complaint.pk).reply == "已处理"


def test_kpis_count_by_the_time_the_complaint_came_in(hall, clerk_a):
    now = timezone.now()
    register(hall, clerk_a, now=now - datetime.timedelta(days=2))
    kpis = complaint_kpis(hall=hall, since=now - datetime.timedelta(days=1), until=now)
    assert kpis.registered == 0 and kpis.open == 1 and kpis.overdue == 1
