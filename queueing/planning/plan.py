"""The hall's day as a plan: a simulation scenario built from the hall's configuration and
history, the arrival profile, and the order in which counters open (see ``queueing.planning``)."""

from __future__ import annotations

import datetime
import math
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from django.db.models import Count, Min
from django.db.models.functions import ExtractHour
from django.utils import timezone
from django.utils.translation import gettext as _

from counters.models import Counter
from hall.models import BusinessType, Hall
from queueing import router
from queueing.models import Status, Ticket
from queueing.planning.profiles import (
    MAX_PER_HOUR,
    PlanningError,
    Profile,
    checked_profile,
    read_profile,
)
from queueing.selectors import hall_policy
from queueing.simulation import (
    ArrivalSpec,
    BusinessTypeSpec,
    CounterSpec,
    Scenario,
    ServiceSpec,
)

HOUR = 3600.0
WEEKS = 4
REPLICATIONS = 30
SEED = 1
MIN_SERVICE_SAMPLES = 30
MAX_SERVICE_SAMPLES = 1000
DEFAULT_SERVICE_CV = 0.6
# A new hall plans from the default day until it has this much of its own: fewer days of
# history are too few same weekdays to be a typical one.
HISTORY_NEEDED = datetime.timedelta(days=14)
DEFAULT_HOURS = (8.5, 18.0)  # a hall open all day, without history: a usual hall's day
# The demo weekday's shape (queueing/scenarios/demo_weekday.yaml): each hour's customers as a
# share of the busiest hour's. See ``_default_profile`` for the level and the business types.
DEFAULT_PROFILE = {8: 0.325, 9: 0.725, 10: 1.0, 11: 0.9, 12: 0.625, 13: 0.6875, 14: 0.95,
                   15: 0.95, 16: 0.775, 17: 0.55}  # fmt: skip
DEFAULT_PEAK_LOAD = 0.85  # the default profile's busiest hour keeps every counter 85% busy
DEFAULT_LANE_SHARE = {router.Lane.NORMAL: 0.87, router.Lane.PRIORITY: 0.08, router.Lane.VIP: 0.05}


@dataclass(frozen=True)
class Plan:
    """A hall's day to plan: the scenario (with every counter) and how counters open."""

    hall_code: str
    day: datetime.date
    scenario: Scenario
    profile: Profile
    order: tuple[str, ...]  # counter ids in opening order (see ``opening_order``)
    min_counters: int  # the first this many of ``order`` serve every business type and lane
    profile_source: str  # "history", "default" or "file"
    history_days: int  # days since the hall's first ticket (the default profile below 14)
    service_source: dict[str, str] = field(default_factory=dict)  # code -> "history"/"expected"

    @property
    def hours(self) -> list[int]:
        """The local hours of the day the plan covers (the first and last may be partial)."""
        sc = self.scenario
        return list(range(math.floor(sc.start_hour), math.ceil(sc.end_hour)))

    @property
    def max_counters(self) -> int:
        return len(self.order)

    def expected_arrivals(self, hour: int) -> float:
        """Customers expected in ``hour`` (the part of it the hall is open)."""
        sc = self.scenario
        share = max(0.0, min(hour + 1, sc.end_hour) - max(hour, sc.start_hour))
        return share * sum(rates.get(hour % 24, 0.0) for rates in self.profile.values())

    def full_staffing(self) -> dict[int, int]:
        return {hour: self.max_counters for hour in self.hours}


