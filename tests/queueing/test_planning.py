"""The what-if staffing planner (queueing.planning) on hand-built halls and the real simulator.

Hall h1 (conftest): counter 1 serves payment+topup, counter 2 payment+service, counter 3 is
VIP-first and serves everything, counter 4 serves service only. Open all day.
"""

import datetime
import io
import json
import re

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone, translation

from counters.models import Counter
from hall.models import BusinessType
from hall.services import hall_create
from queueing import planning, router
from queueing.models import Status, Ticket
from queueing.simulation import ArrivalSpec, BusinessTypeSpec, CounterSpec, Scenario, ServiceSpec
from tests.factories import issue

REPS = 8  # simulated days per evaluation in these tests: enough for the claims, and quick
DAY = datetime.date(2026, 3, 4)  # a Wednesday


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def one_type_hall(code="p1", counters=4):
    """One business type (payment, 5 min) served by every one of ``counters`` counters, open
    9:00 to 13:00."""
    hall = hall_create(
        code=code, name="单业务厅", opens_at=datetime.time(9), closes_at=datetime.time(13)
    )
    payment = BusinessType.objects.create(
        hall=hall, code="payment", prefix="A", name_zh="缴费", name_en="Bill payment",
        expected_service_minutes=5,
    )  # fmt: skip
    for number in range(1, counters + 1):
        Counter.objects.create(hall=hall, number=number).business_types.set([payment])
    return hall


def flat_profile(per_hour, hours=range(9, 13), code="payment", lane="normal"):
    return {(code, lane): {h: float(per_hour) for h in hours}}


# --- more counters, better service ---------------------------------------------------------


@pytest.mark.django_db
def test_more_counters_never_lower_the_service_level_with_common_random_numbers():
    hall = one_type_hall()
    plan = planning.scenario_for_hall(hall=hall, day=DAY, profile=flat_profile(40))
    levels, means = [], []
    for n in range(1, 5):
        result = planning.evaluate(
            scenario=plan, counters_per_hour={h: n for h in plan.hours}, replications=REPS
        )
        levels.append(result.overall["service_level"])
        means.append(result.overall["mean_wait_s"])
        assert [h.counters for h in result.hours] == [n] * 4
    # 40 an hour at 5 minutes is 3.3 counters' work: one counter drowns, four keep up.
    assert levels == sorted(levels) and levels[0] < 0.3 < 0.8 < levels[-1]
    assert means == sorted(means, reverse=True)


@pytest.mark.django_db
def test_an_evaluation_reports_each_hour_with_its_arrivals_and_counters():
    hall = one_type_hall()
    plan = planning.scenario_for_hall(hall=hall, day=DAY, profile=flat_profile(30))
    assert plan.hours == [9, 10, 11, 12] and plan.profile_source == "file"
    result = planning.evaluate(
        scenario=plan, counters_per_hour={9: 1, 10: 4, 11: 4, 12: 4}, replications=REPS
    )
    first, second = result.hours[0], result.hours[1]
    assert first.arrivals == pytest.approx(30) and first.counters == 1
    # One counter for 30 an hour at 5 minutes falls behind; four catch up by the next hour.
    assert first.meets_target is False and first.mean_wait_s > 600
    assert second.mean_wait_s < first.mean_wait_s
    assert result.replications == REPS and result.target_wait_s == 15 * 60
    data = result.to_dict()
    assert json.loads(json.dumps(data)) == data and len(data["hours"]) == 4


