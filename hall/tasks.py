"""Thin Celery tasks for halls. Each is idempotent."""

import datetime

from celery import shared_task
from django.utils import timezone

from hall.escalation import (
    attempt_retry,
    escalation_due,
    escalation_lost_retries,
    escalation_run,
)
from hall.models import IdempotentRequest

# A device or console retries within seconds or minutes; a day is ample, two are generous.
IDEMPOTENCY_KEY_LIFETIME = datetime.timedelta(hours=48)


@shared_task
def prune_idempotency_keys() -> int:
    """Forget stored first responses older than the key lifetime (they are a cache, not a log:
    the audit events are the record)."""
    cutoff = timezone.now() - IDEMPOTENCY_KEY_LIFETIME
    deleted, _ = IdempotentRequest.objects.filter(created_at__lt=cutoff).delete()
    return deleted


@shared_task(bind=True, max_retries=5, default_retry_delay=60)
def alert_notify(self, alert_id: int) -> bool:
    """E-mail the hall's managers about a new alert (hall.alerts); sends at most once."""
    from hall.alerts import alert_notify_send

    try:
        return alert_notify_send(alert_id=alert_id)
    except Exception as exc:  # the mail server is down: try again later, the claim was returned
        raise self.retry(exc=exc) from exc


@shared_task
def check_alerts_all_halls() -> int:
    """Beat, every minute: one ``check_hall_alerts`` per hall that may need one, and the
    e-mail of alerts whose ``alert_notify`` was lost (the broker was down when they rose)."""
    from hall.alerts import alert_halls_to_check, alerts_untold

    hall_ids = alert_halls_to_check()
    for hall_id in hall_ids:
        check_hall_alerts.delay(hall_id)
    for alert_id in alerts_untold():
        alert_notify.delay(alert_id)
    return len(hall_ids)


@shared_task
def check_hall_alerts(hall_id: int) -> dict:
    """Raise and clear the hall's wait and pause alerts (hall.alerts.alerts_check)."""
    from hall.alerts import alerts_check
    from hall.models import Hall

    hall = Hall.objects.filter(pk=hall_id).first()
    return {} if hall is None else alerts_check(hall=hall)


# --- incident escalation (hall/escalation.py) ---------------------------------------------------


@shared_task(acks_late=True)
def escalate_incident(incident_id: int) -> int:
    """Send the incident's due round (or its resolution). Idempotent: rounds are claimed by
    compare-and-set and each send by inserting its attempt row, so a second run sends nothing."""
    return len(escalation_run(incident_id=incident_id))


@shared_task(acks_late=True)
def retry_escalation_attempt(attempt_id: int) -> str | None:
    """The next try after a failed attempt (scheduled with a backoff). Idempotent: the next try's
    row is the claim."""
    attempt = attempt_retry(attempt_id=attempt_id)
    return attempt.status if attempt is not None else None


@shared_task
def escalate_incidents() -> int:
    """Beat, every minute: the due rounds of every hall, and retries whose task was lost."""
    incident_ids = escalation_due()
    for incident_id in incident_ids:
        escalate_incident.delay(incident_id)
    for attempt_id in escalation_lost_retries():
        retry_escalation_attempt.delay(attempt_id)
    return len(incident_ids)


# --- complaint follow-up (hall/complaints.py) ---------------------------------------------------


@shared_task
def complaints_follow_up() -> dict:
    """Beat, every minute: remind owners of callbacks due soon, escalate those past due."""
    from hall.complaints import complaints_to_follow_up

    due = complaints_to_follow_up()
    for complaint_id in due["remind"]:
        remind_complaint_owner.delay(complaint_id)
    for complaint_id in due["escalate"]:
        escalate_complaint.delay(complaint_id)
    return {key: len(ids) for key, ids in due.items()}


@shared_task(bind=True, max_retries=5, default_retry_delay=60)
def remind_complaint_owner(self, complaint_id: int) -> bool:
    """E-mail the owner before the deadline; sends at most once (compare-and-set on
    ``reminded_at``, given back when the send fails so that the retry sends)."""
    from hall.complaints import complaint_remind

    try:
        return complaint_remind(complaint_id=complaint_id)
    except Exception as exc:  # the mail server is down: try again later
        raise self.retry(exc=exc) from exc


@shared_task
def escalate_complaint(complaint_id: int) -> bool:
    """Alert the managers of a complaint past its deadline, once (``escalated_at``)."""
    from hall.complaints import complaint_escalate

    return complaint_escalate(complaint_id=complaint_id)
