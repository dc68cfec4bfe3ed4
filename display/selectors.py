"""What displays see: the hall snapshot and the pieces live events carry.

Privacy: display frames carry ticket numbers, business types, lanes and counter numbers only.
Phone numbers, VIP accounts, names (customers' or clerks') and clerks' free-text notes never go
into anything built here; ``tests/display/test_privacy.py`` reads the raw frames to hold that.
"""

import datetime

from django.db.models import Q
from django.utils import timezone

from counters.models import Counter, CounterState, Interruption
from hall.days import local_day
from hall.models import AuditEvent, EventKind, EventSequence, Hall
from hall.selectors import incident_affects, incident_public, open_incidents
from queueing.models import ACTIVE_STATUSES, Slot, Ticket
from queueing.selectors import business_type_queues

RECENT_CALLS = 8


def ticket_public(ticket: Ticket | None) -> dict | None:
    if ticket is None:
        return None
    return {
        "id": ticket.pk,
        "number": ticket.number,
        "business_type": ticket.business_type.code,
        "lane": ticket.lane,
        "status": ticket.status,
        "issued_at": ticket.issued_at,
        # Issue 16: displays show a recalled customer's call count ("第2次呼叫 / Call #2").
        "recall_count": ticket.recall_count,
    }


def hall_seq(*, hall_id: int) -> int:
    return (
        EventSequence.objects.filter(hall_id=hall_id).values_list("last_seq", flat=True).first()
        or 0
    )


def hall_public(hall: Hall) -> dict:
    return {
        "code": hall.code,
        "name": hall.name,
        "timezone": hall.timezone,
        "announce_english": hall.announce_english,
        "window_depth": hall.window_depth,
    }


def board_rows(types) -> list[dict]:
    """What displays show of each business type (``queueing.selectors.business_type_queues``)."""
    return [
        {
            "code": bt.code,
            "name_zh": bt.name_zh,
            "name_en": bt.name_en,
            "prefix": bt.prefix,
            "waiting": bt.waiting,
            "estimated_wait_s": bt.estimated_wait_s,
            "estimated_wait_range_s": bt.estimated_wait_range_s,
            "estimated_wait_range_10_90_s": bt.estimated_wait_range_10_90_s,
            "wait": bt.wait_shown.as_dict(),  # the words: queueing.wait_words
            # Issue 16: 0 means no open counter serves it: "暂无窗口办理", never "no wait".
            "counters_open": bt.counters_open,
        }
        for bt in types
    ]


def business_type_board(*, hall: Hall) -> list[dict]:
    """Waiting count and estimated wait per active business type (a forecast: a read for
    snapshots and pages, never for a frame built under a lock; live updates: display.board)."""
    return board_rows(business_type_queues(hall=hall))


def counter_states(*, hall_id: int, counter_ids=None, in_hand=()) -> list[dict]:
    """Each counter's state, its called or serving ticket, its window and its apology if paused.

    At most three queries whatever the number of counters: counters, their tickets, open
    interruptions (only if one is paused). ``in_hand``: counters a service holds in its
    transaction, each with ``live_window`` ({"active", "greeted", "attended"}: tickets or None)
    set once its change is made; they are not read again (a live frame built under the hall
    lock reads only what it does not hold).
    """
    known = {
        c.pk: c
        for c in in_hand
        if getattr(c, "live_window", None) is not None
        and (counter_ids is None or c.pk in counter_ids)
    }
    counters = list(known.values())
    missing = None if counter_ids is None else [pk for pk in counter_ids if pk not in known]
    if missing is None or missing:
        rows = Counter.objects.filter(hall_id=hall_id).order_by("number")
        if missing is not None:
            rows = rows.filter(pk__in=missing)
        counters += [c for c in rows if c.pk not in known]
    counters.sort(key=lambda c: c.number)
    window: dict[tuple[int, str], Ticket] = {}
    unread = [c.pk for c in counters if c.pk not in known]
    if unread:
        tickets = Ticket.objects.filter(
            Q(counter_id__in=unread, status__in=ACTIVE_STATUSES) | Q(window_counter_id__in=unread)
        ).select_related("business_type")
        for t in tickets:
            if t.status in ACTIVE_STATUSES:
                window[(t.counter_id, "active")] = t
            else:
                window[(t.window_counter_id, t.window_slot)] = t
    for pk, c in known.items():
        window.update({(pk, slot): ticket for slot, ticket in c.live_window.items()})
    paused = [c.pk for c in counters if c.state == CounterState.PAUSED]
    pauses = (
        {
            i.counter_id: i
            for i in Interruption.objects.filter(counter_id__in=paused, ended_at__isnull=True)
        }
        if paused
        else {}
    )
    return [
        {
            "id": c.pk,
            "number": c.number,
            "name": c.name,
            "kind": c.kind,
            "state": c.state,
            "since": c.state_changed_at,
            "seq": c.last_event_seq,
            "current": ticket_public(window.get((c.pk, "active"))),
            "greeted": ticket_public(window.get((c.pk, Slot.GREETED))),
            "attended": ticket_public(window.get((c.pk, Slot.ATTENDED))),
            "pause": pause_public(pauses.get(c.pk)),
        }
        for c in counters
    ]


