"""Shared fixtures: every test gets its own log in a temp folder and a fixed time zone."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fieldlog.cli import app
from fieldlog.db.store import Store


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """Point every path at a temp folder (never the user's real log) and fix the zone."""
    monkeypatch.setenv("FIELDLOG_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("FIELDLOG_DB", str(tmp_path / "log.db"))
    monkeypatch.setenv("TZ", "America/Chicago")
    monkeypatch.delenv("FIELDLOG_NOW", raising=False)
    for name in ("FIELDLOG_PASSPHRASE", "FIELDLOG_NEW_PASSPHRASE", "FIELDLOG_LOCK_MINUTES"):
        monkeypatch.delenv(name, raising=False)  # a developer's own must not encrypt test logs
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def db_path(tmp_path) -> Path:
    return tmp_path / "log.db"


@pytest.fixture
def store(db_path):
    s = Store.open(db_path)
    yield s
    s.close()


class Cli:
    """Runs fieldlog in-process through Typer's CliRunner."""

    def __init__(self) -> None:
        self.runner = CliRunner()

    def __call__(self, *args: str, input: str | None = None, code: int = 0):
        result = self.runner.invoke(app, list(args), input=input)
        if result.exit_code != code:
            raise AssertionError(
                f"fieldlog {' '.join(args)} exited {result.exit_code}, expected {code}\n"
                f"stdout: {result.stdout}\nstderr: {result.stderr}\n{result.exception!r}"
            )
        return result

    def json(self, *args: str):
        return json.loads(self(*args, "--json").stdout)

    def new(self, *args: str) -> str:
        """Run a creating command and return the full id (short ids printed by one command
        can become ambiguous when a sibling is created within the same quarter second)."""
        return self.json(*args)["id"]


@pytest.fixture
def cli() -> Cli:
    return Cli()


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


# Counts the fuzz and crash tests record (how many cases ran, how many kills landed), shown at
# the end of a plain `pytest` run.
RUN_COUNTS: dict[str, int] = {}


def pytest_terminal_summary(terminalreporter) -> None:
    if RUN_COUNTS:
        terminalreporter.section("fuzz and crash cases")
        for name, n in sorted(RUN_COUNTS.items()):
            terminalreporter.write_line(f"{name}: {n}")


# ---------------------------------------------------------------------- sync
@pytest.fixture
def remote_url(tmp_path) -> str:
    """A SQLite remote file (created on first sync)."""
    return str(tmp_path / "department.fieldlog")


@pytest.fixture(params=["sqlite", "postgres"])
def any_url(request, tmp_path) -> str:
    """The same scenario on both backends."""
    if request.param == "sqlite":
        return str(tmp_path / "department.fieldlog")
    if os.environ.get("FIELDLOG_SKIP_PG") == "1":
        pytest.skip("FIELDLOG_SKIP_PG=1")
    return request.getfixturevalue("pg_url")


@pytest.fixture
def pair(tmp_path):
    a = Store.open(tmp_path / "a.db")
    b = Store.open(tmp_path / "b.db")
    a.set_officer("Dana Ruiz")
    b.set_officer("Sam Lee")
    yield a, b
    a.close()
    b.close()
