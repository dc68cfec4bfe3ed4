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

The estimate a new ticket gets in the issue response is not computed on the write path: the
live tier computes the hall's board after commit (display.board: one forecast per hall at most
every second, where streams of the hall are connected) and stores its estimates per business
type and lane with ``board_store``; ``new_ticket_estimate`` reads them (one cache read before
the issue's transaction, never under a lock) and corrects them for the people who joined or left
since. Without a board (no stream connected, or the cache down and nothing in this process) it
falls back to the simple model: people ahead x mean service time / counters serving the type.

The cache is ``hall.cache``'s: with Redis down both are computed (or this process's last value
is used), never an error.
"""

import datetime
import math
import time
from collections import defaultdict

from django.db.models import Count

from hall.cache import cache_get, cache_get_or_compute, cache_set
from hall.models import BusinessType
from queueing.forecast import Wait, long_queue_bands
from queueing.models import Status, Ticket

SERVICE_HISTORY_DAYS = 14
SERVICE_HISTORY_ROWS = 2000
MIN_SAMPLES = 20
SERVICE_CACHE_S = 600
ARRIVAL_CACHE_S = 60
ARRIVAL_WINDOW = datetime.timedelta(hours=1)
BOARD_CACHE_S = 300
BOARD_MAX_AGE_S = 120.0  # an older board is not trusted for a new ticket's estimate


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


def _board_key(hall_id: int) -> str:
    return f"queueing:board:{hall_id}"


def board_store(*, hall_id: int, types: list) -> None:
    """Keep a freshly computed board (``queueing.selectors.business_type_queues`` with every
    lane: display.board) for new tickets' estimates: in this process, and in the cache for the
    other processes. Never raises."""
    board = {
        "at": time.time(),
        "types": {
            bt.pk: {
                "waiting": bt.waiting,
                "servers": bt.staffed or bt.total,
                "mean_s": bt.mean_service_s,
                # per lane [point, p10, p25, p75, p90] in seconds, or None (forecast.Wait)
                "bands": {
                    lane: None if wait is None else [round(v) for v in _as_list(wait)]
                    for lane, wait in bt.lane_estimates.items()
                },
            }
            for bt in types
        },
    }
    cache_set(_board_key(hall_id), board, BOARD_CACHE_S)  # hall.cache keeps this process's copy


def board_cached(*, hall_id: int) -> dict | None:
    """The hall's latest board from the cache (or, with the cache down, the last this process
    stored or read: hall.cache); None if it is older than ``BOARD_MAX_AGE_S``. Never raises."""
    board = cache_get(_board_key(hall_id))
    if board is None or time.time() - board["at"] > BOARD_MAX_AGE_S:
        return None
    return board


def _as_list(wait: Wait) -> list[float]:
    return [wait.point, wait.p10, wait.p25, wait.p75, wait.p90]


def new_ticket_estimate(
    *, board: dict | None, business_type, lane: str, ahead: int, servers: int
) -> Wait | None:
    """How long a ticket of ``business_type`` and ``lane`` issued now is expected to wait (the
    point and its bands, seconds), with ``ahead`` people of its type waiting before it and
    ``servers`` counters serving the type.

    From the board when there is one: its forecast for the type and lane, the point and the
    bands moved by one mean service per server for each person who joined (or left) the type's
    queue since it was computed. Otherwise the simple model, with the bands of a queue that
    long (``forecast.long_queue_bands``). No query, no cache call (``board`` is read before).
    """
    configured_mean = float(business_type.expected_service_minutes) * 60.0
    if not servers:
        return None
    row = board["types"].get(business_type.pk) if board else None
    if row is None or "bands" not in row:  # no board, or one from before the bands
        if not ahead:
            return Wait(0, 0, 0, 0, 0)
        return long_queue_bands(ahead * configured_mean / servers, ahead)
    base = row["bands"].get(lane)
    if base is None:  # the forecast knows no counter open or paused that serves it
        return None
    mean = row["mean_s"] or configured_mean
    shift = (ahead - row["waiting"]) * mean / servers
    return Wait(*(max(0, round(v + shift)) for v in base))
