"""The clerk console: pick a counter to sign in at, then work it from one screen.

Pages and fragments only read (through ``counters.selectors``); every action is a call of the
JSON API (``/api/v1/counters/<id>/<action>/``) from ``static/counters/console.js``, which then
re-reads the panel fragment. Live frames of the counter's and the hall's streams re-read it too.

Who may open it: the hall's clerks and managers (signed in). A clerk works only the counter they
are signed in at; a manager may open any counter of the hall. Anyone else gets a 403 page that
says why; an unknown hall or counter a 404 page.
"""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from counters.apologies import apology_for
from counters.models import Counter, CounterState, PauseReason
from counters.selectors import (
    clerk_counter,
    console_state,
    hall_counters,
    standard_phrases,
    transfer_targets,
)
from counters.services import PAUSE_REFUSED_MESSAGE
from counters.views.incidents import console_incidents_context
from hall.access import OPEN_CONSOLE, Refused, admit, admit_to_hall, not_found
from hall.models import PhraseStep, Role
from hall.views import refusal_page
from queueing.models import Outcome
from queueing.selectors import counter_window

SCREEN = _("Clerk console")

# What the console's script writes on screen; ``{number}`` is filled in by the script.
STRINGS = {
    "nobody_waiting": _("Nobody is waiting for this counter."),
    "called": _("Called {number}."),
    "recalled": _("Called {number} again."),
    "suggest_no_show": _("Recall limit reached: mark {number} as a no-show if they do not come."),
    "started": _("Serving {number}."),
    "finished": _("{number} finished."),
    "no_show": _("{number} marked as no-show."),
    "requeued": _("{number} is back at the front of the queue; the lobby tells the customer."),
    "transferred": _("{number} transferred; the customer keeps their place."),
    "paused": _("Counter paused; customers see the apology."),
    "pause_refused": PAUSE_REFUSED_MESSAGE,
    "resumed": _("Counter resumed."),
    "opened": _("Signed in at the counter."),
    "choose_target": _("Choose where to send the ticket."),
    "loading": _("Loading…"),
}


def _counter(request, counter_id: int) -> tuple[Counter, str]:
    counter = Counter.objects.select_related("hall", "clerk").filter(pk=counter_id).first()
    if counter is None:
        raise not_found(_("No such counter."))
    return counter, admit(who=request.user, hall=counter.hall, action=OPEN_CONSOLE)


def _works_here(user, counter: Counter, role: str) -> bool:
    return role == Role.MANAGER or counter.clerk_id == user.pk


def _working_counter(request, counter_id: int) -> Counter:
    """The counter of a console fragment: its clerk's, or any for a manager."""
    counter, role = _counter(request, counter_id)
    if not _works_here(request.user, counter, role):
        raise Refused(_("You are no longer signed in at this counter."))
    return counter


@login_required
@refusal_page(screen=SCREEN, template="counters/refused.html")
def console_hall(request, hall: str):
    """/console/<hall>/: the hall's counters, to sign in at one. A clerk already signed in at
    a counter of the hall goes straight to it."""
    hall_obj, role = admit_to_hall(who=request.user, code=hall, action=OPEN_CONSOLE, say_code=False)
    mine = clerk_counter(user=request.user, hall=hall_obj)
    if mine is not None:
        return redirect("console-counter", counter_id=mine.pk)
    counters = list(hall_counters(hall=hall_obj))
    context = {
        "hall": hall_obj,
        "counters": counters,
        "is_manager": role == Role.MANAGER,
        "console_urls": {c.pk: reverse("console-counter", args=[c.pk]) for c in counters},
    }
    return render(request, "counters/hall.html", context)


