"""History for the manager's wall: the hall's metrics as they stood every few minutes."""

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext_lazy as _


class MetricsSnapshot(models.Model):
    """The wall's metrics of one hall at one moment (Celery beat, every 5 minutes).

    ``slot`` is the snapshot's time rounded down to its 5-minute slot: unique per hall, so a
    beat task that runs twice stores one snapshot.
    """

    hall = models.ForeignKey(
        "hall.Hall", on_delete=models.CASCADE, related_name="+", verbose_name=_("hall")
    )
    slot = models.DateTimeField(_("slot"))
    service_date = models.DateField(_("service date"))
    taken_at = models.DateTimeField(_("taken at"))
    data = models.JSONField(_("metrics"), encoder=DjangoJSONEncoder)

    class Meta:
        verbose_name = _("metrics snapshot")
        verbose_name_plural = _("metrics snapshots")
        ordering = ["-slot"]
        constraints = [
            models.UniqueConstraint(fields=["hall", "slot"], name="metrics_snapshot_per_slot")
        ]

    def __str__(self) -> str:
        return f"{self.hall_id} {self.slot:%Y-%m-%d %H:%M}"
