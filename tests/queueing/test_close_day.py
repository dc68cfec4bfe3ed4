"""End of the service day: ``manage.py close_day`` and the Celery beat task behind it."""

import datetime
import io
import zoneinfo

import pytest
import time_machine
from django.conf import settings
from django.core.management import CommandError, call_command

from config.celery import app as celery_app
from counters.models import Counter
from counters.services import counter_call_next, counter_open, counter_start
from hall.models import AuditEvent, EventKind, Hall, Role, StaffMembership
from queueing.models import Slot, Status, Ticket
from tests.factories import OFFICE_HOURS, issue, payment_hall

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
YESTERDAY = datetime.date(2025, 6, 9)
TODAY = datetime.date(2025, 6, 10)


def at(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=SHANGHAI)


@pytest.fixture
def office(db, django_user_model):
    """A hall open 08:30-18:00 with two payment counters, a greeter and two clerks."""
    hall = payment_hall("office", "营业时间厅", hours=OFFICE_HOURS, counters=2)
    hall.people = {}
    for name, role in (("g", Role.GREETER), ("c1", Role.CLERK), ("c2", Role.CLERK)):
        user = django_user_model.objects.create_user(username=f"office_{name}", password="pw")
        StaffMembership.objects.create(user=user, hall=hall, role=role)
        hall.people[name] = user
    return hall


def _day_of_tickets(hall, day):
    """On ``day`` at 10:00: counter 1 serves one ticket, counter 2 has called one and greets
    the next, and one more waits in the pool. Returns the four tickets by role."""
    c1 = Counter.objects.get(hall=hall, number=1)
    c2 = Counter.objects.get(hall=hall, number=2)
    greeter, clerk1, clerk2 = hall.people["g"], hall.people["c1"], hall.people["c2"]
    with time_machine.travel(at(day, 10), tick=False):
        serving, called, greeted, waiting = (issue(hall, by=greeter) for _ in range(4))
        for c, clerk in ((c1, clerk1), (c2, clerk2)):
            if c.clerk_id is None:
                counter_open(counter_id=c.pk, user=clerk)
        # Depth 0 at counter 1 so counter 2 may greet the third ticket.
        Hall.objects.filter(pk=hall.pk).update(window_depth=0)
        counter_call_next(counter_id=c1.pk, user=clerk1)
        counter_start(counter_id=c1.pk, user=clerk1)
        Hall.objects.filter(pk=hall.pk).update(window_depth=1)
        counter_call_next(counter_id=c2.pk, user=clerk2)
    tickets = {
        "serving": serving,
        "called": called,
        "greeted": greeted,
        "waiting": waiting,
    }
    for t in tickets.values():
        t.refresh_from_db()
    assert [tickets[k].status for k in tickets] == ["serving", "called", "waiting", "waiting"]
    assert tickets["greeted"].window_slot == Slot.GREETED
    return tickets


def _close_day(*args) -> str:
    out = io.StringIO()
    call_command("close_day", *args, stdout=out)
    return out.getvalue()


def _statuses(tickets: dict) -> dict:
    return {name: Ticket.objects.get(pk=t.pk).status for name, t in tickets.items()}


def test_yesterdays_open_tickets_all_expire(office):
    yesterday = _day_of_tickets(office, YESTERDAY)
    with time_machine.travel(at(TODAY, 9), tick=False):
        output = _close_day("--hall", "office")
    assert "office: expired 4 ticket(s)" in output
    assert set(_statuses(yesterday).values()) == {Status.EXPIRED}
    expired = Ticket.objects.get(pk=yesterday["serving"].pk)
    assert expired.finished_at == at(TODAY, 9)


