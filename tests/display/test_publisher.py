"""The publisher: live messages only after commit, in seq order, and never at the request's cost
(DESIGN.md invariants 4 and 6)."""

import json
import logging
import socket
import time

import pytest
from channels.layers import get_channel_layer
from django.db import transaction

import display.publisher
from counters.services import counter_call_next, counter_open
from display.publisher import counter_group, hall_group, wait_until_sent
from display.selectors import counter_states, hall_snapshot
from tests.conftest import counter
from tests.factories import issue

pytestmark = pytest.mark.django_db(transaction=True)


class Sent(list):
    """What reached the channel layer: (group, frame) pairs, frames decoded as displays do."""

    def frames(self, group: str) -> list[dict]:
        return [json.loads(message["text"]) for g, message in self if g == group]


@pytest.fixture
def sent(monkeypatch):
    layer = get_channel_layer()
    record = Sent()
    real_group_send = layer.group_send

    async def group_send(group, message):
        record.append((group, message))
        await real_group_send(group, message)

    monkeypatch.setattr(layer, "group_send", group_send)
    return record


@pytest.fixture
def open_counter(hall, clerk_a):
    c1 = counter(hall, 1)
    counter_open(counter_id=c1.pk, user=clerk_a)
    return c1


def test_nothing_is_sent_before_commit(hall, greeter, sent):
    with transaction.atomic():
        issue(hall, by=greeter)
        issue(hall, by=greeter)
        assert sent == []

    assert [f["seq"] for f in sent.frames(hall_group(hall.pk))] == [1, 2]


def test_a_rolled_back_action_sends_nothing(hall, greeter, clerk_a, open_counter, sent):
    issue(hall, by=greeter)
    sent.clear()

    with pytest.raises(RuntimeError), transaction.atomic():
        counter_call_next(counter_id=open_counter.pk, user=clerk_a)
        raise RuntimeError("the request failed after the call")

    assert sent == []
    # The seq it took was rolled back too: the next event follows on without a gap.
    counter_call_next(counter_id=open_counter.pk, user=clerk_a)
    assert [f["seq"] for f in sent.frames(hall_group(hall.pk))] == [3]


def test_seq_is_consecutive_per_hall_and_independent_between_halls(
    hall, other_hall, greeter, outsider, sent
):
    for _ in range(3):
        issue(hall, by=greeter)
        issue(other_hall, by=outsider)
    issue(hall, by=greeter)

    assert [f["seq"] for f in sent.frames(hall_group(hall.pk))] == [1, 2, 3, 4]
    assert [f["seq"] for f in sent.frames(hall_group(other_hall.pk))] == [1, 2, 3]
    assert [f["ticket"]["number"] for f in sent.frames(hall_group(other_hall.pk))] == [
        "A001",
        "A002",
        "A003",
    ]


def test_each_message_describes_the_hall_as_of_its_own_seq(hall, greeter, sent):
    # Both are sent at the one commit; each must still say what was true at its seq. Built
    # under the lock from rows in hand, neither carries the hall's board (display.board).
    with transaction.atomic():
        issue(hall, by=greeter)
        issue(hall, by=greeter)

    first, second = sent.frames(hall_group(hall.pk))
    assert [(f["seq"], f["ticket"]["number"]) for f in (first, second)] == [
        (1, "A001"),
        (2, "A002"),
    ]
    assert "business_types" not in first and "business_types" not in second


def test_called_message_matches_the_committed_state(hall, greeter, clerk_a, open_counter, sent):
    for _ in range(3):
        issue(hall, by=greeter)
    sent.clear()

    counter_call_next(counter_id=open_counter.pk, user=clerk_a)

    (lobby,) = sent.frames(hall_group(hall.pk))
    (own,) = sent.frames(counter_group(open_counter.pk))
    snapshot = json.loads(json.dumps(hall_snapshot(hall=hall), default=str))
    assert lobby["seq"] == own["seq"] == snapshot["seq"]
    committed = json.loads(
        json.dumps(counter_states(hall_id=hall.pk, counter_ids=[open_counter.pk]), default=str)
    )
    assert [_comparable(c) for c in lobby["counters"]] == [_comparable(c) for c in committed]
    assert _comparable(lobby["counters"][0]) == _comparable(snapshot["counters"][0])
    assert lobby["counters"][0]["seq"] == lobby["seq"]
    # The counter's own display gets the same frame plus the seq it follows on from.
    assert own == {**lobby, "prev_seq": 1}


