"""Call-next: the greeted promise, the window, what a counter may call, and the priority order.

Hall h1 (conftest): counter 1 serves payment+topup, counter 2 payment+service, counter 3 is
VIP-first and serves everything, counter 4 serves service only.
"""

import pytest

from counters.models import PauseReason
from counters.services import (
    Window,
    counter_call_next,
    counter_pause,
    counter_start,
)
from hall.errors import (
    CounterBusy,
    CounterClosed,
    CounterPaused,
)
from hall.models import AuditEvent, LaneSetting
from queueing.models import Lane, NoticeKind, PhoneNotice, PriorityReason, Slot, Status, Ticket
from tests.conftest import counter
from tests.counters.actions import (
    events_since,
    last_event_id,
    opened,
    reload,
    serve_to_done,
    state_of_everything,
)
from tests.factories import issue, minutes_ago

# --- call next -----------------------------------------------------------------------------


def test_call_next_calls_the_oldest_and_fills_the_window(hall, greeter, clerk_a):
    first, second, third, fourth = (
        issue(hall, by=greeter, at=minutes_ago(m)) for m in (4, 3, 2, 1)
    )
    c = opened(hall, 1, clerk_a)
    window = counter_call_next(counter_id=c.pk, user=clerk_a)
    assert isinstance(window, Window)
    assert (window.called, window.greeted, window.attended) == (first, second, third)
    called = reload(first)
    assert (called.status, called.counter, called.clerk) == (Status.CALLED, c, clerk_a)
    assert called.called_at is not None
    assert (reload(second).window_slot, reload(second).window_counter) == (Slot.GREETED, c)
    assert (reload(third).window_slot, reload(third).window_counter) == (Slot.ATTENDED, c)
    assert (reload(fourth).status, reload(fourth).window_slot) == (Status.WAITING, None)


@pytest.mark.parametrize(
    "depth, expected", [(2, ("greeted", "attended")), (1, ("greeted",)), (0, ())]
)
def test_window_depth_decides_how_many_are_greeted_and_attended(
    hall, greeter, clerk_a, depth, expected
):
    hall.window_depth = depth
    hall.save(update_fields=["window_depth"])
    tickets = [issue(hall, by=greeter, at=minutes_ago(m)) for m in (4, 3, 2, 1)]
    c = opened(hall, 1, clerk_a)
    window = counter_call_next(counter_id=c.pk, user=clerk_a)
    assert window.called == tickets[0]
    assert (window.greeted is not None, window.attended is not None) == (
        "greeted" in expected,
        "attended" in expected,
    )
    slots = Ticket.objects.filter(window_counter=c).values_list("window_slot", flat=True)
    assert sorted(slots) == sorted(expected)


def test_an_empty_queue_calls_nobody(hall, clerk_a):
    c = opened(hall, 1, clerk_a)
    mark = last_event_id()
    window = counter_call_next(counter_id=c.pk, user=clerk_a)
    assert window == Window(None, None, None)
    assert events_since(mark) == []


def test_a_counter_calls_only_business_it_serves(hall, greeter, clerk_a):
    issue(hall, "service", by=greeter, at=minutes_ago(20))
    payment = issue(hall, "payment", by=greeter, at=minutes_ago(1))
    c = opened(hall, 1, clerk_a)  # payment and topup only
    assert counter_call_next(counter_id=c.pk, user=clerk_a).called == payment


def test_a_greeted_ticket_is_called_next_even_if_a_vip_arrives(hall, greeter, clerk_a):
    first = issue(hall, by=greeter, at=minutes_ago(3))
    greeted = issue(hall, by=greeter, at=minutes_ago(2))
    c3 = opened(hall, 3, clerk_a)  # VIP-first: an arriving VIP would otherwise go first
    assert counter_call_next(counter_id=c3.pk, user=clerk_a).greeted == greeted
    vip = issue(hall, by=greeter, lane=Lane.VIP)
    serve_to_done(c3, clerk_a)
    window = counter_call_next(counter_id=c3.pk, user=clerk_a)
    assert window.called == greeted
    assert window.greeted == vip  # the VIP is next, but the promise came first
    assert reload(first).status == Status.DONE


def test_under_the_binding_another_counter_never_takes_a_ticket_greeted_elsewhere(
    hall, greeter, clerk_a, clerk_b
):
    issue(hall, by=greeter, at=minutes_ago(5))
    greeted = issue(hall, by=greeter, at=minutes_ago(4))
    later = issue(hall, by=greeter, at=minutes_ago(1))
    hall.window_depth = 1
    hall.greeting_binds_counter = True
    hall.save(update_fields=["window_depth", "greeting_binds_counter"])
    c1 = opened(hall, 1, clerk_a)
    assert counter_call_next(counter_id=c1.pk, user=clerk_a).greeted == greeted
    c2 = opened(hall, 2, clerk_b)
    window = counter_call_next(counter_id=c2.pk, user=clerk_b)
    assert window.called == later
    assert (reload(greeted).window_slot, reload(greeted).window_counter) == (Slot.GREETED, c1)


