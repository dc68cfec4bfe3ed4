"""The admin of service recovery: complaints (read-only), the responsible departments with their
routes, and incidents with every escalation attempt (read-only). Department and Incident are
hall's models; their admin lives here beside the escalation records it shows inline."""

from django.contrib import admin
from django.db import models
from django.utils.translation import gettext_lazy as _

from hall.admin import ReadOnlyAdmin
from hall.models import Department, Incident
from recovery.models import Complaint, DepartmentRoute, EscalationAttempt


@admin.register(Complaint)
class ComplaintAdmin(ReadOnlyAdmin):
    """Complaints are registered and replied to on the complaints page or the API (each with
    its audit event); here they are only read."""

    list_display = [
        "received_at",
        "hall",
        "category",
        "owner",
        "status",
        "callback_due_at",
        "replied_at",
        "replied_on_time",
        "reminded_at",
        "escalated_at",
    ]
    list_filter = ["hall", "status", "category", ("received_at", admin.DateFieldListFilter)]
    date_hierarchy = "received_at"
    search_fields = ["description", "customer_name", "reply"]
    list_select_related = ["hall", "owner"]

    @admin.display(boolean=True, description=_("on time"))
    def replied_on_time(self, obj):
        return obj.replied_on_time


# --- incidents and their escalation (recovery/incidents.py, recovery/escalation.py) ---------------


class DepartmentRouteInline(admin.TabularInline):
    """Which kinds of fault the department answers for: everywhere, or in one hall (a hall's
    own route wins over the operator-wide one)."""

    model = DepartmentRoute
    extra = 1
    fields = ["kind", "hall"]


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "webhook_url",
        "renotify_minutes",
        "manager_after_minutes",
        "regional_after_minutes",
    ]
    search_fields = ["name", "emails", "escalation_contacts"]
    inlines = [DepartmentRouteInline]
    # A webhook URL typed without a scheme is https (Django 6's default; silences its warning).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    fieldsets = [
        (None, {"fields": ["name", "emails", "escalation_contacts"]}),
        (_("Webhook"), {"fields": ["webhook_url", "webhook_secret"]}),
        (
            _("Escalation"),
            {"fields": ["renotify_minutes", "manager_after_minutes", "regional_after_minutes"]},
        ),
    ]


class EscalationAttemptInline(admin.TabularInline):
    model = EscalationAttempt
    extra = 0
    can_delete = False
    fields = [
        "round",
        "level",
        "channel",
        "target",
        "try_number",
        "status",
        "response_code",
        "error",
        "created_at",
        "finished_at",
    ]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Incident)
class IncidentAdmin(ReadOnlyAdmin):
    """Read-only: incidents are opened, acknowledged and resolved on the console or the API,
    each with its audit event, apologies and notifications."""

    list_display = [
        "opened_at",
        "hall",
        "kind",
        "severity",
        "mode",
        "affects_all",
        "department",
        "acknowledged_at",
        "resolved_at",
        "affected_customers",
        "escalation_round",
    ]
    list_filter = ["hall", "kind", "severity", ("opened_at", admin.DateFieldListFilter)]
    date_hierarchy = "opened_at"
    search_fields = ["description", "resolution", "acknowledged_by"]
    list_select_related = ["hall", "department"]
    inlines = [EscalationAttemptInline]


@admin.register(EscalationAttempt)
class EscalationAttemptAdmin(ReadOnlyAdmin):
    """Every try at telling someone about an incident, with its result. Never changed."""

    list_display = [
        "created_at",
        "incident",
        "round",
        "level",
        "channel",
        "target",
        "try_number",
        "status",
        "response_code",
        "error",
    ]
    list_filter = ["status", "channel", "level", "incident__hall"]
    search_fields = ["target", "error"]
    list_select_related = ["incident__hall"]
