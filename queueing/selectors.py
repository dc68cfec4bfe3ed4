"""Reads about tickets: the router's candidates for a counter, and a customer's own view."""

import functools
from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from counters.models import ClerkSession, Counter, CounterState
from hall.days import local_day
from hall.models import BusinessType, Hall
from queueing import forecast, router
from queueing.estimates import arrival_rates, people_ahead, service_stats
from queueing.models import ACTIVE_STATUSES, Lane, PhoneNotice, Slot, Status, Ticket
from queueing.wait_words import with_wait

# Per lane, how many candidates the router needs at most: called + greeted + attended.
CANDIDATES_PER_LANE = 3

_ROUTER_FIELDS = (
    "id",
    "business_type_id",
    "lane",
    "issued_at",
    "window_slot",
    "window_counter_id",
    "pinned_counter_id",
)
_CANDIDATE_FIELDS = (
    "id",
    "hall",
    "counter",
    "status",
    "business_type",
    "lane",
    "issued_at",
    "window_slot",
    "window_counter",
    "pinned_counter",
)


def hall_policy(*, hall: Hall, lane_settings=None) -> router.Policy:
    """The router's view of a hall's lane weights, strict lanes, maximum wait and window.

    ``lane_settings``: dicts (lane, weight, strict) already read
    (``hall.selectors.lane_settings_subquery``), to save the query."""
    weights = dict(router.DEFAULT_WEIGHTS)
    strict = set()
    if lane_settings is None:
        lane_settings = hall.lane_settings.values("lane", "weight", "strict")
    for setting in lane_settings:
        weights[setting["lane"]] = float(setting["weight"])
        if setting["strict"]:
            strict.add(setting["lane"])
    return router.Policy(
        weights=weights,
        strict=frozenset(strict),
        max_wait=hall.max_wait_minutes * 60.0,
        window_depth=hall.window_depth,
        greeting_binds_counter=hall.greeting_binds_counter,
    )


def _as_router_ticket(row: dict) -> router.Ticket:
    return router.Ticket(
        id=row["id"],
        business_type=row["business_type_id"],
        lane=row["lane"],
        issued_at=row["issued_at"].timestamp(),
        slot=row["window_slot"],
        slot_counter=row["window_counter_id"],
        pinned_counter=row["pinned_counter_id"],
    )


@dataclass(frozen=True)
class Candidates:
    counter_busy: bool  # the counter already has a called or serving ticket
    tickets: list[router.Ticket]  # in issue order
    busy: frozenset  # the busy counters whose windows are among the tickets (router's ``busy``)


def router_candidates(
    *, counter, business_type_ids, greeting_binds_counter: bool = False
) -> Candidates:
    """The waiting tickets the router may need for ``counter``, whether the counter is busy,
    and the busy counters among those whose greeted tickets it is handed.

    Bounded: the counter's called or serving ticket; its own window (at most two); unless the
    hall binds the greeting to the counter, the windows of the busy counters whose greeted
    ticket it may serve (two per counter of the hall at most; issue 16), found from the hall's
    counters along the one-active-ticket-per-counter and one-ticket-per-slot indexes; plus the
    first few eligible tickets of each lane, read along the ``ticket_waiting_queue`` partial
    index. One query whatever the number of people waiting (``_candidates_sql``).
    """
    lanes = [Lane.VIP] if counter.vip_mode == router.VipMode.VIP_ONLY else list(Lane)
    skills = sorted(business_type_ids)
    sql, params = _candidates_sql(
        lanes=len(lanes) if skills else 0,
        skills=len(skills),
        greeted_elsewhere=bool(skills) and not greeting_binds_counter,
    )
    params = params(hall=counter.hall_id, counter=counter.pk, skills=skills, lanes=lanes)
    rows: dict[int, Ticket] = {}
    busy = set()
    for t in Ticket.objects.raw(sql, params):
        rows.setdefault(t.pk, t)  # a window ticket may also lead its lane
        if t.part == _GREETED_ELSEWHERE:
            busy.add(t.window_counter_id)
    tickets = [_as_router_ticket(vars(t)) for t in rows.values() if t.status == Status.WAITING]
    tickets.sort(key=lambda t: (t.issued_at, t.id))
    return Candidates(
        counter_busy=any(t.status in ACTIVE_STATUSES for t in rows.values()),
        tickets=tickets,
        busy=frozenset(busy),
    )


_GREETED_ELSEWHERE = 2  # the candidates' part that reads busy counters' windows


