"""System faults in the clerk console: the banner with the apology where an open incident
affects the counter's business, the "report a fault" dialog that feeds the incidents API, and a
manager's Acknowledge and Resolve.

Hall h1 (conftest): counter 1 serves payment+topup, counter 2 payment+service, counter 3 is
VIP-first and serves everything, counter 4 serves service only.
"""

import json
import re

import pytest
from django.urls import reverse

from counters.services import counter_open
from hall.models import BusinessType, Incident, IncidentMode
from recovery.incidents import incident_open, incident_resolve
from tests.conftest import counter

pytestmark = pytest.mark.django_db

ENGLISH = {"HTTP_ACCEPT_LANGUAGE": "en"}


def fault(hall, who, *codes, mode=IncidentMode.UNAVAILABLE):
    types = list(BusinessType.objects.filter(hall=hall, code__in=codes)) if codes else None
    return incident_open(hall=hall, kind="printer", reporter=who, business_types=types, mode=mode)


def banner(client, c) -> str:
    response = client.get(reverse("console-incidents", args=[c.pk]), **ENGLISH)
    assert response.status_code == 200
    return response.content.decode()


def console(client, c) -> str:
    response = client.get(reverse("console-counter", args=[c.pk]), **ENGLISH)
    assert response.status_code == 200
    return response.content.decode()


def test_a_clerk_sees_the_apology_when_the_fault_affects_their_counter(client, hall, clerk_a):
    c4 = counter(hall, 4)  # service only
    counter_open(counter_id=c4.pk, user=clerk_a)
    client.force_login(clerk_a)
    service_down = fault(hall, clerk_a, "service")

    page = console(client, c4)

    shown = re.search(r"<section class=\"incident-banner\".*?</section>", page, re.DOTALL).group(0)
    assert service_down.apology_zh in shown and service_down.apology_en in shown
    assert "printer" in shown
    assert "Department not yet acknowledged" in shown
    # A clerk reports and is told; acknowledging and resolving are the manager's buttons.
    assert "data-incident-resolve" not in shown and "data-incident-acknowledge" not in shown


def test_no_banner_when_the_fault_is_of_another_business(client, hall, clerk_a):
    c1 = counter(hall, 1)  # payment and top-up
    counter_open(counter_id=c1.pk, user=clerk_a)
    client.force_login(clerk_a)
    elsewhere = fault(hall, clerk_a, "service")

    assert "data-incident-banner" not in banner(client, c1)
    assert elsewhere.apology_zh not in console(client, c1)


def test_a_manager_sees_every_open_fault_with_acknowledge_and_resolve(client, hall, manager):
    c1 = counter(hall, 1)
    client.force_login(manager)
    elsewhere = fault(hall, manager, "service")
    here = fault(hall, manager, "payment", mode=IncidentMode.WARN)

    shown = banner(client, c1)

    assert f'data-incident-acknowledge="{here.pk}"' in shown
    assert f'data-incident-resolve="{here.pk}"' in shown
    assert f'data-incident-resolve="{elsewhere.pk}"' in shown
    assert "Not this counter&#x27;s business" in shown or "Not this counter's business" in shown

    incident_resolve(incident_id=here.pk, user=manager)
    incident_resolve(incident_id=elsewhere.pk, user=manager)

    assert "data-incident-banner" not in banner(client, c1)


def test_the_report_dialog_offers_kinds_severities_modes_and_every_business(client, hall, clerk_a):
    c1 = counter(hall, 1)
    counter_open(counter_id=c1.pk, user=clerk_a)
    client.force_login(clerk_a)

    page = console(client, c1)

    dialog = re.search(r'<dialog id="fault-dialog".*?</dialog>', page, re.DOTALL).group(0)
    kinds = set(re.findall(r'name="kind" value="([a-z_]+)"', dialog))
    assert kinds == {"billing", "network", "printer", "id_reader", "power", "other"}
    assert set(re.findall(r'name="severity" value="([a-z]+)"', dialog)) == {
        "low",
        "medium",
        "high",
        "critical",
    }
    assert set(re.findall(r'name="mode" value="([a-z]+)"', dialog)) == {"warn", "unavailable"}
    assert set(re.findall(r'name="business_types" value="([a-z]+)"', dialog)) == {
        "payment",
        "topup",
        "service",
    }
    assert "data-fault-all" in dialog
    assert 'aria-keyshortcuts="I"' in page  # I: not one of the console's other keys
    config = json.loads(
        re.search(r'id="incidents-config" type="application/json">(.*?)</script>', page).group(1)
    )
    assert config["report"] == "/api/v1/halls/h1/incidents/"
    assert config["resolve"] == "/api/v1/incidents/0/resolve/"
    assert 'id="resolve-dialog"' not in page  # a clerk's console has no resolve dialog


def test_what_the_dialog_posts_opens_the_incident_and_the_banner_shows_it(client, hall, clerk_a):
    """The request incidents.js sends for "printer, high, top-up only, unavailable"."""
    c1 = counter(hall, 1)
    counter_open(counter_id=c1.pk, user=clerk_a)
    client.force_login(clerk_a)

    response = client.post(
        reverse("incidents", args=["h1"]),
        {
            "kind": "printer",
            "severity": "high",
            "mode": "unavailable",
            "business_types": ["topup"],
            "description": "打印机卡纸",
        },
        content_type="application/json",
        headers={"idempotency-key": "fault-1"},
    )

    assert response.status_code == 201, response.content
    incident = Incident.objects.get()
    assert incident.reporter == clerk_a
    assert [bt.code for bt in incident.business_types.all()] == ["topup"]
    assert incident.apology_en in banner(client, c1)


def test_the_banner_fragment_is_for_the_halls_console_roles_only(client, hall, greeter, outsider):
    c1 = counter(hall, 1)
    for person in (greeter, outsider):
        client.force_login(person)
        assert client.get(reverse("console-incidents", args=[c1.pk])).status_code == 403
    client.logout()
    assert client.get(reverse("console-incidents", args=[c1.pk])).status_code == 302
    client.force_login(greeter)
    assert client.get(reverse("console-incidents", args=[9999])).status_code == 404
