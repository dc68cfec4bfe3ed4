"""The staffing planner page: only the hall's managers open it; it shows each hour's customers
and counters as inputs with the expected waits, evaluates edits, suggests and applies.

Hall h1 (conftest): four counters, three business types, no history (the default profile),
open all day, so the planned day runs 8:00 to 18:00.
"""

import re

import pytest

from hall.models import Role, StaffMembership

URL = "/planner/h1/"
HOURS = range(8, 18)


@pytest.fixture(autouse=True)
def english(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"


@pytest.fixture(autouse=True)
def quick(monkeypatch):
    """Fewer simulated days: these tests are about the page, not the statistics."""
    monkeypatch.setattr("queueing.planning.plan.REPLICATIONS", 4)


def _inputs(html: str, kind: str) -> dict[int, str]:
    return {
        int(hour): value
        for hour, value in re.findall(rf'name="{kind}_(\d+)"[^>]*?value="([^"]*)"', html)
    }


def _form(html: str) -> dict:
    """Every input of the planner form as the page shows it."""
    posted = {"target": "80", "day": "2026-03-04"}
    posted["basis"] = re.search(r'name="basis" value="([^"]*)"', html).group(1)
    for kind in ("arrivals", "counters", "suggested"):
        posted |= {f"{kind}_{h}": v for h, v in _inputs(html, kind).items()}
    return posted


def _post(hours_counters: dict, **extra) -> dict:
    data = {"target": "80", "day": "2026-03-04"}
    for hour in HOURS:
        data[f"counters_{hour}"] = str(hours_counters.get(hour, 4))
    return data | extra


def _page(client, **data) -> str:
    """The page as GET shows it, then the form posted with ``data`` on top of its inputs."""
    html = client.get(URL + "?day=2026-03-04").content.decode()
    return client.post(URL, _form(html) | data).content.decode()


# --- who may open it -----------------------------------------------------------------------


def test_signing_in_comes_first(client, hall):
    response = client.get(URL)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("person", ["clerk_a", "greeter", "outsider"])
def test_only_the_halls_managers_may_plan_others_get_a_clear_403(client, request, hall, person):
    client.force_login(request.getfixturevalue(person))
    for response in (client.get(URL), client.post(URL, _post({}))):
        assert response.status_code == 403
        assert "The staffing planner is for this hall&#x27;s managers." in response.content.decode()


def test_an_unknown_hall_is_a_404_page(client, manager):
    client.force_login(manager)
    response = client.get("/planner/nowhere/")
    assert response.status_code == 404 and "No hall with this code." in response.content.decode()


def test_a_manager_of_another_hall_is_no_manager_here(client, hall, outsider):
    StaffMembership.objects.filter(user=outsider).update(role=Role.MANAGER)
    client.force_login(outsider)
    assert client.get(URL).status_code == 403


def test_the_start_page_links_managers_and_only_managers_to_the_planner(client, manager, clerk_a):
    client.force_login(manager)
    assert f'href="{URL}"' in client.get("/").content.decode()
    client.force_login(clerk_a)
    assert f'href="{URL}"' not in client.get("/").content.decode()


# --- what a manager sees and does ----------------------------------------------------------


def test_the_page_shows_each_hours_customers_counters_and_expected_waits(client, manager):
    client.force_login(manager)
    response = client.get(URL + "?day=2026-03-04")
    assert response.status_code == 200
    html = response.content.decode()
    assert list(_inputs(html, "counters")) == list(HOURS)
    assert set(_inputs(html, "counters").values()) == {"4"}  # every counter, to start with
    assert all(float(v) > 0 for v in _inputs(html, "arrivals").values())
    assert html.count("data-mean>") == 10 and "Every hour meets the target" in html
    chart = re.search(r'<script id="planner-chart-data" type="application/json">(.*?)</script>',
                      html, re.S)  # fmt: skip
    assert chart and '"hours": [8, 9, 10' in chart.group(1)
    assert 'src="/static/hall/vendor/uPlot.iife.min.js"' in html


def test_one_counter_all_day_misses_the_target_and_the_page_says_where(client, manager):
    client.force_login(manager)
    html = _page(client, **{f"counters_{h}": "1" for h in HOURS})
    assert "Some hours miss the target" in html
    assert 'class="misses"' in html and "misses</span>" in html
    assert set(_inputs(html, "counters").values()) == {"1"}  # the inputs keep the edit


def test_more_customers_at_ten_raise_the_wait_at_ten(client, manager):
    client.force_login(manager)
    normal = _page(client)
    busy = _page(client, arrivals_10="200")
    assert _inputs(busy, "arrivals")[10] == "200.0"

    def mean_at_ten(html):
        row = re.search(r'<tr data-hour="10".*?</tr>', html, re.S).group(0)
        return float(re.search(r"data-mean>([\d.]+) min", row).group(1))

    assert mean_at_ten(busy) > mean_at_ten(normal) + 5


def test_suggest_fills_the_suggested_column_and_apply_takes_it_into_the_inputs(client, manager):
    client.force_login(manager)
    html = _page(client, action="suggest")
    suggested = _inputs(html, "suggested")
    assert list(suggested) == list(HOURS) and all(v.isdigit() for v in suggested.values())
    assert "Apply the suggestion" in html
    assert set(_inputs(html, "counters").values()) == {"4"}  # not applied yet
    posted = _form(html)
    applied = client.post(URL, posted | {"action": "apply"}).content.decode()
    assert _inputs(applied, "counters") == suggested
    assert "Every hour meets the target" in applied


def test_a_suggestion_is_dropped_once_the_customers_it_was_for_change(client, manager):
    client.force_login(manager)
    html = _page(client, action="suggest")
    kept = client.post(URL, _form(html) | {"action": "evaluate"}).content.decode()
    assert "Apply the suggestion" in kept
    changed = client.post(URL, _form(html) | {"arrivals_10": "150"}).content.decode()
    assert "Apply the suggestion" not in changed
    assert set(_inputs(changed, "suggested").values()) == {""}


@pytest.mark.parametrize(
    "edit, message",
    [
        ({"counters_9": "9"}, "less than or equal to 4"),
        ({"counters_9": "two"}, "Enter a whole number"),
        ({"arrivals_9": "-3"}, "greater than or equal to 0"),
        ({"target": "120"}, "less than or equal to 99"),
    ],
)
def test_bad_input_is_marked_at_its_field_and_nothing_is_simulated(client, manager, edit, message):
    client.force_login(manager)
    response = client.post(URL, _post({}) | {f"arrivals_{h}": "10" for h in HOURS} | edit)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Please correct the marked hours." in html and message in html
    assert 'aria-invalid="true"' in html and "data-mean>" not in html


def test_the_planner_starts_from_the_halls_service_level_target(client, hall, manager):
    hall.service_level_target_percent = 90
    hall.save()
    client.force_login(manager)

    html = client.get(URL + "?day=2026-03-04").content.decode()

    assert re.search(r'name="target" id="[^"]*" value="90"', html)


def test_a_new_hall_is_told_it_plans_from_the_default_day_until_two_weeks(client, hall, manager):
    import datetime

    from tests.factories import issue

    client.force_login(manager)
    html = client.get(URL + "?day=2026-03-04").content.decode()
    assert "no history yet, so a typical day shaped like the demo hall" in html
    at = datetime.datetime(2026, 2, 27, 10, tzinfo=hall.tz)  # 5 days before the planned day
    issue(hall, by=manager, at=at)
    html = client.get(URL + "?day=2026-03-04").content.decode()
    assert "this hall has 5 days of its own history, fewer than the two weeks" in html


def test_the_page_shows_the_mean_wait_under_both_greeting_rules(client, hall, manager):
    client.force_login(manager)
    html = client.get(URL + "?day=2026-03-04").content.decode()

    rules = re.search(r"<table class=\"list planner-rules\" data-greeting-rules>(.*?)</table>",
                      html, re.S).group(1)  # fmt: skip
    order = re.search(r'data-rule="order".*?<td>([\d.]+) min', rules, re.S).group(1)
    counter = re.search(r'data-rule="counter".*?<td>([\d.]+) min', rules, re.S).group(1)
    assert float(order) > 0 and float(counter) > 0  # a light day: either may come out ahead
    # The hall's own rule is marked: the default, the greeting binds the order.
    assert re.search(r'data-rule="order".*?this hall', rules.split('data-rule="counter"')[0], re.S)

    hall.greeting_binds_counter = True
    hall.save()
    html = client.get(URL + "?day=2026-03-04").content.decode()
    assert re.search(
        r'data-rule="counter"[^<]*<th[^>]*>[^<]*<span class="badge ok">this hall', html
    )
