"""fieldlog in a real process, and the counts the fuzz and crash tests keep."""

from __future__ import annotations

import os
import subprocess
import sys


def run_fieldlog(*args: str, env: dict | None = None, **kw) -> subprocess.CompletedProcess:
    """fieldlog in a real process (for concurrency, tracebacks, exit codes). Its stdin is
    empty unless given: a test run from a terminal must never sit at a passphrase prompt."""
    if "input" not in kw:
        kw.setdefault("stdin", subprocess.DEVNULL)
    return subprocess.run(
        [sys.executable, "-m", "fieldlog", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=120,
        **kw,
    )


def one_line_error(r: subprocess.CompletedProcess, *needles: str) -> str:
    """A run that failed as a user error must: exit 1, one line on stderr naming each of
    ``needles`` (any case), no traceback. Returns the line."""
    assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
    err = r.stderr.strip()
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    for needle in needles:
        assert needle.lower() in err.lower(), err
    return err


# Counts the fuzz and crash tests record (how many cases ran, how many kills landed), shown at
# the end of a plain `pytest` run by the root conftest, and checked by the tests that make sure
# the fuzzing really ran.
RUN_COUNTS: dict[str, int] = {}
