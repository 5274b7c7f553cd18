"""Encryption at rest and copies of a log: converting a log between plain and encrypted,
changing its passphrase, backups through SQLite's online backup API, and restoring one.

Every conversion writes a new file next to the log, checks it (SQLite's integrity_check, each
search index's own check, the fieldlog schema, the same number of rows in every table) and
only then renames it over the log, so a failure at any point leaves the log as it was. A
conversion or a restore needs the log to itself: it is refused while another fieldlog (the
full-screen app, a sync, another command) has it open. SQLCipher's ``sqlcipher_export()``
copies between a plain and an encrypted file (the backup API cannot); ``PRAGMA rekey``
changes a passphrase in place, in one transaction.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fieldlog.db.connect import (
    APPLICATION_ID,
    PASSPHRASE_ENV,
    AskPassphrase,
    PassphraseNeeded,
    WrongPassphrase,
    _sql_text,
    connect,
    db_error,
    env_passphrase,
    explain,
    log_kind,
    open_cipher,
    passphrase_of,
)
from fieldlog.errors import StorageError

SIDE_FILES = ("-wal", "-shm", "-journal")


@dataclass
class LogInfo:
    """What a check of a log file found."""

    path: Path
    encrypted: bool
    version: int
    contacts: int
    passphrase: str | None = None


# ---------------------------------------------------------------------- small helpers
def ram_dir() -> str | None:
    """A folder held in memory (tmpfs) that this user may write: ``$XDG_RUNTIME_DIR``, else
    ``/dev/shm``; None when there is none (not Linux, or neither is mounted as tmpfs)."""
    try:
        with open("/proc/self/mounts", encoding="utf-8") as fh:
            mounts = {
                parts[1].replace("\\040", " "): parts[2]
                for parts in (line.split() for line in fh)
                if len(parts) >= 3
            }
    except OSError:
        return None
    for cand in (os.environ.get("XDG_RUNTIME_DIR"), "/dev/shm"):
        if not cand or not os.path.isdir(cand) or not os.access(cand, os.W_OK | os.X_OK):
            continue
        real = os.path.realpath(cand)
        mount = max(
            (m for m in mounts if real == m or real.startswith(m.rstrip("/") + "/")),
            key=len,
            default=None,
        )
        if mount is not None and mounts[mount] in ("tmpfs", "ramfs"):
            return cand
    return None


def stamp() -> str:
    from fieldlog.dates import now

    return now().strftime("%Y%m%dT%H%M%S")


def _tmp_path(path: Path, tag: str) -> Path:
    """A hidden file beside ``path`` (same folder, so the final rename is atomic)."""
    return path.with_name(f".{path.name}.{tag}-{os.getpid()}.tmp")


def _new_private_file(path: Path) -> None:
    """An empty file only its owner can read (a copy of a log holds personal data)."""
    remove_files(path)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(fd)


def remove_files(path: Path) -> None:
    for p in (path, *(path.with_name(path.name + s) for s in SIDE_FILES)):
        with contextlib.suppress(FileNotFoundError):
            p.unlink()


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _read_version(conn: Any) -> tuple[int, int]:
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    app = conn.execute("PRAGMA application_id").fetchone()[0]
    return int(version), int(app)


def check_log(conn: Any, path: Path | str) -> int:
    """The schema version of a fieldlog log this fieldlog can open, or a StorageError."""
    from fieldlog.db.migrations import LATEST, too_new_message

    version, app = _read_version(conn)
    if app != APPLICATION_ID:
        raise StorageError(f"{path} is not a fieldlog log: check the path.")
    if version > LATEST:
        raise StorageError(too_new_message(path, version))
    return version


def _counts(conn: Any) -> dict[str, int]:
    """Rows in every ordinary table (the search indexes' shadow tables included)."""
    names = [
        r[0]
        for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' "
            "AND sql NOT LIKE 'CREATE VIRTUAL TABLE%' ORDER BY name"
        )
    ]
    return {n: conn.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names}


def _contacts(conn: Any) -> int:
    try:
        return int(conn.execute("SELECT count(*) FROM contacts WHERE deleted = 0").fetchone()[0])
    except db_error(conn):
        return 0


def verify_file(conn: Any, path: Path | str) -> int:
    """SQLite's integrity_check and each search index's own check on an open log; returns its
    schema version. Raises a StorageError naming ``path`` when anything is wrong."""
    try:
        version = check_log(conn, path)
        problems = [r[0] for r in conn.execute("PRAGMA integrity_check(5)")]
        if problems != ["ok"]:
            raise StorageError(
                f"{path} is damaged (SQLite's integrity check: {problems[0]}): use another copy."
            )
        for (name,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE "
            "'CREATE VIRTUAL TABLE%USING fts5%'"
        ).fetchall():
            conn.execute(f'INSERT INTO "{name}" ("{name}") VALUES (\'integrity-check\')')
    except db_error(conn) as exc:
        raise explain(exc, path) from None
    return version


def take_exclusive(conn: Any, path: Path | str) -> None:
    """Make ``conn`` the log's only connection until it closes, or refuse.

    Leaving WAL mode needs every other connection closed (an idle one included), so it is the
    test; the connection then holds an exclusive lock (``locking_mode = EXCLUSIVE``), and the
    -wal and -shm files are gone, so renaming another file over the log is safe."""
    conn.execute("PRAGMA busy_timeout = 2000")
    mode = None
    try:
        mode = conn.execute("PRAGMA journal_mode = DELETE").fetchone()[0]
        if mode == "delete":
            conn.execute("PRAGMA locking_mode = EXCLUSIVE")
            conn.execute("BEGIN EXCLUSIVE")
            conn.execute("COMMIT")
    except db_error(conn) as exc:
        msg = str(exc).lower()
        if "locked" not in msg and "busy" not in msg:
            raise explain(exc, path) from None
        mode = None
    if mode != "delete":
        raise StorageError(
            f"The log {path} is open in another fieldlog (the full-screen app, a sync or another "
            "command): close it and try again."
        )


