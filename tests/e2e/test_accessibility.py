"""Every page people touch, checked in the browser against WCAG 2 A and AA with axe-core
(vendored in tests/e2e/vendor: halls' networks have no CDN, nor do these machines): colour
contrast, names and labels, language, structure. And the product's own rule on top of WCAG:
every control a finger or a mouse must hit is at least 48×48 px."""

import json
from pathlib import Path

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

AXE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text()
TARGET_PX = 48
# What a person can hit: a control, or the label around it (radio cards hide their input).
# Inline links in running text are exempt, as in WCAG's own target rule.
CONTROLS = "button, [role=button], input:not([type=hidden]), select, textarea, .links a"


def axe_violations(page) -> list[dict]:
    page.add_script_tag(content=AXE)
    result = page.evaluate(
        """async () => {
            const r = await axe.run(document, {
                runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
            });
            return r.violations.map(v => ({
                id: v.id, help: v.help,
                nodes: v.nodes.slice(0, 5).map(n => n.target.join(" ") + " :: " + n.failureSummary),
            }));
        }"""
    )
    return result


def small_targets(page) -> list[str]:
    return page.evaluate(
        """([selector, min]) => [...document.querySelectorAll(selector)]
            .filter(e => e.offsetParent !== null && !e.closest("[hidden], dialog:not([open])"))
            .map(e => [e, (e.closest("label") || e).getBoundingClientRect()])
            .filter(([e, r]) => r.width < min - 0.5 || r.height < min - 0.5)
            .map(([e, r]) => `${e.outerHTML.slice(0, 90)} ${r.width | 0}x${r.height | 0}`)""",
        [CONTROLS, TARGET_PX],
    )


def check(page, name):
    violations = axe_violations(page)
    assert violations == [], f"{name}: " + json.dumps(violations, ensure_ascii=False, indent=1)
    assert small_targets(page) == [], name


def sign_in(page, base, username):
    page.goto(f"{base}/accounts/login/")
    check(page, "login")
    page.fill("#id_username", username)
    page.fill("#id_password", "demo")
    page.press("#id_password", "Enter")
    expect(page).to_have_url(f"{base}/")


def test_the_kiosk_meets_wcag_aa_and_48px_targets(browser, demo_server):
    page = browser.new_context(viewport={"width": 1080, "height": 1920}, locale="zh-CN").new_page()
    page.goto(f"{demo_server['base']}/kiosk/demo/?token={demo_server['kiosk_token']}")
    expect(page.locator("[data-step='welcome']")).to_be_visible()
    check(page, "kiosk welcome")
    page.locator("[data-elderly-toggle]").click()
    check(page, "kiosk welcome, elderly mode")
    page.locator("[data-business='service']").click()
    expect(page.locator("[data-step='confirm']")).to_be_visible()
    check(page, "kiosk confirmation, elderly mode")
    page.context.close()


def test_the_status_page_meets_wcag_aa_on_a_phone(browser, demo_server, hall):
    ticket = hall.request(
        "POST", "/api/v1/halls/demo/tickets/", auth=hall.kiosk, body={"business_type": "payment"}
    )
    page = browser.new_context(viewport={"width": 375, "height": 812}, locale="zh-CN").new_page()
    page.goto(ticket["status_url"])
    expect(page.locator("[data-status]")).to_be_visible()
    check(page, "status page")
    page.context.close()


def test_the_greeter_tablet_meets_wcag_aa_and_48px_targets(browser, demo_server, hall):
    hall.issue("payment", 2)
    hall.issue("service", lane="priority", priority_reason="elderly")
    page = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN").new_page()
    sign_in(page, demo_server["base"], "greeter")
    check(page, "start page")
    page.goto(f"{demo_server['base']}/greeter/demo/")
    expect(page.locator("body")).to_have_attribute("data-live", "live", timeout=10000)
    check(page, "greeter tablet")
    page.context.close()


def test_the_console_meets_wcag_aa_and_48px_targets(browser, demo_server, hall):
    hall.issue("service", priority_reason="elderly", phone="13812345678")
    hall.issue("service", 2)
    page = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN").new_page()
    sign_in(page, demo_server["base"], "clerk3")
    page.goto(f"{demo_server['base']}/console/demo/")
    check(page, "console: choose a counter")
    page.locator("tr[data-counter='3'] [data-open-counter]").click()
    expect(page.locator("body")).to_have_attribute("data-live", "live", timeout=10000)
    page.keyboard.press("n")
    expect(page.locator("[data-panel]")).to_have_attribute("data-current-status", "called")
    check(page, "console, a ticket called")
    page.keyboard.press("b")  # issue 16: back to the front of the queue before a pause
    expect(page.locator("[data-panel]")).to_have_attribute("data-current", "")
    page.keyboard.press("p")
    expect(page.locator("dialog[open]")).to_be_visible()
    check(page, "console, pause dialog")
    page.context.close()
