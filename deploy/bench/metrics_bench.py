"""What one computation of the wall's metrics costs on a busy hall (issue 7, item 1).

Builds one busy hall in a scratch database: 20 counters (16 open: 14 serving, 2 idle; 2 paused;
2 closed), 6 business types, 24 clerks, ``--tickets`` tickets today (default 1,500) issued from
08:30 to 15:00 local time (most done, some no-shows, cancellations, transfers, 45 waiting),
14 days of history before it (for the wait forecast's service statistics), 600 ratings,
30 complaints, one open incident, two open alerts. Then computes
``display.wall.metrics.hall_metrics`` at 15:00 and reports the queries per computation and the
time per computation, with the forecast's per-hall history cache warm (every push but the first
in 10 minutes) and cold.

    .venv/bin/python deploy/bench/metrics_bench.py                 # SQLite, a temporary file
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/metrics \\
        .venv/bin/python deploy/bench/metrics_bench.py             # PostgreSQL (database created)

Results: deploy/bench/results/metrics.md.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def _ensure_postgres_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1].split("?")[0]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def build_hall(*, tickets: int, now: datetime.datetime, seed: int = 7):
    from django.contrib.auth import get_user_model

    from counters.models import (
        Counter,
        CounterState,
        Interruption,
        SatisfactionRating,
    )
    from hall.models import BusinessType, Incident, Role, StaffMembership
    from hall.services import hall_create
    from queueing.models import Status, Ticket
    from recovery.alerts import alert_raise
    from recovery.models import Complaint

    rng = random.Random(seed)
    code = f"bench{int(time.time())}"
    hall = hall_create(code=code, name="压测营业厅", opens_at="08:30", closes_at="18:00")
    types = [
        BusinessType.objects.create(
            hall=hall,
            code=f"t{i}",
            prefix=chr(ord("A") + i),
            name_zh=f"业务{i}",
            name_en=f"Business {i}",
            expected_service_minutes=3 + 2 * i,
        )
        for i in range(6)
    ]
    User = get_user_model()
    clerks = []
    for i in range(24):
        user = User.objects.create_user(username=f"{code}-clerk{i}", first_name=f"员工{i}")
        StaffMembership.objects.create(user=user, hall=hall, role=Role.CLERK)
        clerks.append(user)
    counters = []
    for n in range(1, 21):
        if n <= 16:
            state = CounterState.OPEN
        elif n <= 18:
            state = CounterState.PAUSED
        else:
            state = CounterState.CLOSED
        c = Counter.objects.create(
            hall=hall,
            number=n,
            state=state,
            clerk=clerks[n - 1] if state != CounterState.CLOSED else None,
            state_changed_at=now - datetime.timedelta(hours=6),
        )
        c.business_types.set(rng.sample(types, 3))
        counters.append(c)
    for c in counters[16:18]:
        Interruption.objects.create(
            counter=c,
            clerk=c.clerk,
            reason="break",
            apology_zh="暂停",
            apology_en="Paused",
            started_at=now - datetime.timedelta(minutes=rng.randint(1, 25)),
        )

    local = now.astimezone(hall.tz)
    day_start = local.replace(hour=8, minute=30, second=0, microsecond=0)
    span = (local - day_start).total_seconds()
    rows, sequence = [], {}

    def ticket(service_date, issued, status, bt, **kw):
        sequence[(bt.prefix, service_date)] = sequence.get((bt.prefix, service_date), 0) + 1
        n = sequence[(bt.prefix, service_date)]
        return Ticket(
            hall=hall,
            business_type=bt,
            prefix=bt.prefix,
            sequence=n,
            number=f"{bt.prefix}{n:03d}",
            service_date=service_date,
            status=status,
            issued_at=issued,
            public_token=f"{code}-{bt.prefix}-{service_date}-{n}",
            **kw,
        )

    # 14 days of history, 300 a day: the forecast's service statistics read them.
    for days_back in range(1, 15):
        date = local.date() - datetime.timedelta(days=days_back)
        base = day_start - datetime.timedelta(days=days_back)
        for _ in range(300):
            bt = rng.choice(types)
            issued = base + datetime.timedelta(seconds=rng.uniform(0, 9 * 3600))
            called = issued + datetime.timedelta(seconds=rng.expovariate(1 / 600))
            finished = called + datetime.timedelta(seconds=rng.expovariate(1 / 300) + 30)
            rows.append(
                ticket(
                    date,
                    issued,
                    Status.DONE,
                    bt,
                    called_at=called,
                    started_at=called,
                    finished_at=finished,
                    counter=rng.choice(counters[:16]),
                    clerk=rng.choice(clerks),
                )
            )
    serving = {c.pk: c for c in counters[:14]}
    waiting = 45
    today = []
    for i in range(tickets):
        bt = rng.choice(types)
        issued = day_start + datetime.timedelta(seconds=span * i / tickets)
        if i >= tickets - waiting:
            today.append(ticket(local.date(), issued, Status.WAITING, bt))
            continue
        called = min(issued + datetime.timedelta(seconds=rng.expovariate(1 / 600)), now)
        finished = min(called + datetime.timedelta(seconds=rng.expovariate(1 / 300) + 30), now)
        c = rng.choice(counters[:16])
        roll = rng.random()
        status = Status.DONE
        if roll < 0.03:
            status = Status.NO_SHOW
        elif roll < 0.045:
            status, called = Status.CANCELLED, None
        kw = {"transfer_count": 1 if rng.random() < 0.02 else 0}
        if called is not None:
            kw.update(called_at=called, counter=c, clerk=c.clerk, finished_at=finished)
            if status == Status.DONE:
                kw["started_at"] = called
        else:
            kw["finished_at"] = issued + datetime.timedelta(minutes=5)
        today.append(ticket(local.date(), issued, status, bt, **kw))
    # One called/serving ticket per serving counter: the last done ones become serving.
    for t, c in zip(
        [t for t in reversed(today) if t.status == Status.DONE], serving.values(), strict=False
    ):
        t.status, t.counter, t.clerk, t.finished_at = Status.SERVING, c, c.clerk, None
    rows += today
    Ticket.objects.bulk_create(rows, batch_size=1000)
    done_today = list(
        Ticket.objects.filter(hall=hall, service_date=local.date(), status=Status.DONE)[:600]
    )
    SatisfactionRating.objects.bulk_create(
        SatisfactionRating(
            ticket=t,
            hall=hall,
            counter_id=t.counter_id,
            clerk_id=t.clerk_id,
            rating=rating,
            score={"very_satisfied": 100, "satisfied": 80, "dissatisfied": 0}[rating],
            service_date=local.date(),
            rated_at=t.finished_at,
        )
        for t in done_today
        for rating in [rng.choice(["very_satisfied", "satisfied", "satisfied", "dissatisfied"])]
    )
    for i in range(30):
        received = now - datetime.timedelta(minutes=rng.randint(10, 600))
        replied = i % 3 != 0
        Complaint.objects.create(
            hall=hall,
            owner=clerks[i % len(clerks)],
            category="billing",
            description="…",
            received_at=received,
            callback_due_at=received + datetime.timedelta(hours=2),
            status="replied" if replied else "open",
            replied_at=received + datetime.timedelta(minutes=rng.randint(5, 180))
            if replied
            else None,
        )
    incident = Incident.objects.create(
        hall=hall,
        kind="printer",
        apology_zh="打印机故障",
        apology_en="Printer fault",
        reporter=clerks[0],
        opened_at=now - datetime.timedelta(minutes=20),
    )
    incident.business_types.set(types[:2])
    for t in types[:2]:
        alert_raise(
            hall=hall, kind="many_waiting", subject=f"bt:{t.code}", message_zh="x", message_en="x"
        )
    return hall


def measure(hall, now, runs: int) -> dict:
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from display.wall.metrics import hall_metrics

    hall_metrics(hall=hall, now=now)  # warm connections and the history cache
    with CaptureQueriesContext(connection) as warm_queries:
        metrics = hall_metrics(hall=hall, now=now)
    warm, warm_cpu = [], []
    for _ in range(runs):
        started, cpu = time.perf_counter(), time.process_time()
        hall_metrics(hall=hall, now=now)
        warm.append((time.perf_counter() - started) * 1000)
        warm_cpu.append((time.process_time() - cpu) * 1000)
    cold = []
    for _ in range(max(3, runs // 5)):
        cache.clear()
        started = time.perf_counter()
        with CaptureQueriesContext(connection) as cold_queries:
            hall_metrics(hall=hall, now=now)
        cold.append((time.perf_counter() - started) * 1000)
    return {
        "metrics": metrics,
        "queries_warm": len(warm_queries.captured_queries),
        "queries_cold": len(cold_queries.captured_queries),
        "warm_ms": warm,
        "warm_cpu_ms": warm_cpu,
        "cold_ms": cold,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=1500)
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()

    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("postgres"):
        _ensure_postgres_database(url)
    else:
        var = tempfile.mkdtemp(prefix="metrics-bench-")
        os.environ["HALLQ_VAR_DIR"] = var
        os.environ["DATABASE_URL"] = f"sqlite:///{var}/bench.sqlite3"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    settings.DEBUG = False
    call_command("migrate", verbosity=0)

    now = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    # 15:00 in the hall's timezone today (Asia/Shanghai, UTC+8): a busy afternoon.
    now = now.replace(hour=7, minute=0, second=0)
    started = time.perf_counter()
    hall = build_hall(tickets=args.tickets, now=now)
    built = time.perf_counter() - started
    result = measure(hall, now, args.runs)

    m = result["metrics"]
    warm, cold = sorted(result["warm_ms"]), sorted(result["cold_ms"])
    p90 = warm[int(0.9 * (len(warm) - 1))]
    print(f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs")
    print(f"database: {connection.vendor} ({connection.settings_dict['NAME']})")
    print(
        f"hall: {m['today']['issued']} tickets today, {len(m['counters']['list'])} counters, "
        f"{len(m['clerks'])} clerks, {m['waiting']['total']} waiting "
        f"(built in {built:.1f} s)"
    )
    print(
        f"queries per computation: {result['queries_warm']} (history cache warm), "
        f"{result['queries_cold']} (cold)"
    )
    print(
        f"time per computation, warm, {len(warm)} runs: median {statistics.median(warm):.1f} ms, "
        f"p90 {p90:.1f} ms, min {warm[0]:.1f} ms"
    )
    print(
        f"CPU time of this process per computation, warm: median "
        f"{statistics.median(result['warm_cpu_ms']):.1f} ms (the database server's is not in it)"
    )
    print(f"time per computation, cold, {len(cold)} runs: median {statistics.median(cold):.1f} ms")
    median_s = statistics.median(warm) / 1000
    for every in (2, 5, 30):
        print(
            f"1,000 halls, each pushed every {every:>2} s: "
            f"{1000 * median_s / every:.2f} CPU-seconds per second of metrics work "
            f"({1000 * result['queries_warm'] / every:.0f} queries/s)"
        )


if __name__ == "__main__":
    main()
