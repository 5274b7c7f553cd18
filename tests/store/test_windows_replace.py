"""Windows cannot rename a file over one that is open: every command that replaces a file
(encrypt, decrypt, passphrase, backup, restore, export) closes each handle on it first.

Run on Linux under "Windows semantics": ``os.replace`` refuses, as Windows does, while this
process still has the source or the destination open (its descriptors, read from
/proc/self/fd: SQLite connections, file objects, raw descriptors).
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from fieldlog.db import crypto
from fieldlog.db.connect import is_encrypted
from fieldlog.db.store import Store
from tests.lib.crypto import PASS

pytestmark = pytest.mark.skipif(
    not os.path.isdir("/proc/self/fd"), reason="reads this process's open files in /proc"
)

REAL_REPLACE = os.replace
REAL_LINK = os.link


def open_paths() -> set[str]:
    """The files this process has open, by their real path."""
    held = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith("/"):
            held.add(os.path.realpath(target.removesuffix(" (deleted)")))
    return held


class WindowsReplace:
    """``os.replace`` as on Windows; remembers what it replaced."""

    def __init__(self) -> None:
        self.done: list[tuple[str, str]] = []

    @staticmethod
    def _refuse_open(src, dst) -> None:
        """Refuse, as Windows does, when this process has ``src`` or ``dst`` open."""
        held = open_paths()
        for p in (src, dst):
            if os.path.realpath(p) in held:
                raise PermissionError(
                    13, "The process cannot access the file because it is being used", str(p)
                )

    def __call__(self, src, dst, *args, **kwargs):
        self._refuse_open(src, dst)
        REAL_REPLACE(src, dst, *args, **kwargs)
        self.done.append((os.fspath(src), os.fspath(dst)))

    def link(self, src, dst, *args, **kwargs):
        """``os.link`` with the same check: an export takes its name by a hard link (which
        never overwrites) from a temp file that must be closed first."""
        self._refuse_open(src, dst)
        REAL_LINK(src, dst, *args, **kwargs)
        self.done.append((os.fspath(src), os.fspath(dst)))


@pytest.fixture
def windows(monkeypatch) -> WindowsReplace:
    fake = WindowsReplace()
    monkeypatch.setattr(os, "replace", fake)
    return fake


def test_the_fake_refuses_an_open_file(tmp_path, windows):
    a, b = tmp_path / "a.db", tmp_path / "b.db"
    b.write_text("old")
    conn = sqlite3.connect(a)
    conn.execute("CREATE TABLE t (x)")
    with pytest.raises(PermissionError):  # the source open (an SQLite connection)
        os.replace(a, b)
    conn.close()
    with open(b, "rb"), pytest.raises(PermissionError):  # the destination open
        os.replace(a, b)
    os.replace(a, b)
    assert windows.done == [(str(a), str(b))]


def _summaries(path: Path, passphrase: str | None = None) -> set[str]:
    with Store.open(path, passphrase=passphrase) as store:
        return {r[0] for r in store.conn.execute("SELECT summary FROM contacts")}


def test_encrypt_passphrase_decrypt_close_the_log_first(cli, db_path, monkeypatch, windows):
    cli("add", "Met the shop owner", "--name", "Ada Quill")
    monkeypatch.setenv("FIELDLOG_PASSPHRASE", PASS)
    cli("encrypt")
    assert is_encrypted(db_path) and windows.done[-1][1] == str(db_path)
    assert _summaries(db_path, PASS) == {"Met the shop owner"}
    monkeypatch.setenv("FIELDLOG_NEW_PASSPHRASE", "another one")
    cli("passphrase")  # PRAGMA rekey, in place: no rename
    monkeypatch.setenv("FIELDLOG_PASSPHRASE", "another one")
    cli("decrypt", "--yes")
    assert not is_encrypted(db_path) and len(windows.done) == 2
    assert _summaries(db_path) == {"Met the shop owner"}
    assert sorted(p.name for p in db_path.parent.glob(".log.db.*")) == []  # no aside left


def test_encrypt_without_hard_links_on_windows(db_path, monkeypatch, windows):
    """A FAT or exFAT drive has no hard links: on Windows the old file cannot be kept open
    for wiping either, so it is replaced without the wipe (docs/encryption.md)."""
    with Store.open(db_path) as store:
        store.contacts.add({"summary": "On a USB stick"})

    def no_link(*_a, **_k):
        raise OSError(1, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_link)
    monkeypatch.setattr(crypto, "replaces_open_files", lambda: False)
    crypto.encrypt_log(db_path, PASS)
    assert is_encrypted(db_path) and _summaries(db_path, PASS) == {"On a USB stick"}


def test_a_refused_rename_leaves_the_log_whole(db_path, monkeypatch):
    """Another program holds the log (Windows says so at the rename): the log is unchanged,
    and its old bytes are never wiped (the aside name is the log itself until the rename)."""
    with Store.open(db_path) as store:
        store.contacts.add({"summary": "Keep me"})

    def refused(src, dst, *a, **k):
        raise PermissionError(13, "The process cannot access the file", str(dst))

    monkeypatch.setattr(os, "replace", refused)
    with pytest.raises(crypto.StorageError, match="another program may have it open"):
        crypto.encrypt_log(db_path, PASS)
    assert not is_encrypted(db_path) and _summaries(db_path) == {"Keep me"}
    assert sorted(p.name for p in db_path.parent.iterdir()) == ["log.db"]


def test_backup_and_restore_close_their_files_first(cli, db_path, tmp_path, windows):
    cli("add", "Before the backup")
    backup = tmp_path / "backup.db"
    cli("backup", str(backup))
    assert windows.done[-1][1] == str(backup)
    cli("add", "After the backup")
    out = cli("restore", str(backup), "--yes").stdout
    assert "Restored" in out and windows.done[-1][1] == str(db_path)
    assert _summaries(db_path) == {"Before the backup"}
    kept = list(tmp_path.glob("log.db.pre-restore-*.bak"))
    assert len(kept) == 1 and _summaries(kept[0]) == {"Before the backup", "After the backup"}


def test_encrypted_backup_and_restore(cli, db_path, tmp_path, monkeypatch, windows):
    monkeypatch.setenv("FIELDLOG_PASSPHRASE", PASS)
    cli("add", "Secret one")
    backup = tmp_path / "backup.db"
    cli("backup", str(backup))
    cli("add", "Secret two")
    cli("restore", str(backup), "--yes")
    assert _summaries(db_path, PASS) == {"Secret one"}


def test_exports_close_their_files_first(cli, tmp_path, windows, monkeypatch):
    monkeypatch.setattr(os, "link", windows.link)
    cli("add", "Exported", "--name", "Ada Quill")
    one = tmp_path / "contacts.csv"
    cli("export", "--out", str(one))
    cli("export", "all", "--out", str(tmp_path / "all"))
    cli("export", "all", "--out", str(tmp_path / "all.zip"))
    done = {Path(dst).name for _, dst in windows.done}
    assert {"contacts.csv", "flat.csv", "all.zip"} <= done
    assert "Ada Quill" in one.read_text(encoding="utf-8")


@pytest.mark.slow
def test_the_tui_export_closes_its_file_first(tmp_path, windows, monkeypatch):
    monkeypatch.setattr(os, "link", windows.link)
    from textual.widgets import Input

    from fieldlog.tui.app import make_app
    from fieldlog.tui.dialogs.export import ExportDialog
    from tests.lib.tui import SIZE, run, settle

    path = tmp_path / "log.db"
    with Store.open(path) as store:
        store.contacts.add({"summary": "From the app"})
    out = tmp_path / "out.csv"

    async def flow():
        app = make_app(path)
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            await pilot.press("ctrl+e")
            await pilot.pause()
            assert isinstance(app.screen, ExportDialog)
            app.screen.query_one("#path", Input).value = str(out)
            await pilot.press("ctrl+s")
            await settle(app, pilot)
            assert not isinstance(app.screen, ExportDialog)

    run(flow)
    assert "From the app" in out.read_text(encoding="utf-8")
    assert [Path(dst).name for _, dst in windows.done] == ["out.csv"]
    assert Path(windows.done[0][0]).name.startswith(".out.csv.")
