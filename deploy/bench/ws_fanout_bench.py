"""Fan-out of live events to lobby displays, on the real process layout, commit to receive.

DESIGN.md's target: >= 1,000 displays connected to one box, commit-to-screen p99 <= 100 ms at
10 events/s, and no message lost.

What it does (everything on 127.0.0.1, every run bounded in time):

1. a fresh PostgreSQL database ``bench_ws_fanout`` (dropped at the end unless ``--keep-db``),
   ``migrate``, then the halls of ``http_bench.py`` (the demo hall, and with ``--halls`` more
   halls with its layout; eight open counters each with a clerk's API token, a kiosk, a backlog
   of waiting tickets) and one display device per hall;
2. the server as production's ws tier runs it: ``gunicorn -c deploy/gunicorn_ws.conf.py``
   (uvicorn workers, ``--workers``) with DATABASE_URL, REDIS_URL, SECRET_KEY and ALLOWED_HOSTS
   set, and ``REDIS_CHANNEL_LAYER`` from ``--layer``;
3. ``--displays`` WebSocket clients (the ``websockets`` library on uvloop, in ``--client-procs``
   processes), spread evenly over the halls, on ``/ws/halls/{code}/display/?token=``. Each
   client offers permessage-deflate, as browsers do, unless ``--no-deflate``;
4. the driver: kiosk issues and clerk call-next, start and finish, one at a time on a fixed
   schedule, ``--rate`` state changes per second in all (round robin over the halls), for
   ``--seconds``. Each writes one audit event, which every lobby display of its hall receives as
   a frame. ``--driver direct`` (the default): the services called in a Django process of their
   own against the same PostgreSQL and Redis; the time taken right after the service returns is
   the commit time (the publish then goes through that process's sender thread, exactly as in a
   web worker). ``--driver http``: the same actions through the HTTP API of the server under
   test (the ws tier answers HTTP too; production sends the API to the web tier); the time
   is when the response is read, which is *after* the commit by the rest of the request
   (frames can arrive before it), so "response-to-receive" under-states;
5. after a drain, from the database: every event's ``seq``, kind, ticket and ``created_at``, so
   each action is tied to its frame's ``seq`` by (hall, ticket, kind).

Commit-to-receive of a frame = when the client read it minus the action's commit time. The same
from the audit row's ``created_at`` (stamped in the transaction, before the frame is built and
the transaction commits) is an upper bound, shown next to it. All ends read one wall clock.

Lost: every client must receive every seq of its hall after its snapshot up to the last one,
in order, once. A missing seq, a duplicate or a resync snapshot (the consumer's answer to a gap)
each count. The client processes report their CPU and event-loop lag, and the whole machine's
busy CPU is shown next to ours, so a client-side bottleneck or a busy box shows.

    .venv/bin/python deploy/bench/ws_fanout_bench.py [--displays 1000] [--rate 10] [--seconds 60]
        [--layer pubsub|core] [--board worker|stream] [--workers 2] [--halls 1] [--client-procs 2]
        [--driver direct|http]
        [--no-deflate] [--env KEY=VALUE ...] [--json out.jsonl] [--log server.log] [--raw f.pickle]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import pickle
import platform
import random
import re
import resource
import select
import shutil
import subprocess
import sys
import tempfile
import time
from array import array
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import http_bench as hb  # noqa: E402 - the sibling benchmark: its setup, HTTP client, /proc tools

ROOT = hb.ROOT
PY = sys.executable
HOST = hb.HOST
BENCH_DB = "bench_ws_fanout"
MAX_SECONDS = 600.0
MAX_RATE = 200.0
MAX_DISPLAYS = 10_000
CONNECT_TIMEOUT_S = 180.0
DRAIN_S = 5.0
EVENT_KIND = {
    "issue": "ticket.issued",
    "call-next": "ticket.called",
    "start": "ticket.started",
    "finish": "ticket.done",
}
# Frames are encoded with "type" then "seq" first (display/publisher.encode, dict order), so
# the client reads both without decoding the whole frame.
HEAD = re.compile(r'\{"type":"([^"]+)","seq":(\d+)')


# --- inside Django (a subprocess with the server's environment) ---------------------------------


def django_setup(halls: int, backlog: int, seed: int) -> dict:
    """http_bench's halls, counters, clerks and backlog, plus a display device per hall."""
    setup = hb.django_setup(halls, backlog, seed)
    from hall.models import DeviceKind, Hall
    from hall.services import device_register

    for h in setup["halls"]:
        hall = Hall.objects.get(code=h["code"])
        _, h["display"] = device_register(hall=hall, kind=DeviceKind.DISPLAY, name="bench lobby")
    return setup


