"""Reads of service recovery: who may handle an incident or a complaint, the complaints' lists
and figures, an incident's duration and the customers it affected."""

import datetime
from dataclasses import dataclass

from django.db.models import Count, F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from hall.access import HANDLE_COMPLAINT, HANDLE_INCIDENT, admit_to_hall_of
from hall.models import (
    AuditEvent,
    EventKind,
    Hall,
    Incident,
)
from queueing.models import Ticket
from recovery.models import Complaint, ComplaintStatus


def incident_admission(*, incident_id: int, user) -> tuple[Hall, str]:
    """The incident's hall and the role with which ``user`` may handle it there
    (``hall.access.HANDLE_INCIDENT``); 404 for no such incident."""
    rows = Incident.objects.filter(pk=incident_id)
    return admit_to_hall_of(rows, who=user, action=HANDLE_INCIDENT, missing=_("No such incident."))


def complaint_admission(*, complaint_id: int, user) -> tuple[Hall, str]:
    """The complaint's hall and the role with which ``user`` may handle complaints there
    (``hall.access.HANDLE_COMPLAINT``); 404 for no such complaint. Whether they may reply to this
    one (its owner, or a manager) is ``complaint_reply``'s to say."""
    rows = Complaint.objects.filter(pk=complaint_id)
    missing = _("No such complaint.")
    return admit_to_hall_of(rows, who=user, action=HANDLE_COMPLAINT, missing=missing)


def complaints_for(
    *,
    hall: Hall,
    status: str | None = None,
    owner=None,
    since: datetime.datetime | None = None,
    until: datetime.datetime | None = None,
):
    """The hall's complaints: open ones by deadline (soonest first), else newest first.

    ``owner``: only those this person owns; ``since``/``until``: received in [since, until).
    """
    complaints = Complaint.objects.filter(hall=hall).select_related("owner", "replied_by", "ticket")
    if status is not None:
        complaints = complaints.filter(status=status)
    if owner is not None:
        complaints = complaints.filter(owner=owner)
    if since is not None:
        complaints = complaints.filter(received_at__gte=since)
    if until is not None:
        complaints = complaints.filter(received_at__lt=until)
    if status == ComplaintStatus.OPEN:
        return complaints.order_by("callback_due_at", "pk")
    return complaints.order_by("-received_at", "-pk")


@dataclass(frozen=True)
class ComplaintKpis:
    registered: int
    replied: int
    replied_on_time: int
    open: int
    due_soon: int
    overdue: int

    @property
    def reply_rate(self) -> float | None:
        """Replied ÷ registered (the standard: 100%)."""
        return self.replied / self.registered if self.registered else None

    @property
    def on_time_rate(self) -> float | None:
        """Replied by the promised time ÷ replied.

        Divided by the replied, not by all registered: a complaint still open and not yet due
        has not missed its promise, and counting it as late would make the rate drop every time
        a complaint comes in. The unreplied are not lost from view: they lower the reply rate,
        and those past their deadline are counted as ``overdue``. (The wall's figures in
        display.wall.metrics use the same two definitions.)
        """
        return self.replied_on_time / self.replied if self.replied else None

    def as_dict(self) -> dict:
        return {
            "registered": self.registered,
            "replied": self.replied,
            "replied_on_time": self.replied_on_time,
            "reply_rate": self.reply_rate,
            "on_time_rate": self.on_time_rate,
            "open": self.open,
            "due_soon": self.due_soon,
            "overdue": self.overdue,
        }


def complaint_kpis(
    *,
    hall: Hall,
    since: datetime.datetime,
    until: datetime.datetime,
    now: datetime.datetime | None = None,
) -> ComplaintKpis:
    """The hall's complaint KPIs in one query.

    ``registered``, ``replied``, ``replied_on_time`` (and the two rates) count the complaints
    received in [since, until), replied whenever. ``open``, ``due_soon`` (deadline within the
    hall's reminder lead) and ``overdue`` count the hall's open complaints as of ``now``,
    whenever received: an overdue complaint from yesterday still needs a reply today.
    """
    now = now or timezone.now()
    soon = now + datetime.timedelta(minutes=hall.complaint_reminder_minutes)
    received = Q(received_at__gte=since, received_at__lt=until)
    replied = received & Q(status=ComplaintStatus.REPLIED)
    is_open = Q(status=ComplaintStatus.OPEN)
    row = Complaint.objects.filter(hall=hall).aggregate(
        registered=Count("pk", filter=received),
        replied=Count("pk", filter=replied),
        replied_on_time=Count("pk", filter=replied & Q(replied_at__lte=F("callback_due_at"))),
        open=Count("pk", filter=is_open),
        due_soon=Count(
            "pk", filter=is_open & Q(callback_due_at__gte=now, callback_due_at__lte=soon)
        ),
        overdue=Count("pk", filter=is_open & Q(callback_due_at__lt=now)),
    )
    return ComplaintKpis(**row)


