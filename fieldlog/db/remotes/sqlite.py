"""A sync remote in one SQLite file: a shared drive or a USB stick.

``journal_mode=DELETE`` (WAL needs shared memory, which network shares do not give),
``BEGIN IMMEDIATE`` for every push and a busy timeout, so several laptops can sync through
the same file. The sequence is SQLite's ``INTEGER PRIMARY KEY`` allocated inside the push's
write transaction: a reader never sees seq 7 before seq 6 is committed.

A file syncer (Dropbox, OneDrive, Syncthing) is not a shared drive: it copies a live database
file and can tear it. docs/sync.md says so.

A backend: it imports only :mod:`fieldlog.db.remotes.types` (and the log's connection helpers);
:mod:`fieldlog.db.remotes.factory` picks it for any URL that is not ``postgresql://``.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from fieldlog import ids
from fieldlog.db.connect import SQLITE_HEADER, busy_timeout_ms
from fieldlog.db.remotes.types import (
    REMOTE_KIND,
    REMOTE_PASSPHRASE_ENV,
    SYNC_SCHEMA,
    OutChange,
    RemoteChange,
    SyncError,
    check_meta,
    remote_passphrase,
)

__all__ = [
    "REMOTE_PASSPHRASE_ENV",
    "SCHEMA",
    "SQLiteRemote",
    "looks_encrypted",
    "remote_passphrase",
]

SCHEMA = [
    "CREATE TABLE IF NOT EXISTS fieldlog_meta (key TEXT PRIMARY KEY NOT NULL, value TEXT)",
    """CREATE TABLE IF NOT EXISTS fieldlog_changes (
        seq INTEGER PRIMARY KEY,
        origin TEXT NOT NULL, origin_seq INTEGER NOT NULL,
        tbl TEXT NOT NULL, row_id TEXT NOT NULL, hlc TEXT NOT NULL, body TEXT NOT NULL,
        UNIQUE (origin, origin_seq))""",
]


def _explain(exc: BaseException, path: Path) -> SyncError:
    msg = str(exc).lower()
    if "locked" in msg or "busy" in msg:
        return SyncError(
            f"The remote {path} is busy (another laptop is syncing): try again in a moment."
        )
    if "readonly" in msg or "read-only" in msg or "permission" in msg:
        return SyncError(
            f"The remote {path} is read-only: check the share's permissions or the stick's "
            "write-protect switch."
        )
    if "full" in msg:
        return SyncError(f"The drive holding the remote {path} is full: free some space.")
    if "not a database" in msg or "malformed" in msg:
        return SyncError(
            f"{path} is not a fieldlog sync store (or it is damaged): check the remote's path."
        )
    if "unable to open" in msg or "disk i/o" in msg:
        return SyncError(
            f"Cannot open the remote {path}: is the drive connected and the folder there?"
        )
    return SyncError(f"The remote {path} could not be used ({exc}).")


def looks_encrypted(path: Path) -> bool:
    """An existing file without SQLite's header, in whole 512-byte pages (SQLCipher)."""
    try:
        with path.open("rb") as fh:
            head = fh.read(len(SQLITE_HEADER))
        size = path.stat().st_size
    except OSError:
        return False
    return bool(head) and head != SQLITE_HEADER and size >= 512 and size % 512 == 0


def _errors(conn: object) -> tuple[type[Exception], ...]:
    """sqlite3's errors, and sqlcipher3's (other classes) for an encrypted remote."""
    if isinstance(conn, sqlite3.Connection):
        return (sqlite3.Error,)
    from sqlcipher3 import dbapi2

    return (sqlite3.Error, dbapi2.Error)


def _open_encrypted(path: Path, passphrase: str, *, new: bool) -> Any:
    from fieldlog.db.connect import WrongPassphrase, open_cipher
    from fieldlog.errors import StorageError

    try:
        return open_cipher(path, passphrase, check=not new)
    except WrongPassphrase:
        raise SyncError(
            f"The department passphrase does not open the remote {path}: check "
            f"{REMOTE_PASSPHRASE_ENV} (or that the path is the department's store)."
        ) from None
    except StorageError as exc:
        raise SyncError(str(exc).replace("log", "remote", 1)) from None


