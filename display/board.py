"""The board: waiting counts and estimated waits per business type, off the write path.

The board runs a forecast over every waiting ticket of the hall (``queueing.selectors``
``business_type_queues``), so it is never built inside a service's transaction (DESIGN invariant 7).
Each hall stream (lobby displays, kiosks, greeter tablets, consoles and walls) pokes its hall's
board ticker on every event (display.tickers): the ticker computes at most once every
``DISPLAY_BOARD_MIN_INTERVAL_SECONDS`` (250 ms) per hall and process whatever the event rate,
in a worker thread, and sends each stream of the hall

    {"type": "board", "seq": <the last seq this stream sent>, "at": ..., "business_types": [...]}

Like the wall's metrics, a board frame is no event: it carries the stream's own seq and never
makes a gap. Each computation also keeps the estimates for every lane
(``queueing.estimates.board_store``): a new ticket's estimate in the issue response comes from
there, so issuing never forecasts.
"""

from django.conf import settings
from django.utils import timezone

from display import tickers
from display.selectors import board_rows
from hall.models import Hall
from queueing.estimates import board_store
from queueing.models import Lane
from queueing.selectors import business_type_queues


def board_compute(hall_id: int) -> dict | None:
    """The hall's board now (None if the hall is gone), with the estimate for every lane kept
    for new tickets (``queueing.estimates.board_store``)."""
    hall = Hall.objects.filter(pk=hall_id).first()
    if hall is None:
        return None
    types = business_type_queues(hall=hall, lanes=tuple(Lane))
    board_store(hall_id=hall_id, types=types)
    return {"at": timezone.now(), "business_types": board_rows(types)}


BOARD = tickers.TickerKind(
    name="board",
    compute=board_compute,
    deliver="send_board",
    delay=lambda: 0.0,  # the first event after a quiet spell shows at once
    min_interval=lambda: settings.DISPLAY_BOARD_MIN_INTERVAL_SECONDS,
    refresh=lambda: settings.DISPLAY_BOARD_REFRESH_SECONDS,
)


def board_frame(*, seq: int, board: dict) -> dict:
    return {"type": "board", "seq": seq, **board}
