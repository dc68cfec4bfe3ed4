"""The duty manager's alerts (recovery/alerts.py): raised once while a condition lasts, cleared when
it ends, each with its audit event; the managers told once by e-mail through Celery."""

import datetime
from unittest import mock

import pytest
from django.core import mail
from django.db import transaction
from django.db.models.query import QuerySet

from counters.services import counter_call_next, counter_open, counter_pause, counter_resume
from hall.models import AuditEvent, EventKind
from recovery.alerts import (
    alert_clear,
    alert_notify_send,
    alert_public,
    alert_raise,
    alerts_check,
)
from recovery.models import AlertKind, ManagerAlert
from recovery.tasks import alert_notify, check_alerts_all_halls
from tests.conftest import counter
from tests.factories import issue

pytestmark = pytest.mark.django_db


def raise_long_wait(hall, **kw):
    return alert_raise(
        hall=hall,
        kind=AlertKind.LONG_WAIT,
        subject="bt:payment",
        message_zh="缴费最长已等候20分钟",
        message_en="Bill payment: the longest wait is 20 min",
        suggestion_zh="可开启2号窗口",
        suggestion_en="Open counter 2.",
        **kw,
    )


@pytest.fixture
def managers(manager, django_user_model, hall):
    """The hall's manager with an e-mail address, and a clerk who has one too."""
    manager.email = "duty@example.cn"
    manager.save()
    return manager