def complaints_to_follow_up(*, now: datetime.datetime | None = None) -> dict[str, list[int]]:
    """Open complaints whose owner is due a reminder, and those due escalation (past the
    deadline, not yet escalated). Open complaints are few: the reminder lead, which is per hall,
    is compared here rather than in SQL."""
    now = now or timezone.now()
    open_complaints = Complaint.objects.filter(status=ComplaintStatus.OPEN)
    escalate = list(
        open_complaints.filter(escalated_at__isnull=True, callback_due_at__lte=now)
        .order_by("callback_due_at")
        .values_list("pk", flat=True)
    )
    remind = [
        pk
        for pk, due, lead in open_complaints.filter(
            reminded_at__isnull=True, callback_due_at__gt=now
        )
        .order_by("callback_due_at")
        .values_list("pk", "callback_due_at", "hall__complaint_reminder_minutes")
        if lead and due - datetime.timedelta(minutes=lead) <= now
    ]
    return {"remind": remind, "escalate": escalate}


def incident_duration_s(incident: Incident) -> int | None:
    if incident.resolved_at is None:
        return None
    return round((incident.resolved_at - incident.opened_at).total_seconds())


def incident_affected_customers(*, incident: Incident, until: datetime.datetime) -> int:
    """Distinct tickets of the affected business types that were waiting, called or being served
    at some moment between the opening and ``until``.

    A ticket is in the hall from its issue time (kept on transfer) until ``finished_at``, which
    every way out sets (done, no-show, cancelled, expired). Its business type over time comes
    from its transfer events: a ticket transferred into an affected type during the incident
    counts, one transferred out of it before the incident does not.
    """
    opened = incident.opened_at
    present = Ticket.objects.filter(hall_id=incident.hall_id, issued_at__lt=until).filter(
        Q(finished_at__isnull=True) | Q(finished_at__gte=opened)
    )
    if incident.affects_all:
        return present.count()
    affected = dict(incident.business_types.values_list("code", "pk"))
    steady = present.filter(transfer_count=0, business_type_id__in=affected.values()).count()
    moved = {
        pk: (code, issued_at, finished_at)
        for pk, code, issued_at, finished_at in present.filter(transfer_count__gt=0).values_list(
            "pk", "business_type__code", "issued_at", "finished_at"
        )
    }
    transfers: dict[int, list[tuple[datetime.datetime, str, str]]] = {pk: [] for pk in moved}
    events = AuditEvent.objects.filter(
        hall_id=incident.hall_id, kind=EventKind.TICKET_TRANSFERRED, ticket_id__in=list(moved)
    ).order_by("created_at", "pk")
    for ticket_id, at, data in events.values_list("ticket_id", "created_at", "data"):
        previous = (data.get("previous") or {}).get("business_type")
        transfers[ticket_id].append((at, previous, data.get("business_type")))
    hits = 0
    for pk, (code, issued_at, finished_at) in moved.items():
        history = transfers[pk]
        # Segments of (from, to, business type): before the first transfer, the type it left.
        start, current = issued_at, history[0][1] if history else code
        segments = []
        for at, _previous, new_code in history:
            segments.append((start, at, current))
            start, current = at, new_code
        segments.append((start, finished_at, current))
        if any(
            seg_code in affected and seg_start < until and (seg_end is None or seg_end >= opened)
            for seg_start, seg_end, seg_code in segments
        ):
            hits += 1
    return steady + hits


def hall_incidents(*, hall: Hall, open_only: bool = False, limit: int = 100) -> list[Incident]:
    """The hall's incidents, newest first, with what their API output needs loaded."""
    incidents = Incident.objects.filter(hall=hall)
    if open_only:
        incidents = incidents.filter(resolved_at__isnull=True)
    return list(
        incidents.select_related("department", "reporter", "resolved_by", "hall")
        .prefetch_related("business_types")
        .order_by("-opened_at", "-pk")[:limit]
    )
