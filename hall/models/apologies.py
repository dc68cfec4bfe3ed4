"""The apology log: every apology shown to customers."""

from django.db import models
from django.utils import timezone as django_timezone
from django.utils.translation import gettext_lazy as _

from hall.models.halls import Hall
from hall.models.incidents import Incident


class ApologySource(models.TextChoices):
    PAUSE = "pause", _("counter pause")
    INCIDENT = "incident", _("system fault")
    KIOSK = "kiosk", _("kiosk")


class ApologyPlace(models.TextChoices):
    COUNTER = "counter", _("counter display")
    LOBBY = "lobby", _("lobby display")
    KIOSK = "kiosk", _("kiosk")
    STATUS_PAGE = "status_page", _("customer status page")
    CONSOLE = "console", _("clerk console")


class ApologyRecord(models.Model):
    """An apology shown to customers: what, where, when, and the words. Never deleted."""

    hall = models.ForeignKey(
        Hall, on_delete=models.PROTECT, related_name="apologies", verbose_name=_("hall")
    )
    source = models.CharField(_("why"), max_length=10, choices=ApologySource.choices)
    place = models.CharField(_("where"), max_length=12, choices=ApologyPlace.choices)
    counter_id = models.BigIntegerField(_("counter"), null=True, blank=True)
    incident = models.ForeignKey(
        Incident,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="apologies",
        verbose_name=_("incident"),
    )
    interruption_id = models.BigIntegerField(_("interruption"), null=True, blank=True)
    ticket_id = models.BigIntegerField(_("ticket"), null=True, blank=True)
    text_zh = models.CharField(_("text in Chinese"), max_length=300)
    text_en = models.CharField(_("text in English"), max_length=300)
    shown_at = models.DateTimeField(_("shown from"), default=django_timezone.now, db_index=True)
    withdrawn_at = models.DateTimeField(_("shown until"), null=True, blank=True)

    class Meta:
        verbose_name = _("apology")
        verbose_name_plural = _("apology log")
        ordering = ["-shown_at", "-id"]
        indexes = [models.Index(fields=["hall", "shown_at"], name="apology_hall_time")]

    def __str__(self) -> str:
        at = django_timezone.localtime(self.shown_at)
        return f"{at:%Y-%m-%d %H:%M} {self.get_place_display()}: {self.text_zh}"
