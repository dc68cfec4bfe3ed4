"""One rating per ticket under real concurrency on PostgreSQL: several pads (threads, each with
its own connection) rate the same finished ticket at once; exactly one rating is stored, with one
audit event, and every other attempt is refused as already rated, not a 500."""

import threading

import pytest
from django.db import connection

from counters.models import SatisfactionRating
from counters.satisfaction import AlreadyRated, rating_record
from counters.services import counter_call_next, counter_finish, counter_open, counter_start
from hall.models import AuditEvent, EventKind
from hall.services import device_register
from tests.conftest import counter
from tests.factories import issue

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

PADS = 6


def test_pads_rating_one_ticket_at_once_store_one_rating(hall, greeter, clerk_a):
    if connection.vendor != "postgresql":
        pytest.fail("the services suite runs on PostgreSQL: set DATABASE_URL")
    c1 = counter(hall, 1)
    counter_open(counter_id=c1.pk, user=clerk_a)
    issue(hall, by=greeter)
    counter_call_next(counter_id=c1.pk, user=clerk_a)
    counter_start(counter_id=c1.pk, user=clerk_a)
    ticket = counter_finish(counter_id=c1.pk, user=clerk_a)
    pads = [device_register(hall=hall, kind="rating_pad", name=f"pad {n}")[0] for n in range(PADS)]

    start = threading.Barrier(PADS)
    outcomes: list[str] = []

    def rate(pad, rating):
        try:
            start.wait()
            rating_record(ticket_id=ticket.pk, rating=rating, device=pad)
            outcomes.append("stored")
        except AlreadyRated:
            outcomes.append("already_rated")
        except Exception as error:  # noqa: BLE001 - any other outcome fails the test below
            outcomes.append(repr(error))
        finally:
            connection.close()

    ratings = ["very_satisfied", "satisfied", "dissatisfied"]
    threads = [
        threading.Thread(target=rate, args=(pad, ratings[n % 3])) for n, pad in enumerate(pads)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == ["already_rated"] * (PADS - 1) + ["stored"]
    assert SatisfactionRating.objects.filter(ticket=ticket).count() == 1
    assert AuditEvent.objects.filter(kind=EventKind.RATING_RECORDED).count() == 1
