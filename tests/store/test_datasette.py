"""The log in the tools supervisors already use (docs/datasette.md, migration 0009):
sqlite-utils and Datasette find each table's full-text index (``content="contacts"``), search
it, and the ``live_*`` views show the live rows without the sync bookkeeping. Datasette itself
is checked when it is installed (a test-only dependency)."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import sqlite_utils

from fieldlog import records
from fieldlog.db import migrations
from fieldlog.db.store import Store

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
BOOKKEEPING = ("origin", "hlc", "clocks", "deleted")


def _log(cli, path: Path) -> dict[str, str]:
    """A log with a partner, a contact about the pastor (a concern, a referral) and a deleted
    contact that names the pastor too."""
    cli("--db", str(path), "init", "--officer", "Dana Ruiz")
    cli("--db", str(path), "org", "add", "Parks Dept", "--services", "youth")
    live = cli.new(
        "--db", str(path), "add", "Met Pastor Reyes about the youth league", "--name",
        "Ana Diaz", "--concern", "youth:pastor says no lit court", "--refer",
        "Parks Dept:pastor asked for court lighting",
    )  # fmt: skip
    gone = cli.new("--db", str(path), "add", "Pastor Reyes entered twice by mistake")
    cli("--db", str(path), "delete", gone, "--yes")
    return {"live": live, "gone": gone}


def test_sqlite_utils_detects_and_searches_every_index(cli, tmp_path):
    path = tmp_path / "log.db"
    ids = _log(cli, path)
    db = sqlite_utils.Database(path)
    try:
        for table in records.FTS_COLUMNS:
            assert db[table].detect_fts() == f"{table}_fts", table
        hits = list(db["contacts"].search("pastor"))
        assert [h["id"] for h in hits] == [ids["live"]]  # the tombstone is not in the index
        assert [h["agency"] for h in db["referrals"].search("lighting")] == ["Parks Dept"]
        assert len(list(db["concerns"].search("court"))) == 1
        assert [h["name"] for h in db["organizations"].search("parks")] == ["Parks Dept"]
    finally:
        db.close()


def test_the_sqlite_utils_command_searches_the_log(cli, tmp_path):
    path = tmp_path / "log.db"
    ids = _log(cli, path)
    out = subprocess.run(
        [sys.executable, "-m", "sqlite_utils", "search", str(path), "contacts", "pastor",
         "-c", "id", "-c", "summary"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert ids["live"] in out.stdout and ids["gone"] not in out.stdout


def test_an_upgraded_log_is_found_by_the_tools_and_stays_in_step(cli, tmp_path):
    """A log from before 0009 (content=contacts unquoted) gets quoted indexes holding its live
    rows, with triggers that keep them in step afterwards."""
    path = tmp_path / "v8.db"
    shutil.copyfile(FIXTURES / "schema_v8.db", path)
    conn = sqlite3.connect(path)
    assert (
        "content=contacts,"
        in conn.execute("SELECT sql FROM sqlite_master WHERE name = 'contacts_fts'").fetchone()[0]
    )
    conn.close()
    Store.open(path).close()
    db = sqlite_utils.Database(path)
    try:
        assert db["contacts"].detect_fts() == "contacts_fts"
        assert [h["summary"] for h in db["contacts"].search("lantern")] == [
            "Lantern festival planning"
        ]
        assert list(db["contacts"].search("mistake")) == []  # the fixture's tombstone
    finally:
        db.close()
    cid = cli.new("--db", str(path), "add", "Talked to the choir about parking")
    cli("--db", str(path), "edit", cid, "--notes", "Bring the lantern list")
    assert len(cli.json("--db", str(path), "search", "lantern")) == 2
    cli("--db", str(path), "delete", cid, "--yes")
    assert len(cli.json("--db", str(path), "search", "lantern")) == 1
    assert cli("--db", str(path), "verify").stdout.startswith("OK: ")


def test_live_views_hold_live_rows_without_the_bookkeeping(cli, tmp_path):
    path = tmp_path / "log.db"
    ids = _log(cli, path)
    db = sqlite_utils.Database(path)
    try:
        assert set(db.view_names()) >= {f"live_{t}" for t in records.TABLES}
        for table in records.TABLES:
            view = db[f"live_{table}"]
            cols = [c.name for c in view.columns]
            # the columns of `fieldlog export TABLE`, as stored: a migration that adds a field
            # makes its view again (migrations.live_view_statements)
            assert tuple(cols) == records.get(table).export_columns, table
            assert not set(cols) & set(BOOKKEEPING)
            live = db.execute(f"SELECT count(*) FROM {table} WHERE deleted = 0").fetchone()[0]
            assert view.count == live
        contact_ids = [r["id"] for r in db["live_contacts"].rows]
        assert ids["live"] in contact_ids and ids["gone"] not in contact_ids
        assert db.execute("SELECT count(*) FROM contacts").fetchone()[0] == 2
    finally:
        db.close()


def test_later_record_types_get_the_quoted_form():
    sql = migrations.fts_statements({"problems": ("title",)})[0]
    assert 'content="problems"' in sql
    assert "content=contacts," in migrations.fts_statements({"contacts": ("summary",)},
                                                            quoted=False)[0]  # fmt: skip


def test_datasette_finds_the_index_and_the_views(cli, tmp_path):
    datasette_app = pytest.importorskip("datasette.app")
    path = tmp_path / "log.db"
    ids = _log(cli, path)

    async def run() -> tuple[dict, dict, dict]:
        ds = datasette_app.Datasette([str(path)])
        await ds.invoke_startup()
        found = await ds.client.get("/log/contacts.json?_search=pastor&_shape=objects")
        table = await ds.client.get("/log/contacts.json?_extra=display_columns&_shape=objects")
        view = await ds.client.get("/log/live_referrals.json?_shape=objects")
        return found.json(), table.json(), view.json()

    found, _table, view = asyncio.run(run())
    assert [r["id"] for r in found["rows"]] == [ids["live"]]
    assert [r["agency"] for r in view["rows"]] == ["Parks Dept"]
    assert not set(view["rows"][0]) & set(BOOKKEEPING)
