"""Bookable slots, bookings and phone verification codes (issue 18).

Imported by ``queueing.models`` (so Django registers them in the queueing app); foreign keys to
other queueing models are by name, so this module imports nothing of it.
"""

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def validate_weekdays(value: str) -> None:
    if not value or any(c not in "0123456" for c in value) or len(set(value)) != len(value):
        raise ValidationError(_("Give the opening days as digits 0 (Monday) to 6 (Sunday)."))


class BookingSettings(models.Model):
    """A hall's rules for bookings. A hall without a row uses the defaults (``for_hall``)."""

    hall = models.OneToOneField(
        "hall.Hall",
        on_delete=models.CASCADE,
        related_name="booking_settings",
        verbose_name=_("hall"),
    )
    open_weekdays = models.CharField(
        _("days open for bookings"),
        max_length=7,
        default="0123456",
        validators=[validate_weekdays],
        help_text=_("Digits 0 (Monday) to 6 (Sunday). Holidays are listed apart."),
    )
    days_ahead = models.PositiveSmallIntegerField(
        _("days ahead"), default=7, help_text=_("How many days ahead a customer may book.")
    )
    min_lead_minutes = models.PositiveSmallIntegerField(
        _("minimum notice (minutes)"),
        default=30,
        help_text=_("A slot starting sooner than this can no longer be booked."),
    )
    cancel_deadline_minutes = models.PositiveSmallIntegerField(
        _("cancel deadline (minutes before the slot)"), default=60
    )
    check_in_early_minutes = models.PositiveSmallIntegerField(
        _("check-in opens (minutes before the slot)"), default=15
    )
    check_in_late_minutes = models.PositiveSmallIntegerField(
        _("check-in closes (minutes after the slot)"),
        default=30,
        help_text=_("Later than this a booking becomes a walk-in ticket."),
    )
    no_show_limit = models.PositiveSmallIntegerField(
        _("no-shows before a bar"),
        default=3,
        help_text=_("A phone with this many no-shows in the period may not book. 0: never."),
    )
    no_show_period_days = models.PositiveSmallIntegerField(_("no-show period (days)"), default=30)

    class Meta:
        verbose_name = _("booking settings")
        verbose_name_plural = _("booking settings")

    def __str__(self) -> str:
        return str(self.hall)

    @classmethod
    def for_hall(cls, hall) -> "BookingSettings":
        """The hall's settings, or the defaults (unsaved) when it has none."""
        return cls.objects.filter(hall=hall).first() or cls(hall=hall)


class BookingHoliday(models.Model):
    """A day a hall takes no bookings (a public holiday, a refit)."""

    hall = models.ForeignKey(
        "hall.Hall",
        on_delete=models.CASCADE,
        related_name="booking_holidays",
        verbose_name=_("hall"),
    )
    date = models.DateField(_("date"))
    name = models.CharField(_("name"), max_length=60, blank=True)

    class Meta:
        verbose_name = _("holiday (no bookings)")
        verbose_name_plural = _("holidays (no bookings)")
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["hall", "date"], name="booking_holiday_unique")
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.name}"


class BookableBusiness(models.Model):
    """A business type customers may book, with its slot length and places per slot."""

    business_type = models.OneToOneField(
        "hall.BusinessType",
        on_delete=models.CASCADE,
        related_name="booking",
        verbose_name=_("business type"),
    )
    slot_minutes = models.PositiveSmallIntegerField(_("slot length (minutes)"), default=30)
    quota_per_slot = models.PositiveSmallIntegerField(
        _("places per slot"),
        default=2,
        help_text=_("Bookings taken per slot; walk-ins fill the rest of the counters' time."),
    )
    active = models.BooleanField(_("bookable"), default=True)

    class Meta:
        verbose_name = _("bookable business")
        verbose_name_plural = _("bookable businesses")
        constraints = [
            models.CheckConstraint(
                condition=Q(slot_minutes__gte=5) & Q(slot_minutes__lte=240),
                name="bookable_slot_minutes_range",
            )
        ]

    def __str__(self) -> str:
        return str(self.business_type)


