"""Simplified Chinese (the default) and English for every string, and the catalogues that say so.

Each app keeps its strings in its own <app>/locale/zh_Hans/LC_MESSAGES/django.po (config/ for the
settings' strings); ``make messages`` collects and compiles them. These tests fail when a string
in the code is missing from its catalogue, untranslated, fuzzy, or not compiled into the .mo,
and check that a request, an API error and a display stream come out in the asked language.
"""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.utils import translation

from config.asgi import application
from counters.models import Counter, PauseReason
from counters.services import counter_call_next, counter_open
from hall.errors import CounterClosed
from queueing.models import Ticket
from tests.conftest import counter
from tests.factories import issue

ROOT = Path(settings.BASE_DIR)
# The Makefile's I18N_APPS
APPS = ["config", "hall", "queueing", "counters", "recovery", "display", "reports"]
LOCALE = "zh_Hans"


def catalogue(app: str) -> Path:
    return ROOT / app / "locale" / LOCALE / "LC_MESSAGES" / "django.po"


def entries(po) -> list:
    return [entry for entry in po if not entry.obsolete and entry.msgid]


def key(entry) -> str:
    return f"{entry.msgctxt}\x04{entry.msgid}" if entry.msgctxt else entry.msgid


def translations(entry) -> tuple[str, ...]:
    """The msgstr, or each plural form's (Chinese has one)."""
    if entry.msgid_plural:
        return tuple(text for _, text in sorted(entry.msgstr_plural.items()))
    return (entry.msgstr,)


def test_every_app_has_a_catalogue():
    assert [app for app in APPS if not catalogue(app).is_file()] == []


@pytest.mark.parametrize("app", APPS)
def test_every_entry_is_translated_and_none_is_fuzzy(app):
    po = polib.pofile(str(catalogue(app)))
    untranslated = [key(e) for e in entries(po) if not e.translated() and "fuzzy" not in e.flags]
    fuzzy = [key(e) for e in entries(po) if "fuzzy" in e.flags]
    assert (untranslated, fuzzy) == ([], []), (
        f"{catalogue(app)}: translate these, remove the fuzzy flags, then run `make messages`"
    )


@pytest.mark.parametrize("app", APPS)
def test_each_mo_holds_the_translations_of_its_po(app):
    po = polib.pofile(str(catalogue(app)))
    mo = polib.mofile(str(catalogue(app).with_suffix(".mo")))
    in_po = {key(e): translations(e) for e in entries(po) if e.translated()}
    in_mo = {key(e): translations(e) for e in mo if e.msgid}
    assert in_mo == in_po, f"{app}: the .mo is stale; run `make messages`"


def test_a_string_in_two_catalogues_has_one_translation():
    """Django merges the catalogues: the same English in two apps would show one of two
    Chinese texts, depending on the order of INSTALLED_APPS."""
    seen: dict[str, dict[str, str]] = {}
    for app in APPS:
        for entry in entries(polib.pofile(str(catalogue(app)))):
            seen.setdefault(key(entry), {})[app] = translations(entry)
    conflicts = {k: v for k, v in seen.items() if len(set(v.values())) > 1}
    assert conflicts == {}, "give these one translation, or a msgctxt (pgettext) each"


def _placeholders(text: str) -> list[str]:
    return sorted(re.findall(r"%\([a-z_]+\)[sd]|\{[a-z_]+\}", text))


@pytest.mark.parametrize("app", APPS)
def test_translations_keep_every_placeholder(app):
    po = polib.pofile(str(catalogue(app)))
    broken = [
        (e.msgid, text)
        for e in entries(po)
        if e.translated()
        for text in translations(e)
        if _placeholders(text) != _placeholders(e.msgid)
    ]
    assert broken == []


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="needs xgettext (apt: gettext)")
@pytest.mark.parametrize("app", APPS)
def test_the_catalogue_lists_every_string_of_the_code(app, tmp_path):
    """makemessages on a copy of the app's source, with an empty catalogue: every msgid it finds
    must be in the committed catalogue, and the committed catalogue must hold no other."""
    source = tmp_path / app
    shutil.copytree(
        ROOT / app, source, ignore=shutil.ignore_patterns("locale", "__pycache__", "static")
    )
    (source / "locale").mkdir()
    subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "makemessages", "--locale", LOCALE],
        cwd=source,
        check=True,
        capture_output=True,
    )
    fresh = source / catalogue(app).relative_to(ROOT / app)
    in_code = {key(e) for e in entries(polib.pofile(str(fresh)))}
    committed = {key(e) for e in entries(polib.pofile(str(catalogue(app))))}
    missing, stale = sorted(in_code - committed), sorted(committed - in_code)
    assert (missing, stale) == ([], []), (
        f"{app}: run `make messages` and translate; missing from the catalogue: {missing}; "
        f"in the catalogue but no longer in the code: {stale}"
    )


