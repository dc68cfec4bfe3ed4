"""One honest wait message (issue 16 item 4) in a real browser: where the wait is one to a few
services of uncertain length, the lobby board, the kiosk's button, its printed ticket and the
status page show a range ("约 25–60 分钟 / about 25–60 min"), not one figure."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import screenshot

pytestmark = pytest.mark.e2e

RANGE_ZH = re.compile(r"约 \d+–\d+ 分钟")
RANGE_EN = re.compile(r"about \d+–\d+ min")
RANGE_EITHER = re.compile(r"约 \d+–\d+ 分钟|about \d+–\d+ min")


def test_kiosk_lobby_ticket_and_status_page_show_a_range(hall, demo_server, page):
    # Complaints (15 min, no history yet: taken as exponential) at counter 4 alone, three
    # waiting: a new one waits three services of uncertain length.
    hall.clear(4)
    hall.issue("complaint", 3)
    types = hall.request("GET", "/api/v1/halls/demo/business-types/", auth=hall.kiosk)
    complaint = next(t for t in types if t["code"] == "complaint")
    low, high = complaint["estimated_wait_range_s"]
    wide_low, wide_high = complaint["estimated_wait_range_10_90_s"]
    assert wide_low <= low < complaint["estimated_wait_s"] < high <= wide_high

    page.goto(hall.lobby_url())
    tile = page.locator(".tile[data-business-type='complaint'] .tile-wait")
    expect(tile).to_contain_text(RANGE_ZH)
    expect(tile).to_contain_text(RANGE_EN)
    screenshot(page, "lobby-wait-range")

    page.add_init_script("window.print = () => {};")
    page.goto(f"{demo_server['base']}/kiosk/demo/?token={demo_server['kiosk_token']}")
    button = page.locator("[data-business='complaint']")
    expect(button.locator("[data-wait]")).to_have_text(RANGE_ZH)
    button.click()
    expect(page.locator("[data-step='confirm'] [data-wait]")).to_have_text(RANGE_ZH)
    page.locator("[data-issue]").click()
    ticket = page.locator("[data-step='ticket'] .ticket")
    expect(ticket.locator("[data-wait]")).to_have_text(RANGE_ZH)
    screenshot(page, "kiosk-ticket-wait-range")

    # The customer's status page (the QR code's target), in the browser's language.
    issued = hall.request(
        "POST", "/api/v1/halls/demo/tickets/", auth=hall.kiosk, body={"business_type": "complaint"}
    )
    page.goto(issued["status_url"])
    expect(page.locator("[data-wait]")).to_have_text(RANGE_EITHER)
