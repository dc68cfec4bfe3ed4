"""The daily report of a hall (or of many halls at once): ``hall_daily_report(hall=, date=)``.

Built from the records of the day (tickets, interruptions, incidents, ratings), never from the
metric snapshots, in a fixed number of queries whatever the number of halls or tickets
(``halls_daily_reports`` reads every hall asked for with the same seven queries; the test counts
them). Downloads as CSV and Excel: ``reports/files.py``.

Definitions (the wall's, ``display/wall/metrics.py``, so the report and the wall agree):

* **The day** is a service date: a ticket belongs to the date it was issued on (the hall's local
  date), also when it is served after midnight. Interruptions and incidents count for the part
  of them that falls within the hall's local day (midnight to midnight); one still open counts
  up to now.
* **By hour** means by the hour of arrival (issue, hall's local time): a row is the cohort of
  customers who arrived in that hour, and what became of them. A transferred ticket keeps its
  original issue time; it is counted once, under the business type it ended with.
* **Wait** = ``called_at - issued_at`` of tickets whose wait is over and who came (called,
  serving, done). A recall does not move it; a transfer clears the call, so the time at the
  wrong counter counts as waiting. **Mean** and **p90** (nearest rank) of those; **service
  level** = the share of them called within the hall's target wait.
* **Served** = done; **no-shows**; **cancelled**; **expired** (left at the end of the day);
  **transfers** = the number of transfers.
* **Phone notices**: the texts owed to the day's tickets, by what became of them: sent (a
  gateway took it), logged, not sent (no gateway configured: nobody's phone got it), failed,
  pending.
* **Per clerk**: tickets the clerk finished (done), their mean service time
  (``finished_at - started_at``), the clerk's pauses (count and minutes within the day) and the
  ratings of tickets they served.
"""

import datetime
from collections import Counter as Tally
from collections import defaultdict

from django.contrib.auth import get_user_model
from django.db.models import Count, Q
from django.utils import timezone

from counters.models import RATING_SCORES, Interruption, PauseReason, Rating, SatisfactionRating
from counters.satisfaction import SATISFACTION_TARGET, RatingReason
from display.wall.metrics import percentile
from hall.days import local_day
from hall.i18n import in_both_languages
from hall.models import BusinessType, Hall, Incident, IncidentKind, IncidentSeverity
from hall.people import display_name
from queueing.models import NoticeStatus, PhoneNotice, Status, Ticket

WAIT_OVER = (Status.CALLED, Status.SERVING, Status.DONE)
MAX_HALLS = 100  # per request: each hall's day is read into memory at once


def _overlap_s(start, end, window_start, window_end, now) -> float:
    """Seconds of [start, end or now) that fall within the window."""
    end = end if end is not None else now
    return max(0.0, (min(end, window_end) - max(start, window_start)).total_seconds())


def _mean(values) -> int | None:
    return round(sum(values) / len(values)) if values else None


def _share(hits: int, total: int) -> float | None:
    return round(hits / total, 4) if total else None


def _labels(choice) -> dict:
    return in_both_languages(choice.label)


def _reason_labels(code: str) -> dict:
    label = RatingReason.labels().get(code)
    if label is None:
        return {"zh": code, "en": code}
    return in_both_languages(label)


def hall_daily_report(*, hall: Hall, date: datetime.date, now=None) -> dict:
    """The report of one hall for one service date (see the module's docstring)."""
    return halls_daily_reports(halls=[hall], date=date, now=now)[0]


