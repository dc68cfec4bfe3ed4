"""The concurrency hammer: one process of a crowd that calls and issues tickets in one hall at once.

Run by tests (see ``tests.tools.swarm``), or by hand against any database::

    python -m tests.tools.hammer seed --hall hm --counters 8 --issuers 4 [--migrate]
    python -m tests.tools.hammer work --role caller --counter 3 --ops 300 --hall hm \
        --sync DIR --out DIR/caller-3.jsonl --workers 12 --drain
    python -m tests.tools.hammer work --role issuer --kiosk 1 --ops 250 --hall hm ...
    python -m tests.tools.hammer check --hall hm --records DIR

Django is set up against whatever ``DATABASE_URL`` the process is given, and every operation is a
real service call (``counters.services``, ``queueing.services``), each in its own transaction, so
processes race exactly as web workers do. A caller signs in as its own clerk at its own counter and
loops call-next → start → finish, sometimes recalling, marking a no-show, transferring (to another
business type or counter) or pausing and resuming. An issuer loops ``ticket_issue`` over every lane:
kiosk normal and self-declared priority (elderly, disabled), kiosk VIP with an account number, and
greeter-issued VIP and priority tickets.

Every operation becomes one JSON line in ``--out``: its name, whether it succeeded, its latency, the
ticket concerned and, on failure, the exception text; "database is locked" errors are flagged apart.
The last line is a summary. Processes start together: each writes ``ready.<name>`` into ``--sync``
once set up and waits for the file ``go``. With ``--drain``, callers, after their operations, wait
until every worker has written ``main-done.<name>``, then serve whatever still waits (no transfers
or pauses any more, so nothing new can appear) and close their counter: a run ends with every
ticket either done or a no-show.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

BARRIER_TIMEOUT_S = 180.0
LOCKED = "database is locked"

BUSINESS_TYPES = (
    # code, prefix, Chinese name, English name, expected minutes, issue weight
    ("payment", "A", "缴费", "Bill payment", 3, 4),
    ("topup", "B", "预存", "Top-up", 3, 3),
    ("service", "C", "业务受理", "Service application", 12, 2),
    ("broadband", "D", "宽带", "Broadband", 8, 1),
)
ALL_TYPES = tuple(code for code, *_ in BUSINESS_TYPES)
# Counter number → business types served, VIP behaviour, kind. Any prefix of this list covers every
# business type and lane with some counter that can call it, so a drain leaves nothing waiting.
COUNTERS = (
    (1, ("payment", "topup"), "none", "general"),
    (2, ("payment", "service"), "none", "general"),
    (3, ALL_TYPES, "vip_first", "vip"),
    (4, ("service", "broadband"), "none", "general"),
    (5, ("payment", "topup", "broadband"), "none", "general"),
    (6, ("service", "topup"), "none", "general"),
    (7, ALL_TYPES, "vip_only", "vip"),
    (8, ("payment",), "none", "express"),
)


def clerk_username(hall_code: str, counter_number: int) -> str:
    return f"{hall_code}-clerk{counter_number}"


def greeter_username(hall_code: str, issuer_number: int) -> str:
    return f"{hall_code}-greeter{issuer_number}"


def kiosk_name(issuer_number: int) -> str:
    return f"kiosk {issuer_number}"


def seed_hall(*, code: str, counters: int, issuers: int) -> dict:
    """A hall open all day with four business types, ``counters`` counters (each with its clerk)
    and, per issuer, a kiosk and a greeter. Works in-process (PostgreSQL tests) or as ``seed``."""
    import datetime

    from django.contrib.auth import get_user_model
    from django.db import transaction

    from counters.models import Counter
    from hall.models import BusinessType, Role, StaffMembership
    from hall.services import device_register, hall_create

    if not 1 <= counters <= len(COUNTERS):
        raise ValueError(f"counters must be 1..{len(COUNTERS)}")
    user_model = get_user_model()
    with transaction.atomic():
        hall = hall_create(
            code=code,
            name=f"压力测试厅 {code}",
            opens_at=datetime.time(0, 0),
            closes_at=datetime.time(0, 0),
            # Clerks here recall at machine speed; the cool-down (issue 16) is tested on its own.
            recall_cooldown_seconds=0,
        )
        types = {
            bt_code: BusinessType.objects.create(
                hall=hall,
                code=bt_code,
                prefix=prefix,
                name_zh=name_zh,
                name_en=name_en,
                expected_service_minutes=minutes,
                sort_order=order,
            )
            for order, (bt_code, prefix, name_zh, name_en, minutes, _) in enumerate(BUSINESS_TYPES)
        }
        for number, served, vip_mode, kind in COUNTERS[:counters]:
            counter = Counter.objects.create(hall=hall, number=number, vip_mode=vip_mode, kind=kind)
            counter.business_types.set([types[bt] for bt in served])
            clerk = user_model.objects.create_user(username=clerk_username(code, number))
            StaffMembership.objects.create(user=clerk, hall=hall, role=Role.CLERK)
        for number in range(1, issuers + 1):
            device_register(hall=hall, kind="kiosk", name=kiosk_name(number))
            greeter = user_model.objects.create_user(username=greeter_username(code, number))
            StaffMembership.objects.create(user=greeter, hall=hall, role=Role.GREETER)
    return {"hall": code, "counters": counters, "issuers": issuers}


# --- recording ---------------------------------------------------------------------------------


class Failed:
    """What an operation returns when its service raised."""


FAILED = Failed()


class Recorder:
    """Runs one operation at a time and writes one JSON line per operation."""

    def __init__(self, *, name: str, out, phase: str = "main"):
        self.name, self.out, self.phase = name, out, phase
        self.ops = self.errors = self.locked = 0
        self.latencies: list[float] = []

    def run(self, op: str, fn, /, describe=None, **kwargs) -> Any:
        started = time.perf_counter()
        try:
            result = fn(**kwargs)
        except Exception as exc:  # every failure is recorded; the test decides what it means
            elapsed = (time.perf_counter() - started) * 1000
            text = f"{type(exc).__name__}: {exc}"
            locked = LOCKED in str(exc).lower()
            self.errors += 1
            self.locked += locked
            self._write(op, ok=False, ms=elapsed, err=text[:500], locked=locked)
            return FAILED
        elapsed = (time.perf_counter() - started) * 1000
        self._write(op, ok=True, ms=elapsed, **(describe(result) if describe else {}))
        return result

    def _write(self, op: str, *, ok: bool, ms: float, **fields) -> None:
        self.ops += 1
        self.latencies.append(ms)
        record = {"w": self.name, "phase": self.phase, "op": op, "ok": ok, "ms": round(ms, 2)}
        record.update(fields)
        self.out.write(json.dumps(record, default=str) + "\n")

    def summary(self) -> dict:
        ordered = sorted(self.latencies) or [0.0]

        def pct(p: float) -> float:
            return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))], 2)

        return {
            "summary": True,
            "w": self.name,
            "ops": self.ops,
            "errors": self.errors,
            "locked": self.locked,
            "p50_ms": pct(0.50),
            "p99_ms": pct(0.99),
            "max_ms": round(ordered[-1], 2),
        }


def _ticket(ticket) -> dict:
    return {"t": ticket.pk, "n": ticket.number, "st": ticket.status}


def _window(window) -> dict:
    called, greeted, attended = window.called, window.greeted, window.attended
    return {
        "t": called.pk if called else None,
        "n": called.number if called else None,
        "g": greeted.pk if greeted else None,
        "a": attended.pk if attended else None,
    }


# --- barriers ----------------------------------------------------------------------------------


def _wait_until(predicate, what: str, timeout: float = BARRIER_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited {timeout:.0f} s for {what}")
        time.sleep(0.01)


# --- the two roles -----------------------------------------------------------------------------


class Caller:
    """A clerk at one counter, serving customers as fast as the database lets them."""

    def __init__(self, *, hall, number: int, rng: random.Random, rec: Recorder):
        from django.contrib.auth import get_user_model

        from counters import services
        from counters.models import Counter

        self.services, self.rng, self.rec = services, rng, rec
        self.counter = Counter.objects.get(hall=hall, number=number)
        self.clerk = get_user_model().objects.get(username=clerk_username(hall.code, number))
        # Every counter of the hall is opened by its own caller before the start signal, so any
        # of them is a valid transfer target while the run lasts.
        self.others = {
            c.pk: (c.vip_mode, {bt.code for bt in c.business_types.all()})
            for c in Counter.objects.filter(hall=hall)
            .exclude(pk=self.counter.pk)
            .prefetch_related("business_types")
        }

    def act(self, op: str, fn, describe=None, **kwargs):
        return self.rec.run(
            op, fn, describe=describe, counter_id=self.counter.pk, user=self.clerk, **kwargs
        )

    def open(self) -> None:
        self.act("open", self.services.counter_open)

    def close(self) -> None:
        self.act("close", self.services.counter_close)

    def pause_and_resume(self) -> None:
        reason = self.rng.choice(["phone_call", "fetching_materials", "break"])
        if self.act("pause", self.services.counter_pause, reason=reason) is not FAILED:
            time.sleep(self.rng.uniform(0.0, 0.005))
            self.act("resume", self.services.counter_resume)

    def transfer(self, ticket) -> None:
        """Send the ticket where some other counter of the hall can serve it."""
        code = ticket.business_type.code
        vip = ticket.lane == "vip"
        to_types = [
            other
            for other in ALL_TYPES
            if other != code
            and any(
                other in served and (mode != "vip_only" or vip)
                for mode, served in self.others.values()
            )
        ]
        to_counters = [
            pk
            for pk, (mode, served) in self.others.items()
            if code in served and (mode != "vip_only" or vip)
        ]
        if to_counters and (not to_types or self.rng.random() < 0.5):
            self.act(
                "transfer",
                self.services.counter_transfer,
                describe=_ticket,
                target_counter_id=self.rng.choice(to_counters),
            )
        elif to_types:
            self.act(
                "transfer",
                self.services.counter_transfer,
                describe=_ticket,
                business_type_code=self.rng.choice(to_types),
            )
        else:
            self.serve()

    def serve(self) -> None:
        if self.act("start", self.services.counter_start, describe=_ticket) is not FAILED:
            self.finish()

    def finish(self) -> None:
        outcome = self.rng.choices(
            ["completed", "missing_documents", "follow_up", "declined"], weights=[90, 4, 4, 2]
        )[0]
        self.act("finish", self.services.counter_finish, describe=_ticket, outcome=outcome)

    def settle(self) -> None:
        """After a failure, leave the counter open with nothing active, so the run goes on."""
        from counters.models import CounterState
        from queueing.models import Status

        self.counter.refresh_from_db()
        if self.counter.state == CounterState.PAUSED:
            self.act("resume", self.services.counter_resume)
        active = self.counter.tickets.filter(status__in=[Status.CALLED, Status.SERVING]).first()
        if active is not None and active.status == Status.CALLED:
            self.act("no_show", self.services.counter_no_show, describe=_ticket)
        elif active is not None:
            self.finish()

    def cycle(self) -> None:
        """One customer: call, then the usual course, or one of the things that go wrong."""
        rng = self.rng
        if rng.random() < 0.02:  # a pause with nobody at the counter
            self.pause_and_resume()
        window = self.act("call_next", self.services.counter_call_next, describe=_window)
        if window is FAILED:
            self.settle()
            return
        if window.called is None:  # nobody waits for this counter: idle a moment
            time.sleep(rng.uniform(0.01, 0.03))
            return
        ticket = window.called
        # The clerk must step away while the called customer walks up. Issue 16: a pause is
        # refused while a customer is called; the customer goes back to the front of the queue
        # first (another counter calls them), then the pause.
        if (
            rng.random() < 0.03
            and self.act("requeue", self.services.counter_requeue, describe=_ticket) is not FAILED
        ):
            self.pause_and_resume()
            return
        roll = rng.random()
        if roll < 0.10:  # the customer does not come at once
            for _ in range(rng.randint(1, 2)):
                self.act("recall", self.services.counter_recall)
            if rng.random() < 0.5:
                self.act("no_show", self.services.counter_no_show, describe=_ticket)
            else:
                self.serve()
        elif roll < 0.14:  # wrong queue, noticed at the call
            self.transfer(ticket)
        elif self.act("start", self.services.counter_start, describe=_ticket) is not FAILED:
            if rng.random() < 0.05:  # wrong queue, noticed during service
                self.transfer(ticket)
            else:
                self.finish()

    def drain(self) -> None:
        """Serve what is left until nothing waits that this counter can call, then close."""
        for _ in range(100_000):
            window = self.act("call_next", self.services.counter_call_next, describe=_window)
            if window is FAILED:
                self.settle()
                continue
            if window.called is None:
                break
            self.serve()
        self.close()


class Issuer:
    """A kiosk and a greeter issuing tickets of every lane, as fast as they are served."""

    MIX = (
        # weight, via, lane, priority reasons, with a VIP account
        (60, "kiosk", None, ("",), False),
        (10, "kiosk", "priority", ("elderly", "disabled"), False),
        (5, "kiosk", "vip", ("",), True),
        (10, "greeter", "vip", ("",), False),
        (10, "greeter", "priority", ("elderly", "pregnant", "military", "disabled"), False),
        (5, "greeter", None, ("",), False),
    )

    def __init__(self, *, hall, number: int, rng: random.Random, rec: Recorder, pace_ms: float):
        from django.contrib.auth import get_user_model

        from hall.models import Device
        from queueing.services import ticket_issue

        self.ticket_issue, self.hall, self.rng, self.rec = ticket_issue, hall, rng, rec
        self.pace_s = pace_ms / 1000
        self.kiosk = Device.objects.get(hall=hall, kind="kiosk", name=kiosk_name(number))
        self.greeter = get_user_model().objects.get(username=greeter_username(hall.code, number))

    def issue(self) -> None:
        rng = self.rng
        _, via, lane, reasons, with_account = rng.choices(
            self.MIX, weights=[m[0] for m in self.MIX]
        )[0]
        code = rng.choices(ALL_TYPES, weights=[bt[-1] for bt in BUSINESS_TYPES])[0]
        self.rec.run(
            "issue",
            self.ticket_issue,
            describe=lambda issued: {
                "t": issued.ticket.pk,
                "n": issued.ticket.number,
                "lane": issued.ticket.lane,
                "bt": code,
                "via": via,
            },
            hall=self.hall,
            business_type_code=code,
            lane=lane,
            priority_reason=rng.choice(reasons),
            vip_account=f"VIP{rng.randrange(10**6):06d}" if with_account else "",
            device=self.kiosk if via == "kiosk" else None,
            issued_by=self.greeter if via == "greeter" else None,
        )
        if self.pace_s:
            time.sleep(rng.uniform(0, 2 * self.pace_s))


def work(args: argparse.Namespace) -> int:
    from django.db import connections

    from hall.models import Hall

    sync = Path(args.sync)
    name = f"{args.role}-{args.counter if args.role == 'caller' else args.kiosk}"
    rng = random.Random(f"{args.seed}:{name}")
    with open(args.out, "w", buffering=1, encoding="utf-8") as out:
        rec = Recorder(name=name, out=out, phase="setup")
        hall = Hall.objects.get(code=args.hall)
        if args.role == "caller":
            worker = Caller(hall=hall, number=args.counter, rng=rng, rec=rec)
            worker.open()
        else:
            worker = Issuer(hall=hall, number=args.kiosk, rng=rng, rec=rec, pace_ms=args.pace_ms)
        (sync / f"ready.{name}").touch()
        _wait_until((sync / "go").exists, "the start signal")

        rec.phase = "main"
        started = rec.ops
        while rec.ops - started < args.ops:
            worker.cycle() if args.role == "caller" else worker.issue()
        (sync / f"main-done.{name}").touch()

        if args.role == "caller" and args.drain:
            _wait_until(
                lambda: len(list(sync.glob("main-done.*"))) >= args.workers,
                "every worker to finish its operations",
            )
            rec.phase = "drain"
            worker.drain()
        out.write(json.dumps(rec.summary()) + "\n")
    connections.close_all()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.tools.hammer", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    seed = commands.add_parser("seed", help="create the hall, its counters, clerks and kiosks")
    seed.add_argument("--hall", required=True)
    seed.add_argument("--counters", type=int, required=True)
    seed.add_argument("--issuers", type=int, required=True)
    seed.add_argument("--migrate", action="store_true", help="migrate the database first")

    run = commands.add_parser("work", help="be one caller or issuer")
    run.add_argument("--role", choices=["caller", "issuer"], required=True)
    run.add_argument("--hall", required=True)
    run.add_argument("--counter", type=int, help="caller: the counter number (and its clerk)")
    run.add_argument("--kiosk", type=int, help="issuer: the kiosk and greeter number")
    run.add_argument("--ops", type=int, required=True, help="operations before draining")
    run.add_argument("--sync", required=True, help="directory for the start/drain barriers")
    run.add_argument("--out", required=True, help="JSON lines, one per operation")
    run.add_argument("--workers", type=int, default=0, help="how many workers run (drain barrier)")
    run.add_argument("--drain", action="store_true", help="caller: serve what is left, close")
    run.add_argument("--pace-ms", type=float, default=0.0, help="issuer: mean pause between")
    run.add_argument("--seed", default="0")

    check = commands.add_parser("check", help="print the invariant violations of a run as JSON")
    check.add_argument("--hall", required=True)
    check.add_argument("--records", required=True, help="the directory of *.jsonl records")

    args = parser.parse_args(argv)
    if args.command == "work" and (args.counter if args.role == "caller" else args.kiosk) is None:
        parser.error("a caller needs --counter, an issuer --kiosk")

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    if args.command == "seed":
        if args.migrate:
            from django.core.management import call_command

            call_command("migrate", interactive=False, verbosity=0)
        print(json.dumps(seed_hall(code=args.hall, counters=args.counters, issuers=args.issuers)))
        return 0
    if args.command == "check":
        from tests.tools.invariants import hammer_violations
        from tests.tools.swarm import read_records

        records = read_records(Path(args.records))
        print(json.dumps(hammer_violations(hall_code=args.hall, records=records), default=str))
        return 0
    return work(args)


if __name__ == "__main__":
    sys.exit(main())