@functools.cache
def _candidates_sql(*, lanes: int, skills: int, greeted_elsewhere: bool):
    """The candidates' one statement for a counter with ``skills`` business types, reading
    ``lanes`` lanes (and the windows of busy counters greeting someone it may serve when
    ``greeted_elsewhere``), and the function that orders its parameters.

    Raw SQL, built once per shape: the ORM cannot order and limit inside a UNION on SQLite, and
    composing the querysets cost more CPU than the database spent on them. Each part is a
    subquery (``SELECT * FROM (... ORDER BY ... LIMIT n)``), which both databases accept, with
    its number as ``part``.
    """
    t = Ticket._meta.db_table
    counters = Counter._meta.db_table
    counter_hall = Counter._meta.get_field("hall").column
    col = {f: Ticket._meta.get_field(f).column for f in _CANDIDATE_FIELDS}
    fields = ", ".join(col[f] for f in _CANDIDATE_FIELDS)
    waiting = f"{col['hall']} = %s AND {col['status']} = %s"
    actives = ", ".join(["%s"] * len(ACTIVE_STATUSES))
    in_skills = ", ".join(["%s"] * skills)
    servable = (
        f"{waiting} AND {col['business_type']} IN ({in_skills}) "
        f"AND ({col['pinned_counter']} IS NULL OR {col['pinned_counter']} = %s)"
    )
    parts = [
        f"SELECT {fields}, 0 AS part FROM {t} WHERE {col['counter']} = %s "  # noqa: S608
        f"AND {col['status']} IN ({actives})",
        f"SELECT {fields}, 1 AS part FROM {t} WHERE {waiting} "  # noqa: S608
        f"AND {col['window_counter']} = %s",
    ]
    if greeted_elsewhere:
        busy_counters = (
            f"SELECT a.{col['counter']} FROM {t} a WHERE a.{col['counter']} IN "  # noqa: S608
            f"(SELECT c.id FROM {counters} c WHERE c.{counter_hall} = %s AND c.id <> %s) "
            f"AND a.{col['status']} IN ({actives})"
        )
        parts.append(
            f"SELECT {fields}, {_GREETED_ELSEWHERE} AS part FROM {t} WHERE {waiting} "  # noqa: S608
            f"AND {col['window_counter']} IN (SELECT {col['window_counter']} FROM {t} "
            f"WHERE {col['window_counter']} IN ({busy_counters}) "
            f"AND {col['window_slot']} = %s AND {servable} AND {col['lane']} IN "
            f"({', '.join(['%s'] * lanes)}))"
        )
    eligible = (
        f"{servable} AND ({col['window_slot']} IS NULL OR {col['window_slot']} = %s "
        f"OR {col['window_counter']} = %s)"
    )
    parts += [
        f"SELECT * FROM (SELECT {fields}, {3 + i} AS part FROM {t} "  # noqa: S608
        f"WHERE {eligible} AND {col['lane']} = %s "
        f"ORDER BY {col['issued_at']}, {col['id']} LIMIT {CANDIDATES_PER_LANE}) lane{i}"
        for i in range(lanes)
    ]
    sql = " UNION ALL ".join(parts)

    def params(*, hall, counter, skills, lanes):
        out = [counter, *ACTIVE_STATUSES, hall, Status.WAITING, counter]
        if greeted_elsewhere:
            out += [hall, Status.WAITING, hall, counter, *ACTIVE_STATUSES, Slot.GREETED]
            out += [hall, Status.WAITING, *skills, counter, *lanes]
        for lane in lanes:
            out += [hall, Status.WAITING, *skills, counter, Slot.ATTENDED, counter, lane]
        return out

    return sql, params


def counter_window(*, counter) -> dict:
    """The counter's called/serving ticket and its greeted and attended tickets."""
    active = (
        Ticket.objects.filter(counter=counter, status__in=ACTIVE_STATUSES)
        .select_related("business_type")
        .first()
    )
    window = {
        t.window_slot: t
        for t in Ticket.objects.filter(window_counter=counter).select_related("business_type")
    }
    return {
        "active": active,
        "greeted": window.get(Slot.GREETED),
        "attended": window.get(Slot.ATTENDED),
    }