class SQLiteRemote:
    """A :class:`~fieldlog.db.remotes.types.Remote` in one SQLite (or SQLCipher) file."""

    encrypted = False

    def __init__(self, conn: Any, path: Path, store_id: str) -> None:
        self.conn = conn
        self.path = path
        self.url = str(path)
        self.store_id = store_id

    @classmethod
    def open(cls, url: str, *, create: bool = True, passphrase: str | None = None) -> SQLiteRemote:
        """Open (on first use: create) the remote file. An encrypted remote (SQLCipher) is
        keyed with ``passphrase``, else ``$FIELDLOG_REMOTE_PASSPHRASE`` (the department's
        passphrase); a new remote is created encrypted when one of them is set."""
        path = Path(url.removeprefix("sqlite://")).expanduser()
        if path.is_dir():
            raise SyncError(
                f"The remote {path} is a folder: name a file in it, e.g. {path}/department.fieldlog"
            )
        passphrase = passphrase if passphrase is not None else remote_passphrase()
        encrypted = False
        if path.exists():
            try:
                with path.open("rb") as fh:
                    head = fh.read(len(SQLITE_HEADER))
                size = path.stat().st_size
            except OSError as exc:
                raise SyncError(f"Cannot read the remote {path}: {exc.strerror}.") from None
            if head and head != SQLITE_HEADER:
                if size < 512 or size % 512:
                    raise SyncError(
                        f"{path} is not a fieldlog sync store (not an SQLite file): check the "
                        "remote's path."
                    )
                encrypted = True  # SQLCipher: random-looking pages; only the key can tell
                if passphrase is None:
                    raise SyncError(
                        f"The remote {path} is encrypted: set {REMOTE_PASSPHRASE_ENV} to the "
                        "department's passphrase (or type it when fieldlog asks on a terminal)."
                    )
        elif not create:
            raise SyncError(f"The remote {path} does not exist: check the path.")
        elif not path.parent.is_dir():
            raise SyncError(
                f"The folder {path.parent} does not exist: is the drive connected? (the remote "
                "file is created on first sync, its folder must be there)"
            )
        else:
            encrypted = passphrase is not None
        timeout = busy_timeout_ms()
        if encrypted:
            conn = _open_encrypted(path, passphrase or "", new=not path.exists())
        else:
            try:
                conn = sqlite3.connect(path, isolation_level=None, timeout=timeout / 1000)
            except sqlite3.Error as exc:
                raise _explain(exc, path) from None
        try:
            conn.execute(f"PRAGMA busy_timeout = {timeout}")
            store_id = cls._hello(conn, path, create=create)
        except _errors(conn) as exc:
            conn.close()
            raise _explain(exc, path) from None
        except BaseException:
            conn.close()
            raise
        remote = cls(conn, path, store_id)
        remote.encrypted = encrypted
        return remote

    @staticmethod
    def _hello(conn: sqlite3.Connection, path: Path, *, create: bool) -> str:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "fieldlog_meta" not in tables:
            if tables:
                what = (
                    "a fieldlog log, not a sync store"
                    if "contacts" in tables
                    else ("an SQLite database but not a fieldlog sync store")
                )
                raise SyncError(
                    f"{path} is {what}: give sync a new file name (it is created on first "
                    "sync) or the department's store."
                )
            if not create:
                raise SyncError(f"{path} is empty, not a fieldlog sync store.")
            if conn.execute("PRAGMA journal_mode").fetchone()[0] != "delete":
                conn.execute("PRAGMA journal_mode = DELETE")
            conn.execute("BEGIN IMMEDIATE")
            try:
                for sql in SCHEMA:
                    conn.execute(sql)
                conn.executemany(
                    "INSERT OR IGNORE INTO fieldlog_meta (key, value) VALUES (?, ?)",
                    [
                        ("kind", REMOTE_KIND),
                        ("sync_schema", str(SYNC_SCHEMA)),
                        ("store_id", ids.uuid7_hex()),
                    ],
                )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        conn.execute("PRAGMA synchronous = FULL")
        meta = dict(conn.execute("SELECT key, value FROM fieldlog_meta").fetchall())
        return check_meta(meta, str(path))

    def head(self) -> int:
        try:
            return self.conn.execute(
                "SELECT coalesce(max(seq), 0) FROM fieldlog_changes"
            ).fetchone()[0]
        except _errors(self.conn) as exc:
            raise _explain(exc, self.path) from None

    def pull(self, after: int, limit: int) -> list[RemoteChange]:
        try:
            rows = self.conn.execute(
                "SELECT seq, origin, origin_seq, tbl, row_id, hlc, body FROM fieldlog_changes "
                "WHERE seq > ? ORDER BY seq LIMIT ?",
                [after, limit],
            ).fetchall()
        except _errors(self.conn) as exc:
            raise _explain(exc, self.path) from None
        return [
            RemoteChange(seq, origin, oseq, tbl, rid, hlc, json.loads(body))
            for seq, origin, oseq, tbl, rid, hlc, body in rows
        ]

    def push(self, origin: str, changes: list[OutChange]) -> int:
        if not changes:
            return 0
        try:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                before = self.conn.total_changes
                self.conn.executemany(
                    "INSERT OR IGNORE INTO fieldlog_changes "
                    "(origin, origin_seq, tbl, row_id, hlc, body) VALUES (?, ?, ?, ?, ?, ?)",
                    [(origin, c.origin_seq, c.tbl, c.row_id, c.hlc, c.body) for c in changes],
                )
                added = self.conn.total_changes - before
                self.conn.execute("COMMIT")
            except BaseException:
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                raise
        except _errors(self.conn) as exc:
            raise _explain(exc, self.path) from None
        return added

    def origin_changes(self, origin: str, after: int, limit: int) -> list[tuple[int, str, str]]:
        try:
            return self.conn.execute(
                "SELECT origin_seq, row_id, hlc FROM fieldlog_changes "
                "WHERE origin = ? AND origin_seq > ? ORDER BY origin_seq LIMIT ?",
                [origin, after, limit],
            ).fetchall()
        except _errors(self.conn) as exc:
            raise _explain(exc, self.path) from None

    def close(self) -> None:
        self.conn.close()
