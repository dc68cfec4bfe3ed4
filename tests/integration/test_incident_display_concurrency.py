"""Incidents reach the counter displays without deadlocking the counters (PostgreSQL, threads).

An incident's live event goes to the counters serving an affected business (display/events.py).
Its service holds no hall lock, so it must not write counter rows: a counter action holding one
would wait for the hall's seq that the incident's transaction holds, and the incident would wait
for the counter row. This runs clerks calling, starting and finishing at three counters while a
manager opens and resolves faults affecting every business, all at once.
"""

import threading

import pytest
from django.db import connection

from counters.services import counter_call_next, counter_finish, counter_open, counter_start
from hall.models import AuditEvent
from recovery.incidents import incident_open, incident_resolve
from tests.conftest import counter
from tests.factories import issue

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

ROUNDS = 12


def test_faults_opened_and_resolved_while_clerks_work_never_deadlock(
    hall, greeter, clerk_a, clerk_b, manager, django_user_model
):
    if connection.vendor != "postgresql":
        pytest.fail("the services suite runs on PostgreSQL: set DATABASE_URL")
    clerk_c = django_user_model.objects.create_user(username="clerk_c", password="pw")
    hall.memberships.create(user=clerk_c, role="clerk")
    for code in ("payment", "topup", "service"):
        for _ in range(ROUNDS + 2):
            issue(hall, code, by=greeter)
    desks = [(counter(hall, n), clerk) for n, clerk in ((1, clerk_a), (2, clerk_b), (3, clerk_c))]
    for desk, clerk in desks:
        counter_open(counter_id=desk.pk, user=clerk)
    barrier = threading.Barrier(len(desks) + 1)
    errors: list = []

    def clerk_works(desk, clerk):
        try:
            barrier.wait()
            for _ in range(ROUNDS):
                if counter_call_next(counter_id=desk.pk, user=clerk).called is None:
                    return
                counter_start(counter_id=desk.pk, user=clerk)
                counter_finish(counter_id=desk.pk, user=clerk)
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    def manager_reports():
        try:
            barrier.wait()
            for _ in range(ROUNDS):
                fault = incident_open(hall=hall, kind="network", reporter=manager)
                incident_resolve(incident_id=fault.pk, user=manager)
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=clerk_works, args=desk) for desk in desks]
    threads.append(threading.Thread(target=manager_reports))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    seqs = list(AuditEvent.objects.filter(hall=hall).order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1))  # one seq each, none lost, none twice
    assert AuditEvent.objects.filter(kind="incident.opened").count() == ROUNDS
