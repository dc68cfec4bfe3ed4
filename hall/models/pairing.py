"""Pairing a device's browser with a short one-time code (issue 17): what the manager was shown,
and every attempt a browser made to enter one.

A code is stored as a hash (it is a secret while it lives), names one device of one hall, and
expires ``PAIRING_CODE_MINUTES`` after it was made. It is used at most once (``used_at``); making
a new code for the device withdraws the one before. Every attempt, right or wrong, is a row of
``PairingAttempt``: the throttle counts the wrong ones, and the log shows who tried.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone as django_timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from hall.models.halls import Device, Hall


class DevicePairing(models.Model):
    """A one-time code that binds a browser to ``device``; never deleted."""

    hall = models.ForeignKey(
        Hall, on_delete=models.PROTECT, related_name="pairings", verbose_name=_("hall")
    )
    device = models.ForeignKey(
        Device, on_delete=models.PROTECT, related_name="pairings", verbose_name=_("device")
    )
    code_hash = models.CharField(max_length=64, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("made by"),
    )
    created_at = models.DateTimeField(_("made at"), default=django_timezone.now, editable=False)
    expires_at = models.DateTimeField(_("expires at"))
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("device pairing code")
        verbose_name_plural = _("device pairing codes")
        ordering = ["-id"]
        # The lookup of a code entered on a hall's device page: the live codes of that hall.
        indexes = [models.Index(fields=["hall", "code_hash"], name="pairing_hall_code")]

    def __str__(self) -> str:
        return f"{self.device} ({self.created_at:%Y-%m-%d %H:%M})"


class PairingAttempt(models.Model):
    """One code entered on a device page: the hall's page, the browser's address, the outcome."""

    hall = models.ForeignKey(
        Hall, on_delete=models.PROTECT, related_name="+", verbose_name=_("hall")
    )
    at = models.DateTimeField(_("at"), default=django_timezone.now, editable=False)
    address = models.GenericIPAddressField(_("address"), null=True, blank=True)
    page = models.CharField(_("page"), max_length=200, blank=True)
    paired = models.BooleanField(_("paired"), default=False)
    pairing = models.ForeignKey(
        DevicePairing, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    outcome = models.CharField(pgettext_lazy("of a pairing attempt", "outcome"), max_length=20)

    class Meta:
        verbose_name = _("pairing attempt")
        verbose_name_plural = _("pairing attempts")
        ordering = ["-id"]
        # The throttle: a hall's (and an address's) wrong attempts of the last minutes.
        indexes = [models.Index(fields=["hall", "at"], name="pairing_attempt_hall_at")]

    def __str__(self) -> str:
        return f"{self.hall_id} {self.at:%Y-%m-%d %H:%M:%S} {self.outcome}"
