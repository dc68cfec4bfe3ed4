"""Writes for halls: creating a hall with its lanes, registering devices, recording events."""

from django.db import transaction
from django.utils import timezone

from hall.auth import new_device_token
from hall.models import AuditEvent, Device, DeviceKind, EventKind, Hall, LaneSetting
from queueing.router import DEFAULT_WEIGHTS, Lane


def event_record(
    *,
    hall: Hall,
    kind: EventKind,
    actor=None,
    device: Device | None = None,
    ticket=None,
    counter=None,
    data: dict | None = None,
    at=None,
) -> AuditEvent:
    """Write one audit event. Call inside the transaction that makes the change it records.

    This is the single place every state change passes through, so the live publisher (displays
    issue) hooks in here with ``transaction.on_commit``.
    """
    return AuditEvent.objects.create(
        hall=hall,
        kind=kind,
        actor=actor if getattr(actor, "pk", None) else None,
        device=device,
        ticket_id=getattr(ticket, "pk", None),
        counter_id=getattr(counter, "pk", None),
        data=data or {},
        created_at=at or timezone.now(),
    )


def hall_lock(*, hall_id: int) -> None:
    """Lock the hall row until the transaction ends.

    Every write that routes tickets or rewrites counters' windows takes this lock first (then
    the counter row, then tickets), so routing within a hall is serialised and the lock order is
    always the same: no deadlocks. Halls never wait for each other. On SQLite it is a no-op;
    IMMEDIATE transactions already serialise writers.

    FOR NO KEY UPDATE, not FOR UPDATE: it excludes the other holders of this lock just the same,
    but not the FOR KEY SHARE that PostgreSQL's foreign-key checks take on the hall row when a
    ticket or audit event referencing it is inserted (at commit: Django's foreign keys are
    deferred). With FOR UPDATE every kiosk issue waited for the counter action in progress, while
    holding its own locks: the multi-process test deadlocked hundreds of times.
    """
    Hall.objects.select_for_update(no_key=True).filter(pk=hall_id).values_list(
        "pk", flat=True
    ).get()


@transaction.atomic
def hall_create(*, code: str, name: str, timezone_name: str = "Asia/Shanghai", **fields) -> Hall:
    """A hall with the default lane weights (VIP 4, priority 2, normal 1)."""
    hall = Hall(code=code, name=name, timezone=timezone_name, **fields)
    hall.full_clean()
    hall.save()
    LaneSetting.objects.bulk_create(
        LaneSetting(hall=hall, lane=lane, weight=int(DEFAULT_WEIGHTS[lane])) for lane in Lane
    )
    return hall


@transaction.atomic
def device_register(*, hall: Hall, kind: DeviceKind | str, name: str = "") -> tuple[Device, str]:
    """Register a kiosk or display; returns the device and its token, shown only this once."""
    if kind not in DeviceKind.values:
        raise ValueError(f"kind must be one of {', '.join(DeviceKind.values)}")
    token, token_hash = new_device_token()
    device = Device.objects.create(hall=hall, kind=kind, name=name, token_hash=token_hash)
    return device, token
