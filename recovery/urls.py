"""Recovery's pages (included at the root by config/urls.py): the signed acknowledge link of an
incident's e-mail, and the complaints page under /console/ beside the clerk console."""

from django.urls import path

from recovery.views import complaints, incidents

urlpatterns = [
    # The acknowledge link of an incident's e-mail (signed; no login).
    path(
        "incidents/<int:incident_id>/acknowledge/",
        incidents.incident_acknowledge_page,
        name="incident-acknowledge-page",
    ),
    # Under /console/ beside the clerk console (counters/urls.py), which these pages link from.
    path(
        "console/<slug:hall>/complaints/",
        complaints.complaints_page,
        name="complaints-page",
    ),
]
