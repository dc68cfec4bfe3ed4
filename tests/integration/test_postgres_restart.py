"""PostgreSQL restarted under a running web tier (gunicorn gthread workers serving config.wsgi,
as deploy/Procfile's ``web`` line starts it, with the connection pool): no request fails once it
is back, and while it is down a request answers 503 ``service_unavailable`` with Retry-After in
the error shape, not an HTML 500. The test only speaks HTTP, so the ws tier is not started.

The test runs its own PostgreSQL cluster (initdb into a temporary folder, on a free port) so it
can stop it without touching the shared server; the cluster and the server are removed even when
the test fails.
"""

import contextlib
import glob
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

from tests.integration.test_process_layout import _wait_for

pytestmark = pytest.mark.services
ROOT = Path(__file__).resolve().parents[2]
# DB_POOL_TIMEOUT, the production default: how long a request waits for a connection before its
# 503. After a restart psycopg_pool's check drops the dead idle connections one per try, with
# 1, 2, 4 s... between tries, so the first request of a worker may wait a few seconds.
POOL_TIMEOUT_S = 10


def _pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """A throwaway PostgreSQL cluster. PostgreSQL refuses to run as root: as root, its
    commands run as the postgres user, in a folder that user owns."""

    def __init__(self, bin_dir: Path):
        self.bin = bin_dir
        self.port = _free_port()
        self.base = Path(tempfile.mkdtemp(prefix="hallq-pg-"))
        self.data = self.base / "data"
        self.log = self.base / "postgres.log"
        self.as_postgres = os.geteuid() == 0
        if self.as_postgres:
            shutil.chown(self.base, "postgres", "postgres")

    def _run(self, *args, check=True, timeout=60):
        cmd = [str(self.bin / args[0]), *map(str, args[1:])]
        if self.as_postgres:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"{cmd} failed:\n{result.stdout}\n{result.stderr}\n{self.logs()}")
        return result

    def init(self):
        self._run("initdb", "-D", self.data, "-U", "postgres", "-A", "trust", "--no-sync",
                  "-E", "UTF8", "--locale=C")  # fmt: skip
        self.start()
        self._run("createdb", "-h", "127.0.0.1", "-p", self.port, "-U", "postgres", "hallq")

    def _pg_ctl(self, action, *extra):
        options = (
            f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._run("pg_ctl", action, "-D", self.data, "-l", self.log, "-w", "-t", "30",
                  "-o", options, *extra)  # fmt: skip

    def start(self):
        self._pg_ctl("start")

    def stop(self):
        self._pg_ctl("stop", "-m", "fast")

    def restart(self):
        self._pg_ctl("restart", "-m", "fast")

    def destroy(self):
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "stop", "-D", self.data, "-m", "immediate", "-w", check=False)
        shutil.rmtree(self.base, ignore_errors=True)

    def logs(self) -> str:
        with contextlib.suppress(OSError):
            return self.log.read_text()[-3000:]
        return ""

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/hallq"


@pytest.fixture
def cluster():
    bin_dir = _pg_bin()
    if bin_dir is None or not (bin_dir / "initdb").exists():
        pytest.skip("needs PostgreSQL's initdb and pg_ctl (apt: postgresql)")
    cluster = Cluster(bin_dir)
    try:
        cluster.init()
        yield cluster
    finally:
        cluster.destroy()


SETUP = """
from django.core.management import call_command
from hall.services import device_register
from tests.factories import payment_hall

call_command("migrate", verbosity=0, interactive=False)
hall = payment_hall("pg1", "重启测试营业厅")
device, token = device_register(hall=hall, kind="kiosk", name="kiosk 1")
print(token)
"""


