"""Escalation of system faults (立即联系相关部门): who is told, when, and one try at telling them.

The schedule. A round is due at once when the incident opens, then every ``renotify_minutes``
(counted from the opening) until someone acknowledges, and also at ``manager_after_minutes`` and
``regional_after_minutes``. Each round tells everyone up to the level reached by then:

- level 0, the responsible department: its webhook (a JSON POST signed with HMAC-SHA256 of the
  body under the department's secret, ``X-Hallq-Signature: sha256=<hex>``) and its e-mails;
- level 1, after ``manager_after_minutes``: also the hall's managers (e-mail);
- level 2, after ``regional_after_minutes``: also the department's regional contacts (e-mail).

Resolving the incident sends one last round (``incident.resolved``) to everyone told so far.
What each message says and how it is delivered: recovery/escalation_delivery.py.

Exactly once, however often a task runs:

- a round is claimed by compare-and-set on the incident (``escalation_round`` r → r+1, only while
  ``next_notify_at`` is due and nobody has acknowledged): of two sweeps, one claims it;
- each send is claimed by inserting its ``EscalationAttempt`` row (unique per incident, round,
  channel, target and try) and committing it before anything goes out: a second run of the
  same task hits the unique constraint and sends nothing.

A failed try is logged with its result and tried again after a backoff (``ESCALATION_RETRY_
BACKOFF_SECONDS`` × 2^(try-1), at most 10 minutes), as a new row, up to ``ESCALATION_MAX_TRIES``.
The beat sweep (``escalation_due`` / ``escalation_lost_retries``) sends the due rounds and
re-sends retries whose task was lost, so nothing depends on one countdown surviving.
"""

import datetime
import logging
import math
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.db.models.functions import Greatest
from django.utils import timezone

from hall.models import Department, Hall, Incident, Role, StaffMembership
from hall.outbox import task_send_on_commit
from recovery.escalation_delivery import DeliveryFailed, RoundEvent, deliver
from recovery.models import (
    AttemptStatus,
    DepartmentRoute,
    EscalationAttempt,
    EscalationLevel,
    NotificationChannel,
)

log = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 600
# A claimed try still pending after this died with its worker (a send takes seconds).
DEAD_CLAIM = datetime.timedelta(minutes=5)


@dataclass(frozen=True)
class Recipient:
    level: int
    channel: str
    target: str


# --- who ---------------------------------------------------------------------------------------


def department_for(*, hall: Hall, kind: str) -> Department | None:
    """The department answering for this kind of fault in this hall: the hall's own route,
    else the operator-wide one."""
    route = (
        DepartmentRoute.objects.filter(kind=kind)
        .filter(Q(hall=hall) | Q(hall__isnull=True))
        .select_related("department")
        .order_by(F("hall_id").asc(nulls_last=True))
        .first()
    )
    return route.department if route else None


def _addresses(text: str) -> list[str]:
    """E-mail addresses written one per line (commas and semicolons tolerated)."""
    raw = text.replace(",", "\n").replace(";", "\n").splitlines()
    return list(dict.fromkeys(a.strip() for a in raw if a.strip()))


def hall_manager_emails(*, hall: Hall) -> list[str]:
    return list(
        StaffMembership.objects.filter(hall=hall, role=Role.MANAGER, user__is_active=True)
        .exclude(user__email="")
        .order_by("user__email")
        .values_list("user__email", flat=True)
        .distinct()
    )


def escalation_recipients(*, incident: Incident, level: int) -> list[Recipient]:
    """Everyone a round at ``level`` tells, each address once (at its lowest level)."""
    department = incident.department
    if department is None:
        return []
    wanted = []
    if department.webhook_url:
        wanted.append(
            Recipient(
                EscalationLevel.DEPARTMENT, NotificationChannel.WEBHOOK, department.webhook_url
            )
        )
    wanted += [
        Recipient(EscalationLevel.DEPARTMENT, NotificationChannel.EMAIL, address)
        for address in _addresses(department.emails)
    ]
    if level >= EscalationLevel.MANAGER:
        wanted += [
            Recipient(EscalationLevel.MANAGER, NotificationChannel.EMAIL, address)
            for address in hall_manager_emails(hall=incident.hall)
        ]
    if level >= EscalationLevel.REGIONAL:
        wanted += [
            Recipient(EscalationLevel.REGIONAL, NotificationChannel.EMAIL, address)
            for address in _addresses(department.escalation_contacts)
        ]
    seen, recipients = set(), []
    for recipient in wanted:
        key = (recipient.channel, recipient.target.lower())
        if key not in seen:
            seen.add(key)
            recipients.append(recipient)
    return recipients


