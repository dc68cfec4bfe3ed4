"""The board: waiting counts and estimated waits per business type, off the write path.

The board runs a forecast over every waiting ticket of the hall (``queueing.selectors``
``business_type_queues``: 60-110 ms of CPU in a busy hall), so it is never built inside a
service's transaction (DESIGN invariant 7), and in production never in the live tier either.
Each hall stream (lobby displays, kiosks, greeter tablets, consoles and walls) pokes its hall's
board ticker on every event (display.tickers, at most once every
``DISPLAY_BOARD_MIN_INTERVAL_SECONDS`` per hall and process whatever the event rate, and every
``DISPLAY_BOARD_REFRESH_SECONDS`` without events). What the tick does depends on
``DISPLAY_BOARD_WORKER``:

* **worker** (``DISPLAY_BOARD_WORKER=1``, with Redis and a Celery worker): the tick only queues
  ``display.tasks.refresh_board``. The worker computes the board once for the hall
  (``board_refresh``: a request for a board already current to the hall's seq is dropped, so
  several ASGI processes asking after the same event cost one computation), keeps it in the
  cache, and sends it as one pre-encoded message to the hall's group; each stream splices its
  own seq into it. The forecast's CPU never holds the GIL of a process that writes frames to a
  thousand sockets; yet in the fan-out benchmark the frames came later this way, not sooner
  (deploy/bench/results/ws_fanout.md), so it is an option, not the default.
* **stream** (the default): the ticker computes in a worker thread of the server and hands the
  board to the streams of the process.

Either way each stream gets

    {"type": "board", "seq": <the last seq this stream sent>, "at": ..., "business_types": [...]}

only when the figures changed since the last board (waits as a display shows them, in
minutes). Like the wall's metrics, a board frame is no event: it carries the stream's own seq and
never makes a gap. Each computation also keeps the estimates for every lane
(``queueing.estimates.board_store``): a new ticket's estimate in the issue response comes from
there, so issuing never forecasts. A stream's snapshot takes the kept board when it is current
(``board_latest``) instead of forecasting again, so a thousand displays resyncing cost one
forecast, not a thousand.
"""

import time
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from display.publisher import encode, hall_group, send
from display.selectors import board_rows, hall_seq
from hall.cache import cache_get, cache_set
from hall.models import Hall
from queueing.estimates import board_store
from queueing.models import Lane
from queueing.selectors import business_type_queues

MESSAGE_TYPE = "display.board"  # the consumers' handler: display_board
KEPT_S = 600  # how long the cache keeps a hall's last board


@dataclass(frozen=True)
class Board:
    business_types: list
    body: str  # the frame's JSON after its seq: ``"at":...,"business_types":[...]}``
    seq: int = 0  # the hall's seq when it was computed: it shows at least that state
    at: float = 0.0  # time.time() of the computation

    def text(self, seq: int) -> str:
        """The board frame of a stream whose last seq is ``seq``."""
        return board_text(self.body, seq)

    def same_figures(self, other: "Board | None") -> bool:
        """True when a display would show ``other`` the same: waits are shown in minutes."""
        return other is not None and _shown(other.business_types) == _shown(self.business_types)


def board_text(body: str, seq: int) -> str:
    return f'{{"type":"board","seq":{int(seq)},{body}'


def _shown(rows: list) -> list:
    return [{key: _minutes(value) if key.endswith("_s") else value for key, value in row.items()}
            for row in rows]  # fmt: skip


def _minutes(value):
    """Seconds as a display shows them; a band (issue 16: [low, high]) end by end."""
    if isinstance(value, list):
        return [_minutes(v) for v in value]
    return round(value / 60) if value else value


def _key(hall_id: int) -> str:
    return f"display:board:{hall_id}"


def board_compute(hall_id: int) -> Board | None:
    """The hall's board now (None if the hall is gone), kept for snapshots (``board_latest``),
    with the estimate for every lane kept for new tickets (``queueing.estimates.board_store``).

    ``seq`` is read first: the board then shows at least the state of that seq."""
    hall = Hall.objects.filter(pk=hall_id).first()
    if hall is None:
        return None
    seq = hall_seq(hall_id=hall_id)
    types = business_type_queues(hall=hall, lanes=tuple(Lane))
    board_store(hall_id=hall_id, types=types)
    rows = board_rows(types)
    body = encode({"at": timezone.now(), "business_types": rows})[1:]
    board = Board(business_types=rows, body=body, seq=seq, at=time.time())
    cache_set(_key(hall_id), board, KEPT_S)
    return board


def board_kept(hall_id: int) -> Board | None:
    """The hall's last computed board, from the cache (or this process, with the cache down)."""
    return cache_get(_key(hall_id))


def board_latest(*, hall_id: int, seq: int) -> list | None:
    """The rows of the kept board if a snapshot current to ``seq`` may show them: the board was
    computed at that seq, or (with the worker computing) it is younger than the refresh period
    and a fresher one is on its way to the streams. None: compute the board for the snapshot."""
    board = board_kept(hall_id)
    if board is None:
        return None
    if board.seq == seq:
        return board.business_types
    young = time.time() - board.at < settings.DISPLAY_BOARD_REFRESH_SECONDS
    return board.business_types if settings.DISPLAY_BOARD_WORKER and young else None


def board_refresh(hall_id: int) -> bool:
    """The worker's job (display.tasks.refresh_board): compute the hall's board unless the kept
    one is current to the hall's seq and fresh, and send it to the hall's group when a display
    would show it differently. True when a board was sent."""
    kept = board_kept(hall_id)
    if (
        kept is not None
        and kept.seq == hall_seq(hall_id=hall_id)
        and time.time() - kept.at < settings.DISPLAY_BOARD_REFRESH_SECONDS / 2
    ):
        return False  # another stream process asked after the same event: already done
    board = board_compute(hall_id)
    if board is None or board.same_figures(kept) or (kept is not None and board.seq < kept.seq):
        return False
    send([(hall_group(hall_id), {"type": MESSAGE_TYPE, "body": board.body})])
    return True
