"""The greeter tablet: issue a ticket for a customer (lane and reason), see the queue by business
type, cancel or transfer a waiting ticket.

The page is server-rendered; its writes go through the JSON API (issue, cancel, transfer, each
with an Idempotency-Key per intent) and the queue is a fragment (``greeter_queue``) that the
page's script re-reads when the hall's live stream moves or after the greeter's own action.
Greeters and managers of the hall only; anyone else signed in gets a 403 page that says why.
"""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

from hall.access import OPEN_GREETER, admit_to_hall, not_found
from hall.models import Hall
from hall.views import refusal_page
from queueing.models import PRIORITY_LANE_REASONS, Lane, Status, Ticket
from queueing.notices import gateway_configured
from queueing.selectors import greeter_queues
from queueing.wait_words import LABELS as WAIT_LABELS

ID = 999999999  # stands for a ticket's id in the URL templates the script fills in

# What the page's script writes on screen ({name} placeholders filled in by the script).
STRINGS = {
    "choose_type": _("Choose a business type first."),
    "choose_reason": _("Choose the reason for priority."),
    "choose_destination": _("Choose where the ticket should go."),
    "cancelled": _("Ticket {number} cancelled."),
    "transferred": _("Ticket {number} moved to {name}; it keeps its place."),
    # Issue 16: the words of a wait (board frames carry their kind and minutes).
    **{f"wait_{kind}": text for kind, text in WAIT_LABELS.items()},
}


SCREEN = _("Greeter tablet")


def _admit(request, code: str) -> Hall:
    hall, _role = admit_to_hall(who=request.user, code=code, action=OPEN_GREETER, say_code=False)
    return hall


def _queue_context(hall: Hall) -> dict:
    return {"hall": hall, "business_types": greeter_queues(hall=hall)}


@login_required
@refusal_page(screen=SCREEN)
def greeter(request, hall: str):
    """/greeter/<hall>/: the tablet."""
    hall = _admit(request, hall)
    config = {
        "issue": reverse("ticket-issue", args=[hall.code]),
        "queue": reverse("greeter-queue", args=[hall.code]),
        "cancel": reverse("ticket-cancel", args=[ID]),
        "transfer": reverse("ticket-transfer", args=[ID]),
        "print": reverse("greeter-print", args=[hall.code, ID]),
        # For display/static/display/live.js: the hall stream, with the session (no token).
        "live": {
            "stream": "hall",
            "ws": f"/ws/halls/{hall.code}/display/",
            "snapshot": reverse("snapshot", args=[hall.code]),
            "token": "",
            "hall": hall.code,
            "counter": None,
            "heartbeat_s": settings.DISPLAY_HEARTBEAT_SECONDS,
            "labels": {},
        },
        "id": ID,
        "strings": {key: str(text) for key, text in STRINGS.items()},
    }
    context = {
        **_queue_context(hall),
        "config": config,
        "lanes": [(Lane.NORMAL, _("Normal")), (Lane.VIP, _("VIP")), (Lane.PRIORITY, _("Priority"))],
        "reasons": [(r.value, r.label) for r in PRIORITY_LANE_REASONS],
        "texts_sent": gateway_configured(),
    }
    return render(request, "queueing/greeter.html", context)


@login_required
@refusal_page(screen=SCREEN)
def greeter_queue(request, hall: str):
    """/greeter/<hall>/queue/: the queue fragment (and the waiting counts on the type buttons)."""
    hall = _admit(request, hall)
    return render(request, "queueing/greeter_queue.html", _queue_context(hall))


@login_required
@refusal_page(screen=SCREEN)
def greeter_print(request, hall: str, ticket_id: int):
    """/greeter/<hall>/tickets/<id>/print/: the 80 mm ticket of one of the hall's tickets."""
    hall = _admit(request, hall)
    token = (
        Ticket.objects.filter(pk=ticket_id, hall=hall)
        .exclude(status__in=(Status.CANCELLED, Status.EXPIRED))
        .values_list("public_token", flat=True)
        .first()
    )
    if token is None:
        raise not_found(_("No such ticket in this hall."))
    return redirect("ticket-print", token)


urlpatterns = [
    path("greeter/<slug:hall>/", greeter, name="greeter"),
    path("greeter/<slug:hall>/queue/", greeter_queue, name="greeter-queue"),
    path("greeter/<slug:hall>/tickets/<int:ticket_id>/print/", greeter_print, name="greeter-print"),
]
