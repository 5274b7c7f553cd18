"""A log as a file: the checks a copy passes before it takes the log's place, private files
beside the log, and the exclusive hold a conversion or a restore needs.

Shared by :mod:`fieldlog.db.crypto` (encrypt, decrypt, change the passphrase) and
:mod:`fieldlog.db.backup` (backup, restore): every one of them writes a new file next to the
log, checks it (SQLite's integrity_check, each search index's own check, the fieldlog schema)
and only then renames it over its target, so a failure at any point leaves the log as it was.
Every file made here is owner-only (0600) on POSIX: each holds personal data.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fieldlog.db.connect import APPLICATION_ID, db_error, explain, open_cipher
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


def stamp() -> str:
    """Local time as ``YYYYMMDDTHHMMSS``, for the names of backups and kept copies (sorts as it
    reads, no characters a file system refuses)."""
    from fieldlog.dates import now

    return now().strftime("%Y%m%dT%H%M%S")


def tmp_path(path: Path, tag: str) -> Path:
    """A hidden file beside ``path`` (same folder, so the final rename is atomic)."""
    return path.with_name(f".{path.name}.{tag}-{os.getpid()}.tmp")


def new_private_file(path: Path) -> None:
    """An empty file only its owner can read (a copy of a log holds personal data)."""
    remove_files(path)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(fd)


def private_copy(src: Path, dest: Path) -> None:
    """``src`` copied byte for byte into a new file only its owner can read (``shutil``'s copy
    would take the umask's mode, often readable by every account)."""
    import shutil

    new_private_file(dest)
    shutil.copyfile(src, dest)


def remove_files(path: Path) -> None:
    """A file and its SQLite side files (``-wal``, ``-shm``, ``-journal``): a leftover side file
    would be applied to the next file that takes the name."""
    for p in (path, *(path.with_name(path.name + s) for s in SIDE_FILES)):
        with contextlib.suppress(FileNotFoundError):
            p.unlink()


def fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable (best effort: not every system can sync a folder)."""
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


def read_version(conn: Any) -> tuple[int, int]:
    """``(user_version, application_id)``: the schema step and whether it is a fieldlog log."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    app = conn.execute("PRAGMA application_id").fetchone()[0]
    return int(version), int(app)


def check_log(conn: Any, path: Path | str) -> int:
    """The schema version of a fieldlog log this fieldlog can open, or a StorageError."""
    from fieldlog.db.migrations import LATEST, too_new_message

    version, app = read_version(conn)
    if app != APPLICATION_ID:
        raise StorageError(f"{path} is not a fieldlog log: check the path.")
    if version > LATEST:
        raise StorageError(too_new_message(path, version))
    return version


def count_rows(conn: Any) -> dict[str, int]:
    """Rows in every ordinary table (the search indexes' shadow tables included)."""
    names = [
        r[0]
        for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' "
            "AND sql NOT LIKE 'CREATE VIRTUAL TABLE%' ORDER BY name"
        )
    ]
    return {n: conn.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names}


def count_contacts(conn: Any) -> int:
    """Live contacts in a copy, for the one-line summary of a backup or restore (0 when the copy
    has no contacts table yet)."""
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


def open_copy(path: Path, passphrase: str | None) -> Any:
    """A bare connection to a new copy, to check it: no WAL, no migration, nothing written."""
    if passphrase is None:
        return sqlite3.connect(path, isolation_level=None)
    return open_cipher(path, passphrase)
