"""The rating pad at counter 3 in a real browser: a finish through the API makes it ask, a tap
records the rating (seen in the daily report); a finish left unanswered goes back to idle after
the pad's wait and records nothing. Then the manager's daily report page."""

import datetime
import zoneinfo

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import screenshot
from tests.e2e.test_accessibility import check as check_wcag

pytestmark = pytest.mark.e2e

TABLET = {"width": 1280, "height": 800}
WAIT_S = 4  # ?idle=: the pad's wait for an answer, shortened for the unanswered case


def manager_token(hall) -> str:
    login = {"username": "manager", "password": "demo"}
    return "Token " + hall.request("POST", "/api/v1/auth/token/", body=login)["token"]


def satisfaction_today(hall) -> dict:
    today = datetime.datetime.now(zoneinfo.ZoneInfo("Asia/Shanghai")).date().isoformat()
    path = f"/api/v1/halls/demo/reports/daily/?date={today}"
    return hall.request("GET", path, auth=manager_token(hall))["satisfaction"]


def serve_one(hall, number: int) -> dict:
    """Issue a consultation, and counter ``number`` calls, starts and finishes it."""
    (ticket,) = hall.issue("consult")
    called = hall.act(number, "call-next")["called"]
    assert called["number"] == ticket
    hall.act(number, "start")
    return hall.act(number, "finish")["ticket"]


def test_the_pad_asks_after_a_finish_records_a_tap_and_nothing_when_left_alone(
    hall, demo_server, page
):
    hall.clear(3)
    before = satisfaction_today(hall)
    counter_id = hall.counter_ids[3]
    token = demo_server["rating_pad_token"]
    page.set_viewport_size(TABLET)
    body = page.locator("body")

    def open_pad(wait_s: int):
        page.goto(f"{hall.base}/rate/{counter_id}/?token={token}&idle={wait_s}")
        expect(body).to_have_attribute("data-live", "live", timeout=10000)

    open_pad(60)  # time enough for the accessibility checks below
    expect(body).to_have_attribute("data-pad-step", "idle")
    screenshot(page, "rating-pad-idle")

    # A finish: the pad asks, with the ticket's number, in both languages.
    first = serve_one(hall, 3)
    expect(body).to_have_attribute("data-pad-step", "ask", timeout=2000)
    expect(page.locator("[data-ticket-number]")).to_have_text(first["number"])
    ratings = page.locator("[data-rating]")
    expect(ratings).to_have_count(3)
    for button in ratings.all():  # huge targets for an elderly customer's finger
        box = button.bounding_box()
        assert box["height"] >= 150 and box["width"] >= 250, box
    expect(page.locator("[data-rating='very_satisfied']")).to_contain_text("Very satisfied")
    screenshot(page, "rating-pad-ask")
    check_wcag(page, "rating pad: the question")  # WCAG 2.1 AA (axe-core) and 48 px targets

    page.click("[data-rating='very_satisfied']")
    expect(body).to_have_attribute("data-pad-step", "reason")
    expect(page.locator("[data-reason]")).to_have_count(4)
    screenshot(page, "rating-pad-reason")
    check_wcag(page, "rating pad: the reasons")
    page.click("[data-reason='friendly']")
    expect(body).to_have_attribute("data-pad-step", "thanks", timeout=3000)
    screenshot(page, "rating-pad-thanks")
    after = satisfaction_today(hall)
    assert after["ratings"] == before["ratings"] + 1
    assert after["very_satisfied"] == before["very_satisfied"] + 1
    reasons = {r["reason"]: r["count"] for r in after["reasons"]}
    assert reasons.get("friendly", 0) >= 1

    # Another finish, and nobody answers: back to idle after the wait, nothing recorded.
    open_pad(WAIT_S)
    serve_one(hall, 3)
    expect(body).to_have_attribute("data-pad-step", "ask", timeout=2000)
    expect(body).to_have_attribute("data-pad-step", "idle", timeout=(WAIT_S + 3) * 1000)
    assert page.evaluate("window.hallqPad.sent.length") == 0  # this page load sent nothing
    assert satisfaction_today(hall)["ratings"] == after["ratings"]


def test_the_manager_reads_the_daily_report_and_downloads_it(hall, demo_server, page):
    hall.clear(3)
    serve_one(hall, 3)
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(f"{hall.base}/reports/demo/")
    page.fill("#id_username", "manager")
    page.fill("#id_password", "demo")
    page.press("#id_password", "Enter")
    expect(page).to_have_url(f"{hall.base}/reports/demo/")
    expect(page.locator("#report-date")).to_be_visible()
    expect(page.locator(".report-card")).to_have_count(8)
    screenshot(page, "daily-report")
    check_wcag(page, "daily report")
    with page.expect_download() as download:
        page.click("a[href^='/api/v1/halls/demo/reports/daily/'][href$='format=xlsx']")
    assert download.value.suggested_filename.startswith("report-demo-")
    assert download.value.suggested_filename.endswith(".xlsx")
