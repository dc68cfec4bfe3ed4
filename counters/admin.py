from django.contrib import admin

from counters.models import ClerkSession, Counter, Interruption


@admin.register(Counter)
class CounterAdmin(admin.ModelAdmin):
    list_display = ["number", "name", "hall", "kind", "vip_mode", "state", "clerk"]
    list_filter = ["hall", "kind", "state"]
    filter_horizontal = ["business_types"]
    readonly_fields = ["state", "clerk", "state_changed_at"]


@admin.register(Interruption)
class InterruptionAdmin(admin.ModelAdmin):
    list_display = ["counter", "clerk", "reason", "started_at", "ended_at"]
    list_filter = ["reason", "counter__hall"]

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ClerkSession)
class ClerkSessionAdmin(admin.ModelAdmin):
    list_display = ["counter", "clerk", "started_at", "ended_at"]
    list_filter = ["counter__hall"]

    def has_delete_permission(self, request, obj=None):
        return False
