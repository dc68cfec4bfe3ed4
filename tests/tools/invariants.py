"""What must hold after a hammer run, read back from the database and the workers' records.

``hammer_violations`` returns {problem: [examples]}; an empty dict means the run was clean. It is
called in-process by the PostgreSQL tests and through ``python -m tests.tools.hammer check`` by the
SQLite ones (whose test process is configured for another database).
"""

from __future__ import annotations

from collections import Counter as Tally
from collections import defaultdict

from django.db.models import Count

from counters.models import ClerkSession, Counter, CounterState, Interruption
from hall.models import AuditEvent, EventKind, Hall
from queueing.models import ACTIVE_STATUSES, Status, Ticket
from queueing.numbering import format_number

EXAMPLES = 10  # per problem, enough to debug without drowning the report

# A ticket's life as its audit events tell it: event → (states it may follow, state after).
# "called" only follows "waiting": a second call without a transfer in between is a double call.
_LIFE = {
    EventKind.TICKET_ISSUED: ({None}, Status.WAITING),
    EventKind.TICKET_CALLED: ({Status.WAITING}, Status.CALLED),
    EventKind.TICKET_RECALLED: ({Status.CALLED}, Status.CALLED),
    EventKind.TICKET_STARTED: ({Status.CALLED}, Status.SERVING),
    EventKind.TICKET_DONE: ({Status.SERVING}, Status.DONE),
    EventKind.TICKET_NO_SHOW: ({Status.CALLED}, Status.NO_SHOW),
    EventKind.TICKET_TRANSFERRED: ({Status.CALLED, Status.SERVING}, Status.WAITING),
    # Issue 16: back to the front of the queue, waiting again (then called once more).
    EventKind.TICKET_REQUEUED: ({Status.CALLED, Status.SERVING}, Status.WAITING),
}
_AT_A_COUNTER = {
    EventKind.TICKET_RECALLED,
    EventKind.TICKET_STARTED,
    EventKind.TICKET_DONE,
    EventKind.TICKET_NO_SHOW,
    EventKind.TICKET_TRANSFERRED,
    EventKind.TICKET_REQUEUED,
}


def hammer_violations(*, hall_code: str, records: list[dict], drained: bool = True) -> dict:
    problems: dict[str, list] = defaultdict(list)
    records = [r for r in records if not r.get("summary")]
    hall = Hall.objects.get(code=hall_code)
    tickets = {t.pk: t for t in Ticket.objects.filter(hall=hall)}

    for record in records:
        if not record["ok"]:
            key = "database_locked" if record.get("locked") else "worker_errors"
            problems[key].append(f"{record['w']} {record['op']}: {record['err']}")

    _numbers(hall, tickets, problems)
    _accounted_for(tickets, records, problems)
    _lives(hall, tickets, records, problems)
    _counters(hall, problems)
    _live_seq(hall, problems)
    if drained:
        _drained(hall, tickets, problems)
    return {problem: examples[:EXAMPLES] for problem, examples in problems.items() if examples}


def _live_seq(hall, problems) -> None:
    """Every audit event has its own live seq, 1..N without a gap: displays read a gap as a lost
    message, so a hole here would make every display resync for nothing."""
    seqs = sorted(AuditEvent.objects.filter(hall=hall).values_list("seq", flat=True))
    if seqs != list(range(1, len(seqs) + 1)):
        missing = sorted(set(range(1, len(seqs) + 1)) - set(seqs))
        problems["live_seq_not_consecutive"].append(
            {"events": len(seqs), "first": seqs[:3], "last": seqs[-3:], "missing": missing[:20]}
        )


def _numbers(hall, tickets, problems) -> None:
    """Invariant 2: unique numbers per hall, prefix and service date; and none skipped."""
    duplicates = (
        Ticket.objects.filter(hall=hall)
        .values("prefix", "service_date", "sequence")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    )
    problems["duplicate_numbers"] += [dict(d) for d in duplicates]
    by_day = Tally((t.service_date, t.number) for t in tickets.values())
    problems["duplicate_numbers"] += [key for key, n in by_day.items() if n > 1]
    sequences = defaultdict(list)
    for t in tickets.values():
        sequences[t.prefix, t.service_date].append(t.sequence)
        if t.number != format_number(t.prefix, t.sequence):
            problems["malformed_numbers"].append(f"#{t.pk}: {t.number} ≠ {t.prefix}{t.sequence}")
    for (prefix, day), values in sequences.items():
        if sorted(values) != list(range(1, len(values) + 1)):
            problems["numbers_skipped"].append(f"{prefix} {day}: {len(values)} tickets")


def _accounted_for(tickets, records, problems) -> None:
    """Every ticket an issuer was given exists, once; no ticket exists that nobody issued."""
    issued = [r["t"] for r in records if r.get("op") == "issue" and r["ok"]]
    problems["issued_twice"] += [t for t, n in Tally(issued).items() if n > 1]
    problems["issued_but_missing"] += sorted(set(issued) - tickets.keys())
    problems["never_issued_by_a_worker"] += sorted(tickets.keys() - set(issued))


