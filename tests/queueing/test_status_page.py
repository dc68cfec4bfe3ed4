"""The customer's pages: the status page behind the QR code and the 80 mm print view."""

import re

import pytest
from django.urls import reverse

from counters.services import (
    counter_call_next,
    counter_finish,
    counter_no_show,
    counter_open,
    counter_start,
)
from queueing.services import ticket_cancel, ticket_issue
from tests.conftest import counter

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(client):
    """Pages in English, so that the assertions do not depend on the Chinese catalogue."""
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def issue(hall, kiosk, code="payment", **extra):
    return ticket_issue(hall=hall, business_type_code=code, device=kiosk, **extra).ticket


def status_page(client, ticket):
    response = client.get(reverse("ticket-status", args=[ticket.public_token]))
    assert response.status_code == 200
    return response.content.decode()


def card(client, ticket):
    response = client.get(reverse("ticket-status-card", args=[ticket.public_token]))
    assert response.status_code == 200
    return response.content.decode()


def test_a_waiting_ticket_shows_number_business_people_ahead_and_wait(client, hall, kiosk, clerk_a):
    counter_open(counter_id=counter(hall, 1).pk, user=clerk_a)
    issue(hall, kiosk)
    issue(hall, kiosk)
    ticket = issue(hall, kiosk)

    page = status_page(client, ticket)

    assert ticket.number in page
    assert "Bill payment" in page
    assert 'data-status="waiting"' in page
    assert 'data-people-ahead="2"' in page
    # 2 ahead x 3 min at the one open counter, services of unknown spread (no history): a
    # range around the median of three services (issue 16), not one figure.
    assert re.search(r'data-wait="range">about \d+–\d+ min<', page)
    assert "data-final" not in page  # the page keeps asking
    assert reverse("ticket-status-card", args=[ticket.public_token]) in page


def test_called_shows_the_counter_in_big_letters(client, hall, kiosk, clerk_a):
    ticket = issue(hall, kiosk, "topup")  # only counters 1 and 3 serve top-up
    counter_open(counter_id=counter(hall, 1).pk, user=clerk_a)
    counter_call_next(counter_id=counter(hall, 1).pk, user=clerk_a)

    html = card(client, ticket)

    assert 'data-status="called"' in html
    assert 'data-call-counter="1"' in html
    assert "Please go to counter 1" in html


def test_being_served_and_then_done_says_thank_you_and_stops(client, hall, kiosk, clerk_a):
    ticket = issue(hall, kiosk, "topup")
    one = counter(hall, 1).pk
    counter_open(counter_id=one, user=clerk_a)
    counter_call_next(counter_id=one, user=clerk_a)
    counter_start(counter_id=one, user=clerk_a)
    assert "Being served at counter 1" in card(client, ticket)

    counter_finish(counter_id=one, user=clerk_a)

    html = card(client, ticket)
    assert 'data-status="done"' in html and "data-final" in html
    assert "Thank you" in html
    assert "data-call-counter" not in html


def test_no_show_gives_polite_advice(client, hall, kiosk, clerk_a):
    ticket = issue(hall, kiosk, "topup")
    counter_open(counter_id=counter(hall, 1).pk, user=clerk_a)
    counter_call_next(counter_id=counter(hall, 1).pk, user=clerk_a)
    counter_no_show(counter_id=counter(hall, 1).pk, user=clerk_a)

    html = card(client, ticket)

    assert "data-final" in html
    assert "ask our greeter" in html


def test_cancelled_says_so(client, hall, kiosk, greeter):
    ticket = issue(hall, kiosk)
    ticket_cancel(ticket=ticket, actor=greeter)

    html = card(client, ticket)

    assert "cancelled" in html and "data-final" in html


def test_a_greeted_ticket_is_told_to_get_ready(client, hall, kiosk, clerk_a):
    issue(hall, kiosk, "topup")
    second = issue(hall, kiosk, "topup")
    counter_open(counter_id=counter(hall, 1).pk, user=clerk_a)
    counter_call_next(counter_id=counter(hall, 1).pk, user=clerk_a)

    html = card(client, second)

    # Issue 16: the greeting binds the order, not the counter.
    assert "Please get ready: you are next, at counter 1 or the first counter free." in html


def test_an_unknown_token_is_a_friendly_404(client, hall):
    for name in ("ticket-status", "ticket-print"):
        response = client.get(reverse(name, args=["no-such-ticket"]))
        assert response.status_code == 404
        assert "We cannot find this ticket." in response.content.decode()
    assert client.get(reverse("ticket-status-card", args=["nope"])).status_code == 404


def test_no_personal_data_on_the_customer_pages(client, hall, kiosk):
    ticket = issue(hall, kiosk, phone="13812345678")
    vip = issue(hall, kiosk, vip_account="88001234")

    for page in (
        status_page(client, ticket),
        client.get(reverse("ticket-print", args=[ticket.public_token])).content.decode(),
        status_page(client, vip),
        client.get(reverse("ticket-print", args=[vip.public_token])).content.decode(),
    ):
        assert "13812345678" not in page and "5678" not in page
        assert "88001234" not in page


def test_the_print_view_has_number_business_people_ahead_and_the_qr_code(client, hall, kiosk):
    issue(hall, kiosk, "service")
    ticket = issue(hall, kiosk, "service")

    response = client.get(reverse("ticket-print", args=[ticket.public_token]))

    assert response.status_code == 200
    page = response.content.decode()
    assert f'data-ticket-number="{ticket.number}"' in page
    assert "业务受理" in page and "Service application" in page  # both languages
    assert 'data-people-ahead="1"' in page
    assert re.search(r'<svg role="img"[^>]*class="qr"', page)
    assert "Please have your ID card ready." in page
    assert "Thank you for coming!" in page
    assert "queueing/ticket.css" in page


def test_the_qr_code_encodes_the_status_page(client, hall, kiosk):
    """The QR matrix is the one segno makes for the status page's absolute URL."""
    import segno

    ticket = issue(hall, kiosk)
    page = client.get(reverse("ticket-print", args=[ticket.public_token])).content.decode()

    status_url = "http://testserver" + reverse("ticket-status", args=[ticket.public_token])
    expected = segno.make(status_url, error="m").svg_inline(scale=4, border=2, omitsize=True)
    path = re.search(r'class="qrline"[^>]* d="([^"]+)"', expected).group(1)
    assert path in page


def test_the_embedded_ticket_is_the_ticket_alone(client, hall, kiosk):
    ticket = issue(hall, kiosk)

    html = client.get(reverse("ticket-print", args=[ticket.public_token]) + "?embed=1")

    body = html.content.decode()
    assert body.lstrip().startswith('<article class="ticket"')
    assert "<html" not in body


def test_the_print_view_prints_itself_only_when_asked(client, hall, kiosk):
    ticket = issue(hall, kiosk)
    url = reverse("ticket-print", args=[ticket.public_token])

    assert "window.print()" not in client.get(url).content.decode().split("</main>")[1]
    assert "window.print()" in client.get(url + "?print=1").content.decode().split("</main>")[1]
