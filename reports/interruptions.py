"""Service interruptions reported by clerk, reason and day (服务中断): each pause with its
duration and the apology customers saw, and totals per clerk and per reason.

A pause belongs to the day (the hall's local date) it began on. One that is still going is
counted up to ``now`` and marked ``ongoing``. (Alerting on a pause that lasts too long is
recovery.alerts' job, not this report's.)
"""

import datetime
from dataclasses import dataclass, field

from django.utils import timezone

from counters.models import Interruption, PauseReason
from hall.days import local_day
from hall.models import Hall
from hall.people import display_name


@dataclass
class InterruptionTotal:
    count: int = 0
    duration_s: int = 0


@dataclass
class ClerkTotal(InterruptionTotal):
    clerk: object = None


@dataclass
class ReasonTotal(InterruptionTotal):
    reason: str = ""

    @property
    def reason_label(self) -> str:
        return PauseReason(self.reason).label


@dataclass
class InterruptionsReport:
    date: datetime.date
    interruptions: list = field(default_factory=list)
    by_clerk: list[ClerkTotal] = field(default_factory=list)
    by_reason: list[ReasonTotal] = field(default_factory=list)
    total: InterruptionTotal = field(default_factory=InterruptionTotal)


def interruptions_report(
    *,
    hall: Hall,
    date: datetime.date,
    clerk=None,
    now: datetime.datetime | None = None,
) -> InterruptionsReport:
    """The pauses that began on the hall's local ``date`` (optionally one clerk's), oldest
    first, each with ``duration_s`` and ``ongoing``; totals per clerk (most paused first) and
    per reason. One query."""
    now = now or timezone.now()
    start, end = local_day(hall=hall, date=date)
    pauses = (
        Interruption.objects.filter(counter__hall=hall, started_at__gte=start, started_at__lt=end)
        .select_related("counter", "clerk", "ticket")
        .order_by("started_at", "pk")
    )
    if clerk is not None:
        pauses = pauses.filter(clerk=clerk)
    report = InterruptionsReport(date=date)
    clerks: dict[int, ClerkTotal] = {}
    reasons: dict[str, ReasonTotal] = {}
    for pause in pauses:
        pause.ongoing = pause.ended_at is None
        until = pause.ended_at or now
        pause.duration_s = max(0, round((until - pause.started_at).total_seconds()))
        pause.clerk_name = display_name(pause.clerk)
        report.interruptions.append(pause)
        for total in (
            clerks.setdefault(pause.clerk_id, ClerkTotal(clerk=pause.clerk)),
            reasons.setdefault(pause.reason, ReasonTotal(reason=pause.reason)),
            report.total,
        ):
            total.count += 1
            total.duration_s += pause.duration_s
    report.by_clerk = sorted(clerks.values(), key=lambda t: (-t.duration_s, display_name(t.clerk)))
    report.by_reason = sorted(reasons.values(), key=lambda t: (-t.duration_s, t.reason))
    return report