def _comparable(state: dict) -> dict:
    """A counter state without its timestamps, which the two encoders spell differently."""
    return {
        key: (
            {k: v for k, v in value.items() if k != "issued_at"}
            if isinstance(value, dict)
            else value
        )
        for key, value in state.items()
        if key != "since"
    }


def test_a_failing_in_memory_publish_does_not_fail_the_request(
    hall, clerk_a, api, monkeypatch, caplog
):
    async def broken(group, message):
        raise RuntimeError("channel layer full")

    monkeypatch.setattr(get_channel_layer(), "group_send", broken)
    c1 = counter(hall, 1)

    response = api.as_user(clerk_a).post(f"/api/v1/counters/{c1.pk}/open/")

    assert response.status_code == 200
    assert counter(hall, 1).state == "open"
    assert any(r.levelno >= logging.ERROR and r.name == "display.publisher" for r in caplog.records)


# --- Redis down ------------------------------------------------------------------------------


@pytest.fixture(params=["refusing", "silent"])
def redis_down(request, settings, monkeypatch):
    """The production layer, pointed at a Redis that is down.

    "refusing": nothing listens on the port (Redis stopped). "silent": the port accepts
    connections but never answers (Redis hung, or a network that drops replies).
    pytest-django's ``settings`` fires ``setting_changed``, on which Channels drops its cached
    layers, so the publisher gets a Redis layer here and the in-memory one again afterwards.
    """
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    port = server.getsockname()[1]
    if request.param == "silent":
        server.listen(64)  # the kernel completes handshakes; nobody ever reads or replies
    else:
        server.close()
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [f"redis://127.0.0.1:{port}/0"]},
        }
    }
    settings.DISPLAY_PUBLISH_RETRY_SECONDS = 0.5
    # Built (and redis imported) once per process, as a web worker does on its first publish;
    # creating it connects to nothing.
    assert type(get_channel_layer()).__name__ == "RedisChannelLayer"
    # A sender thread of its own: a running one keeps the layer it started with.
    monkeypatch.setattr(display.publisher, "_sender_instance", None)
    try:
        yield settings
    finally:
        server.close()
        assert wait_until_sent(timeout=5), "the publisher was still busy after the test"


def test_redis_down_counter_action_succeeds_and_publish_is_dropped_after_the_deadline(
    hall, clerk_a, api, redis_down, caplog
):
    caplog.set_level(logging.WARNING, logger="display.publisher")
    c1 = counter(hall, 1)
    api.as_user(clerk_a)
    assert api.get("/api/v1/halls/h1/counters/").status_code == 200  # URLs loaded, warm

    started = time.monotonic()
    response = api.post(f"/api/v1/counters/{c1.pk}/open/")
    answered = time.monotonic() - started

    assert response.status_code == 200
    assert response.json()["counter"]["state"] == "open"
    assert not wait_until_sent(timeout=0), "the request waited for the publisher"
    assert answered < redis_down.DISPLAY_PUBLISH_RETRY_SECONDS
    assert counter(hall, 1).state == "open"

    assert wait_until_sent(timeout=5), "retries did not stop"
    gave_up = time.monotonic() - started
    assert redis_down.DISPLAY_PUBLISH_RETRY_SECONDS * 0.8 <= gave_up < 3
    dropped = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert dropped and all("dropped" in r.getMessage() for r in dropped)
    assert {r.args[0] for r in dropped} == {
        hall_group(hall.pk),
        counter_group(c1.pk),
    }
    retries = len(caplog.records)
    time.sleep(0.3)
    assert len(caplog.records) == retries, "still retrying after the deadline"