@pytest.fixture
def server(cluster, tmp_path):
    """The web tier (gunicorn, two gthread workers, WSGI) against the cluster; yields (base URL,
    kiosk token, log path)."""
    port = _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "SECRET_KEY": "postgres-restart-test-key-" + "x" * 40,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": cluster.url,
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        # Tasks run in the server rather than wait on the shared Redis for a worker.
        "CELERY_TASK_ALWAYS_EAGER": "1",
        "SECURE_SSL_REDIRECT": "0",
        "HALLQ_VAR_DIR": str(tmp_path),
        "DB_POOL_TIMEOUT": str(POOL_TIMEOUT_S),
        # Redis PUBLISH ignores the database number: a prefix of its own keeps this server's
        # events from the displays of other runs sharing this Redis (same hall ids).
        "REDIS_CHANNEL_PREFIX": f"test-{uuid.uuid4().hex[:12]}",
        "BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "2",
    }
    setup = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()\n" + SETUP],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert setup.returncode == 0, setup.stderr[-3000:]
    token = setup.stdout.strip().splitlines()[-1]
    log_path = tmp_path / "web.log"
    with open(log_path, "wb") as log:
        web = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "config.wsgi:application"]
            + ["-c", "deploy/gunicorn.conf.py"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_for(f"{base}/healthz/", web, log_path)
        yield base, token, log_path
    finally:
        web.terminate()
        try:
            web.wait(timeout=15)
        except subprocess.TimeoutExpired:
            web.kill()
            web.wait()


def _request(method, url, *, token, body=None):
    """(status, headers, body as JSON or the text it was)."""
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Authorization": f"Device {token}", "Accept": "application/json"}
    if data is not None:
        headers |= {"Content-Type": "application/json", "Idempotency-Key": uuid.uuid4().hex}
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=POOL_TIMEOUT_S + 10) as resp:
            status, headers, raw = resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as err:
        status, headers, raw = err.code, err.headers, err.read()
    try:
        return status, headers, json.loads(raw or b"null")
    except ValueError:
        return status, headers, raw.decode(errors="replace")[:500]


def _one_of_each(base, token, n):
    """``n`` requests, alternately a read and a ticket issue, as a kiosk does."""
    answers = []
    for i in range(n):
        if i % 2:
            answers.append(
                _request(
                    "POST",
                    f"{base}/api/v1/halls/pg1/tickets/",
                    token=token,
                    body={"business_type": "payment"},
                )
            )
        else:
            answers.append(_request("GET", f"{base}/api/v1/halls/pg1/business-types/", token=token))
    return answers


def _failures(answers):
    return [(status, body) for status, _headers, body in answers if not 200 <= status < 300]


def test_no_request_fails_after_postgres_restarts_and_a_503_while_it_is_down(cluster, server):
    base, token, log_path = server
    started = time.monotonic()
    # Both workers' pools hold live connections (several requests, so each worker gets some).
    assert _failures(_one_of_each(base, token, 6)) == []

    # Restarted: every pooled connection is dead. The pool checks each at checkout and
    # replaces it, so no request sees one.
    cluster.restart()
    answers = _one_of_each(base, token, 20)
    assert _failures(answers) == [], log_path.read_text()[-3000:]

    # Down: a request answers 503 in the error shape with Retry-After, not an HTML 500.
    cluster.stop()
    status, headers, body = _request(
        "POST", f"{base}/api/v1/halls/pg1/tickets/", token=token, body={"business_type": "payment"}
    )
    assert status == 503, body
    assert body["error"]["code"] == "service_unavailable"
    assert body["error"]["message"] and body["error"]["fields"] == {}
    assert 1 <= int(headers["Retry-After"]) <= 30

    # Back: a client that follows Retry-After gets through, and from then on nothing fails.
    # (The pool reconnects on its own backoff, 1, 2, 4 s...: the first request after the start
    # may wait for it, or answer one more 503 if that is longer than DB_POOL_TIMEOUT.)
    cluster.start()
    deadline = time.monotonic() + 20
    while True:
        status, headers, body = _request(
            "GET", f"{base}/api/v1/halls/pg1/business-types/", token=token
        )
        if status == 200 or time.monotonic() > deadline:
            break
        assert status == 503, body  # never a 500 on the way back
        time.sleep(min(int(headers["Retry-After"]), 2))
    assert status == 200, body
    assert _failures(_one_of_each(base, token, 20)) == [], log_path.read_text()[-3000:]
    assert time.monotonic() - started < 60
