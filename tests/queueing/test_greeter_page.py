"""The greeter tablet page and its queue fragment: who may open them, and what a greeter sees.

Hall h1 (conftest): counter 1 serves payment+topup, counter 2 payment+service, counter 3 is
VIP-first and serves everything, counter 4 serves service only.
"""

import datetime
import json
import re
import zoneinfo

import pytest
import time_machine

from counters.models import Counter, VipMode
from counters.services import counter_call_next, counter_open
from hall.models import BusinessType
from queueing.models import Lane, PriorityReason
from queueing.services import ticket_cancel
from tests.conftest import counter
from tests.factories import issue, minutes_ago


@pytest.fixture(autouse=True)
def english(client):
    """Assert on the English msgids; Chinese is the default language of the pages."""
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"


def page_url(code="h1") -> str:
    return f"/greeter/{code}/"


def queue_url(code="h1") -> str:
    return f"/greeter/{code}/queue/"


def rows(html: str) -> dict[str, str]:
    """Each ticket row of the queue by its number, as HTML."""
    return {
        m.group(1): m.group(0)
        for m in re.finditer(r'<li class="ticket-row"[^>]*data-number="(\w+)".*?</li>', html, re.S)
    }


def section(html: str, code: str) -> str:
    match = re.search(rf'<section [^>]*data-queue-type="{code}".*?</section>', html, re.S)
    assert match, code
    return match.group(0)


@pytest.fixture
def broadband(hall):
    """A business type no counter of h1 serves."""
    return BusinessType.objects.create(
        hall=hall, code="broadband", prefix="H", name_zh="宽带", name_en="Broadband"
    )


# --- who may open it -----------------------------------------------------------------------


def test_signing_in_comes_first(client, hall):
    response = client.get(page_url())

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/greeter/h1/")


@pytest.mark.parametrize("who", ["clerk_a", "outsider"])
def test_a_clerk_or_another_halls_manager_gets_a_403_page_that_says_why(client, hall, request, who):
    client.force_login(request.getfixturevalue(who))

    for url in (page_url(), queue_url()):
        response = client.get(url)
        assert response.status_code == 403
        assert "data-refused" in response.content.decode()
        assert "greeters and managers" in response.content.decode()


def test_an_unknown_hall_is_404(client, greeter):
    client.force_login(greeter)

    assert client.get(page_url("nope")).status_code == 404


@pytest.mark.parametrize("who", ["greeter", "manager"])
def test_greeters_and_managers_open_the_tablet(client, request, who):
    client.force_login(request.getfixturevalue(who))

    response = client.get(page_url())

    assert response.status_code == 200
    assert response.templates[0].name == "queueing/greeter.html"


# --- issuing -------------------------------------------------------------------------------


def test_business_type_buttons_show_both_names_the_queue_and_the_wait(
    client, hall, greeter, broadband
):
    issue(hall, "service", by=greeter)
    issue(hall, "service", by=greeter)
    client.force_login(greeter)

    html = client.get(page_url()).content.decode()

    service = re.search(
        r'<label class="type-choice[^"]*" data-type="service">.*?</label>', html, re.S
    )
    assert service, html
    text = re.sub(r"<[^>]+>", " ", service.group(0))
    assert "业务受理" in text and "Service application" in text
    assert "2 waiting" in text
    # Two waiting and no counter open yet: issue 16's honest wait says so, never "No wait".
    assert "No counter open for this service" in text and "No wait" not in text
    # Nobody could serve broadband: its button cannot be chosen.
    unserved = re.search(r'data-type="broadband">\s*<input[^>]*>', html).group(0)
    assert "disabled" in unserved


def test_the_form_offers_the_lanes_and_the_four_priority_reasons(client, greeter):
    client.force_login(greeter)

    html = client.get(page_url()).content.decode()

    lanes = re.findall(r'name="lane" value="(\w+)"', html)
    reasons = re.findall(r'name="priority_reason" value="(\w+)"', html)
    assert lanes == ["normal", "vip", "priority"]
    assert reasons == ["elderly", "disabled", "pregnant", "military"]
    assert 'name="vip_account"' in html and 'name="phone"' in html


def test_the_script_gets_the_api_urls_and_the_hall_stream(client, greeter):
    client.force_login(greeter)

    html = client.get(page_url()).content.decode()

    config = json.loads(
        re.search(
            r'<script id="greeter-config" type="application/json">(.*?)</script>', html, re.S
        ).group(1)
    )
    assert config["issue"] == "/api/v1/halls/h1/tickets/"
    assert config["queue"] == "/greeter/h1/queue/"
    assert config["transfer"] == f"/api/v1/tickets/{config['id']}/transfer/"
    assert config["cancel"] == f"/api/v1/tickets/{config['id']}/cancel/"
    assert config["live"]["ws"] == "/ws/halls/h1/display/"
    assert config["live"]["token"] == ""  # the session, never a device token
    assert all(config["strings"].values())


# --- the queue -----------------------------------------------------------------------------


# Mid-morning in the hall: "14 minutes ago" must fall on the same service day, which it does
# not in the first 14 minutes after the hall's midnight.
MORNING = datetime.datetime(2026, 3, 10, 10, 0, tzinfo=zoneinfo.ZoneInfo("Asia/Shanghai"))


