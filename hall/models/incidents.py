"""System faults (系统故障) and the departments responsible for them.

The Incident stays on the ground floor because the kiosk, the console and the displays (floors
below recovery) read the open ones; its handling, escalation routes and attempts live in
recovery (recovery/models/escalation.py).
"""

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone as django_timezone
from django.utils.translation import gettext_lazy as _

from hall.models.halls import BusinessType, Hall


class IncidentKind(models.TextChoices):
    BILLING = "billing", _("billing system")
    NETWORK = "network", _("network")
    PRINTER = "printer", _("printer")
    ID_READER = "id_reader", _("ID-card reader")
    POWER = "power", _("power")
    OTHER = "other", _("other")


class IncidentSeverity(models.TextChoices):
    LOW = "low", _("low")
    MEDIUM = "medium", _("medium")
    HIGH = "high", _("high")
    CRITICAL = "critical", _("critical")


class IncidentMode(models.TextChoices):
    """What the kiosk does with an affected business type while the incident is open."""

    UNAVAILABLE = "unavailable", _("temporarily unavailable")
    WARN = "warn", _("queue with a warning")


class Department(models.Model):
    """Who answers for a kind of fault: notified at once, then again until someone acknowledges.

    Its routes (recovery.DepartmentRoute) say which kinds (operator-wide, or for one hall) it
    answers for.
    """

    name = models.CharField(_("name"), max_length=100)
    webhook_url = models.URLField(_("webhook URL"), blank=True)
    webhook_secret = models.CharField(
        _("webhook secret"), max_length=200, blank=True, help_text=_("Signs each POST (HMAC).")
    )
    emails = models.TextField(_("e-mail addresses"), blank=True, help_text=_("One per line."))
    escalation_contacts = models.TextField(
        _("regional escalation contacts"),
        blank=True,
        help_text=_("E-mail addresses, one per line: told when the hall manager's turn passes."),
    )
    renotify_minutes = models.PositiveSmallIntegerField(
        _("notify again every (minutes)"), default=10, validators=[MinValueValidator(1)]
    )
    manager_after_minutes = models.PositiveSmallIntegerField(
        _("escalate to the hall manager after (minutes)"), default=30
    )
    regional_after_minutes = models.PositiveSmallIntegerField(
        _("escalate to the regional contact after (minutes)"), default=60
    )

    class Meta:
        verbose_name = _("responsible department")
        verbose_name_plural = _("responsible departments")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Incident(models.Model):
    """A system fault (系统故障) in a hall: apologised for while open, escalated until
    acknowledged, closed with its duration and the customers it affected."""

    hall = models.ForeignKey(
        Hall, on_delete=models.PROTECT, related_name="incidents", verbose_name=_("hall")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=IncidentKind.choices)
    severity = models.CharField(
        _("severity"),
        max_length=10,
        choices=IncidentSeverity.choices,
        default=IncidentSeverity.HIGH,
    )
    affects_all = models.BooleanField(_("affects every business type"), default=False)
    business_types = models.ManyToManyField(
        BusinessType, blank=True, related_name="+", verbose_name=_("affected business types")
    )
    mode = models.CharField(
        _("at the kiosk"), max_length=12, choices=IncidentMode.choices, default=IncidentMode.WARN
    )
    description = models.TextField(_("description"), blank=True)
    apology_zh = models.CharField(_("apology in Chinese"), max_length=300)
    apology_en = models.CharField(_("apology in English"), max_length=300)
    department = models.ForeignKey(
        Department,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="incidents",
        verbose_name=_("responsible department"),
    )
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("reported by"),
    )
    opened_at = models.DateTimeField(_("opened at"), default=django_timezone.now, db_index=True)
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    acknowledged_by = models.CharField(_("acknowledged by"), max_length=150, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("resolved by"),
    )
    resolution = models.TextField(_("resolution"), blank=True)
    affected_customers = models.PositiveIntegerField(_("customers affected"), null=True, blank=True)
    # Escalation: the current round and level (0 department, 1 hall manager, 2 regional).
    escalation_round = models.PositiveIntegerField(_("notification round"), default=0)
    escalation_level = models.PositiveSmallIntegerField(_("escalation level"), default=0)
    next_notify_at = models.DateTimeField(_("next notification"), null=True, blank=True)

    class Meta:
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")
        ordering = ["-opened_at"]
        indexes = [
            # The kiosk, displays and the wall ask "what is open in this hall" all the time.
            models.Index(
                fields=["hall"], condition=Q(resolved_at__isnull=True), name="incident_open"
            ),
        ]

    def __str__(self) -> str:
        return _("%(kind)s in %(hall)s from %(time)s") % {
            "kind": self.get_kind_display(),
            "hall": self.hall.code,
            "time": f"{django_timezone.localtime(self.opened_at):%Y-%m-%d %H:%M}",
        }
