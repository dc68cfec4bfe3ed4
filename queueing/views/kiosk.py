"""The ticket kiosk: /kiosk/<hall>/, a touch screen at the hall's entrance.

Who may open it: a kiosk device of the hall (``?token=<kiosk device token>``, or the cookie of a
browser paired as one; the page's script then issues with ``Authorization: Device <token>``), or
a signed-in greeter or manager of the hall (the page then issues with the session). Nobody at all
gets the pairing page (``hall.views.pairing_page``); anyone else a page that says why.

The page is one shell with three steps (welcome → confirm → ticket) driven by kiosk.js. What it
reads is rendered here: the board of business types (``kiosk-board``, refreshed every
``BOARD_REFRESH_SECONDS``) and the confirmation for one business type (``kiosk-confirm``, which
repeats the choice back (复述) and carries a fresh Idempotency-Key: one per confirmation screen,
reused if the customer retries). Issuing goes through the public API; the ticket shown and
printed is the print view of queueing/views/status.py.

System faults (DOMAIN rule 4): while an incident is open, the board carries its apology and
marks each business type it affects, either temporarily unavailable (the incident's mode
``unavailable``: the button is disabled and ``ticket_issue`` refuses it too) or queueable with a
warning (mode ``warn``), which the confirmation repeats. The page also listens to the hall's live
stream (kiosk devices may read it) and re-reads the board at once on an ``incident.*`` frame, so
an incident shows and clears within a second rather than at the next refresh.

Inactivity brings the kiosk back to the welcome: ``IDLE_SECONDS`` on the choice and confirm
steps, ``PRINTED_IDLE_SECONDS`` after printing. ``?idle=<seconds>`` (3..600) overrides both for
one page load; the browser tests use it so as not to wait a minute. It changes nothing but how
soon this screen resets itself.
"""

import uuid

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

from hall.access import OPEN_KIOSK, admit, device_page_caller, hall_named, page_caller
from hall.models import DeviceKind, Hall, IncidentMode
from hall.selectors import incident_affects, incident_public, open_incidents
from hall.views import refusal_page
from queueing.models import SELF_DECLARABLE_REASONS, PriorityReason
from queueing.selectors import business_type_queues

IDLE_SECONDS = 60
PRINTED_IDLE_SECONDS = 20
BOARD_REFRESH_SECONDS = 12
IDLE_OVERRIDE_RANGE = (3, 600)
SCREEN = _("Ticket kiosk")

# What the kiosk says for the reasons a customer may declare themselves (queueing.models
# SELF_DECLARABLE_REASONS); other reasons (pregnant, military) go through a greeter.
SELF_DECLARED_LABELS = {
    PriorityReason.ELDERLY: _("Elderly customer"),
    PriorityReason.DISABLED: _("Customer with a disability"),
}

# Everything kiosk.js may have to say; it has no text of its own.
SCRIPT_STRINGS = {
    "phone_invalid": _("Please enter a phone number of 5 to 20 digits, or leave it empty."),
    "vip_required": _("Please enter your member number, or ask our greeter for help."),
    "failed": _("Sorry, we could not print your ticket."),
    "closed": _("Sorry, the hall is not issuing tickets right now."),
    "unavailable": _("Sorry, this business is not available right now."),
    "suspended": _("Sorry, this business is temporarily unavailable."),
    "network": _("Sorry, the kiosk has lost its connection."),
    "ask_greeter": _("Please try again, or ask our greeter for help."),
}


def _admit(request, code: str, *, page: bool = False) -> tuple[Hall, str]:
    """The hall, and the kiosk device token the page should issue with ("" for a greeter or
    manager). ``page``: the kiosk page itself, which answers nobody with its pairing page."""
    hall = hall_named(code, say_code=False)  # an unknown hall is 404 whatever the token
    if page:
        who, token = device_page_caller(request, hall=hall, kind=DeviceKind.KIOSK)
    else:
        who, token = page_caller(request)
    admit(who=who, hall=hall, action=OPEN_KIOSK)
    return hall, token


def _idle_seconds(request) -> tuple[int, int]:
    low, high = IDLE_OVERRIDE_RANGE
    try:
        override = int(request.GET.get("idle", ""))
    except ValueError:
        return IDLE_SECONDS, PRINTED_IDLE_SECONDS
    override = min(max(override, low), high)
    return override, override


