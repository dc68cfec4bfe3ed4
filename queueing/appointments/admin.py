"""Appointments in the admin: a hall's booking rules, holidays and bookable businesses are
edited here; bookings and phone codes are records the system writes, read only."""

from django.contrib import admin

from hall.admin import ReadOnlyAdmin
from queueing.appointments.models import (
    BookableBusiness,
    Booking,
    BookingHoliday,
    BookingSettings,
    PhoneVerification,
)


@admin.register(BookingSettings)
class BookingSettingsAdmin(admin.ModelAdmin):
    list_display = [
        "hall",
        "open_weekdays",
        "days_ahead",
        "cancel_deadline_minutes",
        "check_in_early_minutes",
        "check_in_late_minutes",
        "no_show_limit",
        "no_show_period_days",
    ]


@admin.register(BookingHoliday)
class BookingHolidayAdmin(admin.ModelAdmin):
    list_display = ["hall", "date", "name"]
    list_filter = ["hall"]
    date_hierarchy = "date"


@admin.register(BookableBusiness)
class BookableBusinessAdmin(admin.ModelAdmin):
    list_display = ["business_type", "slot_minutes", "quota_per_slot", "active"]
    list_filter = ["business_type__hall", "active"]


@admin.register(Booking)
class BookingAdmin(ReadOnlyAdmin):
    """Bookings change through the booking and check-in services only."""

    list_display = ["code", "hall", "business_type", "slot_start", "status", "ticket"]
    list_filter = ["hall", "status", "service_date"]
    search_fields = ["code"]
    date_hierarchy = "slot_start"
    exclude = ["phone"]


@admin.register(PhoneVerification)
class PhoneVerificationAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "hall", "send_status", "failed_attempts", "verified_at"]
    list_filter = ["send_status"]
    exclude = ["phone", "code"]