def halls_daily_reports(*, halls: list[Hall], date: datetime.date, now=None) -> list[dict]:
    """The reports of several halls for one service date, in seven queries in all."""
    now = now or timezone.now()
    halls = list(halls)
    if not halls:
        return []
    ids = [hall.pk for hall in halls]
    windows = {hall.pk: local_day(hall=hall, date=date) for hall in halls}
    earliest = min(start for start, _end in windows.values())
    latest = max(end for _start, end in windows.values())

    types = defaultdict(dict)
    for bt in BusinessType.objects.filter(hall_id__in=ids).order_by("sort_order", "code"):
        types[bt.hall_id][bt.pk] = bt
    tickets = defaultdict(list)
    for row in (
        Ticket.objects.filter(hall_id__in=ids, service_date=date)
        .order_by()
        .values_list(
            "hall_id",
            "business_type_id",
            "status",
            "issued_at",
            "called_at",
            "started_at",
            "finished_at",
            "clerk_id",
            "transfer_count",
        )
    ):
        tickets[row[0]].append(row[1:])
    pauses = defaultdict(list)
    for row in (
        Interruption.objects.filter(counter__hall_id__in=ids, started_at__lt=latest)
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gt=earliest))
        .order_by()
        .values_list("counter__hall_id", "clerk_id", "reason", "started_at", "ended_at")
    ):
        pauses[row[0]].append(row[1:])
    incidents = defaultdict(list)
    for incident in (
        Incident.objects.filter(hall_id__in=ids, opened_at__lt=latest)
        .filter(Q(resolved_at__isnull=True) | Q(resolved_at__gt=earliest))
        .order_by("opened_at", "pk")
        .only("hall", "kind", "severity", "opened_at", "resolved_at", "affected_customers")
    ):
        incidents[incident.hall_id].append(incident)
    ratings = defaultdict(list)
    for row in (
        SatisfactionRating.objects.filter(hall_id__in=ids, service_date=date)
        .order_by()
        .values_list("hall_id", "clerk_id", "rating", "reason")
    ):
        ratings[row[0]].append(row[1:])
    notices = defaultdict(Tally)
    for hall_id, status, count in (
        PhoneNotice.objects.filter(ticket__hall_id__in=ids, ticket__service_date=date)
        .order_by()
        .values_list("ticket__hall_id", "status")
        .annotate(count=Count("pk"))
    ):
        notices[hall_id][status] += count
    clerk_ids = {t[6] for rows in tickets.values() for t in rows if t[6] is not None}
    clerk_ids |= {p[0] for rows in pauses.values() for p in rows}
    clerk_ids |= {r[0] for rows in ratings.values() for r in rows if r[0] is not None}
    names = {
        user.pk: display_name(user) for user in get_user_model().objects.filter(pk__in=clerk_ids)
    }

    reports = []
    for hall in halls:
        start, end = windows[hall.pk]
        context = {"start": start, "end": end, "now": min(now, end)}
        reports.append(
            _hall_report(
                hall=hall,
                date=date,
                types=types[hall.pk],
                tickets=tickets[hall.pk],
                pauses=pauses[hall.pk],
                incidents=incidents[hall.pk],
                ratings=ratings[hall.pk],
                notices=notices[hall.pk],
                names=names,
                generated_at=now,
                **context,
            )
        )
    return reports


class _Cohort:
    """The figures of a group of tickets: arrivals, what became of them, their waits."""

    def __init__(self):
        self.statuses = Tally()
        self.transfers = 0
        self.waits: list[float] = []

    def add(self, status, issued_at, called_at, transfers) -> None:
        self.statuses[status] += 1
        self.transfers += transfers
        if status in WAIT_OVER and called_at is not None:
            self.waits.append((called_at - issued_at).total_seconds())

    def figures(self, target_s: int) -> dict:
        within = sum(wait <= target_s for wait in self.waits)
        return {
            "arrivals": sum(self.statuses.values()),
            "served": self.statuses[Status.DONE],
            "no_shows": self.statuses[Status.NO_SHOW],
            "cancelled": self.statuses[Status.CANCELLED],
            "expired": self.statuses[Status.EXPIRED],
            "transfers": self.transfers,
            "mean_wait_s": _mean(self.waits),
            "p90_wait_s": percentile(self.waits, 0.9),
            "service_level": _share(within, len(self.waits)),
        }


