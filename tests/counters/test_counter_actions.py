"""Every counter action through counters.services: open, close, call-next, recall, start,
finish, no-show, transfer, pause and resume; who may act; audit events; priority order.

Hall h1 (conftest): counter 1 serves payment+topup, counter 2 payment+service, counter 3 is
VIP-first and serves everything, counter 4 serves service only.
"""

import pytest
from django.utils import translation

from counters import services as counter_services
from counters.apologies import apology_for
from counters.models import ClerkSession, Counter, CounterState, Interruption, PauseReason
from counters.services import (
    Window,
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
from hall.errors import (
    ClerkElsewhere,
    CounterBusy,
    CounterClosed,
    CounterPaused,
    CounterTaken,
    Forbidden,
    InvalidInput,
    InvalidTransition,
    NoActiveTicket,
    TransferRefused,
)
from hall.models import AuditEvent, BusinessType, EventKind, LaneSetting
from queueing.models import (
    Lane,
    NoticeKind,
    Outcome,
    PhoneNotice,
    PriorityReason,
    Slot,
    Status,
    Ticket,
)
from tests.conftest import counter
from tests.factories import issue, minutes_ago

# --- helpers -------------------------------------------------------------------------------


def opened(hall, number: int, clerk) -> Counter:
    c = counter(hall, number)
    counter_open(counter_id=c.pk, user=clerk)
    c.refresh_from_db()
    return c


def reload(ticket: Ticket) -> Ticket:
    return Ticket.objects.get(pk=ticket.pk)


def last_event_id() -> int:
    return AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


def events_since(mark: int) -> list[str]:
    return list(
        AuditEvent.objects.filter(id__gt=mark).order_by("id").values_list("kind", flat=True)
    )


def state_of_everything() -> tuple:
    """What a refused action must leave untouched."""
    tickets = list(
        Ticket.objects.order_by("id").values_list(
            "status",
            "counter_id",
            "clerk_id",
            "window_counter_id",
            "window_slot",
            "pinned_counter_id",
            "business_type_id",
            "issued_at",
            "called_at",
            "started_at",
            "finished_at",
            "recall_count",
            "transfer_count",
            "outcome",
        )
    )
    counters = list(Counter.objects.order_by("id").values_list("state", "clerk_id"))
    return (
        tickets,
        counters,
        AuditEvent.objects.count(),
        list(ClerkSession.objects.order_by("id").values_list("ended_at", flat=True)),
        list(Interruption.objects.order_by("id").values_list("ended_at", flat=True)),
    )


def assert_back_in_the_pool(*tickets: Ticket) -> None:
    """Released from a window: waiting, in no slot, and still with its original issue time."""
    for original in tickets:
        released = reload(original)
        assert (released.status, released.window_slot, released.window_counter) == (
            Status.WAITING,
            None,
            None,
        )
        assert released.issued_at == original.issued_at


def serve_to_done(c: Counter, user) -> Ticket:
    """Start and finish the counter's called ticket."""
    counter_start(counter_id=c.pk, user=user)
    return counter_finish(counter_id=c.pk, user=user)


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
