"""A reusable crash harness: run a command in a real process, SIGKILL it after a delay, then
check that the log opens, verifies and holds what was acknowledged.

    from tests.lib.crash import kill_after, open_and_verify

    run = kill_after(["--db", str(db), "sync"], delay=rng.uniform(0, 1.5))
    state = open_and_verify(db)          # raises AssertionError naming the problem
    assert acked_ids <= state.ids

``kill_after`` runs ``python -m fieldlog ARGS`` (or any ``cmd``) unbuffered, so whatever the
process printed before the kill (its acknowledgements) is in ``run.stdout``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from fieldlog.db import audit
from fieldlog.db.store import Store
from tests.lib.portable import hard_kill, killed_code


@dataclass
class Run:
    """One process: what it printed, and whether the kill landed before it exited."""

    stdout: str
    stderr: str
    returncode: int
    killed: bool
    delay: float
    elapsed: float


def kill_after(
    args: list[str],
    *,
    delay: float,
    env: dict[str, str] | None = None,
    cmd: list[str] | None = None,
    timeout: float = 120,
) -> Run:
    """Start ``python -m fieldlog *args`` (or ``cmd``), SIGKILL it ``delay`` seconds later
    unless it has exited, and collect its output."""
    argv = cmd if cmd is not None else [sys.executable, "-m", "fieldlog", *args]
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    start = time.perf_counter()
    proc = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=full_env
    )
    killed = False
    try:
        proc.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        killed = proc.poll() is None
        if killed:
            hard_kill(proc)  # SIGKILL; TerminateProcess where there is none (Windows)
    out, err = proc.communicate(timeout=timeout)
    elapsed = time.perf_counter() - start
    code = killed_code()
    if killed and code is not None and proc.returncode != code:
        killed = False  # it exited by itself in the instant before the signal
    return Run(out, err, proc.returncode, killed, delay, elapsed)


@dataclass
class State:
    """What a log holds after a crash: ids per table, and the verify report."""

    ids: dict[str, set[str]] = field(default_factory=dict)
    entries: int = 0

    def all_ids(self) -> set[str]:
        return set().union(*self.ids.values()) if self.ids else set()


def open_and_verify(path: Path | str) -> State:
    """Open the log as fieldlog does (recovering the WAL, migrating), check SQLite's
    integrity, the audit chain and every row; AssertionError listing the problems if not
    sound."""
    with Store.open(path) as store:
        rep = audit.verify(store.conn)
        assert rep.ok, f"{path} does not verify after a crash:\n" + "\n".join(rep.problems)
        state = State(entries=rep.entries)
        for table in audit.RECORD_TABLES:
            state.ids[table] = {r[0] for r in store.conn.execute(f"SELECT id FROM {table}")}
    return state
