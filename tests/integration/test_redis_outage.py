"""Redis stops for a few seconds while the hall works (DESIGN.md invariants 6 and 7).

Production's two tiers run for real, as deploy/Procfile starts them, with the production
settings and PostgreSQL: the web tier (gunicorn, a gthread worker, config.wsgi) and the ws tier
(gunicorn, a uvicorn worker, config.asgi), both against a redis-server of this test's own (cache,
channel layer and broker), which the test stops and starts again while a kiosk issues tickets and
two clerks call, start and finish them over HTTP on the web tier, and a lobby display listens on
its WebSocket on the ws tier (the proxy's routing, done by hand). Then:

* every request succeeded (2xx; a documented 409 would be allowed, none is expected);
* every ticket the kiosk was given exists;
* the hall's audit events are numbered 1..N without a gap;
* the display hears the hall again after Redis returns and ends on the database's last seq
  (live frames, or the snapshot its heartbeat sends when it sees it fell behind).
"""

import json
import shutil
import subprocess
import sys
import threading
import time

import pytest
from rest_framework.authtoken.models import Token
from websockets.sync.client import connect

from counters.models import Counter
from hall.models import AuditEvent
from queueing.models import Ticket
from tests.integration.test_process_layout import (
    _free_port,
    _request,
    _start,
    _stop,
    _wait_for,
    production_env,  # noqa: F401 - a fixture
)

pytestmark = [
    pytest.mark.services,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server"),
]
OUTAGE_S = 8
HEARTBEAT_S = 2
# A documented refusal a clerk may meet in normal work; anything else but 2xx fails the test.
ALLOWED_CONFLICTS = {"counter_busy"}


class RedisServer:
    """A redis-server on a free port, stopped and started again on the same port."""

    def __init__(self, log_path):
        self.port = _free_port()
        self.log_path = log_path
        self.proc = None

    def start(self):
        cmd = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
        cmd += ["--save", "", "--appendonly", "no", "--daemonize", "no"]
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            ping = subprocess.run(
                ["redis-cli", "-p", str(self.port), "ping"], capture_output=True, text=True
            )
            if ping.stdout.strip() == "PONG":
                return
            time.sleep(0.1)
        pytest.fail("redis-server did not start")

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)


class Display:
    """A lobby display's WebSocket, read in a thread: every frame with the time it came."""

    def __init__(self, url):
        self.connection = connect(url, open_timeout=10)
        self.ws = self.connection.__enter__()
        self.frames: list[tuple[float, dict]] = []
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        try:
            for text in self.ws:
                self.frames.append((time.monotonic(), json.loads(text)))
        except Exception:  # closed by the test (or the server): the assertions say what it saw
            pass

    def last_seq(self) -> int | None:
        seqs = [frame["seq"] for _, frame in self.frames if frame.get("seq") is not None]
        return max(seqs) if seqs else None

    def close(self):
        self.connection.__exit__(None, None, None)
        self.thread.join(timeout=5)


@pytest.fixture
def redis_server(tmp_path):
    server = RedisServer(tmp_path / "redis.log")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def servers(production_env, redis_server, tmp_path):  # noqa: F811 - the imported fixture
    """The web tier (WSGI) and the ws tier (ASGI), each on a free port, both on the test's
    redis-server; yields their addresses and log paths by tier."""
    env = {
        **production_env,
        "REDIS_URL": f"redis://127.0.0.1:{redis_server.port}/0",
        "REDIS_CHANNEL_LAYER": "pubsub",
        "WEB_CONCURRENCY": "1",
        "WS_CONCURRENCY": "1",
        "DISPLAY_HEARTBEAT_SECONDS": str(HEARTBEAT_S),
    }
    gunicorn = [sys.executable, "-m", "gunicorn"]
    tiers = [
        ("web", ["config.wsgi:application", "-c", "deploy/gunicorn.conf.py"], "BIND"),
        ("ws", ["config.asgi:application", "-c", "deploy/gunicorn_ws.conf.py"], "WS_BIND"),
    ]
    found = {}
    try:
        for name, args, bind in tiers:
            port = _free_port()
            log_path = tmp_path / f"{name}.log"
            with open(log_path, "wb") as log:
                proc = _start([*gunicorn, *args], {**env, bind: f"127.0.0.1:{port}"}, log)
            found[name] = (proc, f"127.0.0.1:{port}", log_path)
        for proc, address, _ in found.values():
            _wait_for(f"http://{address}/healthz/", proc)
        yield {name: (address, log_path) for name, (_, address, log_path) in found.items()}
    finally:
        for proc, _, _ in found.values():
            _stop(proc)


