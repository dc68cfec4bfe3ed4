"""Thin Celery tasks for halls. Each is idempotent. (Alerts, escalation and complaint follow-up
are recovery's: recovery/tasks.py.)"""

import datetime

from celery import shared_task
from django.utils import timezone

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
