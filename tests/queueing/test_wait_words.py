"""One honest wait message (issue 16 item 4): the bands of an estimate and how they are worded,
in Chinese and in English. Calibration against simulated halls: deploy/bench/estimate_accuracy.py
--bands (deploy/bench/results/estimates.md)."""

import random

import pytest
from django.utils import translation

from queueing import forecast
from queueing.forecast import Wait, long_queue_bands, sampled_bands
from queueing.wait_words import WaitKind, wait_shown, wait_text, with_wait


def words(wait, counters_open=1, language="en"):
    with translation.override(language):
        return wait_text(wait_shown(wait=wait, counters_open=counters_open))


# --- the bands ------------------------------------------------------------------------------


def test_the_bands_of_few_draws_hold_a_new_draw_half_and_four_fifths_of_the_time(monkeypatch):
    """The (n + 1) p rule: whatever the law, the band between those order statistics of n
    draws holds another draw with probability 50 % (80 %), even for n = 8 (the n p rule would
    hold less). Unstretched (``BAND_WIDEN`` 1) this is the rule alone."""
    monkeypatch.setattr(forecast, "BAND_WIDEN", 1.0)
    rng = random.Random(5)
    for n in (8, 20):
        held50 = held80 = 0
        trials = 4000
        for _ in range(trials):
            wait = sampled_bands([rng.expovariate(1 / 300) for _ in range(n)])
            actual = rng.expovariate(1 / 300)
            held50 += wait.p25 <= actual <= wait.p75
            held80 += wait.p10 <= actual <= wait.p90
        assert abs(held50 / trials - 0.50) < 0.03, n
        assert abs(held80 / trials - 0.80) < 0.03, n


def test_the_point_is_the_median_and_the_bands_are_nested():
    wait = sampled_bands([60.0, 120.0, 180.0, 240.0, 300.0, 360.0, 420.0, 480.0, 540.0])
    assert wait.point == 300.0
    assert 0 <= wait.p10 < wait.p25 < wait.point < wait.p75 < wait.p90


def test_unknown_waits_count_as_longest_and_half_unknown_is_no_estimate():
    assert sampled_bands([100.0, None, 200.0, None]) is None
    wait = sampled_bands([100.0, 200.0, 300.0, None, 150.0])
    assert wait.point == 200.0
    assert wait.p90 == float("inf")  # an end nobody can put a figure on stays open


def test_a_long_queue_band_narrows_as_the_calls_ahead_grow():
    few, many = long_queue_bands(1800.0, 9), long_queue_bands(1800.0, 100)
    assert few.point == many.point == 1800.0
    assert many.p75 - many.p25 < few.p75 - few.p25
    # n = 100 calls ahead at cv 1: the 25-75 % band is the wait x (1 +- 0.674 / 10).
    assert many.p25 == pytest.approx(1800 * (1 - 0.06745 * forecast.LONG_QUEUE_CV), rel=1e-3)
    assert many.p10 < many.p25 and many.p75 < many.p90


# --- the words ------------------------------------------------------------------------------


def test_no_open_counter_says_so_whatever_the_estimate():
    wait = Wait(0, 0, 0, 0, 0)
    assert words(wait, counters_open=0) == "No counter open for this service"
    assert words(wait, counters_open=0, language="zh-hans") == "暂无窗口办理"


def test_no_estimate_is_unknown_and_a_free_counter_is_no_wait():
    assert words(None) == "unknown"
    assert words(Wait(0, 0, 0, 0, 0)) == "No wait"
    assert words(Wait(0, 0, 0, 0, 0), language="zh-hans") == "无需等候"


@pytest.mark.parametrize(
    ("wait", "kind", "english", "chinese"),
    [
        # A short uncertain wait: the band in whole minutes, rounded outwards (the minutes
        # shown hold at least what the band holds).
        (Wait(420, 200, 290, 700, 900), WaitKind.RANGE, "about 4–12 min", "约 4–12 分钟"),
        # A band starting under a minute: within its end.
        (Wait(100, 0, 20, 170, 260), WaitKind.WITHIN, "within 3 min", "3 分钟内"),
        # Long and predictable (half an hour, 100 calls ahead): one figure.
        (long_queue_bands(1800.0, 100), WaitKind.ABOUT, "about 30 min", "约 30 分钟"),
        # Long but uncertain: still a range.
        (Wait(1200, 500, 800, 1700, 2300), WaitKind.RANGE, "about 13–29 min", "约 13–29 分钟"),
        # Known to the minute (services of fixed length), however short: one figure.
        (Wait(360, 360, 360, 360, 360), WaitKind.ABOUT, "about 6 min", "约 6 分钟"),
    ],
)
def test_a_wait_is_worded_as_a_range_or_one_figure(wait, kind, english, chinese):
    assert wait_shown(wait=wait, counters_open=2).kind == kind
    assert words(wait) == english
    assert words(wait, language="zh-hans") == chinese


def test_with_wait_gives_the_api_fields_and_the_words():
    class Row:
        pass

    row = with_wait(Row(), Wait(point=420.4, p10=200, p25=290.2, p75=700.6, p90=900))
    assert row.estimated_wait_s == 420
    assert row.estimated_wait_range_s == [290, 701]
    assert row.estimated_wait_range_10_90_s == [200, 900]
    assert row.wait_shown.as_dict() == {"kind": "range", "low": 4, "high": 12}
    assert row.wait_key == "range:4:12"
    empty = with_wait(Row(), None, counters_open=0)
    assert empty.estimated_wait_s is empty.estimated_wait_range_s is None
    assert empty.wait_key == "no_counter_open::"