# --- when --------------------------------------------------------------------------------------


def level_at(*, department: Department, elapsed: datetime.timedelta) -> int:
    """The escalation level reached after ``elapsed`` unacknowledged."""
    minutes = elapsed.total_seconds() / 60
    if minutes >= department.regional_after_minutes:
        return EscalationLevel.REGIONAL
    if minutes >= department.manager_after_minutes:
        return EscalationLevel.MANAGER
    return EscalationLevel.DEPARTMENT


def next_round_at(
    *, opened_at: datetime.datetime, department: Department, after: datetime.datetime
) -> datetime.datetime:
    """The first moment strictly after ``after`` when a round is due: the next multiple of
    ``renotify_minutes`` from the opening, or an escalation threshold if that comes first.

    Counted from the opening, not from the last round, so a late sweep does not shift the
    schedule, and a sweep that was down for an hour sends one round, not six.
    """
    step = datetime.timedelta(minutes=department.renotify_minutes)
    steps = math.floor((after - opened_at) / step) + 1
    candidates = [opened_at + steps * step]
    for minutes in (department.manager_after_minutes, department.regional_after_minutes):
        threshold = opened_at + datetime.timedelta(minutes=minutes)
        if threshold > after:
            candidates.append(threshold)
    return min(candidates)


def escalation_due(*, now: datetime.datetime | None = None) -> list[int]:
    """Ids of the open, unacknowledged incidents whose next round is due."""
    now = now or timezone.now()
    return list(
        Incident.objects.filter(
            resolved_at__isnull=True, acknowledged_at__isnull=True, next_notify_at__lte=now
        )
        .order_by("next_notify_at")
        .values_list("pk", flat=True)
    )


def round_claim(*, incident_id: int, now: datetime.datetime | None = None) -> bool:
    """Claim the incident's due round, if one is due: True if this call claimed it.

    Compare-and-set on ``escalation_round`` (and still unacknowledged, unresolved): of two
    concurrent callers exactly one moves the round on.
    """
    now = now or timezone.now()
    incident = (
        Incident.objects.select_related("department")
        .filter(pk=incident_id, resolved_at__isnull=True, acknowledged_at__isnull=True)
        .first()
    )
    if (
        incident is None
        or incident.department is None
        or incident.next_notify_at is None
        or incident.next_notify_at > now
    ):
        return False
    department = incident.department
    level = level_at(department=department, elapsed=now - incident.opened_at)
    claimed = Incident.objects.filter(
        pk=incident.pk,
        escalation_round=incident.escalation_round,
        resolved_at__isnull=True,
        acknowledged_at__isnull=True,
    ).update(
        escalation_round=F("escalation_round") + 1,
        escalation_level=Greatest(F("escalation_level"), level),
        next_notify_at=next_round_at(
            opened_at=incident.opened_at, department=department, after=now
        ),
    )
    return claimed == 1


def round_event(*, incident: Incident, round_number: int) -> str | None:
    """What round ``round_number`` of the incident says, or None if it must not be sent (any
    more): nothing goes out after an acknowledgement except the resolution, and a round overtaken
    by the resolution is dropped."""
    if incident.resolved_at is not None:
        return RoundEvent.RESOLVED if round_number == incident.escalation_round else None
    if incident.acknowledged_at is not None:
        return None
    if round_number == 1:
        return RoundEvent.OPENED
    if incident.escalation_level > EscalationLevel.DEPARTMENT:
        return RoundEvent.ESCALATED
    return RoundEvent.REMINDER


# --- sending -----------------------------------------------------------------------------------


def retry_countdown(try_number: int) -> int:
    """Seconds before try ``try_number + 1``: the backoff doubles, up to 10 minutes."""
    base = settings.ESCALATION_RETRY_BACKOFF_SECONDS
    return min(base * 2 ** (try_number - 1), MAX_BACKOFF_SECONDS)


