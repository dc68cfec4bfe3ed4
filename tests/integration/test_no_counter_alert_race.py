"""Issue 16's no-counter alert raised once under real concurrency on PostgreSQL: the beat's check
and the checks that follow events (threads, each with its own connection) see at once that
people wait for a business no open counter serves; exactly one alert is stored, with one
``alert.raised`` event and one e-mail to the managers, and none of the checks fails."""

import threading

import pytest
from django.core import mail
from django.db import connection

from counters.services import counter_open
from hall.models import AuditEvent, EventKind
from recovery.alerts import alerts_check
from recovery.models import AlertKind, ManagerAlert
from tests.conftest import counter
from tests.factories import issue

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

CHECKS = 6


def test_concurrent_checks_raise_the_no_counter_alert_once(hall, greeter, clerk_a, manager):
    if connection.vendor != "postgresql":
        pytest.fail("the services suite runs on PostgreSQL: set DATABASE_URL")
    manager.email = "duty@example.cn"
    manager.save()
    counter_open(counter_id=counter(hall, 1).pk, user=clerk_a)  # payment and top-up only
    issue(hall, "service", by=greeter, lane="priority", reason="elderly")
    issue(hall, "service", by=greeter)
    AuditEvent.objects.filter(kind=EventKind.ALERT_RAISED).delete()  # what the hooks raised
    ManagerAlert.objects.all().delete()
    mail.outbox.clear()

    start = threading.Barrier(CHECKS)
    outcomes: list[str] = []

    def check():
        try:
            start.wait()
            raised = alerts_check(hall=hall)["raised"]
            outcomes.append("raised" if raised else "seen")
        except Exception as error:  # noqa: BLE001 - any other outcome fails the test below
            outcomes.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=check) for _ in range(CHECKS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == ["raised"] + ["seen"] * (CHECKS - 1)
    alert = ManagerAlert.objects.get()
    assert (alert.kind, alert.subject) == (AlertKind.NO_COUNTER_OPEN, "bt:service")
    assert AuditEvent.objects.filter(kind=EventKind.ALERT_RAISED).count() == 1
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["duty@example.cn"]
