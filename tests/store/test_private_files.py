"""Every file fieldlog makes holds personal data, so on POSIX it is owner-only (0600), whatever
the umask: new logs and their -wal and -shm, exports, backups, kept copies, the temporary
copies of encrypt and decrypt. (On Windows the user profile folder's permissions protect
them: docs/install.md.)"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest

from fieldlog.db import crypto
from fieldlog.db.logfile import private_copy
from fieldlog.db.store import Store
from tests.lib.crypto import PASS

pytestmark = pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def umask_022():
    """The usual umask: without care, new files are 0644 (every account may read them)."""
    old = os.umask(0o022)
    yield
    os.umask(old)


@pytest.mark.parametrize("passphrase", [None, PASS])
def test_a_new_log_and_its_wal_and_shm_are_owner_only(tmp_path, passphrase):
    path = tmp_path / "sub" / "log.db"
    with Store.open(path, passphrase=passphrase, encrypt=passphrase is not None) as store:
        store.contacts.add({"summary": "First"})
        side = [path.with_name(path.name + s) for s in ("-wal", "-shm")]
        assert all(p.exists() for p in side)
        assert {p.name: mode(p) for p in (path, *side)} == {
            "log.db": 0o600, "log.db-wal": 0o600, "log.db-shm": 0o600,
        }  # fmt: skip
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_the_cli_creates_the_log_owner_only(cli, db_path):
    cli("add", "Met the shop owner")
    assert mode(db_path) == 0o600


def test_a_log_that_cannot_be_opened_leaves_no_empty_file(tmp_path, monkeypatch):
    from fieldlog.db.connect import PassphraseNeeded

    path = tmp_path / "log.db"
    with pytest.raises(PassphraseNeeded):
        Store.open(path, encrypt=True)  # no passphrase anywhere
    assert not path.exists()


def test_exports_are_owner_only(cli, tmp_path):
    cli("add", "Exported", "--name", "Ada Quill")
    one = tmp_path / "contacts.csv"
    one.write_text("an older export, made world-readable")
    os.chmod(one, 0o644)
    cli("export", "--out", str(one), "--force")
    assert mode(one) == 0o600
    folder = tmp_path / "all"
    cli("export", "all", "--out", str(folder))
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert {p.name: mode(p) for p in folder.iterdir()} == {
        p.name: 0o600 for p in folder.iterdir()
    } and len(list(folder.iterdir())) >= 5
    zipped = tmp_path / "all.zip"
    cli("export", "all", "--out", str(zipped))
    assert mode(zipped) == 0o600


def test_a_file_beside_the_export_does_not_widen_it(cli, tmp_path):
    """A file already at the old temporary name (a crash of an older fieldlog, or planted):
    the export is created under a new exclusive name, owner-only, and leaves that file be."""
    cli("add", "Exported")
    out = tmp_path / "c.csv"
    part = tmp_path / "c.csv.part"
    part.write_text("left by a crash")
    os.chmod(part, 0o666)
    cli("export", "--out", str(out))
    assert mode(out) == 0o600 and part.read_text() == "left by a crash"


def test_temporary_copies_of_encrypt_restore_and_backup_are_owner_only(
    db_path, tmp_path, monkeypatch
):
    """The hidden copies beside the log (and beside a backup) while they are written."""
    from fieldlog.db import backup as backup_mod

    seen: dict[str, int] = {}
    check = crypto._check_copy

    def check_spy(path: Path, *args):
        seen["encrypt"] = mode(path)
        return check(path, *args)

    monkeypatch.setattr(crypto, "_check_copy", check_spy)
    with Store.open(db_path) as store:
        store.contacts.add({"summary": "To encrypt"})
    crypto.encrypt_log(db_path, PASS)
    verify = backup_mod.verify_file

    def verify_spy(conn, path):
        for p in tmp_path.glob(".*.tmp"):
            seen[p.name.split(".")[-2].rsplit("-", 1)[0]] = mode(p)
        return verify(conn, path)

    monkeypatch.setattr(backup_mod, "verify_file", verify_spy)
    with Store.open(db_path, passphrase=PASS) as store:
        backup_mod.backup_log(store.conn, db_path, tmp_path / "b.db")
    staged = backup_mod.stage_restore(tmp_path / "b.db", db_path, passphrase=PASS)
    backup_mod.discard(staged)
    assert seen["encrypt"] == 0o600 and seen["backup"] == 0o600 and seen["restore"] == 0o600
    assert not list(tmp_path.glob(".*.tmp*"))


@pytest.mark.parametrize("passphrase", [None, PASS])
def test_backups_restores_and_kept_copies_are_owner_only(
    cli, db_path, tmp_path, monkeypatch, passphrase
):
    if passphrase:
        monkeypatch.setenv("FIELDLOG_PASSPHRASE", passphrase)
    cli("add", "Before the backup")
    backup = tmp_path / "backup.db"
    cli("backup", str(backup))
    assert mode(backup) == 0o600
    os.chmod(db_path, 0o644)  # a log made by an older fieldlog
    cli("restore", str(backup), "--yes")
    assert mode(db_path) == 0o600
    kept = list(tmp_path.glob("log.db.pre-restore-*.bak"))
    assert len(kept) == 1 and mode(kept[0]) == 0o600


def test_encrypt_and_decrypt_write_owner_only_copies(db_path, monkeypatch):
    with Store.open(db_path) as store:
        store.contacts.add({"summary": "To encrypt"})
    os.chmod(db_path, 0o644)  # a log made by an older fieldlog
    seen: list[int] = []
    check = crypto._check_copy

    def spy(path: Path, *args):
        seen.append(mode(path))
        return check(path, *args)

    monkeypatch.setattr(crypto, "_check_copy", spy)
    crypto.encrypt_log(db_path, PASS)
    assert mode(db_path) == 0o600
    crypto.decrypt_log(db_path, passphrase=PASS)
    assert mode(db_path) == 0o600
    assert seen == [0o600, 0o600]


def test_an_upgrade_copy_is_owner_only(tmp_path):
    path = tmp_path / "old.db"
    shutil.copyfile(FIXTURES / "schema_v1.db", path)
    Store.open(path).close()
    copies = list(tmp_path.glob("old.db.v1-*.bak"))
    assert len(copies) == 1 and mode(copies[0]) == 0o600


def test_raw_copies_are_owner_only(tmp_path):
    src = tmp_path / "src"
    src.write_bytes(b"bytes of a damaged log")
    os.chmod(src, 0o644)
    dest = tmp_path / "dest"
    private_copy(src, dest)
    assert dest.read_bytes() == src.read_bytes() and mode(dest) == 0o600


def test_a_copy_over_an_existing_file_is_made_owner_only(tmp_path):
    from fieldlog.db.connect import connect, copy_log

    src = tmp_path / "log.db"
    with Store.open(src) as store:
        store.contacts.add({"summary": "Copied"})
    dest = tmp_path / "copy.db"
    dest.write_bytes(b"")
    os.chmod(dest, 0o644)
    conn = connect(src)
    copy_log(conn, dest)
    conn.close()
    assert mode(dest) == 0o600
