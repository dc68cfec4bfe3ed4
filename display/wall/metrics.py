"""The wall's live KPIs: ``hall_metrics(hall=..., now=...)``.

Computed from the records, correct to the second at ``now``, in a bounded number of queries
whatever the number of tickets, counters or clerks (``tests/display/test_metrics.py`` counts
them; ``deploy/bench/metrics_bench.py`` measures them on a busy hall):

* the forecast's view of the hall (``queueing.selectors.hall_state``: counters with skills, the
  open tickets, lane settings; plus the history ``queueing.estimates`` caches): waiting counts,
  waits and the estimated wait for a new ticket per business type, and the counters' skills;
* the active business types, the counters with their clerks, the called/serving tickets (and,
  in the same query, the waiting ones of a business no open counter serves, issue 16), the
  open interruptions, each counter's last finish today;
* the service day's tickets, aggregated in the database (no row per ticket comes back): the
  counts and waits, the p90 wait (one row, by rank), the last hour's service level, per clerk;
* the names of clerks who served today but are not at a counter now (only if there are any);
* today's ratings (one aggregate), open incidents, complaints (one aggregate), open alerts.

16 queries with the forecast's history cache warm, 17 with a clerk gone home, 19-20 cold.

Definitions (what the wall says and the tests hold):

* **Service date**: the hall's local date at ``now``; a ticket belongs to the service date it was
  issued on, also when it is served after midnight.
* **Wait of a ticket** = ``called_at - issued_at``. A recall does not move ``called_at`` (the
  wait ended at the first call). A transfer keeps the original ``issued_at`` and clears
  ``called_at`` (the customer keeps their place), so a transferred ticket's wait runs from its
  issue to the call at the right counter: the time at the wrong counter counts, as it does for
  the router's maximum wait.
* **Waits of those served** (mean, p90, service level): tickets of the day whose wait is over
  and who came: status called, serving or done. No-shows, cancellations and tickets still
  waiting are left out. ``served`` counts the done ones.
* **Service level**: the share of those with a wait of at most the hall's target wait; over the
  last hour: of those called in the last hour (of whatever service date). None without any.
* **Per clerk**: tickets finished (done) today by the clerk and their mean service time
  (``finished_at - started_at``). Clerks who served today or are at a counter now.
* **Counters**: ``serving`` (open with a called or serving ticket), ``idle`` (open without),
  ``paused``, ``closed``; ``open`` = serving + idle. ``since``: the call of the current ticket,
  the end of the pause's start, the last finish or state change for an idle one, the close.
* **unavailable**: a business type no counter serves, or one an open incident makes
  unavailable at the kiosk.
"""

import datetime
import math

from django.contrib.auth import get_user_model
from django.db.models import Avg, Count, FloatField, Func, Q, Sum
from django.db.models.lookups import LessThanOrEqual
from django.utils import timezone

from counters.hall_now import hall_now, seconds
from counters.models import Rating as RatingChoice
from counters.models import SatisfactionRating
from hall.models import Hall
from hall.people import display_name
from queueing.models import Status, Ticket
from recovery.alerts import alert_public
from recovery.complaints import complaint_kpis
from recovery.models import ManagerAlert

SATISFACTION_TARGET = 85  # out of 100: the operators' service standard
LAST_HOUR = datetime.timedelta(hours=1)
WAIT_OVER = (Status.CALLED, Status.SERVING, Status.DONE)


def percentile(values: list[float], share: float) -> int | None:
    """The nearest-rank percentile: the smallest value with at least ``share`` of the values at
    or below it (p90 of ten waits is the ninth smallest). ``_today`` takes the same rank in the
    database; reports.daily uses this one on its own rows."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return round(ordered[rank - 1])


def _share(hits: int, total: int) -> float | None:
    return round(hits / total, 4) if total else None


def hall_metrics(*, hall: Hall, now: datetime.datetime | None = None) -> dict:
    """The wall's figures for ``hall`` at ``now`` (the shape is in README / the metrics API)."""
    now = now or timezone.now()
    service_date = hall.service_date(now)
    target_s = hall.target_wait_minutes * 60
    live = hall_now(hall=hall, now=now)
    day, counters = live["day"], live["counters"]
    return {
        "hall": hall.code,
        "at": now,
        "service_date": service_date.isoformat(),
        "target_wait_s": target_s,
        "service_level_target": hall.service_level_target,
        "waiting": live["waiting"],
        "counters": counters,
        "clerks": _clerks(day=day, counters=counters["list"]),
        "today": _today(hall=hall, day=day, target_s=target_s, now=now),
        "satisfaction": _satisfaction(hall=hall, service_date=service_date),
        "incidents": live["incidents"],
        "complaints": _complaints(hall=hall, service_date=service_date, now=now),
        "alerts": [
            alert_public(a)
            for a in ManagerAlert.objects.filter(hall=hall, cleared_at__isnull=True).order_by(
                "raised_at", "pk"
            )
        ],
    }


class Seconds(Func):
    """Seconds from one datetime column to another, in the database's own arithmetic.

    Django's portable ``F(b) - F(a)`` on SQLite calls a Python function per row (two timestamp
    parses each): on a busy hall's day that was most of a metrics computation. julianday() and
    EXTRACT(EPOCH ...) are native."""

    output_field = FloatField()
    arity = 2

    def as_sql(self, compiler, connection, **extra):
        start, end = (compiler.compile(e) for e in self.get_source_expressions())
        sql = f"EXTRACT(EPOCH FROM ({end[0]} - {start[0]}))::float8"
        return sql, (*end[1], *start[1])

    def as_sqlite(self, compiler, connection, **extra):
        start, end = (compiler.compile(e) for e in self.get_source_expressions())
        sql = f"((julianday({end[0]}) - julianday({start[0]})) * 86400.0)"
        return sql, (*end[1], *start[1])