def test_a_counter_that_calls_while_the_greeting_counter_is_busy_takes_the_greeted_customer(
    hall, greeter, clerk_a, clerk_b
):
    """Issue 16: the greeting binds the order, not the counter. Counter 2 calls A002, greeted at
    counter 1 (busy with A001), before the later A003; counter 1 now greets B001, which it was
    attending, and the customers with a phone are told the counter that actually calls."""
    issue(hall, by=greeter, at=minutes_ago(5))
    greeted = issue(hall, by=greeter, at=minutes_ago(4), phone="13800000002")
    # A top-up customer: counter 2 does not serve top-ups, so it leaves them to counter 1.
    attended = issue(hall, "topup", by=greeter, at=minutes_ago(3), phone="13800000003")
    later = issue(hall, by=greeter, at=minutes_ago(1))
    c1 = opened(hall, 1, clerk_a)
    first = counter_call_next(counter_id=c1.pk, user=clerk_a)
    assert (first.greeted, first.attended) == (greeted, attended)
    c2 = opened(hall, 2, clerk_b)
    mark = last_event_id()
    window = counter_call_next(counter_id=c2.pk, user=clerk_b)
    assert window.called == greeted
    assert window.greeted == later
    taken = reload(greeted)
    assert (taken.status, taken.counter, taken.window_slot) == (Status.CALLED, c2, None)
    now_greeted = reload(attended)
    assert (now_greeted.window_slot, now_greeted.window_counter) == (Slot.GREETED, c1)
    event = AuditEvent.objects.get(id__gt=mark)
    assert event.data["counter"] == 2
    assert event.data["taken_from_counters"] == [c1.pk]
    assert event.data["greeted_elsewhere"] is True
    texts = dict(PhoneNotice.objects.filter(kind=NoticeKind.CALLED).values_list("ticket", "text"))
    assert "到2号窗口" in texts[greeted.pk]
    ready = PhoneNotice.objects.get(ticket=attended, kind=NoticeKind.GET_READY)
    assert "1号窗口" in ready.text


def test_an_idle_counter_does_not_take_the_promise_of_a_counter_that_is_about_to_call(
    hall, greeter, clerk_a, clerk_b
):
    issue(hall, by=greeter, at=minutes_ago(5))
    greeted = issue(hall, by=greeter, at=minutes_ago(4))
    later = issue(hall, by=greeter, at=minutes_ago(1))
    hall.window_depth = 1
    hall.save(update_fields=["window_depth"])
    c1 = opened(hall, 1, clerk_a)
    assert counter_call_next(counter_id=c1.pk, user=clerk_a).greeted == greeted
    serve_to_done(c1, clerk_a)  # counter 1 is free and will call its greeted customer next
    c2 = opened(hall, 2, clerk_b)
    assert counter_call_next(counter_id=c2.pk, user=clerk_b).called == later
    assert counter_call_next(counter_id=c1.pk, user=clerk_a).called == greeted


def test_an_attended_ticket_may_be_taken_by_another_counter(hall, greeter, clerk_a, clerk_b):
    issue(hall, by=greeter, at=minutes_ago(5))
    greeted = issue(hall, by=greeter, at=minutes_ago(4))
    attended = issue(hall, by=greeter, at=minutes_ago(3))
    c1 = opened(hall, 1, clerk_a)
    assert counter_call_next(counter_id=c1.pk, user=clerk_a).attended == attended
    c2 = opened(hall, 2, clerk_b)
    mark = last_event_id()
    window = counter_call_next(counter_id=c2.pk, user=clerk_b)
    # Counter 1's promise is called first (it is busy); its attended customer is greeted here.
    assert (window.called, window.greeted) == (greeted, attended)
    taken = reload(attended)
    assert (taken.status, taken.window_counter, taken.window_slot) == (
        Status.WAITING,
        c2,
        Slot.GREETED,
    )
    event = AuditEvent.objects.get(id__gt=mark)
    assert event.data["taken_from_others"] == [greeted.pk, attended.pk]


def test_under_the_binding_an_attended_ticket_may_be_called_by_another_counter(
    hall, greeter, clerk_a, clerk_b
):
    hall.greeting_binds_counter = True
    hall.save(update_fields=["greeting_binds_counter"])
    issue(hall, by=greeter, at=minutes_ago(5))
    issue(hall, by=greeter, at=minutes_ago(4))
    attended = issue(hall, by=greeter, at=minutes_ago(3))
    c1 = opened(hall, 1, clerk_a)
    assert counter_call_next(counter_id=c1.pk, user=clerk_a).attended == attended
    c2 = opened(hall, 2, clerk_b)
    mark = last_event_id()
    window = counter_call_next(counter_id=c2.pk, user=clerk_b)
    assert window.called == attended
    taken = reload(attended)
    assert (taken.status, taken.counter, taken.window_slot) == (Status.CALLED, c2, None)
    event = AuditEvent.objects.get(id__gt=mark)
    assert event.data["taken_from_others"] == [attended.pk]


