"""Halls and their configuration, staff roles, devices, and the append-only audit log."""

import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone as django_timezone
from django.utils.translation import gettext_lazy as _

from hall.lanes import Lane


def validate_timezone(value: str) -> None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationError(
            _("%(value)s is not a known timezone"), params={"value": value}
        ) from None


class Hall(models.Model):
    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    timezone = models.CharField(
        _("timezone"), max_length=64, default="Asia/Shanghai", validators=[validate_timezone]
    )
    opens_at = models.TimeField(_("opens at"), default="08:30")
    closes_at = models.TimeField(
        _("closes at"), default="18:00", help_text=_("The same as opening time: open all day.")
    )
    max_wait_minutes = models.PositiveSmallIntegerField(
        _("maximum wait (minutes)"),
        default=30,
        help_text=_(
            "A ticket waiting longer goes ahead of every ticket that has not: no lane starves."
        ),
    )
    target_wait_minutes = models.PositiveSmallIntegerField(
        _("target wait for the service level (minutes)"), default=15
    )
    service_level_target_percent = models.PositiveSmallIntegerField(
        _("service level target (%)"),
        default=80,
        validators=[MinValueValidator(50), MaxValueValidator(99)],
        help_text=_(
            "The share of customers to call within the target wait: the wall marks a lower "
            "service level, and the staffing planner staffs for it."
        ),
    )
    window_depth = models.PositiveSmallIntegerField(
        _("window depth"),
        default=2,
        validators=[MaxValueValidator(2)],
        help_text=_(
            "0: call only; 1: also greet the next; 2: serve one, greet two, attend to three."
        ),
    )
    greeting_binds_counter = models.BooleanField(
        _("a greeted customer waits for the greeting counter"),
        default=False,
        help_text=_(
            "Off (recommended): the greeting keeps the customer's place in the order, and any "
            "counter that can serve them and calls while the greeting counter is busy takes "
            "them. On: the older rule; a greeted customer is called only by the counter that "
            "greeted them, while other counters may stand idle (the staffing planner shows "
            "what it costs)."
        ),
    )
    recall_limit = models.PositiveSmallIntegerField(
        _("recall limit"), default=3, help_text=_("After this many recalls, suggest a no-show.")
    )
    recall_cooldown_seconds = models.PositiveSmallIntegerField(
        _("recall cool-down (seconds)"),
        default=30,
        help_text=_(
            "A recall within this many seconds of the last call or recall is refused: the "
            "customer needs time to walk to the counter. 0: no cool-down."
        ),
    )
    announce_english = models.BooleanField(_("announce calls in English too"), default=True)
    pause_alert_minutes = models.PositiveSmallIntegerField(
        _("pause alert (minutes)"),
        default=15,
        validators=[MinValueValidator(1)],
        help_text=_("A counter paused longer than this alerts the hall's managers."),
    )
    waiting_alert_threshold = models.PositiveSmallIntegerField(
        _("waiting alert threshold"),
        default=15,
        validators=[MinValueValidator(1)],
        help_text=_("More customers than this waiting for one business type raises an alert."),
    )
    complaint_callback_minutes = models.PositiveSmallIntegerField(
        _("complaint callback (minutes)"),
        default=120,
        validators=[MinValueValidator(1)],
        help_text=_("The callback promised to a complainant, by default: within two hours."),
    )
    complaint_reminder_minutes = models.PositiveSmallIntegerField(
        _("complaint reminder (minutes before the deadline)"), default=30
    )
    created_at = models.DateTimeField(default=django_timezone.now, editable=False)

    class Meta:
        verbose_name = _("hall")
        verbose_name_plural = _("halls")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(window_depth__lte=2), name="hall_window_depth_0_to_2"
            ),
            models.CheckConstraint(
                condition=Q(max_wait_minutes__gt=0), name="hall_max_wait_positive"
            ),
            models.CheckConstraint(
                condition=Q(target_wait_minutes__gt=0), name="hall_target_wait_positive"
            ),
            models.CheckConstraint(
                condition=Q(service_level_target_percent__gte=50)
                & Q(service_level_target_percent__lte=99),
                name="hall_service_level_target_50_to_99",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    def local_now(self, now=None):
        return (now or django_timezone.now()).astimezone(self.tz)

    def service_date(self, now=None):
        """The hall's local date: numbering restarts at the hall's own midnight."""
        return self.local_now(now).date()

    @property
    def service_level_target(self) -> float:
        """The service level target as a share (0.8 for 80%)."""
        return self.service_level_target_percent / 100

    @property
    def open_all_day(self) -> bool:
        return self.opens_at == self.closes_at

    def is_open_at(self, now=None) -> bool:
        """Within opening hours? Equal opening and closing times mean open all day."""
        if self.open_all_day:
            return True
        local = self.local_now(now).time()
        if self.opens_at < self.closes_at:
            return self.opens_at <= local < self.closes_at
        return local >= self.opens_at or local < self.closes_at  # hours past midnight


LANE_LABELS = [
    (Lane.VIP.value, _("VIP")),
    (Lane.PRIORITY.value, _("priority")),
    (Lane.NORMAL.value, _("normal")),
]


class LaneSetting(models.Model):
    """A hall's weight for one lane. ``strict`` puts the lane strictly ahead of weighted ones."""

    hall = models.ForeignKey(Hall, on_delete=models.CASCADE, related_name="lane_settings")
    lane = models.CharField(_("lane"), max_length=10, choices=LANE_LABELS)
    weight = models.PositiveSmallIntegerField(
        _("weight"), default=1, validators=[MinValueValidator(1)]
    )
    strict = models.BooleanField(_("strict"), default=False)

    class Meta:
        verbose_name = _("lane setting")
        verbose_name_plural = _("lane settings")
        constraints = [
            models.UniqueConstraint(fields=["hall", "lane"], name="lane_setting_unique_per_hall"),
            models.CheckConstraint(condition=Q(weight__gte=1), name="lane_weight_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.get_lane_display()}: {_('strict') if self.strict else self.weight}"


class BusinessType(models.Model):
    hall = models.ForeignKey(Hall, on_delete=models.CASCADE, related_name="business_types")
    code = models.SlugField(_("code"), max_length=32)
    name_zh = models.CharField(_("Chinese name"), max_length=50)
    name_en = models.CharField(_("English name"), max_length=80)
    prefix = models.CharField(
        _("ticket prefix"),
        max_length=2,
        validators=[RegexValidator(r"^[A-Z]{1,2}$", _("One or two capital letters."))],
    )
    expected_service_minutes = models.PositiveSmallIntegerField(
        _("expected service (minutes)"), default=5, validators=[MinValueValidator(1)]
    )
    needs_id = models.BooleanField(_("needs ID"), default=False)
    active = models.BooleanField(_("active"), default=True)
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("business type")
        verbose_name_plural = _("business types")
        ordering = ["hall", "sort_order", "prefix"]
        constraints = [
            models.UniqueConstraint(fields=["hall", "code"], name="business_type_code_unique"),
            models.UniqueConstraint(fields=["hall", "prefix"], name="business_type_prefix_unique"),
            models.CheckConstraint(
                condition=Q(expected_service_minutes__gte=1), name="business_type_service_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.prefix} {self.name_zh} / {self.name_en}"


class Role(models.TextChoices):
    GREETER = "greeter", _("greeter")
    CLERK = "clerk", _("clerk")
    MANAGER = "manager", _("manager")


class StaffMembership(models.Model):
    """A person's role in one hall. A manager may also do what greeters and clerks do."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    hall = models.ForeignKey(Hall, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=10, choices=Role.choices)

    class Meta:
        verbose_name = _("staff membership")
        verbose_name_plural = _("staff memberships")
        constraints = [
            models.UniqueConstraint(fields=["user", "hall"], name="one_role_per_user_per_hall")
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} @ {self.hall.code}"


class DeviceKind(models.TextChoices):
    KIOSK = "kiosk", _("kiosk")
    DISPLAY = "display", _("display")
    RATING_PAD = "rating_pad", _("rating pad")


class Device(models.Model):
    """A kiosk or display, authenticated by a token of which only the SHA-256 hash is stored."""

    hall = models.ForeignKey(Hall, on_delete=models.CASCADE, related_name="devices")
    kind = models.CharField(_("kind"), max_length=10, choices=DeviceKind.choices)
    name = models.CharField(_("name"), max_length=100, blank=True)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), default=django_timezone.now, editable=False)
    last_seen_at = models.DateTimeField(_("last seen at"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("device")
        verbose_name_plural = _("devices")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.name or self.pk} @ {self.hall.code}"


class EventKind(models.TextChoices):
    TICKET_ISSUED = "ticket.issued", _("ticket issued")
    TICKET_CALLED = "ticket.called", _("ticket called")
    TICKET_RECALLED = "ticket.recalled", _("ticket recalled")
    TICKET_STARTED = "ticket.started", _("service started")
    TICKET_DONE = "ticket.done", _("ticket done")
    TICKET_NO_SHOW = "ticket.no_show", _("no-show")
    TICKET_TRANSFERRED = "ticket.transferred", _("ticket transferred")
    TICKET_REQUEUED = "ticket.requeued", _("back to the front of the queue")
    TICKET_CANCELLED = "ticket.cancelled", _("ticket cancelled")
    TICKET_EXPIRED = "ticket.expired", _("ticket expired")
    COUNTER_OPENED = "counter.opened", _("counter opened")
    COUNTER_CLOSED = "counter.closed", _("counter closed")
    COUNTER_PAUSED = "counter.paused", _("counter paused")
    COUNTER_RESUMED = "counter.resumed", _("counter resumed")
    DAY_CLOSED = "day.closed", _("day closed")
    INCIDENT_OPENED = "incident.opened", _("incident opened")
    INCIDENT_ACKNOWLEDGED = "incident.acknowledged", _("incident acknowledged")
    INCIDENT_RESOLVED = "incident.resolved", _("incident resolved")
    COMPLAINT_REGISTERED = "complaint.registered", _("complaint registered")
    COMPLAINT_REPLIED = "complaint.replied", _("complaint replied")
    RATING_RECORDED = "rating.recorded", _("satisfaction rating recorded")
    ALERT_RAISED = "alert.raised", _("alert raised")
    ALERT_CLEARED = "alert.cleared", _("alert cleared")
    DEVICE_REGISTERED = "device.registered", _("device registered")
    DEVICE_LINK_MADE = "device.link_made", _("device set-up link made")
    DEVICE_PAIRING_CODE = "device.pairing_code", _("device pairing code made")
    DEVICE_PAIRED = "device.paired", _("device paired")
    # Appointments (queueing.appointments): audit rows only, not live events (no seq).
    BOOKING_CREATED = "booking.created", _("booking made")
    BOOKING_CANCELLED = "booking.cancelled", _("booking cancelled")
    BOOKING_CHECKED_IN = "booking.checked_in", _("booking checked in")
    BOOKING_NO_SHOW = "booking.no_show", _("booking not kept (no-show)")


class AuditEvent(models.Model):
    """One row per state change, written in the same transaction as the change. Never deleted.

    Tickets and counters are referenced by id rather than foreign key: the log outlives and must
    never block anything it describes.
    """

    hall = models.ForeignKey(Hall, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(_("kind"), max_length=40, choices=EventKind.choices)
    created_at = models.DateTimeField(_("at"), default=django_timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    device = models.ForeignKey(
        Device, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    ticket_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    counter_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    data = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    # The hall's live sequence number: displays receive the event with this seq and detect a
    # gap (a lost message) by it. Consecutive per hall, in commit order (see EventSequence).
    seq = models.BigIntegerField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-id"]
        indexes = [models.Index(fields=["hall", "created_at"], name="audit_hall_time")]
        constraints = [
            models.UniqueConstraint(
                fields=["hall", "seq"], condition=Q(seq__isnull=False), name="audit_seq_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.kind}"


class EventSequence(models.Model):
    """The last live sequence number given to a hall's events.

    A row of its own, not a column on Hall: taking the next number row-locks it until commit,
    and on the hall row that lock would make every kiosk issue wait for counter actions holding
    the hall lock. Here issues and counter actions serialise only for the last statement of
    their transactions, so seq order is commit order.
    """

    hall = models.OneToOneField(Hall, on_delete=models.CASCADE, primary_key=True)
    last_seq = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.hall_id}: {self.last_seq}"


class IdempotentRequest(models.Model):
    """The first response to a request carrying an ``Idempotency-Key``, replayed to repeats.

    The row is inserted in the same transaction as the effect: a concurrent replay blocks on the
    unique constraint until the first commits, then reads this response instead of acting again.
    """

    scope = models.CharField(max_length=40)  # "user:<id>" or "device:<id>"
    key = models.CharField(max_length=200)
    fingerprint = models.CharField(max_length=64)  # method, path and body, hashed
    status_code = models.PositiveSmallIntegerField(default=0)
    response = models.JSONField(null=True, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(default=django_timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scope", "key"], name="idempotency_key_unique")
        ]

    def __str__(self) -> str:
        return f"{self.scope} {self.key}"


class PhraseStep(models.TextChoices):
    """When a clerk says a standard phrase (服务标准用语)."""

    GREET = "greet", _("greet (when called)")
    CONFIRM = "confirm", _("confirm (while serving)")
    CLOSE = "close", _("close (after finishing)")
    TRANSFER = "transfer", _("transfer (wrong counter)")
    INTERRUPT = "interrupt", _("interrupt (pausing)")
    RESUME = "resume", _("resume (after a pause)")
    FAULT = "fault", _("system fault")


class StandardPhrase(models.Model):
    """A prescribed phrase for one step of service, shown on the clerk console.

    Per business type, or hall-wide when ``business_type`` is empty (transfer, interruption,
    system fault, and the fallback for a business type that has none of its own for a step).
    Phrases are data in the hall's language; they are not translated. ``X`` or ``XXX`` stands
    for what the clerk fills in (an amount, a counter number); the console fills in the counter
    numbers of a transfer.
    """

    hall = models.ForeignKey(Hall, on_delete=models.CASCADE, related_name="phrases")
    business_type = models.ForeignKey(
        BusinessType,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="phrases",
        help_text=_("Empty: a hall-wide phrase."),
    )
    step = models.CharField(_("step"), max_length=10, choices=PhraseStep.choices)
    text = models.CharField(_("phrase"), max_length=200)
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("standard phrase")
        verbose_name_plural = _("standard phrases")
        ordering = ["hall", "business_type", "step", "sort_order", "id"]
        indexes = [models.Index(fields=["hall", "step"], name="phrase_hall_step")]

    def __str__(self) -> str:
        return f"{self.get_step_display()}: {self.text}"

    def save(self, *args, **kwargs):
        # The admin edits a business type's phrases inline, where the hall is not a field: a
        # phrase of a business type belongs to that type's hall, always.
        if self.business_type_id is not None:
            self.hall_id = self.business_type.hall_id
        super().save(*args, **kwargs)
