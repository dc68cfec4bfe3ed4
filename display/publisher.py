"""Publish live events to displays after commit (DESIGN invariant 6).

``event_publish`` runs inside the transaction that records an event: it builds the messages
(so they describe exactly the committed state of their ``seq``) and sends them on commit, to the
hall's group and to the group of every counter the event touched. A rolled-back transaction
sends nothing.

Sending never fails or slows the request. With a network channel layer (Redis) the messages go
to a per-process sender thread, which sends them in order and retries a failing send until
``DISPLAY_PUBLISH_RETRY_SECONDS`` after the commit, then logs and drops it. Displays find the gap
by ``seq`` (at the latest on their next heartbeat) and re-read the snapshot. The in-memory layer
of the embedded default lives in the server's event loop, so there the send happens inline.
"""

import asyncio
import json
import logging
import os
import threading
import time

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction

from counters.models import Counter
from display.events import INCIDENT_EVENTS, event_message, touched_counters
from display.selectors import counter_states
from hall.models import AuditEvent

log = logging.getLogger(__name__)

MESSAGE_TYPE = "display.event"  # the consumers' handler: display_event


def hall_group(hall_id: int) -> str:
    return f"hall.{hall_id}"


def counter_group(counter_id: int) -> str:
    return f"counter.{counter_id}"


def encode(message: dict) -> str:
    return json.dumps(message, cls=DjangoJSONEncoder, ensure_ascii=False, separators=(",", ":"))


def event_publish(*, event: AuditEvent, ticket=None, counter=None) -> None:
    """Build the live messages for ``event`` now and send them once the transaction commits.

    The caller holds the hall lock whenever the event touches counters (every counter change
    takes it), so reading and then advancing the counters' last seq is safe. ``counter``: the
    counter the service holds, locked; with its ``live_window`` it costs no read.
    """
    counter_ids = touched_counters(event)
    counters = counter_states(
        hall_id=event.hall_id, counter_ids=counter_ids, in_hand=[counter] if counter else ()
    )
    previous = {c["id"]: c["seq"] for c in counters}
    # An incident's frame goes to the counters showing its apology with their prev_seq, but
    # leaves their rows alone: it holds no hall lock, and writing a counter row that a counter
    # action has locked (that action then waiting for this event's seq) would deadlock.
    if counter_ids and event.kind not in INCIDENT_EVENTS:
        Counter.objects.filter(pk__in=counter_ids).update(last_event_seq=event.seq)
        for state in counters:
            state["seq"] = event.seq
        if counter is not None and counter.pk in counter_ids:
            counter.last_event_seq = event.seq  # for a later event of the same transaction
    message = event_message(event, ticket=ticket, counters=counters)
    _send_on_commit(event.hall_id, event.seq, message, previous)


def hall_reset_publish(*, hall_id: int, seq: int, reason: str) -> None:
    """Tell every display of the hall to re-read its snapshot, on commit: after a bulk change
    such as the end of the service day, one message instead of hundreds."""
    counters = Counter.objects.filter(hall_id=hall_id)
    previous = dict(counters.values_list("pk", "last_event_seq"))
    counters.update(last_event_seq=seq)
    _send_on_commit(hall_id, seq, {"type": "hall.reset", "seq": seq, "reason": reason}, previous)


def _send_on_commit(hall_id: int, seq: int, message: dict, previous: dict[int, int]) -> None:
    """To the hall's group, and to each touched counter's group with ``prev_seq``: the seq of
    that counter's previous event, by which its display sees a gap."""
    sends = [(hall_group(hall_id), _envelope(seq, message))]
    for counter_id, prev_seq in sorted(previous.items()):
        sends.append((counter_group(counter_id), _envelope(seq, {**message, "prev_seq": prev_seq})))
    transaction.on_commit(lambda: send(sends), robust=True)


def _envelope(seq: int, message: dict) -> dict:
    """The channel-layer message: what consumers need to order it, and the frame itself,
    encoded once here rather than once per connected display."""
    envelope = {"type": MESSAGE_TYPE, "kind": message["type"], "seq": seq, "text": encode(message)}
    if "prev_seq" in message:
        envelope["prev_seq"] = message["prev_seq"]
    return envelope


def send(sends: list[tuple[str, dict]]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    if isinstance(layer, InMemoryChannelLayer):
        _send_inline(layer, sends)
    else:
        _sender().submit(sends)


def _send_inline(layer, sends) -> None:
    async def send_all():
        for group, message in sends:
            await layer.group_send(group, message)

    try:
        async_to_sync(send_all)()
    except Exception:
        log.exception("Live publish failed (in-memory layer); displays will resync by seq")


class _Sender:
    """One daemon thread per process with its own event loop, sending messages in order."""

    def __init__(self):
        self.pid = os.getpid()
        self.loop = asyncio.new_event_loop()
        self.queue: asyncio.Queue = asyncio.Queue()
        self.pending = 0
        self.done = threading.Condition()
        self.thread = threading.Thread(target=self._run, name="display-publisher", daemon=True)
        self.thread.start()

    def submit(self, sends) -> None:
        with self.done:
            self.pending += 1
        self.loop.call_soon_threadsafe(self.queue.put_nowait, (time.monotonic(), sends))

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self._drain())

    async def _drain(self) -> None:
        layer = get_channel_layer()
        while True:
            committed_at, sends = await self.queue.get()
            deadline = committed_at + settings.DISPLAY_PUBLISH_RETRY_SECONDS
            for group, message in sends:
                await self._send_one(layer, group, message, deadline)
            with self.done:
                self.pending -= 1
                self.done.notify_all()

    async def _send_one(self, layer, group, message, deadline) -> None:
        delay = 0.05
        while True:
            try:
                # Bounded by the deadline: a Redis that accepts connections but never answers
                # would otherwise hold this message, and every later one, indefinitely. Not
                # wait_for: it awaits the cancelled send, and redis-py may finish a connection
                # attempt first (seconds, seen in tests with a hung Redis); the send is left
                # to end on its own, and a late arrival is dropped by the streams' seq.
                send = asyncio.ensure_future(layer.group_send(group, message))
                send.add_done_callback(_forget)
                done, _ = await asyncio.wait({send}, timeout=max(deadline - time.monotonic(), 0.01))
                if send not in done:
                    send.cancel()
                    raise TimeoutError
                send.result()
                return
            except Exception as exc:  # Redis down or unreachable: retry briefly, then drop
                if time.monotonic() + delay > deadline:
                    log.error(
                        "Live publish to %s dropped after retries (seq %s): %r; "
                        "displays will resync by seq",
                        group,
                        message.get("seq"),
                        exc,
                    )
                    return
                log.warning(
                    "Live publish to %s failed (seq %s): %r; retrying",
                    group,
                    message.get("seq"),
                    exc,
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, 1.0)


def _forget(task: asyncio.Future) -> None:
    """Retrieve an abandoned send's outcome, so asyncio does not log it as never retrieved."""
    if not task.cancelled():
        task.exception()


_sender_instance: _Sender | None = None
_sender_lock = threading.Lock()


def _sender() -> _Sender:
    global _sender_instance
    with _sender_lock:
        # A forked worker (gunicorn preload) must not reuse its parent's thread.
        if _sender_instance is None or _sender_instance.pid != os.getpid():
            _sender_instance = _Sender()
        return _sender_instance


def wait_until_sent(timeout: float = 10.0) -> bool:
    """For tests and management commands that exit right after publishing."""
    if _sender_instance is None or _sender_instance.pid != os.getpid():
        return True
    sender = _sender_instance
    with sender.done:
        return sender.done.wait_for(lambda: sender.pending == 0, timeout)
