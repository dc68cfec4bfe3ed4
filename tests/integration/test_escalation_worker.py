"""Incident escalation on a REAL Celery worker process on Redis, against a local HTTP receiver
standing in for the department's webhook: the department's POST arrives signed, a failed POST is
retried and each try logged, a task delivered twice sends nothing twice, and after the
acknowledgement (through the link the webhook carried) no round goes out any more."""

import hashlib
import hmac
import json
import os
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlparse

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from config.celery import app as celery_app
from hall.models import Department, Incident
from recovery.incidents import incident_open
from recovery.models import AttemptStatus, DepartmentRoute, EscalationAttempt, NotificationChannel

pytestmark = [
    pytest.mark.services,
    pytest.mark.django_db(transaction=True),
    pytest.mark.filterwarnings("ignore:task_always_eager has no effect"),
]
ROOT = Path(__file__).resolve().parents[2]
SECRET = "worker-test-secret"


class Receiver:
    """The department's webhook endpoint: records each POST with whether its HMAC signature is
    right, and answers the first one with a 500 (to prove the retry), the rest with 200."""

    def __init__(self):
        self.posts: list[dict] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
                with receiver.lock:
                    receiver.posts.append(
                        {
                            "signed": hmac.compare_digest(
                                self.headers.get("X-Hallq-Signature", ""), expected
                            ),
                            "body": json.loads(body),
                            "idempotency_key": self.headers.get("Idempotency-Key"),
                        }
                    )
                    status = 500 if len(receiver.posts) == 1 else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def count(self) -> int:
        with self.lock:
            return len(self.posts)


@pytest.fixture
def receiver():
    r = Receiver()
    r.thread.start()
    yield r
    r.server.shutdown()
    r.server.server_close()


def _database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"] != "django.db.backends.postgresql":
        pytest.fail("the services suite runs on PostgreSQL: set DATABASE_URL")
    user = db["USER"] or "postgres"
    return f"postgres://{user}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def tasks_to_redis():
    """Tasks sent from this test process go to the broker (the suite runs them eagerly)."""
    if not celery_app.conf.broker_url.startswith("redis"):
        pytest.fail("the services suite needs REDIS_URL")
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    yield
    celery_app.conf.task_always_eager = eager


@pytest.fixture
def worker(tmp_path, tasks_to_redis):
    env = {
        **os.environ,
        # The web's key: the worker signs the acknowledge links the web checks.
        "SECRET_KEY": settings.SECRET_KEY,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": _database_url(),
        "REDIS_URL": celery_app.conf.broker_url,
        "SECURE_SSL_REDIRECT": "0",
        "HALLQ_VAR_DIR": str(tmp_path),
        "ESCALATION_RETRY_BACKOFF_SECONDS": "1",
    }
    env.pop("CELERY_TASK_ALWAYS_EAGER", None)
    with socket.socket() as s:  # a unique node name: other suites may run workers meanwhile
        s.bind(("127.0.0.1", 0))
        node = f"escalation-{s.getsockname()[1]}@%h"
    log_path = tmp_path / "worker.log"
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--loglevel=INFO"]
    command += ["--concurrency=1", "--without-gossip", "--without-mingle", "-n", node]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    proc.log_path = log_path
    proc.mail_dir = tmp_path / "mail"
    yield proc
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()


def _log(worker) -> str:
    return worker.log_path.read_text(errors="replace")


def _wait(worker, what, condition, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        if worker.poll() is not None:
            pytest.fail(f"the worker exited ({worker.returncode}):\n{_log(worker)[-3000:]}")
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}:\n{_log(worker)[-3000:]}")


def _done(worker, task: str) -> int:
    """How many runs of ``task`` the worker has finished."""
    return sum(
        1 for line in _log(worker).splitlines() if f"Task {task}[" in line and "succeeded" in line
    )


def test_a_real_worker_notifies_retries_and_stops_after_the_acknowledgement(
    hall, clerk_a, receiver, worker
):
    team = Department.objects.create(
        name="计费支撑中心",
        webhook_url=receiver.url,
        webhook_secret=SECRET,
        emails="noc@billing.test",
        renotify_minutes=1,
    )
    DepartmentRoute.objects.create(department=team, kind="billing")

    incident = incident_open(hall=hall, kind="billing", reporter=clerk_a)  # commits: task sent

    # Round 1: the first POST fails (500), the retry a second later gets through.
    sent = EscalationAttempt.objects.filter(incident=incident, status=AttemptStatus.SENT)
    _wait(worker, "the department's POST, its retry and the e-mail", lambda: sent.count() == 2)
    first, retry = receiver.posts[:2]
    assert first["signed"] and retry["signed"]
    # The same notification (the link's token carries its signing time).
    assert {**first["body"], "acknowledge_url": ""} == {**retry["body"], "acknowledge_url": ""}
    assert first["body"]["event"] == "incident.opened" and first["body"]["round"] == 1
    assert first["idempotency_key"] == f"incident-{incident.pk}-round-1"
    tries = EscalationAttempt.objects.filter(incident=incident, channel=NotificationChannel.WEBHOOK)
    assert [(t.try_number, t.status, t.response_code) for t in tries.order_by("try_number")] == [
        (1, AttemptStatus.FAILED, 500),
        (2, AttemptStatus.SENT, 200),
    ]
    mail = EscalationAttempt.objects.get(incident=incident, channel=NotificationChannel.EMAIL)
    assert mail.status == AttemptStatus.SENT
    assert len(list(worker.mail_dir.iterdir())) == 1  # the worker's file e-mail backend

    # Round 2 falls due; the beat's sweep is delivered twice: one reminder goes out.
    Incident.objects.filter(pk=incident.pk).update(next_notify_at=timezone.now())
    swept = _done(worker, "recovery.tasks.escalate_incident")
    for _ in range(2):
        celery_app.send_task("recovery.tasks.escalate_incidents")
        celery_app.send_task("recovery.tasks.escalate_incident", args=[incident.pk])
    _wait(
        worker,
        "the reminder round",
        lambda: (
            _done(worker, "recovery.tasks.escalate_incident") >= swept + 2
            and _done(worker, "recovery.tasks.escalate_incidents") >= 2
        ),
    )
    _wait(worker, "the reminder POST", lambda: receiver.count() >= 3)
    time.sleep(0.5)  # anything sent twice would have arrived by now
    reminders = [p["body"] for p in receiver.posts[2:]]
    assert [(b["event"], b["round"]) for b in reminders] == [("incident.reminder", 2)]

    # The department acknowledges through the link its webhook carried (no login).
    link = urlparse(reminders[0]["acknowledge_url"])
    response = APIClient().post(f"{link.path}?{link.query}", {"by": "王工"}, format="json")
    assert response.status_code == 200, response.content

    # A stale schedule and more deliveries of both tasks: nothing more goes out.
    Incident.objects.filter(pk=incident.pk).update(next_notify_at=timezone.now())
    swept = _done(worker, "recovery.tasks.escalate_incident")
    sweeps = _done(worker, "recovery.tasks.escalate_incidents")
    celery_app.send_task("recovery.tasks.escalate_incidents")
    celery_app.send_task("recovery.tasks.escalate_incident", args=[incident.pk])
    _wait(
        worker,
        "the tasks after the acknowledgement",
        lambda: (
            _done(worker, "recovery.tasks.escalate_incident") >= swept + 1
            and _done(worker, "recovery.tasks.escalate_incidents") >= sweeps + 1
        ),
    )
    time.sleep(0.5)
    assert receiver.count() == 3
    incident.refresh_from_db()
    assert incident.acknowledged_by == "王工" and incident.escalation_round == 2
