"""The what-if staffing planner (issue 5): expected waits per hour for a staffing plan, and the
fewest counters per hour that meet the hall's service level, by simulating the hall's own day
on the real router (``queueing.simulation``).

Three steps:

* ``scenario_for_hall`` builds a simulation ``Scenario`` from the hall's configuration: its active
  business types, the counters that serve them (skills and VIP behaviour), the routing policy
  (``queueing.selectors.hall_policy``), the opening hours and the target wait. Arrivals per business
  type and lane by hour come from a profile (below); service times from the hall's history.
* ``evaluate`` simulates a staffing plan (counters open per hour) and reports the expected
  arrivals, mean and p90 wait and service level per hour.
* ``suggest`` searches the fewest counters per hour that meet the target service level.

**The arrival profile** (customers per hour by business type and lane):

* today's arrivals so far (hours of the planned day that are over: what really arrived; the
  current hour: what arrived so far plus the typical rate for the rest of it), plus
* a typical weekday: the mean of the same weekday over the last ``weeks`` weeks of tickets
  (weeks where the hall issued nothing that day, a holiday, are left out of the mean), or,
  without any history, ``DEFAULT_PROFILE``: the demo weekday's shape, at the level where the
  busiest hour keeps the hall's counters ``DEFAULT_PEAK_LOAD`` (85%) busy, each business type
  getting the customers its share of the counters can serve (``_default_profile``), and the
  lanes ``DEFAULT_LANE_SHARE`` (5% VIP, 8% priority);
* or a file (``read_profile``): CSV with the header ``hour,business_type,lane,per_hour``, or a
  YAML/JSON list of mappings with those keys (``lane`` defaults to ``normal``).

**Service times**: when the hall served at least ``MIN_SERVICE_SAMPLES`` customers of a business
type in the last ``weeks`` weeks, their own times (called to finished: the time the counter is
taken, walk to the counter included) drawn with replacement (``empirical``, the most recent
``MAX_SERVICE_SAMPLES``); otherwise the business type's expected minutes, lognormal with
``DEFAULT_SERVICE_CV`` = 0.6 (counter work is less variable than exponential; the demo scenario's
figure).

**Which counters open when fewer than all** (``opening_order``): a fixed order per plan. First,
as a set cover, the counter that takes the most not-yet-served offered load (customers per day x
mean service, per business type and lane it may take), until every business type and lane with
arrivals is served by someone; then the counter that adds the most capacity where it is scarcest
(its business types' load divided by one plus the counters already open for them). Ties by
counter number. N counters in an hour are the first N of this order, so every business type stays
served as long as an hour has at least ``Plan.min_counters``; the search never goes below that.

**Replications** (``REPLICATIONS`` = 30 service days per evaluation, with common random numbers:
the same seed gives every plan the same arrivals and the same service draws): the service level
of one hour in one simulated day of the demo hall varies between days with a standard deviation
of up to 0.27 at its busy hours, so the mean of 30 days has a standard error of at most about
0.05, while one counter fewer in an hour lowers that hour's level by 0.11 to 0.45; and 30 days
keep one evaluation of the demo hall near a quarter of a second and the whole search near six
seconds (deploy/bench/results/planner.md).

Layout: ``plan`` (``Plan``, ``scenario_for_hall``: the hall's day as a scenario, its profiles,
service times and opening order), ``profiles`` (profile files and ``PlanningError``), ``search``
(``evaluate``, ``suggest`` and their results).
"""

from queueing.planning.plan import (
    MIN_SERVICE_SAMPLES,
    REPLICATIONS,
    SEED,
    WEEKS,
    Plan,
    check_staffing,
    expand_counters,
    opening_order,
    parse_counters,
    scale_profile,
    scenario_for_hall,
    staffed_scenario,
)
from queueing.planning.profiles import PlanningError, Profile, read_profile
from queueing.planning.search import (
    Evaluation,
    GreetingRules,
    HourResult,
    Suggestion,
    evaluate,
    greeting_rules,
    suggest,
)

__all__ = [
    "MIN_SERVICE_SAMPLES",
    "REPLICATIONS",
    "SEED",
    "WEEKS",
    "Evaluation",
    "GreetingRules",
    "HourResult",
    "Plan",
    "PlanningError",
    "Profile",
    "Suggestion",
    "check_staffing",
    "evaluate",
    "expand_counters",
    "greeting_rules",
    "opening_order",
    "parse_counters",
    "read_profile",
    "scale_profile",
    "scenario_for_hall",
    "staffed_scenario",
    "suggest",
]
