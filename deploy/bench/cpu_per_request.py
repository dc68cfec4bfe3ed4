"""Web CPU per request, in one process: the hot paths through Django's test client.

No server and no network in the way, so the CPU a request costs in Django (middleware, DRF, the
services, the after-commit hooks, the publisher) shows without the server's, and a profile of it
(``PROFILE=1``: cProfile to ``var/cpu_per_request.prof``) is readable. It does not replace
``http_bench.py`` (latency, throughput, the real process layout); it finds where the CPU goes.

PostgreSQL + Redis, with the environment of ``http_bench.py``'s server:

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_cpu \\
        REDIS_URL=redis://127.0.0.1:6379/5 SECRET_KEY=$(python3 -c 'print("x" * 50)') \\
        ALLOWED_HOSTS=127.0.0.1 SECURE_SSL_REDIRECT=0
    createdb -h 127.0.0.1 -U postgres bench_cpu && .venv/bin/python manage.py migrate
    .venv/bin/python deploy/bench/cpu_per_request.py setup      # 2 halls as http_bench sets them
    .venv/bin/python deploy/bench/cpu_per_request.py run 200    # 200 issue/call/start/finish cycles

Prints the median and mean CPU (``time.process_time``) per request kind after 30 warm-up cycles.
"""

import cProfile
import json
import os
import random
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "deploy" / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
HALLS = ROOT / "var" / "cpu_per_request_halls.json"

import http_bench as hb  # noqa: E402


def setup() -> None:
    HALLS.write_text(json.dumps(hb.django_setup(2, 150, 7)))


def run(cycles: int) -> None:
    import django

    django.setup()
    from django.test import Client

    halls = json.loads(HALLS.read_text())["halls"]
    client = Client(HTTP_HOST="127.0.0.1")
    times = {"issue": [], "call-next": [], "start": [], "finish": []}

    def post(kind, path, auth, body="{}"):
        started = time.process_time()
        response = client.post(
            path,
            data=body,
            content_type="application/json",
            HTTP_AUTHORIZATION=auth,
            HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
        )
        times[kind].append(time.process_time() - started)
        return response

    def cycle():
        hall = random.choice(halls)
        body = json.dumps({"business_type": random.choice(list(hb.ISSUE_MIX))})
        post("issue", f"/api/v1/halls/{hall['code']}/tickets/", f"Device {hall['kiosk']}", body)
        counter = random.choice(hall["counters"])
        auth, base = f"Token {counter['token']}", f"/api/v1/counters/{counter['id']}"
        response = post("call-next", f"{base}/call-next/", auth)
        if response.status_code == 200 and response.json().get("called"):
            post("start", f"{base}/start/", auth)
            post("finish", f"{base}/finish/", auth)

    for _ in range(30):
        cycle()
    for spent in times.values():
        spent.clear()
    profile = cProfile.Profile() if os.environ.get("PROFILE") else None
    if profile:
        profile.enable()
    for _ in range(cycles):
        cycle()
    if profile:
        profile.disable()
        profile.dump_stats(ROOT / "var" / "cpu_per_request.prof")
    for kind, spent in times.items():
        spent.sort()
        print(
            f"{kind:9s} n={len(spent)} median {1000 * spent[len(spent) // 2]:.2f} ms CPU, "
            f"mean {1000 * sum(spent) / len(spent):.2f}"
        )


if __name__ == "__main__":
    if sys.argv[1:2] == ["setup"]:
        setup()
    else:
        run(int(sys.argv[2]) if len(sys.argv) > 2 else 200)
