"""Opening a log file: checks, pragmas, and turning SQLite's errors into plain words.

Plain ``sqlite3`` here, not sqlite-utils: importing sqlite-utils costs ~150 ms, more than the
whole of ``fieldlog add`` is allowed (see bench/bench_add.py). sqlite-utils runs the migrations
and the bulk paths, which import it when they run.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from fieldlog.errors import StorageError

APPLICATION_ID = 0x464C4F47  # "FLOG" in the SQLite header: marks a file as a fieldlog log
SQLITE_HEADER = b"SQLite format 3\x00"


def busy_timeout_ms() -> int:
    try:
        return int(os.environ.get("FIELDLOG_BUSY_TIMEOUT_MS", "10000"))
    except ValueError:
        return 10000


def explain(exc: BaseException, path: Path | str) -> StorageError:
    """An sqlite3 error as one line that names the problem and the fix."""
    msg = str(exc).lower()
    if "locked" in msg or "busy" in msg:
        return StorageError(
            f"The log {path} is locked by another program (another fieldlog or a sync is "
            "writing): wait a moment and try again."
        )
    if "readonly" in msg or "read-only" in msg:
        return StorageError(
            f"The log {path} is read-only: check the file's permissions and the drive, or use "
            "--db to choose a log you can write."
        )
    if "full" in msg:
        return StorageError(f"The disk holding {path} is full: free some space and try again.")
    if "not a database" in msg or "malformed" in msg:
        return StorageError(
            f"{path} is not a fieldlog log (or it is damaged): check --db / FIELDLOG_DB, or "
            "restore it from a backup."
        )
    if "unable to open" in msg:
        return StorageError(
            f"Cannot open the log {path}: check that its folder exists and you may write there."
        )
    return StorageError(f"The log {path} could not be used ({exc}): check --db / FIELDLOG_DB.")


def check_header(path: Path) -> None:
    """Refuse a file that exists but is not an SQLite database, before SQLite touches it."""
    try:
        with path.open("rb") as fh:
            head = fh.read(len(SQLITE_HEADER))
    except FileNotFoundError:
        return
    except IsADirectoryError:
        raise StorageError(f"{path} is a folder, not a log file: give --db a file path.") from None
    except PermissionError:
        raise StorageError(
            f"Cannot read the log {path}: you do not have permission to open it."
        ) from None
    if head and head != SQLITE_HEADER:
        raise StorageError(
            f"{path} is not a fieldlog log (it is not an SQLite database): check --db / "
            "FIELDLOG_DB."
        )


def connect(path: Path | str) -> sqlite3.Connection:
    """Open (creating if needed) with foreign keys and a busy timeout; no schema checks."""
    if str(path) == ":memory:":
        conn = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA foreign_keys = ON")
        return conn
    path = Path(path)
    check_header(path)
    if not path.parent.exists():
        try:
            path.parent.mkdir(parents=True, mode=0o700, exist_ok=True)
        except OSError as exc:
            raise StorageError(
                f"Cannot create the folder {path.parent} for the log: {exc.strerror}."
            ) from None
    timeout = busy_timeout_ms()
    try:
        conn = sqlite3.connect(
            path, isolation_level=None, timeout=timeout / 1000, check_same_thread=False
        )
        conn.execute(f"PRAGMA busy_timeout = {timeout}")
        conn.execute("PRAGMA foreign_keys = ON")
    except sqlite3.DatabaseError as exc:
        raise explain(exc, path) from None
    return conn


def use_wal(conn: sqlite3.Connection, path: Path | str) -> None:
    """WAL (the CLI and the TUI can be open at once) and FULL sync (an acknowledged write
    survives a power cut, not only a crash). Called only once the file is known to be a log,
    so a file that is not ours is never changed."""
    if str(path) == ":memory:":
        return
    try:
        mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
        if mode != "wal":
            conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
    except sqlite3.DatabaseError as exc:
        raise explain(exc, path) from None
