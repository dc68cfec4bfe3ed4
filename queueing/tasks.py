"""Thin Celery tasks: ids in, call a service. Each is idempotent (day_close is)."""

from celery import shared_task

from hall.models import Hall
from queueing.services import day_close


@shared_task(acks_late=True)
def close_day_for_hall(hall_id: int) -> int:
    hall = Hall.objects.filter(pk=hall_id).first()
    return day_close(hall=hall) if hall is not None else 0


@shared_task
def close_day_all_halls() -> None:
    for hall_id in Hall.objects.values_list("pk", flat=True):
        close_day_for_hall.delay(hall_id)
