"""One customer through the whole hall, each person on their own screen at once: the customer
takes a ticket at the kiosk and follows it on their phone; it appears on clerk1's console; the
clerk calls it by keyboard; the screen above counter 1 and the customer's phone show the call;
the clerk serves and finishes; the phone says thank you."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

KIOSK = {"width": 1920, "height": 1080}
LAPTOP = {"width": 1366, "height": 768}
PHONE = {"width": 375, "height": 812}
COUNTER_SCREEN = {"width": 1280, "height": 400}


def new_page(browser, viewport):
    return browser.new_context(viewport=viewport, locale="zh-CN").new_page()


def test_kiosk_to_console_to_displays_to_finish(browser, demo_server, hall):
    base = demo_server["base"]

    clerk = new_page(browser, LAPTOP)
    clerk.goto(f"{base}/console/demo/")
    clerk.fill("#id_username", "clerk1")
    clerk.fill("#id_password", "demo")
    clerk.press("#id_password", "Enter")
    clerk.locator("tr[data-counter='1'] [data-open-counter]").click()  # sign in at counter 1
    panel = clerk.locator("[data-panel]")
    expect(panel).to_have_attribute("data-counter-state", "open")
    expect(clerk.locator("body")).to_have_attribute("data-live", "live", timeout=10000)

    screen = new_page(browser, COUNTER_SCREEN)
    screen.goto(hall.counter_url(1))
    expect(screen.locator("body")).to_have_attribute("data-live", "live", timeout=10000)

    kiosk = new_page(browser, KIOSK)
    kiosk.add_init_script("window.print = () => {};")
    kiosk.goto(f"{base}/kiosk/demo/?token={demo_server['kiosk_token']}")
    kiosk.locator("[data-business='payment']").click()
    expect(kiosk.locator("[data-repeat]")).to_contain_text("缴费")
    with kiosk.expect_response(
        lambda r: r.request.method == "POST" and r.url.endswith("/tickets/")
    ) as issued:
        kiosk.locator("[data-issue]").click()
    ticket = issued.value.json()
    number = ticket["number"]
    expect(kiosk.locator("[data-ticket-number]").first).to_have_attribute(
        "data-ticket-number", number
    )

    phone = new_page(browser, PHONE)
    phone.goto(ticket["status_url"])
    expect(phone.locator("[data-status]")).to_have_attribute("data-status", "waiting")

    # The clerk sees the new ticket without touching the page, and calls it by keyboard.
    expect(clerk.locator(f"[data-waiting='{number}']")).to_be_visible(timeout=2000)
    clerk.keyboard.press("n")
    expect(panel).to_have_attribute("data-current", number)
    expect(screen.locator("[data-serving]")).to_have_text(number, timeout=2000)
    call = phone.locator("[data-call-counter]")
    expect(call).to_have_attribute("data-call-counter", "1", timeout=8000)  # it polls every 5 s
    expect(call).to_contain_text(re.compile("1 ?号窗口"))

    clerk.keyboard.press("s")
    expect(panel).to_have_attribute("data-current-status", "serving")
    clerk.keyboard.press("f")
    expect(panel).to_have_attribute("data-current", "")
    expect(clerk.locator("[data-served]")).to_contain_text("1")
    expect(screen.locator("[data-serving]")).not_to_have_text(number, timeout=2000)
    expect(phone.locator("[data-status]")).to_have_attribute("data-status", "done", timeout=8000)

    for page in (clerk, screen, kiosk, phone):
        page.context.close()
