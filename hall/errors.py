"""Domain errors and the one exception handler that maps every error to DESIGN.md's shape:

    {"error": {"code": "...", "message": "...", "fields": {...}}}

Services raise ``DomainError`` subclasses; views never build error responses by hand.
Whatever else escapes a view or a middleware ends here too: a dependency that is down (the
database unreachable) answers 503 ``service_unavailable`` with Retry-After, anything else 500
``server_error`` (``server_error`` is the project's handler500). Both in the error shape for the
API and for requests that ask for JSON, a bilingual page for the rest.
"""

import logging
import sys

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import InterfaceError as DbInterfaceError
from django.db import OperationalError as DbOperationalError
from django.http import Http404, HttpResponse, JsonResponse
from django.template import loader
from django.urls import Resolver404, resolve
from django.utils import translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views import defaults
from django.views.decorators.common import no_append_slash
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

logger = logging.getLogger(__name__)


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


class RecallTooSoon(DomainError):
    """A recall within the hall's cool-down (issue 16): ``retry_after`` seconds to wait, in the
    body and the Retry-After header."""

    code = "recall_too_soon"
    default_message = _("The customer was called moments ago: give them time to come.")


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
        response = Response(
            error_body(exc.code, exc.message, exc.fields, **exc.extra), status=exc.status_code
        )
        if "retry_after" in exc.extra:
            response["Retry-After"] = str(exc.extra["retry_after"])
        return response
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = exception_handler(exc, context)
    if response is None:
        if is_dependency_down(exc):
            # Answered here rather than by handler500 so that it holds with DEBUG on as well.
            logger.warning("dependency unavailable: %r", exc, exc_info=exc)
            error = SERVICE_UNAVAILABLE
            body = error_body(error.code, error.message)
            return _with_retry_after(Response(body, status=error.status_code), error)
        return None  # a real bug: let Django's 500 handling log it (and handler500 answer)
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


# --- Unhandled errors: 503 while a dependency is down, 500 for the rest -------------------------

# A client (kiosk, console) waits this long before trying again; a PostgreSQL restart or a
# failover takes a few seconds.
RETRY_AFTER_SECONDS = 5


def _unavailable_types() -> tuple[type[BaseException], ...]:
    """What "a dependency is down" looks like. Django wraps the driver's errors in its own
    OperationalError/InterfaceError (a pool timeout is a psycopg OperationalError, so it is
    wrapped too); the driver's own and the socket's are listed for code that is not wrapped."""
    types: list[type[BaseException]] = [
        DbOperationalError,
        DbInterfaceError,
        ConnectionRefusedError,
    ]
    try:
        import psycopg
        from psycopg_pool import PoolTimeout
    except ImportError:  # the embedded default does not need psycopg
        pass
    else:
        types += [psycopg.OperationalError, psycopg.InterfaceError, PoolTimeout]
    try:
        import redis
    except ImportError:
        pass
    else:
        types += [redis.ConnectionError, redis.TimeoutError]
    return tuple(types)


UNAVAILABLE_ERRORS = _unavailable_types()


def is_dependency_down(exc: BaseException | None) -> bool:
    """True when ``exc``, or the error it was raised from (``raise ... from``), says a dependency
    cannot be reached. Not the error being handled when it was raised (``__context__``): code
    that caught a connection error and failed otherwise has a bug of its own."""
    for _depth in range(5):
        if exc is None:
            return False
        if isinstance(exc, UNAVAILABLE_ERRORS):
            return True
        exc = exc.__cause__
    return False


class _Unhandled:
    """What an unhandled error answers: its status, code, and the words a person reads."""

    def __init__(self, status_code: int, code: str, title, message):
        self.status_code, self.code, self.title, self.message = status_code, code, title, message


SERVICE_UNAVAILABLE = _Unhandled(
    status.HTTP_503_SERVICE_UNAVAILABLE,
    "service_unavailable",
    _("Service unavailable"),
    _("The service is temporarily unavailable. Please try again in a few seconds."),
)
SERVER_ERROR = _Unhandled(
    status.HTTP_500_INTERNAL_SERVER_ERROR,
    "server_error",
    _("Server error"),
    _("Something went wrong on the server. Please try again; if it happens again, tell the staff."),
)


def unhandled_error(exc: BaseException | None) -> _Unhandled:
    """The one mapping of an exception nothing else handled."""
    return SERVICE_UNAVAILABLE if is_dependency_down(exc) else SERVER_ERROR


def wants_json(request) -> bool:
    """The API, and any request whose Accept prefers JSON over a page."""
    if request.path_info.startswith("/api/"):
        return True
    return request.get_preferred_type(["text/html", "application/json"]) == "application/json"


def _server_error_page(error: _Unhandled) -> str:
    """Both languages on one page: whoever reads it (a customer at a kiosk, a clerk) finds theirs,
    whatever the browser asked for. Rendered without the request: no context processor may touch
    the database, which may be the very thing that is down."""
    texts = []
    for language, html_lang in (("zh-hans", "zh-Hans"), ("en", "en")):
        with translation.override(language):
            texts.append(
                {
                    "lang": html_lang,
                    "title": str(error.title),
                    "message": str(error.message),
                    "retry": gettext("Try again"),
                }
            )
    try:
        return loader.render_to_string(
            "hall/server_error.html",
            {"status": error.status_code, "code": error.code, "texts": texts},
        )
    except Exception:  # the page of last resort must not fail in its turn
        logger.exception("the error page could not be rendered")
        return "<!doctype html><title>{}</title>{}".format(
            error.status_code, "".join(f"<p>{t['message']}</p>" for t in texts)
        )


def _with_retry_after(response, error: _Unhandled):
    if error is SERVICE_UNAVAILABLE:
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def server_error_response(request, exc: BaseException | None):
    error = unhandled_error(exc)
    if wants_json(request):
        response = JsonResponse(error_body(error.code, error.message), status=error.status_code)
    else:
        response = HttpResponse(
            _server_error_page(error),
            status=error.status_code,
            content_type="text/html; charset=utf-8",
        )
    return _with_retry_after(response, error)


def server_error(request, *args, **kwargs):
    """handler500 (config/urls.py): Django calls it inside its ``except``, so the exception is
    at hand; Django logs the response with it afterwards."""
    return server_error_response(request, sys.exc_info()[1])


@csrf_exempt  # it changes nothing; without this a signed-in POST got Django's HTML CSRF page
@no_append_slash
def api_not_found(request, *args, **kwargs):
    """Any ``/api/`` path no endpoint has (config/urls.py's catch-all), whatever the method."""
    message = gettext("No such API endpoint.")
    if not request.path_info.endswith("/") and _resolves(request.path_info + "/"):
        message = gettext("No such API endpoint; the API's paths end with a slash: {path}").format(
            path=request.path + "/"
        )
    return JsonResponse(error_body("not_found", message), status=404)


def _resolves(path: str) -> bool:
    try:
        match = resolve(path)
    except Resolver404:
        return False
    return match.func is not api_not_found


def page_or_api_not_found(request, exception=None):
    """handler404: the API's answer (``api_not_found``) also for an ``/api/`` path the URLconf
    cannot even match, such as one with a newline in it; Django's page elsewhere. (Not
    ``hall.access.not_found``, the exception the API raises for a missing object.)"""
    if request.path_info.startswith("/api/"):
        return api_not_found(request)
    return defaults.page_not_found(request, exception)
