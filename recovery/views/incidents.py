"""The page behind the acknowledge link in an incident's e-mail (no login: the link is signed).

GET shows the incident and a button; the button POSTs here and acknowledges it, so a mail
client or a link preview that merely fetches the link acknowledges nothing.
"""

from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from hall.access import Refused
from hall.models import Incident
from hall.views import refusal_page
from recovery.escalation_delivery import acknowledge_token_valid
from recovery.incidents import incident_acknowledge

SCREEN = _("Acknowledge a system fault")


@require_http_methods(["GET", "POST"])
@refusal_page(screen=SCREEN)
def incident_acknowledge_page(request, incident_id: int):
    token = request.GET.get("token", "")
    incident = (
        Incident.objects.select_related("hall", "department")
        .prefetch_related("business_types")
        .filter(pk=incident_id)
        .first()
    )
    if incident is None or not acknowledge_token_valid(token, incident_id):
        raise Refused(_("This acknowledge link is not valid or has expired."))
    acknowledged_now = False
    if request.method == "POST" and incident.acknowledged_at is None:
        by = request.POST.get("by", "").strip()[:150]
        default = incident.department.name if incident.department else str(_("the department"))
        incident = incident_acknowledge(incident_id=incident.pk, by=by or default)
        acknowledged_now = incident.acknowledged_at is not None
    context = {
        "screen": SCREEN,
        "incident": incident,
        "token": token,
        "acknowledged_now": acknowledged_now,
        "business_types": list(incident.business_types.all()),
    }
    return render(request, "hall/incident_acknowledge.html", context)
