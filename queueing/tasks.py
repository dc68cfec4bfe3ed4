"""Thin Celery tasks: ids in, call a service. Each is idempotent (day_close is)."""

from celery import shared_task

from hall.models import Hall
from queueing.appointments import tasks as appointment_tasks  # noqa: F401  (the worker finds them)
from queueing.notices import (
    MAX_ATTEMPTS,
    NoticeFailed,
    phone_notice_send,
    phone_notices_resend,
)
from queueing.services import day_close


@shared_task(acks_late=True)
def close_day_for_hall(hall_id: int) -> int:
    hall = Hall.objects.filter(pk=hall_id).first()
    return day_close(hall=hall) if hall is not None else 0


@shared_task
def close_day_all_halls() -> None:
    for hall_id in Hall.objects.values_list("pk", flat=True):
        close_day_for_hall.delay(hall_id)


@shared_task(
    bind=True,
    acks_late=True,
    autoretry_for=(NoticeFailed,),
    retry_backoff=10,
    retry_backoff_max=300,
    max_retries=MAX_ATTEMPTS - 1,
)
def send_phone_notice(self, notice_id: int) -> str:
    """Idempotent: the service claims the notice before sending and never sends it twice."""
    return phone_notice_send(notice_id=notice_id)


@shared_task
def resend_phone_notices() -> int:
    """Beat: send again the notices whose task was lost (a worker died, the broker was down)."""
    notice_ids = phone_notices_resend()
    for notice_id in notice_ids:
        send_phone_notice.delay(notice_id)
    return len(notice_ids)
