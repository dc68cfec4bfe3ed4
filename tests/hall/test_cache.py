"""hall.cache: a cache that is down costs a computation, never a request (DESIGN.md inv. 7)."""

import logging

import pytest
from django.core.cache.backends.locmem import LocMemCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from hall import cache as hall_cache
from hall.cache import cache_get, cache_get_or_compute, cache_reset, cache_set
from tests.conftest import counter
from tests.tools.clock import Clock


class FlakyCache(LocMemCache):
    """A local cache that raises what redis-py raises while ``down`` is set; counts its calls."""

    def __init__(self):
        super().__init__("flaky", {})
        self.down: type[Exception] | None = None
        self.calls = 0

    def _maybe_fail(self):
        self.calls += 1
        if self.down is not None:
            raise self.down("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    def get(self, key, default=None, version=None):
        self._maybe_fail()
        return super().get(key, default, version)

    def set(self, key, value, timeout=300, version=None):
        self._maybe_fail()
        return super().set(key, value, timeout, version)


@pytest.fixture
def flaky(monkeypatch):
    backend = FlakyCache()
    clock = Clock()
    monkeypatch.setattr(hall_cache, "cache", backend)
    monkeypatch.setattr(hall_cache.time, "monotonic", clock)
    cache_reset()
    backend.clock = clock
    yield backend
    cache_reset()


class Computation:
    def __init__(self):
        self.runs = 0

    def __call__(self):
        self.runs += 1
        return {"mean": 180.0, "run": self.runs}


def test_a_value_is_computed_when_the_cache_is_down(flaky):
    flaky.down = RedisConnectionError
    compute = Computation()
    assert cache_get_or_compute("k", compute, 60) == {"mean": 180.0, "run": 1}
    assert cache_get("missing", "default") == "default"
    cache_set("other", 1, 60)  # does not raise either


@pytest.mark.parametrize("error", [RedisConnectionError, RedisTimeoutError, ConnectionRefusedError])
def test_every_kind_of_unreachable_cache_is_caught(flaky, error):
    flaky.down = error
    assert cache_get_or_compute("k", Computation(), 60)["run"] == 1


def test_other_errors_still_raise(flaky):
    flaky.down = ValueError
    with pytest.raises(ValueError):
        cache_get("k")


def test_while_the_cache_is_down_the_last_value_is_kept_in_the_process(flaky):
    compute = Computation()
    flaky.down = RedisConnectionError
    first = cache_get_or_compute("k", compute, 60)
    first["mean"] = -1  # a caller changing its copy does not change the kept value
    for _ in range(20):
        assert cache_get_or_compute("k", compute, 60) == {"mean": 180.0, "run": 1}
    assert compute.runs == 1
    flaky.clock.now += 61  # the kept value expires with the timeout it was stored for
    assert cache_get_or_compute("k", compute, 60)["run"] == 2


def test_a_dead_cache_is_left_alone_for_a_few_seconds_then_tried_again(flaky):
    flaky.down = RedisConnectionError
    cache_get("k")
    assert flaky.calls == 1
    for _ in range(50):
        cache_get_or_compute("k", Computation(), 60)
    assert flaky.calls == 1, "no call reaches the backend while the circuit is open"
    flaky.down = None
    flaky.clock.now += hall_cache.RETRY_AFTER_S
    compute = Computation()
    cache_get_or_compute("back", compute, 60)
    assert flaky.calls == 3  # its get and its set reached the cache again
    assert cache_get_or_compute("back", compute, 60) == {"mean": 180.0, "run": 1}
    assert flaky.calls == 4 and compute.runs == 1


def test_the_outage_is_logged_once_per_interval_not_per_call(flaky, caplog):
    flaky.down = RedisConnectionError
    with caplog.at_level(logging.WARNING, logger="hall.cache"):
        for _ in range(100):  # every call after the circuit closes again fails once more
            cache_get_or_compute("k", Computation(), 0.1)
            flaky.clock.now += 1
        assert len(caplog.records) == 2  # at t=0 and t=WARN_EVERY_S (60 of the 100 s)
        assert "(0 more failed or skipped calls" in caplog.records[0].getMessage()
        # the second one counts what the first 60 s hid: a get tried every 5 s, the rest skipped
        assert "(119 more failed or skipped calls" in caplog.records[1].getMessage()
        caplog.clear()
        flaky.down = None
        flaky.clock.now += hall_cache.RETRY_AFTER_S
        cache_get("k")
        cache_get("k")
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 1 and messages[0].startswith("cache answers again")


def test_a_ticket_is_issued_and_called_while_the_cache_is_down(
    flaky, hall, kiosk, clerk_a, api, caplog
):
    """The wait estimate reads the cache (queueing.estimates); with it down a customer still
    gets a ticket with an estimate and the clerk still calls it."""
    flaky.down = RedisConnectionError
    response = api.as_device(kiosk).post(
        f"/api/v1/halls/{hall.code}/tickets/", {"business_type": "payment"}, format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["estimated_wait_s"] is not None
    c1 = counter(hall, 1)
    api.as_user(clerk_a)
    assert api.post(f"/api/v1/counters/{c1.pk}/open/").status_code == 200
    called = api.post(f"/api/v1/counters/{c1.pk}/call-next/")
    assert called.status_code == 200
    assert called.json()["called"]["number"] == response.json()["number"]
    assert flaky.calls == 1, "the first failure opened the circuit: no more calls"