def test_an_alert_is_raised_once_while_it_is_open(hall, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        alert = raise_long_wait(hall)
        again = raise_long_wait(hall)

    assert alert is not None and again is None
    assert ManagerAlert.objects.filter(hall=hall, cleared_at=None).count() == 1
    (event,) = AuditEvent.objects.filter(kind=EventKind.ALERT_RAISED)
    assert event.seq == 1 and event.data["alert"] == alert.pk
    assert event.data["subject"] == "bt:payment"
    # Another subject or kind is another alert.
    assert alert_raise(
        hall=hall, kind=AlertKind.MANY_WAITING, subject="bt:payment", message_zh="x", message_en="x"
    )


def test_clearing_writes_its_event_and_lets_the_alert_be_raised_again(hall):
    first = raise_long_wait(hall)

    assert alert_clear(hall=hall, kind=AlertKind.LONG_WAIT, subject="bt:payment") is True
    assert alert_clear(hall=hall, kind=AlertKind.LONG_WAIT, subject="bt:payment") is False

    first.refresh_from_db()
    assert first.cleared_at is not None
    assert AuditEvent.objects.filter(kind=EventKind.ALERT_CLEARED).count() == 1
    second = raise_long_wait(hall)
    assert second is not None and second.pk != first.pk


def test_losing_the_race_to_the_constraint_returns_none_and_spoils_nothing(
    hall, greeter, monkeypatch
):
    raise_long_wait(hall)
    # As if a concurrent raise committed between our check and our insert.
    monkeypatch.setattr(QuerySet, "exists", lambda self: False)

    with transaction.atomic():  # the caller's own transaction carries on
        assert raise_long_wait(hall) is None
        issue(hall, by=greeter)

    assert ManagerAlert.objects.count() == 1
    assert AuditEvent.objects.filter(kind=EventKind.ALERT_RAISED).count() == 1


def test_an_unknown_kind_is_refused(hall):
    with pytest.raises(ValueError):
        alert_raise(hall=hall, kind="gossip", subject="", message_zh="x", message_en="x")


def test_the_managers_are_told_once_by_email(
    hall, managers, clerk_a, django_capture_on_commit_callbacks
):
    clerk_a.email = "clerk@example.cn"
    clerk_a.save()

    with django_capture_on_commit_callbacks(execute=True):
        alert = raise_long_wait(hall)
    alert_notify.delay(alert.pk)  # Celery may run a task twice

    (message,) = mail.outbox
    assert message.to == ["duty@example.cn"]
    assert "缴费最长已等候20分钟" in message.subject and "20 min" in message.subject
    assert "可开启2号窗口" in message.body and "Open counter 2." in message.body
    alert.refresh_from_db()
    assert alert.notified_at is not None


def test_a_failed_send_gives_the_claim_back_for_the_retry(hall, managers):
    alert = raise_long_wait(hall)

    with (
        mock.patch("django.core.mail.send_mail", side_effect=OSError("SMTP down")),
        pytest.raises(OSError),
    ):
        alert_notify_send(alert_id=alert.pk)
    alert.refresh_from_db()
    assert alert.notified_at is None and mail.outbox == []

    assert alert_notify_send(alert_id=alert.pk) is True
    assert len(mail.outbox) == 1


def test_an_alert_cleared_before_the_task_ran_is_not_sent(hall, managers):
    alert = raise_long_wait(hall)
    alert_clear(hall=hall, kind=AlertKind.LONG_WAIT, subject="bt:payment")

    assert alert_notify_send(alert_id=alert.pk) is False
    assert mail.outbox == []


# --- The periodic check ------------------------------------------------------------------------


def at(hh, mm=0):
    return datetime.datetime(2026, 11, 24, hh, mm, tzinfo=datetime.UTC)


def test_a_long_wait_raises_an_alert_naming_the_counters_that_could_help(
    hall, greeter, clerk_a, manager
):
    one = counter(hall, 1)
    counter_open(counter_id=one.pk, user=clerk_a, now=at(1, 0))
    issue(hall, "service", by=greeter, at=at(2, 0))  # counters 2, 3, 4 serve it: all closed

    # At the target no wait alert yet; no open counter serves it, which is an alert of its own.
    no_counter = ("no_counter_open", "bt:service")
    assert alerts_check(hall=hall, now=at(2, 15)) == {"raised": [no_counter], "cleared": []}
    result = alerts_check(hall=hall, now=at(2, 16))

    assert result["raised"] == [("long_wait", "bt:service")]
    alert = ManagerAlert.objects.get(kind=AlertKind.LONG_WAIT)
    assert "16" in alert.message_zh and "16 min" in alert.message_en
    assert "2、3、4号窗口" in alert.suggestion_zh and "counter 2, 3, 4" in alert.suggestion_en
    assert alert.data["suggested_counters"] == [2, 3, 4]
    assert alerts_check(hall=hall, now=at(2, 20)) == {"raised": [], "cleared": []}  # still open

    four = counter(hall, 4)
    counter_open(counter_id=four.pk, user=manager, now=at(2, 21))
    counter_call_next(counter_id=four.pk, user=manager, now=at(2, 21))

    cleared = alerts_check(hall=hall, now=at(2, 22))["cleared"]
    assert cleared == [("long_wait", "bt:service"), no_counter]
    assert AuditEvent.objects.filter(kind=EventKind.ALERT_CLEARED).count() == 2


def test_too_many_waiting_raises_an_alert_and_an_idle_counter_is_suggested(hall, greeter, clerk_a):
    hall.waiting_alert_threshold = 3
    hall.save()
    one = counter(hall, 1)  # payment and top-up
    counter_open(counter_id=one.pk, user=clerk_a, now=at(1, 0))
    for _ in range(4):
        issue(hall, "topup", by=greeter, at=at(2, 0))

    alerts_check(hall=hall, now=at(2, 1))

    alert = ManagerAlert.objects.get(kind=AlertKind.MANY_WAITING)
    assert alert.subject == "bt:topup"
    assert "4" in alert.message_zh and "4 waiting, more than 3" in alert.message_en
    assert "1号窗口空闲" in alert.suggestion_zh and "counter 1 is idle" in alert.suggestion_en
    assert "可开启3号窗口" in alert.suggestion_zh  # counter 3 (closed) serves top-up as well


def test_a_long_pause_raises_an_alert_and_resuming_clears_it(hall, clerk_a):
    one = counter(hall, 1)
    counter_open(counter_id=one.pk, user=clerk_a, now=at(1, 0))
    counter_pause(counter_id=one.pk, user=clerk_a, reason="phone_call", now=at(2, 0))

    assert alerts_check(hall=hall, now=at(2, 15))["raised"] == []  # 15 min: not past it yet
    assert alerts_check(hall=hall, now=at(2, 16))["raised"] == [("long_pause", f"counter:{one.pk}")]
    alert = ManagerAlert.objects.get(kind=AlertKind.LONG_PAUSE)
    assert "1号窗口已暂停16分钟" in alert.message_zh and "16 min" in alert.message_en

    counter_resume(counter_id=one.pk, user=clerk_a, now=at(2, 17))

    assert alerts_check(hall=hall, now=at(2, 18))["cleared"] == [
        ("long_pause", f"counter:{one.pk}")
    ]


def test_the_check_leaves_alerts_it_does_not_own_alone(hall):
    alert_raise(
        hall=hall,
        kind=AlertKind.COMPLAINT_OVERDUE,
        subject="complaint:1",
        message_zh="投诉回访已超时",
        message_en="A complaint callback is overdue",
    )

    alerts_check(hall=hall, now=at(2, 0))

    assert ManagerAlert.objects.filter(cleared_at=None).count() == 1


def test_the_beat_task_checks_the_halls_that_need_it(hall, other_hall, greeter, time_machine):
    time_machine.move_to(at(3, 0))
    issue(hall, "payment", by=greeter, at=at(2, 0))

    assert check_alerts_all_halls.delay().get() == 1  # only h1 has anyone waiting

    assert list(ManagerAlert.objects.values_list("hall__code", "kind")) == [("h1", "long_wait")]


# --- The planner's advice ------------------------------------------------------------------------


@pytest.fixture
def quick_planner(settings, monkeypatch):
    """Planner advice on, with 4 simulated days per evaluation instead of 30 (a test's budget)."""
    from queueing.planning import plan

    settings.ALERT_PLANNER_ADVICE = True
    monkeypatch.setattr(plan, "REPLICATIONS", 4)


def test_a_wait_alert_carries_the_planners_staffing_for_the_hour(
    hall, greeter, clerk_a, managers, quick_planner
):
    from queueing import planning

    one = counter(hall, 1)
    counter_open(counter_id=one.pk, user=clerk_a, now=at(1, 0))
    issue(hall, "service", by=greeter, at=at(2, 0))
    alerts_check(hall=hall, now=at(2, 16))  # 10:16 in Shanghai
    alert = ManagerAlert.objects.get(kind=AlertKind.LONG_WAIT)

    assert alert_notify_send(alert_id=alert.pk, now=at(2, 17)) is True

    expected = planning.suggest(scenario=planning.scenario_for_hall(hall=hall, now=at(2, 17)))
    advised = expected.counters_per_hour[10]
    alert.refresh_from_db()
    assert alert.data["planner"] == {
        "hour": 10,
        "advised": advised,
        "open_now": 1,
        "reachable": 10 not in expected.unreachable,
    }
    assert alert.suggestion_zh.startswith("可开启2、3、4号窗口")  # the counters, then the planner
    assert f"规划器建议本时段开{advised}个窗口(现开1个)" in alert.suggestion_zh
    assert f"The planner advises {advised} open counters this hour (1 now)" in alert.suggestion_en
    (message,) = mail.outbox
    assert f"规划器建议本时段开{advised}个窗口" in message.body
    assert "The planner advises" in message.body


def test_the_planner_searches_once_an_hour_per_hall(hall, quick_planner):
    from queueing.planning import advice

    with mock.patch.object(advice, "suggest", wraps=advice.suggest) as search:
        first = advice.staffing_advice(hall=hall, now=at(2, 16))
        again = advice.staffing_advice(hall=hall, now=at(2, 40))
        assert search.call_count == 1 and first == again
        advice.staffing_advice(hall=hall, now=at(3, 5))  # the next hour: searched again
        assert search.call_count == 2
        assert advice.staffing_advice(hall=hall, now=at(14, 0)) is None  # 22:00: not planned


def test_a_failing_planner_does_not_stop_the_alert(hall, managers, quick_planner):
    alert = raise_long_wait(hall)

    with mock.patch("recovery.alerts.staffing_advice", side_effect=RuntimeError("planner broke")):
        assert alert_notify_send(alert_id=alert.pk, now=at(2, 16)) is True

    (message,) = mail.outbox
    assert "Open counter 2." in message.body
    alert.refresh_from_db()
    assert "planner" not in alert.data and alert.suggestion_en == "Open counter 2."


def test_a_pause_alert_gets_no_planner_advice(hall, managers, quick_planner):
    alert = alert_raise(
        hall=hall, kind=AlertKind.LONG_PAUSE, subject="counter:1", message_zh="x", message_en="x"
    )
    with mock.patch("recovery.alerts.staffing_advice") as advise:
        assert alert_notify_send(alert_id=alert.pk, now=at(2, 16)) is True
    advise.assert_not_called()


def test_a_retry_after_a_failed_send_adds_the_planners_advice_once(
    hall, greeter, clerk_a, managers, quick_planner
):
    one = counter(hall, 1)
    counter_open(counter_id=one.pk, user=clerk_a, now=at(1, 0))
    issue(hall, "service", by=greeter, at=at(2, 0))
    alerts_check(hall=hall, now=at(2, 16))
    alert = ManagerAlert.objects.get(kind=AlertKind.LONG_WAIT)

    with (
        mock.patch("django.core.mail.send_mail", side_effect=OSError("SMTP down")),
        pytest.raises(OSError),
    ):
        alert_notify_send(alert_id=alert.pk, now=at(2, 17))
    assert alert_notify_send(alert_id=alert.pk, now=at(2, 18)) is True

    alert.refresh_from_db()
    assert alert.suggestion_zh.count("规划器建议") == 1
    assert alert.suggestion_en.count("The planner advises") == 1
    (message,) = mail.outbox
    assert message.body.count("The planner advises") == 1


def test_an_alert_says_which_business_and_counters_it_is_about_for_the_walls_links(
    hall, greeter, clerk_a
):
    one = counter(hall, 1)
    counter_open(counter_id=one.pk, user=clerk_a, now=at(1, 0))
    issue(hall, "service", by=greeter, at=at(2, 0))  # counters 2, 3, 4 serve it: all closed
    counter_pause(counter_id=one.pk, user=clerk_a, reason="phone_call", now=at(2, 0))
    alerts_check(hall=hall, now=at(2, 16))

    wait = alert_public(ManagerAlert.objects.get(kind=AlertKind.LONG_WAIT))
    pause = alert_public(ManagerAlert.objects.get(kind=AlertKind.LONG_PAUSE))

    assert (wait["business_type"], wait["counter"]) == ("service", None)
    assert wait["suggested_counters"] == [2, 3, 4]
    # The pause alert's subject holds the counter's id; the wall links by its number.
    assert (pause["business_type"], pause["counter"]) == (None, 1)
