"""Records the system writes (with their audit events) are read in the admin, never added,
changed or deleted there, even by a superuser."""

import pytest
from django.contrib import admin
from django.test import RequestFactory

from hall.models import ApologyRecord, AuditEvent, Incident
from queueing.models import PhoneNotice, Ticket
from recovery.models import Complaint, EscalationAttempt

RECORDS = [AuditEvent, ApologyRecord, Complaint, Incident, EscalationAttempt, Ticket, PhoneNotice]


@pytest.mark.django_db
@pytest.mark.parametrize("model", RECORDS, ids=lambda m: m.__name__)
def test_a_superuser_reads_but_cannot_add_change_or_delete(model, admin_user):
    request = RequestFactory().get("/admin/")
    request.user = admin_user
    model_admin = admin.site._registry[model]

    assert model_admin.has_view_permission(request)
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)