def scenario_for_hall(
    *,
    hall: Hall,
    day: datetime.date | None = None,
    profile: str | Path | Profile | None = None,
    weeks: int = WEEKS,
    now: datetime.datetime | None = None,
) -> Plan:
    """The hall's day ``day`` (default: its today) as a plan to evaluate.

    ``profile``: None for today's arrivals so far plus the typical weekday (or the default
    profile without history); a file path (CSV, YAML or JSON); or a ready ``Profile``.
    Queries: a fixed handful, whatever the history's size (counts are grouped in the database,
    service samples are capped).
    """
    now = now or timezone.now()
    day = day or hall.service_date(now)
    types = list(BusinessType.objects.filter(hall=hall, active=True).order_by("sort_order", "code"))
    codes = {bt.code for bt in types}
    counters = []
    for counter in Counter.objects.filter(hall=hall).prefetch_related("business_types"):
        skills = frozenset(bt.code for bt in counter.business_types.all() if bt.code in codes)
        if skills:
            counters.append(
                CounterSpec(str(counter.number), skills, router.VipMode(counter.vip_mode))
            )
    if not types or not counters:
        raise PlanningError(
            _("The hall %(hall)s has no active business type served by a counter to plan for.")
            % {"hall": hall.code}
        )

    service, service_source = _service_specs(hall=hall, types=types, weeks=weeks, now=now)
    history_days = _history_days(hall=hall, day=day)
    if profile is None:
        rates, source = {}, "default"
        if history_days >= HISTORY_NEEDED.days:
            rates, source = _history_profile(hall=hall, day=day, codes=codes, weeks=weeks, now=now)
        if not rates:
            rates = _default_profile(types=types, counters=counters, service=service)
            source = "default"
    elif isinstance(profile, str | Path):
        rates, source = read_profile(profile, codes=codes), "file"
    else:
        rates, source = checked_profile(profile, codes), "file"

    start, end = _day_hours(hall, rates)
    arrivals = tuple(
        ArrivalSpec(code, lane, profile=dict(by_hour))
        for (code, lane), by_hour in sorted(rates.items())
        if any(v > 0 for v in by_hour.values())
    )
    if not arrivals:
        raise PlanningError(_("The arrival profile has no customers."))
    # A placeholder counter set: ``with_staffing`` gives each counter its open hours.
    scenario = Scenario(
        name=f"{hall.code} {day.isoformat()}",
        business_types=tuple(BusinessTypeSpec(bt.code, service[bt.code]) for bt in types),
        counters=tuple(counters),
        arrivals=arrivals,
        policy=hall_policy(hall=hall),
        seed=SEED,
        replications=REPLICATIONS,
        start_hour=start,
        end_hour=end,
        target_wait_s=hall.target_wait_minutes * 60.0,
    )
    order, min_counters = opening_order(scenario)
    return Plan(
        hall_code=hall.code,
        day=day,
        scenario=scenario,
        profile=rates,
        order=order,
        min_counters=min_counters,
        profile_source=source,
        history_days=history_days,
        service_source=service_source,
    )


def _day_hours(hall: Hall, rates: Profile) -> tuple[float, float]:
    if not hall.open_all_day:
        start = hall.opens_at.hour + hall.opens_at.minute / 60
        end = hall.closes_at.hour + hall.closes_at.minute / 60
        return start, end if end > start else end + 24.0  # open past midnight
    # Open all day (the demo hall): the hours that have customers, else a usual hall's day.
    hours = [h for by_hour in rates.values() for h, v in by_hour.items() if v > 0]
    if not hours:
        return DEFAULT_HOURS
    return float(min(hours)), float(max(hours) + 1)


def _history_days(*, hall, day) -> int:
    """Days from the hall's first service date to ``day`` (0 without any ticket before it)."""
    first = Ticket.objects.filter(hall=hall, service_date__lt=day).aggregate(
        first=Min("service_date")
    )["first"]
    return (day - first).days if first else 0


