"""The production process layout, run for real: the web tier (gunicorn gthread workers, WSGI), the
ws tier (gunicorn with uvicorn workers, ASGI) and a Celery worker, against the real PostgreSQL and
Redis, each started with its own line of deploy/Procfile.

What the proxy does in production (deploy/nginx/hallq.conf) the test does by hand: the API calls
go to the web tier and the display's WebSocket to the ws tier. A call on the web tier must reach
the display through Redis, and so must the Celery worker's end of day."""

import datetime
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.authtoken.models import Token
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from config.celery import app as celery_app
from counters.models import Counter
from hall.models import AuditEvent, EventKind
from queueing.models import Status, Ticket
from tests.factories import issue

pytestmark = [
    pytest.mark.services,
    pytest.mark.django_db(transaction=True),
    pytest.mark.filterwarnings("ignore:task_always_eager has no effect"),
]
ROOT = Path(__file__).resolve().parents[2]
FRAME_BOUND_S = 5.0  # generous: two gunicorns and a Celery worker share a busy 2-core box


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"] != "django.db.backends.postgresql":
        pytest.fail("the services suite runs on PostgreSQL: set DATABASE_URL")
    user = db["USER"] or "postgres"
    return f"postgres://{user}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def production_env(tmp_path):
    env = {
        **os.environ,
        "SECRET_KEY": "process-layout-test-key-" + "x" * 40,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": _database_url(),
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        "SECURE_SSL_REDIRECT": "0",
        "HALLQ_VAR_DIR": str(tmp_path),
        # Redis PUBLISH ignores the database number: without a prefix of its own, the servers'
        # displays would receive the events of other runs sharing this Redis (same hall ids).
        "REDIS_CHANNEL_PREFIX": f"test-{uuid.uuid4().hex[:12]}",
    }
    env.pop("CELERY_TASK_ALWAYS_EAGER", None)
    return env


def _start(cmd, env, log):
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


def _stop(proc):
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()


def _request(method, url, *, headers=None, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"null")


def _wait_for(url, proc, log_path=None, deadline_s=30):
    """Until ``url`` answers; fails (with the tail of ``log_path``, if given) if ``proc`` exits."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            log = f":\n{log_path.read_text()[-3000:]}" if log_path else ""
            pytest.fail(f"server exited with {proc.returncode}{log}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:  # refused, reset or timed out while the workers boot
            time.sleep(0.3)
    pytest.fail(f"{url} did not answer in {deadline_s}s")


def procfile() -> dict[str, str]:
    """deploy/Procfile's processes: name -> command line."""
    lines = (ROOT / "deploy" / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip())


def _start_procfile(name, env, log):
    """The Procfile's line for ``name``, through a shell as a Procfile runner does (it expands
    ${CELERY_CONCURRENCY:-2}); ``exec`` keeps the pid the server's, for its worker count."""
    env = {**env, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"}
    return _start(["sh", "-c", f"exec {procfile()[name]}"], env, log)


def _workers(proc) -> int:
    pids = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True)
    return len(pids.stdout.split())


def _frames(ws, deadline):
    """Frames other than heartbeats and boards, until ``deadline`` (a monotonic time)."""
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        frame = json.loads(ws.recv(timeout=left))
        if frame["type"] not in ("heartbeat", "board"):  # boards are no events (display.board)
            yield frame


def _board(ws, deadline):
    """The first board frame until ``deadline``, with its figures for the called ticket."""
    while (left := deadline - time.monotonic()) > 0:
        frame = json.loads(ws.recv(timeout=left))
        if frame["type"] == "board" and not any(b["waiting"] for b in frame["business_types"]):
            return frame
    raise TimeoutError("no board from the worker")


@pytest.fixture
def layout(production_env, tmp_path):
    """web, ws and worker as deploy/Procfile starts them; yields their addresses."""
    web_port, ws_port = _free_port(), _free_port()
    env = {
        **production_env,
        "BIND": f"127.0.0.1:{web_port}",
        "WEB_CONCURRENCY": "2",
        "WEB_THREADS": "4",
        "WS_BIND": f"127.0.0.1:{ws_port}",
        "WS_CONCURRENCY": "1",
        "CELERY_CONCURRENCY": "1",
        "DISPLAY_HEARTBEAT_SECONDS": "60",  # no heartbeat frame in the way
        "DISPLAY_BOARD_WORKER": "1",  # the option of computing the board in the worker
    }
    procs = {}
    try:
        for name in ("web", "ws", "worker"):
            with open(tmp_path / f"{name}.log", "wb") as log:
                procs[name] = _start_procfile(name, env, log)
        _wait_for(f"http://127.0.0.1:{web_port}/healthz/", procs["web"])
        _wait_for(f"http://127.0.0.1:{ws_port}/healthz/", procs["ws"])
        yield {
            "web": f"127.0.0.1:{web_port}",
            "ws": f"127.0.0.1:{ws_port}",
            "redis": env["REDIS_URL"],
            "procs": procs,
        }
    finally:
        for proc in procs.values():
            _stop(proc)


