"""Encryption at rest: converting a log between plain and encrypted, and changing its
passphrase.

Every conversion writes a new file next to the log, checks it (SQLite's integrity_check, each
search index's own check, the fieldlog schema, the same number of rows in every table) and
only then renames it over the log, so a failure at any point leaves the log as it was. A
conversion needs the log to itself: it is refused while another fieldlog (the full-screen app,
a sync, another command) has it open. SQLCipher's ``sqlcipher_export()`` copies between a plain
and an encrypted file (the backup API cannot); ``PRAGMA rekey`` changes a passphrase in place,
in one transaction.

A conversion is an operation over a log, so this module may open a :class:`Store` (to describe
the result); the store never imports it. Backups and restores are :mod:`fieldlog.db.backup`;
the file checks both use are :mod:`fieldlog.db.logfile`.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

from fieldlog.db.connect import (
    APPLICATION_ID,
    AskPassphrase,
    _sql_text,
    connect,
    db_error,
    explain,
    log_kind,
    open_cipher,
)
from fieldlog.db.logfile import (
    LogInfo,
    check_log,
    count_rows,
    fsync_dir,
    new_private_file,
    open_copy,
    remove_files,
    take_exclusive,
    tmp_path,
    verify_file,
)
from fieldlog.errors import StorageError


def _export_to(src: Any, dest: Path, passphrase: str | None, version: int) -> None:
    """Copy ``src`` into the new file ``dest`` with ``sqlcipher_export``: encrypted with
    ``passphrase``, or plain when it is None."""
    new_private_file(dest)
    err = db_error(src)
    src.execute(
        f"ATTACH DATABASE {_sql_text(str(dest))} AS fl_new KEY {_sql_text(passphrase or '')}"
    )
    try:
        src.execute("SELECT sqlcipher_export('fl_new')")
        # sqlcipher_export copies the schema and rows, not the header's two numbers.
        src.execute(f"PRAGMA fl_new.user_version = {int(version)}")
        src.execute(f"PRAGMA fl_new.application_id = {APPLICATION_ID}")
    finally:
        with contextlib.suppress(err):
            src.execute("DETACH DATABASE fl_new")


def _check_copy(path: Path, passphrase: str | None, expect: dict[str, int]) -> None:
    conn = open_copy(path, passphrase)
    try:
        verify_file(conn, path)
        got = count_rows(conn)
    finally:
        conn.close()
    if got != expect:
        diff = sorted(k for k in set(got) | set(expect) if got.get(k) != expect.get(k))
        raise StorageError(
            f"The converted copy of the log does not match it ({', '.join(diff)}): the log is "
            "unchanged; try again."
        )


def _wipe(fd: int) -> None:
    """Overwrite an unlinked plaintext file with zeros before letting it go. Best effort: an
    SSD or a copy-on-write filesystem may keep the old blocks (docs/encryption.md)."""
    try:
        size = os.fstat(fd).st_size
        os.lseek(fd, 0, os.SEEK_SET)
        block = b"\0" * (1 << 20)
        left = size
        while left > 0:
            left -= os.write(fd, block[: min(left, len(block))])
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _convert(path: Path, src: Any, passphrase: str | None, *, wipe_old: bool) -> None:
    """Write the log held by ``src`` (already exclusive) to a new file keyed with
    ``passphrase`` (None: plain), check it, rename it over the log."""
    tmp = tmp_path(path, "convert")
    old_fd: int | None = None
    try:
        version = check_log(src, path)
        expect = count_rows(src)
        _export_to(src, tmp, passphrase, version)
        _check_copy(tmp, passphrase, expect)
        if wipe_old:
            old_fd = os.open(path, os.O_WRONLY)
        os.replace(tmp, path)
        fsync_dir(path.parent)
    except db_error(src) as exc:
        raise explain(exc, path) from None
    except OSError as exc:
        raise StorageError(f"Cannot write beside the log {path}: {exc.strerror or exc}.") from None
    finally:
        remove_files(tmp)
        src.close()  # only now: closing another descriptor of the file would drop its locks
        if old_fd is not None:
            _wipe(old_fd)


def plain_copies(path: Path) -> list[Path]:
    """Copies of the log fieldlog left beside it (upgrade and pre-restore copies) that are not
    encrypted."""
    out = []
    for pattern in (f"{path.name}.v*.bak", f"{path.name}.pre-restore-*.bak"):
        for p in sorted(path.parent.glob(pattern)):
            with contextlib.suppress(StorageError):
                if log_kind(p) == "plain":
                    out.append(p)
    return out


def encrypt_log(path: Path, passphrase: str) -> LogInfo:
    """Encrypt a plain log in place: new encrypted file, checked, renamed over the log; the
    old file is overwritten with zeros (best effort)."""
    kind = log_kind(path)
    if kind == "new":
        raise StorageError(
            f"There is no log at {path} yet: create an encrypted one with  "
            "fieldlog init --encrypt --officer NAME"
        )
    if kind == "encrypted":
        raise StorageError(
            f"The log {path} is already encrypted: change its passphrase with  fieldlog passphrase"
        )
    if not passphrase:
        raise StorageError("A passphrase cannot be empty: choose one you will remember.")
    _sql_text(passphrase)  # refuse an impossible passphrase before any work
    src = open_cipher(path, None)  # the plain file through SQLCipher, for sqlcipher_export
    try:
        check_log(src, path)
        take_exclusive(src, path)
    except BaseException:
        src.close()
        raise
    _convert(path, src, passphrase, wipe_old=True)
    return reopen_info(path, passphrase)


def decrypt_log(
    path: Path, *, passphrase: str | None = None, ask: AskPassphrase | None = None
) -> LogInfo:
    """Decrypt an encrypted log in place (new plain file, checked, renamed over the log)."""
    kind = log_kind(path)
    if kind == "new":
        raise StorageError(f"There is no log at {path}: check --db / FIELDLOG_DB.")
    if kind == "plain":
        raise StorageError(f"The log {path} is not encrypted: there is nothing to decrypt.")
    src = connect(path, passphrase=passphrase, ask=ask)
    try:
        check_log(src, path)
        take_exclusive(src, path)
    except BaseException:
        src.close()
        raise
    _convert(path, src, None, wipe_old=False)
    return reopen_info(path, None)


def change_passphrase(
    path: Path, new: str, *, passphrase: str | None = None, ask: AskPassphrase | None = None
) -> LogInfo:
    """``PRAGMA rekey``: every page re-encrypted with ``new`` in one transaction."""
    if log_kind(path) != "encrypted":
        raise StorageError(
            f"The log {path} is not encrypted: encrypt it with  fieldlog encrypt  first."
        )
    if not new:
        raise StorageError("A passphrase cannot be empty: choose one you will remember.")
    key = _sql_text(new)
    conn = connect(path, passphrase=passphrase, ask=ask)
    try:
        check_log(conn, path)
        take_exclusive(conn, path)
        conn.execute(f"PRAGMA rekey = {key}")
        verify_file(conn, path)
    except db_error(conn) as exc:
        raise explain(exc, path) from None
    finally:
        conn.close()
    return reopen_info(path, new)


def reopen_info(path: Path, passphrase: str | None) -> LogInfo:
    """Open the log as every command does (WAL back on, upgraded if older) and describe it."""
    from fieldlog.db.store import Store

    with Store.open(path, passphrase=passphrase) as store:
        return LogInfo(
            path=path,
            encrypted=store.encrypted,
            version=int(store.scalar("PRAGMA user_version")),
            contacts=store.contacts.count(),
            passphrase=store.passphrase,
        )
