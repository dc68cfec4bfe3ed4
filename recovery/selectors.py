"""Reads of service recovery: who may handle an incident or a complaint."""

from django.utils.translation import gettext_lazy as _

from hall.access import HANDLE_COMPLAINT, HANDLE_INCIDENT, admit, not_found
from hall.models import Hall, Incident
from recovery.models import Complaint


def incident_admission(*, incident_id: int, user) -> str:
    """The role with which ``user`` may handle the incident (``hall.access.HANDLE_INCIDENT``);
    404 for no such incident."""
    hall = Hall.objects.filter(
        pk__in=Incident.objects.filter(pk=incident_id).values("hall")
    ).first()
    if hall is None:
        raise not_found(_("No such incident."))
    return admit(who=user, hall=hall, action=HANDLE_INCIDENT)


def complaint_admission(*, complaint_id: int, user) -> str:
    """The role with which ``user`` may handle complaints in the complaint's hall
    (``hall.access.HANDLE_COMPLAINT``); 404 for no such complaint. Whether they may reply to this
    one (its owner, or a manager) is ``complaint_reply``'s to say."""
    hall = Hall.objects.filter(
        pk__in=Complaint.objects.filter(pk=complaint_id).values("hall")
    ).first()
    if hall is None:
        raise not_found(_("No such complaint."))
    return admit(who=user, hall=hall, action=HANDLE_COMPLAINT)
