"""Counters, clerk sessions at them, and service interruptions (pauses with an apology)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from queueing import router


class CounterKind(models.TextChoices):
    GENERAL = "general", _("general")
    VIP = "vip", _("VIP")
    EXPRESS = "express", _("express")


class VipMode(models.TextChoices):
    NONE = router.VipMode.NONE, _("no VIP preference")
    VIP_FIRST = router.VipMode.VIP_FIRST, _("VIP first, others when no VIP waits")
    VIP_ONLY = router.VipMode.VIP_ONLY, _("VIP only")


class CounterState(models.TextChoices):
    CLOSED = "closed", _("closed")
    OPEN = "open", _("open")
    PAUSED = "paused", _("paused")


class Counter(models.Model):
    hall = models.ForeignKey(
        "hall.Hall", on_delete=models.CASCADE, related_name="counters", verbose_name=_("hall")
    )
    number = models.PositiveSmallIntegerField(_("number"))
    name = models.CharField(_("name"), max_length=50, blank=True)
    kind = models.CharField(
        _("kind"), max_length=10, choices=CounterKind.choices, default=CounterKind.GENERAL
    )
    business_types = models.ManyToManyField(
        "hall.BusinessType", related_name="counters", verbose_name=_("business types served")
    )
    vip_mode = models.CharField(
        _("VIP behaviour"), max_length=10, choices=VipMode.choices, default=VipMode.NONE
    )
    state = models.CharField(
        _("state"), max_length=10, choices=CounterState.choices, default=CounterState.CLOSED
    )
    clerk = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="counters",
        verbose_name=_("clerk"),
        help_text=_("The clerk signed in at this counter."),
    )
    state_changed_at = models.DateTimeField(_("state changed at"), default=timezone.now)
    # The hall seq of the last live event that concerned this counter. Its display stream gets
    # only those events, each with the previous one's seq, so a lost message shows as a gap.
    last_event_seq = models.BigIntegerField(default=0, editable=False)

    class Meta:
        verbose_name = _("counter")
        verbose_name_plural = _("counters")
        ordering = ["hall", "number"]
        constraints = [
            models.UniqueConstraint(fields=["hall", "number"], name="counter_number_unique"),
            models.UniqueConstraint(
                fields=["clerk"], condition=Q(clerk__isnull=False), name="clerk_at_one_counter"
            ),
            models.CheckConstraint(
                condition=Q(state=CounterState.CLOSED, clerk__isnull=True)
                | (~Q(state=CounterState.CLOSED) & Q(clerk__isnull=False)),
                name="open_counter_has_clerk",
            ),
        ]

    def __str__(self) -> str:
        return _("Counter %(number)s") % {"number": self.number}


class ClerkSession(models.Model):
    """A clerk signed in at a counter, from open to close."""

    counter = models.ForeignKey(
        Counter, on_delete=models.PROTECT, related_name="sessions", verbose_name=_("counter")
    )
    clerk = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("clerk"),
    )
    started_at = models.DateTimeField(_("started at"), default=timezone.now)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)

    class Meta:
        verbose_name = _("clerk session")
        verbose_name_plural = _("clerk sessions")
        constraints = [
            models.UniqueConstraint(
                fields=["counter"], condition=Q(ended_at__isnull=True), name="one_open_session"
            )
        ]

    def __str__(self) -> str:
        return _("%(clerk)s at %(counter)s from %(time)s") % {
            "clerk": self.clerk,
            "counter": self.counter,
            "time": f"{timezone.localtime(self.started_at):%Y-%m-%d %H:%M}",
        }


class PauseReason(models.TextChoices):
    PHONE_CALL = "phone_call", _("phone call")
    FETCHING_MATERIALS = "fetching_materials", _("fetching materials")
    SYSTEM_FAULT = "system_fault", _("system fault")
    BREAK = "break", _("break")
    HANDOVER = "handover", _("handover")
    OTHER = "other", _("other")


class Interruption(models.Model):
    """A pause of service at a counter, with the apology shown to customers while it lasts."""

    counter = models.ForeignKey(
        Counter, on_delete=models.PROTECT, related_name="interruptions", verbose_name=_("counter")
    )
    clerk = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("clerk"),
    )
    reason = models.CharField(_("reason"), max_length=20, choices=PauseReason.choices)
    note = models.CharField(_("note"), max_length=200, blank=True)
    apology_zh = models.CharField(_("apology in Chinese"), max_length=200)
    apology_en = models.CharField(_("apology in English"), max_length=200)
    ticket = models.ForeignKey(
        "queueing.Ticket",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("ticket"),
        help_text=_("The ticket being served when the pause began; it resumes after."),
    )
    started_at = models.DateTimeField(_("started at"), default=timezone.now)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)

    class Meta:
        verbose_name = _("service interruption")
        verbose_name_plural = _("service interruptions")
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["counter"],
                condition=Q(ended_at__isnull=True),
                name="one_open_interruption_per_counter",
            )
        ]

    def __str__(self) -> str:
        return _("%(counter)s: %(reason)s from %(time)s") % {
            "counter": self.counter,
            "reason": self.get_reason_display(),
            "time": f"{timezone.localtime(self.started_at):%H:%M}",
        }


class Rating(models.TextChoices):
    """The customer's rating after service (满意度), and its score out of 100."""

    VERY_SATISFIED = "very_satisfied", _("very satisfied")
    SATISFIED = "satisfied", _("satisfied")
    DISSATISFIED = "dissatisfied", _("dissatisfied")


RATING_SCORES = {Rating.VERY_SATISFIED: 100, Rating.SATISFIED: 80, Rating.DISSATISFIED: 0}


class SatisfactionRating(models.Model):
    """One customer's rating of one finished ticket, against its counter and clerk."""

    ticket = models.OneToOneField(
        "queueing.Ticket",
        on_delete=models.PROTECT,
        related_name="rating",
        verbose_name=_("ticket"),
    )
    hall = models.ForeignKey(
        "hall.Hall", on_delete=models.PROTECT, related_name="+", verbose_name=_("hall")
    )
    counter = models.ForeignKey(
        Counter, on_delete=models.PROTECT, related_name="ratings", verbose_name=_("counter")
    )
    clerk = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("clerk"),
    )
    rating = models.CharField(_("rating"), max_length=16, choices=Rating.choices)
    score = models.PositiveSmallIntegerField(_("score"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    service_date = models.DateField(_("service date"))
    rated_at = models.DateTimeField(_("rated at"), default=timezone.now)

    class Meta:
        verbose_name = _("satisfaction rating")
        verbose_name_plural = _("satisfaction ratings")
        ordering = ["-rated_at"]
        indexes = [models.Index(fields=["hall", "service_date"], name="rating_hall_day")]
        constraints = [
            models.CheckConstraint(condition=Q(score__lte=100), name="rating_score_0_to_100")
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.get_rating_display()}"