def _log_tail(path, chars=5000):
    try:
        return path.read_text(errors="replace")[-chars:]
    except OSError:
        return ""


class Hall:
    """The kiosk and the clerks at work, every answer kept."""

    def __init__(self, base, hall, kiosk, clerks):
        self.base = base
        self.hall = hall
        self.kiosk = {"Authorization": f"Device {kiosk.token}"}
        self.clerks = [
            ({"Authorization": f"Token {Token.objects.create(user=clerk).key}"}, counter)
            for clerk, counter in clerks
        ]
        self.answers: list[tuple[str, str, int, object, float]] = []
        self.issued: list[int] = []

    def post(self, path, headers, body=None):
        started = time.monotonic()
        try:
            status, data = _request("POST", f"{self.base}{path}", headers=headers, body=body)
        except ValueError:  # not JSON: a server error's page
            status, data = 500, None
        self.answers.append((self.phase, path, status, data, time.monotonic() - started))
        return status, data

    def open(self):
        self.phase = "before"
        for auth, counter in self.clerks:
            assert self.post(f"/counters/{counter.pk}/open/", auth)[0] == 200

    def work_for(self, seconds, phase):
        self.phase = phase
        until = time.monotonic() + seconds
        while time.monotonic() < until:
            status, ticket = self.post(
                f"/halls/{self.hall.code}/tickets/", self.kiosk, {"business_type": "payment"}
            )
            if status == 201:
                self.issued.append(ticket["id"])
            for auth, counter in self.clerks:
                status, window = self.post(f"/counters/{counter.pk}/call-next/", auth)
                if status == 200 and window["called"] is not None:
                    self.post(f"/counters/{counter.pk}/start/", auth)
                    self.post(f"/counters/{counter.pk}/finish/", auth, {"outcome": "completed"})

    def failures(self):
        def documented(status, data):
            code = (data or {}).get("error", {}).get("code")
            return 200 <= status < 300 or (status == 409 and code in ALLOWED_CONFLICTS)

        return [
            (phase, path, status, data)
            for phase, path, status, data, _ in self.answers
            if not documented(status, data)
        ]


def test_the_hall_keeps_working_through_a_redis_outage(
    servers, redis_server, hall, kiosk, display_device, clerk_a, clerk_b
):
    (web, web_log), (ws, ws_log) = servers["web"], servers["ws"]
    c1 = Counter.objects.get(hall=hall, number=1)
    c2 = Counter.objects.get(hall=hall, number=2)
    work = Hall(f"http://{web}/api/v1", hall, kiosk, [(clerk_a, c1), (clerk_b, c2)])
    display = Display(f"ws://{ws}/ws/halls/{hall.code}/display/?token={display_device.token}")
    try:
        work.open()
        work.work_for(3, "before")
        redis_server.stop()
        stopped = time.monotonic()
        work.work_for(OUTAGE_S, "outage")
        redis_server.start()
        restarted = time.monotonic()
        work.work_for(5, "after")

        # The display catches up: the database's last seq, within a few heartbeats.
        last_seq = AuditEvent.objects.filter(hall=hall).order_by("-seq").first().seq
        deadline = time.monotonic() + 4 * HEARTBEAT_S + 5
        while display.last_seq() != last_seq and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        display.close()

    assert work.failures() == [], _log_tail(web_log)
    outage = [a for a in work.answers if a[0] == "outage"]
    assert len(outage) > 20, "the hall kept working while Redis was down"
    slowest = max(duration for *_, duration in outage)
    assert slowest < 3, f"a request took {slowest:.1f} s while Redis was down"

    assert set(Ticket.objects.filter(pk__in=work.issued).values_list("pk", flat=True)) == set(
        work.issued
    )
    seqs = list(AuditEvent.objects.filter(hall=hall).order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1))

    assert display.frames and display.frames[0][1]["type"] == "snapshot"
    assert any(at > restarted for at, _ in display.frames), (
        "the display hears the hall again\n" + _log_tail(ws_log)
    )
    assert display.last_seq() == seqs[-1], _log_tail(ws_log)
    assert stopped < restarted
