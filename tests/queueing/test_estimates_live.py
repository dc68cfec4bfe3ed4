"""The estimated wait on the live hall (queueing.selectors.hall_state + queueing.forecast)."""

import datetime

from django.utils import timezone

from counters.services import counter_call_next, counter_close, counter_open, counter_pause
from hall.models import BusinessType
from queueing import forecast
from queueing.models import Lane, Status, Ticket
from queueing.selectors import hall_state, ticket_position
from tests.conftest import counter
from tests.factories import issue, minutes_ago


def _history(hall, code, seconds, n=25):
    """``n`` finished tickets of ``code`` yesterday, each taking a counter ``seconds``."""
    bt = BusinessType.objects.get(hall=hall, code=code)
    start = timezone.now() - datetime.timedelta(days=1)
    day = hall.service_date(start)
    Ticket.objects.bulk_create(
        Ticket(
            hall=hall, business_type=bt, prefix="H", sequence=i + 1, number=f"H{i + 1:03}",
            service_date=day, status=Status.DONE, issued_at=start, called_at=start,
            finished_at=start + datetime.timedelta(seconds=seconds), public_token=f"h-{i}",
        )
        for i in range(n)
    )  # fmt: skip


def test_a_ticket_behind_three_at_one_counter_waits_three_services_and_what_is_left(
    hall, kiosk, clerk_a
):
    _history(hall, "payment", 200)  # observed: exactly 200 s, so cv 0
    c1 = counter(hall, 1)
    counter_open(counter_id=c1.pk, user=clerk_a)
    for m in (9, 8, 7, 6):
        issue(hall, "payment", device=kiosk, at=minutes_ago(m))
    counter_call_next(counter_id=c1.pk, user=clerk_a, now=minutes_ago(1))  # served for 60 s
    ticket = issue(hall, "payment", device=kiosk)
    ahead, wait = ticket_position(ticket=ticket)
    assert ahead == 3
    assert abs(wait.point - (140 + 3 * 200)) <= 2
    # Services of exactly 200 s: a determined future, so the bands are that one figure.
    assert wait.p10 == wait.p25 == wait.point == wait.p75 == wait.p90


def test_a_vip_ticket_is_estimated_ahead_of_a_normal_one(hall, kiosk, greeter, clerk_a):
    counter_open(counter_id=counter(hall, 1).pk, user=clerk_a)
    for m in (5, 4, 3):
        issue(hall, "payment", device=kiosk, at=minutes_ago(m))
    vip = issue(hall, "payment", by=greeter, lane=Lane.VIP, at=minutes_ago(2))
    normal = issue(hall, "payment", device=kiosk, at=minutes_ago(2))
    assert ticket_position(ticket=vip)[1].point < ticket_position(ticket=normal)[1].point


def test_a_paused_counter_and_a_type_nobody_open_serves(hall, kiosk, clerk_a):
    c1 = counter(hall, 1)
    counter_open(counter_id=c1.pk, user=clerk_a)
    counter_pause(counter_id=c1.pk, user=clerk_a, reason="phone_call")
    payment = issue(hall, "payment", device=kiosk)
    wait = ticket_position(ticket=payment)[1].point
    assert forecast.PAUSE_ASSUMED_S - 5 <= wait <= forecast.PAUSE_ASSUMED_S
    service = issue(hall, "service", device=kiosk)  # counter 1 does not serve it
    assert ticket_position(ticket=service)[1] is None
    state = hall_state(hall=hall)
    assert forecast.forecast_new(state, service.business_type_id, Lane.NORMAL) is None


def test_a_counter_signed_out_of_today_is_on_a_break_and_one_never_opened_is_not(
    hall, kiosk, clerk_a
):
    """Issue 16: the forecast expects a counter back when its clerk signed out today (a
    break, from its closing time), not one nobody has staffed today."""
    c1, c2 = counter(hall, 1), counter(hall, 2)
    counter_open(counter_id=c1.pk, user=clerk_a, now=minutes_ago(30))
    counter_close(counter_id=c1.pk, user=clerk_a, now=minutes_ago(10))
    counter_open(counter_id=c2.pk, user=clerk_a, now=minutes_ago(5))
    counters = {c.id: c for c in hall_state(hall=hall).counters}
    assert counters[c1.pk].state == "closed"
    assert abs(counters[c1.pk].closed_since - minutes_ago(10).timestamp()) < 1
    assert counters[c2.pk].closed_since is None
    never = [c for pk, c in counters.items() if pk not in (c1.pk, c2.pk)]
    assert never and all(c.state == "closed" and c.closed_since is None for c in never)
