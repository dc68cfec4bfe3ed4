"""Transfer from the counter: to a business type (keeping the place) or to a counter (pinned).

Hall h1 (conftest): counter 1 serves payment+topup, counter 2 payment+service, counter 3 is
VIP-first and serves everything, counter 4 serves service only.
"""

import pytest

from counters.services import (
    counter_call_next,
    counter_close,
    counter_start,
    counter_transfer,
)
from hall.errors import (
    InvalidInput,
    NoActiveTicket,
    TransferRefused,
)
from hall.models import BusinessType, EventKind
from queueing.models import Status
from tests.conftest import counter
from tests.counters.actions import events_since, last_event_id, opened, reload, state_of_everything
from tests.factories import issue, minutes_ago

# --- transfer ------------------------------------------------------------------------------


def test_transfer_to_a_business_type_keeps_the_customers_place(hall, greeter, clerk_a, clerk_b):
    earlier_service = issue(hall, "service", by=greeter, at=minutes_ago(15))
    wrong_counter = issue(hall, "payment", by=greeter, at=minutes_ago(10))
    later_service = issue(hall, "service", by=greeter, at=minutes_ago(5))
    c1 = opened(hall, 1, clerk_a)
    assert counter_call_next(counter_id=c1.pk, user=clerk_a).called == wrong_counter
    counter_start(counter_id=c1.pk, user=clerk_a)
    mark = last_event_id()

    counter_transfer(counter_id=c1.pk, user=clerk_a, business_type_code="service")

    moved = reload(wrong_counter)
    assert (moved.status, moved.business_type.code, moved.transfer_count) == (
        Status.WAITING,
        "service",
        1,
    )
    assert moved.issued_at == wrong_counter.issued_at
    assert (moved.counter, moved.clerk, moved.pinned_counter, moved.called_at) == (
        None,
        None,
        None,
        None,
    )
    assert events_since(mark) == [EventKind.TICKET_TRANSFERRED]
    c4 = opened(hall, 4, clerk_b)  # serves service only
    window = counter_call_next(counter_id=c4.pk, user=clerk_b)
    assert (window.called, window.greeted, window.attended) == (
        earlier_service,
        wrong_counter,
        later_service,
    )


def test_transfer_to_a_counter_pins_the_ticket_there(hall, greeter, clerk_a, clerk_b, manager):
    ticket = issue(hall, "payment", by=greeter, at=minutes_ago(10))
    c1 = opened(hall, 1, clerk_a)
    c2 = opened(hall, 2, clerk_b)
    c3 = opened(hall, 3, manager)
    counter_call_next(counter_id=c1.pk, user=clerk_a)
    mark = last_event_id()

    counter_transfer(counter_id=c1.pk, user=clerk_a, target_counter_id=c2.pk)

    pinned = reload(ticket)
    assert (pinned.status, pinned.pinned_counter, pinned.transfer_count) == (
        Status.WAITING,
        c2,
        1,
    )
    assert events_since(mark) == [EventKind.TICKET_TRANSFERRED]
    later = issue(hall, "payment", by=greeter, at=minutes_ago(1))
    # Counter 3 also serves payment, but only counter 2 may call the pinned ticket.
    assert counter_call_next(counter_id=c3.pk, user=manager).called == later
    assert counter_call_next(counter_id=c2.pk, user=clerk_b).called == ticket


def test_closing_the_target_counter_does_not_strand_a_pinned_ticket(
    hall, greeter, clerk_a, clerk_b, manager
):
    ticket = issue(hall, "payment", by=greeter, at=minutes_ago(10))
    c1 = opened(hall, 1, clerk_a)
    c2 = opened(hall, 2, clerk_b)
    counter_call_next(counter_id=c1.pk, user=clerk_a)
    counter_transfer(counter_id=c1.pk, user=clerk_a, target_counter_id=c2.pk)
    later = issue(hall, "payment", by=greeter, at=minutes_ago(1))

    counter_close(counter_id=c2.pk, user=clerk_b)

    assert reload(ticket).pinned_counter is None
    c3 = opened(hall, 3, manager)
    # Back in the pool with its original issue time: ahead of the later arrival.
    window = counter_call_next(counter_id=c3.pk, user=manager)
    assert (window.called, window.greeted) == (ticket, later)


@pytest.fixture
def cards(hall):
    """A business type only counter 1 serves."""
    cards = BusinessType.objects.create(
        hall=hall, code="cards", prefix="D", name_zh="售卡", name_en="Prepaid cards"
    )
    counter(hall, 1).business_types.add(cards)
    return cards


@pytest.mark.parametrize(
    "target",
    [
        {"target_counter_id": 4},  # counter 4 does not serve payment
        {"target_counter_id": 3},  # counter 3 is closed
        {"target_counter_id": 1},  # this counter
        {"target_counter_id": 999},  # no such counter in the hall
        {"business_type_code": "payment"},  # the same business type
        {"business_type_code": "nonsense"},  # unknown
        {"business_type_code": "cards"},  # no other counter serves it
    ],
    ids=[
        "cannot-serve",
        "closed",
        "this-counter",
        "unknown-counter",
        "same-type",
        "unknown-type",
        "no-other-counter",
    ],
)
def test_transfer_is_refused_where_nobody_could_serve_it(
    hall, greeter, clerk_a, clerk_b, cards, target
):
    issue(hall, "payment", by=greeter)
    c1 = opened(hall, 1, clerk_a)
    opened(hall, 4, clerk_b)
    counter_call_next(counter_id=c1.pk, user=clerk_a)
    if "target_counter_id" in target and target["target_counter_id"] != 999:
        target = {"target_counter_id": counter(hall, target["target_counter_id"]).pk}
    before = state_of_everything()
    with pytest.raises(TransferRefused):
        counter_transfer(counter_id=c1.pk, user=clerk_a, **target)
    assert state_of_everything() == before


def test_transfer_needs_a_destination_and_a_ticket(hall, greeter, clerk_a):
    c1 = opened(hall, 1, clerk_a)
    with pytest.raises(NoActiveTicket):
        counter_transfer(counter_id=c1.pk, user=clerk_a, business_type_code="service")
    issue(hall, by=greeter)
    counter_call_next(counter_id=c1.pk, user=clerk_a)
    before = state_of_everything()
    with pytest.raises(InvalidInput):
        counter_transfer(counter_id=c1.pk, user=clerk_a)
    assert state_of_everything() == before
