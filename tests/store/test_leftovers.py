"""Temporary copies a killed encrypt, decrypt, restore or backup left beside a log: found and
removed on the next open (overwritten with zeros first when in clear), said in one line each;
never a copy whose process still runs, never the log itself, never through a planted link.
(The real kills are in tests/store/test_crash.py; here the leftovers are made by hand.)"""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

import pytest

from fieldlog.db import leftovers
from fieldlog.db.store import Store
from tests.lib.crypto import PASS

DEAD = (1 << 22) + 7  # above Linux's largest process id: no process has it
NAME = b"Quackenbush"


def _plain_copy(path: Path, log: Path) -> None:
    """A plaintext copy of ``log`` (as a killed decrypt leaves) at ``path``."""
    src = sqlite3.connect(log)
    dst = sqlite3.connect(path)
    src.backup(dst)
    src.close()
    dst.close()


@pytest.fixture
def plain_log(tmp_path) -> Path:
    path = tmp_path / "log.db"
    with Store.open(path) as store:
        store.contacts.add({"summary": "Met at the bakery", "person_name": "Ada Quackenbush"})
    return path


def test_a_dead_decrypts_plaintext_copy_is_wiped_removed_and_said(plain_log, monkeypatch):
    left = plain_log.with_name(f".log.db.decrypt-{DEAD}.tmp")
    _plain_copy(left, plain_log)
    left.with_name(left.name + "-journal").write_bytes(b"journal of Quackenbush")
    assert NAME in left.read_bytes()
    wiped: list[str] = []
    real = leftovers.wipe
    monkeypatch.setattr(leftovers, "wipe", lambda p: (wiped.append(Path(p).name), real(p)))
    with Store.open(plain_log) as store:
        notices = store.notices
        assert store.contacts.count() == 1
    assert len(notices) == 1
    assert notices[0].startswith(
        f"Removed a plaintext copy left by an interrupted decrypt (process {DEAD}, "
    )
    assert notices[0].endswith(f"(overwritten with zeros first): {left}")
    assert sorted(wiped) == sorted([left.name, left.name + "-journal"])
    assert [p.name for p in plain_log.parent.iterdir() if p.name.startswith(".")] == []


def test_an_older_fieldlogs_convert_copy_is_swept_too(plain_log):
    left = plain_log.with_name(f".log.db.convert-{DEAD}.tmp")  # the name of issue 12's report
    _plain_copy(left, plain_log)
    notices = leftovers.sweep(plain_log)
    assert len(notices) == 1 and "interrupted decrypt" in notices[0] and not left.exists()


def test_an_encrypted_copy_is_removed_without_wiping(tmp_path, monkeypatch):
    log = tmp_path / "log.db"
    Store.open(log, passphrase=PASS, encrypt=True).close()
    left = log.with_name(f".log.db.encrypt-{DEAD}.tmp")
    left.write_bytes(os.urandom(4096))
    monkeypatch.setattr(leftovers, "wipe", lambda p: pytest.fail("wiped an encrypted copy"))
    notices = leftovers.sweep(log)
    assert notices == [
        f"Removed an encrypted copy left by an interrupted encrypt (process {DEAD}, 4 KB): {left}"
    ]
    assert not left.exists()


def test_a_running_processes_copy_is_left_alone(plain_log):
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        left = plain_log.with_name(f".log.db.restore-{child.pid}.tmp")
        left.write_bytes(b"in flight")
        assert leftovers.sweep(plain_log) == [] and left.exists()
    finally:
        child.kill()
        child.wait()
    assert len(leftovers.sweep(plain_log)) == 1 and not left.exists()


def test_this_processes_own_id_in_flight_or_left_by_a_namesake(plain_log):
    """In a container the next fieldlog often gets the same process id as the killed one:
    a copy with our id that we did not make is a leftover."""
    mine = leftovers.temp_path(plain_log, "restore")
    mine.write_bytes(b"in flight")
    assert leftovers.sweep(plain_log) == [] and mine.exists()
    leftovers.release(mine)
    assert len(leftovers.sweep(plain_log)) == 1 and not mine.exists()


def test_where_process_ids_cannot_be_asked_age_decides(plain_log, monkeypatch):
    """Windows: signal 0 would end the process, so only a copy untouched for a while goes."""
    monkeypatch.setattr(leftovers, "CAN_SIGNAL", False)
    monkeypatch.setattr(leftovers.os, "kill", lambda *a: pytest.fail("os.kill called"))
    left = plain_log.with_name(f".log.db.backup-{DEAD}.tmp")
    left.write_bytes(b"a fresh copy")
    assert leftovers.sweep(plain_log) == [] and left.exists()
    later = time.time() + leftovers.STALE_SECONDS + 60  # untouched since it was written
    monkeypatch.setattr(leftovers.time, "time", lambda: later)
    assert len(leftovers.sweep(plain_log)) == 1 and not left.exists()


