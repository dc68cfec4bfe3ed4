"""The shared cache as a help, never a dependency (DESIGN.md invariant 7).

Everything the system caches (the wait estimate's history, the planner's advice, the wall's
typical day) can be computed again from the database, so a cache that is down (Redis stopped,
restarting, unreachable) costs a query, never a request. ``cache_get``, ``cache_set`` and
``cache_get_or_compute`` wrap ``django.core.cache.cache`` so that:

* a connection error or timeout of the backend is caught, and the value is computed instead;
* the process then leaves the backend alone for ``RETRY_AFTER_S`` (a circuit breaker): a dead
  Redis costs one short timeout per process every few seconds, not one per call;
* the process keeps the last values it computed or read (``FALLBACK_MAX_KEYS`` of them, each
  until its own timeout), so while the cache is down an estimate is not recomputed per request;
* the outage is logged as one warning per ``WARN_EVERY_S`` with the count of calls it hid, and
  once more when the cache answers again, instead of a line per request.

Only errors that say "the cache is not there" are caught; a bug (a value that cannot be
pickled, a wrong key) still raises.
"""

from __future__ import annotations

import logging
import math
import pickle
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.cache import cache

try:  # redis is there wherever REDIS_URL is; the embedded default's locmem cache never fails
    from redis.exceptions import ConnectionError as _RedisConnectionError
    from redis.exceptions import TimeoutError as _RedisTimeoutError

    CACHE_DOWN_ERRORS: tuple[type[BaseException], ...] = (
        _RedisConnectionError,
        _RedisTimeoutError,
        OSError,
    )
except ImportError:  # pragma: no cover
    CACHE_DOWN_ERRORS = (OSError,)

log = logging.getLogger(__name__)

RETRY_AFTER_S = 5.0
WARN_EVERY_S = 60.0
FALLBACK_MAX_KEYS = 256

T = TypeVar("T")
_MISSING = object()


class _State:
    """Per process: whether the backend is skipped, the warning's throttle, the last values."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.down_until = 0.0  # time.monotonic() before which the backend is not tried
        self.failing = False  # the last try failed: the next success says so in the log
        self.last_warning = -math.inf
        self.hidden = 0  # failures and skipped calls since the last warning
        # key (with the cache's prefix and version) -> (expires, pickled value)
        self.values: OrderedDict[str, tuple[float, bytes]] = OrderedDict()


_state = _State()


def cache_reset() -> None:
    """Forget the circuit, the throttle and the kept values (tests)."""
    global _state
    _state = _State()


def cache_available() -> bool:
    """False while this process leaves the backend alone after a failure."""
    return time.monotonic() >= _state.down_until


def _backend_failed(exc: BaseException, operation: str) -> None:
    now = time.monotonic()
    with _state.lock:
        _state.down_until = now + RETRY_AFTER_S
        _state.failing = True
        if now - _state.last_warning < WARN_EVERY_S:
            _state.hidden += 1
            return
        hidden, _state.hidden, _state.last_warning = _state.hidden, 0, now
    log.warning(
        "cache %s failed (%s: %s); computing without the cache, next try in %.0f s "
        "(%d more failed or skipped calls since the last warning)",
        operation,
        type(exc).__name__,
        exc,
        RETRY_AFTER_S,
        hidden,
    )


def _skipped() -> bool:
    if cache_available():
        return False
    with _state.lock:
        _state.hidden += 1
    return True


def _backend_answered() -> None:
    if not _state.failing:
        return
    with _state.lock:
        if not _state.failing:
            return
        _state.failing = False
        hidden, _state.hidden = _state.hidden, 0
    log.warning("cache answers again (%d failed or skipped calls since the last warning)", hidden)


def _keep(key: str, value: Any, timeout: float | None) -> None:
    local_key = cache.make_and_validate_key(key)
    expires = math.inf if timeout is None else time.monotonic() + timeout
    data = pickle.dumps(value, pickle.HIGHEST_PROTOCOL)  # a copy: callers may change theirs
    with _state.lock:
        _state.values[local_key] = (expires, data)
        _state.values.move_to_end(local_key)
        while len(_state.values) > FALLBACK_MAX_KEYS:
            _state.values.popitem(last=False)


def _kept(key: str, default: Any) -> Any:
    local_key = cache.make_and_validate_key(key)
    with _state.lock:
        entry = _state.values.get(local_key)
        if entry is None:
            return default
        if entry[0] <= time.monotonic():
            del _state.values[local_key]
            return default
        data = entry[1]
    return pickle.loads(data)


def cache_get(key: str, default: Any = None) -> Any:
    """``cache.get``, or this process's last value (else ``default``) while the cache is down."""
    if _skipped():
        return _kept(key, default)
    try:
        value = cache.get(key, _MISSING)
    except CACHE_DOWN_ERRORS as exc:
        _backend_failed(exc, "get")
        return _kept(key, default)
    _backend_answered()
    return default if value is _MISSING else value


def cache_set(key: str, value: Any, timeout: float | None) -> None:
    """``cache.set``; kept in this process too, for the time the cache may be down."""
    _keep(key, value, timeout)
    if _skipped():
        return
    try:
        cache.set(key, value, timeout)
    except CACHE_DOWN_ERRORS as exc:
        _backend_failed(exc, "set")
        return
    _backend_answered()


def cache_get_or_compute(key: str, compute: Callable[[], T], timeout: float | None) -> T:
    """The cached value of ``key``, else ``compute()`` stored for ``timeout`` seconds.

    A cache that is down never fails the call: the value is computed (or this process's last
    one is used) and the backend is left alone for a few seconds.
    """
    value = cache_get(key, _MISSING)
    if value is _MISSING:
        value = compute()
        cache_set(key, value, timeout)
    return value
