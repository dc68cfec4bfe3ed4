"""Helpers of the counter action tests (tests/counters/test_*.py)."""

from counters.models import ClerkSession, Counter, Interruption
from counters.services import (
    counter_finish,
    counter_open,
    counter_start,
)
from hall.models import AuditEvent
from queueing.models import Status, Ticket
from tests.conftest import counter


def opened(hall, number: int, clerk) -> Counter:
    c = counter(hall, number)
    counter_open(counter_id=c.pk, user=clerk)
    c.refresh_from_db()
    return c


def reload(ticket: Ticket) -> Ticket:
    return Ticket.objects.get(pk=ticket.pk)


def last_event_id() -> int:
    return AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


def events_since(mark: int) -> list[str]:
    return list(
        AuditEvent.objects.filter(id__gt=mark).order_by("id").values_list("kind", flat=True)
    )


def state_of_everything() -> tuple:
    """What a refused action must leave untouched."""
    tickets = list(
        Ticket.objects.order_by("id").values_list(
            "status",
            "counter_id",
            "clerk_id",
            "window_counter_id",
            "window_slot",
            "pinned_counter_id",
            "business_type_id",
            "issued_at",
            "called_at",
            "started_at",
            "finished_at",
            "recall_count",
            "transfer_count",
            "outcome",
        )
    )
    counters = list(Counter.objects.order_by("id").values_list("state", "clerk_id"))
    return (
        tickets,
        counters,
        AuditEvent.objects.count(),
        list(ClerkSession.objects.order_by("id").values_list("ended_at", flat=True)),
        list(Interruption.objects.order_by("id").values_list("ended_at", flat=True)),
    )


def assert_back_in_the_pool(*tickets: Ticket) -> None:
    """Released from a window: waiting, in no slot, and still with its original issue time."""
    for original in tickets:
        released = reload(original)
        assert (released.status, released.window_slot, released.window_counter) == (
            Status.WAITING,
            None,
            None,
        )
        assert released.issued_at == original.issued_at


def serve_to_done(c: Counter, user) -> Ticket:
    """Start and finish the counter's called ticket."""
    counter_start(counter_id=c.pk, user=user)
    return counter_finish(counter_id=c.pk, user=user)