def test_the_logs_second_name_loses_only_that_name(plain_log):
    """An encrypt killed before its rename leaves a hard link to the log itself: the log's
    bytes are never wiped."""
    aside = plain_log.with_name(f".log.db.encrypt-old-{DEAD}.tmp")
    try:
        os.link(plain_log, aside)
    except OSError:
        pytest.skip("no hard links on this file system")
    assert leftovers.sweep(plain_log) == [] and not aside.exists()
    with Store.open(plain_log) as store:
        assert store.contacts.count() == 1


def test_the_old_plaintext_after_the_rename_is_wiped(plain_log):
    """Killed after the rename, before its wipe: the aside is the old plaintext log."""
    aside = plain_log.with_name(f".log.db.encrypt-old-{DEAD}.tmp")
    _plain_copy(aside, plain_log)
    notices = leftovers.sweep(plain_log)
    assert len(notices) == 1 and "interrupted encrypt" in notices[0] and not aside.exists()


@pytest.mark.skipif(os.name != "posix", reason="symbolic links need privileges on Windows")
def test_a_planted_link_is_never_followed(plain_log, tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    planted = plain_log.with_name(f".log.db.decrypt-{DEAD}.tmp")
    planted.symlink_to(victim)
    assert leftovers.sweep(plain_log) == []
    assert victim.read_text() == "keep me" and planted.is_symlink()


def test_other_files_are_not_touched(plain_log):
    others = [
        plain_log.with_name(".log.db.decrypt-abc.tmp"),  # no process id
        plain_log.with_name(f".other.db.decrypt-{DEAD}.tmp"),  # another log's
        plain_log.with_name(f".log.db.unknown-{DEAD}.tmp"),  # not a tag of ours
        plain_log.with_name(f"log.db.decrypt-{DEAD}.tmp"),  # not hidden
    ]
    for p in others:
        p.write_text("x")
    assert leftovers.sweep(plain_log) == [] and all(p.exists() for p in others)


def test_the_cli_says_it_on_stderr_and_carries_on(cli, db_path):
    cli("add", "Met Ada Quackenbush", "--name", "Ada Quackenbush")
    left = db_path.with_name(f".log.db.decrypt-{DEAD}.tmp")
    _plain_copy(left, db_path)
    r = cli("list", "--json")
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        "Removed a plaintext copy left by an interrupted decrypt ("
    )
    assert str(left) in lines[0] and not left.exists() and len(cli.json("list")) == 1
    assert cli("list").stderr == ""  # said once: it is gone


def test_a_backups_leftover_is_swept_by_the_next_backup_there(cli, tmp_path):
    cli("add", "Before the backup")
    dest = tmp_path / "backups" / "b.db"
    dest.parent.mkdir()
    left = dest.with_name(f".b2.db.backup-{DEAD}.tmp")
    left.write_bytes(b"SQLite format 3\x00 half a backup")
    r = cli("backup", str(dest.with_name("b2.db")))
    assert "interrupted backup" in r.stderr and not left.exists()


def test_a_new_encrypted_log_and_an_encrypted_one_have_keyed_audits(cli, db_path, monkeypatch):
    pytest.importorskip("fieldlog.db.audit.keyed")
    monkeypatch.setenv("FIELDLOG_PASSPHRASE", PASS)
    cli("init", "--officer", "Ofc Diaz", "--encrypt")
    with Store.open(db_path, passphrase=PASS) as store:
        assert store.meta().get("audit_key") and store.meta().get("audit_keyed_from")
    plain = db_path.with_name("plain.db")
    monkeypatch.delenv("FIELDLOG_PASSPHRASE")
    cli("--db", str(plain), "add", "Plain first")
    with Store.open(plain) as store:
        assert store.meta().get("audit_key") is None
    monkeypatch.setenv("FIELDLOG_PASSPHRASE", PASS)
    cli("--db", str(plain), "encrypt")
    with Store.open(plain, passphrase=PASS) as store:
        meta = store.meta()
        assert meta.get("audit_key") and int(meta["audit_keyed_from"]) >= 2


def test_restoring_a_plain_backup_over_an_encrypted_log_says_so(
    cli, db_path, tmp_path, monkeypatch
):
    plain = tmp_path / "plain.db"
    with Store.open(plain) as store:
        store.contacts.add({"summary": "From a plain log"})
    monkeypatch.setenv("FIELDLOG_PASSPHRASE", PASS)
    cli("init", "--officer", "Ofc Diaz", "--encrypt")
    r = cli("restore", str(plain), "--yes")
    assert "Warning: the backup was not encrypted, so the restored log is not either" in r.stderr
