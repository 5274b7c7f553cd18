"""Upgrades from every shipped schema: a frozen log per version (tests/fixtures/schema_vN.db,
made once by tests/lib/make_schema_fixtures.py) opened by today's fieldlog ends with exactly
the schema of a fresh log, keeps its rows, verifies, and leaves a backup of the old file.
(llm's tests/test_migrate.py is the model.)"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from fieldlog.db import migrations
from fieldlog.db.store import Store

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
VERSIONS = list(range(1, migrations.LATEST + 1))
KEPT_TABLES = ("organizations", "contacts", "concerns", "referrals", "changes", "meta",
               "conflicts", "sync_held", "audit", "purged", "sync_quarantine",
               "sync_anomalies")  # fmt: skip


def _sql(text: str | None) -> str | None:
    return " ".join(text.split()) if text else text


def schema(path: Path) -> dict[str, object]:
    """Everything about a log's shape: each table's columns and foreign keys, the indexes
    (partial ones with their WHERE), the FTS tables, the triggers, the views, the applied
    steps."""
    conn = sqlite3.connect(path)
    try:
        master = conn.execute(
            "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"
        ).fetchall()
        tables = sorted(name for kind, name, _, _ in master if kind == "table")
        return {
            "columns": {t: conn.execute(f"PRAGMA table_info({t})").fetchall() for t in tables},
            "foreign_keys": {
                t: sorted(r[2:] for r in conn.execute(f"PRAGMA foreign_key_list({t})"))
                for t in tables
            },
            "indexes": {n: (t, _sql(s)) for kind, n, t, s in master if kind == "index"},
            "fts": {n: _sql(s) for kind, n, _, s in master if kind == "table" and "VIRTUAL" in s},
            "triggers": {n: (t, _sql(s)) for kind, n, t, s in master if kind == "trigger"},
            "views": {n: _sql(s) for kind, n, _, s in master if kind == "view"},
            "steps": [
                r[0] for r in conn.execute("SELECT name FROM _sqlite_migrations ORDER BY id")
            ],
            "user_version": conn.execute("PRAGMA user_version").fetchone()[0],
            "application_id": conn.execute("PRAGMA application_id").fetchone()[0],
        }
    finally:
        conn.close()


def rows(path: Path) -> dict[str, list[tuple]]:
    """The rows of the tables a log at this version has, by their columns at this version."""
    conn = sqlite3.connect(path)
    try:
        present = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        out = {}
        for table in KEPT_TABLES:
            if table in present:
                cols = [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
                out[table] = sorted(
                    conn.execute(f"SELECT {', '.join(cols)} FROM {table}").fetchall(), key=repr
                )
        return out
    finally:
        conn.close()


def rows_by_old_columns(old: Path, new: Path) -> dict[str, list[tuple]]:
    """The upgraded log's rows of the old log's tables, read by the old log's columns."""
    conn = sqlite3.connect(old)
    try:
        shape = {t: [r[1] for r in conn.execute(f"PRAGMA table_info({t})")] for t in rows(old)}
    finally:
        conn.close()
    conn = sqlite3.connect(new)
    try:
        return {
            t: sorted(conn.execute(f"SELECT {', '.join(cols)} FROM {t}").fetchall(), key=repr)
            for t, cols in shape.items()
        }
    finally:
        conn.close()


@pytest.fixture(scope="module")
def fresh(tmp_path_factory) -> dict[str, object]:
    path = tmp_path_factory.mktemp("fresh") / "fresh.db"
    Store.open(path).close()
    return schema(path)


def test_there_is_a_fixture_for_every_shipped_version():
    have = sorted(int(p.stem.removeprefix("schema_v")) for p in FIXTURES.glob("schema_v*.db"))
    assert have == VERSIONS, (
        "a migration shipped without its fixture log: run "
        "`.venv/bin/python -m tests.lib.make_schema_fixtures` and commit tests/fixtures/"
    )