# --- What people see ---------------------------------------------------------------------------


def test_known_strings_come_out_in_chinese_by_default_and_in_english_when_asked():
    assert settings.LANGUAGE_CODE == "zh-hans"
    with translation.override("zh-hans"):
        assert str(CounterClosed().message) == "窗口已关闭。"
        assert str(Ticket._meta.verbose_name) == "号票"
        assert str(Counter(number=3)) == "3号窗口"
        assert str(PauseReason.SYSTEM_FAULT.label) == "系统故障"
        assert [str(name) for _, name in settings.LANGUAGES] == ["简体中文", "English"]
    with translation.override("en"):
        assert str(CounterClosed().message) == "The counter is closed."
        assert str(Ticket._meta.verbose_name) == "ticket"
        assert str(Counter(number=3)) == "Counter 3"
        assert str(PauseReason.SYSTEM_FAULT.label) == "system fault"


def test_the_admin_speaks_the_hall_staffs_language(client, manager, greeter):
    issue(greeter.memberships.get().hall, by=greeter)
    manager.is_staff = manager.is_superuser = True
    manager.save()
    client.force_login(manager)

    chinese = client.get("/admin/queueing/ticket/").content.decode()
    english = client.get("/admin/queueing/ticket/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "营业厅管理" in chinese and "号票" in chinese and "取号时间" in chinese
    assert "Business hall administration" in english and "Issued at" in english


def error(response) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["message"]


def test_api_errors_are_chinese_by_default_and_english_with_accept_language(api, clerk_a, hall):
    wrong = {"username": "clerk_a", "password": "not it"}
    assert error(api.post("/api/v1/auth/token/", wrong, format="json")) == (
        400,
        "用户名或密码错误。",
    )
    english = api.post("/api/v1/auth/token/", wrong, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert error(english) == (400, "Wrong username or password.")

    api.force_authenticate(clerk_a)
    url = "/api/v1/halls/nowhere/counters/"
    assert error(api.get(url)) == (404, "没有代码为 nowhere 的营业厅。")
    assert error(api.get(url, HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.8")) == (
        404,
        "No hall with code nowhere.",
    )


def test_a_refusal_names_the_business_type_in_the_asked_language(api, greeter, clerk_a, clerk_b):
    hall = greeter.memberships.get().hall
    c1, c4 = counter(hall, 1), counter(hall, 4)  # counter 4 serves "service" only
    issue(hall, "payment", by=greeter)
    counter_open(counter_id=c1.pk, user=clerk_a)
    counter_open(counter_id=c4.pk, user=clerk_b)
    counter_call_next(counter_id=c1.pk, user=clerk_a)
    api.force_authenticate(clerk_a)
    url, body = f"/api/v1/counters/{c1.pk}/transfer/", {"counter": c4.pk}

    chinese = api.post(url, body, format="json")
    english = api.post(url, body, format="json", HTTP_ACCEPT_LANGUAGE="en")

    assert error(chinese) == (400, "4号窗口不办理缴费。")
    assert error(english) == (400, "Counter 4 does not handle Bill payment.")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("header", "message"),
    [
        (None, "没有这个营业厅。"),
        ((b"accept-language", b"en-US,en;q=0.9"), "No hall with this code."),
        ((b"cookie", b"django_language=en"), "No hall with this code."),  # the language switch
    ],
    ids=["default", "accept-language", "language cookie"],
)
async def test_a_refused_display_stream_says_why_in_the_asked_language(header, message):
    headers = [(b"host", b"testserver"), *([header] if header else [])]
    stream = WebsocketCommunicator(application, "/ws/halls/nowhere/display/", headers)
    connected, _ = await stream.connect()
    assert connected
    frame = json.loads(await stream.receive_from(2))
    await stream.disconnect()
    assert (frame["type"], frame["message"]) == ("error", message)


def test_the_language_switch_turns_the_pages_english(client, manager):
    client.force_login(manager)
    assert "退出登录" in client.get("/").content.decode()

    client.post("/i18n/setlang/", {"language": "en", "next": "/"})

    page = client.get("/").content.decode()
    assert "Sign out" in page and "退出登录" not in page
