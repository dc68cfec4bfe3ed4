"""Halls and their configuration, staff roles, devices and the append-only audit log (halls);
system faults and their escalation (incidents); the apology log (apologies); complaints
(complaints); the duty manager's alerts (alerts)."""

from hall.models.alerts import AlertKind, ManagerAlert
from hall.models.apologies import ApologyPlace, ApologyRecord, ApologySource
from hall.models.complaints import Complaint, ComplaintCategory, ComplaintStatus
from hall.models.halls import (
    LANE_LABELS,
    AuditEvent,
    BusinessType,
    Device,
    DeviceKind,
    EventKind,
    EventSequence,
    Hall,
    IdempotentRequest,
    LaneSetting,
    PhraseStep,
    Role,
    StaffMembership,
    StandardPhrase,
    validate_timezone,
)
from hall.models.incidents import (
    AttemptStatus,
    Department,
    DepartmentRoute,
    EscalationAttempt,
    EscalationLevel,
    Incident,
    IncidentKind,
    IncidentMode,
    IncidentSeverity,
    NotificationChannel,
)

__all__ = [
    "LANE_LABELS",
    "AlertKind",
    "ApologyPlace",
    "ApologyRecord",
    "ApologySource",
    "AttemptStatus",
    "AuditEvent",
    "BusinessType",
    "Complaint",
    "ComplaintCategory",
    "ComplaintStatus",
    "Department",
    "DepartmentRoute",
    "Device",
    "DeviceKind",
    "EscalationAttempt",
    "EscalationLevel",
    "EventKind",
    "EventSequence",
    "Hall",
    "IdempotentRequest",
    "Incident",
    "IncidentKind",
    "IncidentMode",
    "IncidentSeverity",
    "LaneSetting",
    "ManagerAlert",
    "NotificationChannel",
    "PhraseStep",
    "Role",
    "StaffMembership",
    "StandardPhrase",
    "validate_timezone",
]
