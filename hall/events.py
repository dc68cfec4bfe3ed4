"""The event hook: how the live side hears of every audit event, without ``hall`` importing it.

``hall.services.event_record`` writes the audit event (with its live ``seq``) inside the
transaction that makes the change, then calls each subscriber registered here, still inside
that transaction, with the event and the ticket in hand. Apps above ``hall`` register at
start-up (``AppConfig.ready``): ``display`` registers its publisher, which builds the frame from
rows already in hand and sends it after commit (DESIGN invariants 6 and 7).

A subscriber runs under the hall lock for every change of every hall: it must not read the whole
hall, compute a forecast, or call the cache or the network. Whatever needs those belongs after
commit (``transaction.on_commit``) or in the live tier (display.board).
"""

from collections.abc import Callable

# Called as subscriber(event=AuditEvent, ticket=Ticket | None, counter=Counter | None): the
# ticket and counter the service holds (a counter with ``live_window`` set carries its window:
# the frame needs no read for it).
EventSubscriber = Callable[..., None]
ResetSubscriber = Callable[..., None]  # called as subscriber(hall_id=int, seq=int, reason=str)

_subscribers: list[EventSubscriber] = []
_late_subscribers: list[EventSubscriber] = []
_reset_subscribers: list[ResetSubscriber] = []


def event_subscribe(subscriber: EventSubscriber, *, after_publishers: bool = False) -> None:
    """Register ``subscriber`` once (a second registration of the same function is ignored).

    ``after_publishers``: call it after every other subscriber, so that what it does after
    commit comes after the live frames of the same change (recovery's alert check, whose
    ``alert.raised`` must not reach a display before the event that caused it).
    """
    chosen = _late_subscribers if after_publishers else _subscribers
    if subscriber not in _subscribers and subscriber not in _late_subscribers:
        chosen.append(subscriber)


def event_notify(*, event, ticket=None, counter=None) -> None:
    """Call every subscriber, in registration order, the late ones last
    (``hall.services.event_record`` only)."""
    for subscriber in (*_subscribers, *_late_subscribers):
        subscriber(event=event, ticket=ticket, counter=counter)


def reset_subscribe(subscriber: ResetSubscriber) -> None:
    """Register for bulk changes (the end of a service day): many events at once, announced
    as one reset of the hall's state instead of one message each."""
    if subscriber not in _reset_subscribers:
        _reset_subscribers.append(subscriber)


def hall_reset_notify(*, hall_id: int, seq: int, reason: str) -> None:
    """Inside the transaction that wrote the events up to ``seq`` in bulk."""
    for subscriber in tuple(_reset_subscribers):
        subscriber(hall_id=hall_id, seq=seq, reason=reason)
