"""Issue 16 in a real browser, each person on their own screen: the greeting binds the order,
not the counter (a customer greeted at busy counter 1 is called by counter 2, and every screen
says counter 2); a pause is refused while a customer is called, with the ways out named, and the
lobby never sends anyone to the paused counter; a business with people waiting and no open
counter says so instead of "no wait".

The tests run in order on one demo server (the module's own) and continue each other's state.
"""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import screenshot

pytestmark = pytest.mark.e2e

LOBBY_TV = {"width": 1920, "height": 1080}
LAPTOP = {"width": 1366, "height": 768}
PHONE = {"width": 375, "height": 812}
COUNTER_SCREEN = {"width": 1280, "height": 400}


def new_page(browser, viewport):
    return browser.new_context(viewport=viewport, locale="zh-CN").new_page()


def live(page):
    expect(page.locator("body")).to_have_attribute("data-live", "live", timeout=10000)


def console_at(browser, base, number):
    """clerk<number> signs in through the login page and opens counter <number>."""
    page = new_page(browser, LAPTOP)
    page.goto(f"{base}/console/demo/")
    page.fill("#id_username", f"clerk{number}")
    page.fill("#id_password", "demo")
    page.press("#id_password", "Enter")
    page.wait_for_url(re.compile(r"/console/(demo|counters/\d+)/$"))
    if page.url.endswith("/console/demo/"):  # not signed in at a counter yet: pick it
        page.locator(f"tr[data-counter='{number}'] [data-open-counter]").click()
    expect(page.locator("[data-panel]")).to_have_attribute("data-counter-state", "open")
    live(page)
    return page


def issue(hall, business_type):
    return hall.request(
        "POST",
        "/api/v1/halls/demo/tickets/",
        auth=hall.kiosk,
        body={"business_type": business_type},
    )


def test_a_customer_greeted_at_a_busy_counter_is_called_by_another_that_is_free(
    browser, demo_server, hall
):
    """Item 1: counter 1 (payment, consult, ...) calls a payment customer, greets the next
    one and attends to a consultation; counter 2 (payment, not consult) calls while counter 1
    is still busy and takes the greeted customer, before a later payment customer. The lobby
    and its voice send them to counter 2, counter 2's console shows them, their phone says
    counter 2, and counter 1 greets its next (the consultation)."""
    base = demo_server["base"]
    lobby = new_page(browser, LOBBY_TV)
    lobby.goto(hall.lobby_url())
    live(lobby)
    screen_1 = new_page(browser, COUNTER_SCREEN)
    screen_1.goto(hall.counter_url(1))
    live(screen_1)
    clerk_2 = console_at(browser, base, 2)

    tickets = [issue(hall, code) for code in ("payment", "payment", "consult", "payment")]
    first, greeted, consult, later = (t["number"] for t in tickets)
    hall.clear(1)
    window = hall.act(1, "call-next")
    assert (window["called"]["number"], window["greeted"]["number"]) == (first, greeted)
    assert window["attended"]["number"] == consult
    phone = new_page(browser, PHONE)
    phone.goto(tickets[1]["status_url"])
    expect(phone.locator("[data-status]")).to_have_attribute("data-status", "waiting")
    expect(screen_1.locator("[data-greeted-line]")).to_contain_text(f"请准备 {greeted}")
    row_1 = lobby.locator("tr[data-counter='1']")
    expect(row_1.locator("td.greeted")).to_have_text(greeted, timeout=2000)

    # Counter 2 is free while counter 1 is still busy: its clerk calls by keyboard.
    queue_2 = clerk_2.locator("[data-waiting]")
    expect(queue_2.first).to_have_attribute("data-waiting", greeted, timeout=2000)
    expect(clerk_2.locator(f"[data-waiting='{later}']")).to_be_visible()
    clerk_2.keyboard.press("n")
    panel = clerk_2.locator("[data-panel]")
    expect(panel).to_have_attribute("data-current", greeted)
    expect(panel).to_have_attribute("data-current-status", "called")

    hero = lobby.locator(".call-hero")
    expect(hero).to_have_attribute("data-call-number", greeted, timeout=2000)
    expect(hero).to_contain_text("2号窗口")
    row_2 = lobby.locator("tr[data-counter='2']")
    expect(row_2.locator("td.current .current-number")).to_have_text(greeted)
    expect(row_2.locator("td.current")).to_contain_text("请到2号窗口")
    expect(row_2.locator("td.current")).to_contain_text("Please go to counter 2")
    lobby.wait_for_function(
        "n => window.hallqVoice.log.some(t => t.startsWith(`请${n}号到2号窗口`))",
        arg=greeted,
        timeout=2000,
    )
    spoken = lobby.evaluate("window.hallqVoice.log")
    assert f"Number {greeted}, please go to counter 2." in spoken
    assert not any(t.startswith(f"请{greeted}号到1号窗口") for t in spoken), spoken
    # Counter 1 keeps serving its first customer and greets its next in the queue.
    expect(row_1.locator("td.current .current-number")).to_have_text(first)
    expect(row_1.locator("td.greeted")).to_have_text(consult)
    expect(screen_1.locator("[data-greeted-line]")).to_contain_text(f"请准备 {consult}")
    expect(row_2.locator("td.greeted")).to_have_text(later)
    screenshot(lobby, "lobby-greeted-called-elsewhere")
    screenshot(clerk_2, "console-takes-greeted")

    # The customer's phone (the status page polls every 5 s) sends them to counter 2 too.
    call = phone.locator("[data-call-counter]")
    expect(call).to_have_attribute("data-call-counter", "2", timeout=8000)
    expect(call).to_contain_text(re.compile("2 ?号窗口"))

    for page in (lobby, screen_1, clerk_2, phone):
        page.context.close()


