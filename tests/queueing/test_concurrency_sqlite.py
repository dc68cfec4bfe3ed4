"""The embedded default under real concurrency: separate processes hammer one SQLite file.

Four clerks at four counters (call-next, start, finish; recalls, no-shows, transfers, pauses) and
two kiosks with their greeters (every lane) run at once, each its own process with its own
connection, as web workers would. Afterwards: nobody was called twice, no number was given twice
or skipped, every ticket issued was served or marked a no-show with a legal history, and not one
operation failed, "database is locked" least of all.

This test never touches pytest-django's in-memory database: the file, its migrations and its hall
are made by subprocesses (``tests.tools.hammer seed --migrate``) and checked by one
(``tests.tools.hammer check``), so it runs the same under ``pytest -n 2``.
"""

import json

from tests.tools.swarm import child_env, hammer, run_swarm

COUNTERS = (1, 2, 3, 4)  # general, general, VIP-first, general: every business type covered
KIOSKS = (1, 2)
CALLER_OPS = 130  # each, before the drain
ISSUER_OPS = 160  # each: 320 tickets, ~1,000 counter actions to serve them


def test_four_clerks_and_two_kiosks_in_separate_processes_never_collide(tmp_path):
    env = child_env(f"sqlite:///{tmp_path / 'hammer.sqlite3'}")
    env.pop("REDIS_URL", None)  # the embedded default: no Redis
    hammer(
        "seed",
        "--migrate",
        "--hall",
        "hm",
        "--counters",
        str(len(COUNTERS)),
        "--issuers",
        str(len(KIOSKS)),
        env=env,
    )

    run = run_swarm(
        env=env,
        hall="hm",
        counters=COUNTERS,
        kiosks=KIOSKS,
        caller_ops=CALLER_OPS,
        issuer_ops=ISSUER_OPS,
        issuer_pace_ms=5,
        workdir=tmp_path,
    )

    assert run.failures == {}
    assert run.locked() == [], "SQLite said 'database is locked'"
    assert run.errors() == []
    assert len(run.summaries) == len(COUNTERS) + len(KIOSKS)
    assert run.operations >= 1_000, run.operations
    issued = sum(1 for r in run.records if r["op"] == "issue")
    assert issued == len(KIOSKS) * ISSUER_OPS
    violations = hammer("check", "--hall", "hm", "--records", str(tmp_path / "records"), env=env)
    assert violations == {}, json.dumps(violations, indent=1, ensure_ascii=False)