def hall_state(*, hall, now=None) -> forecast.HallState:
    """The hall as the wait forecast sees it (``queueing.forecast``): waiting tickets with their
    window slots and pins, counters with skills, states and whom they serve since when, the
    routing policy, observed service times and recent arrival rates.

    Three queries (counters with their business types, the hall's open tickets, the lane
    settings) plus the history ``queueing.estimates`` caches per hall. Before the first counter
    of the day opens, every configured counter is taken as open: a morning estimate assumes the
    hall will staff them, rather than saying "unknown" to everybody.
    """
    now = now or timezone.now()
    skills: dict[int, set] = {}
    rows: dict[int, tuple] = {}
    day_start = local_day(hall=hall, date=hall.service_date(now))[0]
    # A counter signed out of since the day began (a clerk's session ended today) and closed
    # now is on a break: the forecast expects it back (``forecast.CounterState.closed_since``).
    staffed_today = Exists(
        ClerkSession.objects.filter(counter=OuterRef("pk"), ended_at__gte=day_start)
    )
    for pk, state, vip_mode, changed_at, today, business_type_id in (
        Counter.objects.filter(hall=hall)
        .annotate(staffed_today=staffed_today)
        .values_list(
            "id", "state", "vip_mode", "state_changed_at", "staffed_today", "business_types"
        )
    ):
        rows[pk] = (state, vip_mode, changed_at, today)
        if business_type_id is not None:
            skills.setdefault(pk, set()).add(business_type_id)
    waiting, serving = [], {}
    for row in (
        Ticket.objects.filter(hall=hall, status__in=(Status.WAITING, *ACTIVE_STATUSES))
        .order_by("issued_at", "id")
        .values(*_ROUTER_FIELDS, "status", "counter_id", "called_at")
    ):
        if row["status"] == Status.WAITING:
            waiting.append(_as_router_ticket(row))
        elif row["counter_id"] is not None and row["called_at"] is not None:
            serving[row["counter_id"]] = row
    nobody_yet = all(state == CounterState.CLOSED for state, *_ in rows.values())
    counters = []
    for pk, (state, vip_mode, changed_at, staffed) in rows.items():
        on_break = state == CounterState.CLOSED and staffed and changed_at >= day_start
        active = serving.get(pk)
        counters.append(
            forecast.CounterState(
                id=pk,
                business_types=frozenset(skills.get(pk, ())),
                vip_mode=vip_mode,
                state=CounterState.OPEN if nobody_yet else state,
                serving_since=active["called_at"].timestamp() if active else None,
                serving_business_type=active["business_type_id"] if active else None,
                paused_since=changed_at.timestamp() if state == CounterState.PAUSED else None,
                closed_since=changed_at.timestamp() if on_break else None,
            )
        )
    means, cvs = service_stats(hall=hall, now=now)
    return forecast.HallState(
        now=now.timestamp(),
        policy=hall_policy(hall=hall),
        counters=tuple(counters),
        waiting=tuple(waiting),
        service_mean=means,
        arrival_rate=arrival_rates(hall=hall, now=now),
        service_cv=cvs,
    )


CALLED = forecast.Wait(0.0, 0.0, 0.0, 0.0, 0.0)  # a ticket already called waits no more


def ticket_estimated_wait(*, ticket: Ticket, now=None) -> forecast.Wait | None:
    """Seconds until a waiting ticket is called, the point and its bands
    (``queueing.forecast.forecast_bands``); None when no counter that is open or paused can
    serve it."""
    state = hall_state(hall=ticket.hall, now=now)
    return forecast.forecast_bands(state, only=[ticket.pk]).get(ticket.pk)


def ticket_position(*, ticket: Ticket) -> tuple[int, forecast.Wait | None]:
    """People ahead and the estimated wait for a waiting ticket; (0, ``CALLED``) once called."""
    if ticket.status != Status.WAITING:
        return 0, CALLED
    ahead = people_ahead(
        business_type=ticket.business_type, issued_at=ticket.issued_at, exclude_id=ticket.pk
    )
    return ahead, ticket_estimated_wait(ticket=ticket)


def waiting_count(*, before=None):
    """Annotation for a business type query: its waiting tickets (issued before ``before``)."""
    waiting = Ticket.objects.filter(business_type=OuterRef("pk"), status=Status.WAITING)
    if before is not None:
        waiting = waiting.filter(issued_at__lt=before)
    return Coalesce(
        Subquery(waiting.order_by().values("business_type").annotate(n=Count("pk")).values("n")),
        0,
    )


def serving_counters() -> dict:
    """Annotations for a business type query: ``total``, the counters serving it, and
    ``staffed``, those of them open or paused. ``staffed or total`` is how many may serve it."""
    counters = (
        Counter.objects.filter(business_types=OuterRef("pk"))
        .order_by()
        .values("business_types")
        .annotate(
            total=Count("pk"),
            staffed=Count("pk", filter=~Q(state=CounterState.CLOSED)),
            counters_open=Count("pk", filter=Q(state=CounterState.OPEN)),
        )
    )
    return {
        "staffed": Coalesce(Subquery(counters.values("staffed")), 0),
        # Issue 16: open (not paused, not closed) counters serving it; none means "暂无窗口办理".
        "counters_open": Coalesce(Subquery(counters.values("counters_open")), 0),
        "total": Coalesce(Subquery(counters.values("total")), 0),
    }


