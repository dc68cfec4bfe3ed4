"""Open-loop HTTP load on the real process layout: kiosk issues and counter cycles.

DESIGN.md's targets: issue + call-next over HTTP, PostgreSQL + Redis on one 2-core box, open
loop: >= 500 req/s, p99 <= 50 ms, 0 errors. SQLite embedded: call-next p99 <= 20 ms at 20 req/s,
0 "database is locked".

What it does (everything on 127.0.0.1, every run bounded in time and in requests):

1. a fresh database: ``--db-name`` (default ``bench_hallq``) on PostgreSQL (dropped and created;
   dropped again at the end unless ``--keep-db``), or a SQLite file in a temporary HALLQ_VAR_DIR
   with ``--sqlite``;
   ``manage.py migrate``;
2. the halls: ``seed_demo`` once, then ``hall_create`` for more halls with the demo's business
   types and eight counters; for every counter a clerk (DRF ``Token``) who opens it; one kiosk
   device per hall; a backlog of waiting tickets, so counters have something to call;
3. the server with the production environment on PostgreSQL + Redis, ``--workers`` processes
   (default 2), by ``--layout``:
   - ``wsgi`` (the default, production's web tier): ``gunicorn config.wsgi:application -c
     deploy/gunicorn.conf.py``, gthread workers (WEB_CONCURRENCY; ``--threads``: WEB_THREADS);
   - ``asgi`` (the former layout, everything on uvicorn): ``gunicorn config.asgi:application -c
     deploy/gunicorn_ws.conf.py``, uvicorn workers (WS_CONCURRENCY);
   or with ``--sqlite`` the embedded default (no DATABASE_URL/REDIS_URL/SECRET_KEY) in one
   ``uvicorn`` process;
4. per rate step, two fixed-rate streams scheduled by the clock (open loop):
   - kiosk issue: ``POST /api/v1/halls/{code}/tickets/`` with ``Authorization: Device``;
   - counter cycle: take an idle counter (random), ``call-next``; if a ticket was called,
     ``start`` then ``finish`` at once, to free the counter for its next cycle.
   The latency of an issue and of a call-next is measured from its *scheduled* send time, so a
   slow server is not hidden by the generator waiting for it (no coordinated omission). Start
   and finish follow a call-next response, so theirs is measured from their actual send time.
   With ``--rates R`` the issue rate and the cycle rate are R/4 each: a cycle that calls a
   ticket sends three requests, so the offered total is R req/s when every call finds a ticket.
5. per step: offered and achieved rates, latency p50/p95/p99/max for issue, call-next, start,
   finish and all, errors (any status but the expected one; 409 ``counter_busy`` on call-next is
   documented and counted apart), and the CPU seconds used by the web workers, PostgreSQL, Redis
   and the generator itself.

    .venv/bin/python deploy/bench/http_bench.py [--halls 20] [--rates 100,200,300,500]
                                                [--duration 30] [--backlog 150]
                                                [--layout wsgi|asgi] [--db-name bench_hallq]
    .venv/bin/python deploy/bench/http_bench.py --sqlite [--rates 20] [--duration 30]

With ``--sqlite`` a rate is the call-next rate; issues go at the same rate to keep the queue
fed (so about 4 x rate requests per second in all). "database is locked" is counted in the
server log and in error bodies.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PY = sys.executable
HOST = "127.0.0.1"  # the only host this tool ever talks to
BENCH_DB = "bench_hallq"
PG = {"host": "127.0.0.1", "port": "5432", "user": "postgres"}
REDIS_URL = "redis://127.0.0.1:6379/0"
REQUEST_TIMEOUT_S = 10.0
DRAIN_S = 15.0
MAX_DURATION_S = 300.0  # per step
MAX_RATE = 5000.0
MAX_CONNECTIONS = 256
# Business types a kiosk customer picks (demo hall codes), weighted roughly like a real hall.
ISSUE_MIX = {
    "payment": 30,
    "topup": 15,
    "service": 15,
    "cards": 10,
    "consult": 10,
    "query": 10,
    "complaint": 5,
    "broadband": 5,
}


# --- setup, run inside Django (a subprocess with the server's environment) --------------------


def django_setup(halls: int, backlog: int, seed: int) -> dict:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import datetime

    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import transaction
    from rest_framework.authtoken.models import Token

    from config.demo import demo_layout, seed_demo
    from counters.models import Counter
    from counters.services import counter_open
    from hall.models import DeviceKind, Hall, Role, StaffMembership
    from hall.services import device_register, hall_create
    from queueing.services import ticket_issue

    rng = random.Random(seed)
    User = get_user_model()
    seed_demo()
    codes = ["demo"] + [f"bench{i:02d}" for i in range(1, halls)]
    out = []
    for code in codes:
        with transaction.atomic():
            hall = Hall.objects.filter(code=code).first()
            if hall is None:
                hall = hall_create(
                    code=code,
                    name=f"压测营业厅 {code}",
                    opens_at=datetime.time(0, 0),
                    closes_at=datetime.time(0, 0),  # open all day
                )
                demo_layout(hall=hall)
            kiosk, kiosk_token = device_register(hall=hall, kind=DeviceKind.KIOSK, name="bench")
        counters = []
        for counter in Counter.objects.filter(hall=hall).order_by("number"):
            user = User.objects.create(username=f"bench-{code}-{counter.number}")
            StaffMembership.objects.create(user=user, hall=hall, role=Role.CLERK)
            counter_open(counter_id=counter.pk, user=user)
            token = Token.objects.create(user=user).key
            counters.append({"id": counter.pk, "number": counter.number, "token": token})
        names, weights = zip(*ISSUE_MIX.items(), strict=True)
        for _ in range(backlog):
            ticket_issue(hall=hall, business_type_code=rng.choices(names, weights)[0], device=kiosk)
        out.append({"code": code, "kiosk": kiosk_token, "counters": counters})
    return {"halls": out}


# --- a minimal HTTP/1.1 keep-alive client on asyncio streams ------------------------------------


class ConnectionLost(Exception):
    pass


class Conn:
    def __init__(self, reader, writer):
        self.reader, self.writer = reader, writer
        self.last_used = time.monotonic()

    def close(self):
        self.writer.close()

    async def request(self, raw: bytes) -> tuple[int, bytes, bool]:
        self.writer.write(raw)
        await self.writer.drain()
        line = await self.reader.readline()
        if not line:
            raise ConnectionLost("closed before the status line")
        status = int(line.split(b" ", 2)[1])
        length, chunked, keep = None, False, True
        while True:
            h = await self.reader.readline()
            if h in (b"\r\n", b""):
                break
            name, _, value = h.partition(b":")
            name, value = name.strip().lower(), value.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding" and b"chunked" in value:
                chunked = True
            elif name == b"connection" and value == b"close":
                keep = False
        if chunked:
            body = bytearray()
            while True:
                size = int((await self.reader.readline()).split(b";")[0], 16)
                if size == 0:
                    await self.reader.readline()
                    break
                body += await self.reader.readexactly(size + 2)
                del body[-2:]
            body = bytes(body)
        elif length is not None:
            body = await self.reader.readexactly(length)
        else:
            body, keep = await self.reader.read(), False
        self.last_used = time.monotonic()
        return status, body, keep


class Pool:
    def __init__(self, port: int, limit: int = MAX_CONNECTIONS):
        self.port = port
        self.idle: list[Conn] = []
        self.sem = asyncio.Semaphore(limit)
        self.opened = 0

    async def _connect(self) -> Conn:
        reader, writer = await asyncio.open_connection(HOST, self.port)
        self.opened += 1
        return Conn(reader, writer)

    def _take_idle(self) -> Conn | None:
        while self.idle:
            conn = self.idle.pop()
            if time.monotonic() - conn.last_used < 3.0:  # the server closes idle ones after 5 s
                return conn
            conn.close()
        return None

    async def send(self, method: str, path: str, headers: dict, body: dict | None):
        data = json.dumps(body).encode() if body is not None else b""
        head = [f"{method} {path} HTTP/1.1", f"Host: {HOST}:{self.port}"]
        head += [f"{k}: {v}" for k, v in headers.items()]
        head += ["Content-Type: application/json", f"Content-Length: {len(data)}", "", ""]
        raw = "\r\n".join(head).encode() + data
        async with self.sem:
            for attempt in range(2):
                conn = self._take_idle()
                reused = conn is not None
                if conn is None:
                    conn = await self._connect()
                try:
                    status, payload, keep = await asyncio.wait_for(
                        conn.request(raw), REQUEST_TIMEOUT_S
                    )
                except (ConnectionLost, ConnectionResetError, BrokenPipeError):
                    conn.close()
                    if reused and attempt == 0:
                        continue  # a kept-alive connection the server had just closed
                    raise
                except BaseException:
                    conn.close()
                    raise
                if keep:
                    self.idle.append(conn)
                else:
                    conn.close()
                return status, payload
        raise AssertionError("unreachable")


# --- the load ------------------------------------------------------------------------------------


class Step:
    def __init__(self):
        self.lat = defaultdict(list)  # kind -> seconds
        self.ok = defaultdict(int)
        self.busy = 0
        self.empty_calls = 0
        self.errors = defaultdict(int)  # "kind status/code" -> count
        self.error_samples: list[str] = []
        self.locked = 0

    def error(self, kind: str, what: str, body: bytes = b""):
        self.errors[f"{kind} {what}"] += 1
        if b"database is locked" in body:
            self.locked += 1
        if len(self.error_samples) < 5:
            self.error_samples.append(f"{kind} {what}: {body[:300]!r}")


def _error_code(body: bytes) -> str:
    try:
        return json.loads(body)["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return ""


def _tally(step: Step, kind: str, status, payload: bytes, *, expected: int) -> None:
    """Count a response: ``expected`` is a success, any other status an error (None: the
    request itself failed, already counted by ``Load._timed``)."""
    if status == expected:
        step.ok[kind] += 1
    elif status is not None:
        step.error(kind, f"{status} {_error_code(payload)}", payload)


class Load:
    def __init__(self, pool: Pool, halls: list[dict], seed: int):
        self.pool = pool
        self.halls = halls
        self.rng = random.Random(seed)
        self.idle_counters: asyncio.Queue = asyncio.Queue()
        counters = [c for h in halls for c in h["counters"]]
        self.rng.shuffle(counters)
        for c in counters:
            self.idle_counters.put_nowait(c)
        self.names, self.weights = zip(*ISSUE_MIX.items(), strict=True)
        self.sent = 0

    async def _timed(self, step: Step, kind: str, since: float, method, path, headers, body):
        self.sent += 1
        try:
            status, payload = await self.pool.send(method, path, headers, body)
        except (TimeoutError, OSError, ConnectionLost, asyncio.IncompleteReadError) as exc:
            step.error(kind, type(exc).__name__)
            return None, b""
        step.lat[kind].append(time.monotonic() - since)
        return status, payload

    async def issue(self, step: Step, scheduled: float, hall: dict | None = None):
        hall = hall or self.rng.choice(self.halls)
        headers = {"Authorization": f"Device {hall['kiosk']}", "Idempotency-Key": uuid.uuid4()}
        body = {"business_type": self.rng.choices(self.names, self.weights)[0]}
        path = f"/api/v1/halls/{hall['code']}/tickets/"
        status, payload = await self._timed(step, "issue", scheduled, "POST", path, headers, body)
        _tally(step, "issue", status, payload, expected=201)

    async def _action(self, step, counter, action, since=None, expect_busy=False):
        headers = {"Authorization": f"Token {counter['token']}"}
        path = f"/api/v1/counters/{counter['id']}/{action}/"
        since = time.monotonic() if since is None else since
        status, payload = await self._timed(step, action, since, "POST", path, headers, None)
        if status == 200:
            step.ok[action] += 1
            return payload
        if status == 409 and expect_busy and _error_code(payload) == "counter_busy":
            step.busy += 1
            return None
        if status is not None:
            step.error(action, f"{status} {_error_code(payload)}", payload)
        return None

    async def cycle(self, step: Step, scheduled: float):
        counter = await self.idle_counters.get()  # waiting for a free counter counts as latency
        try:
            window = await self._action(step, counter, "call-next", scheduled, expect_busy=True)
            if window is None:  # busy or failed: bring the counter back to a known state
                await self._recover(step, counter)
                return
            if json.loads(window).get("called") is None:
                step.empty_calls += 1
                return
            if await self._action(step, counter, "start") is not None:
                await self._action(step, counter, "finish")
        finally:
            self.idle_counters.put_nowait(counter)

    async def run_closed(self, *, kiosks_per_hall: int, duration: float, step: Step):
        """Closed loop (``--mix closed``): each counter's clerk calls, starts and finishes as soon
        as each answer comes back, and ``kiosks_per_hall`` kiosks per hall issue back to back,
        for ``duration`` seconds. Every latency is from the request's actual send."""
        loop = asyncio.get_running_loop()
        start = loop.time()
        end = start + duration

        async def clerk(counter):
            while loop.time() < end:
                window = await self._action(step, counter, "call-next", expect_busy=True)
                if window is None:
                    await self._recover(step, counter)
                elif json.loads(window).get("called") is None:
                    step.empty_calls += 1
                    await asyncio.sleep(0.05)  # nobody to call: a clerk would look up
                elif await self._action(step, counter, "start") is not None:
                    await self._action(step, counter, "finish")

        async def kiosk(hall):
            while loop.time() < end:
                await self.issue(step, loop.time(), hall=hall)

        workers = [clerk(c) for h in self.halls for c in h["counters"]]
        workers += [kiosk(h) for h in self.halls for _ in range(kiosks_per_hall)]
        await asyncio.gather(*workers)
        return start, end, loop.time()

    async def healthz(self, step: Step, scheduled: float):
        """The floor: Django and its middleware, no database (``--mix floor``)."""
        status, payload = await self._timed(
            step, "healthz", scheduled, "GET", "/healthz/", {}, None
        )
        _tally(step, "healthz", status, payload, expected=200)

    async def counters(self, step: Step, scheduled: float):
        """The floor of an API read: DRF, a cached token, one hall's counters (``--mix floor``)."""
        hall = self.rng.choice(self.halls)
        headers = {"Authorization": f"Token {hall['counters'][0]['token']}"}
        path = f"/api/v1/halls/{hall['code']}/counters/"
        status, payload = await self._timed(step, "counters", scheduled, "GET", path, headers, None)
        _tally(step, "counters", status, payload, expected=200)

    async def _recover(self, step, counter):
        # Not timed into the step's figures as cycles; any error here is still an error.
        recovery = Step()
        await self._action(recovery, counter, "start")
        await self._action(recovery, counter, "finish")

    async def run_step(
        self, *, issue_rate: float, cycle_rate: float, duration: float, step: Step, floor=False
    ):
        loop = asyncio.get_running_loop()
        tasks: set[asyncio.Task] = set()
        start = loop.time() + 0.05

        async def stream(rate, make):
            if rate <= 0:
                return
            n = int(rate * duration)
            for i in range(n):
                at = start + i / rate
                delay = at - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                # latency from the scheduled time: loop.time() is time.monotonic()
                task = asyncio.create_task(make(step, at))
                tasks.add(task)
                task.add_done_callback(tasks.discard)

        if floor:  # the same rates, spent on the two floor requests instead
            first, second = self.healthz, self.counters
            issue_rate = cycle_rate = (issue_rate + 3 * cycle_rate) / 2
        else:
            first, second = self.issue, self.cycle
        await asyncio.gather(stream(issue_rate, first), stream(cycle_rate, second))
        sched_end = loop.time()
        if tasks:
            done, pending = await asyncio.wait(set(tasks), timeout=DRAIN_S)
            for task in pending:
                task.cancel()
                step.errors["unfinished after drain"] += 1
        return start, sched_end, loop.time()


