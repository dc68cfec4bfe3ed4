"""The clerk console in a real browser: clerk3 signs in through the login page and picks
counter 3; a ticket issued at the kiosk appears within a second or two; call, start and finish
by keyboard alone; transfer through the dialog (only valid targets); pause through the dialog,
the counter display shows the apology, then resume.

The tests run in order on one demo server (a module's own) and continue each other's state.
"""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import layout_faults, screenshot

pytestmark = pytest.mark.e2e

LAPTOP = {"width": 1366, "height": 768}


def sign_in(page, base, username="clerk3"):
    """The login page by keyboard alone: the username field has the focus."""
    page.set_viewport_size(LAPTOP)
    page.goto(f"{base}/console/demo/")
    expect(page).to_have_url(f"{base}/accounts/login/?next=/console/demo/")
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    page.keyboard.type("demo")
    page.keyboard.press("Enter")


def panel(page):
    return page.locator("[data-panel]")


def live(page):
    expect(page.locator("body")).to_have_attribute("data-live", "live", timeout=10000)


def no_scrolling(page):
    sizes = page.evaluate(
        "[document.documentElement.scrollHeight, innerHeight,"
        " document.documentElement.scrollWidth, innerWidth]"
    )
    assert sizes[0] <= sizes[1] and sizes[2] <= sizes[3], sizes


def test_sign_in_pick_counter_and_serve_by_keyboard_alone(hall, demo_server, page):
    base = demo_server["base"]
    sign_in(page, base)
    expect(page).to_have_url(f"{base}/console/demo/")
    row = page.locator("tr[data-counter='3']")
    expect(row).to_contain_text("业务受理")
    screenshot(page, "console-login")
    row.locator("[data-open-counter]").focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{base}/console/counters/{hall.counter_ids[3]}/")
    live(page)
    expect(panel(page)).to_have_attribute("data-counter-state", "open")

    # A ticket issued at the kiosk shows up without touching the page.
    (number,) = hall.issue("service", priority_reason="elderly", phone="13812345678")
    expect(page.locator(f"[data-waiting='{number}']")).to_be_visible(timeout=2000)
    hall.issue("service", 2)
    hall.issue("cards", 2)
    hall.issue("consult", lane="vip", vip_account="88001234")
    hall.issue("consult", 4)

    page.keyboard.press("n")  # call next
    expect(panel(page)).to_have_attribute("data-current", number)
    expect(panel(page)).to_have_attribute("data-current-status", "called")
    expect(page.locator("[data-phone]")).to_have_text("*******5678")
    expect(page.locator("[data-help-reminder]")).to_be_visible()
    expect(page.locator(".phrases[data-step='greet']")).to_contain_text("请问您办理什么业务")
    expect(page.locator("[data-greeted]")).not_to_have_attribute("data-greeted", "")

    page.keyboard.press("s")  # start: the customer has arrived
    expect(panel(page)).to_have_attribute("data-current-status", "serving")
    expect(page.locator(".phrases[data-step='confirm']")).to_contain_text("请出示您的证件")
    expect(page.locator("[data-action='finish']")).to_be_enabled()
    expect(page.locator("[data-action='call-next']")).to_be_disabled()
    page.wait_for_timeout(1200)  # let the elapsed time tick once
    no_scrolling(page)
    screenshot(page, "console")

    page.keyboard.press("f")  # finish
    expect(panel(page)).to_have_attribute("data-current", "")
    expect(page.locator(".phrases[data-step='close']")).to_contain_text("请您慢走")
    expect(page.locator("[data-served]")).to_contain_text("1")
    assert hall.counter_state(3)["current"] is None


