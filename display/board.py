"""The board: waiting counts and estimated waits per business type, off the write path.

The board runs a forecast over every waiting ticket of the hall (``queueing.selectors``
``business_type_queues``), so it is never built inside a service's transaction (DESIGN invariant 7).
Each hall stream (lobby displays, kiosks, greeter tablets, consoles and walls) pokes its hall's
board ticker on every event (display.tickers): the ticker computes at most once every
``DISPLAY_BOARD_MIN_INTERVAL_SECONDS`` (1 s) per hall and process whatever the event rate,
in a worker thread, and sends each stream of the hall

    {"type": "board", "seq": <the last seq this stream sent>, "at": ..., "business_types": [...]}

only when the figures changed since the last board it sent. A thousand displays of one hall
cost one computation and one JSON encoding: each stream splices its own seq into the
pre-encoded body (``Board.text``). Every board is a push to every socket of the hall, on top of
the event frames; at 250 ms it was four a second per display, which is what made the event
frames late at a thousand displays (deploy/bench/results/ws_fanout.md), for figures (a queue
length, a wait in minutes) that nobody reads four times a second.

Like the wall's metrics, a board frame is no event: it carries the stream's own seq and never
makes a gap. Each computation also keeps the estimates for every lane
(``queueing.estimates.board_store``): a new ticket's estimate in the issue response comes from
there, so issuing never forecasts.
"""

from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from display import tickers
from display.publisher import encode
from display.selectors import board_rows
from hall.models import Hall
from queueing.estimates import board_store
from queueing.models import Lane
from queueing.selectors import business_type_queues


@dataclass(frozen=True)
class Board:
    business_types: list
    body: str  # the frame's JSON after its seq: ``"at":...,"business_types":[...]}``

    def text(self, seq: int) -> str:
        """The board frame of a stream whose last seq is ``seq``."""
        return f'{{"type":"board","seq":{int(seq)},{self.body}'

    def same_figures(self, other: "Board | None") -> bool:
        """True when a display would show ``other`` the same: waits are shown in minutes."""
        return other is not None and _shown(other.business_types) == _shown(self.business_types)


def _shown(rows: list) -> list:
    return [{key: _minutes(value) if key.endswith("_s") else value for key, value in row.items()}
            for row in rows]  # fmt: skip


def _minutes(value):
    """Seconds as a display shows them; a band (issue 16: [low, high]) end by end."""
    if isinstance(value, list):
        return [_minutes(v) for v in value]
    return round(value / 60) if value else value


def board_compute(hall_id: int) -> Board | None:
    """The hall's board now (None if the hall is gone), with the estimate for every lane kept
    for new tickets (``queueing.estimates.board_store``)."""
    hall = Hall.objects.filter(pk=hall_id).first()
    if hall is None:
        return None
    types = business_type_queues(hall=hall, lanes=tuple(Lane))
    board_store(hall_id=hall_id, types=types)
    rows = board_rows(types)
    body = encode({"at": timezone.now(), "business_types": rows})[1:]
    return Board(business_types=rows, body=body)


BOARD = tickers.TickerKind(
    name="board",
    compute=board_compute,
    deliver="send_board",
    delay=lambda: 0.0,  # the first event after a quiet spell shows at once
    min_interval=lambda: settings.DISPLAY_BOARD_MIN_INTERVAL_SECONDS,
    refresh=lambda: settings.DISPLAY_BOARD_REFRESH_SECONDS,
    unchanged=lambda old, new: new.same_figures(old),
)
