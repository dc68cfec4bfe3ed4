"""Estimated wait, a simple honest model: the people ahead of you of the same business type,
times its expected service time, shared among the counters that serve it.

Counters that are open or paused count as serving; before any opens (morning) the counters
configured for the type are assumed. The simulator issue replaces this with a model that knows
lanes, windows and observed service times.
"""

from django.db.models import Count, Q

from counters.models import Counter, CounterState
from queueing.models import Status, Ticket


def servers_for(*, business_type) -> int:
    counts = Counter.objects.filter(business_types=business_type).aggregate(
        total=Count("id"), staffed=Count("id", filter=~Q(state=CounterState.CLOSED))
    )
    return counts["staffed"] or counts["total"] or 0


def people_ahead(*, business_type, issued_at=None, exclude_id=None) -> int:
    """Waiting tickets of the same business type issued before ``issued_at`` (all if None)."""
    waiting = Ticket.objects.filter(business_type=business_type, status=Status.WAITING)
    if issued_at is not None:
        waiting = waiting.filter(issued_at__lt=issued_at)
    if exclude_id is not None:
        waiting = waiting.exclude(pk=exclude_id)
    return waiting.count()


def estimated_wait_seconds(*, business_type, ahead: int, servers: int | None = None) -> int | None:
    if servers is None:
        servers = servers_for(business_type=business_type)
    if servers <= 0:
        return None  # nobody serves it: no honest estimate
    return round(ahead * business_type.expected_service_minutes * 60 / servers)
