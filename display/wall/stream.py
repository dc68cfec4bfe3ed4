"""The wall's metrics frames: computed per hall where walls are connected, coalesced, pushed.

Every event of a hall reaches every wall stream of it (the hall group). A wall consumer pokes
its process's metrics ticker for the hall (display.tickers); the ticker waits
``WALL_METRICS_DELAY_SECONDS`` so a burst lands in one computation, keeps computations at
least ``WALL_METRICS_MIN_INTERVAL_SECONDS`` apart, computes ``hall_metrics`` once (in a worker
thread) and hands the result to each wall stream of the hall in this process, which sends

    {"type": "metrics", "seq": <the last seq this stream sent>, "at": ..., "metrics": {...}}

Without events it refreshes every ``WALL_METRICS_REFRESH_SECONDS`` (waits and pauses grow).

Why here, and not where the event is committed:

* **Nothing on the request path.** The publisher sends after commit inside the request (issue,
  call-next); a metrics computation there would cost every request tens of milliseconds and
  break their query budgets. Here it runs on the server's event loop, off any request.
* **Only where someone watches.** A hall without a wall connected costs nothing: with 1,000
  halls most events have no wall to feed. Triggering at commit would compute for all of them.
* **Both layers alike.** The in-memory layer (embedded default, one process) and the Redis
  layers (several uvicorn workers) both deliver every hall event to every wall consumer, so the
  trigger is the same and needs no new group, no lock and no cross-process message: a
  per-process debounce. The price: a hall whose walls are spread over k processes is computed k
  times per interval (k is the number of wall screens of one hall, 1 or 2). A Redis lock would
  save that but needs a way to hand the result to the other processes' walls (a group message
  per push) and a lock holder that may die mid-interval; not worth it for k <= 2.
* ``seq`` is the stream's own last seq, never a new one: a client takes a frame with the seq
  it has already seen as "nothing missed" (display/static/display/live.js), and the metrics are
  not an event. They may run a little ahead of the stream's events (an event committed while
  computing); the next push is at most one interval away.

The ticker only reads. The wait and pause alerts it shows are raised and cleared by recovery
(``recovery.hooks``: after the events that can change them, and by beat every minute); their
``alert.raised``/``alert.cleared`` events reach the wall like any other and bring new figures.
"""

import logging

from django.conf import settings

from display import tickers
from display.wall.metrics import hall_metrics
from hall.models import Hall

log = logging.getLogger(__name__)


def localized(metrics: dict, language: str) -> dict:
    """``metrics`` with each pause's ``reason_label`` in ``language`` (zh-hans or en); the rest
    of the figures do not depend on the language."""
    key = "reason_label_en" if (language or "").startswith("en") else "reason_label_zh"
    counters = metrics["counters"]
    rows = [
        {**row, "pause": {**row["pause"], "reason_label": row["pause"][key]}}
        if row["pause"]
        else row
        for row in counters["list"]
    ]
    return {**metrics, "counters": {**counters, "list": rows}}


def compute(hall_id: int) -> dict | None:
    """The hall's metrics now (None if the hall is gone). Only reads: the alerts it shows are
    raised and cleared by recovery (beat, and after the events that change them)."""
    hall = Hall.objects.filter(pk=hall_id).first()
    if hall is None:
        return None
    return hall_metrics(hall=hall)


METRICS = tickers.TickerKind(
    name="metrics",
    compute=compute,
    deliver="send_metrics",
    delay=lambda: settings.WALL_METRICS_DELAY_SECONDS,
    min_interval=lambda: settings.WALL_METRICS_MIN_INTERVAL_SECONDS,
    refresh=lambda: settings.WALL_METRICS_REFRESH_SECONDS,
)


def ticker_join(hall_id: int, wall) -> tickers.HallTicker:
    """Register a wall stream with its hall's metrics ticker in this process."""
    return tickers.ticker_join(METRICS, hall_id, wall)


def ticker_leave(hall_id: int, wall) -> None:
    tickers.ticker_leave(METRICS, hall_id, wall)


def ticker_for(hall_id: int) -> tickers.HallTicker | None:
    """The hall's metrics ticker in the running loop, if any wall of it is connected here."""
    return tickers.ticker_for(METRICS, hall_id)


def metrics_frame(*, seq: int, metrics: dict, language: str) -> dict:
    return {
        "type": "metrics",
        "seq": seq,
        "at": metrics["at"],
        "metrics": localized(metrics, language),
    }
