"""The customer's status page during a system fault: a waiting customer of an affected
business sees the apology (in the page's language) until the fault is resolved; others do not."""

import pytest
from django.urls import reverse

from counters.services import counter_call_next, counter_open
from hall.models import BusinessType, IncidentMode
from queueing.services import ticket_issue
from recovery.incidents import incident_open, incident_resolve
from tests.conftest import counter

pytestmark = pytest.mark.django_db


def issue(hall, kiosk, code):
    return ticket_issue(hall=hall, business_type_code=code, device=kiosk).ticket


def card(client, ticket, language="en") -> str:
    response = client.get(
        reverse("ticket-status-card", args=[ticket.public_token]), HTTP_ACCEPT_LANGUAGE=language
    )
    assert response.status_code == 200
    return response.content.decode()


def network_slow(hall, who, *codes):
    types = list(BusinessType.objects.filter(hall=hall, code__in=codes))
    return incident_open(
        hall=hall, kind="network", reporter=who, business_types=types, mode=IncidentMode.WARN
    )


def test_a_waiting_customer_of_the_affected_business_sees_the_apology(client, hall, kiosk, manager):
    ticket = issue(hall, kiosk, "service")
    incident = network_slow(hall, manager, "service")

    english = card(client, ticket)
    chinese = card(client, ticket, "zh-hans")

    assert "data-incident-apology" in english
    assert incident.apology_en in english and "Your place in the queue is kept." in english
    assert incident.apology_zh in chinese
    # The full page (first load) says it too, not only the card it polls.
    page = client.get(reverse("ticket-status", args=[ticket.public_token])).content.decode()
    assert "data-incident-apology" in page


def test_customers_of_other_businesses_and_those_already_called_see_no_apology(
    client, hall, kiosk, manager, clerk_a
):
    payment = issue(hall, kiosk, "payment")
    called = issue(hall, kiosk, "service")
    c4 = counter(hall, 4)
    counter_open(counter_id=c4.pk, user=clerk_a)
    counter_call_next(counter_id=c4.pk, user=clerk_a)  # calls the service ticket
    network_slow(hall, manager, "service")

    assert "data-incident-apology" not in card(client, payment)
    called_card = card(client, called)
    assert 'data-status="called"' in called_card
    assert "data-incident-apology" not in called_card


def test_the_apology_goes_when_the_fault_is_resolved(client, hall, kiosk, manager):
    ticket = issue(hall, kiosk, "service")
    incident = network_slow(hall, manager, "service")
    assert "data-incident-apology" in card(client, ticket)

    incident_resolve(incident_id=incident.pk, user=manager)

    assert "data-incident-apology" not in card(client, ticket)
