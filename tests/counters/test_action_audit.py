"""One audit event per successful counter action, in the same transaction.

Hall h1 (conftest): counter 1 serves payment+topup, counter 2 payment+service, counter 3 is
VIP-first and serves everything, counter 4 serves service only.
"""

import pytest

from counters import services as counter_services
from counters.models import PauseReason
from counters.services import (
    counter_call_next,
    counter_close,
    counter_finish,
    counter_no_show,
    counter_open,
    counter_pause,
    counter_recall,
    counter_requeue,
    counter_resume,
    counter_start,
    counter_transfer,
)
from hall.models import AuditEvent, EventKind
from tests.conftest import counter
from tests.counters.actions import events_since, last_event_id, opened, state_of_everything
from tests.factories import issue, minutes_ago

# --- audit: one event per successful action, in the same transaction ------------------------


def _scenario(hall, greeter, clerk_a, clerk_b):
    """Run every action once, asserting the events each one writes."""
    issue(hall, by=greeter, at=minutes_ago(5))
    issue(hall, by=greeter, at=minutes_ago(4))
    issue(hall, by=greeter, at=minutes_ago(3))
    c1 = counter(hall, 1)
    opened(hall, 2, clerk_b)
    steps = [
        ("open", lambda: counter_open(counter_id=c1.pk, user=clerk_a), EventKind.COUNTER_OPENED),
        (
            "call",
            lambda: counter_call_next(counter_id=c1.pk, user=clerk_a),
            EventKind.TICKET_CALLED,
        ),
        (
            "recall",
            lambda: counter_recall(counter_id=c1.pk, user=clerk_a),
            EventKind.TICKET_RECALLED,
        ),
        (
            "no-show",
            lambda: counter_no_show(counter_id=c1.pk, user=clerk_a),
            EventKind.TICKET_NO_SHOW,
        ),
        (
            "call",
            lambda: counter_call_next(counter_id=c1.pk, user=clerk_a),
            EventKind.TICKET_CALLED,
        ),
        ("start", lambda: counter_start(counter_id=c1.pk, user=clerk_a), EventKind.TICKET_STARTED),
        (
            "requeue",
            lambda: counter_requeue(counter_id=c1.pk, user=clerk_a),
            EventKind.TICKET_REQUEUED,
        ),
        (
            "pause",
            lambda: counter_pause(counter_id=c1.pk, user=clerk_a, reason=PauseReason.OTHER),
            EventKind.COUNTER_PAUSED,
        ),
        (
            "resume",
            lambda: counter_resume(counter_id=c1.pk, user=clerk_a),
            EventKind.COUNTER_RESUMED,
        ),
        (
            "call",
            lambda: counter_call_next(counter_id=c1.pk, user=clerk_a),
            EventKind.TICKET_CALLED,
        ),
        (
            "transfer",
            lambda: counter_transfer(
                counter_id=c1.pk, user=clerk_a, target_counter_id=counter(hall, 2).pk
            ),
            EventKind.TICKET_TRANSFERRED,
        ),
        (
            "call",
            lambda: counter_call_next(counter_id=c1.pk, user=clerk_a),
            EventKind.TICKET_CALLED,
        ),
        ("start", lambda: counter_start(counter_id=c1.pk, user=clerk_a), EventKind.TICKET_STARTED),
        ("finish", lambda: counter_finish(counter_id=c1.pk, user=clerk_a), EventKind.TICKET_DONE),
        ("close", lambda: counter_close(counter_id=c1.pk, user=clerk_a), EventKind.COUNTER_CLOSED),
    ]
    return c1, steps


def test_every_successful_action_writes_exactly_one_event_of_its_kind(
    hall, greeter, clerk_a, clerk_b
):
    c1, steps = _scenario(hall, greeter, clerk_a, clerk_b)
    for name, step, kind in steps:
        mark = last_event_id()
        step()
        assert events_since(mark) == [kind], name
        event = AuditEvent.objects.get(id__gt=mark)
        assert (event.counter_id, event.actor, event.hall) == (c1.pk, clerk_a, hall), name


@pytest.mark.parametrize("failing_step", range(15))
def test_an_action_whose_event_cannot_be_written_changes_nothing(
    hall, greeter, clerk_a, clerk_b, monkeypatch, failing_step
):
    _, steps = _scenario(hall, greeter, clerk_a, clerk_b)
    for _name, step, _kind in steps[:failing_step]:
        step()
    name, step, _kind = steps[failing_step]

    def broken_event_record(**kwargs):
        raise RuntimeError("audit log unavailable")

    monkeypatch.setattr(counter_services, "event_record", broken_event_record)
    before = state_of_everything()
    with pytest.raises(RuntimeError):
        step()
    assert state_of_everything() == before, name
