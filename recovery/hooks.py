"""The managers' wait and pause alerts follow the events that can raise or clear them.

Registered on hall's event hook by ``RecoveryConfig.ready``. Inside the locked transaction the
subscriber only notes the event's kind and ids (rows in hand, DESIGN invariant 7); after commit
a cheap test decides whether the check can change anything, and if so the check
(``recovery.tasks.check_hall_alerts`` → ``recovery.alerts.alerts_check``) runs as a Celery task:
at once where Celery is eager (the embedded default), else a moment later, at most one per hall
per ``ALERT_CHECK_DELAY_SECONDS`` (it reads the hall as it is when it runs, so the events in
between are all seen). Beat still runs every hall's check each minute (waits grow without any
event). The wall's stream only reads.
"""

import functools
import threading
import time

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from counters.models import Counter, CounterState
from hall.cache import cache_get, cache_set
from hall.models import EventKind, Hall
from hall.outbox import task_send
from queueing.models import Status, Ticket
from recovery.alerts import CHECKED_KINDS, hall_staffed_today
from recovery.models import ManagerAlert
from recovery.tasks import check_hall_alerts

# An arrival (or a customer put back in the queue) may push its business type past the waiting
# threshold or be the first to wait where no counter is open; a pause (entered with a past start,
# or leaving a business without an open counter), a close (the same) or a transfer (to a longer
# queue) may raise one too: these always lead to a check or a cheap test for one.
RAISING = {
    EventKind.TICKET_ISSUED,
    EventKind.TICKET_REQUEUED,
    EventKind.COUNTER_PAUSED,
    EventKind.COUNTER_CLOSED,
    EventKind.TICKET_TRANSFERRED,
}
# These can only end a condition: checked when the hall has a checked alert open.
CLEARING = {
    EventKind.TICKET_CALLED,
    EventKind.TICKET_CANCELLED,
    EventKind.TICKET_EXPIRED,
    EventKind.COUNTER_RESUMED,
    EventKind.COUNTER_OPENED,
}
# An arrival where no open counter serves its business raises issue 16's alert.
ARRIVING = {EventKind.TICKET_ISSUED, EventKind.TICKET_REQUEUED}


# Per thread (the one that commits runs the callbacks): hall id -> the last event seen of the
# transaction and the notes of its relevant events.
_local = threading.local()


def _pending() -> dict:
    if not hasattr(_local, "halls"):
        _local.halls = {}
    return _local.halls


def alerts_after_event(*, event, ticket=None, counter=None) -> None:
    """The event hook's subscriber (registered after the publishers), inside the transaction:
    note what to test after commit, from the rows in hand.

    Once a transaction has a relevant event, a callback follows each of its events of that hall
    and only the one of the last event acts: the test and the check come after the live frames
    of all the transaction's events, so an ``alert.raised`` never overtakes the event that caused
    it. The events of one transaction in a hall have consecutive seqs: an entry whose next seq
    does not follow belongs to a transaction that was rolled back, and is dropped.
    """
    halls = _pending()
    relevant = event.kind in RAISING or event.kind in CLEARING
    entry = halls.get(event.hall_id)
    if entry is not None and (event.seq is None or event.seq != (entry["last_seq"] or 0) + 1):
        # Not the next event of the transaction noted: that one was rolled back (a committed
        # one takes its entry with it), so its notes go too.
        del halls[event.hall_id]
        entry = None
    if entry is None:
        if not relevant:
            return
        entry = halls[event.hall_id] = {"last_seq": None, "notes": []}
    if relevant:
        business_type_id = ticket.business_type_id if ticket is not None else None
        entry["notes"].append((event.kind, business_type_id, _arrival_figures(event, ticket)))
    entry["last_seq"] = event.seq
    transaction.on_commit(functools.partial(_after_commit, event.hall_id, event.seq))


