"""One reply per complaint under real concurrency on PostgreSQL, and the follow-up run twice at
once sends one reminder: threads, each with its own connection, started together."""

import threading

import pytest
from django.db import connection

from hall.models import AuditEvent, EventKind
from recovery.complaints import ComplaintAlreadyReplied, complaint_register, complaint_reply
from recovery.models import Complaint, ComplaintStatus
from recovery.tasks import remind_complaint_owner

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

THREADS = 6


def run_together(target, count: int) -> list:
    """``target(i)`` in ``count`` threads released at once; their results or exceptions."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def worker(i):
        try:
            barrier.wait()
            results[i] = target(i)
        except Exception as exc:  # the refusal is the result we look at
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def test_concurrent_replies_one_wins_the_others_are_told(hall, clerk_a, manager):
    if connection.vendor != "postgresql":
        pytest.fail("the services suite runs on PostgreSQL: set DATABASE_URL")
    complaint = complaint_register(hall=hall, owner=clerk_a, category="other", description="x")

    results = run_together(
        lambda i: complaint_reply(
            complaint_id=complaint.pk, user=clerk_a if i % 2 else manager, reply=f"reply {i}"
        ),
        THREADS,
    )

    winners = [r for r in results if isinstance(r, Complaint)]
    refused = [r for r in results if isinstance(r, ComplaintAlreadyReplied)]
    assert (len(winners), len(refused)) == (1, THREADS - 1), results
    stored = Complaint.objects.get(pk=complaint.pk)
    assert stored.status == ComplaintStatus.REPLIED
    assert stored.reply == winners[0].reply
    assert AuditEvent.objects.filter(kind=EventKind.COMPLAINT_REPLIED).count() == 1


def test_a_reminder_delivered_several_times_at_once_is_sent_once(hall, clerk_a, mailoutbox):
    clerk_a.email = "clerk_a@hall.example.cn"
    clerk_a.save()
    complaint = complaint_register(
        hall=hall, owner=clerk_a, category="other", description="x", callback_minutes=10
    )

    results = run_together(lambda i: remind_complaint_owner.apply(args=[complaint.pk]).get(), 4)

    assert sorted(results) == [False, False, False, True]
    assert len(mailoutbox) == 1
