"""Issuing and cancelling tickets through queueing.services (not HTTP)."""

import datetime
import zoneinfo

import pytest
import time_machine

from counters.services import counter_call_next, counter_open
from display.board import board_compute
from hall import cache as hall_cache
from hall.errors import (
    BusinessTypeUnavailable,
    Forbidden,
    HallClosed,
    InvalidInput,
    InvalidTransition,
)
from hall.models import AuditEvent, BusinessType, EventKind, Role, StaffMembership
from hall.services import device_register
from queueing import forecast
from queueing import services as queueing_services
from queueing.models import Lane, Origin, PriorityReason, Slot, Status, Ticket
from queueing.selectors import hall_state
from queueing.services import ticket_cancel, ticket_issue
from tests.conftest import counter
from tests.factories import OFFICE_HOURS, issue, minutes_ago, payment_hall

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


@pytest.fixture
def office(db, django_user_model):
    """A hall open 08:30-18:00 with its own manager, greeter and clerk."""
    hall = payment_hall("office", "营业时间厅", hours=OFFICE_HOURS)
    hall.people = {}
    for role in (Role.MANAGER, Role.GREETER, Role.CLERK):
        user = django_user_model.objects.create_user(username=f"office_{role}", password="pw")
        StaffMembership.objects.create(user=user, hall=hall, role=role)
        hall.people[role] = user
    return hall


def _evening():
    return time_machine.travel(datetime.datetime(2025, 6, 10, 20, 0, tzinfo=SHANGHAI), tick=False)


def _noon():
    return datetime.datetime(2025, 6, 10, 12, 0, tzinfo=SHANGHAI)


def _nothing_issued():
    return not Ticket.objects.exists() and not AuditEvent.objects.exists()


# --- business types ------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["nonsense", "retired"])
def test_unknown_or_inactive_business_type_is_unavailable(hall, greeter, code):
    BusinessType.objects.create(
        hall=hall, code="retired", prefix="R", name_zh="旧", name_en="Old", active=False
    ).counters.set([counter(hall, 1)])
    with pytest.raises(BusinessTypeUnavailable):
        issue(hall, code, by=greeter)
    assert _nothing_issued()


def test_a_business_type_of_another_hall_is_unavailable(hall, other_hall, greeter):
    BusinessType.objects.create(
        hall=other_hall, code="broadband", prefix="H", name_zh="宽带", name_en="Broadband"
    )
    with pytest.raises(BusinessTypeUnavailable):
        issue(hall, "broadband", by=greeter)


def test_a_business_type_no_counter_serves_is_refused(hall, greeter, kiosk):
    BusinessType.objects.create(
        hall=hall, code="cards", prefix="D", name_zh="售卡", name_en="Prepaid cards"
    )
    with pytest.raises(BusinessTypeUnavailable) as refused:
        issue(hall, "cards", device=kiosk)
    assert refused.value.fields == {"business_type": "no counter serves it"}
    assert _nothing_issued()


# --- opening hours -------------------------------------------------------------------------


def test_a_closed_hall_issues_no_ticket(office):
    with _evening(), pytest.raises(HallClosed):
        issue(office, by=office.people[Role.GREETER])
    assert _nothing_issued()


def test_a_closed_hall_also_refuses_a_manager_who_does_not_override(office):
    with _evening(), pytest.raises(HallClosed):
        issue(office, by=office.people[Role.MANAGER])


def test_a_manager_may_override_opening_hours(office):
    with _evening():
        ticket = issue(office, by=office.people[Role.MANAGER], override_hours=True)
    assert (ticket.number, ticket.status) == ("A001", Status.WAITING)


@pytest.mark.parametrize("role", [Role.GREETER, Role.CLERK])
def test_greeter_and_clerk_cannot_override_opening_hours(office, role):
    with _evening(), pytest.raises(Forbidden):
        issue(office, by=office.people[role], override_hours=True)
    with pytest.raises(Forbidden):  # and asking for it during opening hours is refused too
        issue(office, by=office.people[role], override_hours=True, at=_noon())
    assert _nothing_issued()


def test_a_kiosk_cannot_override_opening_hours(office):
    kiosk, _ = device_register(hall=office, kind="kiosk")
    with _evening(), pytest.raises(Forbidden):
        issue(office, device=kiosk, override_hours=True)


