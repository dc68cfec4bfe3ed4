"""Signing in, the start page that lists each person's screens, and the language switch."""

import re

import pytest
from django.core.management import CommandError, call_command

pytestmark = pytest.mark.django_db


def test_the_start_page_asks_a_stranger_to_sign_in(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_signing_in_leads_to_the_start_page(client, clerk_a):
    response = client.post("/accounts/login/", {"username": "clerk_a", "password": "pw"})
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_a_wrong_password_is_refused_with_a_message_and_no_session(client, clerk_a):
    response = client.post("/accounts/login/", {"username": "clerk_a", "password": "nope"})
    assert response.status_code == 200
    assert 'role="alert"' in response.content.decode()
    assert client.get("/").status_code == 302


@pytest.mark.parametrize(
    "person, shown, not_shown",
    [
        ("clerk_a", ["/console/h1/"], ["/greeter/h1/", "/kiosk/h1/"]),
        ("greeter", ["/greeter/h1/", "/kiosk/h1/"], ["/console/h1/"]),
        ("manager", ["/console/h1/", "/greeter/h1/", "/kiosk/h1/"], []),
    ],
)
def test_the_start_page_shows_each_role_its_own_screens(client, request, person, shown, not_shown):
    client.force_login(request.getfixturevalue(person))
    page = client.get("/").content.decode()
    assert "测试营业厅" in page
    for url in shown:
        assert f'href="{url}"' in page
    for url in not_shown:
        assert f'href="{url}"' not in page
    assert 'href="/display/halls/h1/lobby/"' in page


def test_someone_on_no_hall_staff_is_told_to_ask_their_manager(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("drifter", password="pw"))
    assert "Ask your hall manager" in _english(client, "/")


def _english(client, url) -> str:
    return client.get(url, headers={"accept-language": "en"}).content.decode()


def test_pages_are_chinese_by_default_and_the_switch_turns_them_english(client):
    assert "登录" in client.get("/accounts/login/").content.decode()
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"})
    assert response.status_code == 302
    page = client.get("/accounts/login/").content.decode()
    assert "Sign in" in page and '<html lang="en">' in page
    assert 'value="zh-hans"' in page  # the way back


def test_the_demo_urls_printed_by_seed_demo_open_for_their_people(client, django_user_model):
    out = __import__("io").StringIO()
    call_command("seed_demo", stdout=out)
    printed = out.getvalue()
    kiosk = re.search(r"Kiosk\s+http://127\.0\.0\.1:8000(\S+)", printed).group(1)
    assert client.get(kiosk).status_code == 200
    client.force_login(django_user_model.objects.get(username="greeter"))
    assert client.get("/greeter/demo/").status_code == 200
    client.force_login(django_user_model.objects.get(username="clerk1"))
    assert client.get("/console/demo/").status_code in (200, 302)


def test_seed_demo_prints_the_address_and_port_the_server_listens_on(client, django_user_model):
    out = __import__("io").StringIO()
    call_command("seed_demo", "--bind", "0.0.0.0:8123", stdout=out)
    printed = out.getvalue()
    hosts = set(re.findall(r"http://([^/\s]+)/", printed))
    assert len(hosts) == 1  # every URL under one address
    (host,) = hosts
    assert host.endswith(":8123")
    assert not host.startswith("0.0.0.0")  # a wildcard is no address a device can type

    # Its API links open in a browser for the signed-in manager (the session is enough).
    client.force_login(django_user_model.objects.get(username="manager"))
    links = "\n".join(line for line in printed.splitlines() if "curl" not in line)
    paths = re.findall(rf"http://{re.escape(host)}(/api/v1/halls/\S+)", links)
    assert len(paths) >= 2  # the business types and the counters
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, (path, response.content[:200])
        assert response["Content-Type"] == "application/json"


def test_seed_demo_refuses_a_bind_without_a_port():
    with pytest.raises(CommandError, match="HOST:PORT"):
        call_command("seed_demo", "--bind", "0.0.0.0", stdout=__import__("io").StringIO())
