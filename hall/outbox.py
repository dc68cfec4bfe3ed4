"""Sending a Celery task after commit, without letting a broker that is down fail or stall the
request (DESIGN.md invariants 6 and 7).

Every task sent this way is a nudge, not the record: the transaction already wrote the row the
task works on (a ``PhoneNotice`` pending, an ``Incident`` with its ``next_notify_at``, a failed
``EscalationAttempt``, a ``ManagerAlert`` not yet ``notified_at``), and a beat sweep finds the
rows whose task never came (config/settings.py, next to ``CELERY_BEAT_SCHEDULE``, says which
sweep recovers what). So a task that cannot be sent is dropped here:

* the publish is bounded by the broker's timeouts and ``CELERY_TASK_PUBLISH_RETRY_POLICY``;
* after a failure this process sends nothing for ``RETRY_AFTER_S`` (a request does not pay the
  timeout again while the broker is known to be down);
* the failures are logged as one warning per ``WARN_EVERY_S`` with the count it hid.

With eager Celery (the embedded default) the task runs in the request as before.
"""

from __future__ import annotations

import logging
import math
import threading
import time

from django.db import transaction

log = logging.getLogger(__name__)

RETRY_AFTER_S = 5.0
WARN_EVERY_S = 60.0


class _State:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.down_until = 0.0
        self.last_warning = -math.inf
        self.dropped = 0  # tasks not sent since the last warning


_state = _State()


def outbox_reset() -> None:
    """Forget the circuit and the warning's throttle (tests)."""
    global _state
    _state = _State()


def _dropped(task_name: str, exc: BaseException | None) -> None:
    now = time.monotonic()
    with _state.lock:
        if exc is not None:
            _state.down_until = now + RETRY_AFTER_S
        _state.dropped += 1
        if now - _state.last_warning < WARN_EVERY_S:
            return
        dropped, _state.dropped, _state.last_warning = _state.dropped, 0, now
    log.warning(
        "Celery broker unavailable (%s): %d task(s) not sent since the last warning, the last "
        "%s; the beat sweeps send them when the broker is back",
        f"{type(exc).__name__}: {exc}" if exc is not None else "still down",
        dropped,
        task_name,
    )


def task_send(task, *args, countdown: float | None = None) -> bool:
    """Send ``task(*args)`` now; False (and logged, throttled) when the broker is down."""
    if task.app.conf.task_always_eager:
        task.apply_async(args, countdown=countdown)
        return True
    if time.monotonic() < _state.down_until:
        _dropped(task.name, None)
        return False
    try:
        task.apply_async(args, countdown=countdown)
    except Exception as exc:  # kombu's OperationalError, redis-py's errors, OSError
        _dropped(task.name, exc)
        return False
    return True


def task_send_on_commit(task, *args, countdown: float | None = None) -> None:
    """Send ``task(*args)`` once the current transaction commits (see the module's docstring)."""
    transaction.on_commit(lambda: task_send(task, *args, countdown=countdown), robust=True)
