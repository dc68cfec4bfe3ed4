"""One honest wait message everywhere (issue 16 item 4): what a customer is told about a wait.

Kiosk, lobby board, greeter tablet, status page and printed ticket all word an estimate
(``queueing.forecast.Wait``: the point and its bands) by ``wait_shown``; the API carries the
seconds (``estimated_wait_s``, ``estimated_wait_range_s`` = the 25-75 % band that is shown,
``estimated_wait_range_10_90_s``) and, on boards, the words' ``wait`` (kind and minutes), so
the screens that update themselves need no rule of their own, only the labels (``LABELS``).

* no open counter serves the business: "暂无窗口办理 / no counter open for this service";
* no estimate (nobody can say): "unknown";
* the customer is called at once (a free counter; the whole band is 0): "no wait";
* the wait is long and predictable (at least ``LONG_WAIT_S`` and a 25-75 % band no wider
  than ``PREDICTABLE`` of it), or its band is within one minute (services of fixed length):
  one figure, "约 25 分钟 / about 25 min";
* otherwise the 25-75 % band in whole minutes, the low end rounded down and the high end up
  (the shown minutes hold at least what the band holds): "约 5–12 分钟 / about 5–12 min", or
  "3 分钟内 / within 3 min" when it starts below a minute.
"""

import math
from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _

LONG_WAIT_S = 10 * 60
PREDICTABLE = 0.25


class WaitKind(models.TextChoices):
    NO_COUNTER_OPEN = "no_counter_open"
    UNKNOWN = "unknown"
    NO_WAIT = "no_wait"
    WITHIN = "within"
    RANGE = "range"
    ABOUT = "about"


# The words, with {low}, {high} and {m} filled in by ``wait_text`` or by the screens' scripts.
LABELS = {
    WaitKind.NO_COUNTER_OPEN: _("No counter open for this service"),
    WaitKind.UNKNOWN: _("unknown"),
    WaitKind.NO_WAIT: _("No wait"),
    WaitKind.WITHIN: _("within {m} min"),
    WaitKind.RANGE: _("about {low}–{high} min"),
    WaitKind.ABOUT: _("about {m} min"),
}


@dataclass(frozen=True, slots=True)
class WaitShown:
    kind: str
    low: int | None = None  # minutes; for WITHIN and ABOUT low == high == the figure
    high: int | None = None

    @property
    def key(self) -> str:
        """What the kiosk compares with a board frame's ``wait`` to see that it changed."""
        low, high = ("" if v is None else v for v in (self.low, self.high))
        return f"{self.kind}:{low}:{high}"

    def as_dict(self) -> dict:
        return {"kind": str(self.kind), "low": self.low, "high": self.high}


def wait_shown(*, wait, counters_open: int | None) -> WaitShown:
    """How a wait is worded. ``wait``: a ``queueing.forecast.Wait`` (or anything with
    ``point``, ``p25`` and ``p75`` in seconds) or None; ``counters_open``: the open counters
    serving the business (None: not known, taken as some)."""
    if counters_open == 0:
        return WaitShown(WaitKind.NO_COUNTER_OPEN)
    if wait is None:
        return WaitShown(WaitKind.UNKNOWN)
    if wait.p75 <= 0:
        return WaitShown(WaitKind.NO_WAIT)
    long_and_predictable = (
        wait.point >= LONG_WAIT_S and wait.p75 - wait.p25 <= PREDICTABLE * wait.point
    )
    if long_and_predictable or round(wait.p25 / 60) == round(wait.p75 / 60):
        m = max(round(wait.point / 60), 1)
        return WaitShown(WaitKind.ABOUT, m, m)
    low, high = math.floor(wait.p25 / 60), math.ceil(wait.p75 / 60)
    if low == 0:
        return WaitShown(WaitKind.WITHIN, high, high)
    return WaitShown(WaitKind.RANGE, low, max(high, low + 1))


def wait_text(shown: WaitShown) -> str:
    """The words in the active language."""
    return str(LABELS[shown.kind]).format(m=shown.high, low=shown.low, high=shown.high)


def with_wait(obj, wait, *, counters_open: int | None = None):
    """Set what the API and the pages show of ``wait`` (a ``queueing.forecast.Wait`` or None)
    on ``obj``: ``estimated_wait_s``, ``estimated_wait_range_s`` ([p25, p75]: the band shown),
    ``estimated_wait_range_10_90_s`` ([p10, p90]), ``wait_shown``, ``wait_text`` and
    ``wait_key``."""
    obj.estimated_wait = wait
    obj.estimated_wait_s = None if wait is None else round(wait.point)
    obj.estimated_wait_range_s = None if wait is None else [round(wait.p25), round(wait.p75)]
    obj.estimated_wait_range_10_90_s = None if wait is None else [round(wait.p10), round(wait.p90)]
    obj.wait_shown = wait_shown(wait=wait, counters_open=counters_open)
    obj.wait_text = wait_text(obj.wait_shown)
    obj.wait_key = obj.wait_shown.key
    return obj
