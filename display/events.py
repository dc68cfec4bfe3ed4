"""Live messages built from audit events, inside the transaction that records them.

Each message says what happened (``ticket``, ``counter``, and for a call the ``greeted`` and
``attended`` tickets) and carries the state it changed, current as of its ``seq``: the touched
counters (``counters``). A display applies a message by replacing those parts of its state, so
applying one twice is harmless. Built under the hall lock from rows in hand (the event, the
touched counters): the waiting counts and estimates per business type, which need the whole
hall, come after commit in their own ``board`` frames (display.board).
"""

from display.selectors import call_public, incident_counter_ids, ticket_public
from hall.models import AuditEvent, EventKind

INCIDENT_EVENTS = (
    EventKind.INCIDENT_OPENED,
    EventKind.INCIDENT_ACKNOWLEDGED,
    EventKind.INCIDENT_RESOLVED,
)


def touched_counters(event: AuditEvent) -> list[int]:
    """The counters whose display changes with this event. An incident touches every counter
    serving a business type it affects: their screens show (then drop) its apology."""
    ids = set()
    if event.kind in INCIDENT_EVENTS and event.data.get("incident"):
        ids.update(incident_counter_ids(hall_id=event.hall_id, incident=event.data["incident"]))
    if event.counter_id is not None:
        ids.add(event.counter_id)
    ids.update(event.data.get("taken_from_counters") or ())
    if event.data.get("window_counter_id"):
        ids.add(event.data["window_counter_id"])
    return sorted(ids)


def event_message(event: AuditEvent, *, ticket, counters: list[dict]) -> dict:
    """``counters``: the states of ``touched_counters(event)``, already read by the publisher."""
    message = {"type": event.kind, "seq": event.seq, "at": event.created_at}
    if ticket is not None:
        message["ticket"] = ticket_public(ticket)
    if event.counter_id is not None:
        message["counter"] = {"id": event.counter_id, "number": event.data.get("counter")}
    message["counters"] = counters
    data = event.data
    match event.kind:
        case EventKind.TICKET_CALLED | EventKind.TICKET_RECALLED:
            own = next(c for c in counters if c["id"] == event.counter_id)
            message["greeted"], message["attended"] = own["greeted"], own["attended"]
            message["call"] = call_public(event)
            message["recall_count"] = data.get("recall_count", 0)
        case EventKind.COUNTER_PAUSED:
            message["reason"] = data["reason"]
            message["apology_zh"], message["apology_en"] = data["apology_zh"], data["apology_en"]
        case EventKind.TICKET_TRANSFERRED:
            message["business_type"] = data.get("business_type")
            message["to_counter"] = data.get("to_counter")
        case EventKind.INCIDENT_OPENED | EventKind.INCIDENT_ACKNOWLEDGED:
            message["incident"] = data["incident"]  # hall.selectors.incident_public
        case EventKind.INCIDENT_RESOLVED:
            message["incident"] = data["incident"]
            message["duration_s"] = data["duration_s"]
            message["affected_customers"] = data["affected_customers"]
        case EventKind.COMPLAINT_REGISTERED | EventKind.COMPLAINT_REPLIED:
            # Every display of the hall hears this: the id and category only (recovery.complaints);
            # never the customer's name, phone or words.
            message["complaint"] = {"id": data["complaint"], "category": data["category"]}
    return message
