"""Appointments (issue 18): bookable slots per hall and business type, bookings by phone, and
check-in that turns a booking into a ticket of the one queue (its priority clock runs from the
slot). Models here are registered through ``queueing.models``."""