def _history_profile(*, hall, day, codes, weeks, now) -> tuple[Profile, str]:
    """Arrivals per (business type, lane) and local hour: ``day``'s own before ``now``, then
    the mean of the same weekday over the previous ``weeks`` weeks (one grouped query)."""
    past_days = [day - datetime.timedelta(weeks=w) for w in range(1, weeks + 1)]
    rows = (
        Ticket.objects.filter(hall=hall, service_date__in=[day, *past_days])
        .annotate(hour=ExtractHour("issued_at", tzinfo=hall.tz))
        .values("service_date", "business_type__code", "lane", "hour")
        .annotate(n=Count("id"))
        .order_by()
    )
    today: Profile = defaultdict(dict)
    typical: Profile = defaultdict(lambda: defaultdict(float))
    weeks_seen = set()
    for row in rows:
        code = row["business_type__code"]
        if code not in codes:
            continue
        key = (code, row["lane"])
        if row["service_date"] == day:
            today[key][row["hour"]] = float(row["n"])
        else:
            weeks_seen.add(row["service_date"])
            typical[key][row["hour"]] += row["n"]
    if not weeks_seen and not today:
        return {}, "default"
    local_now = hall.local_now(now)
    if day < local_now.date():
        elapsed = 24.0  # a past day: everything is known
    elif day > local_now.date():
        elapsed = 0.0
    else:
        elapsed = local_now.hour + local_now.minute / 60 + local_now.second / 3600
    n_weeks = len(weeks_seen)
    profile: Profile = {}
    for key in set(today) | set(typical):
        by_hour = {}
        for hour in range(24):
            usual = typical[key].get(hour, 0.0) / n_weeks if n_weeks else 0.0
            seen = today.get(key, {}).get(hour, 0.0)
            if hour + 1 <= elapsed:
                rate = seen
            elif hour < elapsed:  # the current hour: what came so far, the usual for the rest
                rate = seen + usual * (hour + 1 - elapsed)
            else:
                rate = usual
            if rate > 0:
                by_hour[hour] = rate
        if by_hour:
            profile[key] = by_hour
    return profile, "history"


def _default_profile(*, types: list, counters: list, service: dict) -> Profile:
    """Without history: every counter shares its time equally among the business types it
    serves; a business type's customers at the busiest hour are the ones its share of the
    counters serves at ``DEFAULT_PEAK_LOAD``; other hours follow ``DEFAULT_PROFILE``."""
    capacity: dict = defaultdict(float)  # business type -> counters' worth of time
    for counter in counters:
        for code in counter.business_types:
            capacity[code] += 1 / len(counter.business_types)
    profile: Profile = {}
    for bt in types:
        peak = DEFAULT_PEAK_LOAD * capacity[bt.code] * HOUR / service[bt.code].mean_s
        for lane, lane_share in DEFAULT_LANE_SHARE.items():
            profile[(bt.code, str(lane))] = {
                hour: peak * shape * lane_share for hour, shape in DEFAULT_PROFILE.items()
            }
    return profile


def _service_specs(*, hall, types, weeks, now) -> tuple[dict, dict]:
    """Each business type's service time: its own history when there is enough, else its
    expected minutes (lognormal). One query, capped at ``MAX_SERVICE_SAMPLES`` per type."""
    since = now - datetime.timedelta(weeks=weeks)
    samples: dict[str, list[float]] = defaultdict(list)
    rows = (
        Ticket.objects.filter(
            hall=hall,
            status=Status.DONE,
            finished_at__gte=since,
            finished_at__lte=now,
            called_at__isnull=False,
        )
        .order_by("-finished_at")
        .values_list("business_type__code", "called_at", "finished_at")[
            : MAX_SERVICE_SAMPLES * len(types)
        ]
    )
    for code, called, finished in rows:
        seconds = (finished - called).total_seconds()
        if seconds > 0 and len(samples[code]) < MAX_SERVICE_SAMPLES:
            samples[code].append(seconds)
    specs, sources = {}, {}
    for bt in types:
        own = samples.get(bt.code, [])
        if len(own) >= MIN_SERVICE_SAMPLES:
            specs[bt.code] = ServiceSpec(
                "empirical", sum(own) / len(own), samples=tuple(sorted(own))
            )
            sources[bt.code] = "history"
        else:
            specs[bt.code] = ServiceSpec(
                "lognormal", bt.expected_service_minutes * 60.0, cv=DEFAULT_SERVICE_CV
            )
            sources[bt.code] = "expected"
    return specs, sources


