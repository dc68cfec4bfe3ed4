"""Start a crowd of hammer processes against one database and collect what each of them did.

This side imports nothing from Django: the test process may be configured for another database
(pytest-django's in-memory SQLite) than the one the crowd hammers.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HAMMER = [sys.executable, "-m", "tests.tools.hammer"]


@dataclass
class SwarmRun:
    records: list[dict]  # one per operation, every worker
    summaries: list[dict]  # one per worker
    failures: dict[str, str]  # worker → exit code and stderr, for workers that did not exit 0
    seconds: float  # from the start signal until the last worker exited

    @property
    def operations(self) -> int:
        return sum(1 for r in self.records if r["phase"] != "setup")

    def errors(self) -> list[dict]:
        return [r for r in self.records if not r["ok"]]

    def locked(self) -> list[dict]:
        return [r for r in self.records if r.get("locked")]


def child_env(database_url: str, **extra: str) -> dict[str, str]:
    """The environment for a hammer process: this one's, pointed at ``database_url``."""
    env = {**os.environ, "DATABASE_URL": database_url, "CELERY_TASK_ALWAYS_EAGER": "1"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.update(extra)
    return env


def hammer(*args: str, env: dict[str, str], timeout: float = 120) -> dict:
    """Run a one-shot hammer command (``seed``, ``check``) and return the JSON it prints."""
    done = subprocess.run(
        [*HAMMER, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )
    if done.returncode != 0:
        raise RuntimeError(f"hammer {' '.join(args)} failed ({done.returncode}):\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def read_records(directory: Path) -> list[dict]:
    records = []
    for path in sorted(directory.glob("*.jsonl")):
        with path.open(encoding="utf-8") as lines:
            records.extend(json.loads(line) for line in lines if line.strip())
    return records


def run_swarm(
    *,
    env: dict[str, str],
    hall: str,
    counters: Sequence[int],
    kiosks: Sequence[int],
    caller_ops: int,
    issuer_ops: int,
    workdir: Path,
    issuer_pace_ms: float = 0.0,
    seed: str = "0",
    timeout: float = 300,
) -> SwarmRun:
    """One caller process per counter and one issuer process per kiosk, started together.

    Callers drain the queue once every worker has done its operations, then close their counters.
    """
    sync, out = workdir / "sync", workdir / "records"
    sync.mkdir(parents=True)
    out.mkdir(parents=True)
    workers = len(counters) + len(kiosks)
    common = ["--hall", hall, "--sync", str(sync), "--workers", str(workers), "--seed", seed]
    commands = {
        f"caller-{n}": [
            "--role",
            "caller",
            "--counter",
            str(n),
            "--ops",
            str(caller_ops),
            "--drain",
        ]
        for n in counters
    }
    commands.update(
        {
            f"issuer-{n}": [
                "--role",
                "issuer",
                "--kiosk",
                str(n),
                "--ops",
                str(issuer_ops),
                "--pace-ms",
                str(issuer_pace_ms),
            ]
            for n in kiosks
        }
    )
    processes: dict[str, subprocess.Popen] = {}
    stderr_files = {}
    try:
        for name, args in commands.items():
            stderr_files[name] = (workdir / f"{name}.stderr").open("w+")
            processes[name] = subprocess.Popen(
                [*HAMMER, "work", *common, *args, "--out", str(out / f"{name}.jsonl")],
                env=env,
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=stderr_files[name],
            )
        deadline = time.monotonic() + timeout
        while len(list(sync.glob("ready.*"))) < workers:
            exited = {n: p.returncode for n, p in processes.items() if p.poll() is not None}
            if exited or time.monotonic() > deadline:
                raise RuntimeError(
                    f"workers did not get ready (exited: {exited}):\n{_stderr(stderr_files)}"
                )
            time.sleep(0.02)
        (sync / "go").touch()
        started = time.monotonic()
        for process in processes.values():
            process.wait(timeout=max(1.0, deadline - time.monotonic()))
        seconds = time.monotonic() - started
    finally:
        for process in processes.values():  # only on failure are any of ours still running
            if process.poll() is None:
                process.kill()
                process.wait()
    failures = {
        name: f"exit {p.returncode}: {_read(stderr_files[name])[-3000:]}"
        for name, p in processes.items()
        if p.returncode != 0
    }
    for handle in stderr_files.values():
        handle.close()
    records = read_records(out)
    return SwarmRun(
        records=[r for r in records if not r.get("summary")],
        summaries=[r for r in records if r.get("summary")],
        failures=failures,
        seconds=seconds,
    )


def _read(handle) -> str:
    handle.flush()
    handle.seek(0)
    return handle.read()


def _stderr(files) -> str:
    return "\n".join(f"--- {name}\n{_read(h)[-2000:]}" for name, h in files.items())
