"""What an operator's engineer and a hall manager see before any page of ours exists: the API
docs (offline, no CDN) and the Django admin that configures the hall."""

from urllib.parse import urlparse

import pytest

from tests.e2e.conftest import screenshot

pytestmark = pytest.mark.e2e


def test_swagger_ui_renders_the_contract_with_no_request_off_this_host(demo_server, page):
    hosts = set()
    page.on("request", lambda request: hosts.add(urlparse(request.url).hostname))
    page.goto(f"{demo_server['base']}/api/v1/docs/")
    page.get_by_text("/api/v1/counters/{counter_id}/call-next/").first.wait_for(timeout=15000)
    assert page.get_by_text("/api/v1/halls/{hall}/tickets/").count() >= 1
    assert hosts == {"127.0.0.1"}, f"requests left the hall's network: {hosts}"
    screenshot(page, "api-docs")


def test_manager_configures_the_demo_hall_in_the_admin(demo_server, page):
    page.goto(f"{demo_server['base']}/admin/")
    page.fill("#id_username", "manager")
    page.fill("#id_password", "demo")
    page.click("input[type=submit]")
    page.goto(f"{demo_server['base']}/admin/hall/hall/")
    page.get_by_role("link", name="demo", exact=True).click()
    assert page.locator("#id_timezone").input_value() == "Asia/Shanghai"
    assert page.locator("#id_window_depth").input_value() == "2"
    screenshot(page, "admin-hall")
    page.goto(f"{demo_server['base']}/admin/counters/counter/")
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 8
    screenshot(page, "admin-counters")
