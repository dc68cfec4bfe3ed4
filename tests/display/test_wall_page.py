"""Who may open the manager's wall (/wall/<hall>/), and what the page boots with: the hall's
figures of this moment and the chart's, and where its script listens. (What the wall then shows
and how it moves is tested in a real browser: tests/e2e/test_wall.py.)"""

import json
import re

import pytest
from django.test import Client

from tests.factories import issue

pytestmark = pytest.mark.django_db


def page_config(response) -> dict:
    found = re.search(
        r'<script id="display-config" type="application/json">(.*?)</script>',
        response.content.decode(),
        re.S,
    )
    return json.loads(found.group(1))


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_manager_opens_the_wall_with_the_halls_figures_in_it(hall, manager, greeter):
    issue(hall, by=greeter)
    issue(hall, "service", by=greeter, lane="priority", reason="elderly")

    response = signed_in(manager).get("/wall/h1/")

    assert response.status_code == 200
    assert "测试营业厅" in response.content.decode()
    config = page_config(response)
    assert config["ws"] == "/ws/halls/h1/wall/"
    assert config["snapshot"] == "/api/v1/halls/h1/metrics/"  # polled while the socket is down
    assert config["hourly_url"] == "/api/v1/halls/h1/metrics/hourly/"
    assert config["token"] == ""  # the session, never a device token
    waiting = config["metrics"]["waiting"]
    assert waiting["total"] == 2
    assert waiting["by_lane"] == {"vip": 0, "priority": 1, "normal": 1}
    by_code = {bt["code"]: bt for bt in waiting["by_business_type"]}
    assert by_code["service"]["waiting"] == 1
    hours = {row["hour"]: row for row in config["hourly"]["hours"]}
    assert sum(row["today"]["arrivals"] or 0 for row in hours.values()) == 2
    assert config["language"] == "zh"


def test_the_wall_speaks_the_language_the_manager_chose(hall, manager):
    client = signed_in(manager)
    client.cookies["django_language"] = "en"
    config = page_config(client.get("/wall/h1/"))
    assert config["language"] == "en"
    assert config["labels"]["over_target"] == "Over target"


def test_a_clerk_may_open_the_wall_too(hall, clerk_a):
    assert signed_in(clerk_a).get("/wall/h1/").status_code == 200


@pytest.mark.parametrize("who", ["greeter", "outsider"])
def test_others_get_the_refusal_page_saying_why(hall, who, request):
    client = signed_in(request.getfixturevalue(who))
    client.cookies["django_language"] = "en"
    response = client.get("/wall/h1/")
    assert response.status_code == 403
    page = response.content.decode()
    assert 'data-refused="403"' in page
    assert "for this hall&#x27;s managers and clerks" in page
    assert "display-config" not in page  # no figures for them


def test_an_unknown_hall_is_a_404_page(hall, manager):
    response = signed_in(manager).get("/wall/nope/")
    assert response.status_code == 404
    assert 'data-refused="404"' in response.content.decode()


def test_without_a_sign_in_the_wall_asks_for_one(hall):
    response = Client().get("/wall/h1/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_start_page_links_the_wall_for_managers_only(hall, manager, clerk_a):
    assert 'href="/wall/h1/"' in signed_in(manager).get("/").content.decode()
    assert 'href="/wall/h1/"' not in signed_in(clerk_a).get("/").content.decode()


def test_the_wall_marks_the_service_level_against_the_halls_own_target(hall, manager):
    hall.service_level_target_percent = 90
    hall.save()

    config = page_config(signed_in(manager).get("/wall/h1/"))

    assert config["service_level_target"] == 0.9
    assert config["metrics"]["service_level_target"] == 0.9
    assert config["hourly"]["service_level_target"] == 0.9


def test_a_service_level_target_outside_50_to_99_percent_is_refused(hall):
    from django.core.exceptions import ValidationError
    from django.db import IntegrityError, transaction

    for bad in (49, 100):
        hall.service_level_target_percent = bad
        with pytest.raises(ValidationError):
            hall.full_clean()
        with pytest.raises(IntegrityError), transaction.atomic():
            hall.save()


def test_a_manager_gets_acknowledge_and_resolve_and_each_counters_pages(hall, manager):
    response = signed_in(manager).get("/wall/h1/")

    config = page_config(response)
    assert config["incidents"]["buttons"] is True
    assert config["incidents"]["acknowledge"] == "/api/v1/incidents/0/acknowledge/"
    assert config["incidents"]["resolve"] == "/api/v1/incidents/0/resolve/"
    assert 'id="resolve-dialog"' in response.content.decode()
    one = hall.counters.get(number=1)
    assert config["counter_links"]["1"] == {
        "console": f"/console/counters/{one.pk}/",
        "display": f"/display/{hall.code}/counters/1/",
    }
    assert config["labels"]["acknowledge"] == "确认"


def test_a_clerk_on_the_wall_is_offered_no_fault_buttons_as_on_the_console(hall, clerk_a):
    """hall.access.offers_incident_handling: the console's rule, one answer for both screens."""
    response = signed_in(clerk_a).get("/wall/h1/")

    assert page_config(response)["incidents"]["buttons"] is False
    assert 'id="resolve-dialog"' not in response.content.decode()
