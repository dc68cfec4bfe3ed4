"""Domain errors and the one exception handler that maps every error to DESIGN.md's shape:

    {"error": {"code": "...", "message": "...", "fields": {...}}}

Services raise ``DomainError`` subclasses; views never build error responses by hand.
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler


class DomainError(Exception):
    code = "conflict"
    status_code = status.HTTP_409_CONFLICT
    default_message = _("The request conflicts with the current state.")

    def __init__(self, message: str | None = None, *, fields: dict | None = None, **extra):
        self.message = message or self.default_message
        self.fields = fields or {}
        self.extra = extra
        super().__init__(self.message)


class InvalidInput(DomainError):
    code = "invalid"
    status_code = status.HTTP_400_BAD_REQUEST
    default_message = _("The request is not valid.")


class NotFound(DomainError):
    code = "not_found"
    status_code = status.HTTP_404_NOT_FOUND
    default_message = _("Not found.")


class Forbidden(DomainError):
    code = "forbidden"
    status_code = status.HTTP_403_FORBIDDEN
    default_message = _("You may not do this.")


class HallClosed(DomainError):
    code = "hall_closed"
    default_message = _("The hall is closed; tickets are issued during opening hours only.")


class BusinessTypeUnavailable(DomainError):
    code = "business_type_unavailable"
    status_code = status.HTTP_400_BAD_REQUEST
    default_message = _("This business type is unknown or not offered now.")


class BusinessTypeSuspended(DomainError):
    """An open incident (system fault) in mode "unavailable" blocks this business type."""

    code = "business_type_suspended"
    default_message = _("This business is temporarily unavailable because of a system fault.")


class CounterClosed(DomainError):
    code = "counter_closed"
    default_message = _("The counter is closed.")


class CounterPaused(DomainError):
    code = "counter_paused"
    default_message = _("The counter is paused; resume it first.")


class CounterBusy(DomainError):
    code = "counter_busy"
    default_message = _("The counter already has a called or serving ticket; finish it first.")


class CounterTaken(DomainError):
    code = "counter_taken"
    default_message = _("Another clerk is signed in at this counter.")


class ClerkElsewhere(DomainError):
    code = "clerk_at_another_counter"
    default_message = _("You are signed in at another counter; close it first.")


class NoActiveTicket(DomainError):
    code = "no_active_ticket"
    default_message = _("The counter has no called or serving ticket.")


class InvalidTransition(DomainError):
    code = "invalid_transition"
    default_message = _("The ticket is not in a state that allows this.")


class TransferRefused(DomainError):
    code = "transfer_refused"
    status_code = status.HTTP_400_BAD_REQUEST
    default_message = _("The ticket cannot be transferred there.")


class IdempotencyKeyReused(DomainError):
    code = "idempotency_key_reused"
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_message = _("This Idempotency-Key was already used for a different request.")


def error_body(code: str, message: str, fields: dict | None = None, **extra) -> dict:
    return {"error": {"code": code, "message": str(message), "fields": fields or {}, **extra}}


_DRF_CODES = {
    exceptions.ValidationError: "invalid",
    exceptions.ParseError: "malformed_request",
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.PermissionDenied: "forbidden",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.Throttled: "throttled",
}


def _flatten(detail) -> dict:
    """DRF's nested ValidationError detail as {"field": "first message"}."""
    if isinstance(detail, dict):
        out = {}
        for name, value in detail.items():
            if isinstance(value, dict):
                for sub, message in _flatten(value).items():
                    out[f"{name}.{sub}"] = message
            elif isinstance(value, list) and value:
                first = value[0]
                out[name] = str(_flatten(first) if isinstance(first, dict) else first)
            else:
                out[name] = str(value)
        return out
    return {}


def api_exception_handler(exc, context):
    if isinstance(exc, DomainError):
        return Response(
            error_body(exc.code, exc.message, exc.fields, **exc.extra), status=exc.status_code
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = exception_handler(exc, context)
    if response is None:
        return None  # a real bug: let Django's 500 handling log it
    code = next((c for cls, c in _DRF_CODES.items() if isinstance(exc, cls)), "error")
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail) if isinstance(exc.detail, dict) else {}
        if isinstance(exc.detail, list):
            message = " ".join(str(m) for m in exc.detail)
        else:
            message = gettext("Some fields are not valid: %(fields)s") % {
                "fields": ", ".join(sorted(fields))
            }
        response.data = error_body(code, message, fields)
    else:
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        response.data = error_body(code, detail)
    return response
