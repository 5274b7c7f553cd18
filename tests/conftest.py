"""Shared fixtures: every test gets its own log in a temp folder and a fixed time zone.

Helpers live in tests/lib (no test module imports another, nor this file). The PostgreSQL
fixtures (``pg_server``, ``pg_url``) come from tests/lib/pg.py, registered here as a plugin;
a test that uses them, or runs the ``postgres`` half of a backend parameter, is marked ``pg``
so ``pytest -m "not slow and not pg"`` runs the fast layer without a server."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fieldlog.cli import app
from fieldlog.db.store import Store
from tests.lib.portable import tzset
from tests.lib.run import RUN_COUNTS

pytest_plugins = ["tests.lib.pg", "tests.lib.xdist_counts"]

PG_FIXTURES = {"pg_server", "pg_url", "dept", "dept_url"}
PG_PARAMS = {"any_url", "backend"}  # parameters whose PG_VALUES run on a real server
PG_VALUES = {"postgres", "dept"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that needs a PostgreSQL server ``pg``."""
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        uses_fixture = PG_FIXTURES & set(getattr(item, "fixturenames", ()))
        on_postgres = any(params.get(name) in PG_VALUES for name in PG_PARAMS)
        if uses_fixture or on_postgres:
            item.add_marker(pytest.mark.pg)


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """Point every path at a temp folder (never the user's real log) and fix the zone."""
    monkeypatch.setenv("FIELDLOG_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("FIELDLOG_DB", str(tmp_path / "log.db"))
    # The settings file too: never the developer's own config.toml (read, or written by
    # `fieldlog config set`); none exists until a test writes one.
    monkeypatch.setenv("FIELDLOG_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.setenv("TZ", "America/Chicago")
    monkeypatch.delenv("FIELDLOG_NOW", raising=False)
    for name in ("FIELDLOG_PASSPHRASE", "FIELDLOG_NEW_PASSPHRASE", "FIELDLOG_LOCK_MINUTES"):
        monkeypatch.delenv(name, raising=False)  # a developer's own must not encrypt test logs
    tzset()  # time.tzset where it exists (not Windows)
    yield
    monkeypatch.undo()
    tzset()  # time.tzset where it exists (not Windows)


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


@pytest.fixture(params=["sqlite", "postgres", "dept"])
def any_url(request, tmp_path) -> Iterator[str]:
    """The same scenario on a SQLite file, a plain PostgreSQL store (every laptop as the
    database's owner) and a department store (``dept``: a :class:`tests.lib.pg.DeptUrl`, the
    owner's URL that gives each laptop its own enrolled login: tests/lib/sync_helpers.url_for;
    the first a supervisor, the others officers, under row-level security)."""
    if request.param == "sqlite":
        yield str(tmp_path / "department.fieldlog")
        return
    if os.environ.get("FIELDLOG_SKIP_PG") == "1":
        pytest.skip("FIELDLOG_SKIP_PG=1")
    if request.param == "postgres":
        yield request.getfixturevalue("pg_url")
        return
    from tests.lib.pg import Dept, DeptUrl

    srv = request.getfixturevalue("pg_server")
    url = DeptUrl(Dept(srv, srv.fresh_dept_database(), tmp_path))
    yield url
    try:
        url.drop()
    except Exception:
        pass


class Pair(tuple):
    """Two laptops, ``a, b = pair``; ``pair.enroll(url)`` enrolls both with that store (``a``
    founds it, a supervisor; ``b`` trusted as an officer): a laptop applies only changes from
    enrolled devices."""

    def enroll(self, url: str) -> None:
        from tests.lib.sync_helpers import enroll

        enroll(url, self[0], self[1])


@pytest.fixture
def pair(tmp_path):
    a = Store.open(tmp_path / "a.db")
    b = Store.open(tmp_path / "b.db")
    a.set_officer("Dana Ruiz")
    b.set_officer("Sam Lee")
    yield Pair((a, b))
    a.close()
    b.close()
