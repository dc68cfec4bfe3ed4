"""System faults (系统故障): opening with an apology everywhere it shows, acknowledging,
resolving with the duration and the customers affected (DOMAIN rule 4).

Opening and resolving each write one audit event (``incident.opened`` / ``incident.resolved``,
carrying ``incident_public``), so displays, kiosks and consoles learn it live with the hall's
``seq``; the apology log records each place the apology is shown; the notifications go through
Celery after commit (recovery/escalation.py).
"""

import datetime

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from counters.models import Counter
from hall.access import HANDLE_INCIDENT, admit
from hall.apologies import apology_record, apology_withdraw
from hall.errors import DomainError, InvalidInput, NotFound
from hall.models import (
    ApologyPlace,
    ApologySource,
    BusinessType,
    EventKind,
    Hall,
    Incident,
    IncidentKind,
    IncidentMode,
    IncidentSeverity,
)
from hall.outbox import task_send_on_commit
from hall.people import display_name
from hall.selectors import incident_public
from hall.services import event_record
from recovery.escalation import department_for
from recovery.selectors import incident_affected_customers, incident_duration_s

# Who may report, acknowledge (without the department's signed link) and resolve a fault: the
# hall's clerks and managers. A greeter sees incidents (the list, the apologies) but handles
# none; README "A greeter and incidents" says the same.


class IncidentAlreadyResolved(DomainError):
    code = "incident_resolved"
    default_message = gettext_lazy("This incident is already resolved.")


# What is out of order, in the apology: (Chinese, English).
_WHAT = {
    IncidentKind.BILLING: ("营业系统", "the business system"),
    IncidentKind.NETWORK: ("网络", "the network"),
    IncidentKind.PRINTER: ("打印机", "the printer"),
    IncidentKind.ID_READER: ("身份证读卡器", "the ID-card reader"),
    IncidentKind.POWER: ("供电", "the power supply"),
    IncidentKind.OTHER: ("系统", "the system"),
}
APOLOGY_MAX = 300  # the model's field length


def apology_text(*, kind: str, mode: str, business_types: list[BusinessType]) -> tuple[str, str]:
    """The apology in Chinese and English: DOMAIN's standard phrase (非常抱歉,系统暂时故障,
    我们已通知相关部门尽快处理), naming what failed and, unless every business is affected, which.

    Both languages are stored (and shown side by side), like a counter pause's apology.
    """
    what_zh, what_en = _WHAT[IncidentKind(kind)]
    unavailable = mode == IncidentMode.UNAVAILABLE
    names_zh = "、".join(bt.name_zh for bt in business_types)
    names_en = ", ".join(bt.name_en for bt in business_types)
    if not business_types:
        clause_zh = ",业务暂停办理" if unavailable else ""
        clause_en = "; service is suspended" if unavailable else ""
    elif unavailable:
        clause_zh, clause_en = f",{names_zh}业务暂停办理", f"; {names_en} suspended"
    else:
        clause_zh, clause_en = f",{names_zh}业务办理可能延迟", f"; {names_en} may take longer"
    zh = f"非常抱歉,{what_zh}暂时故障{clause_zh},我们已通知相关部门尽快处理。"
    en = (
        f"We are sorry: {what_en} is temporarily down{clause_en}. "
        "The responsible team has been notified and is working on it."
    )
    if len(zh) > APOLOGY_MAX or len(en) > APOLOGY_MAX:  # many long names: say "some services"
        zh = f"非常抱歉,{what_zh}暂时故障,部分业务受影响,我们已通知相关部门尽快处理。"
        en = (
            f"We are sorry: {what_en} is temporarily down; some services are affected. "
            "The responsible team has been notified and is working on it."
        )
    return zh, en


def _incident(incident_id: int) -> Incident:
    incident = Incident.objects.select_related("hall").filter(pk=incident_id).first()
    if incident is None:
        raise NotFound(_("No such incident."))
    return incident


def _choice(value: str, choices, field: str) -> str:
    if value not in choices.values:
        raise InvalidInput(
            _("%(field)s must be one of: %(values)s")
            % {"field": field, "values": ", ".join(choices.values)},
            fields={field: "invalid choice"},
        )
    return value


