"""The simulator (queueing.simulation): the rules on the real router, kept as the live system
keeps them, the outputs, the example scenarios and the ``simulate`` command.

Pure Python except the command tests (no database either way).
"""

from __future__ import annotations

import json
from collections import Counter as Tally
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from queueing import router
from queueing.simulation import ScenarioError, load_scenario, simulate

SCENARIOS = Path(__file__).resolve().parents[2] / "queueing" / "scenarios"
STATS = {"count", "mean_wait_s", "p50_wait_s", "p90_wait_s", "p99_wait_s", "max_wait_s",
         "service_level"}  # fmt: skip


def hall(**overrides) -> dict:
    """A small two-type hall as a scenario dict."""
    data = {
        "name": "small",
        "start_hour": 9,
        "end_hour": 11,
        "business_types": [
            {"code": "pay", "service": {"dist": "exponential", "mean_s": 240}},
            {"code": "svc", "service": {"dist": "lognormal", "mean_s": 600, "cv": 0.7}},
        ],
        "arrivals": [
            {"business_type": "pay", "per_hour": 20},
            {"business_type": "pay", "lane": "vip", "per_hour": 3},
            {"business_type": "svc", "profile": {9: 6, 10: 10}},
            {"business_type": "svc", "lane": "priority", "per_hour": 2},
        ],
        "counters": [
            {"id": "1", "business_types": ["pay"]},
            {"id": "2", "business_types": ["pay", "svc"]},
            {"id": "3", "business_types": "all", "vip_mode": "vip_first"},
        ],
    }
    data.update(overrides)
    return data


# ---------------------------------------------------------------------------------------------
# Random halls for the properties.

lanes = st.sampled_from(list(router.Lane))
types = ("a", "b", "c")


@st.composite
def random_halls(draw) -> dict:
    arrivals = [
        {"business_type": draw(st.sampled_from(types)), "lane": draw(lanes),
         "per_hour": draw(st.floats(1, 25))}
        for _ in range(draw(st.integers(1, 5)))
    ]  # fmt: skip
    counters = []
    for i in range(draw(st.integers(1, 4))):
        hours = draw(st.sampled_from([[], [[9, 9.75], [10.25, 11]], [[9.5, 11]], [[9, 10]]]))
        counters.append({
            "id": f"c{i}",
            "business_types": draw(st.lists(st.sampled_from(types), min_size=1, unique=True)),
            "vip_mode": draw(st.sampled_from(list(router.VipMode))),
            "open_hours": hours,
        })  # fmt: skip
    pauses = [
        {"counter": draw(st.sampled_from([c["id"] for c in counters])),
         "at_hour": draw(st.floats(9, 11)), "minutes": draw(st.floats(1, 30))}
        for _ in range(draw(st.integers(0, 3)))
    ]  # fmt: skip
    weights = draw(st.sampled_from([{"vip": 4, "priority": 2, "normal": 1},
                                    {"vip": 1, "priority": 1, "normal": 1},
                                    {"vip": "strict", "priority": 3, "normal": 1}]))  # fmt: skip
    return {
        "name": "random",
        "start_hour": 9,
        "end_hour": 11,
        "policy": {
            "weights": weights,
            "window_depth": draw(st.integers(0, 2)),
            "max_wait_minutes": draw(st.sampled_from([None, 5, 30])),
        },
        "business_types": [
            {"code": "a", "service": {"dist": "exponential", "mean_s": draw(st.floats(60, 600))}},
            {"code": "b", "service": {"dist": "deterministic", "mean_s": 180}},
            {"code": "c", "service": {"dist": "empirical", "samples": [60, 300, 900]}},
        ],
        "arrivals": arrivals,
        "counters": counters,
        "pauses": pauses,
        "no_show": {"probability": draw(st.sampled_from([0.0, 0.2])), "recall_wait_s": 60},
    }