def scale_profile(plan: Plan, arrivals_per_hour: Mapping[int, float]) -> Plan:
    """The plan with the hall's customers in each given hour set to ``arrivals_per_hour[hour]``
    (whole-hour rates): the business types and lanes keep their mix of that hour, or the day's
    mix for an hour that had nobody. For the page's "what if more customers come at ten"."""
    day_mix: dict = defaultdict(float)
    for key, by_hour in plan.profile.items():
        day_mix[key] += sum(by_hour.values())
    day_total = sum(day_mix.values())
    profile: Profile = {key: dict(by_hour) for key, by_hour in plan.profile.items()}
    for hour, wanted in arrivals_per_hour.items():
        if not 0 <= wanted <= MAX_PER_HOUR:
            raise PlanningError(
                _("Customers per hour must be from 0 to %(max)s.") % {"max": f"{MAX_PER_HOUR:g}"}
            )
        now_total = sum(by_hour.get(hour, 0.0) for by_hour in profile.values())
        if now_total > 0:
            mix = {key: by_hour.get(hour, 0.0) / now_total for key, by_hour in profile.items()}
        elif day_total > 0:
            mix = {key: total / day_total for key, total in day_mix.items()}
        else:
            mix = {}
        for key, share in mix.items():
            profile.setdefault(key, {})[hour] = wanted * share
    arrivals = tuple(
        ArrivalSpec(code, lane, profile=dict(by_hour))
        for (code, lane), by_hour in sorted(profile.items())
        if any(v > 0 for v in by_hour.values())
    )
    if not arrivals:
        raise PlanningError(_("The arrival profile has no customers."))
    scenario = replace(plan.scenario, arrivals=arrivals)
    order, min_counters = opening_order(scenario)
    return replace(plan, scenario=scenario, profile=profile, order=order, min_counters=min_counters)


# ---------------------------------------------------------------------------------------------
# Which counters open.


def _keys_taken(counter: CounterSpec, keys) -> set:
    return {
        (code, lane)
        for code, lane in keys
        if code in counter.business_types
        and (counter.vip_mode != router.VipMode.VIP_ONLY or lane == router.Lane.VIP)
    }


def opening_order(scenario: Scenario) -> tuple[tuple[str, ...], int]:
    """The counters in the order they open, and how many of the first serve every business type
    and lane with arrivals (see the module's docstring for the rule)."""
    mean = {bt.code: bt.service.mean_s for bt in scenario.business_types}
    load: dict = defaultdict(float)
    for spec in scenario.arrivals:
        load[(spec.business_type, spec.lane)] += (
            sum(spec.rate_at_hour(h) for h in range(24)) * mean[spec.business_type]
        )
    load = {key: value for key, value in load.items() if value > 0}
    takes = {c.id: _keys_taken(c, load) for c in scenario.counters}
    rank = {c.id: _number_key(c.id) for c in scenario.counters}
    left = [c.id for c in scenario.counters]
    order: list[str] = []
    uncovered = set(load)
    while uncovered and left:
        best = max(left, key=lambda cid: (
            _score(load[k] for k in takes[cid] & uncovered), len(takes[cid] & uncovered),
            _negated(rank[cid])))  # fmt: skip
        if not takes[best] & uncovered:
            break  # nobody left serves the rest: the scenario cannot serve them at all
        order.append(best)
        left.remove(best)
        uncovered -= takes[best]
    min_counters = max(len(order), 1)
    open_for: dict = defaultdict(int)
    for cid in order:
        for key in takes[cid]:
            open_for[key] += 1
    while left:
        best = max(left, key=lambda cid: (
            _score(load[k] / (1 + open_for[k]) for k in takes[cid]),
            _negated(rank[cid])))  # fmt: skip
        order.append(best)
        left.remove(best)
        for key in takes[best]:
            open_for[key] += 1
    return tuple(order), min_counters