def _live_config(counter: Counter) -> dict:
    hall = counter.hall
    base = {
        "snapshot": reverse("snapshot", args=[hall.code]),
        "token": "",  # the session cookie authenticates the console's streams
        "hall": hall.code,
        "timezone": hall.timezone,
        "heartbeat_s": settings.DISPLAY_HEARTBEAT_SECONDS,
        "labels": {},
    }
    return {
        "counter": {
            **base,
            "stream": "counter",
            "ws": f"/ws/counters/{counter.pk}/display/",
            "counter": counter.pk,
        },
        "hall": {
            **base,
            "stream": "hall",
            "ws": f"/ws/halls/{hall.code}/display/",
            "counter": None,
        },
    }


@login_required
@refusal_page(screen=SCREEN, template="counters/refused.html")
def console_counter(request, counter_id: int):
    """/console/counters/<id>/: the console of one counter."""
    counter, role = _counter(request, counter_id)
    if not _works_here(request.user, counter, role):
        if counter.clerk_id is None:
            return redirect("console", hall=counter.hall.code)
        raise Refused(_("Another clerk is signed in at this counter."))
    state = console_state(counter=counter, user=request.user)
    config = {
        "counter": counter.pk,
        "api": f"/api/v1/counters/{counter.pk}/",
        "panel": reverse("console-panel", args=[counter.pk]),
        "transfer": reverse("console-transfer", args=[counter.pk]),
        "list": reverse("console", args=[counter.hall.code]),
        "live": _live_config(counter),
        "strings": {key: str(text) for key, text in STRINGS.items()},
    }
    reasons = [
        {"value": value, "label": label, "apology": apology_for(value)}
        for value, label in PauseReason.choices
    ]
    context = {
        "counter": counter,
        "hall": counter.hall,
        "state": state,
        "config": config,
        "outcomes": Outcome.choices,
        "reasons": reasons,
        "interrupt_phrases": standard_phrases(hall=counter.hall, step=PhraseStep.INTERRUPT),
        "fault_phrases": standard_phrases(hall=counter.hall, step=PhraseStep.FAULT),
        **console_incidents_context(counter=counter, role=role),  # the fault banner and dialog
    }
    return render(request, "counters/console.html", context)


@login_required
@refusal_page(screen=SCREEN, template="counters/_refused.html")
def console_panel(request, counter_id: int):
    """The console's moving part (fragment): state, window, phrases, today's count, queue."""
    counter = _working_counter(request, counter_id)
    state = console_state(counter=counter, user=request.user)
    return render(request, "counters/_panel.html", {"state": state, "counter": counter})


@login_required
@refusal_page(screen=SCREEN, template="counters/_refused.html")
def console_transfer(request, counter_id: int):
    """The transfer dialog's choices (fragment): only targets that can take the ticket."""
    counter = _working_counter(request, counter_id)
    ticket = counter_window(counter=counter)["active"]  # called or serving, or None
    context = {"counter": counter, "ticket": ticket}
    if ticket is not None:
        targets = transfer_targets(counter=counter, ticket=ticket)
        template = (standard_phrases(hall=counter.hall, step=PhraseStep.TRANSFER) or [""])[0]
        open_servers = _open_servers(counter)
        context["business_types"] = [
            {
                "bt": bt,
                "phrase": _fill(template, open_servers.get(bt.pk, [])),
            }
            for bt in targets.business_types
        ]
        context["counters"] = [
            {"counter": c, "phrase": _fill(template, [c.number])} for c in targets.counters
        ]
    return render(request, "counters/_transfer.html", context)


def _open_servers(counter: Counter) -> dict[int, list[int]]:
    """Business type id → numbers of the hall's other open counters serving it."""
    servers: dict[int, list[int]] = {}
    for c in (
        hall_counters(hall=counter.hall).exclude(pk=counter.pk).exclude(state=CounterState.CLOSED)
    ):
        for bt in c.business_types.all():
            servers.setdefault(bt.pk, []).append(c.number)
    return servers


def _fill(phrase: str, numbers: list[int]) -> str:
    """The transfer phrase with its counter number filled in ("请到X号窗口" → "请到5号窗口")."""
    if not numbers or "X" not in phrase:
        return phrase
    return phrase.replace("X", "、".join(str(n) for n in numbers), 1)