class Watcher:
    """An observer that checks what a customer and a clerk could see go wrong."""

    def __init__(self) -> None:
        self.called: Tally = Tally()
        self.issued: dict = {}
        self.arrivals = 0

    def on_arrival(self, ticket, state) -> None:
        self.arrivals += 1
        assert state.now == ticket.issued_at
        assert state.waiting[-1] == ticket  # it has joined, last in issue order
        keys = [(t.issued_at, t.id) for t in state.waiting]
        assert keys == sorted(keys)
        self.issued[ticket.id] = ticket.issued_at
        slots = Tally((t.slot_counter, t.slot) for t in state.waiting if t.slot is not None)
        assert all(n == 1 for n in slots.values()), "one ticket per slot"
        open_counters = {c.id for c in state.counters if c.state == "open"}
        assert {counter for counter, _ in slots} <= open_counters, "paused/closed hold no window"

    def on_called(self, ticket_id, now) -> None:
        self.called[ticket_id] += 1
        assert now >= self.issued[ticket_id]

    def on_decision(self, counter_id, decision, now) -> None:
        called = decision.called
        if called.slot == router.Slot.GREETED and called.slot_counter != counter_id:
            # Issue 16: a promise may be called elsewhere (while its counter is busy: the
            # engine's audit checks the windows), and that counter then greets its attended
            # customer if it is still its own.
            assert all(t.slot_counter == called.slot_counter for t in decision.promoted)
        else:
            assert decision.promoted == ()


property_settings = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@property_settings
@given(random_halls(), st.integers(0, 2**16))
def test_no_ticket_is_called_twice_and_promises_and_slots_hold(data, seed):
    watcher = Watcher()
    result = simulate(load_scenario(data), seed=seed, observer=watcher, audit=True)
    assert set(watcher.called.values()) <= {1}
    assert result.customers == watcher.arrivals
    assert result.customers == sum(watcher.called.values()) + result.unserved


@property_settings
@given(random_halls(), st.integers(0, 2**16))
def test_the_live_candidates_give_the_decisions_of_the_whole_pool(data, seed):
    scenario = load_scenario(data)
    assert (
        simulate(scenario, seed=seed).to_dict()
        == simulate(scenario, seed=seed, full_pool=True).to_dict()
    )


@property_settings
@given(random_halls(), st.integers(0, 2**16))
def test_a_seed_gives_the_same_day(data, seed):
    scenario = load_scenario(data)
    assert simulate(scenario, seed=seed).to_dict() == simulate(scenario, seed=seed).to_dict()


def test_other_seeds_and_replications_differ():
    scenario = load_scenario(hall())
    one = simulate(scenario, seed=1).to_dict()
    assert simulate(scenario, seed=2).to_dict()["overall"] != one["overall"]
    two = simulate(scenario, seed=1, replications=2).to_dict()
    assert two["replications"] == 2
    assert two["customers"] > one["customers"]


# ---------------------------------------------------------------------------------------------
# The rules by example: a replayed log and deterministic service make every step known.


def replayed(**overrides) -> dict:
    data = {
        "name": "replayed",
        "start_hour": 9,
        "end_hour": 12,
        "business_types": [{"code": "x", "service": {"dist": "deterministic", "mean_s": 3600}}],
        "replay": [["09:00:00", "x"], ["09:00:01", "x"], ["09:00:02", "x"]],
        "counters": [
            {"id": "A", "business_types": ["x"], "open_hours": [[9.01, 12]]},
            {"id": "B", "business_types": ["x"], "open_hours": [[9.1, 12]]},
            {"id": "C", "business_types": ["x"], "open_hours": [[9.5, 12]]},
        ],
    }
    data.update(overrides)
    return data


class Calls:
    def __init__(self) -> None:
        self.log = []

    def on_arrival(self, ticket, state) -> None:
        pass

    def on_called(self, ticket_id, now) -> None:
        pass

    def on_decision(self, counter_id, decision, now) -> None:
        window = decision.window
        self.log.append((counter_id, *(t.id if t else None for t in window), round(now)))


BINDING = {"greeting_binds_counter": True}


