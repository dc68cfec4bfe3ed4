"""Per-hall tickers in the live tier: compute something about a hall where streams of it are
connected, coalescing the hall's events, and hand the result to those streams.

Every event of a hall reaches every hall stream of it in this process (the hall group). A stream
pokes its hall's ticker; the ticker waits ``delay`` so a burst lands in one computation, keeps
computations at least ``min_interval`` apart whatever the event rate, computes once (in a worker
thread, off any request and any lock), and calls ``deliver(stream, result)`` for each stream
of the hall in this process, unless ``unchanged`` says the streams already have it (a stream
that joins later gets the figures in its snapshot). Without events it recomputes every
``refresh`` seconds (waits grow).

Two kinds run here: the wall's metrics (display.wall.stream) and the lobby's board of waiting
counts and estimated waits (display.board). A hall with no stream connected costs nothing.
With the Redis layer and several ASGI processes, each process computes for its own streams:
a hall whose streams are spread over k processes is computed at most k times per interval.
"""

import asyncio
import contextlib
import logging
import weakref
from collections.abc import Callable
from dataclasses import dataclass

from channels.db import database_sync_to_async

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TickerKind:
    name: str
    compute: Callable[[int], object]  # hall id -> result (None: nothing to send); sync, DB reads
    deliver: str  # the name of the stream's async method taking the result
    delay: Callable[[], float]  # settings are read when used, so tests can change them
    min_interval: Callable[[], float]
    refresh: Callable[[], float]
    # (last result delivered, new result) -> True when the streams need not get the new one
    unchanged: Callable[[object, object], bool] = lambda old, new: False


# One registry per event loop (the server has one; tests run one per test): (kind, hall id) ->
# its ticker.
_tickers: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class HallTicker:
    """Computes one hall's ``kind`` for the streams of this process, coalescing events."""

    def __init__(self, kind: TickerKind, hall_id: int):
        self.kind = kind
        self.hall_id = hall_id
        self.streams: set = set()
        self.wake = asyncio.Event()
        self.computations = 0  # for tests and the benchmark
        self.delivered = None  # the last result handed to the streams
        self.task = asyncio.get_running_loop().create_task(self.run())

    def poke(self) -> None:
        self.wake.set()

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        last = loop.time()  # the streams' snapshots just carried a fresh result
        kind = self.kind
        while self.streams:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), timeout=kind.refresh())
            delay = max(kind.delay(), last + kind.min_interval() - loop.time())
            if delay > 0:
                await asyncio.sleep(delay)
            if not self.streams:
                break
            self.wake.clear()  # events until now are in this computation; later ones wake us
            last = loop.time()
            try:
                result = await database_sync_to_async(kind.compute)(self.hall_id)
            except Exception:
                log.exception("Computing the %s of hall %s failed", kind.name, self.hall_id)
                continue
            self.computations += 1
            if result is None or kind.unchanged(self.delivered, result):
                continue
            self.delivered = result
            for stream in list(self.streams):
                try:
                    await getattr(stream, kind.deliver)(result)
                except Exception:  # a closing socket: its disconnect unregisters it
                    log.debug("A stream of hall %s missed a %s frame", self.hall_id, kind.name)


def ticker_join(kind: TickerKind, hall_id: int, stream) -> HallTicker:
    """Register a stream with its hall's ticker of ``kind`` in this process (started on first
    use)."""
    tickers = _tickers.setdefault(asyncio.get_running_loop(), {})
    ticker = tickers.get((kind.name, hall_id))
    if ticker is None or ticker.task.done():
        ticker = tickers[(kind.name, hall_id)] = HallTicker(kind, hall_id)
    ticker.streams.add(stream)
    return ticker


def ticker_leave(kind: TickerKind, hall_id: int, stream) -> None:
    """Unregister; the last stream of a hall stops its ticker."""
    tickers = _tickers.get(asyncio.get_running_loop(), {})
    ticker = tickers.get((kind.name, hall_id))
    if ticker is None:
        return
    ticker.streams.discard(stream)
    if not ticker.streams:
        ticker.task.cancel()
        del tickers[(kind.name, hall_id)]


def ticker_for(kind: TickerKind, hall_id: int) -> HallTicker | None:
    """The hall's ticker of ``kind`` in the running loop, if a stream of it is connected here."""
    return _tickers.get(asyncio.get_running_loop(), {}).get((kind.name, hall_id))