def django_events(codes: list[str]) -> list[list]:
    """Every sequenced audit event of these halls: [code, seq, kind, ticket_id, created_at]."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from hall.models import AuditEvent

    rows = AuditEvent.objects.filter(hall__code__in=codes, seq__isnull=False).values_list(
        "hall__code", "seq", "kind", "ticket_id", "created_at"
    )
    return [[c, s, k, t, at.timestamp()] for c, s, k, t, at in rows]


# --- the display clients (subprocesses: ``_clients``) -------------------------------------------


class Display:
    __slots__ = (
        "hall",
        "snapshot",
        "seqs",
        "times",
        "resyncs",
        "heartbeats",
        "chars",
        "deflate",
        "error",
        "closed",
    )

    def __init__(self, hall: str):
        self.hall = hall
        self.snapshot = None  # the seq of the first snapshot
        self.seqs, self.times = array("q"), array("d")
        self.resyncs: list[tuple[int, int]] = []  # (frames received before it, its seq)
        self.heartbeats = 0
        self.chars = 0  # of the event frames
        self.deflate = False  # permessage-deflate negotiated
        self.error = None
        self.closed = None


async def _display(rec: Display, url: str, deflate: bool, gate: asyncio.Semaphore, connected):
    from websockets.asyncio.client import connect

    try:
        async with gate:
            ws = await connect(
                url,
                compression="deflate" if deflate else None,
                max_size=None,
                ping_interval=None,  # the server pings; the client only answers
                open_timeout=60,
            )
            first = await asyncio.wait_for(ws.recv(), 60)
        head = HEAD.match(first)
        if head is None or head[1] != "snapshot":
            raise RuntimeError(f"first frame is not a snapshot: {first[:120]}")
        rec.snapshot = int(head[2])
        extensions = ws.response.headers.get("Sec-WebSocket-Extensions") or ""
        rec.deflate = "permessage-deflate" in extensions
    except Exception as exc:  # recorded and reported, never fatal to the others
        rec.error = f"{type(exc).__name__}: {exc}"[:200]
        connected()
        return
    connected()
    seqs, times, clock = rec.seqs, rec.times, time.time
    try:
        async for frame in ws:
            at = clock()
            head = HEAD.match(frame)
            if head is None:  # an error frame: say so, and keep listening
                rec.error = frame[:200]
                continue
            kind, seq = head[1], int(head[2])
            if kind == "heartbeat":
                rec.heartbeats += 1
            elif kind == "board":  # the waiting board (display/board.py): not an event frame
                continue
            elif kind == "snapshot":
                rec.resyncs.append((len(seqs), seq))
            else:
                seqs.append(seq)
                times.append(at)
                rec.chars += len(frame)
    except Exception as exc:
        rec.error = f"{type(exc).__name__}: {exc}"[:200]
    rec.closed = ws.close_code


async def _lag_monitor(lags: array, period: float = 0.02):
    loop = asyncio.get_running_loop()
    while True:
        t = loop.time()
        await asyncio.sleep(period)
        lags.append(loop.time() - t - period)


async def clients_main(spec: dict) -> None:
    """Connect, say CONNECTED, wait for "mark" (measurement starts) and "stop" on stdin."""
    loop = asyncio.get_running_loop()
    gate = asyncio.Semaphore(spec["connect_concurrency"])
    recs, tasks = [], []
    pending = sum(n for _, _, n in spec["halls"])
    all_connected = asyncio.Event()

    def connected():
        nonlocal pending
        pending -= 1
        if pending == 0:
            all_connected.set()

    t0 = time.monotonic()
    for code, token, n in spec["halls"]:
        url = f"ws://{HOST}:{spec['port']}/ws/halls/{code}/display/?token={token}"
        for _ in range(n):
            rec = Display(code)
            recs.append(rec)
            tasks.append(asyncio.create_task(_display(rec, url, spec["deflate"], gate, connected)))
    await all_connected.wait()
    failed = sum(1 for r in recs if r.snapshot is None)
    print(f"CONNECTED {len(recs) - failed} {failed} {time.monotonic() - t0:.1f}", flush=True)

    lines: asyncio.Queue = asyncio.Queue()
    fd = sys.stdin.fileno()

    def readable():
        data = os.read(fd, 4096)
        if not data:
            loop.remove_reader(fd)
        for word in (data or b"stop").decode().split():  # end of input: stop
            lines.put_nowait(word)

    loop.add_reader(fd, readable)
    while await lines.get() != "mark":
        pass
    lags = array("d")
    monitor = asyncio.create_task(_lag_monitor(lags))
    cpu0, wall0 = time.process_time(), time.monotonic()
    while await lines.get() != "stop":
        pass
    cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
    monitor.cancel()
    result = {
        "displays": [
            (
                r.hall,
                r.snapshot,
                r.seqs,
                r.times,
                r.resyncs,
                r.heartbeats,
                r.chars,
                r.error,
                r.closed,
            )
            for r in recs
        ],
        "deflate": sum(r.deflate for r in recs),
        "cpu_per_s": cpu / wall,
        "lags": lags,
    }
    Path(spec["out"]).write_bytes(pickle.dumps(result))
    print("DONE", flush=True)


def run_clients(spec_json: str) -> None:
    spec = json.loads(spec_json)
    try:
        import uvloop

        uvloop.run(clients_main(spec))
    except ImportError:
        asyncio.run(clients_main(spec))


# --- the driver: state changes through the HTTP API --------------------------------------------


class HallScript:
    """One hall's rounds: a kiosk issue, then call-next, start and finish on the next counter.

    Business types are drawn like http_bench's kiosk mix, so the backlog keeps every counter fed.
    """

    def __init__(self, hall: dict, seed: int):
        self.hall = hall
        self.rng = random.Random(seed)
        self.names, self.weights = zip(*hb.ISSUE_MIX.items(), strict=True)
        self.counter_i = 0
        self.step = 0  # 0 issue, 1 call-next, 2 start, 3 finish

    def next_action(self) -> tuple[str, dict | None, str | None]:
        """(action, counter, business type)"""
        if self.step == 0:
            return "issue", None, self.rng.choices(self.names, self.weights)[0]
        return (
            ("call-next", "start", "finish")[self.step - 1],
            self.hall["counters"][self.counter_i],
            None,
        )

    def answered(self, action: str, ticket: int | None) -> None:
        """Advance the round; ``ticket`` is the one whose event the action wrote, or None."""
        if action == "issue":
            self.step = 1
        elif ticket is None or action == "finish":  # nobody to call, a failure, or done
            self.step = 0
            self.counter_i = (self.counter_i + 1) % len(self.hall["counters"])
        else:
            self.step += 1


class Schedule:
    """``rate`` actions a second for ``seconds``, round robin over the halls, one at a time."""

    def __init__(self, halls: list[dict], rate: float, seconds: float):
        self.scripts = [HallScript(h, seed=i) for i, h in enumerate(halls)]
        self.rate, self.n = rate, int(rate * seconds)
        self.records, self.errors, self.late = [], [], []
        self.cpu0 = time.process_time()
        self.start = time.monotonic() + 0.05

    def slots(self):
        """Yield (script, action, counter, business type) at each scheduled time; the caller
        reports back with ``done``."""
        for i in range(self.n):
            delay = self.start + i / self.rate - time.monotonic()
            if delay > 0:
                yield delay
            else:
                self.late.append(-delay)
            script = self.scripts[i % len(self.scripts)]
            yield (script, *script.next_action())

    def done(self, script: HallScript, action: str, ticket: int | None, at: float) -> None:
        script.answered(action, ticket)
        if ticket is not None:
            self.records.append((script.hall["code"], EVENT_KIND[action], ticket, at))

    def result(self) -> dict:
        elapsed = time.monotonic() - self.start
        return {
            "records": self.records,
            "errors": self.errors,
            "late": self.late,
            "elapsed": elapsed,
            "cpu_per_s": (time.process_time() - self.cpu0) / elapsed,
        }


async def drive_http(port: int, halls: list[dict], rate: float, seconds: float) -> dict:
    """The actions through the HTTP API; an action's time is when its response is read."""
    pool = hb.Pool(port, limit=4)
    schedule = Schedule(halls, rate, seconds)
    for slot in schedule.slots():
        if isinstance(slot, float):
            await asyncio.sleep(slot)
            continue
        script, action, counter, business_type = slot
        if action == "issue":
            headers = {"Authorization": f"Device {script.hall['kiosk']}"}
            path = f"/api/v1/halls/{script.hall['code']}/tickets/"
            body = {"business_type": business_type}
        else:
            headers = {"Authorization": f"Token {counter['token']}"}
            path, body = f"/api/v1/counters/{counter['id']}/{action}/", None
        try:
            status, payload = await pool.send("POST", path, headers, body)
        except (TimeoutError, OSError, hb.ConnectionLost) as exc:
            schedule.errors.append(f"{action} {type(exc).__name__}")
            schedule.done(script, action, None, time.time())
            continue
        at = time.time()
        answer = json.loads(payload) if status in (200, 201) else {}
        if status not in (200, 201):
            schedule.errors.append(f"{action} {status} {payload[:200]!r}")
        if action == "issue":
            ticket = answer.get("id")
        elif action == "call-next":
            ticket = (answer.get("called") or {}).get("id")  # None: nobody for this counter
        else:
            ticket = (answer.get("ticket") or {}).get("id")
        schedule.done(script, action, ticket, at)
    return schedule.result()