def test_greeted_is_a_promise_of_order_and_attended_may_be_taken():
    calls = Calls()
    simulate(load_scenario(replayed()), observer=calls)
    # A opens, calls 1, greets 2, attends 3. B opens while A is busy: it calls A's greeted 2
    # (the greeting binds the order, not the counter) and greets 3, taken from A's window;
    # C opens while B is busy and calls B's greeted 3. Nobody waits for a busy counter.
    assert calls.log == [
        ("A", 1, 2, 3, 32436),
        ("B", 2, 3, None, 32760),
        ("C", 3, None, None, 34200),
    ]


def test_under_the_binding_greeted_waits_for_its_counter_and_attended_may_be_taken():
    calls = Calls()
    simulate(load_scenario(replayed(policy=BINDING)), observer=calls)
    # A opens, calls 1, greets 2, attends 3; B takes the attended 3 but not the greeted 2;
    # C, idle, may not take 2 either: A calls it when it is done with 1.
    assert calls.log == [
        ("A", 1, 2, 3, 32436),
        ("B", 3, None, None, 32760),
        ("A", 2, None, None, 32436 + 3600),
    ]


def test_a_pause_releases_the_window_to_the_pool_with_its_issue_time():
    calls = Calls()
    data = replayed(policy=BINDING, pauses=[{"counter": "A", "at_hour": 9.25, "minutes": 5}])
    result = simulate(load_scenario(data), observer=calls)
    # A pauses while serving 1: its greeted 2 goes back to the pool; C, when it opens, calls it.
    assert calls.log == [
        ("A", 1, 2, 3, 32436),
        ("B", 3, None, None, 32760),
        ("C", 2, None, None, 34200),
    ]
    assert result.business_types["x"]["max_wait_s"] == 34200 - 32401


def test_a_counter_closing_releases_its_window_and_finishes_its_customer():
    calls = Calls()
    data = replayed(policy=BINDING)
    data["counters"][0]["open_hours"] = [[9.01, 9.2]]
    result = simulate(load_scenario(data), observer=calls)
    assert ("C", 2, None, None, 34200) in calls.log
    assert result.counters["A"]["served"] == 1
    assert result.counters["A"]["utilisation"] == 1.0  # open until its customer was done


def test_utilisation_and_hours_of_one_counter():
    data = replayed(
        end_hour=10,
        replay=[["09:00", "x"], ["09:40", "x"], ["09:50", "x"]],
        business_types=[{"code": "x", "service": {"dist": "deterministic", "mean_s": 900}}],
        counters=[{"id": "A", "business_types": ["x"]}],
    )
    result = simulate(load_scenario(data)).to_dict()
    # Open 9:00 to 10:00 and then until the last customer is done at 10:10; busy 45 min.
    assert result["counters"]["A"] == {"utilisation": round(45 / 70, 4), "served": 3}
    assert result["overall"]["max_wait_s"] == 300  # the 9:50 customer, called at 9:55
    assert result["overall"]["service_level"] == 1.0
    hours = {h["hour"]: h for h in result["hours"]}
    assert (hours[9]["arrivals"], hours[9]["served"], hours[9]["counters_open"]) == (3, 2, 1.0)
    assert (hours[10]["arrivals"], hours[10]["served"]) == (0, 1)
    assert hours[10]["counters_open"] == round(10 / 60, 3)


def test_no_shows_free_the_counter_after_the_recall_wait():
    data = replayed(no_show={"probability": 1.0, "recall_wait_s": 60})
    result = simulate(load_scenario(data))
    assert result.no_shows == 3 and result.unserved == 0
    assert all(c["served"] == 0 for c in result.counters.values())


def test_customers_of_a_business_type_no_open_counter_serves_are_unserved():
    data = replayed(counters=[{"id": "A", "business_types": ["x"], "open_hours": [[10, 10.5]]}],
                    replay=[["09:00", "x"], ["11:00", "x"]])  # fmt: skip
    result = simulate(load_scenario(data))
    assert (result.customers, result.unserved) == (2, 1)


def test_the_vip_first_counter_and_the_strict_lane():
    data = hall(policy={"weights": {"vip": "strict", "priority": 2, "normal": 1}})
    result = simulate(load_scenario(data), seed=3, replications=5).to_dict()
    assert result["lanes"]["vip"]["mean_wait_s"] < result["lanes"]["normal"]["mean_wait_s"]


