"""The live streams: lobby display, counter display and the manager's wall.

Every stream starts with a snapshot carrying ``seq`` and then forwards the events of its group
in order. The consumer drops events already in the snapshot it sent, and answers a gap (a
message the channel layer lost) or a ``hall.reset`` with a fresh snapshot, so what it sends is
always complete. A heartbeat every ``DISPLAY_HEARTBEAT_SECONDS`` re-joins the group (channel
layers expire memberships), compares the consumer's seq with the database's and resyncs if an
event never arrived; the client treats a silent socket as dead.

Close codes (sent after an ``error`` frame that says why): 4401 no or unknown credentials,
4403 a device or person of another hall, a device on the staff-only wall, or a signed-in stream
opened from another site's page (Origin differs from Host), 4404 no such hall or counter.
The error frame's message is in the connection's language, chosen as for a page: the language
switch's cookie, then Accept-Language, then the default (Simplified Chinese).
"""

import asyncio
import json
import logging
from urllib.parse import parse_qs, urlparse

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from counters.models import Counter
from display import board, tickers
from display.board import Board, board_compute, board_latest, board_text
from display.publisher import MESSAGE_TYPE, counter_group, encode, hall_group
from display.selectors import (
    counter_incidents,
    counter_states,
    hall_incidents,
    hall_public,
    hall_seq,
    hall_snapshot,
)
from display.tasks import refresh_board
from display.wall.metrics import hall_metrics
from display.wall.stream import localized, metrics_frame, ticker_join, ticker_leave
from hall.access import (
    REFUSALS,
    SEE_FIGURES,
    WATCH_COUNTER,
    WATCH_HALL,
    Refused,
    admit,
    hall_named,
    not_found,
)
from hall.auth import device_for_token
from hall.models import Hall
from hall.outbox import task_send

log = logging.getLogger(__name__)

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_NOT_FOUND = 4404

# The one mapping of a refusal (hall.access.Refused) to a WebSocket close code.
CLOSE_CODES = {401: CLOSE_UNAUTHENTICATED, 403: CLOSE_FORBIDDEN, 404: CLOSE_NOT_FOUND}


def board_tick(hall_id: int) -> Board | None:
    """The board ticker's work in this process (display.board): with a worker, ask it (it sends
    the board to the hall's group, every process's streams get it as a ``display.board``
    message); without one (the embedded default), compute the board here for this process's
    streams."""
    if settings.DISPLAY_BOARD_WORKER:
        task_send(refresh_board, hall_id)
        return None
    return board_compute(hall_id)


BOARD = tickers.TickerKind(
    name="board",
    compute=board_tick,
    deliver="send_board",
    delay=lambda: 0.0,  # the first event after a quiet spell shows at once
    min_interval=lambda: settings.DISPLAY_BOARD_MIN_INTERVAL_SECONDS,
    refresh=lambda: settings.DISPLAY_BOARD_REFRESH_SECONDS,
    unchanged=lambda old, new: new.same_figures(old),
)


def _caller(scope):
    """The device of ``?token=``, or the person of the session cookie (or nobody)."""
    token = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("token", [""])[0]
    if token:
        device = device_for_token(token)
        if device is None:
            raise Refused(_("Unknown or disabled device token."), nobody=True)
        return device
    user = scope.get("user")
    if user is not None and user.is_authenticated and not _same_origin(scope):
        # A session cookie goes with any page's request: without this, another site open
        # in a clerk's browser could read the hall's streams (cross-site WebSocket hijacking).
        # Device tokens are not ambient, so token streams need no such check.
        raise Refused(_("A signed-in stream must come from this site's pages."))
    return user


def _language(scope) -> str:
    """The language LocaleMiddleware would pick for a page request with these headers."""
    request = HttpRequest()
    request.COOKIES = scope.get("cookies") or {}
    accept = dict(scope.get("headers", [])).get(b"accept-language", b"")
    request.META["HTTP_ACCEPT_LANGUAGE"] = accept.decode("latin-1")
    return translation.get_language_from_request(request)


def _same_origin(scope) -> bool:
    headers = dict(scope.get("headers", []))
    origin, host = headers.get(b"origin"), headers.get(b"host")
    if not origin or not host:
        return False
    return urlparse(origin.decode("latin-1")).netloc == host.decode("latin-1")


