"""Writes for halls: creating a hall with its lanes, registering devices, recording events."""

from django.db import connection, transaction
from django.db.models import Exists
from django.utils import timezone

from hall.auth import new_device_token
from hall.events import event_notify
from hall.lanes import DEFAULT_WEIGHTS, Lane
from hall.models import (
    AuditEvent,
    Device,
    DeviceKind,
    EventKind,
    EventSequence,
    Hall,
    LaneSetting,
)


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
    """Write one audit event and hand it to the event hook's subscribers (hall.events).

    Call inside the transaction that makes the change it records, as its last write: the event
    takes the hall's next live ``seq``, which row-locks the hall's sequence until commit.
    """
    event = AuditEvent(
        hall=hall,
        kind=kind,
        actor=actor if getattr(actor, "pk", None) else None,
        device=device,
        ticket_id=getattr(ticket, "pk", None),
        counter_id=getattr(counter, "pk", None),
        data=data or {},
        created_at=at or timezone.now(),
    )
    if connection.vendor == "postgresql":
        _event_insert_with_seq(event)  # one statement instead of two
    else:
        event.seq = event_seq_take(hall_id=hall.pk)
        event.save(force_insert=True)
    # The live side (display registers its publisher), with the rows in hand.
    event_notify(
        event=event, ticket=ticket, counter=counter if getattr(counter, "pk", None) else None
    )
    return event


_EVENT_FIELDS = (
    "hall",
    "kind",
    "created_at",
    "actor",
    "device",
    "ticket_id",
    "counter_id",
    "data",
)


def _seq_take_sql() -> str:
    """The UPSERT that reserves a hall's next ``count`` seqs (parameters: hall id, count, count)
    and returns the last of them."""
    table = connection.ops.quote_name(EventSequence._meta.db_table)
    return (
        f"INSERT INTO {table} (hall_id, last_seq) VALUES (%s, %s) "  # noqa: S608
        f"ON CONFLICT (hall_id) DO UPDATE SET last_seq = {table}.last_seq + %s "
        "RETURNING last_seq"
    )


def _event_insert_with_seq(event: AuditEvent) -> None:
    """Take the hall's next seq and insert the event in one statement (PostgreSQL: the
    ``event_seq_take`` UPSERT in a data-modifying WITH, so the same row lock until commit)."""
    fields = [AuditEvent._meta.get_field(name) for name in _EVENT_FIELDS]
    values = [f.get_db_prep_save(getattr(event, f.attname), connection) for f in fields]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH s AS ({_seq_take_sql()}) "  # noqa: S608
            f"INSERT INTO {quote(AuditEvent._meta.db_table)} ({columns}, {quote('seq')}) "
            f"VALUES ({placeholders}, (SELECT last_seq FROM s)) "
            f"RETURNING {quote('id')}, {quote('seq')}",
            [event.hall_id, 1, 1, *values],
        )
        event.pk, event.seq = cursor.fetchone()
    event._state.adding = False
    event._state.db = connection.alias


def event_seq_take(*, hall_id: int, count: int = 1) -> int:
    """Reserve the hall's next ``count`` live sequence numbers; returns the last of them.

    One UPSERT ... RETURNING. Its row lock (PostgreSQL) is held until commit, so sequence
    numbers are handed out in commit order; on SQLite the IMMEDIATE transaction does the same.
    """
    with connection.cursor() as cursor:
        cursor.execute(_seq_take_sql(), [hall_id, count, count])
        return cursor.fetchone()[0]


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


def hall_lock_condition(*, hall_id: int) -> Exists:
    """PostgreSQL: ``hall_lock`` as a condition of the statement that then locks a row of the
    hall (``.filter(hall_lock_condition(...))``), saving a round trip. The uncorrelated EXISTS
    runs before the outer row is read and locked, so the lock order stays hall, then row.
    Whatever else that statement reads besides its locked row comes from before any wait for
    the hall lock: read what another holder may have changed in a statement of its own."""
    return Exists(
        Hall.objects.select_for_update(no_key=True).filter(pk=hall_id).order_by().values("pk")
    )


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
def device_register(
    *, hall: Hall, kind: DeviceKind | str, name: str = "", by=None
) -> tuple[Device, str]:
    """Register a kiosk, display or rating pad; returns the device and its token, shown only
    this once. ``by``: the person who registered it (the manager's page, the admin), recorded
    in an audit event; the commands and the demo register without one."""
    if kind not in DeviceKind.values:
        raise ValueError(f"kind must be one of {', '.join(DeviceKind.values)}")
    token, token_hash = new_device_token()
    device = Device.objects.create(hall=hall, kind=kind, name=name, token_hash=token_hash)
    if by is not None:
        event_record(
            hall=hall,
            kind=EventKind.DEVICE_REGISTERED,
            actor=by,
            device=device,
            data={"device": device.pk, "kind": device.kind, "name": device.name},
        )
    return device, token
