"""Service recovery's records: the duty manager's alerts, complaints, and incident escalation
(routes to departments, and every try at telling someone). The Incident itself is hall's."""

from recovery.models.alerts import AlertKind, ManagerAlert
from recovery.models.complaints import Complaint, ComplaintCategory, ComplaintStatus
from recovery.models.escalation import (
    AttemptStatus,
    DepartmentRoute,
    EscalationAttempt,
    EscalationLevel,
    NotificationChannel,
)

__all__ = [
    "AlertKind",
    "AttemptStatus",
    "Complaint",
    "ComplaintCategory",
    "ComplaintStatus",
    "DepartmentRoute",
    "EscalationAttempt",
    "EscalationLevel",
    "ManagerAlert",
    "NotificationChannel",
]
