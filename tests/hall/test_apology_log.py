"""The apology log: every counter pause puts its apology in the log while it is shown; the log is
listed through the API by day, and in the admin, where nothing can be changed or deleted."""

import datetime

import pytest
from django.urls import reverse

from counters.apologies import apology_for
from counters.models import PauseReason
from counters.services import (
    counter_call_next,
    counter_close,
    counter_finish,
    counter_open,
    counter_pause,
    counter_requeue,
    counter_resume,
    counter_start,
)
from hall.apologies import apology_record
from hall.models import ApologyPlace, ApologyRecord, ApologySource
from recovery.complaints import complaint_register
from recovery.models import Complaint
from tests.conftest import counter
from tests.factories import issue

# 2026-03-02 in Shanghai (UTC+8) runs from 03-01 16:00 to 03-02 16:00 UTC.
MORNING = datetime.datetime(2026, 3, 2, 2, 0, tzinfo=datetime.UTC)  # 10:00 local


def at(minutes: float) -> datetime.datetime:
    return MORNING + datetime.timedelta(minutes=minutes)


def test_a_pause_logs_its_apology_at_the_counter_until_resume(hall, greeter, clerk_a):
    issue(hall, by=greeter, at=at(-5))
    c = counter(hall, 1)
    counter_open(counter_id=c.pk, user=clerk_a, now=at(0))
    counter_call_next(counter_id=c.pk, user=clerk_a, now=at(1))
    counter_start(counter_id=c.pk, user=clerk_a, now=at(2))
    counter_finish(counter_id=c.pk, user=clerk_a, now=at(2))  # no pause with a customer at it

    pause = counter_pause(
        counter_id=c.pk, user=clerk_a, reason=PauseReason.FETCHING_MATERIALS, now=at(3)
    )

    record = ApologyRecord.objects.get()
    assert (record.source, record.place) == (ApologySource.PAUSE, ApologyPlace.COUNTER)
    assert (record.counter_id, record.interruption_id, record.ticket_id) == (
        c.pk,
        pause.pk,
        None,
    )
    assert (record.text_zh, record.text_en) == apology_for(PauseReason.FETCHING_MATERIALS)
    assert (record.shown_at, record.withdrawn_at) == (at(3), None)

    counter_resume(counter_id=c.pk, user=clerk_a, now=at(7))
    record.refresh_from_db()
    assert record.withdrawn_at == at(7)


def test_closing_a_paused_counter_takes_its_apology_down(hall, clerk_a):
    c = counter(hall, 1)
    counter_open(counter_id=c.pk, user=clerk_a, now=at(0))
    counter_pause(counter_id=c.pk, user=clerk_a, reason=PauseReason.BREAK, now=at(1))
    counter_close(counter_id=c.pk, user=clerk_a, now=at(16))
    record = ApologyRecord.objects.get()
    assert record.ticket_id is None
    assert record.withdrawn_at == at(16)


