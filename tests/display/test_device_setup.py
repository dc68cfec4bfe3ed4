"""Setting up a device without building a URL (issue 17): the manager's Devices page shows a
registered device's ready URL with its QR code, or a one-time pairing code; a device page opened
by nobody shows the pairing page, where the code binds the browser to the device."""

import re

import pytest
from django.test import Client

from counters.models import Counter
from hall.access import DEVICE_COOKIE
from hall.auth import device_for_token
from hall.models import AuditEvent, Device, EventKind
from hall.pairing import ADDRESS_FAILURES_ALLOWED, device_pairing_start

pytestmark = pytest.mark.django_db


def device_pages(hall):
    """Each device page opened bare, with the kind of device that may pair there."""
    c1 = Counter.objects.get(hall=hall, number=1)
    return [
        ("/kiosk/h1/", "kiosk"),
        ("/display/halls/h1/lobby/", "display"),
        ("/display/h1/counters/1/", "display"),
        (f"/rate/{c1.pk}/", "rating_pad"),
    ]


def manager_client(manager):
    client = Client()
    client.force_login(manager)
    return client


def test_each_device_page_opened_by_nobody_shows_the_pairing_page(hall):
    for path, _kind in device_pages(hall):
        response = Client().get(path)
        html = response.content.decode()
        assert response.status_code == 403, path  # not open yet: but not a bare 403
        assert 'name="code"' in html, path
        assert "Enter the pairing code" in html and "设置此屏幕" in html, path  # both languages
        assert "token" not in re.sub(r"<[^>]+>", "", html).lower(), path


def test_the_right_code_on_each_page_binds_the_browser_and_lands_on_the_ready_url(hall, manager):
    for path, kind in device_pages(hall):
        device = Device.objects.create(hall=hall, kind=kind, name=path, token_hash=path)
        _, code = device_pairing_start(device=device, by=manager)
        browser = Client()
        browser.get(path)  # the CSRF cookie, as a browser would have it
        response = browser.post(path, {"code": code})
        assert response.status_code == 303, path
        location = response["Location"]
        assert location.startswith(f"{path}?token="), path
        token = location.split("token=")[1]
        assert device_for_token(token).pk == device.pk
        cookie = response.cookies[DEVICE_COOKIE]
        assert (cookie.value, cookie["path"], cookie["httponly"]) == (token, path, True)
        assert browser.get(location).status_code == 200, path
        # The browser opened bare again (a restart, a bookmark) is still the device.
        again = browser.get(path)
        assert again.status_code == 200, path
        assert again.context["config"]["token"] == token


def test_the_pairing_keeps_the_pages_other_settings(hall, kiosk, manager):
    _, code = device_pairing_start(device=kiosk, by=manager)
    response = Client().post("/kiosk/h1/?idle=5", {"code": code})
    assert re.fullmatch(r"/kiosk/h1/\?idle=5&token=[\w-]+", response["Location"])


@pytest.mark.parametrize("code", ["", "ABC", "AAAAAA", "not a code at all"])
def test_a_wrong_code_gets_a_400_that_says_why_and_changes_nothing(hall, kiosk, manager, code):
    device_pairing_start(device=kiosk, by=manager)
    response = Client().post("/kiosk/h1/", {"code": code})
    assert response.status_code == 400
    html = response.content.decode()
    assert "data-pairing-error" in html
    assert "expired or already used" in html
    assert DEVICE_COOKIE not in response.cookies
    assert device_for_token(kiosk.token).pk == kiosk.pk
    assert not AuditEvent.objects.filter(kind=EventKind.DEVICE_PAIRED).exists()


def test_a_used_code_gets_the_same_400(hall, kiosk, manager):
    _, code = device_pairing_start(device=kiosk, by=manager)
    assert Client().post("/kiosk/h1/", {"code": code}).status_code == 303
    assert Client().post("/kiosk/h1/", {"code": code}).status_code == 400


def test_a_kiosks_code_on_a_display_page_says_it_is_for_another_device(hall, kiosk, manager):
    _, code = device_pairing_start(device=kiosk, by=manager)
    response = Client().post("/display/halls/h1/lobby/", {"code": code})
    assert response.status_code == 400
    assert "another kind of device" in response.content.decode()


def test_guessing_gets_429(hall, kiosk, manager):
    browser = Client(REMOTE_ADDR="10.0.0.9")
    for _ in range(ADDRESS_FAILURES_ALLOWED):
        assert browser.post("/kiosk/h1/", {"code": "AAAAAA"}).status_code == 400
    _, code = device_pairing_start(device=kiosk, by=manager)
    response = browser.post("/kiosk/h1/", {"code": code})
    assert response.status_code == 429
    assert "Too many wrong codes" in response.content.decode()