def test_the_hall_opens_at_its_local_opening_time(office):
    greeter = office.people[Role.GREETER]
    with pytest.raises(HallClosed):
        issue(office, by=greeter, at=datetime.datetime(2025, 6, 10, 8, 29, tzinfo=SHANGHAI))
    ticket = issue(office, by=greeter, at=datetime.datetime(2025, 6, 10, 8, 30, tzinfo=SHANGHAI))
    assert ticket.number == "A001"
    with pytest.raises(HallClosed):
        issue(office, by=greeter, at=datetime.datetime(2025, 6, 10, 18, 0, tzinfo=SHANGHAI))


# --- who may issue -------------------------------------------------------------------------


def test_staff_of_another_hall_may_not_issue(hall, outsider):
    with pytest.raises(Forbidden):
        issue(hall, by=outsider)
    assert _nothing_issued()


def test_nobody_at_all_may_not_issue(hall):
    with pytest.raises(Forbidden):
        issue(hall)


def test_a_kiosk_of_another_hall_may_not_issue(hall, other_kiosk):
    with pytest.raises(Forbidden):
        issue(hall, device=other_kiosk)
    assert _nothing_issued()


def test_a_display_device_may_not_issue(hall, display_device):
    with pytest.raises(Forbidden):
        issue(hall, device=display_device)
    assert _nothing_issued()


@pytest.mark.parametrize("who", ["greeter", "clerk_a", "manager"])
def test_any_staff_role_of_the_hall_may_issue(hall, who, request):
    user = request.getfixturevalue(who)
    ticket = issue(hall, by=user)
    assert (ticket.origin, ticket.issued_by, ticket.device) == (Origin.GREETER, user, None)


def test_a_kiosk_ticket_records_its_device(hall, kiosk):
    ticket = issue(hall, device=kiosk)
    assert (ticket.origin, ticket.device, ticket.issued_by) == (Origin.KIOSK, kiosk, None)


# --- lanes ---------------------------------------------------------------------------------


def test_vip_at_the_kiosk_needs_a_vip_account(hall, kiosk):
    with pytest.raises(InvalidInput) as refused:
        issue(hall, device=kiosk, lane=Lane.VIP)
    assert "vip_account" in refused.value.fields
    assert _nothing_issued()


def test_a_vip_account_at_the_kiosk_gives_a_vip_ticket(hall, kiosk):
    ticket = issue(hall, device=kiosk, vip_account=" 8800123 ")
    assert (ticket.lane, ticket.priority_reason, ticket.vip_account) == (
        Lane.VIP,
        PriorityReason.VIP,
        "8800123",
    )


def test_a_greeter_may_give_a_vip_ticket_without_an_account(hall, greeter):
    ticket = issue(hall, by=greeter, lane=Lane.VIP)
    assert (ticket.lane, ticket.priority_reason) == (Lane.VIP, PriorityReason.VIP)


@pytest.mark.parametrize("reason", [PriorityReason.ELDERLY, PriorityReason.DISABLED])
def test_the_kiosk_lets_elderly_and_disabled_customers_self_declare(hall, kiosk, reason):
    ticket = issue(hall, device=kiosk, reason=reason)
    assert (ticket.lane, ticket.priority_reason, ticket.self_declared) == (
        Lane.PRIORITY,
        reason,
        True,
    )


@pytest.mark.parametrize("reason", [PriorityReason.PREGNANT, PriorityReason.MILITARY])
def test_pregnant_and_military_need_a_greeter_not_the_kiosk(hall, kiosk, greeter, reason):
    with pytest.raises(InvalidInput):
        issue(hall, device=kiosk, lane=Lane.PRIORITY, reason=reason)
    assert _nothing_issued()
    ticket = issue(hall, by=greeter, lane=Lane.PRIORITY, reason=reason)
    assert (ticket.lane, ticket.priority_reason, ticket.self_declared) == (
        Lane.PRIORITY,
        reason,
        False,
    )


def test_a_normal_ticket_with_a_priority_reason_is_invalid(hall, greeter):
    with pytest.raises(InvalidInput):
        issue(hall, by=greeter, lane=Lane.NORMAL, reason=PriorityReason.ELDERLY)
    assert _nothing_issued()


