"""Encryption at rest: converting a log between plain and encrypted, and changing its
passphrase.

Every conversion writes a new file next to the log, checks it (SQLite's integrity_check, each
search index's own check, the fieldlog schema, the same number of rows in every table) and
only then renames it over the log, so a failure at any point leaves the log as it was. A
conversion needs the log to itself: it is refused while another fieldlog (the full-screen app,
a sync, another command) has it open. Every handle on the log and the copy is closed before
the rename: Windows cannot rename a file over one that is open. SQLCipher's
``sqlcipher_export()`` copies between a plain and an encrypted file (the backup API cannot);
``PRAGMA rekey`` changes a passphrase in place, in one transaction.

The new file is written under a hidden name carrying the process id
(:func:`fieldlog.db.leftovers.temp_path`): encrypted for ``encrypt``, in clear only for
``decrypt`` (its result is in clear anyway), which keeps it no longer than the write and the
check. A process killed in between leaves it; the next open of the log removes it
(overwritten with zeros first when in clear) and says so. After ``encrypt`` the log's audit
chain is keyed (:meth:`fieldlog.db.store.Store.key_audit`).

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
from fieldlog.db.leftovers import release, temp_path, wipe, zero_and_close
from fieldlog.db.logfile import (
    LogInfo,
    check_log,
    count_rows,
    fsync_dir,
    new_private_file,
    open_copy,
    remove_files,
    take_exclusive,
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


def _link_aside(path: Path) -> Path | None:
    """A second name (a hard link) for the old log's file, so its plaintext can be wiped after
    the new file took the name, with no handle open during the rename; None where the file
    system has no hard links (FAT, exFAT)."""
    aside = temp_path(path, "encrypt-old")
    remove_files(aside)
    try:
        os.link(path, aside)
    except (OSError, AttributeError, NotImplementedError):
        release(aside)
        return None
    return aside


def replaces_open_files() -> bool:
    """Whether a file may be renamed over one that is open (POSIX: yes; Windows: no)."""
    return os.name == "posix"


def _wipe_aside(aside: Path) -> None:
    wipe(aside)
    remove_files(aside)
    release(aside)


def _convert(path: Path, src: Any, passphrase: str | None, *, wipe_old: bool) -> None:
    """Write the log held by ``src`` (already exclusive) to a new file keyed with
    ``passphrase`` (None: plain), check it, close every handle, rename it over the log; with
    ``wipe_old`` the old file's bytes are overwritten with zeros once it has no name left.

    The new file is written under a hidden name carrying this process's id: if the process
    is killed, the next open of the log finds it, overwrites it with zeros when it is in clear
    (a decrypt's) and removes it (:mod:`fieldlog.db.leftovers`). A decrypt's copy in clear
    that fails its check is overwritten with zeros too before it goes."""
    tmp = temp_path(path, "decrypt" if passphrase is None else "encrypt")
    aside: Path | None = None
    old_fd: int | None = None
    replaced = False
    try:
        try:
            version = check_log(src, path)
            expect = count_rows(src)
            _export_to(src, tmp, passphrase, version)
            _check_copy(tmp, passphrase, expect)
        finally:
            src.close()  # before the rename: Windows cannot replace an open file
        if wipe_old:
            aside = _link_aside(path)
            if aside is None and replaces_open_files():
                old_fd = os.open(path, os.O_WRONLY)
        os.replace(tmp, path)
        replaced = True
        fsync_dir(path.parent)
    except db_error(src) as exc:
        raise explain(exc, path) from None
    except PermissionError as exc:
        raise StorageError(
            f"Cannot replace the log {path} ({exc.strerror or exc}): another program may have it "
            "open (another fieldlog, a backup or antivirus tool); close it and try again. The log "
            "is unchanged."
        ) from None
    except OSError as exc:
        raise StorageError(f"Cannot write beside the log {path}: {exc.strerror or exc}.") from None
    finally:
        if not replaced and passphrase is None:
            for side in ("", "-journal", "-wal"):
                if tmp.with_name(tmp.name + side).exists():
                    wipe(tmp.with_name(tmp.name + side))
        remove_files(tmp)
        release(tmp)
        # The old bytes are wiped only once the new file has the name: until then the aside
        # and old_fd are the log itself.
        if old_fd is not None:
            if replaced:
                zero_and_close(old_fd)
            else:
                os.close(old_fd)
        if aside is not None:
            if replaced:
                _wipe_aside(aside)
            else:
                remove_files(aside)  # only the second name: the log keeps its first
                release(aside)


def plain_copies(path: Path) -> list[Path]:
    """Copies of the log fieldlog left beside it (upgrade and pre-restore copies, and the
    hidden ``.LOG.*.tmp`` files a conversion cut short by a crash may leave) that are not
    encrypted."""
    out = []
    patterns = (f"{path.name}.v*.bak", f"{path.name}.pre-restore-*.bak", f".{path.name}.*.tmp")
    for pattern in patterns:
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
    return reopen_info(path, passphrase, key_audit=True)


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


def reopen_info(path: Path, passphrase: str | None, *, key_audit: bool = False) -> LogInfo:
    """Open the log as every command does (WAL back on, upgraded if older) and describe it;
    ``key_audit``: an encrypted log's audit chain is keyed from now on (after encrypt, and a
    restore of an encrypted backup; :meth:`Store.key_audit`)."""
    from fieldlog.db.store import Store

    with Store.open(path, passphrase=passphrase) as store:
        if key_audit:
            store.key_audit()
        return LogInfo(
            path=path,
            encrypted=store.encrypted,
            version=int(store.scalar("PRAGMA user_version")),
            contacts=store.contacts.count(),
            passphrase=store.passphrase,
        )
