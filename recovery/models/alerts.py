"""Alerts for the duty manager (the wall and a message through Celery)."""

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils import timezone as django_timezone
from django.utils.translation import gettext_lazy as _

from hall.models import Hall


class AlertKind(models.TextChoices):
    LONG_WAIT = "long_wait", _("longest wait past the target")
    MANY_WAITING = "many_waiting", _("too many waiting")
    LONG_PAUSE = "long_pause", _("counter paused too long")
    NO_COUNTER_OPEN = "no_counter_open", _("people waiting and no counter open for them")
    COMPLAINT_OVERDUE = "complaint_overdue", _("complaint callback overdue")


class ManagerAlert(models.Model):
    """Something the duty manager should act on: raised once while it lasts, shown on the wall,
    sent to the hall's managers through Celery, cleared when the condition ends."""

    hall = models.ForeignKey(
        Hall, on_delete=models.PROTECT, related_name="alerts", verbose_name=_("hall")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=AlertKind.choices)
    # What the alert is about; "" for the hall as a whole. E.g. "bt:<code>", "counter:<id>",
    # "complaint:<id>". One open alert per (hall, kind, subject).
    subject = models.CharField(_("about"), max_length=60, blank=True)
    message_zh = models.CharField(_("message in Chinese"), max_length=300)
    message_en = models.CharField(_("message in English"), max_length=300)
    suggestion_zh = models.CharField(_("suggestion in Chinese"), max_length=300, blank=True)
    suggestion_en = models.CharField(_("suggestion in English"), max_length=300, blank=True)
    data = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    raised_at = models.DateTimeField(_("raised at"), default=django_timezone.now, db_index=True)
    notified_at = models.DateTimeField(_("managers told at"), null=True, blank=True)
    cleared_at = models.DateTimeField(_("cleared at"), null=True, blank=True)

    class Meta:
        db_table = "hall_manageralert"  # the table kept its name from when the model lived in hall
        verbose_name = _("manager alert")
        verbose_name_plural = _("manager alerts")
        ordering = ["-raised_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["hall", "kind", "subject"],
                condition=Q(cleared_at__isnull=True),
                name="one_open_alert_per_subject",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.subject} @ {self.hall.code}"
