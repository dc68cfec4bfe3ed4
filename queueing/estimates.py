"""What the estimated wait learns from the hall's history, and the counts shown beside it.

The estimate itself is ``queueing.forecast`` (the real router run forward on the hall's state,
built by ``queueing.selectors.hall_state``). It needs two things observed here:

* ``service_stats``: per business type, the mean and coefficient of variation of the *counter
  time per call* (called -> finished, or -> marked no-show: the time a counter is taken by one
  call, walking up included) over the hall's last ``SERVICE_HISTORY_DAYS`` days, at most
  ``SERVICE_HISTORY_ROWS`` tickets (the newest). A type with fewer than ``MIN_SAMPLES`` tickets
  falls back to its configured ``expected_service_minutes`` with an unknown cv (taken as
  exponential). One query, cached per hall for ``SERVICE_CACHE_S``.
* ``arrival_rates``: per business type and lane, the tickets issued in the last hour, per second.
  One query, cached per hall for ``ARRIVAL_CACHE_S``.

The cache is ``hall.cache``'s: with Redis down both are computed (or this process's last value
is used), never an error.
"""

import datetime
import math
from collections import defaultdict

from django.db.models import Count, Q

from counters.models import Counter, CounterState
from hall.cache import cache_get_or_compute
from hall.models import BusinessType
from queueing.models import Status, Ticket

SERVICE_HISTORY_DAYS = 14
SERVICE_HISTORY_ROWS = 2000
MIN_SAMPLES = 20
SERVICE_CACHE_S = 600
ARRIVAL_CACHE_S = 60
ARRIVAL_WINDOW = datetime.timedelta(hours=1)


def servers_for(*, business_type) -> int:
    """Counters that serve the type: those open or paused, else all configured (0: none)."""
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


def service_stats(*, hall, now: datetime.datetime) -> tuple[dict, dict]:
    """({business type id: mean seconds}, {business type id: cv}) for the hall's active types."""
    return cache_get_or_compute(
        f"queueing:service-stats:{hall.pk}",
        lambda: _service_stats(hall=hall, now=now),
        SERVICE_CACHE_S,
    )


def _service_stats(*, hall, now: datetime.datetime) -> tuple[dict, dict]:
    since = hall.service_date(now) - datetime.timedelta(days=SERVICE_HISTORY_DAYS)
    rows = (
        Ticket.objects.filter(
            hall=hall,
            service_date__gte=since,
            status__in=(Status.DONE, Status.NO_SHOW),
            called_at__isnull=False,
            finished_at__isnull=False,
        )
        .order_by("-finished_at")
        .values_list("business_type_id", "called_at", "finished_at")[:SERVICE_HISTORY_ROWS]
    )
    samples: dict[int, list[float]] = defaultdict(list)
    for business_type_id, called_at, finished_at in rows:
        samples[business_type_id].append(max((finished_at - called_at).total_seconds(), 0.0))
    means, cvs = {}, {}
    for pk, minutes in BusinessType.objects.filter(hall=hall).values_list(
        "pk", "expected_service_minutes"
    ):
        observed = samples.get(pk, ())
        if len(observed) >= MIN_SAMPLES:
            mean = sum(observed) / len(observed)
            if mean > 0:
                var = sum((x - mean) ** 2 for x in observed) / len(observed)
                means[pk], cvs[pk] = mean, math.sqrt(var) / mean
                continue
        means[pk] = float(minutes) * 60.0
    return means, cvs


def arrival_rates(*, hall, now: datetime.datetime) -> dict[tuple[int, str], float]:
    """{(business type id, lane): tickets per second} issued in the last hour."""
    return cache_get_or_compute(
        f"queueing:arrival-rates:{hall.pk}",
        lambda: _arrival_rates(hall=hall, now=now),
        ARRIVAL_CACHE_S,
    )


def _arrival_rates(*, hall, now: datetime.datetime) -> dict[tuple[int, str], float]:
    counts = (
        Ticket.objects.filter(
            hall=hall, service_date=hall.service_date(now), issued_at__gt=now - ARRIVAL_WINDOW
        )
        .order_by()
        .values_list("business_type_id", "lane")
        .annotate(n=Count("pk"))
    )
    seconds = ARRIVAL_WINDOW.total_seconds()
    return {(bt, lane): n / seconds for bt, lane, n in counts}
