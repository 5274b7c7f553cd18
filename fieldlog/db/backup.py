"""Copies of a log: a backup through SQLite's online backup API, and restoring one.

A backup is taken while other fieldlogs keep writing (the backup API gives a consistent copy),
encrypted with the log's passphrase when the log is encrypted, and checked before it takes its
name. A restore copies the backup beside the log, checks the copy, then needs the log to
itself (refused while another fieldlog has it open), keeps a copy of the log it replaces and
renames the checked copy over it: a failure at any point leaves the log as it was. Backups and
kept copies are owner-only files (0600 on POSIX), and every handle on a file is closed before
a rename replaces it (Windows cannot replace an open file). Copies in the making have hidden
names carrying the process id (:mod:`fieldlog.db.leftovers`), so what a killed backup or
restore leaves is removed by the next open of the log (or the next backup beside it); the
kept copy too is written under such a name and renamed when complete.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fieldlog.db.connect import (
    PASSPHRASE_ENV,
    AskPassphrase,
    PassphraseNeeded,
    WrongPassphrase,
    connect,
    copy_log,
    db_error,
    env_passphrase,
    explain,
    log_kind,
    open_cipher,
    passphrase_of,
)
from fieldlog.db.leftovers import release, temp_path
from fieldlog.db.logfile import (
    SIDE_FILES,
    LogInfo,
    count_contacts,
    fsync_dir,
    new_private_file,
    open_copy,
    private_copy,
    remove_files,
    stamp,
    take_exclusive,
    verify_file,
)
from fieldlog.errors import StorageError


def backup_log(conn: Any, log: Path | str, dest: Path) -> LogInfo:
    """A consistent copy of the open log into ``dest`` through the online backup API
    (encrypted with the log's passphrase if the log is encrypted), checked before it takes
    the name ``dest``. Other fieldlogs may keep writing meanwhile."""
    part = temp_path(dest, "backup")
    key = passphrase_of(conn)
    try:
        new_private_file(part)
        copy_log(conn, part)
        copy = open_copy(part, key)
        try:
            version = verify_file(copy, dest)
            contacts = count_contacts(copy)
        finally:
            copy.close()
        os.replace(part, dest)
        fsync_dir(dest.parent)
    except db_error(conn) as exc:
        raise explain(exc, log) from None
    except OSError as exc:
        raise StorageError(f"Cannot write the backup {dest}: {exc.strerror or exc}.") from None
    finally:
        remove_files(part)
        release(part)
    return LogInfo(path=dest, encrypted=key is not None, version=version, contacts=contacts)


@dataclass
class Staged:
    """A backup copied beside the log and checked, ready to take its place."""

    source: Path
    tmp: Path
    info: LogInfo


def stage_restore(
    source: Path,
    log: Path,
    *,
    passphrase: str | None = None,
    ask: AskPassphrase | None = None,
) -> Staged:
    """Copy the backup ``source`` beside ``log`` and check the copy: it opens (with its
    passphrase if encrypted), passes SQLite's integrity check and the search indexes' checks,
    and is a fieldlog log of a schema this fieldlog can open (an older one is upgraded on the
    first open after the restore). The backup file itself is only read."""
    if not source.exists():
        raise StorageError(f"There is no backup at {source}: check the path.")
    if source.is_dir():
        raise StorageError(f"{source} is a folder: give the backup file's path.")
    if log.exists() and os.path.samefile(source, log):
        raise StorageError(f"{source} is the log itself: give a backup's path.")
    try:
        kind = log_kind(source)
    except StorageError:
        raise StorageError(
            f"{source} is not a backup of a fieldlog log (it is not an SQLite database): check "
            "the path."
        ) from None
    if kind == "new":
        raise StorageError(f"{source} is empty: it is not a backup of a log.")
    log.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = temp_path(log, "restore")

    def reword(exc: StorageError) -> StorageError:
        return type(exc)(str(exc).replace(str(tmp), str(source)))

    def ask_source(_path: Path, new: bool, retry: bool) -> str | None:
        return ask(source, new, retry) if ask is not None else None

    try:
        private_copy(source, tmp)
        for side in ("-wal", "-journal"):  # a copy of a live log: its committed writes too
            if source.with_name(source.name + side).exists():
                private_copy(source.with_name(source.name + side), tmp.with_name(tmp.name + side))
        conn = _open_backup(tmp, source, passphrase, ask_source)
        try:
            version = verify_file(conn, tmp)
            contacts = count_contacts(conn)
            conn.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
            key = passphrase_of(conn)
        except db_error(conn) as exc:
            raise explain(exc, tmp) from None
        finally:
            conn.close()
    except StorageError as exc:
        _drop(tmp)
        raise reword(exc) from None
    except OSError as exc:
        _drop(tmp)
        raise StorageError(
            f"Cannot copy the backup {source} beside the log: {exc.strerror or exc}."
        ) from None
    except BaseException:
        _drop(tmp)
        raise
    info = LogInfo(
        path=source, encrypted=key is not None, version=version, contacts=contacts, passphrase=key
    )
    return Staged(source=source, tmp=tmp, info=info)


def discard(staged: Staged) -> None:
    """Remove a staged copy that was not used (or is gone already: nothing to do)."""
    _drop(staged.tmp)


def _drop(tmp: Path) -> None:
    """Remove a temporary copy (and its side files) and stop counting it as in flight."""
    remove_files(tmp)
    release(tmp)


def _open_backup(tmp: Path, source: Path, passphrase: str | None, ask: AskPassphrase) -> Any:
    """The staged copy, keyed like any log; when $FIELDLOG_PASSPHRASE (the log's) does not
    open it, a backup from before a passphrase change, so ask for the backup's own."""
    try:
        return connect(tmp, passphrase=passphrase, ask=ask)
    except WrongPassphrase:
        if passphrase is None and env_passphrase() is not None:
            with contextlib.suppress(WrongPassphrase, PassphraseNeeded):
                return connect(tmp, ask=ask, use_env=False)
        raise WrongPassphrase(
            f"The passphrase does not open the backup {source} (or it is damaged): a backup "
            "opens with the "
            f"passphrase the log had when the backup was made (set {PASSPHRASE_ENV} to that one, "
            "or type it at a terminal)."
        ) from None


def open_current(log: Path, hint: str | None, ask: AskPassphrase | None) -> Any:
    """The current log for a restore: keyed with ``hint`` (the backup's passphrase, usually
    the same) when it fits, else $FIELDLOG_PASSPHRASE, else a typed one."""
    if hint is not None and log_kind(log) == "encrypted":
        with contextlib.suppress(WrongPassphrase):
            return open_cipher(log, hint)
    try:
        return connect(log, ask=ask)
    except WrongPassphrase:
        if env_passphrase() is None or ask is None:
            raise
        try:  # $FIELDLOG_PASSPHRASE held the backup's (older) passphrase: ask for the log's
            return connect(log, ask=ask, use_env=False)
        except PassphraseNeeded:
            raise WrongPassphrase(
                f"The passphrase in {PASSPHRASE_ENV} does not open the log {log}."
            ) from None


def keep_path(log: Path) -> Path:
    return log.with_name(f"{log.name}.pre-restore-{stamp()}.bak")


def finish_restore(staged: Staged, log: Path, current: Any | None) -> Path | None:
    """Put the staged backup in place of ``log``. ``current``: the log opened (see
    :func:`open_current`), or None when it cannot be opened (damaged; the caller asked for
    ``--force``). A copy of the log being replaced is kept beside it (the backup API's copy,
    encrypted like the log, or the raw files when it cannot be opened); returns its path."""
    kept: Path | None = None
    # The kept copy is written under a temporary name first, so a kill mid-copy leaves a
    # temporary file the next open sweeps, not a partial "kept" copy.
    keep_tmp = temp_path(log, "keep")
    try:
        if current is not None:
            try:
                take_exclusive(current, log)
                try:
                    new_private_file(keep_tmp)
                    copy_log(current, keep_tmp)
                except db_error(current):  # too damaged for the backup API: keep its bytes
                    remove_files(keep_tmp)
                    _raw_copy(log, keep_tmp)
                kept = keep_path(log)
                _rename_copy(keep_tmp, kept)
            finally:
                current.close()  # before the rename: Windows cannot replace an open file
                current = None
        elif log.exists() and log.stat().st_size > 0:
            _raw_copy(log, keep_tmp)
            kept = keep_path(log)
            _rename_copy(keep_tmp, kept)
            for side in SIDE_FILES:  # never let the old -wal be applied to the restored file
                with contextlib.suppress(FileNotFoundError):
                    log.with_name(log.name + side).unlink()
        os.replace(staged.tmp, log)
        fsync_dir(log.parent)
    except PermissionError as exc:
        raise StorageError(
            f"Cannot replace the log {log} ({exc.strerror or exc}): another program may have it "
            "open (another fieldlog, a backup or antivirus tool); close it and try again."
        ) from None
    except OSError as exc:
        raise StorageError(f"Cannot replace the log {log}: {exc.strerror or exc}.") from None
    finally:
        if current is not None:
            current.close()
        _drop(staged.tmp)
        _drop(keep_tmp)
    return kept


def _rename_copy(tmp: Path, dest: Path) -> None:
    """A finished copy (and the -wal/-journal a raw copy may have) takes its name."""
    for side in ("-wal", "-journal"):
        if tmp.with_name(tmp.name + side).exists():
            os.replace(tmp.with_name(tmp.name + side), dest.with_name(dest.name + side))
    os.replace(tmp, dest)


def _raw_copy(log: Path, dest: Path) -> None:
    """The log's files byte for byte (still encrypted if they were)."""
    private_copy(log, dest)
    for side in ("-wal", "-journal"):
        src = log.with_name(log.name + side)
        if src.exists():
            private_copy(src, dest.with_name(dest.name + side))
