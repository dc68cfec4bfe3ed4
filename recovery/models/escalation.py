"""Incident escalation: which department answers for a kind of fault (routes), and each try at
telling someone (attempts). The tables keep their names from when they lived in hall."""

from django.db import models
from django.db.models import Q
from django.utils import timezone as django_timezone
from django.utils.translation import gettext_lazy as _

from hall.models import Department, Hall, Incident, IncidentKind


class DepartmentRoute(models.Model):
    """A kind of fault and the department responsible for it: in one hall, or (hall empty) in
    every hall without a route of its own."""

    department = models.ForeignKey(
        Department, on_delete=models.CASCADE, related_name="routes", verbose_name=_("department")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=IncidentKind.choices)
    hall = models.ForeignKey(
        Hall,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="department_routes",
        verbose_name=_("hall"),
        help_text=_("Empty: every hall."),
    )

    class Meta:
        db_table = "hall_departmentroute"
        verbose_name = _("department route")
        verbose_name_plural = _("department routes")
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "hall"], condition=Q(hall__isnull=False), name="route_kind_hall"
            ),
            models.UniqueConstraint(
                fields=["kind"], condition=Q(hall__isnull=True), name="route_kind_everywhere"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} → {self.department}"


class EscalationLevel(models.IntegerChoices):
    DEPARTMENT = 0, _("responsible department")
    MANAGER = 1, _("hall manager")
    REGIONAL = 2, _("regional contact")


class NotificationChannel(models.TextChoices):
    WEBHOOK = "webhook", _("webhook")
    EMAIL = "email", _("e-mail")


class AttemptStatus(models.TextChoices):
    PENDING = "pending", _("sending")
    SENT = "sent", _("sent")
    FAILED = "failed", _("failed")


class EscalationAttempt(models.Model):
    """One try at telling one recipient about an incident, with its result. Never deleted.

    The row is claimed (inserted, unique per incident, round, recipient and try) before anything
    is sent, so a task that runs twice sends nothing twice.
    """

    incident = models.ForeignKey(
        Incident, on_delete=models.PROTECT, related_name="attempts", verbose_name=_("incident")
    )
    round = models.PositiveIntegerField(_("round"))
    level = models.PositiveSmallIntegerField(_("level"), choices=EscalationLevel.choices)
    channel = models.CharField(_("channel"), max_length=10, choices=NotificationChannel.choices)
    target = models.CharField(_("to"), max_length=300)
    try_number = models.PositiveSmallIntegerField(_("try"), default=1)
    status = models.CharField(
        _("result"), max_length=10, choices=AttemptStatus.choices, default=AttemptStatus.PENDING
    )
    response_code = models.PositiveSmallIntegerField(_("response code"), null=True, blank=True)
    error = models.CharField(_("error"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("at"), default=django_timezone.now)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        db_table = "hall_escalationattempt"
        verbose_name = _("escalation attempt")
        verbose_name_plural = _("escalation attempts")
        ordering = ["incident", "round", "created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "round", "channel", "target", "try_number"],
                name="escalation_attempt_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.incident_id} #{self.round} {self.channel} {self.target}: {self.status}"