# --- the suggestion ------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_suggestion_meets_the_target_and_one_counter_fewer_in_any_hour_does_not(hall):
    plan = planning.scenario_for_hall(hall=hall, day=DAY)
    assert plan.profile_source == "default"  # h1 has no history
    suggestion = planning.suggest(scenario=plan, replications=REPS)
    staffing = suggestion.counters_per_hour
    assert suggestion.evaluation.meets_target and not suggestion.unreachable
    assert min(staffing.values()) < plan.max_counters  # it does save counters somewhere
    assert max(staffing.values()) > plan.min_counters  # and needs more than the fewest somewhere
    for hour, n in staffing.items():
        if n == plan.min_counters:
            # One fewer would leave a business type or lane without a counter.
            assert not _covers(plan, plan.order[: n - 1])
            continue
        fewer = planning.evaluate(
            scenario=plan, counters_per_hour={**staffing, hour: n - 1}, replications=REPS
        )
        assert not fewer.meets_target, f"{hour}:00 with {n - 1} counters still meets the target"


def _covers(plan, counter_ids) -> bool:
    keys = {(a.business_type, a.lane) for a in plan.scenario.arrivals}
    counters = [c for c in plan.scenario.counters if c.id in counter_ids]
    return keys <= set().union(*(planning.plan._keys_taken(c, keys) for c in counters))


@pytest.mark.django_db
def test_a_stricter_target_asks_for_at_least_as_many_counters_every_hour():
    hall = one_type_hall()
    plan = planning.scenario_for_hall(hall=hall, day=DAY, profile=flat_profile(30))
    loose = planning.suggest(scenario=plan, target_share=0.6, replications=REPS)
    strict = planning.suggest(scenario=plan, target_share=0.95, replications=REPS)
    assert all(strict.counters_per_hour[h] >= loose.counters_per_hour[h] for h in plan.hours)
    assert sum(strict.counters_per_hour.values()) > sum(loose.counters_per_hour.values())


@pytest.mark.django_db
def test_hours_no_staffing_can_save_keep_every_counter_and_are_reported():
    hall = one_type_hall(counters=2)
    plan = planning.scenario_for_hall(
        hall=hall, day=DAY, profile=flat_profile(10, hours=[9, 10]) | {
            ("payment", "vip"): {11: 60.0}}  # 60 an hour at 5 min: two counters cannot
    )  # fmt: skip
    suggestion = planning.suggest(scenario=plan, replications=REPS)
    assert 11 in suggestion.unreachable
    assert suggestion.counters_per_hour[11] == 2


def test_the_opening_order_serves_every_business_first_then_where_capacity_is_scarce():
    sc = Scenario(
        name="order",
        business_types=tuple(
            BusinessTypeSpec(code, ServiceSpec("deterministic", 300.0)) for code in ("a", "b", "c")
        ),
        counters=(
            CounterSpec("1", frozenset({"a"})),
            CounterSpec("2", frozenset({"a"})),
            CounterSpec("3", frozenset({"b", "c"})),
            CounterSpec("4", frozenset({"c"}), router.VipMode.VIP_ONLY),
            CounterSpec("5", frozenset({"a", "b"})),
        ),
        arrivals=(
            ArrivalSpec("a", per_hour=30.0),
            ArrivalSpec("b", per_hour=5.0),
            ArrivalSpec("c", per_hour=5.0),
            ArrivalSpec("c", "vip", per_hour=1.0),
        ),
    )
    order, covering = planning.opening_order(sc)
    # 5 takes the most load (a and b), then 3 the rest (c and its VIPs): every business and lane
    # is served by two counters; then a, the busiest, gets 1 and 2; the VIP-only 4 comes last.
    assert order[:2] == ("5", "3") and covering == 2
    assert order[2:] == ("1", "2", "4")


# --- the arrival profile -------------------------------------------------------------------


