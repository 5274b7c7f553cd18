"""Storage: migrations, the search index, sync columns, concurrent writers."""

from __future__ import annotations

import json
import sqlite3

import pytest

from fieldlog.db import migrations
from fieldlog.db.connect import APPLICATION_ID, connect
from fieldlog.db.store import Store, fts_query
from fieldlog.errors import StorageError
from tests.lib.run import run_fieldlog


def columns(conn, table):
    return {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}


def test_fresh_log_has_the_latest_schema(store):
    conn = store.conn
    assert conn.execute("PRAGMA user_version").fetchone()[0] == migrations.LATEST
    assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    sync = {"id", "created_at", "updated_at", "officer", "origin", "hlc", "deleted", "clocks"}
    for table in ("contacts", "concerns", "referrals", "organizations"):
        assert sync <= columns(conn, table), table
    assert {
        "occurred_at",
        "kind",
        "person_name",
        "organization_id",
        "neighborhood",
        "beat",
        "location",
        "summary",
        "notes",
        "tags",
        "follow_up_on",
    } <= columns(conn, "contacts")
    fks = {(r[2], r[3]) for r in conn.execute("PRAGMA foreign_key_list(concerns)")}
    assert ("contacts", "contact_id") in fks
    indexes = {r[1] for r in conn.execute("PRAGMA index_list(contacts)")}
    assert {"contacts_occurred", "contacts_hood", "contacts_follow_up"} <= indexes
    applied = [r[0] for r in conn.execute("SELECT name FROM _sqlite_migrations ORDER BY id")]
    assert applied == [name for name, _ in migrations.STEPS]
    for t in ("contacts_fts", "concerns_fts", "referrals_fts", "organizations_fts"):
        assert conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] == 0


def test_old_version_upgrades_after_a_backup(tmp_path):
    path = tmp_path / "old.db"
    conn = connect(path)
    migrations.ensure_schema(conn, path, stop_before="0002_search")
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
    # a version-1 log with a record in it (no search index yet)
    conn.execute(
        "INSERT INTO contacts (id, created_at, updated_at, officer, origin, hlc, occurred_at, "
        "summary) VALUES ('0190aaaaaaaa7aaa8aaaaaaaaaaaaaaa', 'x', 'x', 'o', 'd', "
        "'0000000000001-00000-d', '2026-01-01T00:00:00Z', 'Lantern festival planning')"
    )
    conn.close()
    store = Store.open(path)
    assert store.conn.execute("PRAGMA user_version").fetchone()[0] == migrations.LATEST
    assert [h["id"][:6] for h in store.search.hits("lantern")] == ["0190aa"]
    store.close()
    backups = list(tmp_path.glob("old.db.v1-*.bak"))
    assert len(backups) == 1
    b = sqlite3.connect(backups[0])
    assert b.execute("PRAGMA user_version").fetchone()[0] == 1
    assert b.execute("SELECT summary FROM contacts").fetchone()[0] == "Lantern festival planning"
    b.close()
    Store.open(path).close()  # up to date: no second backup
    assert len(list(tmp_path.glob("old.db.v1-*.bak"))) == 1