def _wait():
    return Seconds("issued_at", "called_at")


def _service():
    return Seconds("started_at", "finished_at")


def _today(*, hall, day, target_s, now) -> dict:
    """Counts and waits of the service day, aggregated in the database: three queries that
    return a handful of rows whatever the number of tickets (the day's counts; the p90 wait,
    by rank; the last hour's service level, which may reach across midnight)."""
    came = Q(status__in=WAIT_OVER, called_at__isnull=False)
    # Within the target: at most target_s, give or take julianday()'s float rounding.
    in_time = Q(LessThanOrEqual(_wait(), target_s + 0.001))
    row = day.aggregate(
        issued=Count("pk"),
        served=Count("pk", filter=Q(status=Status.DONE)),
        no_shows=Count("pk", filter=Q(status=Status.NO_SHOW)),
        cancelled=Count("pk", filter=Q(status=Status.CANCELLED)),
        transfers=Sum("transfer_count"),
        waits=Count("pk", filter=came),
        within=Count("pk", filter=came & in_time),
        wait_total=Sum(_wait(), filter=came),
    )
    p90 = None
    if row["waits"]:
        # The nearest rank: the smallest wait with at least 90% of the waits at or below it.
        rank = max(1, math.ceil(0.9 * row["waits"]))
        p90 = (
            day.filter(came)
            .annotate(wait=_wait())
            .order_by("wait", "pk")
            .values_list("wait", flat=True)[rank - 1]
        )
    hour = (
        Ticket.objects.filter(hall=hall, called_at__gte=now - LAST_HOUR, called_at__lte=now)
        .filter(came)
        .aggregate(waits=Count("pk"), within=Count("pk", filter=in_time))
    )
    return {
        "issued": row["issued"],
        "served": row["served"],
        "no_shows": row["no_shows"],
        "transfers": row["transfers"] or 0,
        "cancelled": row["cancelled"],
        "mean_wait_s": (round(row["wait_total"] / row["waits"]) if row["waits"] else None),
        "p90_wait_s": None if p90 is None else seconds(p90),
        "service_level": _share(row["within"], row["waits"]),
        "service_level_last_hour": _share(hour["within"], hour["waits"]),
    }


def _clerks(*, day, counters) -> list[dict]:
    """Per clerk, tickets finished (done) today and their mean service time: one grouped
    query, plus one for the names of those no longer at a counter."""
    served = {
        row["clerk_id"]: row
        for row in day.filter(status=Status.DONE, clerk_id__isnull=False)
        .values("clerk_id")
        .annotate(n=Count("pk"), total=Sum(_service()))
    }
    at_counter = {c["clerk_id"]: c for c in counters if c["clerk_id"] is not None}
    names = {c["clerk_id"]: c["clerk"] for c in at_counter.values()}
    missing = set(served) - set(names)
    if missing:
        names.update(
            (user.pk, display_name(user))
            for user in get_user_model().objects.filter(pk__in=missing)
        )

    def mean_service(clerk_id):
        row = served.get(clerk_id)
        return round(row["total"] / row["n"]) if row else None

    rows = [
        {
            "id": clerk_id,
            "name": names.get(clerk_id, ""),
            "counter": at_counter[clerk_id]["number"] if clerk_id in at_counter else None,
            "served": served[clerk_id]["n"] if clerk_id in served else 0,
            "mean_service_s": mean_service(clerk_id),
        }
        for clerk_id in set(served) | set(at_counter)
    ]
    rows.sort(key=lambda r: (r["counter"] is None, r["counter"] or 0, r["name"], r["id"]))
    return rows


def _satisfaction(*, hall, service_date) -> dict:
    row = SatisfactionRating.objects.filter(hall=hall, service_date=service_date).aggregate(
        ratings=Count("pk"),
        score=Avg("score"),
        **{choice.value: Count("pk", filter=Q(rating=choice.value)) for choice in RatingChoice},
    )
    return {
        "ratings": row["ratings"],
        "score": None if row["score"] is None else round(row["score"], 1),
        "target": SATISFACTION_TARGET,
        "very_satisfied": row[RatingChoice.VERY_SATISFIED.value],
        "satisfied": row[RatingChoice.SATISFIED.value],
        "dissatisfied": row[RatingChoice.DISSATISFIED.value],
    }


def _complaints(*, hall, service_date, now) -> dict:
    """Open complaints (whenever received) by their callback deadline, and of those received
    on the service day the share replied and the share replied by the promised time
    (``recovery.complaints.complaint_kpis``, one query)."""
    day_start = datetime.datetime.combine(service_date, datetime.time.min, tzinfo=hall.tz)
    kpis = complaint_kpis(
        hall=hall, since=day_start, until=day_start + datetime.timedelta(days=1), now=now
    )
    return {
        "open": kpis.open,
        "due_soon": kpis.due_soon,
        "overdue": kpis.overdue,
        "reply_rate": None if kpis.reply_rate is None else round(kpis.reply_rate, 4),
        "on_time_rate": None if kpis.on_time_rate is None else round(kpis.on_time_rate, 4),
    }