def incident_open(
    *,
    hall: Hall,
    kind: str,
    reporter,
    business_types: list[BusinessType] | None = None,
    severity: str = IncidentSeverity.HIGH,
    mode: str = IncidentMode.WARN,
    description: str = "",
    now: datetime.datetime | None = None,
) -> Incident:
    """A clerk or manager reports a fault: the apology goes up on the lobby display, the kiosk,
    the status pages and every counter serving an affected business type, and the responsible
    department is notified once the transaction commits (then again until acknowledged).

    ``business_types`` None or empty: every business type is affected. No lock: an incident
    changes no counter's window; its event takes the hall's seq like any other.
    """
    now = now or timezone.now()
    _choice(kind, IncidentKind, "kind")
    _choice(severity, IncidentSeverity, "severity")
    _choice(mode, IncidentMode, "mode")
    admit(who=reporter, hall=hall, action=HANDLE_INCIDENT)
    business_types = list(dict.fromkeys(business_types or []))
    if any(bt.hall_id != hall.pk for bt in business_types):
        raise InvalidInput(
            _("A business type of another hall."), fields={"business_types": "not in this hall"}
        )
    apology_zh, apology_en = apology_text(kind=kind, mode=mode, business_types=business_types)
    department = department_for(hall=hall, kind=kind)
    with transaction.atomic():
        incident = Incident.objects.create(
            hall=hall,
            kind=kind,
            severity=severity,
            mode=mode,
            affects_all=not business_types,
            description=description,
            apology_zh=apology_zh,
            apology_en=apology_en,
            department=department,
            reporter=reporter,
            opened_at=now,
            # The first round is due at once; the task sent after commit claims it.
            next_notify_at=now if department is not None else None,
        )
        incident.business_types.set(business_types)
        apology = {
            "hall": hall,
            "source": ApologySource.INCIDENT,
            "incident": incident,
            "text_zh": apology_zh,
            "text_en": apology_en,
            "at": now,
        }
        for place in (ApologyPlace.LOBBY, ApologyPlace.KIOSK, ApologyPlace.STATUS_PAGE):
            apology_record(place=place, **apology)
        counters = Counter.objects.filter(hall=hall)
        if business_types:
            counters = counters.filter(business_types__in=business_types).distinct()
        for counter_id in counters.order_by("number").values_list("pk", flat=True):
            apology_record(place=ApologyPlace.COUNTER, counter_id=counter_id, **apology)
        event_record(
            hall=hall,
            kind=EventKind.INCIDENT_OPENED,
            actor=reporter,
            data={"incident": incident_public(incident)},
            at=now,
        )
        if department is not None:
            _escalate_on_commit(incident.pk)
    return incident


def _escalate_on_commit(incident_id: int) -> None:
    from recovery.tasks import escalate_incident

    task_send_on_commit(escalate_incident, incident_id)


def incident_acknowledge(
    *, incident_id: int, by: str, user=None, now: datetime.datetime | None = None
) -> Incident:
    """Someone (the department through its signed link, or the hall's staff) says they are on
    it: no more rounds. Acknowledging again, or after resolution, changes nothing.

    Compare-and-set on ``acknowledged_at IS NULL``: of two acknowledgements one wins, and a
    round being claimed at that moment is not sent (the claim requires it unacknowledged, and
    the send checks again).
    """
    now = now or timezone.now()
    incident = _incident(incident_id)
    if user is not None:
        admit(who=user, hall=incident.hall, action=HANDLE_INCIDENT)
    by = (by or "").strip()[:150]
    if not by and user is not None:
        by = display_name(user)[:150]
    if not by:
        raise InvalidInput(_("Say who acknowledges."), fields={"by": "required"})
    with transaction.atomic():
        acknowledged = Incident.objects.filter(
            pk=incident.pk, acknowledged_at__isnull=True, resolved_at__isnull=True
        ).update(acknowledged_at=now, acknowledged_by=by, next_notify_at=None)
        incident.refresh_from_db()
        if acknowledged == 1:
            event_record(
                hall=incident.hall,
                kind=EventKind.INCIDENT_ACKNOWLEDGED,
                actor=user,
                data={"incident": incident_public(incident), "by": by},
                at=now,
            )
    return incident


def incident_resolve(
    *, incident_id: int, user, resolution: str = "", now: datetime.datetime | None = None
) -> Incident:
    """Close the incident with its duration and the customers it affected; the apologies come
    down, displays and kiosks are restored (the event), and everyone told hears it is over.

    Compare-and-set on ``resolved_at IS NULL``: resolving twice is refused (409).
    """
    now = now or timezone.now()
    incident = _incident(incident_id)
    admit(who=user, hall=incident.hall, action=HANDLE_INCIDENT)
    if incident.resolved_at is not None:
        raise IncidentAlreadyResolved()
    now = max(now, incident.opened_at)
    affected = incident_affected_customers(incident=incident, until=now)
    with transaction.atomic():
        resolved = Incident.objects.filter(pk=incident.pk, resolved_at__isnull=True).update(
            resolved_at=now,
            resolved_by=user,
            resolution=resolution,
            affected_customers=affected,
            next_notify_at=None,
            # The resolution is one more round, to everyone told so far.
            escalation_round=F("escalation_round") + (1 if incident.department_id else 0),
        )
        if resolved != 1:
            raise IncidentAlreadyResolved()
        incident.refresh_from_db()
        apology_withdraw(hall=incident.hall, incident=incident, at=now)
        event_record(
            hall=incident.hall,
            kind=EventKind.INCIDENT_RESOLVED,
            actor=user,
            data={
                "incident": incident_public(incident),
                "duration_s": incident_duration_s(incident),
                "affected_customers": affected,
            },
            at=now,
        )
        if incident.department_id:
            _escalate_on_commit(incident.pk)
    return incident


# --- reads -------------------------------------------------------------------------------------