def test_newer_log_is_refused(tmp_path, cli):
    path = tmp_path / "new.db"
    Store.open(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {migrations.LATEST + 5}")
    conn.close()
    with pytest.raises(StorageError, match="newer fieldlog"):
        Store.open(path)
    err = cli("--db", str(path), "list", code=1).stderr
    assert "written by a newer fieldlog" in err and "upgrade fieldlog" in err


def test_failed_migration_leaves_the_file_as_it_was(tmp_path, monkeypatch):
    path = tmp_path / "f.db"
    conn = connect(path)
    migrations.ensure_schema(conn, path, stop_before="0002_search")
    conn.close()
    monkeypatch.setattr(
        migrations,
        "STEPS",
        [
            *migrations.STEPS,
            (
                "0003_broken",
                [
                    "CREATE TABLE x (",
                ],
            ),
        ],
    )
    monkeypatch.setattr(migrations, "LATEST", len(migrations.STEPS))
    with pytest.raises(StorageError):
        Store.open(path)
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "contacts_fts" not in tables


def test_search_index_follows_edit_and_delete(cli, store):
    cid = cli.new(
        "add",
        "Lantern walk with residents",
        "--concern",
        "noise:drumming late",
        "--refer",
        "Parks:permit for lanterns",
    )
    assert {h["type"] for h in store.search.hits("lantern")} == {"contact", "referral"}
    cli("edit", cid, "--summary", "Harvest walk with residents")
    assert {h["type"] for h in store.search.hits("lantern")} == {"referral"}
    assert [h["type"] for h in store.search.hits("harvest")] == ["contact"]
    kid = cli.json("show", cid)["concerns"][0]["id"]
    cli("concern", "update", kid, "--description", "fireworks late")
    assert store.search.hits("drumming") == [] and store.search.hits("fireworks")
    cli("delete", cid, "--yes")
    for word in ("harvest", "lantern", "fireworks"):
        assert store.search.hits(word) == [], word
    for t in ("contacts", "concerns", "referrals", "organizations"):
        store.conn.execute(f"INSERT INTO {t}_fts({t}_fts) VALUES ('integrity-check')")


def test_fts_query_quotes_what_officers_type():
    assert fts_query("after-school") == '"after-school"*'
    assert fts_query('say "hi" NOT') == '"say" "hi" "NOT"*'
    assert fts_query("   ") is None


def test_every_write_stamps_clocks_and_the_outbox(cli, store):
    cid = cli.new("add", "Clock check", "--concern", "noise:x")
    row = store.conn.execute("SELECT hlc, clocks, origin FROM contacts").fetchone()
    hlc, clocks, origin = row[0], json.loads(row[1]), row[2]
    assert clocks == {"*": hlc} and hlc.endswith(origin)
    cli("edit", cid, "--summary", "Clock check 2", "--hood", "Eastside")
    hlc2, clocks2 = store.conn.execute("SELECT hlc, clocks FROM contacts").fetchone()
    clocks2 = json.loads(clocks2)
    assert hlc2 > hlc
    assert clocks2 == {"*": hlc, "summary": hlc2, "neighborhood": hlc2}
    cli("edit", cid, "--summary", "Clock check 2")  # no change: nothing written
    assert store.conn.execute("SELECT hlc FROM contacts").fetchone()[0] == hlc2
    cli("delete", cid, "--yes")
    hlc3, clocks3 = store.conn.execute("SELECT hlc, clocks FROM contacts").fetchone()
    assert json.loads(clocks3)["deleted"] == hlc3
    outbox = store.conn.execute("SELECT tbl, fields FROM changes ORDER BY seq").fetchall()
    assert outbox == [
        ("contacts", "*"),
        ("concerns", "*"),
        ("contacts", "neighborhood,summary"),
        ("concerns", "deleted"),
        ("contacts", "deleted"),
    ]
    stamps = [r[0] for r in store.conn.execute("SELECT hlc FROM changes ORDER BY seq")]
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)
    assert store.meta()["hlc"] == hlc3 and store.meta()["device_id"] == origin


@pytest.mark.slow
def test_eight_concurrent_writers_lose_nothing(tmp_path):
    import subprocess
    import sys

    db = str(tmp_path / "busy.db")  # a fresh file: creation races too
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "fieldlog",
                "--db",
                db,
                "add",
                f"Writer {i}",
                "--concern",
                "noise:x",
                "--refer",
                "Parks:y",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(8)
    ]
    results = [(p.wait(timeout=120), p.stdout.read(), p.stderr.read()) for p in procs]
    for code, _out, err in results:
        assert code == 0, err
    r = run_fieldlog("--db", db, "list", "--json")
    summaries = sorted(c["summary"] for c in json.loads(r.stdout))
    assert summaries == sorted(f"Writer {i}" for i in range(8))
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT count(*) FROM concerns").fetchone()[0] == 8
    assert conn.execute("SELECT count(*) FROM changes").fetchone()[0] == 24
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    stamps = [r[0] for r in conn.execute("SELECT hlc FROM changes")]
    assert len(set(stamps)) == 24


def test_db_option_beats_env(tmp_path, monkeypatch, cli):
    monkeypatch.setenv("FIELDLOG_DB", str(tmp_path / "env.db"))
    cli("add", "In env log")
    cli("--db", str(tmp_path / "opt.db"), "add", "In option log")
    assert [c["summary"] for c in cli.json("list")] == ["In env log"]
    assert [c["summary"] for c in cli.json("--db", str(tmp_path / "opt.db"), "list")] == [
        "In option log"
    ]


