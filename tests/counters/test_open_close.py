"""Opening a counter signs its clerk in, closing signs them out and releases the window.

Hall h1 (conftest): counter 1 serves payment+topup, counter 2 payment+service, counter 3 is
VIP-first and serves everything, counter 4 serves service only.
"""

import pytest

from counters.models import ClerkSession, CounterState
from counters.services import (
    counter_call_next,
    counter_close,
    counter_open,
    counter_start,
)
from hall.errors import (
    ClerkElsewhere,
    CounterBusy,
    CounterTaken,
    Forbidden,
)
from hall.models import EventKind
from queueing.models import Slot
from tests.conftest import counter
from tests.counters.actions import (
    assert_back_in_the_pool,
    events_since,
    last_event_id,
    opened,
    reload,
    serve_to_done,
    state_of_everything,
)
from tests.factories import issue, minutes_ago

# --- open ----------------------------------------------------------------------------------


def test_opening_signs_the_clerk_in(hall, clerk_a):
    mark = last_event_id()
    c = opened(hall, 1, clerk_a)
    c.refresh_from_db()
    assert (c.state, c.clerk) == (CounterState.OPEN, clerk_a)
    session = ClerkSession.objects.get(counter=c)
    assert (session.clerk, session.ended_at) == (clerk_a, None)
    assert events_since(mark) == [EventKind.COUNTER_OPENED]


def test_opening_again_by_the_same_clerk_is_a_no_op(hall, clerk_a):
    c = opened(hall, 1, clerk_a)
    before = state_of_everything()
    counter_open(counter_id=c.pk, user=clerk_a)
    assert state_of_everything() == before
    assert ClerkSession.objects.filter(counter=c).count() == 1


def test_another_clerk_cannot_take_an_open_counter(hall, clerk_a, clerk_b):
    c = opened(hall, 1, clerk_a)
    before = state_of_everything()
    with pytest.raises(CounterTaken):
        counter_open(counter_id=c.pk, user=clerk_b)
    assert state_of_everything() == before


def test_a_clerk_signed_in_at_one_counter_cannot_open_another(hall, clerk_a):
    opened(hall, 1, clerk_a)
    before = state_of_everything()
    with pytest.raises(ClerkElsewhere):
        counter_open(counter_id=counter(hall, 2).pk, user=clerk_a)
    assert state_of_everything() == before


@pytest.mark.parametrize("who", ["greeter", "outsider"])
def test_a_greeter_or_outsider_cannot_open_a_counter(hall, who, request):
    user = request.getfixturevalue(who)
    before = state_of_everything()
    with pytest.raises(Forbidden):
        counter_open(counter_id=counter(hall, 1).pk, user=user)
    assert state_of_everything() == before


# --- close ---------------------------------------------------------------------------------


def test_closing_signs_the_clerk_out(hall, clerk_a):
    c = opened(hall, 1, clerk_a)
    mark = last_event_id()
    counter_close(counter_id=c.pk, user=clerk_a)
    c.refresh_from_db()
    assert (c.state, c.clerk) == (CounterState.CLOSED, None)
    assert ClerkSession.objects.get(counter=c).ended_at is not None
    assert events_since(mark) == [EventKind.COUNTER_CLOSED]
    # ...and the clerk may now sign in elsewhere.
    assert opened(hall, 2, clerk_a).clerk == clerk_a


@pytest.mark.parametrize("started", [False, True], ids=["called", "serving"])
def test_closing_is_refused_while_a_ticket_is_called_or_served(hall, greeter, clerk_a, started):
    issue(hall, by=greeter)
    c = opened(hall, 1, clerk_a)
    counter_call_next(counter_id=c.pk, user=clerk_a)
    if started:
        counter_start(counter_id=c.pk, user=clerk_a)
    before = state_of_everything()
    with pytest.raises(CounterBusy):
        counter_close(counter_id=c.pk, user=clerk_a)
    assert state_of_everything() == before


def test_closing_releases_greeted_and_attended_to_the_pool(hall, greeter, clerk_a, clerk_b):
    first, second, third = (issue(hall, by=greeter, at=minutes_ago(m)) for m in (9, 8, 7))
    later = issue(hall, by=greeter, at=minutes_ago(1))
    c1 = opened(hall, 1, clerk_a)
    counter_call_next(counter_id=c1.pk, user=clerk_a)
    serve_to_done(c1, clerk_a)
    assert reload(second).window_slot == Slot.GREETED
    counter_close(counter_id=c1.pk, user=clerk_a)

    assert_back_in_the_pool(second, third)
    c2 = opened(hall, 2, clerk_b)
    window = counter_call_next(counter_id=c2.pk, user=clerk_b)
    assert (window.called, window.greeted, window.attended) == (second, third, later)
