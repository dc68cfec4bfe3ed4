"""The planner's word on a wait alert: how many counters the hall's own day calls for in the
current hour (``suggest`` on ``scenario_for_hall``: today's arrivals so far plus the typical
weekday, the hall's counters, skills and routing).

A search simulates the day some fifty times (about six seconds for the demo hall), so it runs
only in a Celery worker (``recovery.alerts``, behind ``settings.ALERT_PLANNER_ADVICE``) and its
answer is kept for the rest of the hour: a hall with several alerts in an hour searches once.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.utils import timezone

from counters.models import Counter, CounterState
from hall.cache import cache_get_or_compute
from hall.models import Hall
from queueing.planning.plan import scenario_for_hall
from queueing.planning.profiles import PlanningError
from queueing.planning.search import suggest

CACHE_SECONDS = 3600
_NOT_PLANNED = "not planned"  # cached too: the hour is outside the planned day


@dataclass(frozen=True)
class StaffingAdvice:
    hour: int  # the hall's local hour
    advised: int  # counters the planner advises for that hour
    open_now: int  # counters open (not paused, not closed) now
    reachable: bool  # False: even every counter misses the target in that hour

    def as_data(self) -> dict:
        return {
            "hour": self.hour,
            "advised": self.advised,
            "open_now": self.open_now,
            "reachable": self.reachable,
        }


def staffing_advice(*, hall: Hall, now: datetime.datetime | None = None) -> StaffingAdvice | None:
    """The planner's staffing for the hall's current hour; None when the planner cannot plan the
    hall (no business type served by a counter) or the hour is outside its day."""
    now = now or timezone.now()
    local = hall.local_now(now)
    key = f"planner-advice:{hall.pk}:{local.date().isoformat()}:{local.hour}"
    planned = cache_get_or_compute(
        key, lambda: _search(hall=hall, now=now, hour=local.hour), CACHE_SECONDS
    )
    if planned == _NOT_PLANNED:
        return None
    advised, reachable = planned
    open_now = Counter.objects.filter(hall=hall, state=CounterState.OPEN).count()
    return StaffingAdvice(local.hour, advised, open_now, reachable)


def _search(*, hall: Hall, now: datetime.datetime, hour: int) -> tuple[int, bool] | str:
    try:
        plan = scenario_for_hall(hall=hall, now=now)
    except PlanningError:
        return _NOT_PLANNED
    if hour not in plan.hours:
        return _NOT_PLANNED
    suggestion = suggest(scenario=plan, target_share=hall.service_level_target)
    return suggestion.counters_per_hour[hour], hour not in suggestion.unreachable