def test_procfile_runs_the_api_on_wsgi_and_the_displays_on_asgi(
    layout, hall, kiosk, display_device, clerk_a, tmp_path
):
    yesterday = timezone.now() - datetime.timedelta(days=1)
    left_over = issue(hall, "payment", device=kiosk, at=yesterday)
    assert _workers(layout["procs"]["web"]) == 2, "two gthread worker processes"
    assert _workers(layout["procs"]["ws"]) == 1, "one uvicorn worker process"
    api = f"http://{layout['web']}/api/v1"
    stream = f"/ws/halls/{hall.code}/display/?token={display_device.token}"

    # The web tier is WSGI: a WebSocket handshake is a plain GET there, and no page has its path.
    with pytest.raises(InvalidStatus) as refused:
        connect(f"ws://{layout['web']}{stream}", open_timeout=10)
    assert refused.value.response.status_code == 404

    with connect(f"ws://{layout['ws']}{stream}", open_timeout=10) as ws:
        snapshot = next(_frames(ws, time.monotonic() + 10))
        assert snapshot["type"] == "snapshot"

        # The Celery worker closes yesterday: the left-over expires, and the display gets a fresh
        # snapshot (one "hall.reset" through Redis instead of a message per expired ticket).
        with celery_app.connection_for_write(layout["redis"]) as conn:
            celery_app.send_task("queueing.tasks.close_day_all_halls", connection=conn)
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline:
            left_over.refresh_from_db()
            if left_over.status == Status.EXPIRED:
                break
            time.sleep(0.3)
        assert left_over.status == Status.EXPIRED, (tmp_path / "worker.log").read_text()[-3000:]
        expired = AuditEvent.objects.get(kind=EventKind.TICKET_EXPIRED, ticket_id=left_over.pk)
        snapshot = next(_frames(ws, time.monotonic() + FRAME_BOUND_S))
        assert snapshot["type"] == "snapshot"
        assert snapshot["seq"] == expired.seq

        status, ticket = _request(
            "POST",
            f"{api}/halls/{hall.code}/tickets/",
            headers={"Authorization": f"Device {kiosk.token}"},
            body={"business_type": "payment"},
        )
        assert status == 201, ticket
        # The tests hash passwords with MD5, which production settings do not accept, so the
        # clerk's API token is made here rather than through /auth/token/.
        auth = {"Authorization": f"Token {Token.objects.create(user=clerk_a).key}"}
        c1 = Counter.objects.get(hall=hall, number=1)
        assert _request("POST", f"{api}/counters/{c1.pk}/open/", headers=auth)[0] == 200
        status, window = _request("POST", f"{api}/counters/{c1.pk}/call-next/", headers=auth)
        answered = time.monotonic()
        assert status == 200, window
        assert window["called"]["id"] == ticket["id"]
        assert Ticket.objects.get(pk=ticket["id"]).status == Status.CALLED

        # Each API call's frame, published by a web worker's sender thread after commit, reaches
        # the display on the other tier, in order and without a gap.
        frames = []
        for frame in _frames(ws, answered + FRAME_BOUND_S):
            frames.append(frame)
            if frame["type"] == "ticket.called":
                break
        assert [f["type"] for f in frames] == ["ticket.issued", "counter.opened", "ticket.called"]
        assert [f["seq"] for f in frames] == [snapshot["seq"] + i for i in (1, 2, 3)]
        assert frames[0]["ticket"]["number"] == ticket["number"]
        assert frames[2]["ticket"]["number"] == ticket["number"]
        assert frames[2]["counter"] == {"id": c1.pk, "number": 1}

        # The board is the worker's: the ws tier's ticker asks, the Celery worker forecasts and
        # sends it to the hall's group, the stream splices its own seq in (display/board.py).
        board = _board(ws, time.monotonic() + FRAME_BOUND_S)
        assert board["seq"] == frames[2]["seq"]
        assert {b["code"]: b["waiting"] for b in board["business_types"]}["payment"] == 0
