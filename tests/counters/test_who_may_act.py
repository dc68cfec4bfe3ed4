"""Who may act at a counter: its signed-in clerk or a manager of the hall.

Hall h1 (conftest): counter 1 serves payment+topup, counter 2 payment+service, counter 3 is
VIP-first and serves everything, counter 4 serves service only.
"""

import pytest

from counters.models import Counter, PauseReason
from counters.services import (
    counter_call_next,
    counter_close,
    counter_finish,
    counter_no_show,
    counter_pause,
    counter_recall,
    counter_resume,
    counter_start,
    counter_transfer,
)
from hall.errors import (
    CounterClosed,
    Forbidden,
)
from hall.models import AuditEvent, EventKind
from queueing.models import Status
from tests.conftest import counter
from tests.counters.actions import opened, reload, state_of_everything
from tests.factories import issue, minutes_ago

# --- who may act ---------------------------------------------------------------------------


def _at_counter_1_with_a_called_ticket(hall, greeter, clerk_a) -> Counter:
    issue(hall, by=greeter, at=minutes_ago(2))
    issue(hall, by=greeter, at=minutes_ago(1))
    c1 = opened(hall, 1, clerk_a)
    counter_call_next(counter_id=c1.pk, user=clerk_a)
    return c1


ACTIONS = {
    "call_next": lambda c, u: counter_call_next(counter_id=c.pk, user=u),
    "recall": lambda c, u: counter_recall(counter_id=c.pk, user=u),
    "start": lambda c, u: counter_start(counter_id=c.pk, user=u),
    "finish": lambda c, u: counter_finish(counter_id=c.pk, user=u),
    "no_show": lambda c, u: counter_no_show(counter_id=c.pk, user=u),
    "transfer": lambda c, u: counter_transfer(counter_id=c.pk, user=u, business_type_code="topup"),
    "pause": lambda c, u: counter_pause(counter_id=c.pk, user=u, reason=PauseReason.BREAK),
    "resume": lambda c, u: counter_resume(counter_id=c.pk, user=u),
    "close": lambda c, u: counter_close(counter_id=c.pk, user=u),
}


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("who", ["clerk_b", "clerk_b_signed_in", "greeter", "outsider"])
def test_only_the_signed_in_clerk_or_a_manager_may_act(
    hall, greeter, clerk_a, who, action, request
):
    c1 = _at_counter_1_with_a_called_ticket(hall, greeter, clerk_a)
    if who == "clerk_b_signed_in":
        user = request.getfixturevalue("clerk_b")
        opened(hall, 2, user)
    else:
        user = request.getfixturevalue(who)
    before = state_of_everything()
    with pytest.raises(Forbidden):
        ACTIONS[action](c1, user)
    assert state_of_everything() == before


def test_a_clerk_not_signed_in_must_open_the_counter_first(hall, clerk_a):
    before = state_of_everything()
    with pytest.raises(CounterClosed):
        counter_call_next(counter_id=counter(hall, 1).pk, user=clerk_a)
    assert state_of_everything() == before


def test_a_manager_of_the_hall_may_act_on_a_clerks_counter(hall, greeter, clerk_a, manager):
    c1 = _at_counter_1_with_a_called_ticket(hall, greeter, clerk_a)
    assert counter_recall(counter_id=c1.pk, user=manager).ticket.recall_count == 1
    started = counter_start(counter_id=c1.pk, user=manager)
    counter_finish(counter_id=c1.pk, user=manager)
    assert reload(started).status == Status.DONE
    assert reload(started).clerk == clerk_a  # the ticket is still the clerk's service
    counter_pause(counter_id=c1.pk, user=manager, reason=PauseReason.SYSTEM_FAULT)
    counter_resume(counter_id=c1.pk, user=manager)
    counter_close(counter_id=c1.pk, user=manager)
    assert Counter.objects.get(pk=c1.pk).clerk is None
    actors = set(
        AuditEvent.objects.filter(counter_id=c1.pk)
        .exclude(kind__in=[EventKind.COUNTER_OPENED, EventKind.TICKET_CALLED])
        .values_list("actor", flat=True)
    )
    assert actors == {manager.pk}