def pause_public(interruption: Interruption | None) -> dict | None:
    if interruption is None:
        return None
    return {
        "reason": interruption.reason,
        "apology_zh": interruption.apology_zh,
        "apology_en": interruption.apology_en,
        "since": interruption.started_at,
    }


def recent_calls(*, hall: Hall, now: datetime.datetime | None = None) -> list[dict]:
    """The latest calls and recalls of the hall's current service day, newest first."""
    local_midnight, _end = local_day(hall=hall, date=hall.service_date(now))
    events = AuditEvent.objects.filter(
        hall=hall,
        kind__in=(EventKind.TICKET_CALLED, EventKind.TICKET_RECALLED, EventKind.TICKET_REQUEUED),
        created_at__gte=local_midnight,
    ).order_by("-created_at", "-id")[: 2 * RECENT_CALLS]
    # Issue 16: never send anyone to a paused or closed counter, nor a customer who was sent
    # back to the front of the queue to the counter that called them before.
    shut = set(
        Counter.objects.filter(hall=hall)
        .exclude(state=CounterState.OPEN)
        .values_list("number", flat=True)
    )
    calls, requeued = [], set()
    for event in events:
        if event.kind == EventKind.TICKET_REQUEUED:
            requeued.add(event.ticket_id)
        elif event.ticket_id not in requeued and event.data.get("counter") not in shut:
            calls.append(call_public(event))
    return calls[:RECENT_CALLS]


def call_public(event: AuditEvent) -> dict:
    return {
        "seq": event.seq,
        "number": event.data.get("number"),
        "counter": event.data.get("counter"),
        "recall": event.kind == EventKind.TICKET_RECALLED,
        # Issue 16: which call this is: 1 for the call, 2 for the first recall, ...
        "call_count": 1 + event.data.get("recall_count", 0)
        if event.kind == EventKind.TICKET_RECALLED
        else 1,
        "at": event.created_at,
    }


def hall_incidents(*, hall: Hall) -> list[dict]:
    """The hall's open incidents (system faults) as displays show them, oldest first."""
    return [incident_public(incident) for incident in open_incidents(hall=hall)]


def counter_incidents(*, counter: Counter, incidents: list[dict]) -> list[dict]:
    """Those of ``incidents`` that affect a business type the counter serves (one query)."""
    codes = list(counter.business_types.values_list("code", flat=True))
    return [i for i in incidents if any(incident_affects(i, code) for code in codes)]


def incident_counter_ids(*, hall_id: int, incident: dict) -> list[int]:
    """The counters whose display shows this incident's apology: those serving a business type
    it affects (every counter of the hall when it affects all)."""
    counters = Counter.objects.filter(hall_id=hall_id)
    if incident["business_types"] is not None:
        counters = counters.filter(
            business_types__hall_id=hall_id, business_types__code__in=incident["business_types"]
        )
    return sorted(set(counters.values_list("pk", flat=True)))


def hall_snapshot(
    *,
    hall: Hall,
    now: datetime.datetime | None = None,
    seq: int | None = None,
    business_types: list | None = None,
) -> dict:
    """Everything the lobby display and the wall show, with the ``seq`` it is current to.

    ``seq`` is read first (or given, read by the caller before anything else): under READ
    COMMITTED the rest may then include a few later changes, never miss an earlier one. Events
    with a seq at or below it are already in the snapshot. ``business_types``: the board's rows
    when the caller has a current one (display.board.board_latest), else it is forecast here.
    """
    if seq is None:
        seq = hall_seq(hall_id=hall.pk)
    if business_types is None:
        business_types = business_type_board(hall=hall)
    return {
        "type": "snapshot",
        "seq": seq,
        "now": now or timezone.now(),
        "hall": hall_public(hall),
        "business_types": business_types,
        "counters": counter_states(hall_id=hall.pk),
        "recent_calls": recent_calls(hall=hall, now=now),
        "incidents": hall_incidents(hall=hall),
    }
