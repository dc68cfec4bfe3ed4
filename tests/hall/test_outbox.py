"""hall.outbox: a task sent after commit never fails or stalls the request while the broker is
down, and what it would have done is recovered by the beat sweeps."""

import datetime
import logging

import pytest
from django.core import mail
from django.utils import timezone
from kombu.exceptions import OperationalError

from hall import outbox
from hall.outbox import outbox_reset, task_send
from recovery.alerts import alerts_untold
from recovery.models import AlertKind, ManagerAlert
from recovery.tasks import alert_notify, check_alerts_all_halls
from tests.recovery.test_alerts import raise_long_wait
from tests.tools.clock import Clock

pytestmark = pytest.mark.django_db


@pytest.fixture
def broker_down(monkeypatch, settings):
    """Celery as in production (not eager) with a broker that refuses every publish."""
    from config.celery import app

    publishes = []

    def refuse(*args, **kwargs):
        publishes.append(args)
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(alert_notify, "apply_async", refuse)
    clock = Clock()
    monkeypatch.setattr(outbox.time, "monotonic", clock)
    outbox_reset()
    eager, app.conf.task_always_eager = app.conf.task_always_eager, False
    try:
        yield publishes, clock
    finally:
        app.conf.task_always_eager = eager
        outbox_reset()


def test_a_refused_publish_is_dropped_and_logged_once(
    hall, broker_down, caplog, django_capture_on_commit_callbacks
):
    publishes, clock = broker_down
    with caplog.at_level(logging.WARNING), django_capture_on_commit_callbacks(execute=True):
        alert = raise_long_wait(hall)
    assert alert is not None and len(publishes) == 1
    assert ManagerAlert.objects.filter(pk=alert.pk, notified_at=None).exists()
    for _ in range(10):  # the circuit is open: no publish is tried, nothing more is logged
        assert task_send(alert_notify, alert.pk) is False
    assert len(publishes) == 1
    warnings = [r.getMessage() for r in caplog.records if r.name == "hall.outbox"]
    assert len(warnings) == 1 and "1 task(s) not sent" in warnings[0]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]

    clock.now += outbox.RETRY_AFTER_S  # tried again after a few seconds
    assert task_send(alert_notify, alert.pk) is False
    assert len(publishes) == 2


def test_an_alert_whose_mail_task_was_lost_is_mailed_by_the_beat_sweep(hall, manager):
    manager.email = "duty@example.cn"
    manager.save()
    now = timezone.now()
    raised = now - datetime.timedelta(minutes=11)
    # raised while the broker was down: its alert_notify never ran
    alert = ManagerAlert.objects.create(
        hall=hall,
        kind=AlertKind.COMPLAINT_OVERDUE,
        subject="complaint:1",
        message_zh="投诉回访已超时",
        message_en="A complaint callback is overdue",
        raised_at=raised,
    )
    ManagerAlert.objects.create(  # raised 2 minutes ago: its own task may still be retrying
        hall=hall,
        kind=AlertKind.COMPLAINT_OVERDUE,
        subject="complaint:2",
        message_zh="投诉回访已超时",
        message_en="A complaint callback is overdue",
        raised_at=now - datetime.timedelta(minutes=2),
    )
    assert alerts_untold(now=now) == [alert.pk]

    check_alerts_all_halls.delay()

    assert len(mail.outbox) == 1
    assert ManagerAlert.objects.get(pk=alert.pk).notified_at is not None
    assert alerts_untold() == []
