"""Tickets and their numbering. The invariants of DESIGN.md that a database can hold live here."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from queueing import router
from queueing.appointments.models import (  # noqa: F401  (registers the appointment models)
    BookableBusiness,
    Booking,
    BookingHoliday,
    BookingSettings,
    BookingSlot,
    PhoneVerification,
)


class Lane(models.TextChoices):
    VIP = router.Lane.VIP, _("VIP")
    PRIORITY = router.Lane.PRIORITY, _("priority")
    NORMAL = router.Lane.NORMAL, _("normal")


class PriorityReason(models.TextChoices):
    NONE = "", _("none")
    VIP = "vip", _("VIP customer")
    ELDERLY = "elderly", _("elderly")
    DISABLED = "disabled", _("disabled")
    PREGNANT = "pregnant", _("pregnant")
    MILITARY = "military", _("military")


PRIORITY_LANE_REASONS = (
    PriorityReason.ELDERLY,
    PriorityReason.DISABLED,
    PriorityReason.PREGNANT,
    PriorityReason.MILITARY,
)
SELF_DECLARABLE_REASONS = (PriorityReason.ELDERLY, PriorityReason.DISABLED)


class Status(models.TextChoices):
    WAITING = "waiting", _("waiting")
    CALLED = "called", _("called")
    SERVING = "serving", _("serving")
    DONE = "done", _("done")
    NO_SHOW = "no_show", _("no-show")
    CANCELLED = "cancelled", _("cancelled")
    EXPIRED = "expired", _("expired")


ACTIVE_STATUSES = (Status.CALLED, Status.SERVING)
OPEN_STATUSES = (Status.WAITING, Status.CALLED, Status.SERVING)


class Slot(models.TextChoices):
    GREETED = router.Slot.GREETED, _("greeted (please get ready)")
    ATTENDED = router.Slot.ATTENDED, _("attended (after that)")


class Origin(models.TextChoices):
    KIOSK = "kiosk", _("kiosk")
    GREETER = "greeter", _("greeter")
    API = "api", _("API")
    APPOINTMENT = "appointment", _("appointment")


class Outcome(models.TextChoices):
    COMPLETED = "completed", _("completed")
    MISSING_DOCUMENTS = "missing_documents", _("missing documents")
    FOLLOW_UP = "follow_up", _("needs follow-up")
    DECLINED = "declined", _("customer declined")


class Ticket(models.Model):
    hall = models.ForeignKey(
        "hall.Hall", on_delete=models.PROTECT, related_name="tickets", verbose_name=_("hall")
    )
    business_type = models.ForeignKey(
        "hall.BusinessType",
        on_delete=models.PROTECT,
        related_name="tickets",
        verbose_name=_("business type"),
    )
    number = models.CharField(_("number"), max_length=10)
    prefix = models.CharField(_("prefix"), max_length=2)
    sequence = models.PositiveIntegerField(_("sequence"))
    service_date = models.DateField(_("service date"))
    lane = models.CharField(_("lane"), max_length=10, choices=Lane.choices, default=Lane.NORMAL)
    priority_reason = models.CharField(
        _("priority reason"), max_length=10, choices=PriorityReason.choices, blank=True
    )
    self_declared = models.BooleanField(_("self-declared at the kiosk"), default=False)
    vip_account = models.CharField(_("VIP account"), max_length=40, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.WAITING
    )
    issued_at = models.DateTimeField(
        _("issued at"),
        default=timezone.now,
        help_text=_("Kept on transfer: the customer keeps their place."),
    )
    called_at = models.DateTimeField(_("called at"), null=True, blank=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    counter = models.ForeignKey(
        "counters.Counter",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tickets",
        verbose_name=_("counter"),
        help_text=_("The counter that called or serves the ticket (and last served it)."),
    )
    clerk = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("clerk"),
    )
    window_counter = models.ForeignKey(
        "counters.Counter",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="window_tickets",
        verbose_name=_("window counter"),
    )
    window_slot = models.CharField(
        _("window slot"), max_length=10, choices=Slot.choices, null=True, blank=True
    )
    pinned_counter = models.ForeignKey(
        "counters.Counter",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="pinned_tickets",
        verbose_name=_("pinned to counter"),
        help_text=_("Set when transferred to a specific counter: only it may call the ticket."),
    )
    recall_count = models.PositiveSmallIntegerField(_("recalls"), default=0)
    # The last recall (the call itself is called_at): the hall's recall cool-down runs from the
    # later of the two.
    recalled_at = models.DateTimeField(_("last recalled at"), null=True, blank=True)
    transfer_count = models.PositiveSmallIntegerField(_("transfers"), default=0)
    origin = models.CharField(
        _("origin"), max_length=12, choices=Origin.choices, default=Origin.KIOSK
    )
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices, blank=True)
    note = models.TextField(_("note"), blank=True)
    public_token = models.CharField(_("status page token"), max_length=32, unique=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("issued by"),
    )
    device = models.ForeignKey(
        "hall.Device",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("device"),
    )

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        ordering = ["issued_at", "id"]
        constraints = [
            # Invariant 2: one number per hall, prefix and service date, under any concurrency.
            models.UniqueConstraint(
                fields=["hall", "prefix", "service_date", "sequence"], name="ticket_number_unique"
            ),
            # Invariant 1: a counter has at most one called/serving ticket...
            models.UniqueConstraint(
                fields=["counter"],
                condition=Q(status__in=ACTIVE_STATUSES),
                name="one_active_ticket_per_counter",
            ),
            # ...and at most one greeted and one attended.
            models.UniqueConstraint(
                fields=["window_counter", "window_slot"],
                condition=Q(window_slot__isnull=False),
                name="one_ticket_per_window_slot",
            ),
            models.CheckConstraint(
                condition=Q(window_slot__isnull=True, window_counter__isnull=True)
                | Q(window_slot__isnull=False, window_counter__isnull=False, status=Status.WAITING),
                name="window_slot_only_while_waiting",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=ACTIVE_STATUSES) | Q(counter__isnull=False),
                name="active_ticket_has_counter",
            ),
            models.CheckConstraint(
                condition=Q(lane=Lane.NORMAL, priority_reason="")
                | Q(lane=Lane.VIP, priority_reason__in=["", PriorityReason.VIP])
                | Q(lane=Lane.PRIORITY, priority_reason__in=PRIORITY_LANE_REASONS),
                name="lane_matches_priority_reason",
            ),
        ]
        indexes = [
            # The router's query: a hall's waiting tickets per lane in issue order.
            models.Index(
                fields=["hall", "lane", "issued_at", "id"],
                condition=Q(status=Status.WAITING),
                name="ticket_waiting_queue",
            ),
            models.Index(fields=["hall", "service_date", "status"], name="ticket_hall_day_status"),
            models.Index(fields=["business_type", "status"], name="ticket_type_status"),
        ]

    def __str__(self) -> str:
        return f"{self.number} ({self.get_status_display()})"

    @property
    def masked_phone(self) -> str:
        """The last four digits only, for the clerk's confirmation (复述)."""
        return f"*******{self.phone[-4:]}" if self.phone else ""