def _hall_report(
    *,
    hall,
    date,
    types,
    tickets,
    pauses,
    incidents,
    ratings,
    notices,
    names,
    generated_at,
    start,
    end,
    now,
) -> dict:
    target_s = hall.target_wait_minutes * 60
    tz = hall.tz

    total = _Cohort()
    by_type: dict[int, _Cohort] = defaultdict(_Cohort)
    by_hour: dict[int, _Cohort] = defaultdict(_Cohort)
    by_hour_type: dict[tuple[int, int], _Cohort] = defaultdict(_Cohort)
    service_times: dict[int, list[float]] = defaultdict(list)
    for bt_id, status, issued_at, called_at, started_at, finished_at, clerk_id, moves in tickets:
        hour = issued_at.astimezone(tz).hour
        for cohort in (total, by_type[bt_id], by_hour[hour], by_hour_type[(hour, bt_id)]):
            cohort.add(status, issued_at, called_at, moves)
        if status == Status.DONE and clerk_id is not None and finished_at is not None:
            began = started_at or called_at or finished_at
            service_times[clerk_id].append((finished_at - began).total_seconds())

    def type_fields(bt_id) -> dict:
        bt = types.get(bt_id)
        return {
            "business_type": bt.code if bt else None,
            "name_zh": bt.name_zh if bt else "",
            "name_en": bt.name_en if bt else "",
        }

    type_order = {bt_id: index for index, bt_id in enumerate(types)}
    hours = [{"hour": hour, **by_hour[hour].figures(target_s)} for hour in sorted(by_hour)]
    per_type = [
        {**type_fields(bt_id), **by_type[bt_id].figures(target_s)}
        for bt_id in sorted(by_type, key=lambda i: type_order.get(i, len(type_order)))
    ]
    hour_type = [
        {"hour": hour, **type_fields(bt_id), **by_hour_type[(hour, bt_id)].figures(target_s)}
        for hour, bt_id in sorted(
            by_hour_type, key=lambda k: (k[0], type_order.get(k[1], len(type_order)))
        )
    ]

    # Interruptions: per reason, and per clerk for the clerks' section.
    pause_count: Tally = Tally()
    pause_seconds: dict[str, float] = defaultdict(float)
    clerk_pauses: Tally = Tally()
    clerk_pause_seconds: dict[int, float] = defaultdict(float)
    for clerk_id, reason, started_at, ended_at in pauses:
        seconds = _overlap_s(started_at, ended_at, start, end, now)
        pause_count[reason] += 1
        pause_seconds[reason] += seconds
        clerk_pauses[clerk_id] += 1
        clerk_pause_seconds[clerk_id] += seconds
    interruption_rows = [
        {
            "reason": reason.value,
            "label": _labels(reason),
            "count": pause_count[reason.value],
            "minutes": round(pause_seconds[reason.value] / 60, 1),
        }
        for reason in PauseReason
        if pause_count[reason.value]
    ]

    incident_rows = []
    for incident in incidents:
        seconds = _overlap_s(incident.opened_at, incident.resolved_at, start, end, now)
        incident_rows.append(
            {
                "id": incident.pk,
                "kind": incident.kind,
                "label": _labels(IncidentKind(incident.kind)),
                "severity": incident.severity,
                "severity_label": _labels(IncidentSeverity(incident.severity)),
                "opened_at": incident.opened_at,
                "resolved_at": incident.resolved_at,
                "minutes": round(seconds / 60, 1),
                "customers_affected": incident.affected_customers,
            }
        )

    rating_tally: Tally = Tally()
    reason_tally: Tally = Tally()
    clerk_scores: dict[int | None, list[int]] = defaultdict(list)
    for clerk_id, rating, reason in ratings:
        rating_tally[rating] += 1
        if reason:
            reason_tally[reason] += 1
        clerk_scores[clerk_id].append(RATING_SCORES[Rating(rating)])
    all_scores = [score for scores in clerk_scores.values() for score in scores]
    satisfaction = {
        "ratings": len(all_scores),
        "score": round(sum(all_scores) / len(all_scores), 1) if all_scores else None,
        "target": SATISFACTION_TARGET,
        **{choice.value: rating_tally[choice.value] for choice in Rating},
        "reasons": [
            {"reason": code, "label": _reason_labels(code), "count": count}
            for code, count in sorted(reason_tally.items(), key=lambda item: (-item[1], item[0]))
        ],
    }

    clerk_ids = set(service_times) | set(clerk_pauses) | {c for c in clerk_scores if c is not None}
    clerks = []
    for clerk_id in clerk_ids:
        scores = clerk_scores.get(clerk_id, [])
        clerks.append(
            {
                "id": clerk_id,
                "name": names.get(clerk_id, ""),
                "served": len(service_times.get(clerk_id, ())),
                "mean_service_s": _mean(service_times.get(clerk_id, ())),
                "pauses": clerk_pauses[clerk_id],
                "pause_minutes": round(clerk_pause_seconds[clerk_id] / 60, 1),
                "ratings": len(scores),
                "score": round(sum(scores) / len(scores), 1) if scores else None,
            }
        )
    clerks.sort(key=lambda c: (-c["served"], c["name"], c["id"]))

    return {
        "hall": {"code": hall.code, "name": hall.name, "timezone": hall.timezone},
        "date": date,
        "generated_at": generated_at,
        "target_wait_s": target_s,
        "summary": {
            **total.figures(target_s),
            "interruptions": sum(pause_count.values()),
            "interruption_minutes": round(sum(pause_seconds.values()) / 60, 1),
            "incidents": len(incident_rows),
            "incident_minutes": round(sum(r["minutes"] for r in incident_rows), 1),
            "customers_affected": sum(r["customers_affected"] or 0 for r in incident_rows),
            "ratings": satisfaction["ratings"],
            "satisfaction": satisfaction["score"],
        },
        "by_hour": hours,
        "by_business_type": per_type,
        "by_hour_and_type": hour_type,
        "interruptions": interruption_rows,
        "incidents": incident_rows,
        "satisfaction": satisfaction,
        "phone_notices": [
            {"status": status.value, "label": _labels(status), "count": notices[status.value]}
            for status in NoticeStatus
            if notices[status.value]
        ],
        "clerks": clerks,
    }
