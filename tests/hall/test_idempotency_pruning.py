import datetime

from django.conf import settings
from django.utils import timezone

from config.celery import app as celery_app
from hall.models import IdempotentRequest
from hall.tasks import IDEMPOTENCY_KEY_LIFETIME


def test_beat_forgets_idempotency_keys_past_their_lifetime(db):
    old = IdempotentRequest.objects.create(
        scope="device:1",
        key="old",
        fingerprint="x",
        created_at=timezone.now() - IDEMPOTENCY_KEY_LIFETIME - datetime.timedelta(minutes=1),
    )
    fresh = IdempotentRequest.objects.create(scope="device:1", key="fresh", fingerprint="x")
    task = settings.CELERY_BEAT_SCHEDULE["prune-idempotency-keys"]["task"]

    assert celery_app.tasks[task].delay().get() == 1

    assert list(IdempotentRequest.objects.values_list("pk", flat=True)) == [fresh.pk]
    assert not IdempotentRequest.objects.filter(pk=old.pk).exists()
