"""The greeter tablet in a real browser: the greeter signs in, issues an elderly customer a
priority ticket, sees the queue by business type move live, transfers a ticket that was in the
wrong queue (it keeps its place) and cancels one; a double tap issues once; a clerk is refused."""

import re
import time

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import layout_faults, screenshot

pytestmark = pytest.mark.e2e

LANDSCAPE = {"width": 1280, "height": 800}
PORTRAIT = {"width": 800, "height": 1280}


def sign_in(page, base, username, next_url="/greeter/demo/"):
    page.goto(f"{base}/accounts/login/?next={next_url}")
    page.fill("#id_username", username)
    page.fill("#id_password", "demo")
    page.locator("#main button[type=submit]").click()


def open_tablet(page, base, viewport=LANDSCAPE):
    page.set_viewport_size(viewport)
    sign_in(page, base, "greeter")
    expect(page).to_have_url(re.compile(r"/greeter/demo/$"))
    expect(page.locator("body")).to_have_attribute("data-live", "live", timeout=10000)


def manager_token(hall) -> str:
    login = {"username": "manager", "password": "demo"}
    return "Token " + hall.request("POST", "/api/v1/auth/token/", body=login)["token"]


def ticket(hall, ticket_id):
    return hall.request("GET", f"/api/v1/tickets/{ticket_id}/", auth=manager_token(hall))


def row(page, number):
    return page.locator(f"#queue li[data-number='{number}']")


def waiting(hall, code) -> int:
    types = hall.request("GET", "/api/v1/halls/demo/business-types/", auth=hall.kiosk)
    return next(t["waiting"] for t in types if t["code"] == code)


def issue_at_tablet(page, code, lane_label=None, reason_label=None):
    page.locator(f"label[data-type='{code}']").click()
    if lane_label:
        page.locator("[data-issue-form] label.choice", has_text=lane_label).click()
    if reason_label:
        page.locator("[data-lane-extra='priority'] label.choice", has_text=reason_label).click()
    page.locator("[data-issue-button]").click()
    dialog = page.locator("dialog[data-issued-dialog]")
    expect(dialog).to_be_visible()
    return dialog


def test_greeter_issues_a_priority_ticket_for_an_elderly_customer(hall, page, demo_server):
    # A morning queue, and counter 1 has called someone with two more in its window.
    hall.issue("payment", 4)
    hall.issue("service", 3)
    hall.issue("topup", 2, lane="vip", vip_account="VIP-8001")
    hall.issue("query", 1)
    hall.clear(1)
    hall.act(1, "call-next")
    open_tablet(page, demo_server["base"])

    dialog = issue_at_tablet(page, "payment", "优先", "老年")

    number = dialog.locator("[data-issued-number]").inner_text()
    assert number.startswith("A")
    expect(dialog.locator("[data-issued-type]")).to_have_text("缴费")
    expect(dialog.locator("[data-issued-ahead]")).to_have_text(re.compile(r"^\d+$"))
    print_link = dialog.locator("[data-issued-print]")
    expect(print_link).to_have_attribute("href", re.compile(r"/greeter/demo/tickets/\d+/print/$"))
    with page.expect_popup() as popup:
        print_link.click()
    expect(popup.value).to_have_url(re.compile(r"/t/[\w-]+/ticket/"))
    popup.value.close()
    dialog.locator("[data-close]").click()

    mine = row(page, number)
    expect(mine.locator(".badge.priority")).to_contain_text("老年")
    issued = ticket(hall, mine.get_attribute("data-ticket-id"))
    assert (issued["lane"], issued["priority_reason"], issued["origin"]) == (
        "priority",
        "elderly",
        "greeter",
    )
    # Counter 1's window shows in the queue: greeted and attended, at counter 1.
    expect(page.locator("#queue .badge.ok").first).to_contain_text("1")
    # The hall stream moves the queue: a kiosk ticket appears without a reload.
    (kiosk_number,) = hall.issue("broadband")
    expect(row(page, kiosk_number)).to_be_visible(timeout=3000)
    page.mouse.move(0, 0)
    screenshot(page, "greeter-tablet")