def test_transfer_lists_only_valid_targets_and_the_ticket_waits_for_the_new_type(
    hall, demo_server, page
):
    base = demo_server["base"]
    hall.clear(5)  # counter 5 (service, query, complaint, consult) open; 4 stays closed
    sign_in(page, base)
    # clerk3 is still signed in at counter 3: straight to its console.
    expect(page).to_have_url(f"{base}/console/counters/{hall.counter_ids[3]}/")
    live(page)
    page.keyboard.press("n")
    expect(panel(page)).not_to_have_attribute("data-current", "")
    number = panel(page).get_attribute("data-current")

    page.keyboard.press("t")
    dialog = page.locator("#transfer-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator("input[name='target']").first).to_be_focused()
    types = set(dialog.locator("[data-transfer-type]").evaluate_all("n => n.map(i => i.value)"))
    counters = dialog.locator("[data-transfer-counter]").evaluate_all(
        "n => n.map(i => i.dataset.transferCounter)"
    )
    own = hall.counter_state(3)["current"]["business_type"]
    assert f"business_type:{own}" not in types
    assert "business_type:query" in types
    expected_counters = {
        str(n)
        for n in (1, 2, 4, 5, 6, 7, 8)
        if hall.counter_state(n)["state"] != "closed"
        and own
        in hall.request("GET", "/api/v1/halls/demo/counters/", auth=hall.kiosk)[n - 1][
            "business_types"
        ]
    }
    assert set(counters) == expected_counters and "5" in counters and "4" not in counters

    waiting_before = query_waiting(hall)
    dialog.locator("input[value='business_type:query']").check()
    expect(dialog.locator("[data-transfer-phrase]")).to_contain_text("5号窗口")
    screenshot(page, "console-transfer")
    dialog.locator("button[type='submit']").click()
    expect(dialog).to_be_hidden()
    expect(panel(page)).to_have_attribute("data-current", "")
    expect(page.locator(f"[data-waiting='{number}']")).to_have_count(0)  # 3 does not do query
    assert query_waiting(hall) == waiting_before + 1


def query_waiting(hall) -> int:
    snapshot = hall.request("GET", "/api/v1/halls/demo/snapshot/", auth=hall.kiosk)
    return next(bt["waiting"] for bt in snapshot["business_types"] if bt["code"] == "query")


def test_pause_shows_the_apology_on_the_counter_display_and_resume(
    hall, demo_server, page, browser
):
    base = demo_server["base"]
    sign_in(page, base)
    live(page)
    display = browser.new_context(viewport={"width": 1280, "height": 400}).new_page()
    display.goto(hall.counter_url(3))
    expect(display.locator("body")).to_have_attribute("data-live", "live", timeout=10000)

    page.keyboard.press("p")
    dialog = page.locator("#pause-dialog")
    expect(dialog).to_be_visible()
    page.keyboard.press("ArrowRight")  # the second reason: fetching materials
    expect(dialog.locator("input[value='fetching_materials']")).to_be_checked()
    expect(dialog.locator("[data-apology-preview-zh]")).to_contain_text("工作人员正在取资料")
    page.keyboard.press("t")  # a key in a dialog is not a shortcut
    expect(page.locator("#transfer-dialog")).to_be_hidden()
    dialog.locator("#pause-note").fill("取宽带资料")
    screenshot(page, "console-pause")
    page.keyboard.press("Enter")
    expect(dialog).to_be_hidden()
    expect(panel(page)).to_have_attribute("data-counter-state", "paused")
    expect(page.locator("[data-action='resume']")).to_be_visible()
    expect(page.locator("[data-action='call-next']")).to_be_disabled()

    expect(display.locator(".state-paused")).to_contain_text("工作人员正在取资料", timeout=2000)

    page.keyboard.press("p")  # resume
    expect(panel(page)).to_have_attribute("data-counter-state", "open")
    expect(display.locator("[data-counter-body]")).not_to_have_attribute(
        "data-state", "paused", timeout=2000
    )
    display.context.close()


def test_refusal_shows_the_servers_message(hall, demo_server, page):
    """A raced action: counter 3 calls from elsewhere (its clerk's API token) while the console
    has not heard of it yet; the console's call is refused with the server's message."""
    base = demo_server["base"]
    sign_in(page, base)
    live(page)
    expect(page.locator("[data-action='call-next']")).to_be_enabled()
    page.route("**/panel/", lambda route: route.abort())  # keep the console's view stale
    hall.issue("cards")
    called = hall.act(3, "call-next")["called"]["number"]
    page.keyboard.press("n")
    expect(page.locator(".toast.error")).to_contain_text("窗口已有")
    page.unroute("**/panel/")
    page.keyboard.press("n")  # refused again; the refresh after it now shows the truth
    expect(panel(page)).to_have_attribute("data-current", called)


# Issue 17: the terminals clerks have (a 1366×768 laptop, a 1280×1024 monitor) and a 768 px
# tablet, in both languages: no horizontal scroll, no clipped control, no word broken apart.
CONSOLE_SIZES = [(1366, 768), (1280, 1024), (768, 1024)]


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_console_fits_the_clerks_screens_in_both_languages(
    hall, demo_server, browser, language
):
    base = demo_server["base"]
    hall.clear(6)
    counters = hall.request("GET", "/api/v1/halls/demo/counters/", auth=hall.kiosk)
    serves = next(c for c in counters if c["number"] == 6)["business_types"]
    hall.issue(serves[0], 2, priority_reason="elderly")
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    context.add_cookies([{"name": "django_language", "value": language, "url": base}])
    page = context.new_page()
    page.goto(f"{base}/accounts/login/?next=/console/counters/{hall.counter_ids[6]}/")
    page.fill("input[name='username']", "clerk6")
    page.fill("input[name='password']", "demo")
    page.press("input[name='password']", "Enter")
    live(page)
    page.keyboard.press("n")
    expect(panel(page)).to_have_attribute("data-current-status", "called")
    state = page.locator(".state-word")
    expect(state).to_have_text("开放" if language == "zh-hans" else "Open")  # translated, cased
    for width, height in CONSOLE_SIZES:
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(150)
        assert layout_faults(page) == [], (language, width)
        if width >= 1280:
            no_scrolling(page)  # the laptop and the monitor: one screen, nothing below it
        screenshot(page, f"console-{language}-{width}")
    page.keyboard.press("b")  # back to the front, so the next test finds counter 6 empty
    expect(panel(page)).to_have_attribute("data-current", "")
    context.close()


def test_a_recall_too_soon_is_refused_and_past_the_limit_no_show_comes_first(
    hall, demo_server, page, browser
):
    """Issue 16. Counter 3 has a called customer (the test before). A recall within the hall's
    cool-down (30 s) is refused with the seconds to wait; once allowed (the manager sets the
    cool-down to 0 and the recall limit to 1 here), the counter display says "第2次呼叫" and the
    console puts no-show first, as its primary button."""
    base = demo_server["base"]
    sign_in(page, base)
    live(page)
    expect(panel(page)).to_have_attribute("data-current", re.compile(r"\w+"))
    display = browser.new_context(viewport={"width": 1280, "height": 400}).new_page()
    display.goto(hall.counter_url(3))
    expect(display.locator("body")).to_have_attribute("data-live", "live", timeout=10000)
    no_show = page.locator("[data-action='no-show']")
    expect(no_show).not_to_have_class(re.compile(r"\baction-first\b"))

    page.keyboard.press("r")
    expect(page.locator(".toast.error")).to_contain_text("秒后再重呼")

    demo_server["shell"](
        "from hall.models import Hall; "
        "Hall.objects.filter(code='demo').update(recall_cooldown_seconds=0, recall_limit=1)"
    )
    page.keyboard.press("r")
    expect(page.locator("[data-suggest-no-show]")).to_be_visible()
    expect(no_show).to_have_class(re.compile(r"\baction-first\b"))
    expect(no_show).not_to_have_class(re.compile(r"\bdanger\b"))
    first = page.locator(".action-grid .button:not([hidden])").first.bounding_box()
    assert no_show.bounding_box()["y"] <= first["y"] + 1  # on the first row
    expect(display.locator("[data-call-count]")).to_contain_text("第2次呼叫", timeout=2000)
    screenshot(page, "console-no-show-first")

    page.keyboard.press("x")  # the customer did not come
    expect(panel(page)).not_to_have_attribute("data-current", re.compile(r"\w+"))
    expect(no_show).not_to_have_class(re.compile(r"\baction-first\b"))
    display.context.close()
