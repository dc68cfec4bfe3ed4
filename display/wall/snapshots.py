"""History for the wall: the hall's metrics (``display.wall.metrics.hall_metrics``) stored every
5 minutes as a ``MetricsSnapshot`` (Celery beat: ``display.tasks``).

A snapshot belongs to the 5-minute slot its time falls in; the unique (hall, slot) constraint
makes taking one idempotent: a task that runs twice, or two workers at once, store one. Taking a
snapshot changes no state of the hall (it is derived history, like a cache), so it writes no
audit event and publishes nothing.
"""

import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from display.models import MetricsSnapshot
from display.wall.metrics import hall_metrics
from hall.models import Hall

SNAPSHOT_EVERY = datetime.timedelta(minutes=5)


def snapshot_slot(moment: datetime.datetime) -> datetime.datetime:
    """``moment`` rounded down to its 5-minute slot (on the UTC clock, which every timezone's
    quarter hours share)."""
    step = int(SNAPSHOT_EVERY.total_seconds())
    utc = moment.astimezone(datetime.UTC)
    seconds = utc.hour * 3600 + utc.minute * 60 + utc.second
    return utc.replace(hour=0, minute=0, second=0, microsecond=0) + datetime.timedelta(
        seconds=seconds - seconds % step
    )


def metrics_snapshot_take(*, hall: Hall, now: datetime.datetime | None = None):
    """Store the hall's metrics at ``now`` in its slot. Returns the snapshot, or None when the
    slot already has one (checked before computing, so a repeated task costs one query)."""
    now = now or timezone.now()
    slot = snapshot_slot(now)
    if MetricsSnapshot.objects.filter(hall=hall, slot=slot).exists():
        return None
    data = hall_metrics(hall=hall, now=now)
    try:
        with transaction.atomic():
            return MetricsSnapshot.objects.create(
                hall=hall, slot=slot, service_date=hall.service_date(now), taken_at=now, data=data
            )
    except IntegrityError:  # another worker stored this slot meanwhile
        return None


def open_hall_ids(*, now: datetime.datetime | None = None) -> list[int]:
    """The halls open at ``now`` (their own opening hours, in their own timezones)."""
    now = now or timezone.now()
    return [hall.pk for hall in Hall.objects.order_by("pk") if hall.is_open_at(now)]
