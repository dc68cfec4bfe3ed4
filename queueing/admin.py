from django.contrib import admin

from hall.admin import ReadOnlyAdmin
from queueing.appointments import admin as appointments_admin  # noqa: F401  (registers them)
from queueing.models import PhoneNotice, Ticket


@admin.register(Ticket)
class TicketAdmin(ReadOnlyAdmin):
    """Tickets change only through the counter console and the API; here they are read."""

    list_display = ["number", "hall", "business_type", "lane", "status", "issued_at", "counter"]
    list_filter = ["hall", "status", "lane", "service_date"]
    search_fields = ["number"]
    date_hierarchy = "issued_at"
    exclude = ["phone", "public_token"]


@admin.register(PhoneNotice)
class PhoneNoticeAdmin(ReadOnlyAdmin):
    """The record of each text message to a customer's phone; written by the system only."""

    list_display = ["ticket", "kind", "status", "attempts", "detail", "created_at", "sent_at"]
    list_filter = ["status", "kind", "ticket__hall"]
    search_fields = ["ticket__number"]
    readonly_fields = ["ticket", "kind", "text", "status", "attempts", "detail", "sent_at"]
