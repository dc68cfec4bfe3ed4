"""Reads never write: the wall's computation raises and clears nothing. The wait and pause
alerts follow the events that can change them (recovery/hooks.py), after commit and after the
live frames of the same change, and beat checks every hall each minute."""

import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from counters.services import counter_call_next, counter_open, counter_pause, counter_resume
from display.wall.stream import compute
from hall.models import AuditEvent, EventKind
from recovery import hooks
from recovery.models import AlertKind, ManagerAlert
from tests.conftest import counter
from tests.factories import issue

pytestmark = pytest.mark.django_db


def open_alerts():
    return sorted(
        ManagerAlert.objects.filter(cleared_at=None).values_list("kind", "subject"),
    )


def test_the_walls_computation_only_reads(hall, greeter):
    hall.waiting_alert_threshold = 1
    hall.save()
    for _ in range(3):
        issue(hall, "payment", by=greeter)  # no commit hooks run here: nothing checked yet

    with CaptureQueriesContext(connection) as capture:
        metrics = compute(hall.pk)

    assert metrics["waiting"]["total"] == 3 and metrics["alerts"] == []
    writes = [q["sql"] for q in capture.captured_queries if not q["sql"].startswith("SELECT")]
    assert writes == [] and open_alerts() == []


def test_the_issue_past_the_threshold_raises_the_alert_after_commit(
    hall, greeter, django_capture_on_commit_callbacks
):
    hall.waiting_alert_threshold = 2
    hall.save()
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            issue(hall, "payment", by=greeter)
    assert open_alerts() == []

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        issue(hall, "payment", by=greeter)

    assert open_alerts() == [(AlertKind.MANY_WAITING, "bt:payment")]
    # The live frame of the issue is sent before the alert is checked (and its event sent).
    assert len(callbacks) >= 2
    kinds = list(AuditEvent.objects.order_by("seq").values_list("kind", flat=True))
    assert kinds[-2:] == [EventKind.TICKET_ISSUED, EventKind.ALERT_RAISED]


def test_the_call_that_ends_the_condition_clears_the_alert_after_commit(
    hall, greeter, clerk_a, django_capture_on_commit_callbacks
):
    hall.waiting_alert_threshold = 1
    hall.save()
    one = counter(hall, 1)
    counter_open(counter_id=one.pk, user=clerk_a)
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            issue(hall, "payment", by=greeter)
    assert open_alerts() == [(AlertKind.MANY_WAITING, "bt:payment")]

    with django_capture_on_commit_callbacks(execute=True):
        counter_call_next(counter_id=one.pk, user=clerk_a)

    assert open_alerts() == []


def test_a_call_with_no_alert_open_checks_nothing(
    hall, greeter, clerk_a, django_capture_on_commit_callbacks
):
    one = counter(hall, 1)
    counter_open(counter_id=one.pk, user=clerk_a)
    issue(hall, "payment", by=greeter)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        counter_call_next(counter_id=one.pk, user=clerk_a)
    with CaptureQueriesContext(connection) as capture:
        for callback in callbacks:
            callback()

    # One EXISTS for an open alert (and whatever the live side reads), no whole-hall read.
    alert_reads = [q for q in capture.captured_queries if "manageralert" in q["sql"].lower()]
    assert len(alert_reads) == 1
    assert not any("hall_businesstype" in q["sql"].lower() for q in capture.captured_queries)


def test_an_arrival_where_a_counter_is_open_costs_no_query_after_commit(
    hall, greeter, clerk_a, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):  # each its own "transaction"
        counter_open(counter_id=counter(hall, 1).pk, user=clerk_a)
    for _ in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            issue(hall, "payment", by=greeter)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        issue(hall, "payment", by=greeter)
    with CaptureQueriesContext(connection) as capture:
        for callback in callbacks:
            callback()

    # The issue's own read (people ahead, open counters serving it) answers the test: 4 waiting,
    # under the default threshold, a counter open. Nothing read, nothing checked.
    assert capture.captured_queries == []
    assert open_alerts() == []


def test_a_pause_begun_long_ago_raises_its_alert_and_resuming_clears_it(
    hall, clerk_a, django_capture_on_commit_callbacks
):
    from django.utils import timezone

    one = counter(hall, 1)
    began = timezone.now() - timezone.timedelta(minutes=hall.pause_alert_minutes + 1)
    counter_open(counter_id=one.pk, user=clerk_a, now=began)

    with django_capture_on_commit_callbacks(execute=True):
        counter_pause(counter_id=one.pk, user=clerk_a, reason="break", now=began)
    assert open_alerts() == [(AlertKind.LONG_PAUSE, f"counter:{one.pk}")]

    with django_capture_on_commit_callbacks(execute=True):
        counter_resume(counter_id=one.pk, user=clerk_a)
    assert open_alerts() == []


def test_a_busy_halls_checks_are_sent_once_per_delay_and_process(hall, settings, monkeypatch):
    """With a worker (not eager), the calls of a busy hall each ask for a check: one is sent per
    ALERT_CHECK_DELAY_SECONDS, and repeats cost neither a cache call nor a task."""
    settings.ALERT_CHECK_DELAY_SECONDS = 1.0  # whole seconds: Redis keeps a key for int(timeout)
    monkeypatch.setitem(hooks.check_hall_alerts.app.conf, "task_always_eager", False)
    sent, cache_calls = [], []
    monkeypatch.setattr(hooks, "task_send", lambda task, *args, **kw: sent.append(args))
    real_get = hooks.cache_get
    monkeypatch.setattr(hooks, "cache_get", lambda key: cache_calls.append(key) or real_get(key))
    monkeypatch.setattr(hooks, "_sent_until", {})

    for _ in range(5):
        hooks.alerts_check_soon(hall_id=hall.pk)
    assert sent == [(hall.pk,)] and len(cache_calls) == 1

    hooks._sent_until.clear()  # another process: the cache says a check is on its way
    hooks.alerts_check_soon(hall_id=hall.pk)
    assert sent == [(hall.pk,)]

    time.sleep(1.1)  # the delay is over: the next call sends the next check
    hooks._sent_until.clear()
    hooks.alerts_check_soon(hall_id=hall.pk)
    assert sent == [(hall.pk,), (hall.pk,)]
