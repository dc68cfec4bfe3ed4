"""The rating pad: /rate/<counter_id>/, a tablet at the counter facing the customer.

Who may open it: a rating pad device of the counter's hall (``?token=<rating pad token>``; the
page's script then rates with ``Authorization: Device <token>`` and listens with ``?token=``), or
a signed-in member of the hall's staff (to try it out; the service refuses a clerk rating a
ticket they served themselves). Nobody at all gets the pairing page, where a one-time code from
the manager's Devices page makes the browser the pad (``hall.views.pairing_page``); anyone else a
page that says why.

The page (``static/counters/rating_pad.js``) listens to the counter's stream
(``/ws/counters/<id>/display/``). When the counter finishes a ticket (``ticket.done``) it asks
the customer, in Chinese and English at once, with three very large buttons; after a tap it
offers a few preset reasons (optional), records the rating through the API and thanks the
customer. If nobody answers within ``QUESTION_SECONDS`` the pad goes back to idle and records
nothing. Once a rating is chosen, the reason step waits ``REASON_SECONDS`` and then records the
rating without a reason: the customer did answer.

``?idle=<seconds>`` (3..600) overrides both waits for one page load (the browser tests use it so
as not to wait half a minute). It changes nothing but how soon the pad gives up waiting.
"""

from django.conf import settings
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from counters.models import Counter, Rating
from counters.satisfaction import RatingReason
from hall.access import OPEN_RATING_PAD, admit, device_page_caller, not_found
from hall.i18n import in_both_languages
from hall.models import DeviceKind, Hall
from hall.views import refusal_page

QUESTION_SECONDS = 30
REASON_SECONDS = 15
THANKS_SECONDS = 6
IDLE_OVERRIDE_RANGE = (3, 600)

# Everything the pad shows, in both languages at once (a customer-facing sign).
LABELS = {
    "counter_n": _("Counter %(number)s"),
    "welcome": _("Welcome"),
    "idle_hint": _("After your service, please rate us here."),
    "question": _("How was our service today?"),
    "ticket": _("Ticket"),
    "very_satisfied": _("Very satisfied"),
    "satisfied": _("Satisfied"),
    "dissatisfied": _("Dissatisfied"),
    "reason_question": _("Thank you! Would you tell us why?"),
    "reason_optional": _("Optional: choose one, or just send."),
    "send": _("Send without a reason"),
    "thanks": _("Thank you for your rating!"),
    "goodbye": _("Goodbye, and see you again."),
    "failed": _("Sorry, your rating could not be sent."),
    "reconnecting": _("Reconnecting…"),
    "refused": _("Cannot connect"),
}


def _admit(request, hall: Hall) -> str:
    """The rating pad token the page's scripts should use, or "" for a signed-in staff member."""
    who, token = device_page_caller(request, hall=hall, kind=DeviceKind.RATING_PAD)
    admit(who=who, hall=hall, action=OPEN_RATING_PAD)
    return token


def _waits(request) -> tuple[int, int]:
    """(question, reason) seconds; ``?idle=`` overrides both, within IDLE_OVERRIDE_RANGE."""
    try:
        override = int(request.GET.get("idle", ""))
    except ValueError:
        return QUESTION_SECONDS, REASON_SECONDS
    low, high = IDLE_OVERRIDE_RANGE
    override = min(max(override, low), high)
    return override, override


@refusal_page(screen=_("Rating pad"))
def rating_pad(request, counter_id: int):
    counter = Counter.objects.select_related("hall").filter(pk=counter_id).first()
    if counter is None:
        raise not_found(_("No such counter."))
    token = _admit(request, counter.hall)
    hall = counter.hall
    question_s, reason_s = _waits(request)
    labels = {key: in_both_languages(text) for key, text in LABELS.items()}
    labels["counter_n"] = {
        language: text % {"number": counter.number}
        for language, text in labels["counter_n"].items()
    }
    reasons = {
        "positive": [
            {"code": code, **in_both_languages(label)} for code, label in RatingReason.POSITIVE
        ],
        "negative": [
            {"code": code, **in_both_languages(label)} for code, label in RatingReason.NEGATIVE
        ],
    }
    config = {
        "stream": "counter",
        "ws": f"/ws/counters/{counter.pk}/display/",
        "counter": counter.pk,
        "snapshot": reverse("snapshot", args=[hall.code]),
        "token": token,
        "hall": hall.code,
        "heartbeat_s": settings.DISPLAY_HEARTBEAT_SECONDS,
        "rating_url": reverse("ticket-rating", args=[0]).replace("/0/", "/{id}/"),
        "question_s": question_s,
        "reason_s": reason_s,
        "thanks_s": THANKS_SECONDS,
        "reasons": reasons,
        "labels": {"failed": labels["failed"]},
    }
    ratings = [
        {"code": Rating.VERY_SATISFIED, "face": "very", **labels["very_satisfied"]},
        {"code": Rating.SATISFIED, "face": "ok", **labels["satisfied"]},
        {"code": Rating.DISSATISFIED, "face": "sad", **labels["dissatisfied"]},
    ]
    context = {
        "hall": hall,
        "counter": counter,
        "t": labels,
        "ratings": ratings,
        "config": config,
    }
    return render(request, "counters/rating_pad.html", context)
