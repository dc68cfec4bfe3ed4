"""Forking a simulated day (queueing.simulation.engine._Day.fork): the oracle behind
deploy/bench/estimate_oracle.py replays a day's future from its exact state. Pure Python."""

from __future__ import annotations

import math
import random
import statistics

from queueing import forecast
from queueing.simulation import ServiceSpec, load_scenario, simulate
from queueing.simulation.engine import _residual


def hall(**overrides) -> dict:
    data = {
        "name": "two counters",
        "start_hour": 9,
        "end_hour": 11,
        "business_types": [
            {"code": "pay", "service": {"dist": "lognormal", "mean_s": 240, "cv": 0.6}},
            {"code": "svc", "service": {"dist": "exponential", "mean_s": 600}},
        ],
        "arrivals": [
            {"business_type": "pay", "per_hour": 18},
            {"business_type": "pay", "lane": "vip", "per_hour": 3},
            {"business_type": "svc", "per_hour": 6},
        ],
        "counters": [
            {"id": "1", "business_types": ["pay"]},
            {"id": "2", "business_types": "all", "vip_mode": "vip_first"},
        ],
        "no_show": {"probability": 0.1, "recall_wait_s": 90},
        "pauses": [{"counter": "1", "at_hour": 10, "minutes": 10}],
    }
    data.update(overrides)
    return load_scenario(data)


class Forker:
    """At every ``every``-th arrival, replays the new ticket's wait in forks of the day."""

    def __init__(self, seeds, every: int = 1) -> None:
        self.seeds, self.every = seeds, every
        self.arrivals = 0
        self.replayed: dict = {}  # ticket id -> [call time per seed]
        self.actual: dict = {}

    def on_day(self, day) -> None:
        self.day = day

    def on_arrival(self, ticket, state) -> None:
        self.arrivals += 1
        if self.arrivals % self.every == 0:
            self.replayed[ticket.id] = [
                self.day.fork(seed, ticket.issued_at).run_until_called(ticket.id, just_issued=True)
                for seed in self.seeds
            ]

    def on_called(self, ticket_id, now) -> None:
        self.actual[ticket_id] = now


def test_a_fork_replays_the_same_future_for_the_same_seed_and_another_for_another():
    forker = Forker(seeds=["a", "a", "b"])
    simulate(hall(), seed=5, observer=forker)
    assert len(forker.replayed) > 50
    for a, again, _ in forker.replayed.values():
        assert a == again
    assert any(a != b for a, _, b in forker.replayed.values())


def test_forking_at_every_arrival_leaves_the_day_as_it_was():
    plain = simulate(hall(), seed=5, replications=3).to_dict()
    forked = simulate(hall(), seed=5, replications=3, observer=Forker(seeds=["x"])).to_dict()
    assert forked == plain


def test_a_hall_whose_future_is_determined_is_replayed_exactly():
    # Fixed service times, one lane (nobody can overtake): the wait of a new ticket follows from
    # the state alone, so every fork must call it exactly when the day itself did, windows,
    # pauses and services in progress included.
    sc = hall(
        business_types=[{"code": "pay", "service": {"dist": "deterministic", "mean_s": 200}}],
        arrivals=[{"business_type": "pay", "per_hour": 34}],
        counters=[{"id": "1", "business_types": ["pay"]}, {"id": "2", "business_types": ["pay"]}],
        no_show={"probability": 0.0},
    )
    forker = Forker(seeds=["a", "b"])
    simulate(sc, seed=2, observer=forker)
    waited = [tid for tid, called in forker.actual.items() if called > 0]
    assert len(forker.replayed) > 40
    for tid, calls in forker.replayed.items():
        assert calls == [forker.actual[tid]] * 2, tid
    assert waited


def test_the_remaining_service_is_drawn_given_the_time_already_spent():
    rng = random.Random(3)
    lognormal = ServiceSpec("lognormal", 300.0, 0.6)
    for elapsed in (60.0, 300.0, 900.0):
        draws = [_residual(lognormal, elapsed, rng) for _ in range(40_000)]
        expected = forecast.residual_service(300.0, 0.6, elapsed)  # the closed form
        assert math.isclose(statistics.fmean(draws), expected, rel_tol=0.03)
    empirical = ServiceSpec("empirical", 300.0, samples=(100.0, 200.0, 500.0, 700.0))
    assert {_residual(empirical, 250.0, rng) for _ in range(200)} == {250.0, 450.0}
    assert _residual(ServiceSpec("deterministic", 300.0), 120.0, rng) == 180.0
