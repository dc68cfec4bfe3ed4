"""Thin Celery tasks of appointments: ids in, call a service; idempotent."""

from celery import shared_task

from hall.models import Hall
from queueing.appointments.sending import phone_verification_send
from queueing.appointments.sweeps import bookings_mark_no_shows


@shared_task(acks_late=True)
def send_phone_verification(verification_id: int) -> str:
    """Idempotent: the row is claimed (pending → sending) before the code is sent."""
    return phone_verification_send(verification_id=verification_id)


@shared_task(acks_late=True)
def mark_no_shows_all_halls() -> int:
    """Beat: bookings whose check-in window closed unused become no-shows."""
    return sum(bookings_mark_no_shows(hall=hall) for hall in Hall.objects.all())
