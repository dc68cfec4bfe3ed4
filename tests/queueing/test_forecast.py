"""The wait forecast on hand-built hall states (queueing.forecast): pure, no database."""

import math
import random

import pytest

from queueing import forecast, router
from queueing.forecast import CounterState, HallState, forecast_new, forecast_new_many

NOW = 10_000.0
POLICY = router.Policy()
NO_WINDOW = router.Policy(window_depth=0)  # nobody greeted: lanes alone decide


def t(tid, bt="pay", lane="normal", ago=600.0, **kw):
    return router.Ticket(tid, bt, lane, NOW - ago + tid, **kw)


def state(counters, waiting=(), policy=POLICY, **kw):
    kw.setdefault("service_mean", {"pay": 300.0, "svc": 600.0})
    return HallState(now=NOW, policy=policy, counters=tuple(counters), waiting=tuple(waiting), **kw)


def test_exponential_residual_is_the_mean_and_deterministic_is_what_is_left():
    assert forecast.residual_service(300.0, None, 250.0) == 300.0
    assert forecast.residual_service(300.0, 1.0, 250.0) == 300.0
    assert forecast.residual_service(300.0, 0.0, 100.0) == 200.0
    assert forecast.residual_service(300.0, 0.0, 900.0) == 15.0  # the floor: 5 % of the mean


def test_lognormal_residual_is_the_conditional_expectation():
    rng = random.Random(4)
    mean, cv = 300.0, 0.6
    sigma = math.sqrt(math.log1p(cv * cv))
    mu = math.log(mean) - sigma * sigma / 2
    draws = [rng.lognormvariate(mu, sigma) for _ in range(100_000)]
    for elapsed in (60.0, 300.0, 600.0):
        beyond = [s - elapsed for s in draws if s > elapsed]
        sampled = sum(beyond) / len(beyond)
        assert forecast.residual_service(mean, cv, elapsed) == pytest.approx(sampled, rel=0.04)
    # Not "mean minus elapsed": a customer already past the mean is not about to leave.
    assert forecast.residual_service(mean, cv, 600.0) > 150.0


def test_a_ticket_behind_three_at_one_counter_waits_three_services_and_the_residual():
    busy = CounterState(
        "A", frozenset({"pay"}), serving_since=NOW - 100, serving_business_type="pay"
    )
    s = state([busy], [t(1), t(2), t(3)], service_cv={"pay": 0.0})
    assert forecast_new(s, "pay") == pytest.approx(200.0 + 3 * 300.0)
    assert forecast.forecast(s) == pytest.approx({1: 200.0, 2: 500.0, 3: 800.0})


def test_every_decision_is_the_routers(monkeypatch):
    calls = []
    real = router.call_next

    def spy(**kw):
        calls.append(kw["counter"].id)
        return real(**kw)

    monkeypatch.setattr(router, "call_next", spy)
    s = state([CounterState("A", frozenset({"pay"}))], [t(1), t(2)])
    assert forecast_new(s, "pay") == 600.0
    assert calls == ["A", "A", "A"]


def test_a_vip_lane_overtakes_and_expected_vip_arrivals_delay_a_normal_ticket():
    counters = [CounterState("A", frozenset({"pay"}))]
    waiting = [t(1, ago=60.0), t(2, ago=59.0)]
    s = state(counters, waiting, policy=NO_WINDOW)
    # Issued now, a VIP has no priority yet; after the first service its 4 x 300 s beats the
    # second normal ticket's 359 s: called second, where a normal ticket is called third.
    assert forecast_new(s, "pay", "vip") == 300.0
    assert forecast_new(s, "pay", "normal") == 600.0
    busy = state(counters, waiting, policy=NO_WINDOW, arrival_rate={("pay", "vip"): 1 / 500.0})
    assert forecast_new(busy, "pay", "normal") == 900.0  # the VIP expected at 250 s goes first
    # Later normal arrivals never go ahead of an earlier normal ticket: not injected.
    calm = state(counters, waiting, policy=NO_WINDOW, arrival_rate={("pay", "normal"): 1 / 10.0})
    assert forecast_new(calm, "pay", "normal") == 600.0


def test_a_greeted_ticket_goes_to_an_idle_counter_while_its_own_is_busy():
    a = CounterState("A", frozenset({"pay"}), serving_since=NOW, serving_business_type="pay")
    b = CounterState("B", frozenset({"pay"}))
    greeted = t(1, slot=router.Slot.GREETED, slot_counter="A")
    attended = t(2, slot=router.Slot.ATTENDED, slot_counter="A")
    s = state([a, b], [greeted, attended])
    # Issue 16: B is idle and takes A's promise at once (A is busy), greeting A's attended one.
    assert forecast.forecast(s) == {1: 0.0, 2: 300.0}


def test_under_the_binding_a_greeted_ticket_waits_for_its_own_counter():
    a = CounterState("A", frozenset({"pay"}), serving_since=NOW, serving_business_type="pay")
    b = CounterState("B", frozenset({"pay"}))
    greeted = t(1, slot=router.Slot.GREETED, slot_counter="A")
    attended = t(2, slot=router.Slot.ATTENDED, slot_counter="A")
    s = state([a, b], [greeted, attended], policy=router.Policy(greeting_binds_counter=True))
    # B is idle but may not take A's promise; it takes the attended one at once.
    assert forecast.forecast(s) == {1: 300.0, 2: 0.0}


def test_a_paused_counter_calls_when_its_pause_is_expected_to_end():
    paused = CounterState("A", frozenset({"pay"}), state="paused", paused_since=NOW - 120)
    s = state([paused], [t(1)])
    assert forecast.forecast(s) == {1: forecast.PAUSE_ASSUMED_S - 120}
    long_paused = CounterState("A", frozenset({"pay"}), state="paused", paused_since=NOW - 3600)
    assert forecast.forecast(state([long_paused], [t(1)])) == {1: forecast.PAUSE_MIN_REMAINING_S}


