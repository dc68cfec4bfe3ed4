"""The hall right now, as the wall and the manager's alerts both see it: each counter's state
(serving, idle, paused with its reason and duration, closed) and who is waiting for each business
type (counts, lanes, longest and mean wait, the estimate for a new ticket).

One copy for display.wall.metrics (the wall) and recovery.alerts (the alert check), so the
alerts are raised from exactly the figures the wall shows. Read-only.
"""

import datetime
from collections import defaultdict

from django.db.models import Max, Q

from counters.models import Counter, CounterState, Interruption, PauseReason
from hall.i18n import in_both_languages
from hall.models import BusinessType, Hall, IncidentMode
from hall.people import display_name
from hall.selectors import incident_affects, incident_public, open_incidents
from queueing import forecast
from queueing.models import ACTIVE_STATUSES, Lane, PriorityReason, Status, Ticket
from queueing.selectors import hall_state

LANES = (Lane.VIP.value, Lane.PRIORITY.value, Lane.NORMAL.value)
# How many of a business's waiting customers the wall names when no open counter serves it.
FIRST_WAITING_SHOWN = 6


def seconds(delta: datetime.timedelta | float) -> int:
    if isinstance(delta, datetime.timedelta):
        delta = delta.total_seconds()
    return max(0, round(delta))


def mean(values) -> int | None:
    return round(sum(values) / len(values)) if values else None


def labels(choice) -> tuple[str, str, str]:
    """(active language, Chinese, English) of a TextChoices member's label."""
    both = in_both_languages(choice.label)
    return str(choice.label), both["zh"], both["en"]


def hall_now(*, hall: Hall, now: datetime.datetime) -> dict:
    """The active business types, the forecast's state, the open incidents, the service day's
    tickets (a queryset, not evaluated), and the counters and waiting figures built from them."""
    types = list(
        BusinessType.objects.filter(hall=hall, active=True).values(
            "id", "code", "name_zh", "name_en", "prefix"
        )
    )
    code_of = {bt["id"]: bt["code"] for bt in types}
    state = hall_state(hall=hall, now=now)
    incidents = [incident_public(i) for i in open_incidents(hall=hall)]
    day = Ticket.objects.filter(hall=hall, service_date=hall.service_date(now)).order_by()
    counters, unserved = _counters(hall=hall, state=state, code_of=code_of, day=day, now=now)
    waiting = _waiting(
        types=types, state=state, counters=counters, incidents=incidents, now=now, hall=hall
    )
    _name_first_waiting(waiting["by_business_type"], unserved, code_of=code_of, now=now)
    return {"day": day, "incidents": incidents, "counters": counters, "waiting": waiting}


def _waiting(*, types, state, counters, incidents, now, hall) -> dict:
    now_ts = now.timestamp()
    waits_by_type: dict[int, list[float]] = defaultdict(list)
    lanes_by_type: dict[int, dict[str, int]] = defaultdict(lambda: dict.fromkeys(LANES, 0))
    for t in state.waiting:
        waits_by_type[t.business_type].append(max(0.0, now_ts - t.issued_at))
        lanes_by_type[t.business_type][t.lane] += 1
    estimates = (
        forecast.forecast_new_many(state, [(bt["id"], Lane.NORMAL) for bt in types])
        if types
        else {}
    )
    served_by, open_for = defaultdict(int), defaultdict(int)
    for c in counters["list"]:
        for code in c["business_types"]:
            served_by[code] += 1
            open_for[code] += c["state"] in ("serving", "idle")
    blocked = {
        bt["code"]
        for bt in types
        for incident in incidents
        if incident["mode"] == IncidentMode.UNAVAILABLE and incident_affects(incident, bt["code"])
    }
    target_s = hall.target_wait_minutes * 60
    rows = []
    for bt in types:
        waits = waits_by_type.get(bt["id"], [])
        longest = seconds(max(waits)) if waits else None
        estimate = estimates.get((bt["id"], Lane.NORMAL))
        rows.append(
            {
                "code": bt["code"],
                "name_zh": bt["name_zh"],
                "name_en": bt["name_en"],
                "prefix": bt["prefix"],
                "waiting": len(waits),
                "by_lane": lanes_by_type[bt["id"]] if waits else dict.fromkeys(LANES, 0),
                "longest_wait_s": longest,
                "mean_wait_s": mean(waits),
                "estimated_wait_s": None if estimate is None else round(estimate),
                "over_target": longest is not None and longest > target_s,
                "unavailable": served_by[bt["code"]] == 0 or bt["code"] in blocked,
                # Issue 16: 0 with people waiting is "no counter open for this service" (an
                # alert, recovery.alerts) and the wall names who waits, priority first.
                "counters_open": open_for[bt["code"]],
                "first_waiting": [],
            }
        )
    # Every waiting ticket counts in the totals, also one of a type made inactive since.
    all_waits = [max(0.0, now_ts - t.issued_at) for t in state.waiting]
    by_lane = dict.fromkeys(LANES, 0)
    for t in state.waiting:
        by_lane[t.lane] += 1
    return {
        "total": len(all_waits),
        "longest_wait_s": seconds(max(all_waits)) if all_waits else None,
        "mean_wait_s": mean(all_waits),
        "by_lane": by_lane,
        "by_business_type": rows,
    }


