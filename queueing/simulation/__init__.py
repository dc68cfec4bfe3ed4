"""The hall simulator (issue 5): a discrete-event simulation on the real router.

    from queueing.simulation import Scenario, load_scenario, simulate, SimResult

Layout: ``scenario`` (the dataclasses and ``load_scenario``), ``engine`` (``simulate``),
``results`` (``SimResult`` and the statistics), ``theory`` (Erlang C, to check the engine).
"""

from queueing.simulation.engine import simulate
from queueing.simulation.results import SimResult
from queueing.simulation.scenario import (
    ArrivalSpec,
    BusinessTypeSpec,
    CounterSpec,
    NoShowSpec,
    PauseSpec,
    Scenario,
    ScenarioError,
    ServiceSpec,
    load_scenario,
)

__all__ = [
    "ArrivalSpec",
    "BusinessTypeSpec",
    "CounterSpec",
    "NoShowSpec",
    "PauseSpec",
    "Scenario",
    "ScenarioError",
    "ServiceSpec",
    "SimResult",
    "load_scenario",
    "simulate",
]