def test_transfer_moves_a_ticket_to_the_right_queue_keeping_its_issue_time(hall, page, demo_server):
    (wrong_queue,) = hall.issue("cards")
    open_tablet(page, demo_server["base"])
    wrong = row(page, wrong_queue)
    ticket_id = wrong.get_attribute("data-ticket-id")
    before = ticket(hall, ticket_id)

    wrong.locator("button[data-action='transfer']").click()

    dialog = page.locator("dialog[data-transfer-dialog]")
    expect(dialog).to_be_visible()
    expect(dialog.locator("[data-dialog-number]")).to_have_text(wrong_queue)
    expect(dialog.locator("[data-destination='cards']")).to_be_hidden()  # its own type
    dialog.locator("[data-destination='service']").click()
    dialog.locator("#transfer-reason").fill("需要办理过户")
    screenshot(page, "greeter-transfer")
    dialog.locator("[data-confirm]").click()

    expect(dialog).to_be_hidden()
    moved = page.locator(f"[data-queue-type='service'] li[data-number='{wrong_queue}']")
    expect(moved).to_be_visible()
    expect(
        page.locator(f"[data-queue-type='cards'] li[data-number='{wrong_queue}']")
    ).to_have_count(0)
    after = ticket(hall, ticket_id)
    assert (after["business_type"], after["number"], after["transfer_count"]) == (
        "service",
        wrong_queue,
        1,
    )
    assert after["issued_at"] == before["issued_at"]


def test_cancel_asks_first_then_takes_the_ticket_out_of_the_queue(hall, page, demo_server):
    (leaving,) = hall.issue("consult")
    open_tablet(page, demo_server["base"])
    ticket_id = row(page, leaving).get_attribute("data-ticket-id")

    row(page, leaving).locator("button[data-action='cancel']").click()
    dialog = page.locator("dialog[data-cancel-dialog]")
    expect(dialog).to_be_visible()
    dialog.locator("[data-close]").click()  # "keep the ticket": nothing happens
    expect(row(page, leaving)).to_be_visible()
    assert ticket(hall, ticket_id)["status"] == "waiting"

    row(page, leaving).locator("button[data-action='cancel']").click()
    dialog.locator("#cancel-reason").fill("客户有事先走了")
    dialog.locator("[data-confirm]").click()

    expect(row(page, leaving)).to_have_count(0)
    assert ticket(hall, ticket_id)["status"] == "cancelled"


def test_a_double_tap_issues_one_ticket(hall, page, demo_server):
    open_tablet(page, demo_server["base"], PORTRAIT)
    before = waiting(hall, "complaint")

    # A slow network: the second tap lands while the first request is still on its way.
    def slow(route):
        time.sleep(0.6)
        route.continue_()

    page.route("**/api/v1/halls/demo/tickets/", slow)
    page.locator("label[data-type='complaint']").click()
    page.locator("[data-issue-button]").dblclick()
    expect(page.locator("dialog[data-issued-dialog]")).to_be_visible()
    time.sleep(1.0)

    assert waiting(hall, "complaint") == before + 1
    page.locator("dialog[data-issued-dialog] [data-close]").click()
    screenshot(page, "greeter-tablet-portrait")


def test_a_clerk_gets_a_403_page(page, demo_server):
    sign_in(page, demo_server["base"], "clerk1")

    response = page.goto(f"{demo_server['base']}/greeter/demo/")

    assert response.status == 403
    expect(page.locator("[data-refused]")).to_be_visible()


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_tablet_fits_a_phone_in_both_languages(hall, demo_server, browser, language):
    """Issue 17: at 375 px one business per row, a ticket's buttons on their own line, no word
    broken to fit and no badge over a button."""
    base = demo_server["base"]
    hall.issue("service", 2)
    hall.issue("payment", priority_reason="elderly")
    context = browser.new_context(viewport={"width": 375, "height": 812})
    context.add_cookies([{"name": "django_language", "value": language, "url": base}])
    page = context.new_page()
    sign_in(page, base, "greeter")
    expect(page.locator("body")).to_have_attribute("data-live", "live", timeout=10000)
    expect(page.locator("#queue li[data-number]").first).to_be_visible()
    selector = "button, .button, label, .type-zh, .type-en, .type-stats, .badge, .ticket-number"
    row_parts = ("li.ticket-row", ".ticket-facts", ".ticket-actions")
    assert layout_faults(page, selector, row_parts) == []
    screenshot(page, f"greeter-phone-{language}")
    context.close()