def _export_to(src: Any, dest: Path, passphrase: str | None, version: int) -> None:
    """Copy ``src`` into the new file ``dest`` with ``sqlcipher_export``: encrypted with
    ``passphrase``, or plain when it is None."""
    _new_private_file(dest)
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


def _open_copy(path: Path, passphrase: str | None) -> Any:
    if passphrase is None:
        return sqlite3.connect(path, isolation_level=None)
    return open_cipher(path, passphrase)


def _check_copy(path: Path, passphrase: str | None, expect: dict[str, int]) -> None:
    conn = _open_copy(path, passphrase)
    try:
        verify_file(conn, path)
        got = _counts(conn)
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
    tmp = _tmp_path(path, "convert")
    old_fd: int | None = None
    try:
        version = check_log(src, path)
        expect = _counts(src)
        _export_to(src, tmp, passphrase, version)
        _check_copy(tmp, passphrase, expect)
        if wipe_old:
            old_fd = os.open(path, os.O_WRONLY)
        os.replace(tmp, path)
        _fsync_dir(path.parent)
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


# ---------------------------------------------------------------------- encrypt / decrypt
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
            contacts=store.count_contacts(),
            passphrase=store.passphrase,
        )


# ---------------------------------------------------------------------- backup
def backup_log(conn: Any, log: Path | str, dest: Path) -> LogInfo:
    """A consistent copy of the open log into ``dest`` through the online backup API
    (encrypted with the log's passphrase if the log is encrypted), checked before it takes
    the name ``dest``. Other fieldlogs may keep writing meanwhile."""
    part = _tmp_path(dest, "part")
    key = passphrase_of(conn)
    try:
        _new_private_file(part)
        from fieldlog.db.connect import copy_log

        copy_log(conn, part)
        copy = _open_copy(part, key)
        try:
            version = verify_file(copy, dest)
            contacts = _contacts(copy)
        finally:
            copy.close()
        os.replace(part, dest)
        _fsync_dir(dest.parent)
    except db_error(conn) as exc:
        raise explain(exc, log) from None
    except OSError as exc:
        raise StorageError(f"Cannot write the backup {dest}: {exc.strerror or exc}.") from None
    finally:
        remove_files(part)
    return LogInfo(path=dest, encrypted=key is not None, version=version, contacts=contacts)


# ---------------------------------------------------------------------- restore
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
    tmp = _tmp_path(log, "restore")

    def reword(exc: StorageError) -> StorageError:
        return type(exc)(str(exc).replace(str(tmp), str(source)))

    def ask_source(_path: Path, new: bool, retry: bool) -> str | None:
        return ask(source, new, retry) if ask is not None else None

    try:
        _new_private_file(tmp)
        shutil.copyfile(source, tmp)
        for side in ("-wal", "-journal"):  # a copy of a live log: its committed writes too
            if source.with_name(source.name + side).exists():
                shutil.copyfile(
                    source.with_name(source.name + side), tmp.with_name(tmp.name + side)
                )
        conn = _open_backup(tmp, source, passphrase, ask_source)
        try:
            version = verify_file(conn, tmp)
            contacts = _contacts(conn)
            conn.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
            key = passphrase_of(conn)
        except db_error(conn) as exc:
            raise explain(exc, tmp) from None
        finally:
            conn.close()
    except StorageError as exc:
        remove_files(tmp)
        raise reword(exc) from None
    except OSError as exc:
        remove_files(tmp)
        raise StorageError(
            f"Cannot copy the backup {source} beside the log: {exc.strerror or exc}."
        ) from None
    except BaseException:
        remove_files(tmp)
        raise
    info = LogInfo(
        path=source, encrypted=key is not None, version=version, contacts=contacts, passphrase=key
    )
    return Staged(source=source, tmp=tmp, info=info)


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
    try:
        if current is not None:
            take_exclusive(current, log)
            kept = keep_path(log)
            try:
                _new_private_file(kept)
                from fieldlog.db.connect import copy_log

                copy_log(current, kept)
            except db_error(current):  # too damaged for the backup API: keep its bytes
                remove_files(kept)
                _raw_copy(log, kept)
        elif log.exists() and log.stat().st_size > 0:
            kept = keep_path(log)
            _raw_copy(log, kept)
            for side in SIDE_FILES:  # never let the old -wal be applied to the restored file
                with contextlib.suppress(FileNotFoundError):
                    log.with_name(log.name + side).unlink()
        os.replace(staged.tmp, log)
        _fsync_dir(log.parent)
    except OSError as exc:
        raise StorageError(f"Cannot replace the log {log}: {exc.strerror or exc}.") from None
    finally:
        if current is not None:
            current.close()
        remove_files(staged.tmp)
    return kept


def _raw_copy(log: Path, dest: Path) -> None:
    """The log's files byte for byte (still encrypted if they were)."""
    _new_private_file(dest)
    shutil.copyfile(log, dest)
    for side in ("-wal", "-journal"):
        src = log.with_name(log.name + side)
        if src.exists():
            shutil.copyfile(src, dest.with_name(dest.name + side))
