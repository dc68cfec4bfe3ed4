"""Evaluating a staffing plan and searching the fewest counters (see ``queueing.planning``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

from django.utils.translation import gettext as _

from queueing.planning.plan import Plan, check_staffing, staffed_scenario
from queueing.planning.profiles import PlanningError
from queueing.simulation import Scenario, simulate

PRUNE_TOLERANCE = 0.01  # see ``suggest``, step 3


@dataclass
class HourResult:
    hour: int
    arrivals: float  # expected, from the profile
    counters: int
    mean_wait_s: float | None
    p90_wait_s: float | None
    service_level: float | None  # share of this hour's customers called within the target
    meets_target: bool | None  # None: nobody arrives this hour

    def to_dict(self) -> dict:
        return {
            "hour": self.hour,
            "arrivals": round(self.arrivals, 1),
            "counters": self.counters,
            "mean_wait_s": self.mean_wait_s,
            "p90_wait_s": self.p90_wait_s,
            "service_level": self.service_level,
            "meets_target": self.meets_target,
        }


@dataclass
class Evaluation:
    hours: list[HourResult]
    overall: dict  # the simulator's Stats for the whole day
    counters_per_hour: dict[int, int]
    target_share: float
    target_wait_s: float
    replications: int
    seed: int
    unserved: float  # customers per day never called (no counter for them before the end)

    @property
    def meets_target(self) -> bool:
        return all(h.meets_target is not False for h in self.hours) and not self.unserved

    def to_dict(self) -> dict:
        return {
            "target_share": self.target_share,
            "target_wait_s": self.target_wait_s,
            "replications": self.replications,
            "seed": self.seed,
            "meets_target": self.meets_target,
            "unserved_per_day": self.unserved,
            "overall": self.overall,
            "hours": [h.to_dict() for h in self.hours],
        }


@dataclass
class Suggestion:
    counters_per_hour: dict[int, int]
    evaluation: Evaluation  # of the suggested staffing
    unreachable: list[int]  # hours that miss the target even with every counter open
    evaluations: int  # simulations run by the search

    def to_dict(self) -> dict:
        return {
            "counters_per_hour": {str(h): n for h, n in self.counters_per_hour.items()},
            "unreachable_hours": self.unreachable,
            "evaluations": self.evaluations,
            "evaluation": self.evaluation.to_dict(),
        }


Simulate = Callable[..., object]


@dataclass(frozen=True)
class GreetingRules:
    """The day's mean wait under each greeting rule (issue 16), same customers, counters and
    random draws: the greeting binding the order (the default: any counter that may serve a
    greeted customer and calls while the greeting counter is busy takes them) and the older
    binding to the greeting counter (``greeting_binds_counter``)."""

    binds_order_mean_wait_s: float | None
    binds_counter_mean_wait_s: float | None
    hall_binds_counter: bool  # the rule the hall uses now

    @property
    def extra_share(self) -> float | None:
        """How much longer the mean wait is under the older binding, as a share (0.11: +11%)."""
        order, counter = self.binds_order_mean_wait_s, self.binds_counter_mean_wait_s
        if order is None or counter is None or order <= 0:
            return None
        return counter / order - 1


def greeting_rules(
    *, scenario: Plan, evaluation: Evaluation, simulate: Simulate = simulate
) -> GreetingRules | None:
    """Both greeting rules for the staffing ``evaluation`` was made with: the hall's own rule is
    ``evaluation`` itself, the other one is simulated with the same seed (common random numbers,
    so the difference is the rule's, not chance's). None when the hall greets nobody (window
    depth 0): the rules are then the same."""
    plan, sc = scenario, scenario.scenario
    if sc.policy.window_depth == 0:
        return None
    binds = sc.policy.greeting_binds_counter
    other = replace(sc, policy=replace(sc.policy, greeting_binds_counter=not binds))
    flipped = evaluate(
        scenario=replace(plan, scenario=other),
        counters_per_hour=evaluation.counters_per_hour,
        target_share=evaluation.target_share,
        target_wait_s=evaluation.target_wait_s,
        replications=evaluation.replications,
        seed=evaluation.seed,
        simulate=simulate,
    )
    own, theirs = evaluation.overall["mean_wait_s"], flipped.overall["mean_wait_s"]
    return GreetingRules(
        binds_order_mean_wait_s=theirs if binds else own,
        binds_counter_mean_wait_s=own if binds else theirs,
        hall_binds_counter=binds,
    )


def evaluate(
    *,
    scenario: Plan,
    counters_per_hour: Mapping[int, int],
    target_share: float = 0.8,
    target_wait_s: float | None = None,
    replications: int | None = None,
    seed: int | None = None,
    simulate: Simulate = simulate,
) -> Evaluation:
    """Expected waits and service level per hour for ``counters_per_hour`` (hour -> counters
    open; see ``opening_order`` for which). ``scenario`` is the ``Plan`` of ``scenario_for_hall``.
    The service level of an hour is the share of the customers who arrive in it (over every
    replication) called within the target wait."""
    plan = scenario
    staffing = check_staffing(plan, counters_per_hour)
    sc = _targeted(plan.scenario, target_wait_s)
    plan = replace(plan, scenario=sc)
    return _evaluate(plan, staffing, target_share, replications, seed, simulate)


def _targeted(sc: Scenario, target_wait_s: float | None) -> Scenario:
    if target_wait_s is None:
        return sc
    if not target_wait_s > 0:
        raise PlanningError(_("The target wait must be more than zero."))
    return replace(sc, target_wait_s=float(target_wait_s))


def _check_share(target_share: float) -> None:
    if not 0 < target_share <= 1:
        raise PlanningError(_("The target service level must be more than 0 and at most 1."))


def _evaluate(plan, staffing, target_share, replications, seed, simulate, *, until=None):
    _check_share(target_share)
    sc = staffed_scenario(plan, staffing, until=until)
    reps = replications or sc.replications
    result = simulate(sc, seed=sc.seed if seed is None else seed, replications=reps).to_dict()
    by_hour = {h["hour"]: h for h in result["hours"]}
    hours = []
    for hour in plan.hours:
        if until is not None and hour >= until:
            break
        row = by_hour.get(hour, {})
        level = row.get("service_level")
        hours.append(
            HourResult(
                hour=hour,
                arrivals=plan.expected_arrivals(hour),
                counters=staffing[hour],
                mean_wait_s=row.get("mean_wait_s"),
                p90_wait_s=row.get("p90_wait_s"),
                service_level=level,
                meets_target=None if level is None else level >= target_share - 1e-9,
            )
        )
    return Evaluation(
        hours=hours,
        overall=result["overall"],
        counters_per_hour=dict(staffing),
        target_share=target_share,
        target_wait_s=sc.target_wait_s,
        replications=reps,
        seed=result["seed"],
        unserved=round(result.get("unserved", 0) / reps, 2),
    )


def suggest(
    *,
    scenario: Plan,
    target_share: float = 0.8,
    target_wait_s: float | None = None,
    replications: int | None = None,
    seed: int | None = None,
    simulate: Simulate = simulate,
    progress: Callable[[int, int], None] | None = None,
) -> Suggestion:
    """The fewest counters per hour whose customers meet ``target_share`` within the target
    wait (default: the hall's), never fewer than ``Plan.min_counters`` (coverage).

    1. Hour by hour, earliest first, with the earlier hours' staffing fixed (queues carry over):
       the fewest counters for which this hour's customers meet the target, in a day that ends
       after this hour (the counters open then serve whoever waits).
    2. The whole day with that staffing: an hour that misses the target (its customers waited
       into later, thinner hours) gets one counter more, until every hour meets it.
    3. Pruning: each hour in turn with one counter fewer, kept if the whole day still meets the
       target. So one counter fewer in any hour misses the target somewhere (or breaks coverage).

    Hours where even every counter misses the target keep every counter (``unreachable``).
    ``progress(hours_done, hours)`` is called after each hour of step 1. The demo hall takes
    about 55 simulations and about six seconds (deploy/bench/results/planner.md).
    """
    plan = scenario
    _check_share(target_share)
    plan = replace(plan, scenario=_targeted(plan.scenario, target_wait_s))
    low, high = plan.min_counters, plan.max_counters
    hours = plan.hours
    runs = 0

    full = replications or plan.scenario.replications
    quick = max(1, full // 4)

    def run(staffing, until=None, reps=full):
        nonlocal runs
        runs += 1
        return _evaluate(plan, staffing, target_share, reps, seed, simulate, until=until)

    # 1. A first staffing, hour by hour, on a quarter of the replications (steps 2 and 3 decide
    # on all of them): from the previous hour's count, down while it meets, else up until it
    # does (counts change little from one hour to the next, so this takes two or three runs).
    staffing = {hour: high for hour in hours}
    previous = high
    for index, hour in enumerate(hours):
        until = min(hour + 1.0, plan.scenario.end_hour)

        def meets(n, hour=hour, until=until):
            result = run({**staffing, hour: n}, until, quick)
            return result.hours[-1].meets_target is not False

        if plan.expected_arrivals(hour) <= 0:
            n = low
        else:
            n = max(low, previous)
            if meets(n):
                while n > low and meets(n - 1):
                    n -= 1
            else:
                while n < high and not meets(n + 1):
                    n += 1
                n = min(n + 1, high)
        staffing[hour] = previous = n
        if progress is not None:
            progress(index + 1, len(hours))

    # 2. Hours whose customers miss the target in the whole day: one counter more in each (or,
    # if it has every counter, in the hour before it that has not: the queue it inherits comes
    # from there; failing that, in the next hour that has not: its customers wait into it).
    evaluation = run(staffing)
    for _round in range(2 * (high - low + 1)):
        raised = set()
        for missed in (h.hour for h in evaluation.hours if h.meets_target is False):
            if staffing[missed] < high:
                raised.add(missed)
                continue
            earlier = [h for h in hours if h < missed and staffing[h] < high and h not in raised]
            later = [h for h in hours if h > missed and staffing[h] < high and h not in raised]
            if earlier:
                raised.add(earlier[-1])
            elif later:
                raised.add(later[0])
        if not raised:
            break
        for hour in raised:
            staffing[hour] += 1
        evaluation = run(staffing)

    # 3. Pruning. Hours that miss the target with every counter keep every counter, and a
    # counter saved elsewhere may not make them worse by more than ``PRUNE_TOLERANCE``.
    base = {h.hour: h.service_level for h in evaluation.hours if h.meets_target is False}
    for hour in hours:
        while hour not in base and staffing[hour] > low:
            trial = {**staffing, hour: staffing[hour] - 1}
            result = run(trial)
            worse = result.unserved > evaluation.unserved or any(
                h.meets_target is False
                and (h.hour not in base or h.service_level < base[h.hour] - PRUNE_TOLERANCE)
                for h in result.hours
            )
            if worse:
                break
            staffing, evaluation = trial, result
    return Suggestion(
        counters_per_hour=staffing,
        evaluation=evaluation,
        unreachable=sorted({h.hour for h in evaluation.hours if h.meets_target is False}),
        evaluations=runs,
    )