@pytest.mark.parametrize("started", [False, True], ids=["called", "serving"])
def test_call_next_is_refused_while_a_ticket_is_called_or_served(hall, greeter, clerk_a, started):
    issue(hall, by=greeter, at=minutes_ago(2))
    issue(hall, by=greeter, at=minutes_ago(1))
    c = opened(hall, 1, clerk_a)
    counter_call_next(counter_id=c.pk, user=clerk_a)
    if started:
        counter_start(counter_id=c.pk, user=clerk_a)
    before = state_of_everything()
    with pytest.raises(CounterBusy):
        counter_call_next(counter_id=c.pk, user=clerk_a)
    assert state_of_everything() == before


def test_a_paused_counter_cannot_call(hall, greeter, clerk_a):
    issue(hall, by=greeter)
    c = opened(hall, 1, clerk_a)
    counter_pause(counter_id=c.pk, user=clerk_a, reason=PauseReason.BREAK)
    before = state_of_everything()
    with pytest.raises(CounterPaused):
        counter_call_next(counter_id=c.pk, user=clerk_a)
    assert state_of_everything() == before


@pytest.mark.parametrize("who", ["clerk_a", "manager"])
def test_a_closed_counter_cannot_call(hall, greeter, who, request):
    issue(hall, by=greeter)
    before = state_of_everything()
    with pytest.raises(CounterClosed):
        counter_call_next(counter_id=counter(hall, 1).pk, user=request.getfixturevalue(who))
    assert state_of_everything() == before


# --- priority ------------------------------------------------------------------------------


def test_a_vip_who_waited_5_minutes_goes_before_a_normal_ticket_that_waited_15(
    hall, greeter, clerk_a
):
    normal = issue(hall, by=greeter, at=minutes_ago(15))
    vip = issue(hall, by=greeter, lane=Lane.VIP, at=minutes_ago(5))
    c1 = opened(hall, 1, clerk_a)  # a general counter: weights 4/2/1 decide
    window = counter_call_next(counter_id=c1.pk, user=clerk_a)
    assert (window.called, window.greeted) == (vip, normal)


def test_a_normal_ticket_that_waited_15_goes_before_a_vip_of_3_minutes(hall, greeter, clerk_a):
    normal = issue(hall, by=greeter, at=minutes_ago(15))
    issue(hall, by=greeter, lane=Lane.VIP, at=minutes_ago(3))  # 4 x 3 = 12 < 15
    c1 = opened(hall, 1, clerk_a)
    assert counter_call_next(counter_id=c1.pk, user=clerk_a).called == normal


def test_an_elderly_customer_who_waited_8_minutes_goes_before_a_normal_of_15(
    hall, greeter, clerk_a
):
    issue(hall, by=greeter, at=minutes_ago(15))
    elderly = issue(hall, by=greeter, reason=PriorityReason.ELDERLY, at=minutes_ago(8))
    c1 = opened(hall, 1, clerk_a)
    assert counter_call_next(counter_id=c1.pk, user=clerk_a).called == elderly


def test_a_ticket_past_the_maximum_wait_goes_before_a_vip(hall, greeter, clerk_a):
    assert hall.max_wait_minutes == 30
    overdue = issue(hall, by=greeter, at=minutes_ago(31))
    vip = issue(hall, by=greeter, lane=Lane.VIP, at=minutes_ago(10))  # 4 x 10 = 40 > 31
    c1 = opened(hall, 1, clerk_a)
    window = counter_call_next(counter_id=c1.pk, user=clerk_a)
    assert (window.called, window.greeted) == (overdue, vip)


def test_a_strict_vip_lane_always_goes_first(hall, greeter, clerk_a):
    LaneSetting.objects.filter(hall=hall, lane=Lane.VIP).update(strict=True)
    normal = issue(hall, by=greeter, at=minutes_ago(29))
    elderly = issue(hall, by=greeter, reason=PriorityReason.ELDERLY, at=minutes_ago(20))
    vip = issue(hall, by=greeter, lane=Lane.VIP, at=minutes_ago(0.1))
    c1 = opened(hall, 1, clerk_a)
    window = counter_call_next(counter_id=c1.pk, user=clerk_a)
    assert (window.called, window.greeted, window.attended) == (vip, elderly, normal)


@pytest.mark.parametrize("number, expected", [(1, "normal"), (3, "vip")])
def test_the_vip_first_counter_calls_a_fresh_vip_before_a_long_wait(
    hall, greeter, clerk_a, number, expected
):
    waiting = {
        "normal": issue(hall, by=greeter, at=minutes_ago(25)),
        "vip": issue(hall, by=greeter, lane=Lane.VIP, at=minutes_ago(0.1)),
    }
    c = opened(hall, number, clerk_a)  # counter 1 general, counter 3 VIP-first
    assert counter_call_next(counter_id=c.pk, user=clerk_a).called == waiting[expected]


def test_the_vip_first_counter_serves_others_when_no_vip_waits(hall, greeter, clerk_a):
    normal = issue(hall, "service", by=greeter)
    c3 = opened(hall, 3, clerk_a)
    assert counter_call_next(counter_id=c3.pk, user=clerk_a).called == normal
