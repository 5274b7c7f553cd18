"""`fieldlog backup` and `fieldlog restore`: online copies, checked restores, refusals."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from fieldlog.db import migrations
from fieldlog.db.connect import SQLITE_HEADER, connect, is_encrypted
from fieldlog.db.store import Store
from tests.lib.crypto import PASS, digest, files, hold_open, one_error_line, release
from tests.lib.run import run_fieldlog


@pytest.fixture
def encrypted(monkeypatch):
    monkeypatch.setenv("FIELDLOG_PASSPHRASE", PASS)


def contacts(path: Path, passphrase: str | None = None) -> list[str]:
    with Store.open(path, passphrase=passphrase) as store:
        return [r["summary"] for r in store.query("SELECT summary FROM contacts ORDER BY rowid")]


# ---------------------------------------------------------------------- backup
def test_backup_of_a_plain_log(cli, db_path, tmp_path):
    cli("add", "Before the backup")
    out = cli("backup", str(tmp_path / "b.db")).stdout
    assert "Backed up 1 contact to" in out and "not encrypted" in out
    backup = tmp_path / "b.db"
    assert backup.read_bytes()[:16] == SQLITE_HEADER
    assert backup.stat().st_mode & 0o077 == 0  # readable by its owner only
    assert not Path(str(backup) + "-wal").exists()  # one self-contained file
    conn = sqlite3.connect(backup)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    conn.close()
    assert contacts(backup) == ["Before the backup"]


@pytest.mark.slow
def test_backup_of_an_encrypted_log_is_encrypted(cli, db_path, tmp_path, encrypted):
    cli("init", "--officer", "Ofc Diaz", "--encrypt")
    cli("add", "Secret visit")
    result = cli("backup", str(tmp_path), "--json")  # a folder: a timestamped name in it
    made = Path(cli.json("backup", str(tmp_path / "second.db"))["path"])
    assert made.name == "second.db"
    first = [p for p in tmp_path.iterdir() if p.name.startswith("log-") and p.suffix == ".db"]
    assert len(first) == 1 and str(first[0]) in result.stdout
    for backup in (first[0], made):
        assert is_encrypted(backup)
        assert b"secret visit" not in backup.read_bytes().lower()
        assert contacts(backup, PASS) == ["Secret visit"]


def test_backup_refusals(cli, db_path, tmp_path):
    cli("add", "One")
    target = tmp_path / "b.db"
    cli("backup", str(target))
    before = digest(target)
    assert "already exists" in cli("backup", str(target), code=1).stderr
    assert digest(target) == before
    cli("add", "Two")
    cli("backup", str(target), "--force")
    assert contacts(target) == ["One", "Two"]
    assert "is the log itself" in cli("backup", str(db_path), "--force", code=1).stderr
    assert "does not exist" in cli("backup", str(tmp_path / "no" / "b.db"), code=1).stderr


def test_backup_while_another_fieldlog_writes(db_path, tmp_path):
    """The online backup API: the log stays in use, the copy is consistent."""
    with Store.open(db_path) as store:
        for i in range(50):
            store.contacts.add({"summary": f"Visit {i}"})
    other = hold_open(db_path)
    r = run_fieldlog("--db", str(db_path), "backup", str(tmp_path / "b.db"))
    assert r.returncode == 0, r.stderr
    assert release(other) == "50"
    assert len(contacts(tmp_path / "b.db")) == 50


# ---------------------------------------------------------------------- restore
@pytest.mark.slow
def test_restore_round_trip_keeps_the_replaced_log(cli, db_path, tmp_path, encrypted):
    cli("init", "--officer", "Ofc Diaz", "--encrypt")
    cli("add", "Kept")
    backup = tmp_path / "b.db"
    cli("backup", str(backup))
    backup_hash = digest(backup)
    cli("add", "Added after the backup")
    assert "--yes" in cli("restore", str(backup), code=1).stderr  # no terminal to confirm on
    out = cli("restore", str(backup), "--yes").stdout
    assert "Restored" in out and "1 contact" in out
    assert contacts(db_path, PASS) == ["Kept"]
    kept = list(tmp_path.glob("log.db.pre-restore-*.bak"))
    assert len(kept) == 1 and str(kept[0]) in out
    assert is_encrypted(kept[0])  # encrypted like the log it copies
    assert contacts(kept[0], PASS) == ["Kept", "Added after the backup"]
    assert digest(backup) == backup_hash  # the backup itself only read
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp left
    cli("add", "After the restore")
    with Store.open(db_path) as store:
        assert store.scalar("PRAGMA journal_mode") == "wal"
        assert store.contacts.count() == 2


def test_restore_into_a_new_place(cli, db_path, tmp_path):
    cli("add", "Only one")
    cli("backup", str(tmp_path / "b.db"))
    fresh = tmp_path / "elsewhere" / "new.db"
    out = cli("--db", str(fresh), "restore", str(tmp_path / "b.db")).stdout  # no log: no question
    assert "Restored" in out and "kept" not in out
    assert contacts(fresh) == ["Only one"]


def _corrupt(path: Path, *, first_page: bool = False) -> None:
    """Garbage over the b-tree page headers (of every page but the first, or of the first
    one, the schema's root, past the file header)."""
    data = bytearray(path.read_bytes())
    spots = [100] if first_page else range(4096, len(data), 4096)
    for i in spots:
        data[i : i + 64] = b"\x5a" * 64
    path.write_bytes(bytes(data))


@pytest.mark.slow
@pytest.mark.parametrize("encrypt", [False, True])
def test_restore_refuses_a_bad_backup_and_leaves_the_log(
    cli, db_path, tmp_path, monkeypatch, encrypt
):
    if encrypt:
        monkeypatch.setenv("FIELDLOG_PASSPHRASE", PASS)
    cli("add", "The log")
    good = tmp_path / "good.db"
    cli("backup", str(good))

    damaged = tmp_path / "damaged.db"
    damaged.write_bytes(good.read_bytes())
    _corrupt(damaged)
    text = tmp_path / "notes.txt"
    text.write_text("shopping list\n" * 50)
    foreign = tmp_path / "cats.db"
    c = sqlite3.connect(foreign)
    c.execute("CREATE TABLE cats (name TEXT)")
    c.commit()
    c.close()
    newer = tmp_path / "newer.db"
    newer.write_bytes(good.read_bytes())
    conn = connect(newer, passphrase=PASS if encrypt else None)
    conn.execute(f"PRAGMA user_version = {migrations.LATEST + 3}")
    conn.close()

    before = files(tmp_path)
    cases = [
        (damaged, ("damaged", "not a fieldlog log")),  # encrypted: "does not open (or ...damaged)"
        (text, ("not an SQLite database",)),
        (foreign, ("not a fieldlog log",)),
        (newer, ("newer fieldlog",)),
        (tmp_path / "missing.db", ("There is no backup",)),
        (db_path, ("the log itself",)),
        (tmp_path, ("is a folder",)),
    ]
    for source, expect in cases:
        err = cli("restore", str(source), "--yes", code=1).stderr
        assert any(e in err for e in expect), (source, err)
    assert files(tmp_path) == before
    assert contacts(db_path, PASS if encrypt else None) == ["The log"]


@pytest.mark.slow
def test_restore_errors_in_a_real_process(tmp_path):
    db = tmp_path / "log.db"
    env = {"FIELDLOG_DB": str(db), "FIELDLOG_PASSPHRASE": PASS}
    assert run_fieldlog("add", "x", env=env).returncode == 0
    backup = tmp_path / "b.db"
    assert run_fieldlog("backup", str(backup), env=env).returncode == 0
    before = files(tmp_path)
    for args, expect, extra in (
        (
            ["restore", str(backup), "--yes"],
            "does not open the backup",
            {"FIELDLOG_PASSPHRASE": "no"},
        ),
        (["restore", str(backup)], "--yes", {}),
        (["restore", str(tmp_path / "none.db"), "--yes"], "no backup", {}),
    ):
        r = run_fieldlog(*args, env={**env, **extra})
        assert r.returncode == 1
        assert expect in one_error_line(r.stderr)
    assert files(tmp_path) == before


def test_restore_refused_while_another_fieldlog_has_the_log_open(cli, db_path, tmp_path):
    cli("add", "In use")
    backup = tmp_path / "b.db"
    cli("backup", str(backup))
    other = hold_open(db_path)
    before = files(tmp_path)
    err = cli("restore", str(backup), "--yes", code=1).stderr
    assert "open in another fieldlog" in err
    assert files(tmp_path) == before
    assert release(other) == "1"


def test_restore_over_a_damaged_log_needs_force(cli, db_path, tmp_path):
    cli("add", "Backed up")
    backup = tmp_path / "b.db"
    cli("backup", str(backup))
    cli("add", "Lost with the damage")
    with Store.open(db_path) as store:  # checkpoint, so the damage is in the main file
        store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    _corrupt(db_path, first_page=True)
    damaged = digest(db_path)
    err = cli("restore", str(backup), "--yes", code=1).stderr
    assert "--force" in err
    assert digest(db_path) == damaged
    out = cli("restore", str(backup), "--yes", "--force").stdout
    assert "Restored" in out
    assert contacts(db_path) == ["Backed up"]
    kept = list(tmp_path.glob("log.db.pre-restore-*.bak"))
    assert len(kept) == 1 and digest(kept[0]) == damaged  # the damaged bytes, as they were


@pytest.mark.slow
def test_restore_an_older_backup_upgrades_it(cli, db_path, tmp_path, encrypted):
    old = tmp_path / "old.db"
    conn = connect(old, passphrase=PASS)
    migrations.ensure_schema(conn, old, stop_before="0002_search")
    conn.close()
    cli("add", "Current")
    cli("restore", str(old), "--yes")
    with Store.open(db_path) as store:
        assert store.scalar("PRAGMA user_version") == migrations.LATEST
        assert store.encrypted
    assert [p for p in tmp_path.glob("log.db.v1-*.bak") if is_encrypted(p)]


@pytest.mark.slow
def test_restore_a_backup_made_before_a_passphrase_change(cli, db_path, tmp_path, monkeypatch):
    monkeypatch.setenv("FIELDLOG_PASSPHRASE", PASS)
    cli("add", "Old key")
    cli("backup", str(tmp_path / "b.db"))
    monkeypatch.setenv("FIELDLOG_NEW_PASSPHRASE", "newer one")
    cli("passphrase")
    monkeypatch.setenv("FIELDLOG_PASSPHRASE", "newer one")
    err = cli("restore", str(tmp_path / "b.db"), "--yes", code=1).stderr
    assert "passphrase the log had when the backup was made" in err
    # The backup's passphrase opens the backup but not the current log, and off a terminal
    # nobody can type the log's: refused, the log untouched (at a terminal it is asked for).
    monkeypatch.setenv("FIELDLOG_PASSPHRASE", PASS)
    before = digest(db_path)
    err = cli("restore", str(tmp_path / "b.db"), "--yes", code=1).stderr
    assert "cannot be opened" in err and "--force" in err
    assert digest(db_path) == before