def drive_direct(spec_json: str) -> None:
    """The actions as service calls in this process (``_drive``), against the same database
    and Redis: an action's time is taken as its transaction returns, i.e. right after commit
    (the publish is then handed to this process's sender thread, as in a web worker)."""
    spec = json.loads(spec_json)
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from rest_framework.authtoken.models import Token

    from counters import services as counter_services
    from display.publisher import wait_until_sent
    from hall.auth import device_for_token
    from queueing.services import ticket_issue

    kiosks = {h["code"]: device_for_token(h["kiosk"]) for h in spec["halls"]}
    users = {
        c["id"]: Token.objects.select_related("user").get(key=c["token"]).user
        for h in spec["halls"]
        for c in h["counters"]
    }
    calls = {
        "call-next": lambda **kw: counter_services.counter_call_next(**kw).called,
        "start": counter_services.counter_start,
        "finish": counter_services.counter_finish,
    }
    print("READY", flush=True)
    sys.stdin.readline()  # go
    schedule = Schedule(spec["halls"], spec["rate"], spec["seconds"])
    for slot in schedule.slots():
        if isinstance(slot, float):
            time.sleep(slot)
            continue
        script, action, counter, business_type = slot
        try:
            if action == "issue":
                kiosk = kiosks[script.hall["code"]]
                done = ticket_issue(hall=kiosk.hall, business_type_code=business_type, device=kiosk)
                ticket = done.ticket
            else:
                ticket = calls[action](counter_id=counter["id"], user=users[counter["id"]])
        except Exception as exc:  # a refused action is an error of the run, not of the tool
            schedule.errors.append(f"{action} {type(exc).__name__}: {exc}"[:200])
            ticket = None
        schedule.done(script, action, ticket.pk if ticket is not None else None, time.time())
    wait_until_sent()
    print("DRIVE-JSON " + json.dumps(schedule.result()), flush=True)