def business_type_queues(*, hall, lanes=(Lane.NORMAL,)) -> list[BusinessType]:
    """The hall's active business types, each with ``waiting``, ``staffed`` and ``total``
    counters serving it, ``mean_service_s`` and the estimated wait for a normal ticket issued
    now (one forecast with bands for the whole board, ``queueing.forecast.forecast_new_bands``)
    as ``queueing.wait_words.with_wait`` sets it (``estimated_wait_s``, the bands, the words);
    ``lane_estimates`` holds the estimate (a ``forecast.Wait`` or None) for each of ``lanes``.

    Four queries whatever the number of types, counters or people waiting (``hall_state``'s
    three and this one), plus the history ``queueing.estimates`` caches. A read for displays
    and pages: never call it from a service's transaction (DESIGN invariant 7).
    """
    types = list(
        BusinessType.objects.filter(hall=hall, active=True).annotate(
            waiting=waiting_count(), **serving_counters()
        )
    )
    if types:
        state = hall_state(hall=hall)
        # One run per lane: the probes of one run share it (a VIP probe would overtake a normal
        # probe of the same type and delay it).
        estimates = {}
        for lane in lanes:
            estimates.update(forecast.forecast_new_bands(state, [(bt.pk, lane) for bt in types]))
        for bt in types:
            bt.mean_service_s = state.service_mean.get(bt.pk)
            bt.lane_estimates = {lane: estimates[(bt.pk, lane)] for lane in lanes}
            with_wait(bt, bt.lane_estimates.get(Lane.NORMAL), counters_open=bt.counters_open)
    return types


def greeter_queues(*, hall, now=None) -> list[BusinessType]:
    """``business_type_queues``, each type with its ``waiting_tickets`` in issue order (each
    with ``waited_s``, ``waited_min`` and its ``window_counter``) and ``transfer_to``: the codes
    of the other types its waiting tickets may move to, for VIP tickets ("vip") and the rest
    ("other"; a type that only VIP-only counters serve takes VIP tickets only).

    Four queries whatever the number of types, counters or people waiting."""
    now = now or timezone.now()
    types = business_type_queues(hall=hall)
    serving = Counter.objects.filter(hall=hall).values_list("business_types", "vip_mode")
    served_vip, served_any = set(), set()
    for business_type_id, vip_mode in serving:
        served_vip.add(business_type_id)
        if vip_mode != router.VipMode.VIP_ONLY:
            served_any.add(business_type_id)
    tickets: dict[int, list[Ticket]] = {bt.pk: [] for bt in types}
    # What became of the last text owed to each (a greeted customer's "get ready"): the greeter
    # sees "logged, not sent" where no gateway is set up, never "sent".
    last_notice = PhoneNotice.objects.filter(ticket=OuterRef("pk")).order_by("-created_at", "-pk")
    waiting = (
        Ticket.objects.filter(hall=hall, status=Status.WAITING, business_type__in=list(tickets))
        .select_related("window_counter")
        .annotate(notice_status=Subquery(last_notice.values("status")[:1]))
        .order_by("issued_at", "id")
    )
    for ticket in waiting:
        ticket.waited_s = max(0, round((now - ticket.issued_at).total_seconds()))
        ticket.waited_min = ticket.waited_s // 60
        tickets[ticket.business_type_id].append(ticket)
    for bt in types:
        bt.waiting_tickets = tickets[bt.pk]
        others = [t for t in types if t.pk != bt.pk]
        bt.transfer_to = {
            Lane.VIP: [t.code for t in others if t.pk in served_vip],
            "other": [t.code for t in others if t.pk in served_any],
        }
    return types


def ticket_for_customer(*, token: str) -> Ticket | None:
    """The ticket behind a customer's QR code (its public token), with what its pages show:
    ``people_ahead``, the estimated wait (``wait_words.with_wait``: 0 once called) and
    ``window_counter`` while it is
    greeted. None for an unknown token."""
    ticket = (
        Ticket.objects.select_related("business_type", "counter", "window_counter", "hall")
        .filter(public_token=token)
        .first()
    )
    if ticket is not None:
        ticket.people_ahead, wait = ticket_position(ticket=ticket)
        with_wait(ticket, wait)
    return ticket
