"""Halls and their configuration, staff roles, devices and the append-only audit log (halls);
system faults and the departments that answer for them (incidents); the apology log
(apologies). Complaints, alerts and escalation are recovery's (recovery/models/)."""

from hall.models.apologies import ApologyPlace, ApologyRecord, ApologySource
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
    Department,
    Incident,
    IncidentKind,
    IncidentMode,
    IncidentSeverity,
)
from hall.models.pairing import DevicePairing, PairingAttempt

__all__ = [
    "LANE_LABELS",
    "ApologyPlace",
    "ApologyRecord",
    "ApologySource",
    "AuditEvent",
    "BusinessType",
    "Department",
    "Device",
    "DevicePairing",
    "DeviceKind",
    "EventKind",
    "EventSequence",
    "Hall",
    "IdempotentRequest",
    "Incident",
    "IncidentKind",
    "IncidentMode",
    "IncidentSeverity",
    "LaneSetting",
    "PairingAttempt",
    "PhraseStep",
    "Role",
    "StaffMembership",
    "StandardPhrase",
    "validate_timezone",
]
