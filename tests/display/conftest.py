"""Live-stream helpers: connect a display the way a browser does and read its frames.

``streams`` opens WebSocket connections through the real ASGI application (``config.asgi``:
auth middleware, URL router, consumers) and closes whatever is still open at the end of the
test, so no heartbeat task outlives it.
"""

import json

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client

import display.publisher
from config.asgi import application
from counters.services import counter_call_next, counter_open
from tests.conftest import counter
from tests.factories import issue

SITE = "http://testserver"  # the origin of this site's own pages


@pytest.fixture(autouse=True)
def in_memory_layer(settings):
    """The consumer and publisher tests here use the embedded default's in-memory layer even in
    the services run, where REDIS_URL selects Redis: they test what the streams send, not the
    transport, and on a Redis shared by two xdist workers with a sender thread they timed out
    now and then (not diagnosed further). The Redis layers are tested end to end, with two real
    server processes, in tests/integration/test_display_processes.py; the Redis-down tests in
    test_publisher.py override this again."""
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


def counter_1_calling(hall, greeter, clerk_a):
    """Three payment tickets issued; counter 1 open and calling A001, greeting A002, attending
    A003 (seq 5). Returns counter 1."""
    c1 = counter(hall, 1)
    for _ in range(3):
        issue(hall, by=greeter)
    counter_open(counter_id=c1.pk, user=clerk_a)
    counter_call_next(counter_id=c1.pk, user=clerk_a)
    return c1


async def act(fn, *args, **kwargs):
    """Run a sync service (or any ORM code) from an async test, as a consumer would."""
    return await database_sync_to_async(fn)(*args, **kwargs)


async def frame(stream: WebsocketCommunicator, timeout: float = 2) -> dict:
    return json.loads(await stream.receive_from(timeout))


# Frames that are no event: they carry the stream's own seq (display.board, display.wall.stream).
NOT_EVENTS = ("heartbeat", "board")


async def event(stream: WebsocketCommunicator, timeout: float = 2) -> dict:
    """The next frame other than a heartbeat or a board (display.board)."""
    while True:
        message = await frame(stream, timeout)
        if message["type"] not in NOT_EVENTS:
            return message


async def no_event(stream: WebsocketCommunicator, timeout: float = 0.3) -> bool:
    """True when the stream sends nothing but boards and heartbeats within ``timeout``."""
    while True:
        try:
            message = await frame(stream, timeout)
        except TimeoutError:
            return True
        if message["type"] not in NOT_EVENTS:
            return False


async def refusal(stream: WebsocketCommunicator) -> tuple[dict, int]:
    """The error frame and the close code of a refused connection."""
    error = await frame(stream)
    closed = await stream.receive_output(1)
    assert closed["type"] == "websocket.close", closed
    return error, closed["code"]


def _session_cookie(user) -> bytes:
    client = Client()
    client.force_login(user)
    name = settings.SESSION_COOKIE_NAME
    return f"{name}={client.cookies[name].value}".encode()


class Streams:
    def __init__(self):
        self.open: list[WebsocketCommunicator] = []

    async def connect(self, path: str, *, token: str | None = None, user=None, origin=SITE):
        """Connect like a browser: ``?token=`` for a device, the session cookie for a person.

        A browser sends the page's ``Origin`` and the server's ``Host``; ``origin`` None leaves
        Origin out, as a non-browser client may. Returns the communicator; its first frame
        (snapshot or error) is left to the test.
        """
        if token is not None:
            path = f"{path}?token={token}"
        headers = [(b"host", b"testserver")]
        if origin is not None:
            headers.append((b"origin", origin.encode()))
        if user is not None:
            headers.append((b"cookie", await act(_session_cookie, user)))
        stream = WebsocketCommunicator(application, path, headers=headers)
        connected, _ = await stream.connect()
        assert connected, f"the handshake to {path} failed"
        self.open.append(stream)
        return stream

    async def lobby(self, device, hall_code="h1"):
        return await self._with_snapshot(f"/ws/halls/{hall_code}/display/", token=device.token)

    async def counter(self, counter, device):
        return await self._with_snapshot(f"/ws/counters/{counter.pk}/display/", token=device.token)

    async def wall(self, user, hall_code="h1"):
        return await self._with_snapshot(f"/ws/halls/{hall_code}/wall/", user=user)

    async def _with_snapshot(self, path, **credentials):
        stream = await self.connect(path, **credentials)
        stream.snapshot_text = await stream.receive_from(2)
        stream.snapshot = json.loads(stream.snapshot_text)
        assert stream.snapshot["type"] == "snapshot", stream.snapshot
        return stream

    async def close_all(self):
        for stream in self.open:
            if not stream.future.done():  # done: it timed out (and was cancelled) or crashed
                await stream.disconnect()


@pytest.fixture
async def streams():
    opened = Streams()
    yield opened
    await opened.close_all()


class Loss:
    """Makes the channel layer lose the next published event, once armed."""

    def __init__(self):
        self.armed = False
        self.lost = []

    def __call__(self):
        self.armed = True


@pytest.fixture
def lose_next_publish(monkeypatch):
    loss = Loss()
    real_send = display.publisher.send

    def send(sends):
        if loss.armed and not loss.lost:
            loss.lost.append(sends)
            return
        real_send(sends)

    monkeypatch.setattr(display.publisher, "send", send)
    return loss
