"""Reading the apology log (hall.apologies writes it): what was shown, where, when, the words."""

import datetime

from django.db.models import Q
from django.utils import timezone

from counters.models import Counter
from hall.days import local_day
from hall.models import ApologyRecord, Hall
from queueing.models import Ticket


def apology_log(*, hall: Hall, date: datetime.date, now: datetime.datetime | None = None) -> list:
    """The apologies on show at some time on the hall's local ``date``, in the order they went
    up: those put up that day, and those put up earlier and still shown then (an incident that
    began the evening before). Each record gets ``counter_number``, ``ticket_number`` and
    ``duration_s`` (until withdrawn, or until ``now`` while still shown). Three queries."""
    now = now or timezone.now()
    start, end = local_day(hall=hall, date=date)
    records = list(
        ApologyRecord.objects.filter(hall=hall, shown_at__lt=end)
        .filter(Q(withdrawn_at__isnull=True) | Q(withdrawn_at__gte=start))
        .order_by("shown_at", "pk")
    )
    counter_ids = {r.counter_id for r in records if r.counter_id}
    ticket_ids = {r.ticket_id for r in records if r.ticket_id}
    numbers = (
        dict(Counter.objects.filter(pk__in=counter_ids).values_list("pk", "number"))
        if counter_ids
        else {}
    )
    tickets = (
        dict(Ticket.objects.filter(pk__in=ticket_ids).values_list("pk", "number"))
        if ticket_ids
        else {}
    )
    for record in records:
        record.counter_number = numbers.get(record.counter_id)
        record.ticket_number = tickets.get(record.ticket_id)
        until = record.withdrawn_at or now
        record.duration_s = max(0, round((until - record.shown_at).total_seconds()))
    return records
