"""Pause with an apology and resume: the window released, the served ticket kept.

Hall h1 (conftest): counter 1 serves payment+topup, counter 2 payment+service, counter 3 is
VIP-first and serves everything, counter 4 serves service only.
"""

import pytest
from django.utils import translation

from counters.apologies import apology_for
from counters.models import Counter, CounterState, Interruption, PauseReason
from counters.services import (
    counter_call_next,
    counter_close,
    counter_finish,
    counter_pause,
    counter_requeue,
    counter_resume,
    counter_start,
)
from hall.errors import (
    CounterBusy,
    CounterClosed,
    CounterPaused,
    InvalidInput,
    InvalidTransition,
    NoActiveTicket,
)
from hall.models import AuditEvent, EventKind
from queueing.models import Status
from tests.conftest import counter
from tests.counters.actions import (
    assert_back_in_the_pool,
    events_since,
    last_event_id,
    opened,
    reload,
    state_of_everything,
)
from tests.factories import issue, minutes_ago

# --- pause and resume ----------------------------------------------------------------------


@pytest.mark.parametrize("reason", PauseReason.values)
def test_pause_records_the_reason_note_and_apology(hall, clerk_a, reason):
    c = opened(hall, 1, clerk_a)
    mark = last_event_id()
    interruption = counter_pause(counter_id=c.pk, user=clerk_a, reason=reason, note="back soon")
    c.refresh_from_db()
    assert c.state == CounterState.PAUSED
    stored = Interruption.objects.get(pk=interruption.pk)
    assert (stored.reason, stored.note, stored.clerk, stored.ended_at) == (
        reason,
        "back soon",
        clerk_a,
        None,
    )
    assert (stored.apology_zh, stored.apology_en) == apology_for(reason)
    assert stored.apology_zh and stored.apology_en
    assert events_since(mark) == [EventKind.COUNTER_PAUSED]
    assert AuditEvent.objects.get(id__gt=mark).data["apology_zh"] == stored.apology_zh


@pytest.mark.parametrize("reason", ["", "lunch", "PHONE_CALL"])
def test_pause_needs_a_reason_from_the_list(hall, clerk_a, reason):
    c = opened(hall, 1, clerk_a)
    before = state_of_everything()
    with pytest.raises(InvalidInput):
        counter_pause(counter_id=c.pk, user=clerk_a, reason=reason)
    assert state_of_everything() == before


def test_pause_releases_the_window_to_other_counters_in_issue_order(
    hall, greeter, clerk_a, clerk_b
):
    issue(hall, by=greeter, at=minutes_ago(9))
    greeted = issue(hall, by=greeter, at=minutes_ago(8))
    attended = issue(hall, by=greeter, at=minutes_ago(7))
    c1 = opened(hall, 1, clerk_a)
    counter_call_next(counter_id=c1.pk, user=clerk_a)
    issue(hall, by=greeter, at=minutes_ago(1))
    counter_start(counter_id=c1.pk, user=clerk_a)
    counter_finish(counter_id=c1.pk, user=clerk_a)

    counter_pause(counter_id=c1.pk, user=clerk_a, reason=PauseReason.FETCHING_MATERIALS)

    assert_back_in_the_pool(greeted, attended)
    c2 = opened(hall, 2, clerk_b)
    window = counter_call_next(counter_id=c2.pk, user=clerk_b)
    assert (window.called, window.greeted) == (greeted, attended)


