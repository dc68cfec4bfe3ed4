"""The wall's chart figures (display.wall.trends.hall_hourly and its API) against hand-built ticket
histories: arrivals, waiting at the end of each hour, served and service level, for today and
for the typical day (the same weekday of the previous four weeks)."""

import datetime
import zoneinfo

import pytest
import time_machine

from counters.models import Counter
from display.wall.trends import hall_hourly
from hall.models import Device, DeviceKind
from hall.services import device_register
from queueing.models import Status, Ticket
from tests.factories import OFFICE_HOURS, issue, payment_hall

pytestmark = pytest.mark.django_db

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
TODAY = datetime.date(2026, 11, 24)  # a Tuesday
WEEK = datetime.timedelta(weeks=1)


def at(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=SHANGHAI)


def ticket(hall, issued, *, called=None, finished=None, status=None, code="payment"):
    """A ticket issued at ``issued``; then, by hand, called/finished at the given times."""
    kiosk = Device.objects.filter(hall=hall, kind=DeviceKind.KIOSK).first()
    if kiosk is None:
        kiosk, _token = device_register(hall=hall, kind=DeviceKind.KIOSK, name="kiosk")
    made = issue(hall, code, device=kiosk, at=issued)
    if status is None:
        status = Status.DONE if finished else (Status.SERVING if called else Status.WAITING)
    served_at = Counter.objects.filter(hall=hall).order_by("number").first() if called else None
    Ticket.objects.filter(pk=made.pk).update(
        status=status,
        called_at=called,
        finished_at=finished,
        counter=served_at,
        window_counter=None,
        window_slot=None,
    )
    return made


def hour_row(result, hour):
    return next(row for row in result["hours"] if row["hour"] == hour)


def test_todays_figures_hour_by_hour(hall):
    ticket(hall, at(TODAY, 8, 10), called=at(TODAY, 8, 20), finished=at(TODAY, 8, 25))
    ticket(hall, at(TODAY, 8, 40), called=at(TODAY, 9, 5), finished=at(TODAY, 9, 15))  # late
    ticket(hall, at(TODAY, 9, 10))  # still waiting
    ticket(hall, at(TODAY, 9, 50), finished=at(TODAY, 10, 5), status=Status.CANCELLED)
    ticket(hall, at(TODAY, 10, 10), called=at(TODAY, 10, 20))  # being served

    result = hall_hourly(hall=hall, now=at(TODAY, 10, 30))

    assert result["service_date"] == TODAY
    assert result["current_hour"] == 10
    assert result["target_wait_s"] == 15 * 60
    assert [row["hour"] for row in result["hours"]] == list(range(8, 18))  # a usual day
    assert hour_row(result, 8)["today"] == {
        "arrivals": 2,
        "waiting": 1,  # the 08:40 customer, at 09:00
        "served": 1,
        "service_level": 1.0,  # called after 10 minutes
    }
    assert hour_row(result, 9)["today"] == {
        "arrivals": 2,
        "waiting": 2,  # the 09:10 and 09:50 customers, at 10:00
        "served": 1,
        "service_level": 0.0,  # the 08:40 customer was called after 25 minutes
    }
    # The current hour so far: the cancelled customer left, the 10:10 one was called.
    assert hour_row(result, 10)["today"] == {
        "arrivals": 1,
        "waiting": 1,
        "served": 0,
        "service_level": 1.0,
    }
    assert hour_row(result, 11)["today"] == dict.fromkeys(
        ["arrivals", "waiting", "served", "service_level"]
    )


def test_a_ticket_issued_before_midnight_waits_into_todays_first_hour(hall):
    yesterday = TODAY - datetime.timedelta(days=1)
    ticket(hall, at(yesterday, 23, 50), called=at(TODAY, 0, 20), finished=at(TODAY, 0, 30))
    ticket(hall, at(yesterday, 23, 55), called=at(TODAY, 1, 10), finished=at(TODAY, 1, 20))

    result = hall_hourly(hall=hall, now=at(TODAY, 10, 30))

    assert result["hours"][0]["hour"] == 0  # an all-day hall shows the night's busy hours
    assert hour_row(result, 0)["today"] == {
        "arrivals": 0,  # they arrived yesterday
        "waiting": 1,  # the 23:55 customer, still waiting at 01:00
        "served": 1,
        "service_level": 0.0,  # 30 minutes
    }
    assert hour_row(result, 1)["today"]["waiting"] == 0
    assert hour_row(result, 1)["today"]["served"] == 1
    assert hour_row(result, 2)["today"]["waiting"] == 0


def test_a_transferred_ticket_keeps_its_issue_time_and_counts_once(hall):
    moved = ticket(hall, at(TODAY, 9, 0), called=at(TODAY, 9, 40), finished=at(TODAY, 9, 50))
    Ticket.objects.filter(pk=moved.pk).update(transfer_count=1)

    row = hour_row(hall_hourly(hall=hall, now=at(TODAY, 10, 30)), 9)["today"]

    assert row["arrivals"] == 1
    assert row["service_level"] == 0.0  # waited 40 minutes from the original issue


