"""The remote store on disk and across versions: a store made by an older fieldlog is upgraded
on open (its counter chosen so a planted huge seq does not become it), a new remote file is
0600, and a first sync that fails (a full drive) leaves no file behind."""

from __future__ import annotations

import os
import sqlite3
import stat
import threading

import pytest

from fieldlog.db.remotes import newfile
from fieldlog.db.remotes import sqlite as remote_sqlite
from fieldlog.db.remotes.factory import open_remote
from fieldlog.db.remotes.types import SEQ_MAX, Head, SyncError, is_postgres
from tests.lib.remote_sql import RID, meta, out, raw
from tests.lib.sync_helpers import skip_on_dept
from tests.lib.threads import at_once

# ---------------------------------------------------------------------- legacy stores
OLD_SQLITE_SCHEMA = [
    "CREATE TABLE IF NOT EXISTS fieldlog_meta (key TEXT PRIMARY KEY NOT NULL, value TEXT)",
    """CREATE TABLE IF NOT EXISTS fieldlog_changes (
        seq INTEGER PRIMARY KEY,
        origin TEXT NOT NULL, origin_seq INTEGER NOT NULL,
        tbl TEXT NOT NULL, row_id TEXT NOT NULL, hlc TEXT NOT NULL, body TEXT NOT NULL,
        UNIQUE (origin, origin_seq))""",
]
OLD_PG_SCHEMA = [
    "CREATE TABLE IF NOT EXISTS fieldlog_meta (key text PRIMARY KEY, value text)",
    """CREATE TABLE IF NOT EXISTS fieldlog_changes (
        seq bigint PRIMARY KEY,
        origin text NOT NULL, origin_seq bigint NOT NULL,
        tbl text NOT NULL, row_id text NOT NULL, hlc text NOT NULL, body text NOT NULL,
        UNIQUE (origin, origin_seq))""",
]


LEGACY_ON_DEPT = (
    "a legacy store is a plain one (its tables in the URL's schema); fieldlog dept setup "
    "upgrades one into a department store (tests/sync/test_dept_setup.py)"
)


def make_legacy(url: str, rows: int, extra_seqs: tuple[int, ...] = ()) -> None:
    """A store as fieldlog made it before the counter: dense seqs, plus ``extra_seqs``."""
    skip_on_dept(url, LEGACY_ON_DEPT)
    for sql in OLD_PG_SCHEMA if is_postgres(url) else OLD_SQLITE_SCHEMA:
        raw(url, sql)
    if is_postgres(url):
        raw(
            url,
            "ALTER TABLE fieldlog_meta OWNER TO fieldlog_test; "
            "ALTER TABLE fieldlog_changes OWNER TO fieldlog_test",
        )
    for key, value in (("kind", "fieldlog-remote"), ("sync_schema", "1"), ("store_id", "s" * 32)):
        raw(url, "INSERT INTO fieldlog_meta (key, value) VALUES (?, ?)", [key, value])
    for n in (*range(1, rows + 1), *extra_seqs):
        raw(
            url,
            "INSERT INTO fieldlog_changes VALUES (?, 'old', ?, 'contacts', ?, ?, ?)",
            [n, n, RID, f"h{n:04}", f'{{"n": {n}}}'],
        )


def test_a_legacy_store_is_upgraded_on_open(any_url):
    # Five real rows, a planted 2**63-1, and what SQLite then handed out: random huge rowids.
    make_legacy(any_url, 5, (SEQ_MAX, 7_000_000_000_000_000_001, 123_456_789_012))
    remote = open_remote(any_url)
    try:
        assert remote.store_id == "s" * 32
        assert meta(any_url, "seq_counter") == "5" and meta(any_url, "layout") == "2"
        got = remote.pull(0, 100)
        assert [(c.seq, c.body) for c in got] == [(n, {"n": n}) for n in range(1, 6)]
        assert all(c.sig is None and c.pushed_by is None for c in got)  # unknown, not guessed
        assert remote.check_seq(5).beyond == 3
        assert remote.push("dev-a", [out(1, sig="s1")], head=Head("dev-a", 1, "h", "", "")) == 1
        new = remote.pull(5, 10)
        assert [(c.seq, c.sig) for c in new] == [(6, "s1")]
        if is_postgres(any_url):
            assert new[0].pushed_by == "fieldlog_test"
        assert remote.add_trust("register", "dev-a", "{}", "s", "dev-a") == 1
    finally:
        remote.close()
    again = open_remote(any_url)  # upgraded once: the second open changes nothing
    try:
        assert meta(any_url, "seq_counter") == "6" and len(again.pull(0, 100)) == 6
    finally:
        again.close()


def test_legacy_counter_rule_tolerates_deleted_rows(any_url):
    make_legacy(any_url, 10)
    raw(any_url, "DELETE FROM fieldlog_changes WHERE seq IN (2, 3, 4, 5)")
    open_remote(any_url).close()
    assert meta(any_url, "seq_counter") == "10"


def test_laptops_opening_a_legacy_store_at_once_upgrade_it_once(any_url):
    make_legacy(any_url, 3)
    stores: list[str] = []

    def first_open() -> None:
        r = open_remote(any_url)
        stores.append(r.store_id)
        r.push(f"dev-{threading.current_thread().name}", [out(1)])  # unique; idents are reused
        r.close()

    errors = at_once(first_open, 4)
    assert not errors, errors
    assert len(stores) == 4
    r = open_remote(any_url)
    try:
        assert [c.seq for c in r.pull(0, 100)] == list(range(1, 8))
        assert r.check_seq(7).counter == 7
    finally:
        r.close()


