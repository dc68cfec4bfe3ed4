"""The called ticket: recall, start, finish and no-show.

Hall h1 (conftest): counter 1 serves payment+topup, counter 2 payment+service, counter 3 is
VIP-first and serves everything, counter 4 serves service only.
"""

import pytest

from counters.services import (
    counter_call_next,
    counter_finish,
    counter_no_show,
    counter_recall,
    counter_start,
)
from hall.errors import (
    InvalidInput,
    InvalidTransition,
    NoActiveTicket,
)
from hall.models import AuditEvent, EventKind
from queueing.models import Outcome, Status
from tests.counters.actions import events_since, last_event_id, opened, reload, state_of_everything
from tests.factories import issue

# --- recall, start, finish, no-show ----------------------------------------------------------


def test_recall_is_counted_and_suggests_no_show_at_the_recall_limit(hall, greeter, clerk_a):
    ticket = issue(hall, by=greeter)
    c = opened(hall, 1, clerk_a)
    counter_call_next(counter_id=c.pk, user=clerk_a)
    assert hall.recall_limit == 3
    suggestions = []
    for _ in range(4):
        mark = last_event_id()
        recall = counter_recall(counter_id=c.pk, user=clerk_a)
        assert events_since(mark) == [EventKind.TICKET_RECALLED]
        suggestions.append((recall.ticket.recall_count, recall.suggested_action))
    assert suggestions == [(1, None), (2, None), (3, "no_show"), (4, "no_show")]
    assert reload(ticket).recall_count == 4
    assert reload(ticket).status == Status.CALLED


def test_the_recall_limit_is_a_hall_setting(hall, greeter, clerk_a):
    hall.recall_limit = 1
    hall.save(update_fields=["recall_limit"])
    issue(hall, by=greeter)
    c = opened(hall, 1, clerk_a)
    counter_call_next(counter_id=c.pk, user=clerk_a)
    assert counter_recall(counter_id=c.pk, user=clerk_a).suggested_action == "no_show"


def test_recall_needs_a_called_ticket(hall, greeter, clerk_a):
    c = opened(hall, 1, clerk_a)
    with pytest.raises(NoActiveTicket):
        counter_recall(counter_id=c.pk, user=clerk_a)
    issue(hall, by=greeter)
    counter_call_next(counter_id=c.pk, user=clerk_a)
    counter_start(counter_id=c.pk, user=clerk_a)
    before = state_of_everything()
    with pytest.raises(InvalidTransition):  # already at the counter
        counter_recall(counter_id=c.pk, user=clerk_a)
    assert state_of_everything() == before


def test_start_serves_the_called_ticket(hall, greeter, clerk_a):
    ticket = issue(hall, by=greeter)
    c = opened(hall, 1, clerk_a)
    counter_call_next(counter_id=c.pk, user=clerk_a)
    mark = last_event_id()
    started = counter_start(counter_id=c.pk, user=clerk_a)
    assert started == ticket
    assert (reload(ticket).status, reload(ticket).counter) == (Status.SERVING, c)
    assert reload(ticket).started_at is not None
    assert events_since(mark) == [EventKind.TICKET_STARTED]
    with pytest.raises(InvalidTransition):
        counter_start(counter_id=c.pk, user=clerk_a)


def test_start_needs_a_called_ticket(hall, clerk_a):
    c = opened(hall, 1, clerk_a)
    with pytest.raises(NoActiveTicket):
        counter_start(counter_id=c.pk, user=clerk_a)


def test_finish_stores_the_outcome_and_the_ticket_is_done(hall, greeter, clerk_a):
    ticket = issue(hall, by=greeter)
    c = opened(hall, 1, clerk_a)
    counter_call_next(counter_id=c.pk, user=clerk_a)
    counter_start(counter_id=c.pk, user=clerk_a)
    mark = last_event_id()
    counter_finish(
        counter_id=c.pk, user=clerk_a, outcome=Outcome.MISSING_DOCUMENTS, note="no ID card"
    )
    done = reload(ticket)
    assert (done.status, done.outcome, done.note) == (
        Status.DONE,
        Outcome.MISSING_DOCUMENTS,
        "no ID card",
    )
    assert done.finished_at is not None
    assert events_since(mark) == [EventKind.TICKET_DONE]
    assert AuditEvent.objects.get(id__gt=mark).data["outcome"] == Outcome.MISSING_DOCUMENTS
    # The counter is free for the next customer.
    assert counter_call_next(counter_id=c.pk, user=clerk_a).called is None


def test_finish_is_refused_before_service_starts_or_with_an_unknown_outcome(hall, greeter, clerk_a):
    issue(hall, by=greeter)
    c = opened(hall, 1, clerk_a)
    counter_call_next(counter_id=c.pk, user=clerk_a)
    before = state_of_everything()
    with pytest.raises(InvalidTransition):
        counter_finish(counter_id=c.pk, user=clerk_a)
    counter_start(counter_id=c.pk, user=clerk_a)
    before = state_of_everything()
    with pytest.raises(InvalidInput):
        counter_finish(counter_id=c.pk, user=clerk_a, outcome="happy")
    assert state_of_everything() == before


def test_no_show_ends_a_called_ticket(hall, greeter, clerk_a):
    ticket = issue(hall, by=greeter)
    c = opened(hall, 1, clerk_a)
    counter_call_next(counter_id=c.pk, user=clerk_a)
    counter_recall(counter_id=c.pk, user=clerk_a)
    mark = last_event_id()
    counter_no_show(counter_id=c.pk, user=clerk_a)
    gone = reload(ticket)
    assert (gone.status, gone.recall_count) == (Status.NO_SHOW, 1)
    assert gone.finished_at is not None
    assert events_since(mark) == [EventKind.TICKET_NO_SHOW]


def test_a_ticket_being_served_cannot_be_marked_no_show(hall, greeter, clerk_a):
    issue(hall, by=greeter)
    c = opened(hall, 1, clerk_a)
    counter_call_next(counter_id=c.pk, user=clerk_a)
    counter_start(counter_id=c.pk, user=clerk_a)
    before = state_of_everything()
    with pytest.raises(InvalidTransition):
        counter_no_show(counter_id=c.pk, user=clerk_a)
    assert state_of_everything() == before
