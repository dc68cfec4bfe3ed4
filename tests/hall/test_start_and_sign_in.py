"""Signing in, the start page that lists each person's screens, and the language switch."""

import re

import pytest
from django.core.management import call_command

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