@time_machine.travel(MORNING, tick=True)
def test_the_queue_shows_waiting_tickets_by_type_with_lane_reason_and_time_waited(
    client, hall, greeter
):
    normal = issue(hall, "payment", by=greeter, at=minutes_ago(14))
    elderly = issue(
        hall,
        "payment",
        by=greeter,
        lane=Lane.PRIORITY,
        reason=PriorityReason.ELDERLY,
        at=minutes_ago(3),
    )
    vip = issue(hall, "service", by=greeter, vip_account="VIP-77")
    gone = issue(hall, "payment", by=greeter)
    ticket_cancel(ticket=gone, actor=greeter)
    client.force_login(greeter)

    html = client.get(queue_url()).content.decode()

    payment = rows(section(html, "payment"))
    assert list(payment) == [normal.number, elderly.number]  # issue order; cancelled gone
    assert "waited 14 min" in payment[normal.number]
    assert 'class="badge priority"' in payment[elderly.number]
    assert "elderly" in payment[elderly.number]
    assert 'class="badge vip"' in rows(section(html, "service"))[vip.number]
    assert "VIP-77" not in html
    assert rows(section(html, "topup")) == {}


def test_the_queue_marks_a_ticket_greeted_or_attended_at_its_counter(
    client, hall, greeter, clerk_a
):
    issue(hall, "payment", by=greeter, at=minutes_ago(3))
    greeted = issue(hall, "payment", by=greeter, at=minutes_ago(2))
    attended = issue(hall, "payment", by=greeter, at=minutes_ago(1))
    c1 = counter(hall, 1)
    counter_open(counter_id=c1.pk, user=clerk_a)
    counter_call_next(counter_id=c1.pk, user=clerk_a)
    client.force_login(greeter)

    payment = rows(section(client.get(queue_url()).content.decode(), "payment"))

    assert "Get ready at counter 1" in payment[greeted.number]
    assert "Next after at counter 1" in payment[attended.number]


def test_transfer_destinations_exclude_the_own_type_and_types_nobody_could_call_it_at(
    client, hall, greeter, broadband
):
    vip_room = Counter.objects.create(hall=hall, number=9, vip_mode=VipMode.VIP_ONLY)
    vip_room.business_types.set(
        [BusinessType.objects.create(hall=hall, code="vipdesk", prefix="V", name_zh="大客户")]
    )
    normal = issue(hall, "payment", by=greeter)
    vip = issue(hall, "payment", by=greeter, lane=Lane.VIP)
    client.force_login(greeter)

    payment = rows(section(client.get(queue_url()).content.decode(), "payment"))

    def destinations(row):
        return set(re.search(r'data-transfer-to="([^"]*)"', row).group(1).split())

    assert destinations(payment[normal.number]) == {"topup", "service"}
    assert destinations(payment[vip.number]) == {"topup", "service", "vipdesk"}


def test_the_fragment_also_refreshes_the_waiting_counts_on_the_type_buttons(client, hall, greeter):
    issue(hall, "topup", by=greeter)
    client.force_login(greeter)

    html = client.get(queue_url()).content.decode()

    stats = re.search(
        r'<span class="type-stats" id="type-stats-topup" hx-swap-oob="true">.*?'
        r"</span></span>",
        html,
        re.S,
    )
    assert stats and "1 waiting" in stats.group(0)


def test_print_of_another_halls_ticket_is_not_found(client, hall, greeter, outsider):
    theirs = issue(outsider.memberships.get().hall, "payment", by=outsider)
    client.force_login(greeter)

    response = client.get(f"/greeter/h1/tickets/{theirs.pk}/print/")

    assert response.status_code == 404
    assert "data-refused" in response.content.decode()


def test_without_a_gateway_the_tablet_says_texts_are_logged_not_sent(
    client, hall, greeter, clerk_a, settings, django_capture_on_commit_callbacks
):
    settings.PHONE_NOTICE_WEBHOOK_URL = ""
    issue(hall, "payment", by=greeter, at=minutes_ago(3))
    greeted = issue(hall, "payment", by=greeter, phone="13800138000", at=minutes_ago(2))
    quiet = issue(hall, "payment", by=greeter, at=minutes_ago(1))
    c1 = counter(hall, 1)
    counter_open(counter_id=c1.pk, user=clerk_a)
    with django_capture_on_commit_callbacks(execute=True):  # the "get ready" text's task
        counter_call_next(counter_id=c1.pk, user=clerk_a)
    client.force_login(greeter)

    payment = rows(section(client.get(queue_url()).content.decode(), "payment"))
    assert "Text logged, not sent" in payment[greeted.number]
    assert "Text" not in payment[quiet.number]  # no phone left, no text owed
    page = client.get(page_url()).content.decode()
    assert "No text gateway is set up: notices are logged, not sent to the phone." in page


def test_with_a_gateway_the_tablet_makes_no_such_warning(client, greeter, settings):
    settings.PHONE_NOTICE_WEBHOOK_URL = "https://sms.example.com/send"
    client.force_login(greeter)
    assert "No text gateway" not in client.get(page_url()).content.decode()