class _Stream(AsyncWebsocketConsumer):
    """Accept, authorise, subscribe, snapshot, then forward events; subclasses say to what
    (and ``action``, what the caller must be admitted to: hall.access)."""

    action = WATCH_HALL

    async def connect(self):
        self.seq = None
        self.group = None
        self.heartbeat = None
        self.sending = asyncio.Lock()  # a snapshot and an event never interleave
        self.language = _language(self.scope)
        await self.accept()  # before refusing, so the client gets the reason and close code
        try:
            await database_sync_to_async(self.authorise)()
        except REFUSALS as refusal:
            await self.send_error(refusal.message)
            await self.close(code=CLOSE_CODES[refusal.status_code])
            return
        # Subscribe before reading the snapshot, so nothing falls between the two; events the
        # snapshot already holds are dropped by seq.
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.send_snapshot()
        self.heartbeat = asyncio.create_task(self.beat())

    async def disconnect(self, code):
        if self.heartbeat is not None:
            self.heartbeat.cancel()
        if self.group is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None):
        """Displays only read; the one request they make is a fresh snapshot."""
        try:
            request = json.loads(text_data or "")
        except ValueError:
            request = None
        if isinstance(request, dict) and request.get("type") == "resync":
            await self.send_snapshot()
        else:
            await self.send_error(_('Send {"type": "resync"} or nothing.'))

    async def send_error(self, message) -> None:
        """An error frame, its message in the connection's language."""
        with translation.override(self.language):
            text = str(message)
        await self.send(text_data=encode({"type": "error", "message": text}))

    async def dispatch(self, message):
        """Events go straight to their handler. Channels' own dispatch first runs
        close_old_connections in the one thread-sensitive executor thread, for every message of
        every consumer: with a thousand displays per process that serial hop, queued behind
        snapshots, was the bottleneck (seconds of latency: deploy/bench/results/ws_fanout.md).
        display_event reads no database; a resync does, through database_sync_to_async, which
        closes old connections itself."""
        if message["type"] == MESSAGE_TYPE:
            await self.display_event(message)
        elif message["type"] == board.MESSAGE_TYPE:
            await self.display_board(message)
        else:
            await super().dispatch(message)

    async def display_event(self, envelope):
        async with self.sending:
            seq = envelope["seq"]
            if self.seq is None or seq <= self.seq:
                return  # already in the snapshot this stream sent
            expected_prev = envelope.get("prev_seq", seq - 1)
            if envelope.get("kind") == "hall.reset" or expected_prev > self.seq:
                await self._send_snapshot_locked()  # lost message or bulk change: resync
                return
            self.seq = seq
            await self.send(text_data=envelope["text"])

    async def send_snapshot(self):
        async with self.sending:
            await self._send_snapshot_locked()

    async def _send_snapshot_locked(self):
        snapshot = await database_sync_to_async(self.snapshot)()
        self.seq = snapshot["seq"]
        await self.send(text_data=encode(snapshot))

    async def beat(self):
        while True:
            await asyncio.sleep(settings.DISPLAY_HEARTBEAT_SECONDS)
            try:
                await self._beat_once()
            except Exception:
                # Redis (the group_add) or the database down for a moment: this beat is
                # skipped, not the heartbeat. Left to raise, the task would end for good and
                # the stream would never again resync after an outage.
                log.warning(
                    "display heartbeat failed; next in %ss",
                    settings.DISPLAY_HEARTBEAT_SECONDS,
                    exc_info=True,
                )

    async def _beat_once(self):
        await self.channel_layer.group_add(self.group, self.channel_name)
        if await database_sync_to_async(self.behind)():
            await asyncio.sleep(1)  # it may be in flight; give it a moment
            if await database_sync_to_async(self.behind)():
                await self.send_snapshot()
                return
        await self.send(
            text_data=encode({"type": "heartbeat", "seq": self.seq, "now": timezone.now()})
        )

    def behind(self) -> bool:
        """True when the database holds an event this stream has not sent."""
        return self.current_seq() > self.seq

    # Subclasses: authorise() sets self.group; snapshot() and current_seq() read the database.


class LobbyConsumer(_Stream):
    """/ws/halls/{hall}/display/: every event of the hall, for a display or kiosk of it (and
    for the greeter tablet and the console, signed in).

    Its snapshot carries the board; every event pokes the process's board ticker for the hall,
    which pushes ``{"type": "board"}`` frames at most every second, when its figures changed
    (display.board)."""

    board_ticker = None

    async def connect(self):
        await super().connect()
        if self.group is not None:
            self.board_ticker = tickers.ticker_join(BOARD, self.hall.pk, self)

    async def disconnect(self, code):
        if self.board_ticker is not None:
            tickers.ticker_leave(BOARD, self.hall.pk, self)
        await super().disconnect(code)

    async def display_event(self, envelope):
        await super().display_event(envelope)
        if self.board_ticker is not None:
            self.board_ticker.poke()

    async def send_board(self, board: Board) -> None:
        """A board this process's ticker computed (no worker)."""
        async with self.sending:
            if self.seq is not None:
                await self.send(text_data=board.text(self.seq))

    async def display_board(self, message) -> None:
        """A board the worker computed and sent to the hall's group, pre-encoded."""
        async with self.sending:
            if self.seq is not None:
                await self.send(text_data=board_text(message["body"], self.seq))

    def authorise(self):
        code = self.scope["url_route"]["kwargs"]["hall"]
        self.hall = hall_named(code, say_code=False)
        admit(who=_caller(self.scope), hall=self.hall, action=self.action)
        self.group = hall_group(self.hall.pk)

    def snapshot(self):
        self.hall.refresh_from_db()  # its settings (English announcements) may have changed
        seq = hall_seq(hall_id=self.hall.pk)  # first: see hall_snapshot
        rows = board_latest(hall_id=self.hall.pk, seq=seq)  # None: forecast for this snapshot
        return hall_snapshot(hall=self.hall, seq=seq, business_types=rows)

    def current_seq(self):
        return hall_seq(hall_id=self.hall.pk)