def _name_first_waiting(rows: list[dict], unserved: list[dict], *, code_of, now) -> None:
    """Fill ``first_waiting`` of the business types no open counter serves with their waiting
    customers (``unserved``, read by ``_counters``): VIP and priority (elderly, disabled, ...)
    first, then by issue time, as the wall lists them."""
    by_code = {row["code"]: row for row in rows}
    lane_rank = {Lane.VIP: 0, Lane.PRIORITY: 0, Lane.NORMAL: 1}
    for t in sorted(unserved, key=lambda t: (lane_rank.get(t["lane"], 1), t["issued_at"])):
        row = by_code.get(code_of.get(t["business_type_id"]))
        if row is None or len(row["first_waiting"]) >= FIRST_WAITING_SHOWN:
            continue
        reason = PriorityReason(t["priority_reason"] or "")
        _, reason_zh, reason_en = labels(reason) if reason else ("", "", "")
        row["first_waiting"].append(
            {
                "number": t["number"],
                "lane": t["lane"],
                "priority_reason": reason.value,
                "reason_zh": reason_zh,
                "reason_en": reason_en,
                "wait_s": seconds(now - t["issued_at"]),
            }
        )


def _counters(*, hall, state, code_of, day, now) -> tuple[dict, list[dict]]:
    """The counters' figures, and the waiting tickets of the business types no open counter
    serves (for ``_name_first_waiting``): read with the counters' active tickets in one query,
    so the wall costs the same queries whether or not a business is left without a counter."""
    skills = {
        c.id: sorted(code_of[b] for b in c.business_types if b in code_of) for c in state.counters
    }
    counters = list(Counter.objects.filter(hall=hall).select_related("clerk").order_by("number"))
    ids = [c.pk for c in counters]
    open_ids = {c.pk for c in counters if c.state == CounterState.OPEN}
    served_open = {b for c in state.counters if c.id in open_ids for b in c.business_types}
    unserved_ids = {t.business_type for t in state.waiting} - served_open
    wanted = Q(counter_id__in=ids, status__in=ACTIVE_STATUSES)
    if unserved_ids:
        wanted |= Q(hall=hall, status=Status.WAITING, business_type_id__in=unserved_ids)
    active, unserved = {}, []
    for row in Ticket.objects.filter(wanted).order_by().values(
        "counter_id", "number", "called_at", "status", "lane", "priority_reason", "issued_at",
        "business_type_id",
    ):  # fmt: skip
        if row["status"] == Status.WAITING:
            unserved.append(row)
        else:
            active[row["counter_id"]] = row
    pauses = {
        i.counter_id: i
        for i in Interruption.objects.filter(counter_id__in=ids, ended_at__isnull=True)
    }
    last_finish = dict(
        day.filter(finished_at__isnull=False, counter_id__isnull=False)
        .values("counter_id")
        .annotate(last=Max("finished_at"))
        .values_list("counter_id", "last")
    )
    listed, totals = [], dict.fromkeys(("serving", "idle", "paused", "closed"), 0)
    for c in counters:
        ticket = active.get(c.pk)
        pause = None
        if c.state == CounterState.CLOSED:
            state_name, since = "closed", c.state_changed_at
        elif c.state == CounterState.PAUSED:
            state_name = "paused"
            interruption = pauses.get(c.pk)
            since = interruption.started_at if interruption else c.state_changed_at
            reason = interruption.reason if interruption else PauseReason.OTHER
            label, label_zh, label_en = labels(PauseReason(reason))
            pause = {
                "reason": reason,
                "reason_label": label,
                "reason_label_zh": label_zh,
                "reason_label_en": label_en,
                "since": since,
                "seconds": seconds(now - since),
            }
        elif ticket is not None:
            state_name, since = "serving", ticket["called_at"]
        else:
            state_name = "idle"
            finished = last_finish.get(c.pk)
            since = max(c.state_changed_at, finished) if finished else c.state_changed_at
        totals[state_name] += 1
        listed.append(
            {
                "id": c.pk,
                "number": c.number,
                "name": c.name,
                "state": state_name,
                "clerk": display_name(c.clerk) if c.clerk_id else None,
                "clerk_id": c.clerk_id,
                "ticket": ticket["number"] if ticket else None,
                "since": since,
                "pause": pause,
                "business_types": skills.get(c.pk, []),
            }
        )
    return {"open": totals["serving"] + totals["idle"], **totals, "list": listed}, unserved