def test_a_pause_is_refused_while_a_customer_is_called_and_the_lobby_never_sends_anyone_there(
    browser, demo_server, hall
):
    """Item 2: counter 2 has a customer called (the test before). Its clerk tries to pause: the
    console says no and names the ways out, and the server refuses the same. "Back to the front
    of the queue" puts the customer first in line again (the lobby tells them to wait a moment);
    only then the pause goes through, and the lobby shows nobody called at counter 2. The
    customer is called next, by another counter, ahead of those issued after them."""
    base = demo_server["base"]
    lobby = new_page(browser, LOBBY_TV)
    lobby.goto(hall.lobby_url())
    live(lobby)
    clerk_2 = console_at(browser, base, 2)
    panel = clerk_2.locator("[data-panel]")
    called = panel.get_attribute("data-current")
    assert called, "counter 2 should still have the customer it called"
    expect(panel).to_have_attribute("data-current-status", "called")

    pause = clerk_2.locator("[data-action='pause']")
    expect(pause).to_have_attribute("aria-disabled", "true")
    clerk_2.keyboard.press("p")
    refused = clerk_2.locator(".toast.error")
    expect(refused).to_contain_text("请先办结、转移、标记过号,或让客户回到队首")
    expect(clerk_2.locator("#pause-dialog")).to_be_hidden()
    screenshot(clerk_2, "console-pause-refused")
    pause.click(force=True)  # aria-disabled, not disabled: a click says why too
    expect(refused).to_have_count(2)
    expect(clerk_2.locator("#pause-dialog")).to_be_hidden()
    with pytest.raises(AssertionError, match="409"):
        hall.act(2, "pause", {"reason": "phone_call"})
    expect(panel).to_have_attribute("data-current", called)

    clerk_2.keyboard.press("b")  # back to the front of the queue
    expect(clerk_2.locator(".toast.ok")).to_contain_text(called)
    expect(panel).to_have_attribute("data-current", "")
    notice = lobby.locator("[data-notice]")
    expect(notice).to_contain_text(called, timeout=2000)
    expect(notice).to_contain_text("still first in line")

    expect(pause).to_have_attribute("aria-disabled", "false")
    clerk_2.keyboard.press("p")
    dialog = clerk_2.locator("#pause-dialog")
    expect(dialog).to_be_visible()
    clerk_2.keyboard.press("Enter")
    expect(dialog).to_be_hidden()
    expect(panel).to_have_attribute("data-counter-state", "paused")

    row_2 = lobby.locator("tr[data-counter='2']")
    expect(row_2).to_contain_text("暂停服务", timeout=2000)
    expect(row_2).not_to_contain_text(called)
    hero = lobby.locator(".call-hero")
    expect(hero).not_to_contain_text("2号窗口")
    screenshot(lobby, "lobby-requeued-before-pause")

    # First in line with the issue time kept: the express counter (payments, no window)
    # calls them before the payment customer counter 2 had greeted, who was issued later.
    hall.clear(8)
    window = hall.act(8, "call-next")
    assert window["called"]["number"] == called
    expect(hero).to_have_attribute("data-call-number", called, timeout=2000)
    expect(hero).to_contain_text("8号窗口")

    hall.act(2, "resume")
    for page in (lobby, clerk_2):
        page.context.close()


def test_a_business_with_people_waiting_and_no_open_counter_never_says_no_wait(
    browser, demo_server, hall
):
    """Item 4: complaints (counters 4, 5 and 7, all closed here) with two waiting: the lobby
    tile and the kiosk say no counter is open for it, never "no wait"."""
    for number in (4, 5, 7):
        assert hall.counter_state(number)["state"] == "closed"
    issue(hall, "complaint")
    issue(hall, "complaint")

    lobby = new_page(browser, LOBBY_TV)
    lobby.goto(hall.lobby_url())
    live(lobby)
    tile = lobby.locator(".tile[data-business-type='complaint']")
    expect(tile.locator("[data-waiting]")).to_have_text("2")
    expect(tile.locator(".tile-wait")).to_contain_text("暂无窗口办理")
    expect(tile.locator(".tile-wait")).not_to_contain_text("无需等候")

    kiosk = new_page(browser, LOBBY_TV)
    kiosk.goto(f"{demo_server['base']}/kiosk/demo/?token={demo_server['kiosk_token']}")
    button = kiosk.locator("[data-business='complaint']")
    expect(button.locator("[data-no-counter-open]")).to_contain_text("暂无窗口办理")
    expect(button).not_to_contain_text("无需等候")

    hall.clear(4)  # a counter opens: the words become a wait again
    expect(tile.locator(".tile-wait")).not_to_contain_text("暂无窗口办理", timeout=5000)
    for page in (lobby, kiosk):
        page.context.close()
