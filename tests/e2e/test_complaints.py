"""Complaints and the interruptions report in a real browser: clerk2 serves a customer who
complains, registers the complaint about that ticket from the complaints page, sees it with the
time to its deadline, and records the reply; the manager reads the day's interruptions."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import screenshot

pytestmark = pytest.mark.e2e


def sign_in(page, base, username, path):
    page.goto(f"{base}{path}")
    page.fill("#id_username", username)
    page.fill("#id_password", "demo")
    page.press("#id_password", "Enter")
    expect(page).to_have_url(re.compile(re.escape(path)))


def test_a_clerk_registers_a_complaint_about_the_ticket_being_served_and_replies(
    page, demo_server, hall
):
    base = demo_server["base"]
    hall.clear(2)
    (number,) = hall.issue("payment", phone="13912345678")
    hall.act(2, "call-next")
    hall.act(2, "start")

    sign_in(page, base, "clerk2", "/console/demo/complaints/")
    ticket_choice = page.get_by_label(re.compile(number))
    expect(ticket_choice).to_be_checked()
    expect(page.locator("#customer_phone")).to_have_value("13912345678")
    page.select_option("#category", "billing")
    page.fill("#description", "上月话费多扣了二十元,要求退还")
    page.fill("#customer_name", "王女士")
    page.click(".complaint-register button[type=submit]")

    card = page.locator("[data-complaint]").first
    expect(card).to_contain_text(number)
    expect(card.locator("[data-deadline]")).to_contain_text(re.compile(r"1\D+59|2\D+0"))
    screenshot(page, "complaints")

    card.locator("textarea[name=reply]").fill("已核实,多扣费用将于下月返还")
    card.locator("button[type=submit]").click()
    expect(page.locator("[data-complaint]")).to_have_count(0)
    expect(page.locator("table.list")).to_contain_text("已核实")


def test_the_manager_reads_the_days_interruptions(page, demo_server, hall):
    base = demo_server["base"]
    hall.clear(2)
    hall.act(2, "pause", {"reason": "fetching_materials", "note": "复印证件"})
    hall.act(2, "resume")
    hall.act(2, "pause", {"reason": "phone_call"})

    sign_in(page, base, "manager", "/console/demo/interruptions/")
    rows = page.locator("[data-interruption]")
    expect(rows).to_have_count(2)
    expect(rows.last).to_contain_text("2")
    expect(page.locator("[data-total]")).to_contain_text("2")
    screenshot(page, "interruptions")
    hall.act(2, "resume")
