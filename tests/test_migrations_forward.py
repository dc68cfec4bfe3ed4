"""A database migrated at the layout before issue 15 (complaints, manager alerts, department
routes and escalation attempts in hall) migrates forward with its rows where they were: the
models moved to recovery, their tables and rows did not (SeparateDatabaseAndState)."""

import datetime

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from hall.models import Department, Incident
from recovery.models import Complaint, DepartmentRoute, EscalationAttempt, ManagerAlert

# The leaf migrations of main before the move (recovery did not exist: None unapplies it).
BEFORE = [
    ("hall", "0007_hall_service_level_target"),
    ("queueing", "0003_verbose_names"),
    ("counters", "0005_satisfaction_rating"),
    ("display", "0001_metrics_snapshot"),
    ("recovery", None),
]
MOVED = ("complaint", "manageralert", "departmentroute", "escalationattempt")


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor


@pytest.mark.django_db(transaction=True)
def test_a_database_migrated_at_main_keeps_its_rows_through_the_move():
    executor = _migrate(BEFORE)
    old = executor.loader.project_state([t for t in BEFORE if t[1] is not None]).apps
    assert "recovery" not in {m._meta.app_label for m in old.get_models()}
    now = timezone.now()
    User = old.get_model("auth", "User")
    owner = User.objects.create(username="owner")
    hall = old.get_model("hall", "Hall").objects.create(code="h1", name="Hall one")
    department = old.get_model("hall", "Department").objects.create(name="Billing NOC")
    old.get_model("hall", "DepartmentRoute").objects.create(
        department=department, kind="billing", hall=hall
    )
    incident = old.get_model("hall", "Incident").objects.create(
        hall=hall, kind="billing", department=department, reporter=owner
    )
    old.get_model("hall", "EscalationAttempt").objects.create(
        incident=incident, round=1, level=0, channel="email", target="noc@billing.test"
    )
    old.get_model("hall", "ManagerAlert").objects.create(
        hall=hall, kind="long_wait", subject="bt:payment", message_zh="等候过长", message_en="Long"
    )
    old.get_model("hall", "Complaint").objects.create(
        hall=hall,
        owner=owner,
        category="billing",
        description="Charged twice",
        callback_due_at=now + datetime.timedelta(hours=2),
    )
    old_types = {
        model: ContentType.objects.get_or_create(app_label="hall", model=model)[0].pk
        for model in MOVED
    }
    ContentType.objects.filter(app_label="recovery").delete()  # as on a database at main

    executor = _migrate(executor.loader.graph.leaf_nodes())

    complaint = Complaint.objects.get()
    assert (complaint.hall.code, complaint.owner.username) == ("h1", "owner")
    assert complaint.description == "Charged twice" and complaint.status == "open"
    alert = ManagerAlert.objects.get()
    assert (alert.kind, alert.subject, alert.message_zh) == ("long_wait", "bt:payment", "等候过长")
    route = DepartmentRoute.objects.get()
    assert (route.department, route.kind, route.hall.code) == (department_now(), "billing", "h1")
    attempt = EscalationAttempt.objects.get()
    assert attempt.incident == Incident.objects.get() and attempt.target == "noc@billing.test"
    assert list(Incident.objects.get().attempts.all()) == [attempt]
    # The tables kept their names; the content types (and so permissions) followed the models.
    assert Complaint._meta.db_table == "hall_complaint"
    for model, pk in old_types.items():
        assert ContentType.objects.get(pk=pk).app_label == "recovery", model


def department_now():
    return Department.objects.get(name="Billing NOC")