@pytest.mark.django_db
def test_the_typical_weekday_is_the_mean_of_the_same_weekday_plus_today_so_far(hall):
    tz = hall.tz

    def at(day, hour, minute=0):
        return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=tz)

    # Two of the last four Wednesdays had customers; a Tuesday's do not count.
    for weeks_back, count in ((1, 4), (2, 2)):
        day = DAY - datetime.timedelta(weeks=weeks_back)
        for i in range(count):
            issue(hall, "payment", device=None, by=_manager(hall), at=at(day, 10, i))
        issue(hall, "service", by=_manager(hall), at=at(day, 14))
    issue(hall, "payment", by=_manager(hall), at=at(DAY - datetime.timedelta(days=1), 10))
    # Today (the planned day), at 11:30: five payments came at 9.
    for i in range(5):
        issue(hall, "payment", by=_manager(hall), at=at(DAY, 9, i))

    plan = planning.scenario_for_hall(hall=hall, day=DAY, now=at(DAY, 11, 30))
    assert plan.profile_source == "history"
    payment = plan.profile[("payment", "normal")]
    assert payment[9] == 5  # what came, not the usual (none)
    assert 10 not in payment  # a past hour: nobody came today at 10, whatever is usual
    assert plan.profile[("service", "normal")] == {14: 1.0}  # mean of 1 and 1 over two weeks
    # Planning next Wednesday instead: nothing is known yet, so the usual 10:00 payments count
    # (the mean of 4, 2 and today's 0: today is a Wednesday in the history now).
    ahead = planning.scenario_for_hall(
        hall=hall, day=DAY + datetime.timedelta(weeks=1), now=at(DAY, 11, 30)
    )
    assert ahead.profile[("payment", "normal")] == {9: 5 / 3, 10: 2.0}
    assert ahead.profile[("service", "normal")] == {14: 2 / 3}


@pytest.mark.django_db
def test_the_current_hour_is_what_came_so_far_plus_the_usual_for_the_rest(hall):
    tz = hall.tz
    for weeks_back in (1, 2):  # two weeks of history: a typical day is 8 top-ups at 10
        for i in range(8):
            day = DAY - datetime.timedelta(weeks=weeks_back)
            issue(hall, "topup", by=_manager(hall), at=_at(day, 10, i, tz))
    for i in range(3):
        issue(hall, "topup", by=_manager(hall), at=_at(DAY, 10, i, tz))
    plan = planning.scenario_for_hall(hall=hall, day=DAY, now=_at(DAY, 10, 15, tz))
    assert plan.profile[("topup", "normal")][10] == pytest.approx(3 + 8 * 0.75)


def _at(day, hour, minute, tz):
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=tz)


def _manager(hall):
    from django.contrib.auth import get_user_model

    from hall.models import Role, StaffMembership

    user, created = get_user_model().objects.get_or_create(username="planner-manager")
    if created:
        StaffMembership.objects.create(user=user, hall=hall, role=Role.MANAGER)
    return user


@pytest.mark.django_db
def test_service_times_come_from_history_when_there_is_enough(hall):
    now = timezone.now()
    for _ in range(planning.MIN_SERVICE_SAMPLES):
        issue(hall, "payment", by=_manager(hall))
    Ticket.objects.filter(hall=hall).update(
        status=Status.DONE,
        called_at=now - datetime.timedelta(minutes=10),
        finished_at=now - datetime.timedelta(minutes=2),
    )
    issue(hall, "topup", by=_manager(hall))  # one topup: not enough to trust
    plan = planning.scenario_for_hall(hall=hall, profile=flat_profile(10, hours=[9]), now=now)
    specs = {bt.code: bt.service for bt in plan.scenario.business_types}
    assert specs["payment"].dist == "empirical" and specs["payment"].mean_s == 480
    assert specs["topup"] == ServiceSpec("lognormal", 180.0, cv=0.6)
    assert plan.service_source == {"payment": "history", "topup": "expected", "service": "expected"}


def test_a_csv_profile_file_is_read_also_as_a_spreadsheet_saves_it(tmp_path):
    path = tmp_path / "profile.csv"
    path.write_text(
        "\ufeffhour,business_type,lane,per_hour\n9,payment,normal,20\n9,payment,vip,2\n10,topup,,7.5\n"
    )
    assert planning.read_profile(path, codes={"payment", "topup"}) == {
        ("payment", "normal"): {9: 20.0},
        ("payment", "vip"): {9: 2.0},
        ("topup", "normal"): {10: 7.5},
    }


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_a_yaml_or_json_profile_file_is_read(tmp_path, suffix):
    rows = [{"hour": 9, "business_type": "payment", "per_hour": 12},
            {"hour": 9, "business_type": "payment", "lane": "priority", "per_hour": 1}]  # fmt: skip
    path = tmp_path / f"profile{suffix}"
    path.write_text(json.dumps(rows))  # JSON is YAML too
    assert planning.read_profile(path, codes={"payment"}) == {
        ("payment", "normal"): {9: 12.0},
        ("payment", "priority"): {9: 1.0},
    }