class TicketSequence(models.Model):
    """The last number given per hall, prefix and service date; bumped by one UPSERT."""

    hall = models.ForeignKey("hall.Hall", on_delete=models.CASCADE, related_name="+")
    prefix = models.CharField(max_length=2)
    service_date = models.DateField()
    last_value = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["hall", "prefix", "service_date"], name="ticket_sequence_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.prefix} {self.service_date}: {self.last_value}"


class NoticeKind(models.TextChoices):
    GET_READY = "get_ready", _("get ready (greeted)")
    CALLED = "called", _("called to a counter")


class NoticeStatus(models.TextChoices):
    PENDING = "pending", _("pending")
    SENDING = "sending", _("sending")
    SENT = "sent", _("sent")
    # No gateway is configured (the embedded default): the text went to the log, not to a phone.
    LOGGED = "logged", _("logged, not sent")
    FAILED = "failed", _("failed")


class PhoneNotice(models.Model):
    """A text message to the phone a customer left at the kiosk: "get ready", then "your turn".

    The row is written in the same transaction as the call, so no notice is lost; a Celery task
    sends it after commit. One row per ticket and kind, and a compare-and-set claim before
    sending, so a task that runs twice sends nothing twice.
    """

    ticket = models.ForeignKey(Ticket, on_delete=models.PROTECT, related_name="notices")
    kind = models.CharField(_("kind"), max_length=10, choices=NoticeKind.choices)
    text = models.CharField(_("text"), max_length=200)
    status = models.CharField(
        _("status"), max_length=10, choices=NoticeStatus.choices, default=NoticeStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    detail = models.CharField(_("last result"), max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)  # the last attempt's start
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("phone notice")
        verbose_name_plural = _("phone notices")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["ticket", "kind"], name="one_notice_per_ticket_kind")
        ]

    def __str__(self) -> str:
        return f"{self.ticket.number} {self.kind} ({self.status})"
