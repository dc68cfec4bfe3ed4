"""Invariants 1, 2 and 5 under real concurrency on PostgreSQL: processes and threads, not a mock.

Eight clerks at the eight counters of one hall (general, VIP-first, VIP-only, express) call, recall,
serve, mark no-shows, transfer and pause, while four kiosks with their greeters issue tickets of
every lane; each is its own process with its own connection (``tests.tools.hammer``). Afterwards,
read back from the database: nobody was called twice or by two counters, no number was given twice
or skipped, every ticket the kiosks were given exists and was served or marked a no-show with a
legal history, and not one operation failed. Then concurrent replays of one ``Idempotency-Key``:
the effect happens once.
"""

import json
import threading
import time
from urllib.parse import quote

import pytest
from django.db import connection, transaction
from rest_framework.test import APIClient

from counters.services import counter_call_next, counter_open, counter_start
from hall.models import AuditEvent, EventKind, IdempotentRequest
from queueing.models import Status, Ticket
from tests.conftest import counter
from tests.factories import issue
from tests.tools.hammer import seed_hall
from tests.tools.invariants import hammer_violations
from tests.tools.swarm import child_env, run_swarm

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

COUNTERS = range(1, 9)
KIOSKS = range(1, 5)
CALLER_OPS = 160  # each, before the drain
ISSUER_OPS = 200  # each: 800 tickets, some 2,500 counter actions to serve them
REPLAYS = 8


def _database_url() -> str:
    """This test database (pytest-django's, per xdist worker), for the child processes."""
    db = connection.settings_dict
    if db["ENGINE"] != "django.db.backends.postgresql":
        pytest.fail("the services suite runs on PostgreSQL: set DATABASE_URL")
    user = quote(db["USER"] or "postgres")
    password = f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else ""
    host, port = db["HOST"] or "127.0.0.1", db["PORT"] or 5432
    return f"postgres://{user}{password}@{host}:{port}/{db['NAME']}"


def test_eight_clerks_and_four_kiosks_in_separate_processes_never_collide(tmp_path):
    seed_hall(code="hm", counters=len(COUNTERS), issuers=len(KIOSKS))

    run = run_swarm(
        env=child_env(_database_url()),
        hall="hm",
        counters=COUNTERS,
        kiosks=KIOSKS,
        caller_ops=CALLER_OPS,
        issuer_ops=ISSUER_OPS,
        issuer_pace_ms=4,
        workdir=tmp_path,
    )

    assert run.failures == {}
    assert run.errors() == []
    assert len(run.summaries) == len(COUNTERS) + len(KIOSKS)
    assert run.operations >= 2_000, run.operations
    calls = [r for r in run.records if r["op"] == "call_next" and r["t"]]
    assert len({r["w"] for r in calls}) == len(COUNTERS), "every counter called someone"
    assert Ticket.objects.filter(hall__code="hm").count() == len(KIOSKS) * ISSUER_OPS
    violations = hammer_violations(hall_code="hm", records=run.records)
    assert violations == {}, json.dumps(violations, indent=1, ensure_ascii=False, default=str)


