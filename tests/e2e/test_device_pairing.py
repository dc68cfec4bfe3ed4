"""Setting up devices from scratch in a real browser (issue 17): the manager registers a kiosk
and a lobby display on the Devices page and reads their pairing codes; each device's browser
opens its bare page, gets the pairing page, enters the code and ends up working (the kiosk
issues a ticket, the lobby shows the live board). A counter display is set up by its link and
QR code instead, at its address by hall and counter number."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import screenshot

pytestmark = pytest.mark.e2e

KIOSK_PORTRAIT = {"width": 1080, "height": 1920}
TV = {"width": 1920, "height": 1080}
COUNTER_WIDE = {"width": 1280, "height": 400}


def manager_page(browser, base):
    page = browser.new_context(viewport=TV, locale="zh-CN").new_page()
    page.goto(f"{base}/devices/demo/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    page.fill("#id_username", "manager")
    page.fill("#id_password", "demo")
    page.press("#id_password", "Enter")
    expect(page).to_have_url(f"{base}/devices/demo/")
    return page


def register(page, kind, name):
    form = page.locator("form.register-form")
    form.locator("select[name=kind]").select_option(kind)
    form.locator("input[name=name]").fill(name)
    form.locator("button[type=submit]").click()
    panel = page.locator("[data-setup='link']")
    expect(panel).to_be_visible()
    return panel


def pairing_code(page, name):
    row = page.locator("tr[data-device-row]", has_text=name)
    row.locator("input[name=action][value=code] ~ button").click()
    code = page.locator("[data-pairing-code]")
    expect(code).to_have_text(re.compile(r"^[A-Z2-9]{6}$"))
    return code.inner_text()


def device_page(browser, viewport):
    """A browser that has never seen the hall: no cookie, nobody signed in."""
    return browser.new_context(viewport=viewport, locale="zh-CN").new_page()


def enter(page, code):
    page.fill("#pairing-code", code)
    page.locator(".pairing-form button[type=submit]").click()


def test_a_kiosk_and_a_lobby_display_are_paired_from_scratch(browser, demo_server, hall):
    base = demo_server["base"]
    manager = manager_page(browser, base)

    # The kiosk: registered, its pairing code read off the manager's page.
    register(manager, "kiosk", "门口取号机 2")
    screenshot(manager, "devices-register-link")
    code = pairing_code(manager, "门口取号机 2")
    expect(manager.locator("[data-setup='code']")).to_contain_text(f"{base}/kiosk/demo/")
    screenshot(manager, "devices-pairing-code")

    kiosk = device_page(browser, KIOSK_PORTRAIT)
    response = kiosk.goto(f"{base}/kiosk/demo/")
    assert response.status == 403  # not open to this browser yet: but no bare 403
    expect(kiosk.locator(".pairing h1")).to_contain_text("设置此屏幕")
    expect(kiosk.locator(".pairing h1")).to_contain_text("Set up this screen")
    expect(kiosk.locator("#pairing-code")).to_be_focused()
    screenshot(kiosk, "pairing-kiosk-portrait")

    enter(kiosk, "ABCDEF")  # a mistake: said clearly, nothing changes
    expect(kiosk.locator("[data-pairing-error]")).to_contain_text("已过期或已使用")
    expect(kiosk.locator("[data-pairing-error]")).to_contain_text("expired or already used")

    enter(kiosk, code.lower())  # typed as people type it
    expect(kiosk).to_have_url(re.compile(rf"^{re.escape(base)}/kiosk/demo/\?token=[\w-]+$"))
    expect(kiosk.locator("[data-step='welcome']")).to_be_visible()
    kiosk.locator("[data-business='payment']").click()
    # Generous waits: the shared 2-core machine is slow under the other suites.
    expect(kiosk.locator("[data-step='confirm']")).to_be_visible(timeout=15000)
    kiosk.locator("[data-issue]").click()
    ticket = kiosk.locator("[data-step='ticket'] .ticket")
    expect(ticket).to_be_visible(timeout=15000)
    assert ticket.get_attribute("data-ticket-number").startswith("A")

    # Restarted on its bare address, the kiosk is still the kiosk; the code is spent.
    kiosk.goto(f"{base}/kiosk/demo/")
    expect(kiosk.locator("[data-step='welcome']")).to_be_visible()
    other = device_page(browser, KIOSK_PORTRAIT)
    other.goto(f"{base}/kiosk/demo/")
    enter(other, code)
    expect(other.locator("[data-pairing-error]")).to_be_visible()

    # The lobby display: the same way, on the TV.
    register(manager, "display", "大厅电视 2")
    code = pairing_code(manager, "大厅电视 2")
    tv = device_page(browser, TV)
    tv.goto(f"{base}/display/halls/demo/lobby/")
    expect(tv.locator(".pairing")).to_be_visible()
    screenshot(tv, "pairing-display-tv")
    enter(tv, code)
    expect(tv).to_have_url(re.compile(r"/display/halls/demo/lobby/\?token=[\w-]+$"))
    expect(tv.locator("body")).to_have_attribute("data-live", "live", timeout=10000)
    hall.clear(5)
    hall.issue("service")
    called = hall.act(5, "call-next")["called"]["number"]
    expect(tv.locator(".call-hero")).to_have_attribute("data-call-number", called, timeout=3000)


def test_a_counter_display_is_set_up_by_its_link_and_qr_code(browser, demo_server, hall):
    base = demo_server["base"]
    manager = manager_page(browser, base)
    register(manager, "display", "3号窗口屏")
    row = manager.locator("tr[data-device-row]", has_text="3号窗口屏")
    row.locator("select[name=screen]").select_option("counter-3")
    row.locator("input[name=action][value=link] ~ button").click()
    panel = manager.locator("[data-setup='link']")
    expect(panel.locator("svg.qr")).to_be_visible()
    url = panel.locator("[data-ready-url]").inner_text()
    assert re.fullmatch(rf"{re.escape(base)}/display/demo/counters/3/\?token=[\w-]+", url)
    screenshot(manager, "devices-link-qr")

    screen = device_page(browser, COUNTER_WIDE)
    screen.goto(url)
    expect(screen.locator("body")).to_have_attribute("data-live", "live", timeout=10000)
    expect(screen.locator(".counter-number")).to_have_text("3")
    hall.clear(3)
    for business_type in ("payment", "topup", "service", "cards", "consult", "query"):
        hall.issue(business_type)  # whatever counter 3 serves
    called = hall.act(3, "call-next")["called"]["number"]
    expect(screen.locator("[data-serving]")).to_have_text(called, timeout=3000)