class BookingSlot(models.Model):
    """The places taken in one slot: the row that every booking of the slot updates.

    ``booked`` is raised by one conditional UPDATE (``booked < quota``), so of two customers
    taking the last place at once exactly one gets it; the constraint is the last guard.
    """

    business_type = models.ForeignKey(
        "hall.BusinessType", on_delete=models.CASCADE, related_name="+"
    )
    starts_at = models.DateTimeField(_("starts at"))
    booked = models.PositiveSmallIntegerField(_("places taken"), default=0)

    class Meta:
        verbose_name = _("booking slot")
        verbose_name_plural = _("booking slots")
        constraints = [
            models.UniqueConstraint(
                fields=["business_type", "starts_at"], name="booking_slot_unique"
            ),
            models.CheckConstraint(condition=Q(booked__gte=0), name="booking_slot_booked_gte_0"),
        ]

    def __str__(self) -> str:
        return f"{self.business_type_id} {self.starts_at:%Y-%m-%d %H:%M}: {self.booked}"


class BookingStatus(models.TextChoices):
    BOOKED = "booked", _("booked")
    CANCELLED = "cancelled", _("cancelled")
    CHECKED_IN = "checked_in", _("checked in")
    NO_SHOW = "no_show", _("no-show")
    LATE_WALK_IN = "late_walk_in", _("late: became a walk-in")
    EARLY_WALK_IN = "early_walk_in", _("early: took a walk-in ticket")


# A phone holds at most one of these per hall and day (one booking per person per day).
HOLDING_STATUSES = (
    BookingStatus.BOOKED,
    BookingStatus.CHECKED_IN,
    BookingStatus.NO_SHOW,
    BookingStatus.LATE_WALK_IN,
    BookingStatus.EARLY_WALK_IN,
)


class Booking(models.Model):
    hall = models.ForeignKey(
        "hall.Hall", on_delete=models.PROTECT, related_name="bookings", verbose_name=_("hall")
    )
    business_type = models.ForeignKey(
        "hall.BusinessType",
        on_delete=models.PROTECT,
        related_name="bookings",
        verbose_name=_("business type"),
    )
    slot = models.ForeignKey(BookingSlot, on_delete=models.PROTECT, related_name="bookings")
    slot_start = models.DateTimeField(_("slot starts at"))
    service_date = models.DateField(_("date"))
    phone = models.CharField(_("phone"), max_length=20)
    code = models.CharField(_("booking code"), max_length=12, unique=True)
    status = models.CharField(
        _("status"), max_length=14, choices=BookingStatus.choices, default=BookingStatus.BOOKED
    )
    ticket = models.OneToOneField(
        "queueing.Ticket",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="booking",
        verbose_name=_("ticket"),
    )
    reason = models.CharField(_("why"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("booked at"), default=timezone.now)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    checked_in_at = models.DateTimeField(_("checked in at"), null=True, blank=True)

    class Meta:
        verbose_name = _("booking")
        verbose_name_plural = _("bookings")
        ordering = ["slot_start", "id"]
        constraints = [
            # One booking per person per day and hall (a cancelled one does not count).
            models.UniqueConstraint(
                fields=["hall", "phone", "service_date"],
                condition=Q(status__in=HOLDING_STATUSES),
                name="one_booking_per_phone_per_day",
            ),
            models.CheckConstraint(
                condition=Q(ticket__isnull=True)
                | Q(
                    status__in=[
                        BookingStatus.CHECKED_IN,
                        BookingStatus.LATE_WALK_IN,
                        BookingStatus.EARLY_WALK_IN,
                    ]
                ),
                name="booking_ticket_only_when_checked_in",
            ),
        ]
        indexes = [
            models.Index(fields=["hall", "service_date", "status"], name="booking_hall_day_status"),
            models.Index(fields=["phone", "status", "slot_start"], name="booking_phone_status"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.slot_start:%Y-%m-%d %H:%M} ({self.get_status_display()})"

    @property
    def masked_phone(self) -> str:
        return f"*******{self.phone[-4:]}" if self.phone else ""


class PhoneVerification(models.Model):
    """A one-time code sent to a phone through the phone notice path; proves the phone for
    booking and cancelling until it expires. Sent by a task after commit; without a gateway the
    text is logged (``logged``, "logged, not sent"), as phone notices are."""

    phone = models.CharField(_("phone"), max_length=20)
    hall = models.ForeignKey("hall.Hall", on_delete=models.CASCADE, related_name="+")
    code = models.CharField(_("code"), max_length=8)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    failed_attempts = models.PositiveSmallIntegerField(default=0)
    verified_at = models.DateTimeField(null=True, blank=True)
    send_status = models.CharField(max_length=10, default="pending")  # a NoticeStatus value
    detail = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = _("phone verification")
        verbose_name_plural = _("phone verifications")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["phone", "created_at"], name="phone_verification_recent")]

    def __str__(self) -> str:
        return f"*******{self.phone[-4:]} {self.created_at:%Y-%m-%d %H:%M}"