def _after_commit(hall_id: int, seq: int | None) -> None:
    halls = _pending()
    entry = halls.get(hall_id)
    if entry is None or entry["last_seq"] != seq:
        return  # a later event of the same transaction follows, with its own callback
    del halls[hall_id]
    clearing_tested = False
    for kind, business_type_id, figures in dict.fromkeys(entry["notes"]):
        if kind in CLEARING:  # they all ask the same question: "is a checked alert open?"
            if clearing_tested:
                continue
            clearing_tested = True
        if alert_check_may_change(
            hall_id=hall_id, kind=kind, business_type_id=business_type_id, figures=figures
        ):
            alerts_check_soon(hall_id=hall_id)
            return


def _arrival_figures(event, ticket) -> tuple | None:
    """From the rows in hand, for an issue: (hall, waiting, open counters serving it). The issue
    service read the business type with its people ahead and its open counters (one query,
    queueing.services.ticket_issue), and the new ticket holds it and the hall: the test after
    commit then needs no query. None when they are not in hand (a customer put back)."""
    if event.kind not in ARRIVING or ticket is None:
        return None
    if not (Ticket.hall.is_cached(ticket) and Ticket.business_type.is_cached(ticket)):
        return None
    business_type = ticket.business_type
    ahead, counters_open = (
        getattr(business_type, name, None) for name in ("ahead", "counters_open")
    )
    if ahead is None or counters_open is None:
        return None
    return ticket.hall, ahead + 1, counters_open


def alert_check_may_change(
    *, hall_id: int, kind: str, business_type_id: int | None, figures: tuple | None = None
) -> bool:
    """After commit: may this event have raised or cleared one of the hall's checked alerts?
    An issue with its ``figures`` (``_arrival_figures``) costs no query while a counter serving
    its business is open; otherwise one to three small queries."""
    if kind in ARRIVING and figures is not None:
        hall, waiting, counters_open = figures
        if counters_open == 0 and hall_staffed_today(hall=hall, now=timezone.now()):
            return True  # someone waits and no open counter serves them (alert_conditions)
        return waiting > hall.waiting_alert_threshold
    if kind in ARRIVING:
        hall = Hall.objects.filter(pk=hall_id).only("waiting_alert_threshold", "timezone").first()
        if hall is None:
            return False
        open_here = Counter.objects.filter(
            hall_id=hall_id, state=CounterState.OPEN, business_types=business_type_id
        )
        if not open_here.exists() and hall_staffed_today(hall=hall, now=timezone.now()):
            return True  # someone waits and no open counter serves them (alert_conditions)
        waiting = Ticket.objects.filter(
            hall_id=hall_id, business_type_id=business_type_id, status=Status.WAITING
        ).count()
        return waiting > hall.waiting_alert_threshold
    if kind in CLEARING:
        open_alert = ManagerAlert.objects.filter(
            hall_id=hall_id, cleared_at__isnull=True, kind__in=CHECKED_KINDS
        )
        return open_alert.exists()
    return True


# Per process: hall id -> time.monotonic() until which a check this process sent is on its way.
_sent_until: dict[int, float] = {}


def alerts_check_soon(*, hall_id: int) -> None:
    """Send the hall's check, unless one is already on its way (eager Celery: run it now).

    "On its way" is asked of this process first (a busy hall's every call would otherwise cost
    a cache round trip), then of the cache, which the hall's other processes share."""
    delay = settings.ALERT_CHECK_DELAY_SECONDS
    if not check_hall_alerts.app.conf.task_always_eager:
        now = time.monotonic()
        if _sent_until.get(hall_id, 0.0) > now:
            return
        key = f"alerts-check-pending:{hall_id}"
        if cache_get(key):
            _sent_until[hall_id] = now + delay / 2  # sent by another process a moment ago
            return
        cache_set(key, True, delay)
        _sent_until[hall_id] = now + delay
    task_send(check_hall_alerts, hall_id, countdown=delay)
