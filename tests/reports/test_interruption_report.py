"""Service interruptions by clerk, reason and day: each pause with its duration and the apology
shown, totals per clerk and per reason; the API (managers) and the manager's page."""

import datetime

import pytest
import time_machine

from counters.apologies import apology_for
from counters.models import PauseReason
from counters.services import (
    counter_call_next,
    counter_open,
    counter_pause,
    counter_requeue,
    counter_resume,
    counter_start,
)
from reports.interruptions import interruptions_report
from tests.conftest import counter
from tests.factories import issue

# 2026-03-02 in Shanghai (UTC+8): 10:00 local is 02:00 UTC.
MORNING = datetime.datetime(2026, 3, 2, 2, 0, tzinfo=datetime.UTC)
DAY = datetime.date(2026, 3, 2)


def at(minutes: float) -> datetime.datetime:
    return MORNING + datetime.timedelta(minutes=minutes)


def pause(c, clerk, reason, start, end=None, note=""):
    counter_pause(counter_id=c.pk, user=clerk, reason=reason, note=note, now=at(start))
    if end is not None:
        counter_resume(counter_id=c.pk, user=clerk, now=at(end))


@pytest.fixture
def a_day_of_pauses(hall, greeter, clerk_a, clerk_b):
    clerk_a.first_name = "李四海"
    clerk_a.save()
    one, two = counter(hall, 1), counter(hall, 2)
    counter_open(counter_id=one.pk, user=clerk_a, now=at(-60))
    counter_open(counter_id=two.pk, user=clerk_b, now=at(-60))
    # The evening before (local 03-01 23:00): another day.
    pause(one, clerk_a, PauseReason.BREAK, -11 * 60, -11 * 60 + 30)
    ticket = issue(hall, by=greeter, at=at(-5))
    counter_call_next(counter_id=one.pk, user=clerk_a, now=at(-4))
    counter_start(counter_id=one.pk, user=clerk_a, now=at(-3))
    # Issue 16: no pause with a customer at the counter; back to the front of the queue first.
    counter_requeue(counter_id=one.pk, user=clerk_a, now=at(0))
    pause(one, clerk_a, PauseReason.FETCHING_MATERIALS, 0, 4, note="复印身份证")  # 4 min
    pause(one, clerk_a, PauseReason.PHONE_CALL, 30, 32)  # 2 min
    pause(two, clerk_b, PauseReason.BREAK, 60, 75)  # 15 min
    pause(two, clerk_b, PauseReason.PHONE_CALL, 120)  # still paused
    return {"ticket": ticket}


def test_the_report_lists_the_days_pauses_with_durations_and_apologies(
    hall, clerk_a, clerk_b, a_day_of_pauses
):
    report = interruptions_report(hall=hall, date=DAY, now=at(130))

    rows = [
        (p.counter.number, p.clerk, p.reason, p.duration_s, p.ongoing) for p in report.interruptions
    ]
    assert rows == [
        (1, clerk_a, PauseReason.FETCHING_MATERIALS, 240, False),
        (1, clerk_a, PauseReason.PHONE_CALL, 120, False),
        (2, clerk_b, PauseReason.BREAK, 900, False),
        (2, clerk_b, PauseReason.PHONE_CALL, 600, True),  # counted up to now
    ]
    first = report.interruptions[0]
    assert (first.apology_zh, first.apology_en) == apology_for(PauseReason.FETCHING_MATERIALS)
    assert first.ticket is None  # nobody is at a paused counter (issue 16)
    assert first.note == "复印身份证"


def test_the_report_totals_per_clerk_and_per_reason(hall, clerk_a, clerk_b, a_day_of_pauses):
    report = interruptions_report(hall=hall, date=DAY, now=at(130))

    assert [(t.clerk, t.count, t.duration_s) for t in report.by_clerk] == [
        (clerk_b, 2, 1500),
        (clerk_a, 2, 360),
    ]
    assert [(t.reason, t.count, t.duration_s) for t in report.by_reason] == [
        (PauseReason.BREAK, 1, 900),
        (PauseReason.PHONE_CALL, 2, 720),
        (PauseReason.FETCHING_MATERIALS, 1, 240),
    ]
    assert (report.total.count, report.total.duration_s) == (4, 1860)
    previous_day = interruptions_report(hall=hall, date=DAY - datetime.timedelta(days=1))
    assert [(p.reason, p.duration_s) for p in previous_day.interruptions] == [
        (PauseReason.BREAK, 1800)
    ]


def test_api_gives_the_report_to_managers_only(
    api, hall, manager, clerk_a, outsider, a_day_of_pauses
):
    with time_machine.travel(at(130), tick=False):
        response = api.as_user(manager).get("/api/v1/halls/h1/interruptions/?date=2026-03-02")
    assert response.status_code == 200
    body = response.json()
    assert body["total"] == {"count": 4, "duration_s": 1860}
    assert body["by_clerk"][1]["clerk"]["name"] == "李四海"
    assert body["by_reason"][0]["reason"] == "break"
    row = body["interruptions"][0]
    assert (row["counter"], row["ticket"], row["reason"], row["duration_s"]) == (
        1,
        None,  # nobody is at a paused counter (issue 16)
        "fetching_materials",
        240,
    )
    assert row["apology_zh"] == apology_for(PauseReason.FETCHING_MATERIALS)[0]
    assert body["interruptions"][-1]["ongoing"] is True

    assert api.as_user(clerk_a).get("/api/v1/halls/h1/interruptions/").status_code == 403
    assert api.as_user(outsider).get("/api/v1/halls/h1/interruptions/").status_code == 403
    bad = api.as_user(manager).get("/api/v1/halls/h1/interruptions/?date=yesterday")
    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == "invalid"


def test_the_managers_page_shows_totals_and_each_pause(
    client, hall, manager, clerk_a, a_day_of_pauses
):
    client.force_login(manager)
    with time_machine.travel(at(130), tick=False):
        page = client.get("/console/h1/interruptions/?date=2026-03-02")
    assert page.status_code == 200
    html = page.content.decode()
    assert "李四海" in html
    assert apology_for(PauseReason.FETCHING_MATERIALS)[0] in html
    assert html.count("data-interruption=") == 4
    assert client.get("/console/h1/interruptions/?date=bad").status_code == 400
    client.force_login(clerk_a)
    assert client.get("/console/h1/interruptions/").status_code == 403
