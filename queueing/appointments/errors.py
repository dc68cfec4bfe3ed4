"""The refusals of booking and check-in: ``DomainError``s, so the API's one exception handler
answers them in DESIGN.md's error shape, and nothing was changed when one is raised."""

from django.utils.translation import gettext_lazy as _
from rest_framework import status

from hall.errors import DomainError, InvalidInput


class NotBookable(DomainError):
    code = "not_bookable"
    status_code = status.HTTP_400_BAD_REQUEST
    default_message = _("This business cannot be booked in this hall.")


class SlotUnavailable(InvalidInput):
    """A past slot, one too soon or too far ahead, on a closed day, or not on the slot grid."""

    code = "slot_unavailable"
    default_message = _("This slot cannot be booked.")


class SlotFull(DomainError):
    code = "slot_full"
    default_message = _("This slot is fully booked: please choose another.")


class AlreadyBooked(DomainError):
    code = "already_booked"
    default_message = _("This phone already has a booking that day.")


class BookingBarred(DomainError):
    code = "booking_barred"
    status_code = status.HTTP_403_FORBIDDEN
    default_message = _("Too many missed bookings recently: please come as a walk-in.")


class VerificationFailed(DomainError):
    code = "verification_failed"
    status_code = status.HTTP_400_BAD_REQUEST
    default_message = _("The verification code is wrong or has expired.")


class TooManyRequests(DomainError):
    """``retry_after`` seconds (body and Retry-After header)."""

    code = "too_many_requests"
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_message = _("Too many codes asked for this phone: please wait.")


class BookingClosed(DomainError):
    """The booking cannot do this any more: cancelled, checked in, or of a past day."""

    code = "booking_closed"
    default_message = _("This booking can no longer be used.")


class CancelTooLate(DomainError):
    code = "cancel_too_late"
    default_message = _("It is too late to cancel this booking.")


class TooEarly(DomainError):
    """Check-in before the window: ``come_back_at`` (ISO time) and ``walk_in_offered``."""

    code = "check_in_too_early"
    default_message = _("It is too early to check in for this booking.")
