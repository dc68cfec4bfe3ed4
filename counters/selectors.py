"""Reads about counters: the list for a hall, and a counter's open interruption."""

from counters.models import Counter, Interruption


def hall_counters(*, hall):
    return (
        Counter.objects.filter(hall=hall)
        .select_related("clerk")
        .prefetch_related("business_types")
        .order_by("number")
    )


def counter_interruption(*, counter: Counter) -> Interruption | None:
    return Interruption.objects.filter(counter=counter, ended_at__isnull=True).first()