def _lives(hall, tickets, records, problems) -> None:
    """Invariants 1 and 4 from the audit log: each ticket's events form a legal life, called at
    most once per stay in the queue and only acted on by the counter that called it; its row
    agrees with the log; and the callers saw exactly the calls the log recorded."""
    events = defaultdict(list)
    for event in (
        AuditEvent.objects.filter(hall=hall, ticket_id__isnull=False)
        .order_by("id")
        .values_list("ticket_id", "kind", "counter_id")
    ):
        events[event[0]].append(event[1:])

    seen_calls = Tally(r["t"] for r in records if r["op"] == "call_next" and r["ok"] and r["t"])
    for pk, ticket in tickets.items():
        state, at, calls, transfers, requeues = None, None, 0, 0, 0
        for kind, counter_id in events[pk]:
            allowed, after = _LIFE.get(kind, (set(), None))
            if state not in allowed:
                key = "called_twice" if kind == EventKind.TICKET_CALLED else "illegal_transitions"
                problems[key].append(
                    f"{ticket.number} #{pk}: {kind} by counter {counter_id} while {state} "
                    f"at counter {at}"
                )
            elif kind in _AT_A_COUNTER and counter_id != at:
                problems["acted_on_by_another_counter"].append(
                    f"{ticket.number} #{pk}: {kind} by counter {counter_id}, called by {at}"
                )
            calls += kind == EventKind.TICKET_CALLED
            transfers += kind == EventKind.TICKET_TRANSFERRED
            requeues += kind == EventKind.TICKET_REQUEUED
            state = after
            at = counter_id if kind == EventKind.TICKET_CALLED else at
        issued = sum(kind == EventKind.TICKET_ISSUED for kind, _ in events[pk])
        if issued != 1:
            problems["not_one_issue_event"].append(f"{ticket.number} #{pk}: {issued}")
        if calls > 1 + ticket.transfer_count + requeues or transfers != ticket.transfer_count:
            problems["called_twice"].append(
                f"{ticket.number} #{pk}: called {calls}×, transferred {transfers}× "
                f"(row says {ticket.transfer_count}), sent back to the queue {requeues}×"
            )
        if seen_calls[pk] != calls:
            problems["calls_seen_by_callers_differ_from_log"].append(
                f"{ticket.number} #{pk}: callers saw {seen_calls[pk]}, log has {calls}"
            )
        if ticket.status != state:
            problems["row_disagrees_with_log"].append(
                f"{ticket.number} #{pk}: row {ticket.status}, log {state}"
            )
        elif state in (Status.CALLED, Status.SERVING, Status.DONE, Status.NO_SHOW) and (
            ticket.counter_id != at
        ):
            problems["row_disagrees_with_log"].append(
                f"{ticket.number} #{pk}: row at counter {ticket.counter_id}, log at {at}"
            )


def _counters(hall, problems) -> None:
    """Invariant 1 for counters: one called/serving ticket, one greeted and one attended each."""
    active = (
        Ticket.objects.filter(hall=hall, status__in=ACTIVE_STATUSES)
        .values("counter")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    )
    problems["counter_with_two_active_tickets"] += [dict(a) for a in active]
    slots = (
        Ticket.objects.filter(hall=hall, window_slot__isnull=False)
        .values("window_counter", "window_slot")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    )
    problems["window_slot_held_twice"] += [dict(s) for s in slots]
    stray = Ticket.objects.filter(hall=hall, window_slot__isnull=False).exclude(
        status=Status.WAITING
    )
    problems["window_slot_on_a_ticket_not_waiting"] += list(stray.values_list("number", flat=True))


def _drained(hall, tickets, problems) -> None:
    """After the callers drained the queue and closed: nobody left waiting, nothing left open."""
    left = Tally(
        t.status for t in tickets.values() if t.status not in (Status.DONE, Status.NO_SHOW)
    )
    problems["tickets_left_unserved"] += [
        f"{t.number} #{t.pk} {t.status} lane={t.lane} type={t.business_type_id} "
        f"pinned={t.pinned_counter_id} slot={t.window_slot}@{t.window_counter_id}"
        for t in tickets.values()
        if t.status not in (Status.DONE, Status.NO_SHOW)
    ]
    if left:
        problems["tickets_left_unserved"].insert(0, dict(left))
    problems["counters_left_open"] += list(
        Counter.objects.filter(hall=hall)
        .exclude(state=CounterState.CLOSED)
        .values_list("number", flat=True)
    )
    problems["sessions_left_open"] += list(
        ClerkSession.objects.filter(counter__hall=hall, ended_at__isnull=True).values_list(
            "pk", flat=True
        )
    )
    problems["interruptions_left_open"] += list(
        Interruption.objects.filter(counter__hall=hall, ended_at__isnull=True).values_list(
            "pk", flat=True
        )
    )
