"""Thin Celery tasks of service recovery: the managers' alerts, incident escalation and complaint
follow-up. Ids in, a service called; each is idempotent (a claim or a compare-and-set in the
service), because Celery may run one twice."""

from celery import shared_task

from hall.models import Hall
from recovery.alerts import alert_halls_to_check, alert_notify_send, alerts_check, alerts_untold
from recovery.complaints import complaint_escalate, complaint_remind
from recovery.escalation import (
    attempt_retry,
    escalation_due,
    escalation_lost_retries,
    escalation_run,
)
from recovery.selectors import complaints_to_follow_up


@shared_task(bind=True, max_retries=5, default_retry_delay=60)
def alert_notify(self, alert_id: int) -> bool:
    """E-mail the hall's managers about a new alert (recovery.alerts); sends at most once."""
    try:
        return alert_notify_send(alert_id=alert_id)
    except Exception as exc:  # the mail server is down: try again later, the claim was returned
        raise self.retry(exc=exc) from exc


@shared_task
def check_alerts_all_halls() -> int:
    """Beat, every minute: one ``check_hall_alerts`` per hall that may need one, and the
    e-mail of alerts whose ``alert_notify`` was lost (the broker was down when they rose)."""
    hall_ids = alert_halls_to_check()
    for hall_id in hall_ids:
        check_hall_alerts.delay(hall_id)
    for alert_id in alerts_untold():
        alert_notify.delay(alert_id)
    return len(hall_ids)


@shared_task
def check_hall_alerts(hall_id: int) -> dict:
    """Raise and clear the hall's wait and pause alerts (recovery.alerts.alerts_check)."""
    hall = Hall.objects.filter(pk=hall_id).first()
    return {} if hall is None else alerts_check(hall=hall)


# --- incident escalation (recovery/escalation.py) ---------------------------------------------


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


# --- complaint follow-up (recovery/complaints.py) ---------------------------------------------


@shared_task
def complaints_follow_up() -> dict:
    """Beat, every minute: remind owners of callbacks due soon, escalate those past due."""
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
    try:
        return complaint_remind(complaint_id=complaint_id)
    except Exception as exc:  # the mail server is down: try again later
        raise self.retry(exc=exc) from exc


@shared_task
def escalate_complaint(complaint_id: int) -> bool:
    """Alert the managers of a complaint past its deadline, once (``escalated_at``)."""
    return complaint_escalate(complaint_id=complaint_id)


# --- the names these tasks had before they moved from hall/tasks.py (issue 15) -----------------
# Messages queued by the previous release (a countdown retry, a beat tick) carry the old names;
# these aliases run them. The beat schedule (config/settings.py) uses the new names.


@shared_task(name="hall.tasks.alert_notify")
def _legacy_alert_notify(alert_id: int) -> None:
    alert_notify.delay(alert_id)


@shared_task(name="hall.tasks.check_alerts_all_halls")
def _legacy_check_alerts_all_halls() -> None:
    check_alerts_all_halls.delay()


@shared_task(name="hall.tasks.check_hall_alerts")
def _legacy_check_hall_alerts(hall_id: int) -> None:
    check_hall_alerts.delay(hall_id)


@shared_task(name="hall.tasks.escalate_incident")
def _legacy_escalate_incident(incident_id: int) -> None:
    escalate_incident.delay(incident_id)


@shared_task(name="hall.tasks.retry_escalation_attempt")
def _legacy_retry_escalation_attempt(attempt_id: int) -> None:
    retry_escalation_attempt.delay(attempt_id)


@shared_task(name="hall.tasks.escalate_incidents")
def _legacy_escalate_incidents() -> None:
    escalate_incidents.delay()


@shared_task(name="hall.tasks.complaints_follow_up")
def _legacy_complaints_follow_up() -> None:
    complaints_follow_up.delay()


@shared_task(name="hall.tasks.remind_complaint_owner")
def _legacy_remind_complaint_owner(complaint_id: int) -> None:
    remind_complaint_owner.delay(complaint_id)


@shared_task(name="hall.tasks.escalate_complaint")
def _legacy_escalate_complaint(complaint_id: int) -> None:
    escalate_complaint.delay(complaint_id)