def test_empirical_service_draws_only_the_samples():
    data = replayed(
        business_types=[{"code": "x", "service": {"dist": "empirical", "samples": [600, 1200]}}],
        replay=[[32400 + 5 * i, "x"] for i in range(40)],
        counters=[{"id": "A", "business_types": ["x"]}],
    )
    result = simulate(load_scenario(data)).to_dict()
    waits_gaps = result["overall"]
    assert waits_gaps["count"] == 40
    # One counter: the last customer waits the sum of 39 draws of 600 or 1200 s, minus 195 s.
    assert (waits_gaps["max_wait_s"] + 195) % 600 == 0


# ---------------------------------------------------------------------------------------------
# Output, scenarios and the command.


def test_to_dict_has_the_shape_the_planner_and_forecast_use():
    result = simulate(load_scenario(hall()), replications=2).to_dict()
    assert json.loads(json.dumps(result)) == result
    assert {"scenario", "seed", "replications", "customers", "lanes", "business_types",
            "counters", "hours", "overall"} <= set(result)  # fmt: skip
    assert set(result["overall"]) == STATS
    assert set(result["lanes"]) <= {"vip", "priority", "normal"}
    assert all(set(s) == STATS for s in result["business_types"].values())
    assert set(result["counters"]) == {"1", "2", "3"}
    assert {"hour", "arrivals", "served", "mean_wait_s", "p90_wait_s", "service_level",
            "counters_open"} == set(result["hours"][0])  # fmt: skip
    assert sum(h["arrivals"] for h in result["hours"]) == result["customers"]
    assert "overall" in simulate(load_scenario(hall())).table()


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.yaml")), ids=lambda p: p.stem)
def test_the_example_scenarios_load_and_run(path):
    scenario = load_scenario(path)
    result = simulate(scenario, replications=1)
    assert result.customers > 0 and result.overall["count"] > 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"business_types": [{"code": "pay", "service": {"dist": "gamma", "mean_s": 1}}]},
         "business_types[0].service.dist"),
        ({"arrivals": [{"business_type": "nope", "per_hour": 3}]}, "arrivals[0].business_type"),
        ({"arrivals": [{"business_type": "pay"}]}, "arrivals[0]"),
        ({"counters": [{"id": "1", "business_types": ["pay"], "open_hours": [[10, 9]]}]},
         "counters[0].open_hours[0]"),
        ({"policy": {"window_depth": 3}}, "policy.window_depth"),
        ({"pauses": [{"counter": "9", "at_hour": 10, "minutes": 5}]}, "pauses[0].counter"),
        ({"end_hour": 8}, "end_hour"),
        ({"speed": 3}, "speed"),
    ],
)  # fmt: skip
def test_a_bad_scenario_names_its_field(change, field):
    with pytest.raises(ScenarioError) as caught:
        load_scenario(hall(**change))
    assert caught.value.field == field


def test_the_command_prints_a_table_and_json(capsys):
    path = SCENARIOS / "demo_weekday.yaml"
    call_command("simulate", scenario=str(path), replications=1)
    assert "counter" in capsys.readouterr().out
    call_command(
        "simulate", "--scenario", str(path), "--json", "--seed", "5", "--customers", "1500"
    )
    data = json.loads(capsys.readouterr().out)
    assert data["seed"] == 5 and data["replications"] == 3  # about 586 customers a day


def test_the_command_refuses_a_bad_file_without_a_traceback(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nbusiness_types: [{code: a, service: {dist: gamma}}]\n")
    with pytest.raises(CommandError, match=r"business_types\[0\]\.service\.dist"):
        call_command("simulate", scenario=str(bad))
    bad.write_text("name: [unclosed\n")
    with pytest.raises(CommandError, match="YAML"):
        call_command("simulate", scenario=str(bad))
    with pytest.raises(CommandError):
        call_command("simulate", scenario=str(tmp_path / "missing.yaml"))
