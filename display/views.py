"""The display pages: the lobby TV and the small screen above each counter.

A page is a shell: the hall's name, the fixed labels, and where its scripts connect
(``static/display/live.js``). Everything that moves comes from the WebSocket stream (snapshot,
then events) or, while the socket is down, from the snapshot API.

Who may open one: a display or kiosk device of the hall (``?token=<device token>``, or the cookie
of a browser paired as a display, which the scripts then use for the socket and the snapshot API
too), or a signed-in member of its staff. Nobody at all gets the pairing page, where the one-time
code from the manager's Devices page makes the browser a display (``hall.views.pairing_page``);
anyone else a plain 403 or 404 page that says why.

A counter's screen is addressed by its hall and number (``/display/<hall>/counters/<number>/``),
which stays right when counters are re-created; the first address, by database id
(``/display/counters/<id>/``), redirects there so screens installed with it keep working.

The screens are bilingual signs: every label shows in Chinese and, under it, in English,
whatever the browser's language. Labels are marked for translation with English msgids and
rendered in both languages here (``hall.i18n.in_both_languages``).
"""

from django.conf import settings
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from counters.models import Counter
from hall.access import SEE_HALL, admit, device_page_caller, hall_named, not_found
from hall.i18n import in_both_languages
from hall.models import DeviceKind, Hall
from hall.views import refusal_page
from queueing.wait_words import LABELS as WAIT_LABELS

# Everything the pages and their scripts write on screen or say aloud. ``{name}`` placeholders
# are filled in by the scripts.
LABELS = {
    "lobby_title": _("Lobby display"),
    "counter_title": _("Counter display"),
    "latest_calls": _("Latest calls"),
    "no_calls": _("No calls yet"),
    "please_go_to": _("Please go to"),
    "counter": _("Counter"),
    "counter_n": _("Counter {n}"),
    "counter_suffix": pgettext_lazy("under a counter's number, e.g. 3 号窗口", "Counter"),
    "counters": _("Counters"),
    "no_counters": _("No counter is open yet"),
    "now_serving": _("Now serving"),
    "get_ready": _("Get ready"),
    "after_that": _("After that"),
    "recall": _("Again"),
    "call_n": _("Call #{n}"),
    "paused": _("Service paused"),
    "closed": pgettext_lazy("the sign of a closed counter", "Counter closed"),
    "welcome": _("Welcome"),
    "queue": _("Waiting now"),
    "waiting": pgettext_lazy("after the number of people waiting", "waiting"),
    # Issue 16: the words of a wait (board rows carry their kind and minutes).
    **{f"wait_{kind}": text for kind, text in WAIT_LABELS.items()},
    "notice": _("Notice"),
    "reconnecting": _("Reconnecting…"),
    "refused": _("Cannot connect"),
    "enable_sound": _("Tap to enable sound"),
    "voice_call": _("Number {number}, please go to counter {counter}."),
    "voice_ready": _("Number {number}, please get ready."),
    # Issue 16: a called customer sent back to the front of the queue (before a pause).
    "requeued": _("{number}: please wait a moment, you are still first in line"),
    "voice_requeued": _("Number {number}, please wait a moment: you are still first in line."),
    # Issue 16: called is not serving. Until the clerk starts, the customer is on their way.
    "called_to": _("Please go to counter {n}"),
    "called_or_serving": _("Called or serving"),
    # System faults (incidents): the lobby's banner, the board's flags, the restored notice.
    "incident": _("System fault"),
    "suspended": _("Suspended"),
    "may_take_longer": _("May take longer"),
    "restored": _("Service restored"),
    "restored_thanks": _("Thank you for your patience."),
    "voice_restored": _("The system has been restored. Thank you for your patience."),
}


def _page(request, template: str, *, hall: Hall, token: str, stream: dict, **context):
    labels = {key: in_both_languages(text) for key, text in LABELS.items()}
    config = {
        **stream,
        "snapshot": reverse("snapshot", args=[hall.code]),
        "token": token,
        "hall": hall.code,
        "timezone": hall.timezone,
        "heartbeat_s": settings.DISPLAY_HEARTBEAT_SECONDS,
        "labels": labels,
    }
    context = {"hall": hall, "t": labels, "config": config, **context}
    return render(request, template, context)


SCREEN = _("This screen cannot open")


@refusal_page(screen=SCREEN, template="display/refused.html")
def lobby_display(request, code: str):
    """/display/halls/<code>/lobby/: the lobby TV (calls, counters, queue, notices, voice)."""
    hall = hall_named(code, say_code=False)  # an unknown hall is 404 whatever the token
    who, token = device_page_caller(request, hall=hall, kind=DeviceKind.DISPLAY)
    admit(who=who, hall=hall, action=SEE_HALL)
    stream = {"stream": "hall", "ws": f"/ws/halls/{hall.code}/display/", "counter": None}
    return _page(request, "display/lobby.html", hall=hall, token=token, stream=stream)


def counter_display_url(counter: Counter) -> str:
    """The address of ``counter``'s screen (without a token)."""
    return reverse("display:counter", args=[counter.hall.code, counter.number])


@refusal_page(screen=SCREEN, template="display/refused.html")
def counter_display_by_id(request, counter_id: int):
    """/display/counters/<id>/: the first address of a counter's screen, kept for the screens
    installed with it: a redirect (302, not permanent: a counter's number may change) to its
    address by hall and number, with the query (the token) kept."""
    counter = Counter.objects.select_related("hall").filter(pk=counter_id).first()
    if counter is None:
        raise not_found(_("No such counter."))
    query = request.META.get("QUERY_STRING", "")
    return HttpResponseRedirect(counter_display_url(counter) + (f"?{query}" if query else ""))


@refusal_page(screen=SCREEN, template="display/refused.html")
def counter_display(request, code: str, number: int):
    """/display/<hall>/counters/<number>/: the small screen above one counter."""
    hall = hall_named(code, say_code=False)  # an unknown hall is 404 whatever the token
    counter = Counter.objects.select_related("hall").filter(hall=hall, number=number).first()
    if counter is None:
        raise not_found(_("No such counter."))
    who, token = device_page_caller(request, hall=hall, kind=DeviceKind.DISPLAY)
    admit(who=who, hall=counter.hall, action=SEE_HALL)
    stream = {
        "stream": "counter",
        "ws": f"/ws/counters/{counter.pk}/display/",
        "counter": counter.pk,
        # Which incidents' apologies it shows, when it reads the hall's snapshot while offline.
        "business_types": list(counter.business_types.values_list("code", flat=True)),
    }
    return _page(
        request,
        "display/counter.html",
        hall=counter.hall,
        token=token,
        stream=stream,
        counter=counter,
    )
