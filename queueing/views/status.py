"""The customer's pages, public by their ticket's token (the token is the secret; it is in the
QR code on the ticket):

- ``/t/<token>/`` (``ticket-status``): number, business, status in words, people ahead, the
  estimated wait and, once called, the counter in big letters. status.js re-reads
  ``/t/<token>/card/`` (``ticket-status-card``) every ``POLL_SECONDS`` and stops once the ticket
  is finished (the card says so with ``data-final``).
- ``/t/<token>/ticket/`` (``ticket-print``): the ticket laid out for an 80 mm thermal printer,
  the same one the kiosk shows and prints; ``?embed=1`` gives the ticket alone (the kiosk's
  script puts it on screen), ``?print=1`` opens the print dialog at once (the greeter tablet).

Neither carries personal data: no phone, no VIP account, no name.

While a system fault (incident) affects the ticket's business type, a waiting customer's card
carries its apology (DOMAIN rule 4); it goes when the incident is resolved, at the next poll.
"""

from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from counters.models import Counter, CounterState
from hall.i18n import in_english
from hall.selectors import incident_affects, incident_public, open_incidents
from queueing.models import Lane, Slot, Status, Ticket
from queueing.qr import qr_svg
from queueing.selectors import ticket_for_customer
from queueing.wait_words import with_wait

POLL_SECONDS = 5
FINAL_STATUSES = (Status.DONE, Status.NO_SHOW, Status.CANCELLED, Status.EXPIRED)

LANE_LABELS = {Lane.VIP: _("VIP"), Lane.PRIORITY: _("Priority")}


def _missing(request):
    return render(request, "queueing/status_missing.html", status=404)


def _describe(ticket: Ticket) -> Ticket:
    """What the pages show, worked out once: the wait in words, the counter to go to, and
    whether the page may stop asking."""
    ticket.is_final = ticket.status in FINAL_STATUSES
    ticket.is_greeted = ticket.status == Status.WAITING and ticket.window_slot == Slot.GREETED
    ticket.call_counter = (
        ticket.counter if ticket.status in (Status.CALLED, Status.SERVING) else None
    )
    ticket.get_ready_counter = ticket.window_counter if ticket.is_greeted else None
    ticket.lane_label = LANE_LABELS.get(ticket.lane, "")
    # Issue 16: with no open counter for the business, say so rather than any wait at all.
    ticket.no_counter_open = (
        ticket.status == Status.WAITING
        and not Counter.objects.filter(
            hall_id=ticket.hall_id,
            business_types=ticket.business_type_id,
            state=CounterState.OPEN,
        ).exists()
    )
    with_wait(ticket, ticket.estimated_wait, counters_open=0 if ticket.no_counter_open else None)
    ticket.issued_local = timezone.localtime(ticket.issued_at, ticket.hall.tz)
    return ticket


def _with_apology(ticket: Ticket) -> Ticket:
    """``ticket.apology``: the apology of the first open incident that affects a waiting
    ticket's business type, in the page's language (one query when nothing is open), and
    ``apology_zh`` / ``apology_en`` for the printed ticket, which carries both."""
    ticket.apology = ticket.apology_zh = ticket.apology_en = ""
    if ticket.status != Status.WAITING:
        return ticket
    code = ticket.business_type.code
    for incident in open_incidents(hall=ticket.hall):
        data = incident_public(incident)
        if incident_affects(data, code):
            ticket.apology_zh, ticket.apology_en = data["apology_zh"], data["apology_en"]
            ticket.apology = ticket.apology_en if in_english() else ticket.apology_zh
            break
    return ticket


def ticket_status(request, token: str):
    ticket = ticket_for_customer(token=token)
    if ticket is None:
        return _missing(request)
    context = {
        "ticket": _with_apology(_describe(ticket)),
        "card_url": reverse("ticket-status-card", args=[token]),
        "poll_s": POLL_SECONDS,
    }
    return render(request, "queueing/status.html", context)


def ticket_status_card(request, token: str):
    ticket = ticket_for_customer(token=token)
    if ticket is None:
        return render(request, "queueing/status_card_missing.html", status=404)
    context = {"ticket": _with_apology(_describe(ticket))}
    return render(request, "queueing/status_card.html", context)


def ticket_print(request, token: str):
    ticket = ticket_for_customer(token=token)
    if ticket is None:
        return _missing(request)
    status_url = request.build_absolute_uri(reverse("ticket-status", args=[token]))
    context = {
        # Issued while a fault lets the queue run with a warning: the printed ticket says so.
        "ticket": _with_apology(_describe(ticket)),
        "qr": qr_svg(status_url, scale=4, label=str(_("QR code of your ticket's status page"))),
        "status_url": status_url,
        "auto_print": request.GET.get("print") == "1",
    }
    template = (
        "queueing/ticket.html" if request.GET.get("embed") == "1" else "queueing/ticket_print.html"
    )
    return render(request, template, context)


urlpatterns = [
    path("t/<slug:token>/", ticket_status, name="ticket-status"),
    path("t/<slug:token>/card/", ticket_status_card, name="ticket-status-card"),
    path("t/<slug:token>/ticket/", ticket_print, name="ticket-print"),
]