class WallConsumer(LobbyConsumer):
    """/ws/halls/{hall}/wall/: the manager's wall, for the hall's staff only.

    Its snapshot also carries ``metrics`` (display.wall.metrics), and every event of the hall pokes
    the process's metrics ticker, which pushes ``{"type": "metrics"}`` frames a few seconds
    apart at most (display.wall.stream). Lobby displays get neither."""

    action = SEE_FIGURES
    ticker = None

    async def connect(self):
        await super().connect()
        if self.group is not None and settings.WALL_METRICS_PUSH:
            self.ticker = ticker_join(self.hall.pk, self)

    async def disconnect(self, code):
        if self.ticker is not None:
            ticker_leave(self.hall.pk, self)
        await super().disconnect(code)

    async def display_event(self, envelope):
        await super().display_event(envelope)
        if self.ticker is not None:
            self.ticker.poke()

    def snapshot(self):
        snapshot = super().snapshot()
        snapshot["metrics"] = localized(hall_metrics(hall=self.hall), self.language)
        return snapshot

    async def send_metrics(self, metrics: dict) -> None:
        async with self.sending:
            if self.seq is not None:
                frame = metrics_frame(seq=self.seq, metrics=metrics, language=self.language)
                await self.send(text_data=encode(frame))


class CounterConsumer(_Stream):
    """/ws/counters/{id}/display/: the events that concern one counter, each with ``prev_seq``.

    Incident events reach the counters serving a type they affect (display/events.py); they
    leave the counter's own seq as it was (display/publisher.py), so its ``prev_seq`` still
    names the counter's last own event. So a lost incident frame leaves no gap in seq: the
    heartbeat also compares the open incidents this counter shows (``shown_incidents``: set by
    the snapshot, kept by the incident frames sent) with the database's, and resyncs when they
    differ: an apology never stays missing, or up after its fault is resolved."""

    shown_incidents: frozenset = frozenset()

    def authorise(self):
        counter_id = self.scope["url_route"]["kwargs"]["counter_id"]
        self.counter = Counter.objects.select_related("hall").filter(pk=counter_id).first()
        if self.counter is None:
            raise not_found(_("No such counter."))
        admit(who=_caller(self.scope), hall=self.counter.hall, action=WATCH_COUNTER)
        self.group = counter_group(self.counter.pk)

    def snapshot(self):
        hall = Hall.objects.get(pk=self.counter.hall_id)
        (state,) = counter_states(hall_id=hall.pk, counter_ids=[self.counter.pk])
        # The open incidents whose apology this counter shows (it serves a type they affect).
        incidents = counter_incidents(counter=self.counter, incidents=hall_incidents(hall=hall))
        self.shown_incidents = frozenset(i["id"] for i in incidents)
        return {
            "type": "snapshot",
            "seq": state["seq"],
            "now": timezone.now(),
            "hall": hall_public(hall),
            "counter": state,
            "incidents": incidents,
        }

    def behind(self) -> bool:
        if super().behind():
            return True
        hall = Hall(pk=self.counter.hall_id)
        incidents = hall_incidents(hall=hall)
        if incidents:
            incidents = counter_incidents(counter=self.counter, incidents=incidents)
        return frozenset(i["id"] for i in incidents) != self.shown_incidents

    async def display_event(self, envelope):
        kind = envelope.get("kind", "")
        if kind in ("incident.opened", "incident.resolved"):
            incident_id = json.loads(envelope["text"])["incident"]["id"]
            if kind == "incident.opened":
                self.shown_incidents = self.shown_incidents | {incident_id}
            else:
                self.shown_incidents = self.shown_incidents - {incident_id}
        await super().display_event(envelope)

    def current_seq(self):
        return (
            Counter.objects.filter(pk=self.counter.pk)
            .values_list("last_event_seq", flat=True)
            .get()
        )