@pytest.mark.parametrize(
    "content, message",
    [
        ("hour,business_type,lane,per_hour\n9,broadband,normal,3\n", "unknown business type"),
        ("hour,business_type,lane,per_hour\n24,payment,normal,3\n", "hour must be"),
        ("hour,business_type,lane,per_hour\n9,payment,normal,-1\n", "per_hour must be"),
        ("hour,business_type,lane,per_hour\n9,payment,normal,many\n", "per_hour must be"),
        ("hour,business_type,lane,per_hour\n9,payment,fast,3\n", "lane must be one of"),
        ("hour,business_type,lane,per_hour\n9,payment,,3\n9,payment,normal,4\n", "given twice"),
        ("hour,type,rate\n9,payment,3\n", "needs the columns"),
        ("", "non-empty list"),
    ],
)
def test_a_bad_profile_file_is_a_clear_error_naming_the_row(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(planning.PlanningError, match=message) as caught:
        planning.read_profile(path, codes={"payment"})
    if "row" in message or message in ("needs the columns", "non-empty list"):
        assert "bad.csv" in str(caught.value)  # the whole file is wrong
    else:
        assert "bad.csv, row " in str(caught.value)


def test_a_missing_or_malformed_profile_file_is_a_clear_error(tmp_path):
    with pytest.raises(planning.PlanningError, match="Cannot read the profile"):
        planning.read_profile(tmp_path / "missing.yaml", codes={"payment"})
    broken = tmp_path / "broken.json"
    broken.write_text("[{")
    with pytest.raises(planning.PlanningError, match="not valid CSV, YAML or JSON"):
        planning.read_profile(broken, codes={"payment"})


@pytest.mark.django_db
def test_bad_staffing_and_targets_are_clear_errors():
    plan = planning.scenario_for_hall(hall=one_type_hall(), day=DAY, profile=flat_profile(10))
    cases = [
        (dict(counters_per_hour={9: 5}), "from 0 to 4"),
        (dict(counters_per_hour={9: -1}), "from 0 to 4"),
        (dict(counters_per_hour={15: 2}), "outside the planned day"),
        (dict(counters_per_hour={}, target_share=1.5), "target service level"),
        (dict(counters_per_hour={}, target_wait_s=0), "target wait"),
    ]
    for kwargs, message in cases:
        with pytest.raises(planning.PlanningError, match=message):
            planning.evaluate(scenario=plan, replications=1, **kwargs)
    with pytest.raises(planning.PlanningError, match="hour:counters"):
        planning.parse_counters("9-3")


@pytest.mark.django_db
def test_a_hall_without_counters_cannot_be_planned():
    hall = hall_create(code="empty", name="空厅")
    BusinessType.objects.create(hall=hall, code="payment", prefix="A", name_zh="缴费",
                                name_en="Bill payment")  # fmt: skip
    with pytest.raises(planning.PlanningError, match="no active business type served"):
        planning.scenario_for_hall(hall=hall)


@pytest.mark.django_db
def test_counters_given_from_an_hour_on_hold_until_the_next_given_hour():
    plan = planning.scenario_for_hall(hall=one_type_hall(), day=DAY, profile=flat_profile(10))
    given = planning.parse_counters("10:2, 12:3")
    assert planning.expand_counters(plan, given) == {9: 4, 10: 2, 11: 2, 12: 3}


@pytest.mark.django_db
def test_scaling_an_hour_keeps_its_mix_of_business_types_and_lanes():
    plan = planning.scenario_for_hall(
        hall=one_type_hall(), day=DAY,
        profile={("payment", "normal"): {9: 9.0, 10: 20.0}, ("payment", "vip"): {9: 1.0}},
    )  # fmt: skip
    scaled = planning.scale_profile(plan, {9: 20.0, 11: 10.0})
    assert scaled.profile[("payment", "normal")] == {9: 18.0, 10: 20.0, 11: 10 * 29 / 30}
    assert scaled.profile[("payment", "vip")] == {9: 2.0, 11: 10 * 1 / 30}
    assert scaled.expected_arrivals(9) == pytest.approx(20.0)


# --- the command ---------------------------------------------------------------------------


def _plan(*args) -> str:
    out = io.StringIO()
    call_command("plan", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_the_plan_command_prints_each_hour_and_the_suggested_counters(tmp_path):
    one_type_hall()
    profile = tmp_path / "p.csv"
    profile.write_text(
        "hour,business_type,lane,per_hour\n"
        + "".join(f"{h},payment,normal,30\n" for h in range(9, 13))
    )
    text = _plan("--hall", "p1", "--profile", str(profile), "--counters", "9:1,10:4",
                 "--replications", str(REPS), "--day", DAY.isoformat())  # fmt: skip
    assert "p1, 2026-03-04, 09:00 to 13:00; arrivals: profile file" in text
    rows = {
        line.split()[0]: line.split()
        for line in text.splitlines()
        if re.match(r"\s+\d\d:00\s", line)
    }
    assert list(rows) == ["09:00", "10:00", "11:00", "12:00"]
    # hour, arrivals, counters, mean, p90, level (+ "!"), suggested, its level
    assert rows["09:00"][1:3] == ["30", "1"] and rows["09:00"][6] == "!"
    assert rows["10:00"][2] == "4"
    suggested = [int(rows[h][-2]) for h in rows]
    assert all(2 <= n <= 4 for n in suggested)
    assert "suggested staffing:" in text


@pytest.mark.django_db
def test_the_plan_command_answers_json():
    one_type_hall()
    data = json.loads(_plan("--hall", "p1", "--json", "--replications", "2", "--target", "0.7"))
    assert data["hall"] == "p1" and data["profile"] == "default"
    assert data["evaluation"]["target_share"] == 0.7
    assert [h["hour"] for h in data["evaluation"]["hours"]] == [9, 10, 11, 12]
    assert set(data["suggestion"]["counters_per_hour"]) == {"9", "10", "11", "12"}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "args, message",
    [
        (["--hall", "nope"], "No hall with the code nope"),
        (["--hall", "p1", "--day", "tomorrow"], "--day must be a date"),
        (["--hall", "p1", "--counters", "9"], "hour:counters"),
        (["--hall", "p1", "--counters", "9:9"], "from 0 to 4"),
        (["--hall", "p1", "--target", "80"], "target service level"),
        (["--hall", "p1", "--profile", "/nonexistent.csv"], "Cannot read the profile"),
    ],
)
def test_the_plan_command_refuses_bad_input_clearly(args, message):
    one_type_hall()
    with pytest.raises(CommandError, match=message):
        _plan(*args, "--replications", "1")


@pytest.mark.django_db
def test_building_the_plan_takes_the_same_few_queries_whatever_the_history(hall, manager):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            planning.scenario_for_hall(hall=hall, day=DAY, now=_at(DAY, 12, 0, hall.tz))
        return len(captured)

    # The least history that is used (one ticket four weeks back), then four weeks of it.
    issue(hall, "payment", by=manager, at=_at(DAY - datetime.timedelta(weeks=4), 9, 0, hall.tz))
    empty = queries()
    for weeks_back in range(0, 4):
        day = DAY - datetime.timedelta(weeks=weeks_back)
        for hour in (9, 10, 11):
            issue(hall, "payment", by=manager, at=_at(day, hour, 0, hall.tz))
            issue(hall, "service", by=manager, at=_at(day, hour, 5, hall.tz))
    Ticket.objects.update(status=Status.DONE, called_at=timezone.now(), finished_at=timezone.now())
    # 7: the hall's first service date (is there two weeks of history?) joined the six.
    assert queries() == empty <= 7


ORDER_SCRIPT = """
import django, os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()
from queueing.planning import opening_order
from queueing.simulation import ArrivalSpec, BusinessTypeSpec, CounterSpec, Scenario, ServiceSpec
rates = {"a": 0.1, "b": 0.7, "c": 0.2, "d": 0.2, "e": 0.7, "f": 0.1}
sc = Scenario(
    name="ties",
    business_types=tuple(BusinessTypeSpec(t, ServiceSpec("deterministic", 60.0)) for t in rates),
    counters=(CounterSpec("9", frozenset("abcdef")), CounterSpec("2", frozenset("def")),
              CounterSpec("1", frozenset("abc"))),
    arrivals=tuple(ArrivalSpec(t, per_hour=r) for t, r in rates.items()),
)
print(opening_order(sc))
"""


def test_the_opening_order_is_the_same_in_every_process_and_ties_go_to_the_lower_number():
    import os
    import subprocess
    import sys

    orders = {
        subprocess.run(
            [sys.executable, "-c", ORDER_SCRIPT],
            env={**os.environ, "PYTHONHASHSEED": str(seed)},
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        for seed in (1, 2, 3)
    }
    # Counters 1 and 2 take equal loads (0.1 + 0.7 + 0.2 in some order): 1 goes first.
    assert orders == {"(('9', '1', '2'), 1)"}


@pytest.mark.django_db
def test_a_hall_with_less_than_two_weeks_of_its_own_plans_from_the_default_day(hall):
    tz = hall.tz
    for days_back in (7, 6, 1):  # a week of history: one same weekday, too few
        day = DAY - datetime.timedelta(days=days_back)
        at = datetime.datetime.combine(day, datetime.time(10), tzinfo=tz)
        issue(hall, "payment", by=_manager(hall), at=at)

    plan = planning.scenario_for_hall(hall=hall, day=DAY)
    assert (plan.profile_source, plan.history_days) == ("default", 7)
    assert sum(plan.profile[("payment", "normal")].values()) > 1  # the default day, not 1 a week


# --- the greeting rules side by side (issue 16) ---------------------------------------------------


@pytest.mark.django_db
def test_the_older_greeting_binding_costs_wait_and_both_rules_are_shown_side_by_side():
    hall = one_type_hall(counters=5)
    plan = planning.scenario_for_hall(hall=hall, day=DAY, profile=flat_profile(50))
    assert plan.scenario.policy.greeting_binds_counter is False  # the hall's rule: the default
    staffing = {h: 5 for h in plan.hours}
    own = planning.evaluate(scenario=plan, counters_per_hour=staffing, replications=REPS)

    rules = planning.greeting_rules(scenario=plan, evaluation=own)

    # 50 an hour at 5 minutes keeps five counters ~83% busy: where the greeting binds the
    # counter, a counter that frees while the only ones waiting are greeted elsewhere idles.
    assert rules.hall_binds_counter is False
    assert rules.binds_order_mean_wait_s == own.overall["mean_wait_s"]
    assert rules.binds_counter_mean_wait_s > rules.binds_order_mean_wait_s
    assert rules.extra_share > 0.02


@pytest.mark.django_db
def test_a_hall_that_greets_nobody_has_one_rule_only():
    hall = one_type_hall()
    hall.window_depth = 0
    hall.save()
    plan = planning.scenario_for_hall(hall=hall, day=DAY, profile=flat_profile(30))
    own = planning.evaluate(scenario=plan, counters_per_hour={h: 4 for h in plan.hours})
    assert planning.greeting_rules(scenario=plan, evaluation=own) is None
