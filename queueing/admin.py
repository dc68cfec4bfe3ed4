from django.contrib import admin

from queueing.models import Ticket


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    """Tickets change only through the counter console and the API; here they are read."""

    list_display = ["number", "hall", "business_type", "lane", "status", "issued_at", "counter"]
    list_filter = ["hall", "status", "lane", "service_date"]
    search_fields = ["number"]
    date_hierarchy = "issued_at"
    exclude = ["phone", "public_token"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