def test_api_lists_the_days_apologies_with_counter_ticket_and_duration(api, hall, greeter, clerk_a):
    issue(hall, by=greeter, at=at(-5))
    c = counter(hall, 1)
    counter_open(counter_id=c.pk, user=clerk_a, now=at(0))
    counter_call_next(counter_id=c.pk, user=clerk_a, now=at(1))
    counter_requeue(counter_id=c.pk, user=clerk_a, now=at(2))  # back to the front of the queue
    counter_pause(counter_id=c.pk, user=clerk_a, reason=PauseReason.PHONE_CALL, now=at(2))
    counter_resume(counter_id=c.pk, user=clerk_a, now=at(6))
    # Shown the evening before and still on screen this morning: part of this day's log too.
    apology_record(
        hall=hall,
        source=ApologySource.KIOSK,
        place=ApologyPlace.KIOSK,
        text_zh="暂停办理",
        text_en="Unavailable",
        at=datetime.datetime(2026, 3, 1, 12, 0, tzinfo=datetime.UTC),  # 03-01 20:00 local
    )
    # Shown and withdrawn the day before: not in this day's log.
    old = apology_record(
        hall=hall,
        source=ApologySource.KIOSK,
        place=ApologyPlace.KIOSK,
        text_zh="昨天",
        text_en="Yesterday",
        at=datetime.datetime(2026, 3, 1, 10, 0, tzinfo=datetime.UTC),
    )
    ApologyRecord.objects.filter(pk=old.pk).update(
        withdrawn_at=datetime.datetime(2026, 3, 1, 11, 0, tzinfo=datetime.UTC)
    )

    response = api.as_user(clerk_a).get("/api/v1/halls/h1/apologies/?date=2026-03-02")

    assert response.status_code == 200
    body = response.json()
    assert body["date"] == "2026-03-02"
    assert [a["text_en"] for a in body["apologies"]] == [
        "Unavailable",
        apology_for(PauseReason.PHONE_CALL)[1],
    ]
    pause = body["apologies"][1]
    assert (pause["source"], pause["place"], pause["counter"], pause["ticket"]) == (
        "pause",
        "counter",
        1,
        None,
    )
    assert pause["duration_s"] == 4 * 60
    assert pause["withdrawn_at"] is not None
    assert body["apologies"][0]["withdrawn_at"] is None
    assert api.get("/api/v1/halls/h1/apologies/?date=2026-03-03").json()["apologies"][0][
        "text_en"
    ] == ("Unavailable")


def test_api_apology_log_refuses_a_bad_date_and_strangers(
    api, hall, greeter, outsider, display_device
):
    assert api.as_user(greeter).get("/api/v1/halls/h1/apologies/").status_code == 200
    bad = api.as_user(greeter).get("/api/v1/halls/h1/apologies/?date=2026-13-01")
    assert bad.status_code == 400
    assert bad.json()["error"]["fields"].keys() == {"date"}
    assert api.as_user(outsider).get("/api/v1/halls/h1/apologies/").status_code == 403
    assert api.as_device(display_device).get("/api/v1/halls/h1/apologies/").status_code == 403
    assert api.as_user(greeter).get("/api/v1/halls/nope/apologies/").status_code == 404


@pytest.fixture
def admin_client_with_data(admin_client, hall, clerk_a):
    c = counter(hall, 1)
    counter_open(counter_id=c.pk, user=clerk_a)
    counter_pause(counter_id=c.pk, user=clerk_a, reason=PauseReason.BREAK)
    complaint_register(hall=hall, owner=clerk_a, category="service", description="态度差")
    return admin_client


def test_admin_lists_the_apology_log_and_complaints_but_deletes_and_changes_nothing(
    admin_client_with_data,
):
    client = admin_client_with_data
    record, complaint = ApologyRecord.objects.get(), Complaint.objects.get()

    listing = client.get(reverse("admin:hall_apologyrecord_changelist") + "?place=counter")
    assert listing.status_code == 200
    assert record.text_zh in listing.content.decode()
    assert client.get(reverse("admin:recovery_complaint_changelist")).status_code == 200

    for model, obj in (("hall_apologyrecord", record), ("recovery_complaint", complaint)):
        assert client.get(reverse(f"admin:{model}_delete", args=[obj.pk])).status_code == 403
        assert client.get(reverse(f"admin:{model}_add")).status_code == 403
        change = client.post(reverse(f"admin:{model}_change", args=[obj.pk]), {})
        assert change.status_code == 403
        bulk = client.post(
            reverse(f"admin:{model}_changelist"),
            {"action": "delete_selected", "_selected_action": [obj.pk], "post": "yes"},
        )
        assert bulk.status_code in (200, 302)
    assert ApologyRecord.objects.filter(pk=record.pk).exists()
    assert Complaint.objects.filter(pk=complaint.pk).exists()
