"""The production process layout, run for real: gunicorn with two uvicorn workers and a Celery
worker, against the real PostgreSQL and Redis, exactly as deploy/Procfile starts them."""

import datetime
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.authtoken.models import Token

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


def _wait_for(url, proc, deadline_s=30):
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:  # refused, reset or timed out while the workers boot
            time.sleep(0.3)
    pytest.fail(f"{url} did not answer in {deadline_s}s")


def test_gunicorn_with_uvicorn_workers_serves_the_api_on_postgres(
    hall, kiosk, clerk_a, production_env, tmp_path
):
    port = _free_port()
    env = {**production_env, "BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": "2"}
    gunicorn = [sys.executable, "-m", "gunicorn", "config.asgi:application"]
    with open(tmp_path / "web.log", "wb") as log:
        web = _start([*gunicorn, "-c", "deploy/gunicorn.conf.py"], env, log)
        _exercise_web(web, port, hall, kiosk, clerk_a)


def _exercise_web(web, port, hall, kiosk, clerk_a):
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_for(f"{base}/healthz/", web)
        workers = subprocess.run(
            ["pgrep", "-P", str(web.pid)], capture_output=True, text=True
        ).stdout.split()
        assert len(workers) == 2, "two uvicorn worker processes"

        status, ticket = _request(
            "POST",
            f"{base}/api/v1/halls/{hall.code}/tickets/",
            headers={"Authorization": f"Device {kiosk.token}"},
            body={"business_type": "payment"},
        )
        assert status == 201, ticket
        # The tests hash passwords with MD5, which production settings do not accept, so the
        # clerk's API token is made here rather than through /auth/token/.
        auth = {"Authorization": f"Token {Token.objects.create(user=clerk_a).key}"}
        c1 = Counter.objects.get(hall=hall, number=1)
        assert _request("POST", f"{base}/api/v1/counters/{c1.pk}/open/", headers=auth)[0] == 200
        call_next = f"{base}/api/v1/counters/{c1.pk}/call-next/"
        status, window = _request("POST", call_next, headers=auth)
        assert status == 200, window
        assert window["called"]["number"] == ticket["number"]
        assert Ticket.objects.get(pk=ticket["id"]).status == Status.CALLED
    finally:
        _stop(web)


def test_celery_worker_on_redis_closes_yesterday(hall, kiosk, production_env, tmp_path):
    yesterday = timezone.now() - datetime.timedelta(days=1)
    left_over = issue(hall, "payment", device=kiosk, at=yesterday)
    celery = [sys.executable, "-m", "celery", "-A", "config", "worker", "--loglevel=INFO"]
    with open(tmp_path / "worker.log", "wb") as log:
        worker = _start(
            [*celery, "--concurrency=1", "--without-gossip", "--without-mingle"],
            production_env,
            log,
        )
        _exercise_worker(worker, left_over, production_env, tmp_path)


def _exercise_worker(worker, left_over, production_env, tmp_path):
    try:
        with celery_app.connection_for_write(production_env["REDIS_URL"]) as conn:
            celery_app.send_task("queueing.tasks.close_day_all_halls", connection=conn)
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline:
            left_over.refresh_from_db()
            if left_over.status == Status.EXPIRED:
                break
            time.sleep(0.3)
        assert left_over.status == Status.EXPIRED, (tmp_path / "worker.log").read_text()[-3000:]
        assert (
            AuditEvent.objects.filter(kind=EventKind.TICKET_EXPIRED, ticket_id=left_over.pk).count()
            == 1
        )
    finally:
        _stop(worker)