def test_the_typical_day_is_the_mean_of_the_same_weekday_in_the_weeks_the_hall_was_open(hall):
    one, two, four = TODAY - WEEK, TODAY - 2 * WEEK, TODAY - 4 * WEEK
    for minute in (0, 10, 20):  # a week ago: three customers at 9, each called in 5 minutes
        ticket(hall, at(one, 9, minute), called=at(one, 9, minute + 5), finished=at(one, 9, 55))
    ticket(hall, at(two, 9, 0), called=at(two, 9, 45), finished=at(two, 9, 50))  # late
    # Four weeks ago one customer was never called: the day's close expired the ticket at 20:00.
    ticket(hall, at(four, 9, 30), finished=at(four, 20, 0), status=Status.EXPIRED)
    # Three weeks ago the hall was shut. Another weekday, or too long ago: not in the mean.
    monday = one - datetime.timedelta(days=1)
    ticket(hall, at(monday, 9, 0), finished=at(monday, 20, 0), status=Status.EXPIRED)
    ticket(hall, at(TODAY - 5 * WEEK, 9, 0), called=at(TODAY - 5 * WEEK, 9, 1))

    result = hall_hourly(hall=hall, now=at(TODAY, 8, 30))

    assert result["typical_days"] == [one, two, four]
    assert hour_row(result, 9)["typical"] == {
        "arrivals": 1.7,  # (3 + 1 + 1) / 3 weeks open
        "waiting": 0.3,  # at 10:00: (0 + 0 + 1) / 3
        "served": 1.3,  # (3 + 1 + 0) / 3
        "service_level": 0.75,  # pooled: 3 of 4 calls within 15 minutes
    }
    assert hour_row(result, 17)["typical"]["waiting"] == 0.3  # still there at 18:00
    assert hour_row(result, 8)["typical"] == {
        "arrivals": 0.0,
        "waiting": 0.0,  # Monday's customer left with Monday
        "served": 0.0,
        "service_level": None,  # nobody was called at 8
    }
    # Today so far has nothing, and the hours after now have no figures yet.
    assert hour_row(result, 8)["today"]["arrivals"] == 0
    assert hour_row(result, 9)["today"]["arrivals"] is None


def test_no_history_means_no_typical_day(hall):
    result = hall_hourly(hall=hall, now=at(TODAY, 10, 30))
    assert result["typical_days"] == []
    assert hour_row(result, 9)["typical"]["arrivals"] is None


def test_a_hall_with_office_hours_shows_its_opening_hours():
    office = payment_hall("office", "营业时间厅", hours=OFFICE_HOURS)
    ticket(office, at(TODAY, 9, 0))
    result = hall_hourly(hall=office, now=at(TODAY, 12, 0))
    assert [row["hour"] for row in result["hours"]] == list(range(8, 18))  # 08:30-18:00


def test_the_figures_take_four_queries_however_many_tickets_and_history_is_kept(
    hall, django_assert_num_queries
):
    for day in (TODAY, TODAY - WEEK, TODAY - 2 * WEEK):
        for minute in range(0, 60, 3):
            ticket(hall, at(day, 9, minute), called=at(day, 9, minute + 2), finished=at(day, 10))
    with django_assert_num_queries(4):
        first = hall_hourly(hall=hall, now=at(TODAY, 11, 0))
    # The typical weeks are history, kept: a refresh reads today's tickets only, still in four.
    ticket(hall, at(TODAY, 10, 30))
    with django_assert_num_queries(4):
        again = hall_hourly(hall=hall, now=at(TODAY, 11, 0))
    assert hour_row(again, 9)["typical"] == hour_row(first, 9)["typical"]
    assert hour_row(again, 9)["typical"]["arrivals"] == 20.0
    assert hour_row(again, 10)["today"]["arrivals"] == hour_row(first, 10)["today"]["arrivals"] + 1


def test_the_hourly_api_is_for_the_halls_staff(hall, manager, clerk_a, outsider, kiosk, api):
    with time_machine.travel(at(TODAY, 9, 0), tick=False):
        ticket(hall, at(TODAY, 9, 0))
        response = api.as_user(manager).get("/api/v1/halls/h1/metrics/hourly/")
        assert response.status_code == 200, response.content
        body = response.json()
        assert body["service_date"] == "2026-11-24"
        assert hour_row(body, 9)["today"]["arrivals"] == 1
        assert body["service_level_target"] == 0.8

        assert api.as_user(clerk_a).get("/api/v1/halls/h1/metrics/hourly/").status_code == 200
        refused = api.as_user(outsider).get("/api/v1/halls/h1/metrics/hourly/")
        assert refused.status_code == 403
        assert refused.json()["error"]["code"]
        device = api.as_device(kiosk).get("/api/v1/halls/h1/metrics/hourly/")
        assert device.status_code == 403
        missing = api.as_user(manager).get("/api/v1/halls/nope/metrics/hourly/")
        assert missing.status_code == 404
        anonymous = api.as_user(None).get("/api/v1/halls/h1/metrics/hourly/")
        assert anonymous.status_code in (401, 403)
        assert "error" in anonymous.json()