# --- processes, CPU accounting -----------------------------------------------------------------


def _cpu_seconds(pids) -> float:
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        except (OSError, IndexError, ValueError):
            pass
    return total / tick


def _pids_named(name: str) -> list[int]:
    pids = []
    for p in Path("/proc").iterdir():
        if p.name.isdigit():
            try:
                if (p / "comm").read_text().strip() == name:
                    pids.append(int(p.name))
            except OSError:
                pass
    return pids


def _children(pid: int) -> list[int]:
    try:
        return [int(x) for x in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _wait_for(port: int, proc, deadline_s=60):
    import urllib.request

    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"http://{HOST}:{port}/healthz/", timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("server did not answer /healthz/")


def _pct(values, q):
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def _ms(x):
    return f"{x * 1000:.1f}"


def report_step(label, offered, step: Step, t0, t1, t2, cpu: dict) -> dict:
    duration = t1 - t0
    done = sum(len(v) for v in step.lat.values())
    kinds = [
        k for k in ("issue", "call-next", "start", "finish", "healthz", "counters") if k in step.lat
    ]
    rows = {}
    print(f"\n== {label}: offered {offered:.0f} req/s for {duration:.1f} s (drain {t2 - t1:.1f} s)")
    print(f"   achieved {done / (t2 - t0):.1f} req/s ({done} responses)")
    alll = [x for k in kinds for x in step.lat[k]]
    for kind in [*kinds, "all"]:
        v = alll if kind == "all" else step.lat[kind]
        rows[kind] = {
            "n": len(v),
            "p50": _pct(v, 0.50),
            "p95": _pct(v, 0.95),
            "p99": _pct(v, 0.99),
            "max": max(v) if v else float("nan"),
        }
        r = rows[kind]
        print(
            f"   {kind:9} n={r['n']:6}  p50 {_ms(r['p50']):>8}  p95 {_ms(r['p95']):>8}  "
            f"p99 {_ms(r['p99']):>8}  max {_ms(r['max']):>8} ms"
        )
    errors = sum(step.errors.values())
    print(
        f"   errors {errors} {dict(step.errors)}; 409 busy {step.busy}; "
        f"empty calls {step.empty_calls}; 'database is locked' in bodies {step.locked}"
    )
    for s in step.error_samples:
        print(f"     e.g. {s}")
    print("   cpu seconds per wall second: " + ", ".join(f"{k} {v:.2f}" for k, v in cpu.items()))
    return {
        "label": label,
        "offered": offered,
        "achieved": done / (t2 - t0),
        "responses": done,
        "rows": rows,
        "errors": errors,
        "error_kinds": dict(step.errors),
        "busy": step.busy,
        "empty": step.empty_calls,
        "locked_bodies": step.locked,
        "cpu": cpu,
    }


async def drive(args, port, halls, server_pid, sqlite: bool) -> list[dict]:
    pool = Pool(port)
    load = Load(pool, halls, args.seed)
    results = []
    steps = [("warm-up", args.rates[0], args.warmup)] if args.warmup > 0 else []
    steps += [(f"{r:g} req/s", r, args.duration) for r in args.rates]
    if args.mix == "closed":  # no offered rate: one run per --rates entry, as repeats
        steps = [(label.replace("req/s", "(closed loop)"), 0, d) for label, _, d in steps]
    for label, rate, duration in steps:
        if sqlite:
            issue_rate = cycle_rate = rate
            offered = rate * 4
        else:
            issue_rate = cycle_rate = rate / 4
            offered = rate
        workers = [server_pid, *_children(server_pid)]
        pg, redis = _pids_named("postgres"), _pids_named("redis-server")
        c0 = {
            "web": _cpu_seconds(workers),
            "postgres": _cpu_seconds(pg),
            "redis": _cpu_seconds(redis),
        }
        g0 = time.process_time()
        step = Step()
        if args.mix == "closed":
            t0, t1, t2 = await load.run_closed(
                kiosks_per_hall=args.kiosks, duration=duration, step=step
            )
        else:
            t0, t1, t2 = await load.run_step(
                issue_rate=issue_rate,
                cycle_rate=cycle_rate,
                duration=duration,
                step=step,
                floor=args.mix == "floor",
            )
        wall = t2 - t0
        cpu = {
            "web": (_cpu_seconds(workers) - c0["web"]) / wall,
            "postgres": (_cpu_seconds(_pids_named("postgres")) - c0["postgres"]) / wall,
            "redis": (_cpu_seconds(_pids_named("redis-server")) - c0["redis"]) / wall,
            "generator": (time.process_time() - g0) / wall,
        }
        if sqlite:
            cpu.pop("postgres")
            cpu.pop("redis")
        res = report_step(label, offered, step, t0, t1, t2, cpu)
        if label != "warm-up":
            results.append(res)
        if load.sent > args.max_requests:
            print(f"stopping: {load.sent} requests sent (limit {args.max_requests})")
            break
        await asyncio.sleep(2)
    print(f"\nconnections opened: {pool.opened}")
    return results


def stop_server(server) -> None:
    """SIGTERM (a graceful gunicorn shutdown), then SIGKILL after 30 s."""
    if server is None or server.poll() is not None:
        return
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def run(cmd, env, **kw):
    return subprocess.run(cmd, cwd=ROOT, env=env, check=True, **kw)


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "_setup":
        halls, backlog, seed = map(int, sys.argv[2:5])
        print("SETUP-JSON " + json.dumps(django_setup(halls, backlog, seed)))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sqlite", action="store_true", help="the embedded default (SQLite)")
    parser.add_argument("--halls", type=int, default=None, help="20 (PostgreSQL), 1 (SQLite)")
    parser.add_argument("--rates", default=None, help="100,200,300,500 (PostgreSQL), 20 (SQLite)")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds per step")
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--backlog", type=int, default=150, help="waiting tickets per hall")
    parser.add_argument(
        "--layout",
        choices=("wsgi", "asgi"),
        default="wsgi",
        help="wsgi: the web tier (gthread); asgi: uvicorn workers for everything (PostgreSQL)",
    )
    parser.add_argument(
        "--mix",
        choices=("hall", "floor", "closed"),
        default="hall",
        help="hall: issue / call-next / start / finish, open loop; floor: GET /healthz/ and one "
        "hall's counters (what any Django request costs on this layout, for comparison); "
        "closed: every clerk and --kiosks kiosks per hall send back to back (closed loop; "
        "--rates only labels the steps)",
    )
    parser.add_argument("--kiosks", type=int, default=4, help="kiosks per hall (--mix closed)")
    parser.add_argument("--workers", type=int, default=2, help="server processes (PostgreSQL)")
    parser.add_argument(
        "--threads", type=int, default=None, help="WEB_THREADS (--layout wsgi); default: its conf"
    )
    parser.add_argument(
        "--db-name", default=BENCH_DB, help="the PostgreSQL database, dropped and created"
    )
    parser.add_argument("--max-requests", type=int, default=200_000, help="hard stop")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument(
        "--env", action="append", default=[], help="extra server env KEY=VALUE (repeatable)"
    )
    parser.add_argument("--json", help="write the step results here as JSON")
    parser.add_argument("--log", help="copy the server log here")
    args = parser.parse_args()
    args.halls = args.halls or (1 if args.sqlite else 20)
    args.rates = [
        float(r) for r in (args.rates or ("20" if args.sqlite else "100,200,300,500")).split(",")
    ]
    if args.duration > MAX_DURATION_S or any(r <= 0 or r > MAX_RATE for r in args.rates):
        parser.error(f"duration <= {MAX_DURATION_S:g} s and 0 < rate <= {MAX_RATE:g}")

    var_dir = Path(tempfile.mkdtemp(prefix="hallq-bench-"))
    env = {k: v for k, v in os.environ.items()}
    for k in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "ALLOWED_HOSTS", "DJANGO_SETTINGS_MODULE"):
        env.pop(k, None)
    env["HALLQ_VAR_DIR"] = str(var_dir)
    if not args.sqlite:
        env.update(
            SECRET_KEY="http-bench-not-a-secret-" + "x" * 40,
            ALLOWED_HOSTS="127.0.0.1,localhost",
            DATABASE_URL=f"postgres://{PG['user']}@{PG['host']}:{PG['port']}/{args.db_name}",
            REDIS_URL=REDIS_URL,
            SECURE_SSL_REDIRECT="0",
        )
    for kv in args.env:
        k, _, v = kv.partition("=")
        env[k] = v
    pg_cli = ["-h", PG["host"], "-p", PG["port"], "-U", PG["user"]]
    server = None
    log_path = var_dir / "server.log"
    try:
        print(f"python {platform.python_version()}, nproc {os.cpu_count()}, load {os.getloadavg()}")
        if not args.sqlite:
            run(["dropdb", *pg_cli, "--if-exists", args.db_name], env)
            run(["createdb", *pg_cli, args.db_name], env)
        run([PY, "manage.py", "migrate", "--no-input", "-v", "0"], env)
        t = time.monotonic()
        out = run(
            [PY, __file__, "_setup", str(args.halls), str(args.backlog), str(args.seed)],
            env,
            capture_output=True,
            text=True,
        ).stdout
        halls = json.loads(out.split("SETUP-JSON ", 1)[1])["halls"]
        n_counters = sum(len(h["counters"]) for h in halls)
        print(
            f"setup: {len(halls)} halls, {n_counters} open counters, {args.backlog} waiting "
            f"per hall ({time.monotonic() - t:.1f} s)"
        )
        port = _free_port()
        if args.sqlite:
            cmd = [PY, "-m", "uvicorn", "config.asgi:application", "--host", HOST]
            cmd += ["--port", str(port), "--no-access-log", "--timeout-keep-alive", "5"]
        elif args.layout == "wsgi":
            env.update(BIND=f"{HOST}:{port}", WEB_CONCURRENCY=str(args.workers))
            if args.threads:
                env["WEB_THREADS"] = str(args.threads)
            cmd = [PY, "-m", "gunicorn", "config.wsgi:application", "-c", "deploy/gunicorn.conf.py"]
        else:
            env.update(WS_BIND=f"{HOST}:{port}", WS_CONCURRENCY=str(args.workers))
            cmd = [PY, "-m", "gunicorn", "config.asgi:application"]
            cmd += ["-c", "deploy/gunicorn_ws.conf.py"]
        print(f"server ({'sqlite' if args.sqlite else args.layout}): " + " ".join(cmd))
        with open(log_path, "wb") as log:
            server = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        _wait_for(port, server)
        results = asyncio.run(drive(args, port, halls, server.pid, args.sqlite))
        text = log_path.read_text(errors="replace")
        locked = len(re.findall(r"database is locked", text))
        tracebacks = text.count("Traceback")
        print(f"server log: {tracebacks} tracebacks, {locked} 'database is locked'")
        if args.json:
            Path(args.json).write_text(
                json.dumps({"results": results, "log_locked": locked, "tracebacks": tracebacks})
            )
    finally:
        stop_server(server)
        if log_path.exists() and args.log:
            shutil.copy(log_path, args.log)
        if log_path.exists():
            tail = log_path.read_text(errors="replace").splitlines()[-5:]
            print("server log tail:\n  " + "\n  ".join(tail))
        if not args.sqlite and not args.keep_db:
            subprocess.run(["dropdb", *pg_cli, "--if-exists", args.db_name], env=env, check=False)
        shutil.rmtree(var_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