@pytest.mark.parametrize("started", [False, True], ids=["called", "serving"])
def test_pausing_is_refused_while_a_ticket_is_called_or_served_naming_the_ways_out(
    hall, greeter, clerk_a, started
):
    """Issue 16: like close. Otherwise the lobby keeps sending the customer to a paused counter."""
    ticket = issue(hall, by=greeter)
    c1 = opened(hall, 1, clerk_a)
    counter_call_next(counter_id=c1.pk, user=clerk_a)
    if started:
        counter_start(counter_id=c1.pk, user=clerk_a)
    before = state_of_everything()
    with pytest.raises(CounterBusy) as refused:
        counter_pause(counter_id=c1.pk, user=clerk_a, reason=PauseReason.PHONE_CALL)
    assert state_of_everything() == before
    assert refused.value.extra["ways_out"] == ["finish", "transfer", "no-show", "requeue"]
    with translation.override("en"):
        assert "back to the front of the queue" in str(refused.value.message)
    assert reload(ticket).status == (Status.SERVING if started else Status.CALLED)


@pytest.mark.parametrize("started", [False, True], ids=["called", "serving"])
def test_back_to_the_front_of_the_queue_keeps_the_issue_time_then_the_counter_may_pause(
    hall, greeter, clerk_a, clerk_b, started
):
    ticket = issue(hall, by=greeter, at=minutes_ago(6))
    later = issue(hall, by=greeter, at=minutes_ago(2))
    c1 = opened(hall, 1, clerk_a)
    counter_call_next(counter_id=c1.pk, user=clerk_a)
    if started:
        counter_start(counter_id=c1.pk, user=clerk_a)
    mark = last_event_id()

    counter_requeue(counter_id=c1.pk, user=clerk_a)

    assert events_since(mark) == [EventKind.TICKET_REQUEUED]
    back = reload(ticket)
    assert (back.status, back.counter, back.called_at, back.started_at) == (
        Status.WAITING,
        None,
        None,
        None,
    )
    assert back.issued_at == ticket.issued_at
    interruption = counter_pause(counter_id=c1.pk, user=clerk_a, reason=PauseReason.PHONE_CALL)
    assert interruption.ticket is None
    c2 = opened(hall, 2, clerk_b)
    window = counter_call_next(counter_id=c2.pk, user=clerk_b)
    assert (window.called, window.greeted) == (ticket, later)  # first again: its place kept

    mark = last_event_id()
    counter_resume(counter_id=c1.pk, user=clerk_a)
    assert events_since(mark) == [EventKind.COUNTER_RESUMED]
    c1.refresh_from_db()
    assert c1.state == CounterState.OPEN
    assert Interruption.objects.get(pk=interruption.pk).ended_at is not None


def test_back_to_the_front_of_the_queue_needs_a_called_or_serving_ticket(hall, clerk_a):
    c1 = opened(hall, 1, clerk_a)
    with pytest.raises(NoActiveTicket):
        counter_requeue(counter_id=c1.pk, user=clerk_a)


def test_pausing_twice_or_resuming_an_open_counter_is_refused(hall, clerk_a):
    c = opened(hall, 1, clerk_a)
    before = state_of_everything()
    with pytest.raises(InvalidTransition):
        counter_resume(counter_id=c.pk, user=clerk_a)
    assert state_of_everything() == before
    counter_pause(counter_id=c.pk, user=clerk_a, reason=PauseReason.BREAK)
    before = state_of_everything()
    with pytest.raises(CounterPaused):
        counter_pause(counter_id=c.pk, user=clerk_a, reason=PauseReason.OTHER)
    assert state_of_everything() == before


def test_a_closed_counter_cannot_be_paused(hall, manager):
    before = state_of_everything()
    with pytest.raises(CounterClosed):
        counter_pause(counter_id=counter(hall, 1).pk, user=manager, reason=PauseReason.BREAK)
    assert state_of_everything() == before


def test_closing_a_paused_counter_ends_its_interruption(hall, clerk_a):
    c = opened(hall, 1, clerk_a)
    interruption = counter_pause(counter_id=c.pk, user=clerk_a, reason=PauseReason.HANDOVER)
    counter_close(counter_id=c.pk, user=clerk_a)
    assert Interruption.objects.get(pk=interruption.pk).ended_at is not None
    assert Counter.objects.get(pk=c.pk).state == CounterState.CLOSED
