"""Live events cross processes through the real Redis channel layer.

Two separate gunicorn servers share the PostgreSQL test database and Redis, as production's two
tiers do: server 1 the ws tier (one uvicorn worker, ASGI), server 2 the web tier (one gthread
worker, WSGI). A lobby display connected to server 1 must receive the ``ticket.called`` frame of a
call made through server 2's HTTP API, promptly and with the next ``seq`` after its snapshot: the
publish happens in server 2 after commit (its sender thread) and the channel layer carries it to
server 1's consumer. Run with both ``channels_redis`` layers (``REDIS_CHANNEL_LAYER=core|pubsub``).
"""

import sys
import time
from urllib.parse import urlparse

import pytest
from rest_framework.authtoken.models import Token
from websockets.sync.client import connect

from counters.models import Counter
from tests.integration.test_process_layout import (
    _frames,
    _free_port,
    _request,
    _start,
    _stop,
    _wait_for,
    production_env,  # noqa: F401 - a fixture
)

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

DELIVERY_BOUND_S = 2.0
# The servers get a Redis database of their own: the rest of the suite publishes on the default
# one from parallel workers whose test databases may reuse this test's hall id, and the core
# layer keeps its groups per database. (Redis PUBLISH ignores the database: the pubsub layer is
# kept apart by production_env's REDIS_CHANNEL_PREFIX, one per test.)
REDIS_DB = 11


@pytest.fixture
def two_servers(request, production_env, tmp_path):  # noqa: F811 - the imported fixture
    redis = urlparse(production_env["REDIS_URL"])._replace(path=f"/{REDIS_DB}").geturl()
    env = {
        **production_env,
        "REDIS_URL": redis,
        "REDIS_CHANNEL_LAYER": request.param,
        "WS_CONCURRENCY": "1",
        "WEB_CONCURRENCY": "1",
        "DISPLAY_HEARTBEAT_SECONDS": "60",  # no heartbeat frame in the way
    }
    gunicorn = [sys.executable, "-m", "gunicorn"]
    tiers = [
        ("ws", ["config.asgi:application", "-c", "deploy/gunicorn_ws.conf.py"], "WS_BIND"),
        ("web", ["config.wsgi:application", "-c", "deploy/gunicorn.conf.py"], "BIND"),
    ]
    servers = []
    try:
        for name, args, bind in tiers:
            port = _free_port()
            with open(tmp_path / f"{name}.log", "wb") as log:
                proc = _start([*gunicorn, *args], {**env, bind: f"127.0.0.1:{port}"}, log)
            servers.append((proc, f"127.0.0.1:{port}"))
        for proc, address in servers:
            _wait_for(f"http://{address}/healthz/", proc)
        yield [address for _, address in servers]
    finally:
        for proc, _ in servers:
            _stop(proc)


@pytest.mark.parametrize("two_servers", ["core", "pubsub"], indirect=True)
def test_a_call_on_server_2_reaches_a_display_on_server_1(
    two_servers, hall, kiosk, display_device, clerk_a
):
    server1, server2 = two_servers
    api = f"http://{server2}/api/v1"
    auth = {"Authorization": f"Token {Token.objects.create(user=clerk_a).key}"}
    counter = Counter.objects.get(hall=hall, number=1)
    status, ticket = _request(
        "POST",
        f"{api}/halls/{hall.code}/tickets/",
        headers={"Authorization": f"Device {kiosk.token}"},
        body={"business_type": "payment"},
    )
    assert status == 201, ticket
    assert _request("POST", f"{api}/counters/{counter.pk}/open/", headers=auth)[0] == 200

    url = f"ws://{server1}/ws/halls/{hall.code}/display/?token={display_device.token}"
    with connect(url, open_timeout=10) as ws:
        snapshot = next(_frames(ws, time.monotonic() + 10))
        assert snapshot["type"] == "snapshot"

        status, window = _request("POST", f"{api}/counters/{counter.pk}/call-next/", headers=auth)
        answered = time.monotonic()
        assert status == 200, window
        assert window["called"]["id"] == ticket["id"]

        frame = next(_frames(ws, answered + DELIVERY_BOUND_S))
        assert frame["type"] == "ticket.called"
        assert frame["seq"] == snapshot["seq"] + 1
        assert frame["ticket"]["number"] == ticket["number"]
        assert frame["counter"] == {"id": counter.pk, "number": 1}
