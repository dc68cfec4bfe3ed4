"""GET /api/v1/halls/{hall}/snapshot/: what a display polls while its socket is down."""

import datetime
import json

import pytest

from counters.services import counter_call_next, counter_pause, counter_requeue, counter_resume
from hall.services import device_register
from tests.display.conftest import act, counter_1_calling

URL = "/api/v1/halls/h1/snapshot/"
TICKET_KEYS = {"id", "number", "business_type", "lane", "status", "issued_at"}


def _error_code(response) -> str:
    body = response.json()
    assert set(body) == {"error"}, body
    assert body["error"]["message"]
    return body["error"]["code"]


@pytest.mark.django_db
def test_display_reads_the_snapshot_with_its_seq(hall, display_device, greeter, clerk_a, api):
    c1 = counter_1_calling(hall, greeter, clerk_a)  # seq 5
    counter_requeue(counter_id=c1.pk, user=clerk_a)  # seq 6: A001 back to the front
    counter_pause(counter_id=c1.pk, user=clerk_a, reason="phone_call")  # seq 7

    response = api.as_device(display_device).get(URL)

    assert response.status_code == 200
    body = response.json()
    assert body["type"] == "snapshot"
    assert body["seq"] == 7
    assert set(body) >= {"hall", "business_types", "counters", "recent_calls", "now"}
    assert body["hall"]["code"] == "h1"
    board = {b["code"]: b for b in body["business_types"]}
    assert set(board) == {"payment", "topup", "service"}
    assert board["payment"]["prefix"] == "A"
    assert board["payment"]["waiting"] == 3  # A001 back in the queue; greeted and attended wait
    one = body["counters"][0]
    assert (one["number"], one["state"], one["seq"]) == (1, "paused", 7)
    assert one["current"] is None  # nobody is sent to a paused counter (issue 16)
    assert one["greeted"] is None  # a pause gives the window back to the pool
    assert one["pause"]["reason"] == "phone_call" and one["pause"]["apology_zh"]
    assert [c["number"] for c in body["counters"]] == [1, 2, 3, 4]
    # Issue 16: the lobby never sends anyone to a paused counter: A001's call is not listed.
    assert body["recent_calls"] == []
    counter_resume(counter_id=c1.pk, user=clerk_a)  # seq 8
    counter_call_next(counter_id=c1.pk, user=clerk_a)  # seq 9: A001 again, first in line
    calls = api.as_device(display_device).get(URL).json()["recent_calls"]
    assert calls[0] == {**calls[0], "number": "A001", "counter": 1, "recall": False, "seq": 9}
    assert len(calls) == 1


@pytest.mark.django_db
def test_kiosk_and_staff_of_the_hall_read_the_snapshot(hall, kiosk, greeter, clerk_a, api):
    assert api.as_device(kiosk).get(URL).status_code == 200
    for person in (greeter, clerk_a):
        response = api.as_user(person).get(URL)
        assert response.status_code == 200
        assert response.json()["seq"] == 0


@pytest.mark.django_db
def test_device_of_another_hall_is_refused_403(hall, other_hall, other_kiosk, api):
    display, token = device_register(hall=other_hall, kind="display")
    display.token = token

    for device in (other_kiosk, display):
        response = api.as_device(device).get(URL)
        assert response.status_code == 403
        assert _error_code(response) == "forbidden"


@pytest.mark.django_db
def test_staff_of_another_hall_is_refused_403(hall, outsider, api):
    response = api.as_user(outsider).get(URL)

    assert response.status_code == 403
    assert _error_code(response) == "forbidden"


@pytest.mark.django_db
@pytest.mark.parametrize("authorization", [None, "Device not-a-token"], ids=["none", "unknown"])
def test_no_or_unknown_credentials_are_refused_401(hall, api, authorization):
    if authorization:
        api.credentials(HTTP_AUTHORIZATION=authorization)

    response = api.get(URL)

    assert response.status_code == 401
    assert _error_code(response) in {"not_authenticated", "authentication_failed"}


@pytest.mark.django_db
def test_unknown_hall_is_404(display_device, api):
    response = api.as_device(display_device).get("/api/v1/halls/nowhere/snapshot/")

    assert response.status_code == 404
    assert _error_code(response) == "not_found"


def _instants(value):
    """The document with every timestamp as an instant to the millisecond: the stream's and
    the API's encoders spell the same time differently."""
    if isinstance(value, dict):
        return {k: _instants(v) for k, v in value.items() if k != "now"}
    if isinstance(value, list):
        return [_instants(v) for v in value]
    if isinstance(value, str) and len(value) >= 20 and value[10:11] == "T":
        instant = datetime.datetime.fromisoformat(value)
        return instant.replace(microsecond=instant.microsecond // 1000 * 1000)
    return value


@pytest.mark.django_db(transaction=True)
async def test_polled_snapshot_is_the_one_the_stream_starts_with(
    hall, display_device, greeter, clerk_a, api, streams
):
    await act(counter_1_calling, hall, greeter, clerk_a)

    lobby = await streams.lobby(display_device)
    response = await act(lambda: api.as_device(display_device).get(URL))

    assert response.status_code == 200
    assert _instants(json.loads(response.content)) == _instants(lobby.snapshot)
