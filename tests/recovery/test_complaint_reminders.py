"""Complaint follow-up through Celery (eager here): the owner is reminded before the promised
callback, once; past it, the hall's managers are alerted, once; a reply clears the alert."""

import datetime
from unittest import mock

import pytest
import time_machine
from django.conf import settings

from hall.models import AuditEvent, EventKind
from recovery.complaints import complaint_register, complaint_reply
from recovery.models import AlertKind, Complaint, ManagerAlert
from recovery.tasks import complaints_follow_up, remind_complaint_owner

NOON = datetime.datetime(2026, 3, 2, 12, 0, tzinfo=datetime.UTC)
PHONE = "13812345678"


@pytest.fixture
def people(clerk_a, manager):
    clerk_a.email = "clerk_a@hall.example.cn"
    clerk_a.save()
    manager.email = "manager@hall.example.cn"
    manager.save()
    return clerk_a, manager


def register(hall, owner, minutes=120):
    return complaint_register(
        hall=hall,
        owner=owner,
        category="billing",
        description="多扣话费二十元",
        customer_phone=PHONE,
        callback_minutes=minutes,
        now=NOON,
    )


def follow_up_at(at, capture):
    with time_machine.travel(at, tick=False), capture(execute=True):
        return complaints_follow_up()


def test_beat_runs_the_follow_up_every_minute():
    entry = settings.CELERY_BEAT_SCHEDULE["complaints-follow-up"]
    assert entry["task"] == "recovery.tasks.complaints_follow_up"
    assert entry["schedule"] == 60


def test_the_owner_is_reminded_thirty_minutes_before_the_deadline_once(
    hall, people, mailoutbox, django_capture_on_commit_callbacks
):
    clerk, _manager = people
    complaint = register(hall, clerk)

    assert (
        follow_up_at(NOON + datetime.timedelta(minutes=89), django_capture_on_commit_callbacks)[
            "remind"
        ]
        == 0
    )
    assert mailoutbox == []

    reminder_time = NOON + datetime.timedelta(minutes=90)
    follow_up_at(reminder_time, django_capture_on_commit_callbacks)
    follow_up_at(reminder_time + datetime.timedelta(minutes=1), django_capture_on_commit_callbacks)
    remind_complaint_owner.delay(complaint.pk)  # a duplicate delivery of the task

    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == [clerk.email]
    assert f"#{complaint.pk}" in mail.subject
    assert "30" in mail.body and f"/console/{hall.code}/complaints/" in mail.body
    assert PHONE not in mail.body and "话费" not in mail.body  # those are read on the page
    assert Complaint.objects.get(pk=complaint.pk).reminded_at == reminder_time


def test_the_reminder_lead_is_the_halls_setting(
    hall, people, mailoutbox, django_capture_on_commit_callbacks
):
    hall.complaint_reminder_minutes = 60
    hall.save()
    clerk, _manager = people
    register(hall, clerk)
    follow_up_at(NOON + datetime.timedelta(minutes=61), django_capture_on_commit_callbacks)
    assert len(mailoutbox) == 1


def test_no_reminder_for_a_replied_complaint_or_when_the_lead_is_zero(
    hall, people, mailoutbox, django_capture_on_commit_callbacks
):
    clerk, _manager = people
    replied = register(hall, clerk)
    complaint_reply(complaint_id=replied.pk, user=clerk, reply="ok", now=NOON)
    follow_up_at(NOON + datetime.timedelta(minutes=100), django_capture_on_commit_callbacks)
    assert mailoutbox == []

    hall.complaint_reminder_minutes = 0
    hall.save()
    register(hall, clerk)
    follow_up_at(NOON + datetime.timedelta(minutes=119), django_capture_on_commit_callbacks)
    assert mailoutbox == []


def test_a_failed_send_is_retried_and_still_sends_once(
    hall, people, mailoutbox, django_capture_on_commit_callbacks
):
    clerk, _manager = people
    complaint = register(hall, clerk)
    at = NOON + datetime.timedelta(minutes=95)
    with (
        mock.patch("django.core.mail.send_mail", side_effect=OSError("smtp down")),
        pytest.raises(OSError),
        time_machine.travel(at, tick=False),
    ):
        remind_complaint_owner.apply(args=[complaint.pk], throw=True, retries=5)
    assert Complaint.objects.get(pk=complaint.pk).reminded_at is None  # the claim came back

    follow_up_at(at + datetime.timedelta(minutes=1), django_capture_on_commit_callbacks)
    follow_up_at(at + datetime.timedelta(minutes=2), django_capture_on_commit_callbacks)
    assert len(mailoutbox) == 1


def test_past_the_deadline_the_managers_are_alerted_once(
    hall, people, mailoutbox, django_capture_on_commit_callbacks
):
    clerk, manager = people
    complaint = register(hall, clerk, minutes=20)  # too short for a reminder lead of 30
    follow_up_at(NOON + datetime.timedelta(minutes=10), django_capture_on_commit_callbacks)
    assert [m.to for m in mailoutbox] == [[clerk.email]]  # reminded at once: 10 min left

    overdue = NOON + datetime.timedelta(minutes=21)
    counts = follow_up_at(overdue, django_capture_on_commit_callbacks)
    follow_up_at(overdue + datetime.timedelta(minutes=1), django_capture_on_commit_callbacks)
    follow_up_at(overdue + datetime.timedelta(minutes=5), django_capture_on_commit_callbacks)

    assert counts["escalate"] == 1
    alert = ManagerAlert.objects.get()
    assert (alert.kind, alert.subject) == (AlertKind.COMPLAINT_OVERDUE, f"complaint:{complaint.pk}")
    assert alert.cleared_at is None
    assert f"#{complaint.pk}" in alert.message_zh and "clerk_a" in alert.message_en
    assert Complaint.objects.get(pk=complaint.pk).escalated_at == overdue
    to_managers = [m for m in mailoutbox if m.to == [manager.email]]
    assert len(to_managers) == 1
    assert f"#{complaint.pk}" in to_managers[0].subject
    assert PHONE not in to_managers[0].body


def test_a_reply_clears_the_overdue_alert(hall, people, django_capture_on_commit_callbacks):
    clerk, manager = people
    complaint = register(hall, clerk, minutes=20)
    follow_up_at(NOON + datetime.timedelta(minutes=30), django_capture_on_commit_callbacks)
    assert ManagerAlert.objects.filter(cleared_at__isnull=True).count() == 1

    late = NOON + datetime.timedelta(minutes=40)
    complaint_reply(complaint_id=complaint.pk, user=manager, reply="经理致电客户", now=late)

    alert = ManagerAlert.objects.get()
    assert alert.cleared_at == late
    assert AuditEvent.objects.filter(kind=EventKind.ALERT_CLEARED).count() == 1
    # and a replied complaint is never escalated again
    assert follow_up_at(late + datetime.timedelta(hours=1), django_capture_on_commit_callbacks) == {
        "remind": 0,
        "escalate": 0,
    }
