"""The kiosk during a system fault: an affected business is temporarily unavailable with the
apology (mode "unavailable", and the API refuses it too) or queueable with a warning that the
confirmation repeats (mode "warn"); resolving the fault restores the board."""

import re

import pytest
from django.urls import reverse

from hall.errors import BusinessTypeSuspended
from hall.models import AuditEvent, BusinessType, IncidentMode
from queueing.models import Ticket
from queueing.services import ticket_issue
from recovery.incidents import incident_open, incident_resolve

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(client):
    """Pages in English, so that the assertions do not depend on the Chinese catalogue."""
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def board(client, kiosk) -> str:
    response = client.get(reverse("kiosk-board", args=["h1"]) + f"?token={kiosk.token}")
    assert response.status_code == 200
    return response.content.decode()


def button(page: str, code: str) -> str:
    return re.search(rf'<button [^>]*data-business="{code}".*?</button>', page, re.DOTALL).group(0)


def printer_down(hall, who, *codes, mode=IncidentMode.UNAVAILABLE):
    types = list(BusinessType.objects.filter(hall=hall, code__in=codes)) if codes else None
    return incident_open(hall=hall, kind="printer", reporter=who, business_types=types, mode=mode)


def test_an_unavailable_business_is_disabled_with_the_apology(client, hall, kiosk, clerk_a):
    incident = printer_down(hall, clerk_a, "payment")

    page = board(client, kiosk)

    payment = button(page, "payment")
    assert "disabled" in payment
    assert "Temporarily unavailable" in payment
    assert "disabled" not in button(page, "topup")
    assert "Temporarily unavailable" not in button(page, "service")
    # The apology above the board, in both languages whatever the kiosk's language.
    assert incident.apology_zh in page and incident.apology_en in page
    assert "缴费业务暂停办理" in incident.apology_zh


def test_the_api_refuses_a_ticket_for_an_unavailable_business_and_changes_nothing(
    api, hall, kiosk, clerk_a
):
    incident = printer_down(hall, clerk_a, "payment")
    events = AuditEvent.objects.count()

    response = api.as_device(kiosk).post(
        reverse("ticket-issue", args=["h1"]),
        {"business_type": "payment"},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "business_type_suspended"
    assert "Bill payment is temporarily unavailable" in error["message"]
    assert "the printer is temporarily down" in error["message"]  # the apology itself
    assert error["fields"] == {"business_type": "temporarily unavailable"}
    assert error["incident"] == incident.pk
    assert not Ticket.objects.exists()
    assert AuditEvent.objects.count() == events
    # The other businesses still issue.
    other = api.post(
        reverse("ticket-issue", args=["h1"]), {"business_type": "topup"}, format="json"
    )
    assert other.status_code == 201


def test_a_greeter_cannot_issue_an_unavailable_business_either(hall, greeter, clerk_a):
    printer_down(hall, clerk_a)  # every business

    with pytest.raises(BusinessTypeSuspended):
        ticket_issue(hall=hall, business_type_code="service", issued_by=greeter)


def test_a_warned_business_stays_open_and_the_confirmation_repeats_the_warning(
    client, api, hall, kiosk, clerk_a
):
    incident = printer_down(hall, clerk_a, "service", mode=IncidentMode.WARN)

    page = board(client, kiosk)
    service = button(page, "service")
    assert "disabled" not in service
    assert "May take longer" in service
    assert "May take longer" not in button(page, "payment")

    confirm = client.get(
        reverse("kiosk-confirm", args=["h1", "service"]) + f"?token={kiosk.token}"
    ).content.decode()
    warning = re.search(r"data-incident-warning>(.*?)</div>", confirm, re.DOTALL).group(1)
    assert "a system fault may make this business take longer" in warning
    assert incident.apology_zh in warning and incident.apology_en in warning
    assert (
        "data-incident-warning"
        not in client.get(
            reverse("kiosk-confirm", args=["h1", "payment"]) + f"?token={kiosk.token}"
        ).content.decode()
    )

    issued = api.as_device(kiosk).post(
        reverse("ticket-issue", args=["h1"]), {"business_type": "service"}, format="json"
    )
    assert issued.status_code == 201


def test_the_confirmation_of_a_business_suspended_meanwhile_answers_with_the_apology(
    client, hall, kiosk, clerk_a
):
    incident = printer_down(hall, clerk_a, "payment")

    response = client.get(
        reverse("kiosk-confirm", args=["h1", "payment"]) + f"?token={kiosk.token}"
    )

    assert response.status_code == 409
    assert incident.apology_en in response.content.decode()


def test_resolving_the_fault_restores_the_board_and_issuing(client, api, hall, kiosk, manager):
    incident = printer_down(hall, manager, "payment")
    assert "disabled" in button(board(client, kiosk), "payment")

    incident_resolve(incident_id=incident.pk, user=manager)

    page = board(client, kiosk)
    assert "disabled" not in button(page, "payment")
    assert "data-kiosk-incidents" not in page
    assert incident.apology_en not in page
    issued = api.as_device(kiosk).post(
        reverse("ticket-issue", args=["h1"]), {"business_type": "payment"}, format="json"
    )
    assert issued.status_code == 201


def test_the_kiosk_page_listens_to_the_halls_stream_with_its_token(client, hall, kiosk):
    config = client.get(reverse("kiosk", args=["h1"]) + f"?token={kiosk.token}").context["config"]

    assert config["live"]["ws"] == "/ws/halls/h1/display/"
    assert config["live"]["token"] == kiosk.token
    assert config["strings"]["suspended"] == "Sorry, this business is temporarily unavailable."
