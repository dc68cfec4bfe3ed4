"""Drive a running demo hall over HTTP, as its kiosk and clerks would, so that displays move.

Everything goes through the server's public API: tickets are issued with the kiosk's device
token, clerks sign in with POST /api/v1/auth/token/ and use the counter endpoints. So every
event is published by the server process itself and reaches the displays connected to it.
(Calling the services from this process would change the database but tell no display: the
embedded in-memory channel layer lives inside the server process.)
"""

import contextlib
import json
import random
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

from django.core.management.base import BaseCommand, CommandError

from config.demo import BUSINESS_TYPES, DEMO_PASSWORD

MINUTES_OF = {code: minutes for code, _, _, _, minutes, _ in BUSINESS_TYPES}
PAUSE_REASONS = ["phone_call", "fetching_materials", "break"]
KIOSK_LANES = [  # (weight, body extras): what customers choose at the kiosk
    (80, {}),
    (10, {"lane": "priority", "priority_reason": "elderly"}),
    (3, {"lane": "priority", "priority_reason": "disabled"}),
    (7, {"vip_account": "VIP-DEMO"}),
]


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code = status, code


class Api:
    """A tiny JSON client for the hall API (stdlib only)."""

    def __init__(self, base: str):
        self.base = base.rstrip("/")

    def call(self, method: str, path: str, *, auth: str | None = None, body=None):
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if auth:
            headers["Authorization"] = auth
        data = None if body is None and method == "GET" else json.dumps(body or {}).encode()
        request = urllib.request.Request(
            self.base + path, data=data, headers=headers, method=method
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as err:
            try:
                error = json.loads(err.read())["error"]
            except (ValueError, KeyError, TypeError):
                error = {"code": "http_error", "message": err.reason}
            raise ApiError(err.code, error.get("code", "error"), error.get("message", "")) from None

    def wait_until_up(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while True:
            try:
                with urllib.request.urlopen(self.base + "/healthz/", timeout=2):
                    return
            except OSError as err:
                if time.monotonic() > deadline:
                    raise CommandError(
                        f"{self.base}/healthz/ did not answer in {seconds:g} s: {err}"
                    ) from None
                time.sleep(0.5)


@dataclass
class Desk:
    """One counter as its clerk sees it: what is at the window and since when."""

    id: int
    number: int
    token: str
    doing: str = "idle"  # idle, called, serving, paused
    since: float = 0.0  # when it began (idle: when to look for the next customer)
    business_type: str = ""
    duration: float = 0.0


class Command(BaseCommand):
    help = (
        "Drive a running server's demo hall with simulated customers (kiosk) and clerks "
        "(counter API) so that displays move: make run DEMO_LIVE=1."
    )

    def add_arguments(self, parser):
        parser.add_argument("--base", default="http://127.0.0.1:8000", help="the running server")
        parser.add_argument(
            "--kiosk-token",
            required=True,
            help="printed by seed_demo; write --kiosk-token=TOKEN, a token may begin with '-'",
        )
        parser.add_argument("--hall", default="demo")
        parser.add_argument("--password", default=DEMO_PASSWORD, help="of clerk1..clerkN")
        parser.add_argument("--arrivals-per-minute", type=float, default=12.0)
        parser.add_argument(
            "--speed", type=float, default=10.0, help="how many times faster than real service"
        )
        parser.add_argument("--minutes", type=float, default=0, help="stop after (0: never)")
        parser.add_argument("--wait", type=float, default=120, help="seconds to wait for /healthz/")
        parser.add_argument("--seed", type=int, default=None)

    def handle(self, *args, **options):
        self.api = Api(options["base"])
        self.kiosk = f"Device {options['kiosk_token']}"
        self.hall = options["hall"]
        self.speed = options["speed"]
        self.rng = random.Random(options["seed"])
        self.api.wait_until_up(options["wait"])
        desks = self._open_counters(options["password"])
        if not desks:
            raise CommandError("No counter could be opened (are clerk1..clerkN in the hall?)")
        self.stdout.write(
            f"Driving {self.hall} at {self.api.base}: counters "
            f"{', '.join(str(d.number) for d in desks)} open. Ctrl-C to stop."
        )
        rate = options["arrivals_per_minute"] / 60.0
        deadline = time.monotonic() + options["minutes"] * 60 if options["minutes"] else None
        next_arrival = time.monotonic()
        while deadline is None or time.monotonic() < deadline:
            try:
                if time.monotonic() >= next_arrival:
                    self._arrive()
                    next_arrival += self.rng.expovariate(rate)
                for desk in desks:
                    self._work(desk)
            except OSError as err:  # the server went away: wait for it, as a device would
                self.stderr.write(f"server unreachable ({err}); retrying")
                self.api.wait_until_up(options["wait"])
            time.sleep(0.5)

    def _open_counters(self, password: str) -> list[Desk]:
        counters = self.api.call("GET", f"/api/v1/halls/{self.hall}/counters/", auth=self.kiosk)
        desks = []
        for counter in sorted(counters, key=lambda c: c["number"]):
            username = f"clerk{counter['number']}"
            try:
                login = {"username": username, "password": password}
                token = self.api.call("POST", "/api/v1/auth/token/", body=login)["token"]
                desk = Desk(id=counter["id"], number=counter["number"], token=f"Token {token}")
                state = self._post(desk, "open")["counter"]["state"]
            except ApiError as err:
                self.stderr.write(f"counter {counter['number']} ({username}): {err}")
                continue
            if state == "paused":
                desk.doing, desk.since = "paused", 0.0  # resumes on the first round
            desks.append(desk)
        return desks

    def _post(self, desk: Desk, action: str, body=None):
        return self.api.call(
            "POST", f"/api/v1/counters/{desk.id}/{action}/", auth=desk.token, body=body
        )

    def _arrive(self) -> None:
        code = self.rng.choice(list(MINUTES_OF))
        weights, extras = zip(*KIOSK_LANES, strict=True)
        body = {"business_type": code, **self.rng.choices(extras, weights=weights)[0]}
        try:
            issued = self.api.call(
                "POST", f"/api/v1/halls/{self.hall}/tickets/", auth=self.kiosk, body=body
            )
            self.stdout.write(f"issued {issued['number']} ({issued['lane']})")
        except ApiError as err:
            self.stderr.write(f"issue refused: {err}")

    def _work(self, desk: Desk) -> None:
        """One look at the counter: the clerk does the next thing when its time has come."""
        now = time.monotonic()
        elapsed = now - desk.since
        try:
            if desk.doing == "paused":
                if elapsed > 180 / self.speed:
                    self._post(desk, "resume")
                    desk.doing = "serving" if desk.business_type else "idle"
                    desk.since = now
            elif desk.doing == "idle" and now >= desk.since:
                if self.rng.random() < 0.03:
                    self._post(desk, "pause", {"reason": self.rng.choice(PAUSE_REASONS)})
                    desk.doing, desk.since = "paused", now
                    return
                called = self._post(desk, "call-next")["called"]
                if called:
                    desk.doing, desk.since = "called", now
                    desk.business_type = called["business_type"]
                    self.stdout.write(f"counter {desk.number} calls {called['number']}")
                else:  # nobody for this counter: look again in a few seconds, as a clerk would
                    desk.since = now + self.rng.uniform(2, 5)
            elif desk.doing == "called" and elapsed > 20 / self.speed:
                if self.rng.random() < 0.05:
                    self._post(desk, "no-show")
                    desk.doing, desk.business_type = "idle", ""
                else:
                    self._post(desk, "start")
                    expected = MINUTES_OF.get(desk.business_type, 5) * 60 / self.speed
                    desk.doing, desk.since = "serving", now
                    desk.duration = self.rng.expovariate(1 / expected)
            elif desk.doing == "serving" and elapsed > desk.duration:
                self._post(desk, "finish", {"outcome": "completed"})
                desk.doing, desk.business_type = "idle", ""
        except ApiError as err:
            self.stderr.write(f"counter {desk.number}: {err}")
            self._recover(desk, err)

    def _recover(self, desk: Desk, err: ApiError) -> None:
        """Someone else (a person at the console, an earlier run) changed the counter."""
        desk.since = 0.0
        if err.code == "counter_busy":  # a ticket from before is still at the window
            desk.doing, desk.duration = "serving", 0.0
        elif err.code == "invalid_transition" and desk.doing == "serving":
            desk.doing = "called"  # it was called but never started
        elif err.code == "counter_paused":
            desk.doing = "paused"
        elif err.code == "counter_closed":
            with contextlib.suppress(ApiError):
                self._post(desk, "open")
            desk.doing = "idle"
        else:
            desk.doing, desk.business_type = "idle", ""