def test_a_kiosk_issue_waits_only_for_the_commit_of_a_counter_action_in_progress(
    hall, kiosk, greeter, clerk_a
):
    """The deadlock the hammer found, pinned down. A counter action locked the hall row and (via
    a join) the business type row FOR UPDATE; an issue share-locks both for its foreign keys at
    commit, and with the issue's own locks held the two deadlocked.

    Now the only lock they share is the hall's live sequence row, which both take as their last
    statement: an issue waits at most for the commit of the action in progress, never
    deadlocks, and the seq order is the commit order displays rely on."""
    c1 = counter(hall, 1)
    counter_open(counter_id=c1.pk, user=clerk_a)
    issue(hall, "payment", by=greeter)
    counter_call_next(counter_id=c1.pk, user=clerk_a)
    holding, release = threading.Event(), threading.Event()
    issued: list = []

    def counter_action_in_progress():
        try:
            with transaction.atomic():  # keeps counter_start's locks until we say so
                counter_start(counter_id=c1.pk, user=clerk_a)
                holding.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    def kiosk_issue():
        try:
            with connection.cursor() as cursor:
                cursor.execute("SET lock_timeout = '10s'")  # a deadlock fails, not hangs
            issued.append(issue(hall, "payment", device=kiosk))  # the served ticket's type
        except Exception as exc:
            issued.append(exc)
        finally:
            connection.close()

    action = threading.Thread(target=counter_action_in_progress)
    action.start()
    assert holding.wait(timeout=10)
    issuing = threading.Thread(target=kiosk_issue)
    issuing.start()
    time.sleep(0.3)
    release.set()
    action.join(timeout=30)
    issuing.join(timeout=5)

    assert not issuing.is_alive(), "the issue still waits after the counter action committed"
    assert [t.number for t in issued] == ["A002"], issued
    assert Ticket.objects.get(status=Status.SERVING).counter_id == c1.pk
    started = AuditEvent.objects.get(kind=EventKind.TICKET_STARTED, hall=hall)
    issued_event = AuditEvent.objects.get(kind=EventKind.TICKET_ISSUED, ticket_id=issued[0].pk)
    assert issued_event.seq == started.seq + 1  # committed second, numbered second


# --- Idempotency-Key, replayed at the same instant -------------------------------------------


def _at_once(n: int, request) -> list:
    """Run ``request(client)`` in ``n`` threads released together, each with its own connection."""
    barrier, results = threading.Barrier(n), [None] * n

    def one(i: int) -> None:
        try:
            barrier.wait(timeout=10)
            results[i] = request(APIClient())
        except Exception as exc:  # reported by the assertions, not lost in the thread
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_a_kiosk_tap_replayed_eight_times_at_once_issues_one_ticket(hall, kiosk):
    def tap(client):
        return client.post(
            f"/api/v1/halls/{hall.code}/tickets/",
            data=json.dumps(
                {"business_type": "payment", "lane": "priority", "priority_reason": "elderly"}
            ),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Device {kiosk.token}",
            HTTP_IDEMPOTENCY_KEY="tap-once",
        )

    responses = _at_once(REPLAYS, tap)

    assert [getattr(r, "status_code", r) for r in responses] == [201] * REPLAYS
    assert len({json.dumps(r.json(), sort_keys=True) for r in responses}) == 1
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in responses) == REPLAYS - 1
    ticket = Ticket.objects.get()
    assert ticket.number == "A001" and ticket.pk == responses[0].json()["id"]
    assert AuditEvent.objects.filter(kind=EventKind.TICKET_ISSUED).count() == 1
    assert IdempotentRequest.objects.count() == 1


def test_a_call_next_replayed_eight_times_at_once_calls_one_customer(hall, greeter, clerk_a):
    c1 = counter(hall, 1)
    counter_open(counter_id=c1.pk, user=clerk_a)
    waiting = [issue(hall, "payment", by=greeter) for _ in range(5)]

    def call(client):
        client.force_authenticate(user=clerk_a)
        return client.post(
            f"/api/v1/counters/{c1.pk}/call-next/", HTTP_IDEMPOTENCY_KEY="press-once"
        )

    responses = _at_once(REPLAYS, call)

    assert [getattr(r, "status_code", r) for r in responses] == [200] * REPLAYS
    assert len({json.dumps(r.json(), sort_keys=True) for r in responses}) == 1
    assert responses[0].json()["called"]["number"] == waiting[0].number
    assert AuditEvent.objects.filter(kind=EventKind.TICKET_CALLED).count() == 1
    assert list(Ticket.objects.filter(status=Status.CALLED).values_list("pk", flat=True)) == [
        waiting[0].pk
    ]
