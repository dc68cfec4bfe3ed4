"""Browser tests: the real ASGI server on a seeded SQLite file, driven by Playwright in
Debian's Chromium (/usr/bin/chromium; Playwright's own browser download cannot work here)."""

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "docs" / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory):
    """``make run`` in miniature: migrate, seed the demo hall, serve over ASGI (uvicorn).

    One server per test module, so that a module's tests never see another module's tickets.
    """
    var = tmp_path_factory.mktemp("var")
    env = {
        **os.environ,
        "HALLQ_VAR_DIR": str(var),
        "DATABASE_URL": f"sqlite:///{var / 'e2e.sqlite3'}",
    }
    for key in ("REDIS_URL", "SECRET_KEY", "ALLOWED_HOSTS"):
        env.pop(key, None)
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "--no-input", "-v0"], cwd=ROOT, env=env, check=True)
    seeded = subprocess.run(
        [*manage, "seed_demo"], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    ).stdout
    tokens = dict(re.findall(r"(Kiosk|Display) device token\s+(\S+)", seeded))
    rating_pad = re.search(r"Rating pad token\s+(\S+)", seeded)
    port = _free_port()
    with open(var / "server.log", "wb") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "config.asgi:application", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{base}/healthz/", timeout=2)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(
                        "the demo server did not start: " + (var / "server.log").read_text()
                    )
                time.sleep(0.3)
        yield {
            "base": base,
            "kiosk_token": tokens["Kiosk"],
            "display_token": tokens["Display"],
            "rating_pad_token": rating_pad.group(1) if rating_pad else None,
            # Python run in ``manage.py shell`` against the server's database: a hall setting
            # changed as the manager would in the admin.
            "shell": lambda code: subprocess.run(
                [*manage, "shell", "-c", code], cwd=ROOT, env=env, check=True, capture_output=True
            ),
        }
        server.terminate()
        server.wait(timeout=15)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (.ci/run does it)")
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page = context.new_page()
    yield page
    context.close()


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    return path


class HallApi:
    """The demo hall through its HTTP API: the kiosk issues, clerk<n> works counter <n>."""

    def __init__(self, server):
        self.base = server["base"]
        self.kiosk = f"Device {server['kiosk_token']}"
        self.display_token = server["display_token"]
        self.tokens = {}
        counters = self.request("GET", "/api/v1/halls/demo/counters/", auth=self.kiosk)
        self.counter_ids = {c["number"]: c["id"] for c in counters}

    def request(self, method, path, *, auth=None, body=None):
        headers = {"Content-Type": "application/json"}
        if auth:
            headers["Authorization"] = auth
        data = json.dumps(body or {}).encode() if method == "POST" else None
        request = urllib.request.Request(self.base + path, data, headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as err:
            raise AssertionError(f"{method} {path}: {err.code} {err.read()!r}") from None

    def issue(self, business_type, count=1, **extra):
        return [
            self.request(
                "POST",
                "/api/v1/halls/demo/tickets/",
                auth=self.kiosk,
                body={"business_type": business_type, **extra},
            )["number"]
            for _ in range(count)
        ]

    def clerk(self, number):
        if number not in self.tokens:
            login = {"username": f"clerk{number}", "password": "demo"}
            token = self.request("POST", "/api/v1/auth/token/", body=login)["token"]
            self.tokens[number] = f"Token {token}"
        return self.tokens[number]

    def act(self, number, action, body=None):
        path = f"/api/v1/counters/{self.counter_ids[number]}/{action}/"
        return self.request("POST", path, auth=self.clerk(number), body=body)

    def counter_state(self, number):
        snapshot = self.request("GET", "/api/v1/halls/demo/snapshot/", auth=self.kiosk)
        return next(c for c in snapshot["counters"] if c["number"] == number)

    def clear(self, number):
        """Open counter ``number`` with an empty window, whatever earlier tests left there."""
        self.act(number, "open")
        counter = self.counter_state(number)
        if counter["state"] == "paused":
            self.act(number, "resume")
        if counter["current"] is not None:
            if counter["current"]["status"] == "called":
                self.act(number, "start")
            self.act(number, "finish")

    def lobby_url(self):
        return f"{self.base}/display/halls/demo/lobby/?token={self.display_token}"

    def counter_url(self, number):
        return f"{self.base}/display/demo/counters/{number}/?token={self.display_token}"


@pytest.fixture
def hall(demo_server):
    return HallApi(demo_server)


CONTROLS = "button, .button, select, label, th"


def layout_faults(page, selector: str = CONTROLS, apart: tuple[str, str, str] | None = None):
    """What a user would see as broken: the page wider than the screen, an element of
    ``selector`` whose content does not fit its box or leaves the screen, a word broken apart
    to fit (a Latin word wider than its box), and, with ``apart=(row, a, b)``, the parts ``a``
    and ``b`` of a ``row`` overlapping."""
    return page.evaluate(
        """([selector, apart]) => {
          const faults = [];
          const d = document.documentElement;
          if (d.scrollWidth > innerWidth) faults.push(`scrolls sideways: ${d.scrollWidth}`);
          const probe = document.createElement('span');
          probe.style.cssText = 'position:absolute;visibility:hidden;white-space:nowrap';
          document.body.append(probe);
          for (const el of document.querySelectorAll(selector)) {
            const r = el.getBoundingClientRect();
            if (!r.width || el.closest('[hidden], dialog:not([open])')) continue;
            const text = el.textContent.trim().replace(/\\s+/g, ' ').slice(0, 40);
            if (r.right > innerWidth + 1 || r.left < -1) faults.push(`off screen: ${text}`);
            const clipped = el.clientWidth && el.scrollWidth > el.clientWidth + 1;
            if (clipped) faults.push(`clipped: ${text}`);
            probe.style.font = getComputedStyle(el).font;
            for (const word of el.textContent.trim().split(/\\s+/)) {
              if (word.length < 4 || /[\\u3000-\\u9fff]/.test(word)) continue;
              probe.textContent = word;
              if (probe.getBoundingClientRect().width > r.width + 0.5)
                faults.push(`word broken: ${word} in ${text}`);
            }
          }
          probe.remove();
          if (apart) {
            const [row, a, b] = apart;
            for (const each of document.querySelectorAll(row)) {
              const one = each.querySelector(a), other = each.querySelector(b);
              if (!one || !other) continue;
              const p = one.getBoundingClientRect(), q = other.getBoundingClientRect();
              const overlap =
                p.left < q.right && q.left < p.right && p.top < q.bottom && q.top < p.bottom;
              if (overlap) faults.push(`overlap in ${each.textContent.trim().slice(0, 20)}`);
            }
          }
          return faults;
        }""",
        [selector, list(apart) if apart else None],
    )