def test_the_priority_lane_needs_a_reason(hall, greeter):
    with pytest.raises(InvalidInput):
        issue(hall, by=greeter, lane=Lane.PRIORITY)


def test_a_vip_ticket_takes_no_other_reason(hall, greeter):
    with pytest.raises(InvalidInput):
        issue(hall, by=greeter, lane=Lane.VIP, reason=PriorityReason.ELDERLY)


def test_a_plain_ticket_is_normal(hall, greeter):
    ticket = issue(hall, by=greeter)
    assert (ticket.lane, ticket.priority_reason, ticket.self_declared) == (Lane.NORMAL, "", False)


# --- audit ---------------------------------------------------------------------------------


def test_each_issue_writes_exactly_one_ticket_issued_event(hall, greeter, kiosk):
    by_greeter = issue(hall, by=greeter, reason=PriorityReason.PREGNANT)
    by_kiosk = issue(hall, "topup", device=kiosk)
    events = list(AuditEvent.objects.order_by("id"))
    assert [(e.kind, e.ticket_id) for e in events] == [
        (EventKind.TICKET_ISSUED, by_greeter.pk),
        (EventKind.TICKET_ISSUED, by_kiosk.pk),
    ]
    assert (events[0].actor, events[0].device) == (greeter, None)
    assert (events[1].actor, events[1].device) == (None, kiosk)
    assert events[0].data["number"] == "A001"
    assert events[0].data["priority_reason"] == PriorityReason.PREGNANT


def test_the_event_is_written_in_the_same_transaction_as_the_ticket(hall, greeter, monkeypatch):
    def failing_event_record(**kwargs):
        raise RuntimeError("audit log unavailable")

    monkeypatch.setattr(queueing_services, "event_record", failing_event_record)
    with pytest.raises(RuntimeError):
        issue(hall, by=greeter)
    monkeypatch.undo()
    assert not Ticket.objects.exists()
    # Nor was a number used up: the sequence bump rolled back with the ticket.
    assert issue(hall, by=greeter).number == "A001"


# --- people ahead and the estimated wait -----------------------------------------------------
# A new ticket's estimate comes from the hall's latest board (queueing.estimates): the forecast
# the live tier computes after commit. These tests compute it as the live tier would, then issue.
# Most take services of fixed length (``services_of_fixed_length``), so that the estimate is the
# router's walk-through written in each test; the bands are tested where services vary.


def _issue_payment_queue(hall, greeter):
    """Two payment tickets waiting, plus other business that is not ahead of a payment."""
    issue(hall, "payment", by=greeter, at=minutes_ago(10))
    issue(hall, "payment", by=greeter, at=minutes_ago(8))
    issue(hall, "topup", by=greeter, at=minutes_ago(9))
    issue(hall, "service", by=greeter, at=minutes_ago(7))


@pytest.mark.usefixtures("services_of_fixed_length")
def test_one_open_counter_serves_the_three_ahead_of_it_first(hall, greeter, clerk_a):
    _issue_payment_queue(hall, greeter)
    counter_open(counter_id=counter(hall, 1).pk, user=clerk_a)
    board_compute(hall.pk)  # the live tier's board after the last event (display.board)
    issued = ticket_issue(hall=hall, business_type_code="payment", issued_by=greeter)
    assert issued.people_ahead == 2
    # Counter 1 (payment and top-up) calls the two payments and the earlier top-up first:
    # 3 x 3 min (queueing.forecast runs the router forward).
    assert issued.estimated_wait_s == 540


@pytest.mark.usefixtures("services_of_fixed_length")
def test_two_open_payment_counters_halve_the_wait(hall, greeter, clerk_a, clerk_b):
    _issue_payment_queue(hall, greeter)
    counter_open(counter_id=counter(hall, 1).pk, user=clerk_a)
    counter_open(counter_id=counter(hall, 2).pk, user=clerk_b)
    board_compute(hall.pk)  # the live tier's board after the last event (display.board)
    issued = ticket_issue(hall=hall, business_type_code="payment", issued_by=greeter)
    # Counter 1 calls the first payment, greets the top-up; counter 2 the second payment, then
    # the older service ticket at 3 min; counter 1 is free for this one after the top-up.
    assert (issued.people_ahead, issued.estimated_wait_s) == (2, 360)