def test_default_path_is_in_the_user_data_dir(tmp_path, monkeypatch):
    from fieldlog import paths

    monkeypatch.delenv("FIELDLOG_DB")
    monkeypatch.delenv("FIELDLOG_HOME")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert paths.default_db_path() == tmp_path / "xdg" / "fieldlog" / "fieldlog.db"


def test_dashboard_counts(cli, store, monkeypatch):
    monkeypatch.setenv("FIELDLOG_NOW", "2026-11-25T10:00:00-06:00")  # a Wednesday
    cli("add", "Today", "--concern", "noise:x", "--refer", "Parks:y", "--follow-up", "today")
    cli("add", "Monday", "--at", "monday 09:00", "--concern", "youth:z")
    cli("add", "Last week", "--at", "2026-11-20", "--follow-up", "2026-11-01")
    k = cli.json("concern", "list", "--category", "youth")[0]["id"]
    cli("concern", "update", k, "--status", "resolved")
    d = store.reports.dashboard()
    assert (d["contacts_today"], d["contacts_week"], d["contacts_total"]) == (1, 2, 3)
    assert d["open_concerns"] == {"noise": 1}
    assert d["referrals"] == {"made": 1}
    assert (d["followups_due"], d["followups_overdue"]) == (2, 1)


def test_demo_reports_progress_to_the_end(store):
    from fieldlog import demo

    seen = []
    counts = demo.fill(store, 120, batch=50, progress=lambda n, total: seen.append((n, total)))
    assert counts["contacts"] == 120 and store.contacts.count() == 120
    assert [n for n, _ in seen] == [50, 100, 120, 150] and {t for _, t in seen} == {150}
    # the search index was rebuilt for the bulk rows and the triggers are back
    triggers = {
        r[0] for r in store.conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
    }
    assert {"contacts_ai", "concerns_ai", "referrals_ai", "organizations_ai"} <= triggers
    store.conn.execute("INSERT INTO contacts_fts(contacts_fts) VALUES ('integrity-check')")
    assert store.search.hits("walk") or store.search.hits("visited") or store.search.hits("call")


def test_drafts_live_in_the_log(store, db_path):
    assert store.drafts.load("contact") is None
    store.drafts.save("contact", {"summary": "half typed", "concerns": [["noise", "x"]]})
    with Store.open(db_path) as other:  # as after a crash: a new process sees it
        d = other.drafts.load("contact")
        assert d["summary"] == "half typed" and d["concerns"] == [["noise", "x"]]
        assert d["saved_at"] and other.drafts.names() == ["contact"]
    store.drafts.drop("contact")
    assert store.drafts.load("contact") is None and store.drafts.names() == []
    assert store.scalar("SELECT count(*) FROM changes") == 0  # drafts never sync


def test_suggestions_most_used_first(cli, store):
    cli("org", "add", "Harbor Food Bank")
    cli("add", "a", "--hood", "Eastside", "--tag", "walk", "--refer", "Parks:x")
    cli("add", "b", "--hood", "Eastside", "--tag", "walk", "--tag", "night")
    cli("add", "c", "--hood", "Riverside")
    assert store.records.suggestions("neighborhood") == ["Eastside", "Riverside"]
    assert store.records.suggestions("tag") == ["walk", "night"]
    assert store.records.suggestions("organization") == ["Harbor Food Bank"]
    assert store.records.suggestions("agency") == ["Parks", "Harbor Food Bank"]


def test_iter_rows_reads_in_batches(cli, store):
    for i in range(5):
        cli("add", f"c{i}")
    cli("delete", cli.json("list")[0]["id"], "--yes")
    rows = list(store.records.iter_rows("contacts", batch=2))
    assert len(rows) == 4 and [r["id"] for r in rows] == sorted(r["id"] for r in rows)


def test_dashboard_counts_read_partial_indexes(store):
    plans = {}
    for name, sql in {
        "contacts_live": "SELECT count(*) FROM contacts WHERE deleted = 0",
        "concerns_unresolved": "SELECT category, count(*) FROM concerns WHERE deleted = 0 "
        "AND status != 'resolved' GROUP BY category",
        "referrals_live": "SELECT status, count(*) FROM referrals WHERE deleted = 0 "
        "GROUP BY status",
    }.items():
        plans[name] = " ".join(r[3] for r in store.conn.execute("EXPLAIN QUERY PLAN " + sql))
        assert f"USING INDEX {name}" in plans[name] or f"COVERING INDEX {name}" in plans[name]
