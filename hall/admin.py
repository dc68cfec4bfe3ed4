from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from hall.models import (
    ApologyRecord,
    AuditEvent,
    BusinessType,
    Device,
    DeviceKind,
    DevicePairing,
    Hall,
    LaneSetting,
    PairingAttempt,
    StaffMembership,
    StandardPhrase,
)
from hall.services import device_register


class LaneSettingInline(admin.TabularInline):
    model = LaneSetting
    extra = 0
    max_num = 3


class BusinessTypePhraseInline(admin.TabularInline):
    """The standard phrases of one business type (greet, confirm, close), shown on the console."""

    model = StandardPhrase
    fk_name = "business_type"
    fields = ["step", "text", "sort_order"]
    extra = 1


class HallPhraseInline(admin.TabularInline):
    """Hall-wide phrases: transfer, interruption, resume, system fault, and fallbacks."""

    model = StandardPhrase
    fk_name = "hall"
    fields = ["step", "text", "sort_order"]
    extra = 0
    verbose_name = _("hall-wide standard phrase")
    verbose_name_plural = _("hall-wide standard phrases")

    def get_queryset(self, request):
        return super().get_queryset(request).filter(business_type__isnull=True)


class BusinessTypeInline(admin.TabularInline):
    model = BusinessType
    extra = 0
    fields = [
        "code",
        "prefix",
        "name_zh",
        "name_en",
        "expected_service_minutes",
        "needs_id",
        "active",
        "sort_order",
    ]


@admin.register(Hall)
class HallAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "timezone", "opens_at", "closes_at", "window_depth"]
    search_fields = ["code", "name"]
    inlines = [LaneSettingInline, BusinessTypeInline, HallPhraseInline]
    fieldsets = [
        (None, {"fields": ["code", "name", "timezone", "opens_at", "closes_at"]}),
        (
            _("Service rules"),
            {
                "fields": [
                    "window_depth",
                    "greeting_binds_counter",
                    "max_wait_minutes",
                    "target_wait_minutes",
                    "service_level_target_percent",
                    "recall_limit",
                    "recall_cooldown_seconds",
                    "announce_english",
                ]
            },
        ),
        (
            _("Alerts and complaints"),
            {
                "fields": [
                    "waiting_alert_threshold",
                    "pause_alert_minutes",
                    "complaint_callback_minutes",
                    "complaint_reminder_minutes",
                ]
            },
        ),
    ]


@admin.register(BusinessType)
class BusinessTypeAdmin(admin.ModelAdmin):
    list_display = [
        "prefix",
        "name_zh",
        "name_en",
        "hall",
        "expected_service_minutes",
        "needs_id",
        "active",
    ]
    list_filter = ["hall", "active", "needs_id"]
    search_fields = ["code", "name_zh", "name_en"]
    inlines = [BusinessTypePhraseInline]


@admin.register(StaffMembership)
class StaffMembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "hall", "role"]
    list_filter = ["hall", "role"]
    search_fields = ["user__username"]
    autocomplete_fields = ["user"]


# The page a new device of each kind opens first (the Devices page lists every other one).
FIRST_PAGES = {
    DeviceKind.KIOSK: ("kiosk", lambda hall: [hall.code]),
    DeviceKind.DISPLAY: ("display:lobby", lambda hall: [hall.code]),
}


@admin.register(Device)
class DeviceAdmin(admin.ModelAdmin):
    """Devices. A new one's ready URL is shown once on saving; its QR code, its other pages and
    pairing codes are on the hall's Devices page (display/devices.py), linked from each row."""

    list_display = ["name", "kind", "hall", "active", "created_at", "last_seen_at", "set_up"]
    list_filter = ["hall", "kind", "active"]
    readonly_fields = ["created_at", "last_seen_at", "set_up"]

    @admin.display(description=_("Set up"))
    def set_up(self, device):
        if device.pk is None:
            return "-"
        url = reverse("devices", args=[device.hall.code])
        return format_html('<a href="{}">{}</a>', url, _("Link, QR code or pairing code"))

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        device, token = device_register(
            hall=obj.hall, kind=obj.kind, name=obj.name, by=request.user
        )
        obj.pk, obj.token_hash = device.pk, device.token_hash
        devices_page = reverse("devices", args=[obj.hall.code])
        if obj.kind in FIRST_PAGES:
            name, args = FIRST_PAGES[obj.kind]
            ready = request.build_absolute_uri(
                f"{reverse(name, args=args(obj.hall))}?token={token}"
            )
            message = format_html(
                _(
                    "Ready URL of the device (shown only now; open it on the device): {url} · "
                    'its QR code and other pages: <a href="{page}">Devices page</a>'
                ),
                url=ready,
                page=devices_page,
            )
        else:
            message = format_html(
                _(
                    "Device token (shown only now): {token} · its ready URLs for each counter "
                    'and their QR codes: <a href="{page}">Devices page</a>'
                ),
                token=token,
                page=devices_page,
            )
        self.message_user(request, message)


class ReadOnlyAdmin(admin.ModelAdmin):
    """A record written only by its services (with its audit event) and never deleted."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """Read-only: the audit log is append-only."""

    list_display = ["created_at", "hall", "kind", "ticket_id", "counter_id", "actor", "device"]
    list_filter = ["hall", "kind"]
    date_hierarchy = "created_at"


@admin.register(DevicePairing)
class DevicePairingAdmin(ReadOnlyAdmin):
    """The pairing codes made (never the code itself: only its hash is kept)."""

    list_display = ["created_at", "hall", "device", "created_by", "expires_at", "used_at"]
    list_filter = ["hall"]
    list_select_related = ["hall", "device", "created_by"]
    exclude = ["code_hash"]


@admin.register(PairingAttempt)
class PairingAttemptAdmin(ReadOnlyAdmin):
    """Every code entered on a device page, right or wrong: who tried, where, and how it went."""

    list_display = ["at", "hall", "page", "address", "outcome", "paired"]
    list_filter = ["hall", "paired", "outcome"]
    date_hierarchy = "at"


@admin.register(ApologyRecord)
class ApologyRecordAdmin(ReadOnlyAdmin):
    """The apology log: what was shown, where, when, and the words."""

    list_display = [
        "shown_at",
        "withdrawn_at",
        "hall",
        "place",
        "source",
        "counter_id",
        "incident",
        "text_zh",
        "text_en",
    ]
    list_filter = ["hall", "place", "source", ("shown_at", admin.DateFieldListFilter)]
    date_hierarchy = "shown_at"
    search_fields = ["text_zh", "text_en"]
    list_select_related = ["hall", "incident"]
