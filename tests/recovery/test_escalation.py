"""Escalation of a fault through Celery (eager here; tests/integration/test_escalation_worker.py
runs a real worker): the department at once by a signed webhook and e-mail, again every N
minutes until acknowledged, the hall manager after M, the region after that; every try logged;
a failing webhook retried with backoff; nothing sent twice."""

# ruff: noqa: F811 (the fixtures imported from incident_fixtures are redefined as arguments)

import datetime
import hashlib
import hmac
import json
import os
import smtplib
import subprocess
import sys
from pathlib import Path
from unittest import mock
from urllib.parse import parse_qs, urlparse

import pytest
import time_machine
from django.core import mail
from django.core.mail import EmailMessage

from hall.models import BusinessType, Department, Incident
from recovery.escalation import (
    Recipient,
    attempt_send,
    escalation_lost_retries,
    escalation_run,
    next_round_at,
    retry_countdown,
)
from recovery.escalation_delivery import acknowledge_token_valid
from recovery.incidents import incident_acknowledge, incident_open, incident_resolve
from recovery.models import AttemptStatus, EscalationAttempt, EscalationLevel, NotificationChannel
from recovery.tasks import escalate_incident, escalate_incidents, retry_escalation_attempt
from tests.recovery.incident_fixtures import (  # noqa: F401
    HOOK_URL,
    SECRET,
    at,
    billing_team,
    manager_with_mail,
    webhook,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def open_fault(hall, clerk_a, billing_team, webhook, django_capture_on_commit_callbacks):
    """Opens a billing fault on bill payment at a given time, its first round sent."""

    def open_at(when):
        with (
            time_machine.travel(when, tick=False),
            django_capture_on_commit_callbacks(execute=True),
        ):
            return incident_open(
                hall=hall,
                kind="billing",
                reporter=clerk_a,
                business_types=[BusinessType.objects.get(hall=hall, code="payment")],
                description="计费系统无响应",
            )

    return open_at


def sweep_at(when, capture):
    """The beat's sweep at ``when``, with the retries it schedules run as well."""
    with time_machine.travel(when, tick=False), capture(execute=True):
        escalate_incidents()


def test_the_department_is_told_at_once_by_a_signed_webhook_and_by_e_mail(open_fault, webhook):
    incident = open_fault(at(10))

    assert len(webhook.requests) == 1
    request = webhook.requests[0]
    assert request.full_url == HOOK_URL
    expected = hmac.new(SECRET.encode(), request.data, hashlib.sha256).hexdigest()
    assert request.get_header("X-hallq-signature") == f"sha256={expected}"
    body = webhook.bodies[0]
    assert body["event"] == "incident.opened" and body["round"] == 1
    assert body["level"] == "department"
    assert body["hall"] == {"code": "h1", "name": "测试营业厅"}
    assert body["incident"]["id"] == incident.pk
    assert body["incident"]["business_types"] == ["payment"]
    assert body["incident"]["description"] == "计费系统无响应"
    link = urlparse(body["acknowledge_url"])
    assert (link.scheme, link.netloc) == ("http", "127.0.0.1:8000")
    assert link.path == f"/api/v1/incidents/{incident.pk}/acknowledge/"
    token = parse_qs(link.query)["token"][0]
    with time_machine.travel(at(10) + datetime.timedelta(days=6), tick=False):
        assert acknowledge_token_valid(token, incident.pk)
        assert not acknowledge_token_valid(token, incident.pk + 1)
    with time_machine.travel(at(10) + datetime.timedelta(days=8), tick=False):
        assert not acknowledge_token_valid(token, incident.pk)  # a week old: expired

    assert sorted(m.to[0] for m in mail.outbox) == ["duty@billing.test", "noc@billing.test"]
    message = mail.outbox[0]
    assert "测试营业厅" in message.subject and "System fault" in message.subject
    assert incident.apology_zh in message.body
    assert f"/incidents/{incident.pk}/acknowledge/?token=" in message.body

    attempts = EscalationAttempt.objects.filter(incident=incident)
    assert attempts.count() == 3
    assert {(a.round, a.level, a.status) for a in attempts} == {
        (1, EscalationLevel.DEPARTMENT, AttemptStatus.SENT)
    }
    assert attempts.get(channel=NotificationChannel.WEBHOOK).response_code == 200


def test_reminders_every_n_minutes_until_someone_acknowledges(
    open_fault, webhook, django_capture_on_commit_callbacks
):
    incident = open_fault(at(10))
    sweep_at(at(10, 5), django_capture_on_commit_callbacks)
    assert len(webhook.requests) == 1  # not due yet

    sweep_at(at(10, 10), django_capture_on_commit_callbacks)
    sweep_at(at(10, 10, 30), django_capture_on_commit_callbacks)  # a second sweep: nothing new
    sweep_at(at(10, 20), django_capture_on_commit_callbacks)
    assert webhook.events() == ["incident.opened", "incident.reminder", "incident.reminder"]
    assert [b["round"] for b in webhook.bodies] == [1, 2, 3]

    with time_machine.travel(at(10, 25), tick=False):
        incident_acknowledge(incident_id=incident.pk, by="王工")
    for minute in (30, 40, 50):
        sweep_at(at(10, minute), django_capture_on_commit_callbacks)
    sweep_at(at(12), django_capture_on_commit_callbacks)

    assert len(webhook.requests) == 3
    assert len(mail.outbox) == 6  # two addresses, three rounds
    incident.refresh_from_db()
    assert incident.escalation_round == 3 and incident.next_notify_at is None


def test_the_hall_manager_after_m_minutes_and_the_region_after_that(
    open_fault, webhook, manager_with_mail, django_capture_on_commit_callbacks
):
    open_fault(at(10))
    told = {}
    for minute in (10, 20, 30, 40, 50, 60):
        mail.outbox.clear()
        sweep_at(at(10) + datetime.timedelta(minutes=minute), django_capture_on_commit_callbacks)
        told[minute] = {m.to[0] for m in mail.outbox}

    department = {"noc@billing.test", "duty@billing.test"}
    assert told[10] == told[20] == department
    assert told[30] == told[40] == told[50] == department | {"manager@h1.test"}
    assert told[60] == department | {"manager@h1.test", "region@operator.test"}
    assert [(b["event"], b["level"]) for b in webhook.bodies] == [
        ("incident.opened", "department"),
        ("incident.reminder", "department"),
        ("incident.reminder", "department"),
        ("incident.escalated", "manager"),
        ("incident.escalated", "manager"),
        ("incident.escalated", "manager"),
        ("incident.escalated", "regional"),
    ]
    manager_mail = EscalationAttempt.objects.filter(target="manager@h1.test")
    assert {a.level for a in manager_mail} == {EscalationLevel.MANAGER}
    assert [a.round for a in manager_mail] == [4, 5, 6, 7]


def test_a_threshold_between_two_reminders_gets_a_round_of_its_own(billing_team):
    Department.objects.filter(pk=billing_team.pk).update(
        renotify_minutes=20, manager_after_minutes=25
    )
    billing_team.refresh_from_db()
    opened = at(10)

    times, after = [], opened
    for _ in range(5):
        after = next_round_at(opened_at=opened, department=billing_team, after=after)
        times.append(after.time().strftime("%H:%M"))

    assert times == ["10:20", "10:25", "10:40", "11:00", "11:20"]
    # A sweep that was down for 43 minutes sends one round, then keeps the schedule.
    late = next_round_at(opened_at=opened, department=billing_team, after=at(10, 43))
    assert late == at(11)


def test_the_resolution_is_one_more_round_to_everyone_told_so_far(
    open_fault, webhook, manager_with_mail, hall, clerk_a, django_capture_on_commit_callbacks
):
    incident = open_fault(at(10))
    sweep_at(at(10, 30), django_capture_on_commit_callbacks)  # the manager's turn
    with time_machine.travel(at(10, 35), tick=False):
        incident_acknowledge(incident_id=incident.pk, by="王工")
    mail.outbox.clear()

    with (
        time_machine.travel(at(10, 50), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        incident_resolve(incident_id=incident.pk, user=clerk_a, resolution="已重启")
    sweep_at(at(11), django_capture_on_commit_callbacks)

    assert webhook.events()[-1] == "incident.resolved"
    assert webhook.bodies[-1]["incident"]["resolution"] == "已重启"
    assert len(webhook.requests) == 3
    assert {m.to[0] for m in mail.outbox} == {
        "noc@billing.test",
        "duty@billing.test",
        "manager@h1.test",
    }
    assert all("Fault resolved" in m.subject for m in mail.outbox)


def test_a_task_that_runs_twice_sends_nothing_twice(hall, clerk_a, billing_team, webhook):
    # Opened without running the on-commit hook: the round is due but unsent.
    incident = incident_open(hall=hall, kind="billing", reporter=clerk_a)

    escalate_incident.apply(args=[incident.pk])
    escalate_incident.apply(args=[incident.pk])  # Celery delivered it twice
    escalation_run(incident_id=incident.pk)

    assert len(webhook.requests) == 1
    assert len(mail.outbox) == 2
    incident.refresh_from_db()
    assert incident.escalation_round == 1
    # The same send claimed twice (two workers with the same task): the second sends nothing.
    recipient = Recipient(EscalationLevel.DEPARTMENT, NotificationChannel.WEBHOOK, HOOK_URL)
    assert attempt_send(incident_id=incident.pk, round_number=1, recipient=recipient) is None
    assert len(webhook.requests) == 1


def test_a_failing_webhook_is_retried_with_backoff_and_each_try_logged(
    open_fault, webhook, settings
):
    settings.ESCALATION_RETRY_BACKOFF_SECONDS = 30
    webhook.statuses = [500, 503, 200]
    countdowns = []
    real_apply_async = retry_escalation_attempt.apply_async

    def recording(args, countdown):
        countdowns.append(countdown)
        return real_apply_async(args, countdown=countdown)

    with mock.patch.object(retry_escalation_attempt, "apply_async", recording):
        incident = open_fault(at(10))

    tries = EscalationAttempt.objects.filter(
        incident=incident, channel=NotificationChannel.WEBHOOK
    ).order_by("try_number")
    assert [(t.try_number, t.status, t.response_code) for t in tries] == [
        (1, AttemptStatus.FAILED, 500),
        (2, AttemptStatus.FAILED, 503),
        (3, AttemptStatus.SENT, 200),
    ]
    assert tries[0].error == "HTTP 500"
    assert countdowns == [30, 60]
    assert len(webhook.requests) == 3
    assert len(mail.outbox) == 2  # the e-mails went through once each


def test_an_unreachable_webhook_is_tried_at_most_max_tries_times(open_fault, webhook, settings):
    settings.ESCALATION_MAX_TRIES = 4
    webhook.error = ConnectionRefusedError(111, "Connection refused")

    incident = open_fault(at(10))

    tries = EscalationAttempt.objects.filter(incident=incident, channel=NotificationChannel.WEBHOOK)
    assert tries.count() == 4
    assert {t.status for t in tries} == {AttemptStatus.FAILED}
    assert "Connection refused" in tries.first().error
    assert retry_countdown(1) < retry_countdown(2) < retry_countdown(3)
    assert retry_countdown(20) == 600  # capped at ten minutes


def test_a_failing_mail_server_is_retried_too(open_fault, monkeypatch):
    real_send = EmailMessage.send
    failures = ["down"]

    def flaky(self, *args, **kwargs):
        if failures:
            failures.pop()
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return real_send(self, *args, **kwargs)

    monkeypatch.setattr(EmailMessage, "send", flaky)
    incident = open_fault(at(10))

    emails = EscalationAttempt.objects.filter(incident=incident, channel=NotificationChannel.EMAIL)
    assert emails.filter(status=AttemptStatus.FAILED).count() == 1
    assert emails.filter(status=AttemptStatus.SENT).count() == 2
    assert len(mail.outbox) == 2


def test_nothing_is_retried_once_acknowledged(open_fault, webhook, settings):
    webhook.statuses = [500]
    with mock.patch.object(retry_escalation_attempt, "apply_async"):  # retries held back
        incident = open_fault(at(10))
    failed = EscalationAttempt.objects.get(incident=incident, channel="webhook")
    incident_acknowledge(incident_id=incident.pk, by="王工")

    retry_escalation_attempt.apply(args=[failed.pk])

    assert EscalationAttempt.objects.filter(incident=incident, channel="webhook").count() == 1


def test_the_sweep_resends_a_retry_whose_task_was_lost_and_fails_a_dead_claim(
    open_fault, webhook, django_capture_on_commit_callbacks
):
    webhook.statuses = [500, 200]
    with mock.patch.object(retry_escalation_attempt, "apply_async"):  # the retry task is lost
        incident = open_fault(at(10))
    recipient = Recipient(EscalationLevel.DEPARTMENT, NotificationChannel.EMAIL, "x@billing.test")
    # A worker claimed a send at 10:00 and died before it finished.
    EscalationAttempt.objects.create(
        incident=incident,
        round=1,
        level=recipient.level,
        channel=recipient.channel,
        target=recipient.target,
        created_at=at(10),
    )
    assert escalation_lost_retries(now=at(10, 3)) == []  # still within the backoff

    sweep_at(at(10, 20), django_capture_on_commit_callbacks)

    webhook_tries = EscalationAttempt.objects.filter(incident=incident, channel="webhook", round=1)
    assert [t.status for t in webhook_tries.order_by("try_number")] == ["failed", "sent"]
    dead = EscalationAttempt.objects.get(target="x@billing.test", try_number=1)
    assert dead.status == AttemptStatus.FAILED and "stopped" in dead.error
    # ... and its next try went out (to the address it was for).
    assert EscalationAttempt.objects.get(target="x@billing.test", try_number=2).status == "sent"


def test_an_acknowledged_incident_is_not_swept_even_if_a_round_looks_due(
    open_fault, webhook, django_capture_on_commit_callbacks
):
    incident = open_fault(at(10))
    incident_acknowledge(incident_id=incident.pk, by="王工")
    Incident.objects.filter(pk=incident.pk).update(next_notify_at=at(10, 1))  # stale schedule

    sweep_at(at(10, 30), django_capture_on_commit_callbacks)
    escalation_run(incident_id=incident.pk, now=at(10, 30))

    assert len(webhook.requests) == 1


def _settings_in_a_fresh_process(tmp_path, **env):
    clean = {
        k: v for k, v in os.environ.items() if k not in SETTINGS_ENV and not k.startswith("EMAIL")
    }
    code = (
        "import json, django; from django.conf import settings; django.setup(); "
        "print(json.dumps({k: str(getattr(settings, k)) for k in "
        "('EMAIL_BACKEND', 'EMAIL_FILE_PATH', 'EMAIL_HOST', 'DEFAULT_FROM_EMAIL', 'SITE_URL')}))"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=Path(__file__).resolve().parents[2],
        env={
            **clean,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "HALLQ_VAR_DIR": str(tmp_path),
            **env,
        },
        capture_output=True,
        text=True,
    )


SETTINGS_ENV = ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "SITE_URL", "DEFAULT_FROM_EMAIL")


def test_mail_goes_to_files_under_var_by_default_and_to_smtp_once_a_host_is_set(tmp_path):
    embedded = _settings_in_a_fresh_process(tmp_path)
    smtp = _settings_in_a_fresh_process(tmp_path, EMAIL_HOST="smtp.example.com")
    both = _settings_in_a_fresh_process(tmp_path, EMAIL_USE_TLS="1", EMAIL_USE_SSL="1")

    values = json.loads(embedded.stdout)
    assert values["EMAIL_BACKEND"] == "django.core.mail.backends.filebased.EmailBackend"
    assert values["EMAIL_FILE_PATH"] == str(tmp_path / "mail")
    assert values["SITE_URL"] == "http://127.0.0.1:8000"
    assert json.loads(smtp.stdout)["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert both.returncode != 0 and "EMAIL_USE_TLS" in both.stderr


def test_the_admin_lists_departments_incidents_and_attempts(admin_client, open_fault):
    incident = open_fault(at(10))
    for url in (
        "/admin/hall/department/",
        "/admin/hall/department/add/",
        "/admin/hall/incident/",
        f"/admin/hall/incident/{incident.pk}/change/",
        "/admin/recovery/escalationattempt/",
    ):
        response = admin_client.get(url)
        assert response.status_code == 200, url
    page = admin_client.get(f"/admin/hall/incident/{incident.pk}/change/").content.decode()
    assert "noc@billing.test" in page  # the attempts, inline
    # The address it had before the model moved to recovery (issue 15) still leads there.
    old = admin_client.get("/admin/hall/escalationattempt/?status=sent")
    assert old.status_code == 301
    assert old["Location"] == "/admin/recovery/escalationattempt/?status=sent"