@pytest.mark.usefixtures("services_of_fixed_length")
def test_before_any_counter_opens_the_configured_counters_are_assumed(hall, greeter):
    _issue_payment_queue(hall, greeter)
    board_compute(hall.pk)  # the live tier's board after the last event (display.board)
    issued = ticket_issue(hall=hall, business_type_code="payment", issued_by=greeter)
    # All four counters are assumed open. Counter 1 calls the first payment and greets the
    # top-up; counter 2 calls the second payment; counter 3 calls the top-up greeted at busy
    # counter 1 (issue 16: the greeting binds the order, not the counter) and greets this
    # ticket; counter 4 calls the service ticket. This one is called when counter 3 is done.
    assert (issued.people_ahead, issued.estimated_wait_s) == (2, 180)


@pytest.mark.usefixtures("services_of_fixed_length")
def test_called_tickets_are_no_longer_ahead(hall, greeter, clerk_a):
    _issue_payment_queue(hall, greeter)
    counter_open(counter_id=counter(hall, 1).pk, user=clerk_a)
    counter_call_next(counter_id=counter(hall, 1).pk, user=clerk_a)  # calls the oldest payment
    board_compute(hall.pk)  # the live tier's board after the last event (display.board)
    issued = ticket_issue(hall=hall, business_type_code="payment", issued_by=greeter)
    # The first payment is served (3 min expected), then counter 1's greeted top-up and
    # attended payment: three services.
    assert (issued.people_ahead, issued.estimated_wait_s) == (1, 540)


def test_where_services_vary_the_estimate_is_a_median_inside_its_bands(hall, greeter, clerk_a):
    """No history: services taken as exponential. The point is the median of the sampled
    replays (the estimate with the least absolute error; of 8-20 replays, so near the median of
    three services of 3 min, 8 min, not exactly), and the range shown (25-75 %) sits inside
    the 10-90 % one."""
    _issue_payment_queue(hall, greeter)
    counter_open(counter_id=counter(hall, 1).pk, user=clerk_a)
    board_compute(hall.pk)
    issued = ticket_issue(hall=hall, business_type_code="payment", issued_by=greeter)
    low, high = issued.estimated_wait_range_s
    wide_low, wide_high = issued.estimated_wait_range_10_90_s
    assert wide_low < low < issued.estimated_wait_s < high < wide_high
    assert 360 < issued.estimated_wait_s < 720
    assert high - low > 120  # three random services: minutes apart, not seconds


@pytest.mark.usefixtures("services_of_fixed_length")
def test_services_of_fixed_length_give_one_figure_and_no_band(hall, greeter, clerk_a):
    _issue_payment_queue(hall, greeter)
    counter_open(counter_id=counter(hall, 1).pk, user=clerk_a)
    board_compute(hall.pk)
    issued = ticket_issue(hall=hall, business_type_code="payment", issued_by=greeter)
    assert issued.estimated_wait_range_s == issued.estimated_wait_range_10_90_s == [540, 540]


def test_the_first_ticket_of_the_day_waits_for_nobody(hall, kiosk):
    board_compute(hall.pk)  # the live tier's board after the last event (display.board)
    issued = ticket_issue(hall=hall, business_type_code="service", device=kiosk)
    assert (issued.people_ahead, issued.estimated_wait_s) == (0, 0)


def test_no_estimate_when_no_counter_serves_the_business_type(hall):
    orphan = BusinessType.objects.create(
        hall=hall, code="cards", prefix="D", name_zh="售卡", name_en="Prepaid cards"
    )
    assert forecast.forecast_new(hall_state(hall=hall), orphan.pk, "normal") is None


# --- cancelling ----------------------------------------------------------------------------


def test_a_waiting_ticket_can_be_cancelled(hall, greeter):
    ticket = issue(hall, by=greeter)
    cancelled = ticket_cancel(ticket=ticket, actor=greeter, reason="left")
    assert (cancelled.status, cancelled.note) == (Status.CANCELLED, "left")
    assert cancelled.finished_at is not None
    cancelled_events = AuditEvent.objects.filter(kind=EventKind.TICKET_CANCELLED)
    assert list(cancelled_events.values_list("ticket_id", "actor")) == [(ticket.pk, greeter.pk)]