# --- measuring ----------------------------------------------------------------------------------


def _box_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    total = sum(fields[:8])
    return (total - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK"), total / os.sysconf(
        "SC_CLK_TCK"
    )


def _web_connections(port: int, pids: list[int]) -> dict[int, int]:
    """Established connections to ``port`` held by each of ``pids`` (from /proc)."""
    owner = {}
    for pid in pids:
        try:
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                link = os.readlink(fd)
                if link.startswith("socket:["):
                    owner[link[8:-1]] = pid
        except OSError:
            pass
    counts = dict.fromkeys(pids, 0)
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            f = line.split()
            if f[3] == "01" and int(f[1].rsplit(":", 1)[1], 16) == port and f[9] in owner:
                counts[owner[f[9]]] += 1
    return counts


def analyse(displays, events, records) -> dict:
    commit = {(code, kind, ticket): at for code, kind, ticket, at in records}
    by_seq = {}  # (code, seq) -> (response time or None, created_at)
    last = {}
    for code, seq, kind, ticket, created in events:
        by_seq[(code, seq)] = (commit.get((code, kind, ticket)), created)
        last[code] = max(last.get(code, 0), seq)
    lat, upper = [], []
    out = {"frames": 0, "missing": 0, "duplicates": 0, "out_of_order": 0, "resyncs": 0}
    out.update(unmatched=0, failed=0, closed_early=0, heartbeats=0, chars=0, with_gaps=0)
    for code, snapshot, seqs, times, resyncs, heartbeats, chars, error, closed in displays:
        if snapshot is None:
            out["failed"] += 1
            continue
        if error or closed is not None:
            out["closed_early"] += 1
        out["heartbeats"] += heartbeats
        out["resyncs"] += len(resyncs)
        out["frames"] += len(seqs)
        out["chars"] += chars
        seen = set(seqs)
        missing = sum(1 for s in range(snapshot + 1, last.get(code, 0) + 1) if s not in seen)
        out["missing"] += missing
        out["duplicates"] += len(seqs) - len(seen)
        out["with_gaps"] += bool(missing or resyncs or len(seqs) != len(seen))
        out["out_of_order"] += sum(1 for a, b in zip(seqs, seqs[1:], strict=False) if b <= a)
        for seq, at in zip(seqs, times, strict=True):
            committed, created = by_seq.get((code, seq), (None, None))
            if committed is None:
                out["unmatched"] += 1
                continue
            lat.append(at - committed)
            upper.append(at - created)
    out["lost"] = out["missing"] + out["duplicates"] + out["resyncs"]
    for name, values in (("latency", lat), ("upper", upper)):
        out[name] = {
            "n": len(values),
            "p50": hb._pct(values, 0.50),
            "p95": hb._pct(values, 0.95),
            "p99": hb._pct(values, 0.99),
            "max": max(values) if values else float("nan"),
            "over_100ms": sum(1 for v in values if v > 0.1),
        }
    return out