def _score(terms) -> float:
    """A sum that does not depend on the order of ``terms`` (sets iterate in an order that
    changes from process to process), to 9 significant digits so that equal loads tie and the
    counter number decides."""
    return float(f"{math.fsum(terms):.9g}")


def _number_key(counter_id: str) -> tuple:
    return (0, int(counter_id), "") if counter_id.isdigit() else (1, 0, counter_id)


def _negated(key: tuple) -> tuple:
    # max() with the lowest counter number winning ties.
    return (-key[0], -key[1], tuple(-ord(ch) for ch in key[2]))


def staffed_scenario(
    plan: Plan, counters_per_hour: Mapping[int, int], *, until: float | None = None
) -> Scenario:
    """The plan's scenario with the first ``counters_per_hour[h]`` counters of the opening order
    open in hour ``h``. ``until`` ends the day early (arrivals stop; the counters open then serve
    whoever waits): the search's view of one hour's customers."""
    sc = plan.scenario
    end = sc.end_hour if until is None else min(until, sc.end_hour)
    hours = [h for h in plan.hours if h < end]
    by_id = {c.id: c for c in sc.counters}
    counters = []
    for index, cid in enumerate(plan.order):
        spans: list[list[float]] = []
        for hour in hours:
            if counters_per_hour.get(hour, 0) > index:
                a, b = max(float(hour), sc.start_hour), min(hour + 1.0, end)
                if spans and spans[-1][1] == a:
                    spans[-1][1] = b
                else:
                    spans.append([a, b])
        if spans:
            counters.append(replace(by_id[cid], open_hours=tuple((a, b) for a, b in spans)))
    return replace(sc, counters=tuple(counters), end_hour=end)


def check_staffing(plan: Plan, counters_per_hour: Mapping[int, int]) -> dict[int, int]:
    """Every hour of the plan with a whole number of counters from 0 to the hall's counters
    (hours not given: every counter)."""
    unknown = set(counters_per_hour) - set(plan.hours)
    if unknown:
        raise PlanningError(
            _("Hour %(hour)s is outside the planned day (%(first)s:00 to %(last)s:00).")
            % {"hour": min(unknown), "first": plan.hours[0], "last": plan.hours[-1] + 1}
        )
    staffing = {}
    for hour in plan.hours:
        n = counters_per_hour.get(hour, plan.max_counters)
        if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n <= plan.max_counters:
            raise PlanningError(
                _("Counters at %(hour)s:00 must be a whole number from 0 to %(max)s.")
                % {"hour": hour, "max": plan.max_counters}
            )
        staffing[hour] = n
    return staffing


def parse_counters(text: str) -> dict[int, int]:
    """``"8:3,10:5,16:3"``: 3 counters from 8:00, 5 from 10:00, 3 from 16:00 (each until the
    next given hour). Hours before the first given one keep every counter (``expand_counters``)."""
    given = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        hour, sep, n = part.partition(":")
        try:
            if not sep:
                raise ValueError
            given[int(hour)] = int(n)
        except ValueError:
            raise PlanningError(
                _("Counters must look like 8:3,10:5 (hour:counters), not %(part)s.")
                % {"part": repr(part)}
            ) from None
    if not given:
        raise PlanningError(_("Counters must look like 8:3,10:5 (hour:counters)."))
    return given


def expand_counters(plan: Plan, given: Mapping[int, int]) -> dict[int, int]:
    """Hour-from-then-on counts (``parse_counters``) as a count for every hour of the plan."""
    outside = [h for h in given if not 0 <= h <= 23]
    if outside:
        raise PlanningError(_("Hours must be from 0 to 23, not %(hour)s.") % {"hour": outside[0]})
    staffing, current = {}, plan.max_counters
    for hour in plan.hours:
        for h in sorted(given):
            if h <= hour:
                current = given[h]
        staffing[hour] = current
    return staffing