def test_a_called_ticket_cannot_be_cancelled(hall, greeter, clerk_a):
    ticket = issue(hall, by=greeter)
    counter_open(counter_id=counter(hall, 1).pk, user=clerk_a)
    counter_call_next(counter_id=counter(hall, 1).pk, user=clerk_a)
    events = AuditEvent.objects.count()
    with pytest.raises(InvalidTransition):
        ticket_cancel(ticket=ticket, actor=greeter)
    ticket.refresh_from_db()
    assert ticket.status == Status.CALLED
    assert AuditEvent.objects.count() == events


def test_cancelling_a_greeted_ticket_frees_its_window_slot(hall, greeter, clerk_a):
    first = issue(hall, by=greeter, at=minutes_ago(3))
    greeted = issue(hall, by=greeter, at=minutes_ago(2))
    later = issue(hall, by=greeter, at=minutes_ago(1))
    c1 = counter(hall, 1)
    counter_open(counter_id=c1.pk, user=clerk_a)
    window = counter_call_next(counter_id=c1.pk, user=clerk_a)
    assert (window.called, window.greeted, window.attended) == (first, greeted, later)

    ticket_cancel(ticket=greeted, actor=greeter)
    greeted.refresh_from_db()
    assert (greeted.status, greeted.window_slot, greeted.window_counter) == (
        Status.CANCELLED,
        None,
        None,
    )
    assert Ticket.objects.get(pk=later.pk).window_slot == Slot.ATTENDED


def test_staff_of_another_hall_cannot_cancel(hall, greeter, outsider):
    ticket = issue(hall, by=greeter)
    with pytest.raises(Forbidden):
        ticket_cancel(ticket=ticket, actor=outsider)
    assert Ticket.objects.get(pk=ticket.pk).status == Status.WAITING


def test_a_disabled_kiosk_cannot_issue(office):
    kiosk, _ = device_register(hall=office, kind="kiosk")
    kiosk.active = False
    kiosk.save()
    with pytest.raises(Forbidden):
        issue(office, device=kiosk)
    assert _nothing_issued()


def test_without_a_board_the_estimate_is_the_simple_model(hall, greeter, clerk_a):
    """No stream of the hall connected (nothing computed a board): people ahead x the type's
    expected service time / the counters serving it, no forecast on the write path."""
    _issue_payment_queue(hall, greeter)
    counter_open(counter_id=counter(hall, 1).pk, user=clerk_a)
    issued = ticket_issue(hall=hall, business_type_code="payment", issued_by=greeter)
    assert (issued.people_ahead, issued.estimated_wait_s) == (2, 2 * 180)


@pytest.mark.usefixtures("services_of_fixed_length")
def test_people_who_joined_since_the_board_add_a_service_each(hall, greeter, clerk_a):
    _issue_payment_queue(hall, greeter)
    counter_open(counter_id=counter(hall, 1).pk, user=clerk_a)
    board_compute(hall.pk)
    issue(hall, "payment", by=greeter, at=minutes_ago(1))  # after the board was computed
    issued = ticket_issue(hall=hall, business_type_code="payment", issued_by=greeter)
    assert (issued.people_ahead, issued.estimated_wait_s) == (3, 540 + 180)


@pytest.mark.usefixtures("services_of_fixed_length")
def test_the_cache_down_leaves_this_processs_board(hall, greeter, clerk_a, monkeypatch):
    _issue_payment_queue(hall, greeter)
    counter_open(counter_id=counter(hall, 1).pk, user=clerk_a)
    board_compute(hall.pk)

    class Down:
        """The cache backend with Redis gone: every read and write fails."""

        def __getattr__(self, name):
            return getattr(real, name)

        def get(self, *args, **kwargs):
            raise ConnectionError("redis is down")

        set = get

    real = hall_cache.cache
    monkeypatch.setattr(hall_cache, "cache", Down())
    issued = ticket_issue(hall=hall, business_type_code="payment", issued_by=greeter)
    assert issued.estimated_wait_s == 540
