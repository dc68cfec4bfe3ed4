"""Complaints and first-contact responsibility (首问负责制)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone as django_timezone
from django.utils.translation import gettext_lazy as _

from hall.models import Hall


class ComplaintCategory(models.TextChoices):
    BILLING = "billing", _("charges and billing")
    NETWORK = "network", _("network quality")
    SERVICE = "service", _("service attitude")
    BUSINESS = "business", _("business handling")
    PRODUCT = "product", _("products and packages")
    OTHER = "other", _("other")


class ComplaintStatus(models.TextChoices):
    OPEN = "open", _("awaiting reply")
    REPLIED = "replied", _("replied")


class Complaint(models.Model):
    """A complaint, owned by whoever first received it (首问负责制), with a promised callback."""

    hall = models.ForeignKey(
        Hall, on_delete=models.PROTECT, related_name="complaints", verbose_name=_("hall")
    )
    ticket = models.ForeignKey(
        "queueing.Ticket",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="complaints",
        verbose_name=_("ticket"),
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="complaints_owned",
        verbose_name=_("owner (first receiver)"),
    )
    category = models.CharField(_("category"), max_length=10, choices=ComplaintCategory.choices)
    description = models.TextField(_("description"))
    customer_name = models.CharField(_("customer's name"), max_length=50, blank=True)
    customer_phone = models.CharField(_("callback phone"), max_length=20, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=ComplaintStatus.choices, default=ComplaintStatus.OPEN
    )
    received_at = models.DateTimeField(_("received at"), default=django_timezone.now)
    callback_due_at = models.DateTimeField(_("callback promised by"), db_index=True)
    reply = models.TextField(_("reply"), blank=True)
    replied_at = models.DateTimeField(_("replied at"), null=True, blank=True)
    replied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("replied by"),
    )
    reminded_at = models.DateTimeField(_("owner reminded at"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)

    class Meta:
        db_table = "hall_complaint"  # the table kept its name from when the model lived in hall
        verbose_name = _("complaint")
        verbose_name_plural = _("complaints")
        ordering = ["-received_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="open") | Q(replied_at__isnull=False),
                name="complaint_replied_has_time",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_category_display()} @ {self.hall.code} ({self.get_status_display()})"

    @property
    def replied_on_time(self) -> bool | None:
        if self.replied_at is None:
            return None
        return self.replied_at <= self.callback_due_at
