"""System faults in the clerk console: the apology banner and the "report a fault" dialog.

The banner (``counters/_incidents.html``) lists the hall's open incidents that affect a business
type this counter serves, each with the apology customers see; a manager sees every open incident
of the hall and gets Acknowledge and Resolve buttons. ``static/counters/incidents.js`` re-reads it
(``console-incidents``) on every ``incident.*`` frame of the console's live streams and after its
own actions. Reporting, acknowledging and resolving go through the incidents API
(``/api/v1/halls/<hall>/incidents/``, ``/api/v1/incidents/<id>/acknowledge|resolve/``).
"""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from counters.models import Counter
from hall.access import OPEN_CONSOLE, admit, not_found, offers_incident_handling
from hall.models import IncidentKind, IncidentMode, IncidentSeverity
from hall.selectors import incident_affects, incident_public, open_incidents
from hall.views import refusal_page

# What incidents.js writes on screen.
STRINGS = {
    "reported": _("Fault reported: customers see the apology and the department is notified."),
    "acknowledged": _("Fault acknowledged: no more reminders."),
    "resolved": _("Fault resolved: the kiosk and the displays are restored."),
    "choose_types": _("Choose the affected business types, or all."),
}


def incident_actions_config() -> dict:
    """What ``static/counters/incident_actions.js`` needs, on the console and the wall: the
    acknowledge and resolve URLs (``0`` stands for the incident's id) and its words."""
    return {
        "acknowledge": reverse("incident-acknowledge", args=[0]),
        "resolve": reverse("incident-resolve", args=[0]),
        "strings": {key: str(text) for key, text in STRINGS.items()},
    }


def incidents_for(*, counter: Counter, is_manager: bool) -> list[dict]:
    """Open incidents for this counter's banner: those affecting a type it serves, or, for a
    manager, all of the hall's (``concerns_counter`` says which concern this counter)."""
    codes = [bt.code for bt in counter.business_types.all()]
    shown = []
    for incident in open_incidents(hall=counter.hall):
        data = incident_public(incident)
        data["concerns_counter"] = any(incident_affects(data, code) for code in codes)
        data["description"] = incident.description
        data["severity_label"] = incident.get_severity_display()
        data["mode_label"] = incident.get_mode_display()
        if data["concerns_counter"] or is_manager:
            shown.append(data)
    return shown


def console_incidents_context(*, counter: Counter, role: str) -> dict:
    """What the console page needs for the banner and the report dialog."""
    is_manager = offers_incident_handling(role=role)
    hall = counter.hall
    return {
        "incidents": incidents_for(counter=counter, is_manager=is_manager),
        "incident_manager": is_manager,
        "incident_kinds": IncidentKind.choices,
        "incident_severities": IncidentSeverity.choices,
        "incident_modes": IncidentMode.choices,
        "incident_default_severity": IncidentSeverity.HIGH,
        "incident_business_types": list(
            hall.business_types.filter(active=True).order_by("prefix", "code")
        ),
        "incident_counter_types": {bt.code for bt in counter.business_types.all()},
        "incidents_config": {
            "fragment": reverse("console-incidents", args=[counter.pk]),
            "report": reverse("incidents", args=[hall.code]),
            **incident_actions_config(),
        },
    }


@login_required
@refusal_page(screen=_("Clerk console"), template="counters/_refused.html")
def console_incidents(request, counter_id: int):
    """The banner (fragment): open incidents that concern this counter, with the apology."""
    counter = Counter.objects.select_related("hall").filter(pk=counter_id).first()
    if counter is None:
        raise not_found(_("No such counter."))
    role = admit(who=request.user, hall=counter.hall, action=OPEN_CONSOLE)
    is_manager = offers_incident_handling(role=role)
    context = {
        "incidents": incidents_for(counter=counter, is_manager=is_manager),
        "incident_manager": is_manager,
    }
    return render(request, "counters/_incidents.html", context)