def test_a_clerk_without_alter_rights_gets_one_line_on_a_legacy_store(pg_server, pg_url):
    make_legacy(pg_url, 2)
    pg_server.execute(pg_url, "CREATE ROLE clerk2 LOGIN PASSWORD 'clerk-pw'")
    pg_server.execute(
        pg_url,
        "GRANT SELECT, INSERT ON fieldlog_changes TO clerk2; "
        "GRANT SELECT, UPDATE ON fieldlog_meta TO clerk2",
    )
    dbname = pg_url.rsplit("/", 1)[1]
    with pytest.raises(SyncError) as err:
        open_remote(pg_server.url(dbname, user="clerk2", password="clerk-pw"))
    message = str(err.value)
    assert "made by an older fieldlog" in message and "as the tables' owner" in message
    assert "\n" not in message and "clerk-pw" not in message


# ---------------------------------------------------------------------- the file itself
@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
@pytest.mark.parametrize("encrypted", [False, True])
def test_a_new_remote_file_is_owner_only(tmp_path, encrypted):
    old = os.umask(0o022)  # the common default: SQLite alone would make the file 0644
    try:
        path = tmp_path / "department.fieldlog"
        r = remote_sqlite.SQLiteRemote.open(
            str(path), passphrase="dept pass" if encrypted else None
        )
        r.push("dev-a", [out(1)])
        assert r.encrypted is encrypted
        r.close()
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_where_files_have_no_modes_the_remote_is_still_created(tmp_path, monkeypatch):
    monkeypatch.setattr(newfile, "PRIVATE_MODES", False)  # as on Windows
    path = tmp_path / "department.fieldlog"
    r = open_remote(str(path))
    assert r.push("dev-a", [out(1)]) == 1
    r.close()
    assert path.stat().st_size > 0


class FullDisk(sqlite3.Connection):
    """A connection on a drive that fills up at the first write that reaches the disk."""

    fail_on = "COMMIT"

    def execute(self, sql, *args):  # type: ignore[override]
        if sql.lstrip().upper().startswith(self.fail_on):
            raise sqlite3.OperationalError("database or disk is full")
        return super().execute(sql, *args)


@pytest.mark.parametrize("fail_on", ["COMMIT", "CREATE TABLE", "PRAGMA JOURNAL_MODE"])
def test_a_full_drive_leaves_no_remote_file(tmp_path, monkeypatch, fail_on):
    monkeypatch.setattr(FullDisk, "fail_on", fail_on)
    monkeypatch.setattr(
        remote_sqlite,
        "_connect_plain",
        lambda path, ms: sqlite3.connect(path, isolation_level=None, factory=FullDisk),
    )
    path = tmp_path / "department.fieldlog"
    with pytest.raises(SyncError) as err:
        open_remote(str(path))
    assert str(err.value) == f"The drive holding the remote {path} is full: free some space."
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_a_drive_too_full_to_create_the_file_is_one_line(tmp_path, monkeypatch):
    import errno

    path = tmp_path / "department.fieldlog"
    real_open = os.open

    def full(name, *args, **kwargs):
        if os.fspath(name) == str(path):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_open(name, *args, **kwargs)

    monkeypatch.setattr(os, "open", full)
    with pytest.raises(SyncError) as err:
        open_remote(str(path))
    monkeypatch.undo()
    assert str(err.value) == f"The drive holding the remote {path} is full: free some space."
    assert not path.exists()


def test_an_empty_file_left_by_an_old_fieldlog_becomes_an_encrypted_remote(tmp_path):
    path = tmp_path / "department.fieldlog"
    path.touch()  # what a first sync on a full drive used to leave
    r = remote_sqlite.SQLiteRemote.open(str(path), passphrase="dept pass")
    assert r.encrypted
    r.push("dev-a", [out(1)])
    r.close()
    assert remote_sqlite.looks_encrypted(path)


def test_a_failing_open_never_removes_an_existing_remote(tmp_path, monkeypatch):
    path = tmp_path / "department.fieldlog"
    r = open_remote(str(path))
    r.push("dev-a", [out(1)])
    r.close()
    monkeypatch.setattr(FullDisk, "fail_on", "PRAGMA BUSY_TIMEOUT")
    monkeypatch.setattr(
        remote_sqlite,
        "_connect_plain",
        lambda path, ms: sqlite3.connect(path, isolation_level=None, factory=FullDisk),
    )
    with pytest.raises(SyncError, match="is full"):
        open_remote(str(path))
    monkeypatch.undo()
    r = open_remote(str(path))
    assert len(r.pull(0, 10)) == 1
    r.close()


def test_a_full_drive_on_first_sync_is_one_line_through_the_cli(cli, tmp_path, monkeypatch):
    monkeypatch.setattr(
        remote_sqlite,
        "_connect_plain",
        lambda path, ms: sqlite3.connect(path, isolation_level=None, factory=FullDisk),
    )
    cli("add", "Met the shop owner")
    path = tmp_path / "share" / "department.fieldlog"
    path.parent.mkdir()
    err = cli("sync", str(path), code=1).stderr.strip()
    assert err == f"Error: The drive holding the remote {path} is full: free some space."
    assert not path.exists() and list(path.parent.iterdir()) == []