def test_a_counter_closed_for_a_break_is_expected_back_and_one_never_staffed_is_not():
    """Issue 16: a counter whose clerk signed out during the day is on a break, back
    ``BREAK_ASSUMED_S`` after it closed; a counter not staffed today never comes."""
    on_break = CounterState("D", frozenset({"svc"}), state="closed", closed_since=NOW - 600)
    s = state([on_break], [t(1, "svc")])
    assert forecast.forecast(s) == {1: forecast.BREAK_ASSUMED_S - 600}
    assert forecast_new(s, "svc") == forecast.BREAK_ASSUMED_S - 600 + 600.0  # behind ticket 1
    overdue = CounterState("D", frozenset({"svc"}), state="closed", closed_since=NOW - 7200)
    assert forecast.forecast(state([overdue], [t(1, "svc")])) == {1: forecast.PAUSE_MIN_REMAINING_S}
    never = CounterState("D", frozenset({"svc"}), state="closed")
    assert forecast.forecast(state([never], [t(1, "svc")])) == {1: None}


def test_nobody_open_to_serve_it_is_unknown():
    counters = [
        CounterState("A", frozenset({"pay"})),
        CounterState("B", frozenset({"svc"}), state="closed"),
        CounterState("V", frozenset({"svc"}), vip_mode=router.VipMode.VIP_ONLY),
    ]
    s = state(counters, [t(1, "svc")])
    assert forecast_new(s, "svc") is None
    assert forecast_new(s, "svc", "vip") == 0.0  # the VIP-only counter serves VIPs
    assert forecast.forecast(s) == {1: None}


def test_a_board_is_one_run_and_agrees_with_single_estimates():
    counters = [
        CounterState(
            "A", frozenset({"pay", "svc"}), serving_since=NOW - 30, serving_business_type="svc"
        ),  # fmt: skip
        CounterState("B", frozenset({"pay"}), serving_since=NOW - 200, serving_business_type="pay"),
    ]
    waiting = [t(i, "pay" if i % 3 else "svc", ago=900.0) for i in range(1, 10)]
    s = state(counters, waiting, service_cv={"pay": 0.6, "svc": 0.8})
    board = forecast_new_many(s, [("pay", "normal"), ("svc", "normal")])
    assert board == {
        ("pay", "normal"): forecast_new(s, "pay"),
        ("svc", "normal"): forecast_new(s, "svc"),
    }
    assert board[("svc", "normal")] > board[("pay", "normal")] > 0


def test_busy_counters_free_up_in_turn_not_all_at_once():
    """Two counters each with an exponential 300 s remainder: the first of them is expected to
    finish after 150 s (1 / (2 / 300)), so the ticket first in line is called then, not at 300 s.
    With fixed-length services (cv 0) both finish exactly when expected."""
    busy = [
        CounterState(name, frozenset({"pay"}), serving_since=NOW - 60, serving_business_type="pay")
        for name in ("A", "B")
    ]
    random_service = state(busy, [t(1), t(2)], policy=NO_WINDOW)
    assert forecast.forecast(random_service) == pytest.approx({1: 150.0, 2: 300.0})
    fixed = state(busy, [t(1), t(2)], policy=NO_WINDOW, service_cv={"pay": 0.0})
    assert forecast.forecast(fixed) == pytest.approx({1: 240.0, 2: 240.0})


def test_a_sampled_forecast_is_the_median_wait_and_the_same_for_the_same_state():
    """One counter, exponential services: a ticket behind one other waits the remainder of the
    service in progress plus one service, Gamma(2, 300 s): mean 600 s, median 503 s. The median
    is what an estimate judged by its absolute error should show."""
    busy = CounterState(
        "A", frozenset({"pay"}), serving_since=NOW - 60, serving_business_type="pay"
    )
    s = state([busy], [t(1)])
    assert forecast_new(s, "pay") == pytest.approx(600.0)
    sampled = forecast_new(s, "pay", replays=400)
    assert sampled == pytest.approx(503.0, rel=0.08)
    assert forecast_new(s, "pay", replays=400) == sampled
    assert forecast.forecast(s, replays=400)[1] == pytest.approx(300 * math.log(2), rel=0.12)


def test_fixed_length_services_sample_to_the_expected_wait():
    busy = CounterState(
        "A", frozenset({"pay"}), serving_since=NOW - 100, serving_business_type="pay"
    )
    s = state([busy], [t(1), t(2), t(3)], service_cv={"pay": 0.0})
    assert forecast_new(s, "pay", replays=5) == pytest.approx(200.0 + 3 * 300.0)


def test_auto_samples_a_short_queue_and_leaves_a_long_one_to_the_expected_value():
    busy = CounterState(
        "A", frozenset({"pay"}), serving_since=NOW - 60, serving_business_type="pay"
    )
    short = state([busy], [t(1)], service_cv={"pay": 0.8})
    assert forecast_new(short, "pay", replays=forecast.AUTO) == forecast_new(
        short, "pay", replays=forecast.SAMPLED_REPLAYS
    )
    assert forecast_new(short, "pay", replays=forecast.AUTO) < forecast_new(short, "pay")
    # Past the budget (a run of 60 calls: 8 of them would not fit in 300), one run does.
    long = state([busy], [t(i, ago=3600.0) for i in range(1, 60)], service_cv={"pay": 0.8})
    assert forecast_new(long, "pay", replays=forecast.AUTO) == forecast_new(long, "pay")
