"""deploy/bench/rules_cost.py on a tiny horizon: every part still runs on the simulator's API and
its table has every row, so the committed results (deploy/bench/results/rules_cost.md) cannot
silently stop being reproducible. The numbers themselves are the benchmark's business."""

import importlib.util
import math
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "deploy" / "bench" / "rules_cost.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("rules_cost_bench", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        del sys.modules[spec.name]


@pytest.fixture(scope="module")
def tiny(bench):
    return bench.Sizes(reps=2, hours={0.7: 3, 0.85: 3, 0.95: 3}, warmup_hours=1, batch_days=1,
                       guard_hours=3, skills_hours=3)  # fmt: skip


def finite(pair):
    mean, se = pair
    return math.isfinite(mean) and math.isfinite(se) and se >= 0


def table_rows(text: str, label: str, *columns: str) -> list[str]:
    """The lines that start with ``label`` and have every one of ``columns`` as a word."""
    return [
        line
        for line in text.splitlines()
        if line.startswith(label) and all(c in line[len(label) :].split() for c in columns)
    ]


def test_window_depth_has_every_load_and_depth(bench, tiny):
    part = bench.window_depth(tiny, jobs=1)
    assert [(r["rho"], r["depth"]) for r in part["rows"]] == [
        (rho, depth) for rho in (0.7, 0.85, 0.95) for depth in (0, 1, 2)
    ]
    for row in part["rows"]:
        assert row["customers"] > 0
        assert finite(row["mean"]) and finite(row["p99"]) and finite(row["vip_mean"])
        if row["depth"] == 0:  # the paired difference from itself
            assert row["d_mean"] == (0.0, 0.0)
    text = bench.render_window_depth(part)
    for rho in ("0.7", "0.85", "0.95"):
        assert len([line for line in text.splitlines() if line.startswith(f"{rho} ")]) == 3
    assert "Erlang C" in text and "depth 2 identical to depth 1" in text


def test_lanes_table_has_every_policy_and_lane(bench, tiny):
    part = bench.lanes(tiny, jobs=1)
    assert [r["policy"] for r in part["rows"]] == list(bench.POLICIES)
    for row in part["rows"]:
        for lane in ("vip", "priority", "normal"):
            s = row["lanes"][lane]
            assert math.isfinite(s["mean_wait_s"][0]) and math.isfinite(s["max_wait_s"][0])
            assert 0 <= s["beyond"][0] <= 1
    text = bench.render_lanes(part)
    for label in bench.POLICIES:
        for lane in ("vip", "priority", "normal", "all"):
            assert len(table_rows(text, label, lane)) == 1, (label, lane)
    assert "waits up to 30 min identical with and without the guard" in text
    for lane in ("vip", "priority", "normal"):  # the steady-state check, with and without
        assert (
            len(table_rows(text, lane, "with")) == 1 and len(table_rows(text, lane, "without")) == 1
        )


def test_skills_table_has_every_layout_and_type(bench, tiny):
    part = bench.skills(tiny, jobs=1)
    layouts = [r["layout"] for r in part["rows"]]
    assert layouts == ["pooled", "mixed (2 skills, chain)", "dedicated"]
    for row in part["rows"]:
        assert finite(row["mean"]) and 0 <= row["sl"][0] <= 1
        assert set(row["types"]) == set(bench.SKILL_TYPES)
    text = bench.render_skills(part)
    assert all(len(table_rows(text, layout)) == 2 for layout in layouts)  # overall and by type


def test_the_layouts_see_the_same_load(bench):
    """(c) compares layouts at the same load: same arrivals, and every type has counters."""
    halls = [bench.skills_hall(s, hours=1, warmup=0) for s in bench.SKILL_HALLS.values()]
    assert all(h["arrivals"] == halls[0]["arrivals"] for h in halls)
    for hall in halls:
        served = {t for c in hall["counters"] for t in c["business_types"]}
        assert served == set(bench.SKILL_TYPES)
    work = {}
    for a in halls[0]["arrivals"]:
        minutes = bench.SKILL_TYPES[a["business_type"]]
        work[a["business_type"]] = work.get(a["business_type"], 0) + a["per_hour"] * minutes / 60
    assert sum(work.values()) == pytest.approx(0.85 * 8)
    assert all(w == pytest.approx(0.85 * 2) for w in work.values())  # two counters' worth each