def test_before_closing_time_today_is_left_alone(office):
    yesterday = _day_of_tickets(office, YESTERDAY)
    with time_machine.travel(at(TODAY, 9), tick=False):
        _close_day()
    # Counters are free again; today's tickets are called and served as usual.
    today = _day_of_tickets(office, TODAY)
    with time_machine.travel(at(TODAY, 17, 59), tick=False):
        output = _close_day()
    assert "office: expired 0 ticket(s)" in output
    assert _statuses(today) == {
        "serving": Status.SERVING,
        "called": Status.CALLED,
        "greeted": Status.WAITING,
        "waiting": Status.WAITING,
    }
    assert set(_statuses(yesterday).values()) == {Status.EXPIRED}


def test_after_closing_time_today_waiting_and_called_expire_but_not_serving(office):
    today = _day_of_tickets(office, TODAY)
    with time_machine.travel(at(TODAY, 18, 30), tick=False):
        output = _close_day("--hall", "office")
    assert "office: expired 3 ticket(s)" in output
    assert _statuses(today) == {
        "serving": Status.SERVING,
        "called": Status.EXPIRED,
        "greeted": Status.EXPIRED,
        "waiting": Status.EXPIRED,
    }


def test_expired_tickets_lose_their_window_slot(office):
    today = _day_of_tickets(office, TODAY)
    with time_machine.travel(at(TODAY, 18, 30), tick=False):
        _close_day()
    greeted = Ticket.objects.get(pk=today["greeted"].pk)
    assert (greeted.window_slot, greeted.window_counter_id) == (None, None)
    assert not Ticket.objects.filter(hall=office, window_slot__isnull=False).exists()


def test_closing_the_day_twice_expires_nothing_more_and_deletes_nothing(office):
    _day_of_tickets(office, YESTERDAY)
    tickets_before = Ticket.objects.count()
    with time_machine.travel(at(TODAY, 18, 30), tick=False):
        first = _close_day()
        second = _close_day()
    assert "office: expired 4 ticket(s)" in first
    assert "office: expired 0 ticket(s)" in second
    assert Ticket.objects.count() == tickets_before
    expired_ids = set(Ticket.objects.filter(status=Status.EXPIRED).values_list("pk", flat=True))
    events = list(AuditEvent.objects.filter(kind=EventKind.TICKET_EXPIRED))
    assert len(events) == len(expired_ids) == 4
    assert {e.ticket_id for e in events} == expired_ids
    assert {e.data["was"] for e in events} == {"waiting", "called", "serving"}


def test_an_unknown_hall_is_a_command_error(office):
    with pytest.raises(CommandError, match="nowhere"):
        _close_day("--hall", "nowhere")


def test_close_day_for_one_hall_leaves_other_halls_alone(office, hall, greeter):
    with time_machine.travel(at(YESTERDAY, 12), tick=False):
        elsewhere = issue(hall, by=greeter)
    _day_of_tickets(office, YESTERDAY)
    with time_machine.travel(at(TODAY, 9), tick=False):
        _close_day("--hall", "office")
    assert Ticket.objects.get(pk=elsewhere.pk).status == Status.WAITING
    with time_machine.travel(at(TODAY, 9), tick=False):
        output = _close_day()
    assert "h1: expired 1 ticket(s)" in output
    assert Ticket.objects.get(pk=elsewhere.pk).status == Status.EXPIRED


def test_beat_schedule_names_the_close_day_task():
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "queueing.tasks.close_day_all_halls" in tasks


def test_the_scheduled_task_closes_the_day(office):
    _day_of_tickets(office, YESTERDAY)
    entry = next(
        e
        for e in settings.CELERY_BEAT_SCHEDULE.values()
        if e["task"] == "queueing.tasks.close_day_all_halls"
    )
    celery_app.loader.import_default_modules()
    task = celery_app.tasks[entry["task"]]
    with time_machine.travel(at(TODAY, 9), tick=False):
        task.apply_async()
    assert not Ticket.objects.filter(hall=office).exclude(status=Status.EXPIRED).exists()
    assert AuditEvent.objects.filter(hall=office, kind=EventKind.TICKET_EXPIRED).count() == 4
