"""Estimated wait from the hall's current state: the plain data both the live system and the
simulator can build, and (issue 5) the forecast that runs the real router forward on it.

``HallState`` is what a forecast needs to know about a hall at one instant: every waiting ticket
as the router sees it (with its window slot), each counter's skills, whether it is open, paused
or closed and whom it is serving since when, the routing policy, the observed mean service time
per business type, and the arrival rate per business type and lane (lanes that may overtake).
The live system builds it from the database (``queueing.selectors``); the simulator from its own
state, so that the accuracy of the forecast can be measured in simulation.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field

from queueing import router


@dataclass(frozen=True, slots=True)
class CounterState:
    id: Hashable
    business_types: frozenset
    vip_mode: str = router.VipMode.NONE
    state: str = "open"  # "open", "paused" or "closed" (as counters.models.CounterState)
    serving_since: float | None = None  # when its current customer was called; None: idle
    serving_business_type: Hashable | None = None


@dataclass(frozen=True, slots=True)
class HallState:
    now: float  # seconds, on the same clock as the tickets' issued_at
    policy: router.Policy
    counters: tuple[CounterState, ...]
    waiting: tuple[router.Ticket, ...]  # in issue order (issued_at, then id), with their slots
    service_mean: Mapping[Hashable, float]  # seconds per business type, observed
    arrival_rate: Mapping[tuple[Hashable, str], float] = field(default_factory=dict)  # per s