@pytest.mark.parametrize("version", VERSIONS)
def test_every_shipped_version_upgrades_to_the_fresh_schema(version, fresh, tmp_path, cli):
    frozen = FIXTURES / f"schema_v{version}.db"
    path = tmp_path / frozen.name
    shutil.copyfile(frozen, path)  # never the committed file itself
    before_schema, before_rows = schema(path), rows(path)
    assert before_schema["user_version"] == version
    assert before_schema["steps"] == [name for name, _ in migrations.STEPS[:version]]
    assert before_rows["contacts"], "the fixture holds rows to carry over"

    Store.open(path).close()

    after = schema(path)
    for part in ("columns", "foreign_keys", "indexes", "fts", "triggers", "views", "steps"):
        assert after[part] == fresh[part], part
    assert after["user_version"] == migrations.LATEST
    assert after["application_id"] == fresh["application_id"]

    # every row of every table the old log had is still there, unchanged; the audit gains
    # what later steps wrote (0008: an "upgrade" entry per contact, which got its review
    # status), after the old entries
    after_rows = rows_by_old_columns(frozen, path)
    if "audit" in before_rows:
        conn = sqlite3.connect(path)
        try:
            old_top = max(r[0] for r in before_rows["audit"])
            added = conn.execute(
                "SELECT seq, tbl, action, changes FROM audit WHERE seq > ? ORDER BY seq", [old_top]
            ).fetchall()
            contacts = conn.execute("SELECT count(*) FROM contacts").fetchone()[0]
        finally:
            conn.close()
        expected = contacts if version < 8 else 0
        assert len(added) == expected
        assert {(t, a, c) for _, t, a, c in added} <= {
            ("contacts", "upgrade", '{"review_status":"submitted"}')
        }
        after_rows["audit"] = [r for r in after_rows["audit"] if r[0] <= old_top]
    assert after_rows == before_rows

    # the search index holds the old rows (and not the tombstone)
    conn = sqlite3.connect(path)
    try:
        hits = conn.execute(
            "SELECT c.summary FROM contacts_fts f JOIN contacts c ON c.rowid = f.rowid "
            "WHERE contacts_fts MATCH 'lantern'"
        ).fetchall()
        gone = conn.execute("SELECT count(*) FROM contacts_fts WHERE contacts_fts MATCH 'mistake'")
        assert hits == [("Lantern festival planning",)] and gone.fetchone()[0] == 0
    finally:
        conn.close()

    # the audit chain covers every record and verifies
    out = cli("--db", str(path), "verify").stdout
    assert out.startswith("OK: ")

    backups = list(tmp_path.glob(f"{frozen.name}.v{version}-*.bak"))
    if version < migrations.LATEST:
        assert len(backups) == 1, backups  # the old file, copied before the upgrade
        assert schema(backups[0])["user_version"] == version
        assert rows(backups[0]) == before_rows
    else:
        assert backups == []  # up to date: nothing to back up
    Store.open(path).close()  # a second open is a no-op: no second backup
    assert len(list(tmp_path.glob(f"{frozen.name}.v*-*.bak"))) == len(backups)


@pytest.mark.parametrize("version", [5, 6])
def test_held_changes_of_an_older_log_are_due_after_the_upgrade(version, tmp_path):
    """A change held by an older fieldlog (step 0005's table, no due time) is retried at the
    next sync after the upgrade, and one it cannot read is quarantined, never fatal."""
    from fieldlog.db.pull import Pull

    path = tmp_path / "old.db"
    shutil.copyfile(FIXTURES / f"schema_v{version}.db", path)
    store = Store.open(path)
    try:
        assert store.scalar("SELECT due_ms FROM sync_held WHERE store_id = 'store-1'") == 0
        assert Pull(store, "store-1").retry() == 0
        (entry,) = [e for e in store.sync.held_list() if e["status"] == "quarantined"]
        assert entry["kind"] == "invalid" and entry["seq"] == 7
    finally:
        store.close()


def test_a_held_change_not_due_is_left_alone(tmp_path):
    from fieldlog.db.pull import Pull

    path = tmp_path / "v7.db"
    shutil.copyfile(FIXTURES / "schema_v7.db", path)
    store = Store.open(path)
    try:
        assert Pull(store, "store-1").retry() == 1  # seq 8, due in the year 2286, stays
        got = sorted((e["status"], e["kind"], e["seq"]) for e in store.sync.held_list())
        assert got == [
            ("anomaly", "sequence", 3),
            ("held", "clock", 8),
            ("quarantined", "invalid", 7),  # step 0005's unreadable held row, now retried
            ("quarantined", "invalid", 9),
        ]
    finally:
        store.close()
