"""Issue 16: people waiting for a business and no open counter serving it is an alert of its own.

Raised once, cleared when a counter that serves it opens (or resumes) or when its queue empties,
e-mailed like the other alerts and naming the closed and paused counters that could serve it;
it follows the events after commit (recovery/hooks.py) and the beat check. The wall lists the
business's waiting customers, priority customers first.
"""

import datetime

import pytest
from django.core import mail
from django.utils import timezone

from counters.services import (
    counter_call_next,
    counter_close,
    counter_open,
    counter_pause,
    counter_resume,
)
from display.wall.metrics import hall_metrics
from hall.models import AuditEvent, EventKind
from queueing.services import ticket_cancel
from recovery.alerts import alerts_check
from recovery.models import AlertKind, ManagerAlert
from tests.conftest import counter
from tests.factories import issue

pytestmark = pytest.mark.django_db

NO_COUNTER = AlertKind.NO_COUNTER_OPEN


def at(hh, mm=0):
    return datetime.datetime(2026, 11, 24, hh, mm, tzinfo=datetime.UTC)


def ago(minutes):
    """The hooks check at the real time after commit: these tests' times are the real ones."""
    return timezone.now() - datetime.timedelta(minutes=minutes)


def open_alerts():
    return sorted(ManagerAlert.objects.filter(cleared_at=None).values_list("kind", "subject"))


@pytest.fixture
def managers(manager):
    manager.email = "duty@example.cn"
    manager.save()
    return manager


def test_waiting_with_no_open_counter_raises_one_alert_naming_the_counters_that_could_serve(
    hall, greeter, clerk_a, clerk_b, managers, django_capture_on_commit_callbacks
):
    counter_open(counter_id=counter(hall, 1).pk, user=clerk_a, now=ago(12))  # payment, top-up
    counter_open(counter_id=counter(hall, 4).pk, user=clerk_b, now=ago(12))  # service only
    counter_pause(counter_id=counter(hall, 4).pk, user=clerk_b, reason="break", now=ago(10))
    issue(hall, "service", by=greeter, at=ago(3))
    issue(hall, "service", by=greeter, lane="priority", reason="elderly", at=ago(2))

    with django_capture_on_commit_callbacks(execute=True):
        result = alerts_check(hall=hall, now=ago(1))
    assert alerts_check(hall=hall, now=ago(0)) == {"raised": [], "cleared": []}  # once

    assert result["raised"] == [(NO_COUNTER, "bt:service")]
    alert = ManagerAlert.objects.get(kind=NO_COUNTER)
    assert alert.message_zh == "业务受理有2人等候,没有开放的窗口办理(其中1位优先客户)"
    assert (
        alert.message_en == "Service application: 2 waiting and no counter open for it (1 priority)"
    )
    # Counters 2 and 3 (closed) and 4 (paused) serve it; counter 1, open, does not.
    assert (
        "可开启2、3号窗口" in alert.suggestion_zh and "4号窗口暂停中,可恢复" in alert.suggestion_zh
    )
    assert (
        "Open counter 2, 3" in alert.suggestion_en
        and "resume paused counter 4" in alert.suggestion_en
    )
    assert alert.data["suggested_counters"] == [2, 3, 4]
    (message,) = mail.outbox
    assert message.to == ["duty@example.cn"] and "没有开放的窗口办理" in message.subject