def test_a_browser_whose_device_was_set_up_elsewhere_is_asked_to_pair_again(hall, kiosk, manager):
    _, code = device_pairing_start(device=kiosk, by=manager)
    browser = Client()
    browser.post("/kiosk/h1/", {"code": code})
    _, code = device_pairing_start(device=kiosk, by=manager)
    Client().post("/kiosk/h1/", {"code": code})  # another browser is the kiosk now
    response = browser.get("/kiosk/h1/")
    assert response.status_code == 403
    html = response.content.decode()
    assert "data-token-refused" in html and 'name="code"' in html
    assert response.cookies[DEVICE_COOKIE].value == ""  # the stale cookie is dropped


def test_a_signed_in_greeter_still_opens_the_kiosk_without_pairing(hall, greeter):
    client = Client()
    client.force_login(greeter)
    assert client.get("/kiosk/h1/").status_code == 200


def test_a_kiosk_fragment_opened_by_nobody_is_still_a_plain_refusal(hall):
    response = Client().get("/kiosk/h1/board/")
    assert response.status_code == 403
    assert 'name="code"' not in response.content.decode()


# The manager's Devices page.


def test_only_the_halls_managers_open_the_devices_page(hall, manager, clerk_a, outsider):
    assert Client().get("/devices/h1/").status_code == 302  # to sign in
    for person, status in ((clerk_a, 403), (outsider, 403), (manager, 200)):
        client = Client()
        client.force_login(person)
        assert client.get("/devices/h1/").status_code == status, person


def test_the_start_page_leads_a_manager_to_the_devices_page(hall, manager, clerk_a):
    assert "/devices/h1/" in manager_client(manager).get("/").content.decode()
    clerk = Client()
    clerk.force_login(clerk_a)
    assert "/devices/h1/" not in clerk.get("/").content.decode()


def test_registering_a_kiosk_shows_its_ready_url_and_qr_code(hall, manager):
    client = manager_client(manager)
    response = client.post("/devices/h1/", {"action": "register", "kind": "kiosk", "name": "Door"})
    assert response.status_code == 201
    assert response["Cache-Control"] == "no-store"
    html = response.content.decode()
    url = re.search(r"data-ready-url>(http://testserver/kiosk/h1/\?token=[\w-]+)<", html).group(1)
    assert '<svg role="img"' in html  # the QR code
    device = Device.objects.get(name="Door")
    assert (device.kind, device.hall) == ("kiosk", hall)
    event = AuditEvent.objects.get(kind=EventKind.DEVICE_REGISTERED)
    assert (event.actor, event.device) == (manager, device)
    assert Client().get(url.removeprefix("http://testserver")).status_code == 200
    # Shown only now: the page read again does not carry the token.
    assert url.split("token=")[1] not in client.get("/devices/h1/").content.decode()


def test_a_displays_link_goes_to_the_chosen_counter_by_hall_and_number(
    hall, manager, display_device
):
    response = manager_client(manager).post(
        "/devices/h1/", {"action": "link", "device": display_device.pk, "screen": "counter-2"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    url = re.search(r"data-ready-url>([^<]+)<", html).group(1)
    assert re.fullmatch(r"http://testserver/display/h1/counters/2/\?token=[\w-]+", url)
    assert "/display/halls/h1/lobby/?token=" in html  # the same device's other pages
    assert device_for_token(display_device.token) is None  # the new link replaces the old
    assert Client().get(url.removeprefix("http://testserver")).status_code == 200


def test_a_pairing_code_from_the_page_pairs_the_device(hall, manager, display_device):
    response = manager_client(manager).post(
        "/devices/h1/", {"action": "code", "device": display_device.pk}
    )
    html = response.content.decode()
    code = re.search(r"data-pairing-code[^>]*>(\w+)<", html).group(1)
    assert "http://testserver/display/halls/h1/lobby/" in html  # where to enter it
    pairing = Client().post("/display/h1/counters/1/", {"code": code})
    assert pairing.status_code == 303


def test_the_devices_page_refuses_another_halls_device_and_bad_input(hall, manager, other_kiosk):
    client = manager_client(manager)
    for data in (
        {"action": "link", "device": other_kiosk.pk},
        {"action": "code", "device": "x"},
        {"action": "register", "kind": "toaster"},
        {"action": "explode"},
    ):
        assert client.post("/devices/h1/", data).status_code == 400, data
    assert device_for_token(other_kiosk.token).pk == other_kiosk.pk
    assert not AuditEvent.objects.filter(kind__startswith="device.").exists()