# --- orchestration ------------------------------------------------------------------------------


def _read_line(proc, prefix: str, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"client process exited with {proc.returncode}")
        ready, _, _ = select.select([proc.stdout], [], [], 0.5)
        if ready:
            line = proc.stdout.readline().strip()
            if line.startswith(prefix):
                return line
            if line:
                print(f"   client: {line}")
    raise SystemExit(f"no {prefix} from a client process within {timeout:g} s")


def _tell(procs, word: str) -> None:
    for p in procs:
        p.stdin.write(word + "\n")
        p.stdin.flush()


def _spawn(command: str, spec: dict, env: dict) -> subprocess.Popen:
    """This script as a subprocess (``_clients``, ``_drive``), talking over stdin/stdout."""
    return subprocess.Popen(
        [PY, __file__, command, json.dumps(spec)],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


def _split(displays: int, halls: list[dict], procs: int) -> list[list]:
    """Per client process: [code, display token, how many], displays spread evenly."""
    per_hall = [displays // len(halls) + (i < displays % len(halls)) for i in range(len(halls))]
    specs = [[] for _ in range(procs)]
    for i, (hall, n) in enumerate(zip(halls, per_hall, strict=True)):
        for j in range(procs):
            share = n // procs + (j < n % procs)
            if share:
                specs[(i + j) % procs].append([hall["code"], hall["display"], share])
    return specs


def bench(args, env, var_dir: Path) -> dict:
    pg = ["-h", hb.PG["host"], "-p", hb.PG["port"], "-U", hb.PG["user"]]
    hb.run(["dropdb", *pg, "--if-exists", BENCH_DB], env)
    hb.run(["createdb", *pg, BENCH_DB], env)
    hb.run([PY, "manage.py", "migrate", "--no-input", "-v", "0"], env)
    out = hb.run(
        [PY, __file__, "_setup", str(args.halls), str(args.backlog), "7"],
        env,
        capture_output=True,
        text=True,
    ).stdout
    halls = json.loads(out.split("SETUP-JSON ", 1)[1])["halls"]
    port = hb._free_port()
    server_env = {**env, "WS_BIND": f"{HOST}:{port}", "WS_CONCURRENCY": str(args.workers)}
    cmd = [PY, "-m", "gunicorn", "config.asgi:application", "-c", "deploy/gunicorn_ws.conf.py"]
    print(f"server: {' '.join(cmd)}  (WS_CONCURRENCY={args.workers}, layer {args.layer})")
    children, clients, driver, server, worker = [], [], None, None, None
    try:
        log = open(var_dir / "server.log", "wb")  # noqa: SIM115 - closed with the server
        server = subprocess.Popen(cmd, cwd=ROOT, env=server_env, stdout=log, stderr=log)
        if args.board == "worker":  # the Procfile's worker, which computes the boards
            wcmd = [PY, "-m", "celery", "-A", "config", "worker", "--concurrency=1"]
            wcmd += ["--loglevel", "WARNING"]
            print(f"board in the worker: {' '.join(wcmd)}")
            worker = subprocess.Popen(wcmd, cwd=ROOT, env=server_env, stdout=log, stderr=log)
            children.append(worker)
        hb._wait_for(port, server)
        connect_started = time.monotonic()
        for i, spec in enumerate(_split(args.displays, halls, args.client_procs)):
            spec = {
                "port": port,
                "halls": spec,
                "deflate": not args.no_deflate,
                "connect_concurrency": args.connect_concurrency,
                "out": str(var_dir / f"clients{i}.pickle"),
            }
            clients.append(_spawn("_clients", spec, env))
        children += clients
        if args.driver == "direct":
            spec = {"halls": halls, "rate": args.rate, "seconds": args.seconds}
            driver = _spawn("_drive", spec, env)
            children.append(driver)
            _read_line(driver, "READY", 120)
        connected = failed = 0
        for p in clients:
            _, ok, bad, _ = _read_line(p, "CONNECTED", CONNECT_TIMEOUT_S).split()
            connected, failed = connected + int(ok), failed + int(bad)
        connect_s = time.monotonic() - connect_started
        workers = hb._children(server.pid)
        per_worker = _web_connections(port, workers)
        print(
            f"connected {connected} displays ({failed} failed) in {connect_s:.1f} s; "
            f"per web worker: {sorted(per_worker.values())}"
        )
        time.sleep(args.settle)

        watched = {
            "web": [server.pid, *workers],
            "worker": hb._children(worker.pid) + [worker.pid] if worker else [],
            "redis": hb._pids_named("redis-server"),
            "postgres": hb._pids_named("postgres"),
        }
        cpu0 = {k: hb._cpu_seconds(v) for k, v in watched.items()}
        per_worker0 = {w: hb._cpu_seconds([w]) for w in workers}
        wall0, box0 = time.monotonic(), _box_cpu()
        _tell(clients, "mark")
        if args.driver == "http":
            driven = asyncio.run(drive_http(port, halls, args.rate, args.seconds))
        else:
            _tell([driver], "go")
            driven = json.loads(_read_line(driver, "DRIVE-JSON", args.seconds + 120)[11:])
        time.sleep(DRAIN_S)
        wall = time.monotonic() - wall0
        cpu = {k: (hb._cpu_seconds(v) - cpu0[k]) / wall for k, v in watched.items()}
        cpu["web per worker"] = [
            round((hb._cpu_seconds([w]) - per_worker0[w]) / wall, 2) for w in workers
        ]
        cpu["driver"] = driven["cpu_per_s"]
        box = _box_cpu()
        cpu["box busy"] = (box[0] - box0[0]) / wall  # of os.cpu_count() cores, everyone's
        _tell(clients, "stop")
        for p in clients:
            _read_line(p, "DONE", 120)
        loads = [
            pickle.loads((var_dir / f"clients{i}.pickle").read_bytes()) for i in range(len(clients))
        ]
        events = json.loads(
            hb.run(
                [PY, __file__, "_events", ",".join(h["code"] for h in halls)],
                env,
                capture_output=True,
                text=True,
            ).stdout.split("EVENTS-JSON ", 1)[1]
        )
    finally:
        for p in children:
            if p.poll() is None:
                p.kill()
            p.wait()
        hb.stop_server(server)
    displays = [d for load in loads for d in load["displays"]]
    lags = sorted(x for load in loads for x in load["lags"])
    if args.raw:
        raw = {"displays": displays, "events": events, "records": driven["records"]}
        Path(args.raw).write_bytes(pickle.dumps(raw))
    result = analyse(displays, events, driven["records"])
    text = (var_dir / "server.log").read_text(errors="replace")
    result.update(
        label=args.label,
        driver=args.driver,
        layer=args.layer,
        workers=args.workers,
        board=args.board,
        displays=args.displays,
        halls=args.halls,
        deflate_offered=not args.no_deflate,
        deflate=sum(load["deflate"] for load in loads),
        client_procs=args.client_procs,
        connected=connected,
        connect_failed=failed,
        connect_s=connect_s,
        per_worker_connections=sorted(per_worker.values()),
        rate=args.rate,
        seconds=args.seconds,
        events=len(driven["records"]),
        achieved_rate=len(driven["records"]) / driven["elapsed"],
        driver_errors=driven["errors"][:10],
        driver_error_count=len(driven["errors"]),
        late_max=max(driven["late"], default=0.0),
        cpu=cpu,
        client_cpu_per_s=[load["cpu_per_s"] for load in loads],
        client_lag_p99=hb._pct(lags, 0.99),
        client_lag_max=max(lags, default=0.0),
        server_tracebacks=text.count("Traceback"),
        server_log_tail=text.splitlines()[-5:],
    )
    return result


def report(r: dict) -> None:
    lat, up = r["latency"], r["upper"]
    ms = hb._ms
    print(
        f"\n== {r['displays']} displays over {r['halls']} hall(s), layer {r['layer']}, "
        f"{r['workers']} worker(s), board in the {r['board']}, "
        f"permessage-deflate on {r['deflate']} connections, "
        f"{r['client_procs']} client process(es), {r['driver']} driver"
    )
    print(
        f"   events {r['events']} at {r['achieved_rate']:.2f}/s (driver errors "
        f"{r['driver_error_count']}, latest send {ms(r['late_max'])} ms behind schedule)"
    )
    since = "commit" if r["driver"] == "direct" else "response"
    print(
        f"   {since}-to-receive  n={lat['n']}  p50 {ms(lat['p50'])}  p95 {ms(lat['p95'])}  "
        f"p99 {ms(lat['p99'])}  max {ms(lat['max'])} ms  (> 100 ms: {lat['over_100ms']})"
    )
    print(
        f"   created-to-receive p50 {ms(up['p50'])}  p95 {ms(up['p95'])}  p99 {ms(up['p99'])}  "
        f"max {ms(up['max'])} ms (upper bound)"
    )
    print(
        f"   lost {r['lost']} (missing {r['missing']}, duplicates {r['duplicates']}, resync "
        f"snapshots {r['resyncs']}) on {r['with_gaps']} displays; out of order "
        f"{r['out_of_order']}; unmatched frames {r['unmatched']}; failed connects {r['failed']}; "
        f"closed early {r['closed_early']}; {r['chars'] / max(r['frames'], 1):.0f} chars a frame"
    )
    cpu = r["cpu"]
    print(
        f"   cpu-s/s: web {cpu['web']:.2f} {cpu['web per worker']}, celery worker "
        f"{cpu['worker']:.2f}, redis {cpu['redis']:.2f}, "
        f"postgres {cpu['postgres']:.2f}, driver {cpu['driver']:.2f}, clients "
        f"{[round(c, 2) for c in r['client_cpu_per_s']]}; whole box {cpu['box busy']:.2f} "
        f"of {os.cpu_count()}; client loop lag p99 "
        f"{ms(r['client_lag_p99'])} max {ms(r['client_lag_max'])} ms"
    )
    print(
        f"   connected {r['connected']} in {r['connect_s']:.1f} s, per worker "
        f"{r['per_worker_connections']}; server log: {r['server_tracebacks']} tracebacks"
    )


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "_setup":
        print("SETUP-JSON " + json.dumps(django_setup(*map(int, sys.argv[2:5]))))
        return
    if len(sys.argv) > 1 and sys.argv[1] == "_events":
        print("EVENTS-JSON " + json.dumps(django_events(sys.argv[2].split(","))))
        return
    if len(sys.argv) > 1 and sys.argv[1] == "_clients":
        run_clients(sys.argv[2])
        return
    if len(sys.argv) > 1 and sys.argv[1] == "_drive":
        drive_direct(sys.argv[2])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--displays", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=10.0, help="events per second, in all")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--layer", choices=["pubsub", "core"], default="pubsub")
    parser.add_argument("--workers", type=int, default=2, help="WS_CONCURRENCY")
    parser.add_argument(
        "--driver",
        choices=["direct", "http"],
        default="direct",
        help="service calls in a driver process (commit time exact) or the HTTP API",
    )
    parser.add_argument("--halls", type=int, default=1, help="displays and events spread over")
    parser.add_argument(
        "--client-procs", type=int, default=2, help="one process's event loop delays its own reads"
    )
    parser.add_argument("--no-deflate", action="store_true", help="clients offer no compression")
    parser.add_argument("--connect-concurrency", type=int, default=50, help="per client process")
    parser.add_argument(
        "--settle", type=float, default=3.0, help="seconds between connect and load"
    )
    parser.add_argument("--backlog", type=int, default=150, help="waiting tickets per hall")
    parser.add_argument(
        "--board",
        choices=["worker", "stream"],
        default="stream",
        help="the board computed in the ws tier (the default) or by a Celery worker",
    )
    parser.add_argument("--env", action="append", default=[], help="server env KEY=VALUE")
    parser.add_argument("--label", default="")
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument("--log", help="copy the server log here")
    parser.add_argument("--raw", help="pickle every frame's seq and time, and the events, here")
    parser.add_argument("--json", help="append the result as one JSON line to this file")
    args = parser.parse_args()
    if not (0 < args.seconds <= MAX_SECONDS and 0 < args.rate <= MAX_RATE):
        parser.error(f"0 < --seconds <= {MAX_SECONDS:g} and 0 < --rate <= {MAX_RATE:g}")
    if not (0 < args.displays <= MAX_DISPLAYS) or args.halls < 1 or args.client_procs < 1:
        parser.error(f"0 < --displays <= {MAX_DISPLAYS}, --halls >= 1, --client-procs >= 1")

    # 1,000+ sockets on each side: lift the soft limit on open files (children inherit it).
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    var_dir = Path(tempfile.mkdtemp(prefix="hallq-wsbench-"))
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE",)}
    env.update(
        SECRET_KEY="ws-fanout-bench-not-a-secret-" + "x" * 40,
        ALLOWED_HOSTS="127.0.0.1,localhost",
        DATABASE_URL=f"postgres://{hb.PG['user']}@{hb.PG['host']}:{hb.PG['port']}/{BENCH_DB}",
        REDIS_URL=hb.REDIS_URL,
        REDIS_CHANNEL_LAYER=args.layer,
        SECURE_SSL_REDIRECT="0",
        HALLQ_VAR_DIR=str(var_dir),
        DISPLAY_BOARD_WORKER="1" if args.board == "worker" else "0",
    )
    env.update(kv.split("=", 1) for kv in args.env)
    print(
        f"python {platform.python_version()}, nproc {os.cpu_count()}, "
        f"load {os.getloadavg()}, open files {hard}"
    )
    try:
        result = bench(args, env, var_dir)
        report(result)
        if args.json:
            with open(args.json, "a") as f:
                f.write(json.dumps(result) + "\n")
    finally:
        if args.log and (var_dir / "server.log").exists():
            shutil.copy(var_dir / "server.log", args.log)
        if not args.keep_db:
            pg = ["-h", hb.PG["host"], "-p", hb.PG["port"], "-U", hb.PG["user"]]
            subprocess.run(["dropdb", *pg, "--if-exists", BENCH_DB], env=env, check=False)
        shutil.rmtree(var_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
