"""Who may open the lobby and counter display pages, and what the page hands its scripts.
(What the screens then show is tested in a real browser: tests/e2e/test_displays.py.)"""

import json
import re

import pytest
from django.test import Client

from counters.models import Counter
from hall.services import device_register

pytestmark = pytest.mark.django_db


def page_config(response) -> dict:
    found = re.search(
        r'<script id="display-config" type="application/json">(.*?)</script>',
        response.content.decode(),
        re.S,
    )
    return json.loads(found.group(1))


def lobby(client, token=None):
    query = f"?token={token}" if token else ""
    return client.get(f"/display/halls/h1/lobby/{query}")


def test_a_display_device_of_the_hall_opens_the_lobby_and_its_scripts_get_the_stream(
    hall, display_device
):
    response = lobby(Client(), display_device.token)
    assert response.status_code == 200
    config = page_config(response)
    assert config["stream"] == "hall"
    assert config["ws"] == "/ws/halls/h1/display/"
    assert config["snapshot"] == "/api/v1/halls/h1/snapshot/"
    assert config["token"] == display_device.token
    assert config["timezone"] == "Asia/Shanghai"
    assert config["labels"]["voice_call"]["zh"] == "请{number}号到{counter}号窗口办理业务"
    assert (
        config["labels"]["voice_call"]["en"] == "Number {number}, please go to counter {counter}."
    )
    assert "测试营业厅" in response.content.decode()


def test_a_kiosk_of_the_hall_may_show_the_lobby_too(hall, kiosk):
    assert lobby(Client(), kiosk.token).status_code == 200


def test_the_counter_page_streams_that_counter(hall, display_device):
    counter = Counter.objects.get(hall=hall, number=3)
    response = Client().get(f"/display/h1/counters/3/?token={display_device.token}")
    assert response.status_code == 200
    config = page_config(response)
    assert (config["stream"], config["counter"]) == ("counter", counter.pk)
    assert config["ws"] == f"/ws/counters/{counter.pk}/display/"


def test_a_screen_installed_with_the_counters_id_is_sent_to_its_hall_and_number(
    hall, display_device
):
    counter = Counter.objects.get(hall=hall, number=3)
    client = Client()
    response = client.get(f"/display/counters/{counter.pk}/?token={display_device.token}&x=1")
    assert response.status_code == 302
    assert response["Location"] == f"/display/h1/counters/3/?token={display_device.token}&x=1"
    assert client.get(response["Location"]).status_code == 200


def test_a_signed_in_clerk_of_the_hall_needs_no_token(hall, clerk_a):
    client = Client()
    client.force_login(clerk_a)
    response = lobby(client)
    assert response.status_code == 200
    assert page_config(response)["token"] == ""  # the scripts use the session instead


@pytest.mark.parametrize(
    ("who", "status", "says"),
    [
        ("nobody", 403, "Enter the pairing code"),
        ("bad token", 403, "This device token is unknown or disabled"),
        ("other hall's display", 403, "not a display or kiosk of this hall"),
        ("other hall's manager", 403, "您不是本营业厅的工作人员"),
    ],
)
def test_anyone_else_gets_a_403_page_that_says_why(hall, other_hall, outsider, who, status, says):
    client, token = Client(), None
    if who == "bad token":
        token = "not-a-token"
    elif who == "other hall's display":
        _, token = device_register(hall=other_hall, kind="display", name="elsewhere")
    elif who == "other hall's manager":
        client.force_login(outsider)
    response = lobby(client, token)
    assert response.status_code == status
    assert says in response.content.decode()
    assert b"display-config" not in response.content  # no stream, no token handed out


def test_an_unknown_hall_or_counter_is_a_404_page(hall, display_device):
    client = Client()
    assert (
        client.get(f"/display/halls/nowhere/lobby/?token={display_device.token}").status_code == 404
    )
    assert client.get(f"/display/counters/999999/?token={display_device.token}").status_code == 404
    assert client.get(f"/display/h1/counters/99/?token={display_device.token}").status_code == 404
    assert client.get(f"/display/h9/counters/1/?token={display_device.token}").status_code == 404
    assert client.get("/display/h1/counters/99/").status_code == 404  # no pairing for no counter


def test_the_pages_load_nothing_from_off_this_host(hall, display_device):
    for url in ("/display/halls/h1/lobby/", "/display/h1/counters/1/"):
        html = Client().get(f"{url}?token={display_device.token}").content.decode()
        assert not re.search(r"""(src|href)=["']?(https?:)?//""", html), url