def test_the_wall_lists_the_waiting_priority_customers_first(hall, greeter, clerk_a):
    counter_open(counter_id=counter(hall, 1).pk, user=clerk_a, now=at(1, 0))
    issue(hall, "service", by=greeter, at=at(1, 0))  # C001, normal, waiting longest
    issue(hall, "service", by=greeter, lane="priority", reason="elderly", at=at(1, 5))  # C002
    issue(hall, "service", by=greeter, lane="vip", reason="vip", at=at(1, 8))  # C003
    issue(hall, "payment", by=greeter, at=at(1, 1))  # counter 1 serves it: nobody listed

    metrics = hall_metrics(hall=hall, now=at(1, 10))

    rows = {bt["code"]: bt for bt in metrics["waiting"]["by_business_type"]}
    assert rows["service"]["counters_open"] == 0 and rows["payment"]["counters_open"] == 1
    first = rows["service"]["first_waiting"]
    assert [t["number"] for t in first] == ["C002", "C003", "C001"]
    assert first[0]["reason_zh"] == "老年人" and first[0]["reason_en"] == "elderly"
    assert first[0]["wait_s"] == 300 and first[2]["lane"] == "normal"
    assert rows["payment"]["first_waiting"] == []


def test_opening_a_counter_that_serves_it_clears_the_alert_after_commit(
    hall, greeter, clerk_a, clerk_b, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        counter_open(counter_id=counter(hall, 1).pk, user=clerk_a)
    with django_capture_on_commit_callbacks(execute=True):
        issue(hall, "service", by=greeter)
    assert open_alerts() == [(NO_COUNTER, "bt:service")]

    with django_capture_on_commit_callbacks(execute=True):
        counter_open(counter_id=counter(hall, 4).pk, user=clerk_b)

    assert open_alerts() == []
    kinds = list(AuditEvent.objects.order_by("seq").values_list("kind", flat=True))
    assert kinds[-2:] == [EventKind.COUNTER_OPENED, EventKind.ALERT_CLEARED]


def test_the_queue_emptying_clears_it(hall, greeter, clerk_a, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        counter_open(counter_id=counter(hall, 1).pk, user=clerk_a)
    with django_capture_on_commit_callbacks(execute=True):
        ticket = issue(hall, "service", by=greeter)
    assert open_alerts() == [(NO_COUNTER, "bt:service")]

    with django_capture_on_commit_callbacks(execute=True):
        ticket_cancel(ticket=ticket, actor=greeter)

    assert open_alerts() == []


def test_pausing_or_closing_the_last_counter_for_it_raises_it_and_resuming_clears_it(
    hall, greeter, clerk_a, django_capture_on_commit_callbacks
):
    four = counter(hall, 4)  # service only
    with django_capture_on_commit_callbacks(execute=True):
        counter_open(counter_id=four.pk, user=clerk_a)
    with django_capture_on_commit_callbacks(execute=True):
        issue(hall, "service", by=greeter)
        issue(hall, "service", by=greeter)
    assert open_alerts() == []

    with django_capture_on_commit_callbacks(execute=True):
        counter_pause(counter_id=four.pk, user=clerk_a, reason="break")
    assert open_alerts() == [(NO_COUNTER, "bt:service")]
    with django_capture_on_commit_callbacks(execute=True):
        counter_resume(counter_id=four.pk, user=clerk_a)
    assert open_alerts() == []

    # The day has begun: the last counter closing with people waiting leaves them unserved.
    with django_capture_on_commit_callbacks(execute=True):
        counter_close(counter_id=four.pk, user=clerk_a)
    assert open_alerts() == [(NO_COUNTER, "bt:service")]
    assert "4号窗口" in ManagerAlert.objects.get(cleared_at=None).suggestion_zh


def test_before_any_clerk_has_signed_in_today_nobody_is_alerted(
    hall, greeter, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        issue(hall, "service", by=greeter)

    assert alerts_check(hall=hall)["raised"] == []
    assert open_alerts() == []


def test_calling_the_last_one_where_a_counter_serves_it_leaves_no_alert(
    hall, greeter, clerk_a, django_capture_on_commit_callbacks
):
    one = counter(hall, 1)
    with django_capture_on_commit_callbacks(execute=True):
        counter_open(counter_id=one.pk, user=clerk_a)
        issue(hall, "payment", by=greeter)
        counter_call_next(counter_id=one.pk, user=clerk_a)

    assert open_alerts() == []