def attempt_send(
    *,
    incident_id: int,
    round_number: int,
    recipient: Recipient,
    try_number: int = 1,
    now: datetime.datetime | None = None,
) -> EscalationAttempt | None:
    """One try at telling one recipient; the logged attempt, or None if it was not ours to send.

    The attempt row is the claim: inserted and committed before sending, so a second run of the
    same task finds it and sends nothing. A failure schedules the next try (after commit) while
    tries remain and the round still matters.
    """
    incident = Incident.objects.select_related("hall", "department").filter(pk=incident_id).first()
    if incident is None or incident.department is None:
        return None
    event = round_event(incident=incident, round_number=round_number)
    if event is None:
        return None
    try:
        with transaction.atomic():
            attempt = EscalationAttempt.objects.create(
                incident=incident,
                round=round_number,
                level=recipient.level,
                channel=recipient.channel,
                target=recipient.target,
                try_number=try_number,
                created_at=now or timezone.now(),
            )
    except IntegrityError:
        return None  # claimed by another run: it sends, not this one
    try:
        attempt.response_code = deliver(incident=incident, attempt=attempt, event=event)
        attempt.status = AttemptStatus.SENT
    except DeliveryFailed as failure:
        attempt.status, attempt.error = AttemptStatus.FAILED, failure.error
        attempt.response_code = failure.response_code
        log.warning(
            "incident %s round %s to %s failed (try %s): %s",
            incident.pk,
            round_number,
            recipient.target,
            try_number,
            failure.error,
        )
    attempt.finished_at = timezone.now()
    attempt.save(update_fields=["status", "error", "response_code", "finished_at"])
    if attempt.status == AttemptStatus.FAILED and try_number < settings.ESCALATION_MAX_TRIES:
        from recovery.tasks import retry_escalation_attempt

        countdown = retry_countdown(try_number)
        task_send_on_commit(retry_escalation_attempt, attempt.pk, countdown=countdown)
    return attempt


def attempt_retry(*, attempt_id: int) -> EscalationAttempt | None:
    """The next try after a failed attempt (the retry task's body)."""
    failed = EscalationAttempt.objects.filter(pk=attempt_id, status=AttemptStatus.FAILED).first()
    if failed is None:
        return None
    return attempt_send(
        incident_id=failed.incident_id,
        round_number=failed.round,
        recipient=Recipient(failed.level, failed.channel, failed.target),
        try_number=failed.try_number + 1,
    )


def escalation_run(*, incident_id: int, now: datetime.datetime | None = None) -> list:
    """Claim the incident's due round (if one is due) and send the current round to each of its
    recipients not yet claimed. Safe to run any number of times: it sends nothing twice."""
    round_claim(incident_id=incident_id, now=now)
    incident = Incident.objects.select_related("hall", "department").filter(pk=incident_id).first()
    if incident is None or incident.escalation_round == 0:
        return []
    if round_event(incident=incident, round_number=incident.escalation_round) is None:
        return []
    sent = []
    for recipient in escalation_recipients(incident=incident, level=incident.escalation_level):
        attempt = attempt_send(
            incident_id=incident.pk,
            round_number=incident.escalation_round,
            recipient=recipient,
            now=now,
        )
        if attempt is not None:
            sent.append(attempt)
    return sent


def escalation_lost_retries(*, now: datetime.datetime | None = None) -> list[int]:
    """Failed attempts whose next try never happened (its task was lost with a worker or the
    broker), after marking tries that died mid-send as failed. Their retries are still claimed
    by insert: a late original retry sends nothing."""
    now = now or timezone.now()
    dead = EscalationAttempt.objects.filter(
        status=AttemptStatus.PENDING, created_at__lt=now - DEAD_CLAIM
    )
    dead_ids = list(dead.values_list("pk", flat=True))
    retry_dead = list(
        dead.filter(try_number__lt=settings.ESCALATION_MAX_TRIES).values_list("pk", flat=True)
    )
    EscalationAttempt.objects.filter(pk__in=dead_ids, status=AttemptStatus.PENDING).update(
        status=AttemptStatus.FAILED,
        error="no result: the sender stopped while sending",
        finished_at=now,
    )
    # The longest backoff plus a margin: a retry not started by then has no task left.
    overdue = now - datetime.timedelta(seconds=MAX_BACKOFF_SECONDS) - DEAD_CLAIM
    next_try = EscalationAttempt.objects.filter(
        incident=OuterRef("incident"),
        round=OuterRef("round"),
        channel=OuterRef("channel"),
        target=OuterRef("target"),
        try_number=OuterRef("try_number") + 1,
    )
    # Only rounds that still matter (see round_event), and only lately: history is not rescanned.
    still_matters = Q(
        incident__resolved_at__isnull=True, incident__acknowledged_at__isnull=True
    ) | Q(incident__resolved_at__isnull=False, round=F("incident__escalation_round"))
    lost = (
        EscalationAttempt.objects.filter(
            still_matters,
            status=AttemptStatus.FAILED,
            try_number__lt=settings.ESCALATION_MAX_TRIES,
            finished_at__lt=overdue,
            finished_at__gte=now - datetime.timedelta(days=1),
        )
        .exclude(Exists(next_try))
        .values_list("pk", flat=True)
    )
    return retry_dead + [pk for pk in lost if pk not in dead_ids]