def _incidents(hall: Hall) -> list[dict]:
    """The hall's open incidents as customers see them (two queries)."""
    return [incident_public(incident) for incident in open_incidents(hall=hall)]


def _board(hall: Hall, incidents: list[dict]) -> list:
    """The business types, each with ``available``, its wait in words (``wait_text``, from
    ``business_type_queues``) and ``incident``: the open incident that affects it, if any (one
    that makes it unavailable before one that warns)."""
    types = business_type_queues(hall=hall)
    for bt in types:
        affecting = [i for i in incidents if incident_affects(i, bt.code)]
        affecting.sort(key=lambda i: i["mode"] != IncidentMode.UNAVAILABLE)
        bt.incident = affecting[0] if affecting else None
        bt.suspended = bool(bt.incident) and bt.incident["mode"] == IncidentMode.UNAVAILABLE
        bt.available = bt.total > 0 and not bt.suspended
    return types


def _board_context(hall: Hall, token: str) -> dict:
    incidents = _incidents(hall)
    return {"hall": hall, "types": _board(hall, incidents), "incidents": incidents, "token": token}


def _with_token(url: str, token: str) -> str:
    return f"{url}?token={token}" if token else url


@refusal_page(screen=SCREEN, template="queueing/kiosk_refused.html")
def kiosk(request, hall: str):
    hall_obj, token = _admit(request, hall, page=True)
    idle_s, printed_idle_s = _idle_seconds(request)
    config = {
        "issue_url": reverse("ticket-issue", args=[hall_obj.code]),
        "board_url": _with_token(reverse("kiosk-board", args=[hall_obj.code]), token),
        "token": token,
        "idle_s": idle_s,
        "printed_idle_s": printed_idle_s,
        "board_refresh_s": BOARD_REFRESH_SECONDS,
        "strings": {key: str(text) for key, text in SCRIPT_STRINGS.items()},
        # The hall's live stream (display/static/display/live.js): incidents show at once.
        "live": {
            "stream": "hall",
            "ws": f"/ws/halls/{hall_obj.code}/display/",
            "counter": None,
            "snapshot": reverse("snapshot", args=[hall_obj.code]),
            "token": token,
            "hall": hall_obj.code,
            "timezone": hall_obj.timezone,
            "heartbeat_s": settings.DISPLAY_HEARTBEAT_SECONDS,
            "labels": {},
        },
    }
    context = {**_board_context(hall_obj, token), "config": config}
    return render(request, "queueing/kiosk.html", context)


@refusal_page(screen=SCREEN, text_only=True)
def kiosk_board(request, hall: str):
    """The business type buttons with people waiting and estimated wait (a fragment)."""
    hall_obj, token = _admit(request, hall)
    return render(request, "queueing/kiosk_board.html", _board_context(hall_obj, token))


@refusal_page(screen=SCREEN, text_only=True)
def kiosk_confirm(request, hall: str, code: str):
    """The confirmation of one business type (a fragment): the choice said back (复述), the ID
    reminder, the people ahead, the priority, VIP and phone options, and its Idempotency-Key;
    the warning of an incident that affects the business (the customer may still queue)."""
    hall_obj, token = _admit(request, hall)
    business_type = next(
        (bt for bt in _board(hall_obj, _incidents(hall_obj)) if bt.code == code), None
    )
    if business_type is not None and business_type.suspended:
        apology = business_type.incident
        return HttpResponse(
            f"{apology['apology_zh']} {apology['apology_en']}",
            status=409,
            content_type="text/plain; charset=utf-8",
        )
    if business_type is None or not business_type.available:
        return HttpResponse(_("This business is not available right now."), status=404)
    reasons = [(reason.value, SELF_DECLARED_LABELS[reason]) for reason in SELF_DECLARABLE_REASONS]
    context = {
        "hall": hall_obj,
        "bt": business_type,
        "reasons": reasons,
        "idempotency_key": uuid.uuid4().hex,
        "token": token,
    }
    return render(request, "queueing/kiosk_confirm.html", context)


urlpatterns = [
    path("kiosk/<slug:hall>/", kiosk, name="kiosk"),
    path("kiosk/<slug:hall>/board/", kiosk_board, name="kiosk-board"),
    path("kiosk/<slug:hall>/confirm/<slug:code>/", kiosk_confirm, name="kiosk-confirm"),
]
