"""A sync remote in one SQLite file: a shared drive or a USB stick.

``journal_mode=DELETE`` (WAL needs shared memory, which network shares do not give),
``BEGIN IMMEDIATE`` for every push and a busy timeout, so several laptops can sync through
the same file. The sequence comes from the store's own counter (``fieldlog_meta`` key
``seq_counter``), read and moved inside the push's write transaction, and every new row is
given its seq explicitly: never ``max(seq) + 1`` and never a rowid SQLite picks (a row planted
with seq ``2**63 - 1`` made SQLite pick random lower ones that no laptop pulled). A reader
never sees seq 7 before seq 6 is committed, and pulls only up to the counter.
:mod:`fieldlog.db.remotes.rows` says how a legacy file without a counter gets one (on first
open, under the write lock) and how a stored row that no fieldlog wrote is read without error.

A new remote file is created readable and writable by its owner only (0600) where files have
such modes; a remote that cannot be created (a full drive) leaves no empty file behind.

A file syncer (Dropbox, OneDrive, Syncthing) is not a shared drive: it copies a live database
file and can tear it. docs/sync.md says so.

A backend: it imports only :mod:`fieldlog.db.remotes.types` and
:mod:`fieldlog.db.remotes.rows` (and the log's connection helpers);
:mod:`fieldlog.db.remotes.factory` picks it for any URL that is not ``postgresql://``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fieldlog import ids
from fieldlog.db.connect import SQLITE_HEADER, busy_timeout_ms
from fieldlog.db.remotes import newfile
from fieldlog.db.remotes import rows as R
from fieldlog.db.remotes.types import (
    BODY_LIMIT,
    MAX_BODY,
    REMOTE_KIND,
    REMOTE_PASSPHRASE_ENV,
    SYNC_SCHEMA,
    Head,
    OutChange,
    SyncError,
    check_meta,
    needs_schema_upgrade,
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
        sig TEXT,
        UNIQUE (origin, origin_seq))""",
]
# Added by layout 2 (on a new file, and on first open of an older one: see _upgrade).
HEADS = """CREATE TABLE IF NOT EXISTS fieldlog_heads (
    origin TEXT NOT NULL, seq INTEGER NOT NULL, hash TEXT NOT NULL, sig TEXT,
    at TEXT NOT NULL)"""
TRUST = """CREATE TABLE IF NOT EXISTS fieldlog_trust (
    id INTEGER PRIMARY KEY, kind TEXT NOT NULL, subject TEXT NOT NULL, record TEXT NOT NULL,
    sig TEXT NOT NULL, signer TEXT NOT NULL, pushed_by TEXT, at TEXT NOT NULL)"""
NOW = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"

# Every text column as bytes (a value that is not UTF-8 must not fail the read); a body over
# BODY_LIMIT only as a prefix. ``typeof(seq)``: a table rebuilt without INTEGER PRIMARY KEY.
CHANGE_COLUMNS = f"""
seq, CAST(origin AS BLOB), origin_seq, CAST(tbl AS BLOB), CAST(row_id AS BLOB),
CAST(hlc AS BLOB),
CAST(CASE WHEN length(body) <= {BODY_LIMIT} THEN body ELSE substr(body, 1, {MAX_BODY}) END AS BLOB),
length(body), CAST(sig AS BLOB)
"""
PULL_SQL = f"""
SELECT {CHANGE_COLUMNS} FROM fieldlog_changes
WHERE typeof(seq) = 'integer' AND seq > ? AND seq <= ?
ORDER BY seq LIMIT ?
"""
ORIGIN_SQL = f"""
SELECT {CHANGE_COLUMNS} FROM fieldlog_changes
WHERE typeof(seq) = 'integer' AND origin = ? AND typeof(origin_seq) = 'integer'
  AND origin_seq > ?
ORDER BY origin_seq LIMIT ?
"""


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


@contextmanager
def _immediate(conn: Any) -> Iterator[None]:
    """A write transaction (``BEGIN IMMEDIATE``): committed when the block ends, rolled back
    when it raises."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def _connect_plain(path: Path, timeout_ms: int) -> sqlite3.Connection:
    """The plain (not encrypted) connection; tests replace it to fake a full drive."""
    return sqlite3.connect(path, isolation_level=None, timeout=timeout_ms / 1000)


class SQLiteRemote(R.Backend):
    """A :class:`~fieldlog.db.remotes.types.Remote` in one SQLite (or SQLCipher) file."""

    encrypted = False
    MARK = "?"
    PULL_SQL = PULL_SQL
    ORIGIN_SQL = ORIGIN_SQL
    HEADS_SQL = (
        "SELECT CAST(origin AS BLOB), seq, CAST(hash AS BLOB), CAST(at AS BLOB), "
        "CAST(sig AS BLOB) FROM fieldlog_heads WHERE origin = ? ORDER BY rowid"
    )
    TRUST_SQL = (
        "SELECT id, CAST(kind AS BLOB), CAST(subject AS BLOB), CAST(record AS BLOB), "
        "CAST(sig AS BLOB), CAST(signer AS BLOB), CAST(pushed_by AS BLOB) "
        "FROM fieldlog_trust WHERE typeof(id) = 'integer' AND id > ? AND id <= ? ORDER BY id"
    )
    ADD_TRUST_SQL = (
        "INSERT INTO fieldlog_trust (id, kind, subject, record, sig, signer, at) "
        f"VALUES (?, ?, ?, ?, ?, ?, {NOW})"
    )
    is_file = True

    def __init__(self, conn: Any, path: Path, store_id: str) -> None:
        self.conn = conn
        self.path = path
        self.url = str(path)
        self.store_id = store_id

    @classmethod
    def open(cls, url: str, *, create: bool = True, passphrase: str | None = None) -> SQLiteRemote:
        """Open (on first use: create) the remote file. An encrypted remote (SQLCipher) is
        keyed with ``passphrase``, else ``$FIELDLOG_REMOTE_PASSPHRASE`` (the department's
        passphrase); a new remote is created encrypted when one of them is set. A remote
        made by an older fieldlog is upgraded (:meth:`_upgrade`)."""
        path = Path(url.removeprefix("sqlite://")).expanduser()
        if path.is_dir():
            raise SyncError(
                f"The remote {path} is a folder: name a file in it, e.g. {path}/department.fieldlog"
            )
        passphrase = passphrase if passphrase is not None else remote_passphrase()
        encrypted = False
        created = False
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
            new = size == 0
            if new:  # an empty file (a first sync that died): made as a new remote would be
                encrypted = passphrase is not None
        elif not create:
            raise SyncError(f"The remote {path} does not exist: check the path.")
        elif not path.parent.is_dir():
            raise SyncError(
                f"The folder {path.parent} does not exist: is the drive connected? (the remote "
                "file is created on first sync, its folder must be there)"
            )
        else:
            encrypted = passphrase is not None
            created = newfile.create(path)
            new = True
        timeout = busy_timeout_ms()
        conn: Any = None
        try:
            if encrypted:
                conn = _open_encrypted(path, passphrase or "", new=new)
            else:
                try:
                    conn = _connect_plain(path, timeout)
                except sqlite3.Error as exc:
                    raise _explain(exc, path) from None
            conn.execute(f"PRAGMA busy_timeout = {timeout}")
            store_id = cls._hello(conn, path, create=create)
        except BaseException as exc:
            err = (
                _explain(exc, path) if conn is not None and isinstance(exc, _errors(conn)) else None
            )
            newfile.discard(conn, path, created)
            if err is not None:
                raise err from None
            raise
        remote = cls(conn, path, store_id)
        remote.encrypted = encrypted
        return remote

    @classmethod
    def _hello(cls, conn: Any, path: Path, *, create: bool) -> str:
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
            with _immediate(conn):
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
                cls._upgrade(conn)
        conn.execute("PRAGMA synchronous = FULL")
        meta = cls._meta(conn)
        if needs_schema_upgrade(meta):
            with _immediate(conn):
                cls._upgrade_schema(conn)
            meta = cls._meta(conn)
        store_id = check_meta(meta, str(path))
        if meta.get(R.LAYOUT_KEY) != R.LAYOUT or R.COUNTER not in meta:
            with _immediate(conn):
                cls._upgrade(conn)
            meta = cls._meta(conn)
        R.parse_counter(meta.get(R.COUNTER), str(path))
        R.parse_counter(meta.get(R.TRUST_COUNTER), str(path), R.TRUST_COUNTER)
        return store_id

    @staticmethod
    def _meta(conn: Any) -> dict[str, str]:
        rows = conn.execute(
            "SELECT CAST(key AS BLOB), CAST(value AS BLOB) FROM fieldlog_meta"
        ).fetchall()
        return {
            k: v
            for k, v in ((R.as_text(a), R.as_text(b)) for a, b in rows)
            if k is not None and v is not None
        }

    @classmethod
    def _upgrade_schema(cls, conn: Any) -> None:
        """Move a store at an older sync schema to this one, inside the caller's write
        transaction (the meta read again under the lock: another laptop may have done it, or
        a newer fieldlog moved it further). The change log itself is kept as it is: older
        bodies stay readable (:data:`fieldlog.pulled.ADDED_FIELDS`)."""
        if needs_schema_upgrade(cls._meta(conn)):
            conn.execute(
                "UPDATE fieldlog_meta SET value = ? WHERE key = 'sync_schema'", [str(SYNC_SCHEMA)]
            )

    @staticmethod
    def _upgrade(conn: Any) -> None:
        """Bring the tables to the current layout, inside the caller's write transaction
        (idempotent: another laptop may have done it while this one waited for the lock):
        the heads and trust tables, the ``sig`` column, and the counters, a legacy file's
        computed by :func:`fieldlog.db.remotes.rows.legacy_bound`."""
        conn.execute(HEADS)
        conn.execute(TRUST)
        columns = {r[1] for r in conn.execute("PRAGMA table_info(fieldlog_changes)")}
        if "sig" not in columns:
            conn.execute("ALTER TABLE fieldlog_changes ADD COLUMN sig TEXT")
        for key, table, column in (
            (R.COUNTER, "fieldlog_changes", "seq"),
            (R.TRUST_COUNTER, "fieldlog_trust", "id"),
        ):
            count = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            top = conn.execute(
                f"SELECT coalesce(max({column}), 0) FROM {table} "
                f"WHERE typeof({column}) = 'integer' AND {column} BETWEEN 0 AND ?",
                [R.legacy_bound(count)],
            ).fetchone()[0]
            conn.execute(
                "INSERT OR IGNORE INTO fieldlog_meta (key, value) VALUES (?, ?)", [key, str(top)]
            )
        conn.execute(
            "INSERT OR REPLACE INTO fieldlog_meta (key, value) VALUES (?, ?)",
            [R.LAYOUT_KEY, R.LAYOUT],
        )

    # ---------------------------------------------------------------- the Remote protocol
    def _fail(self, exc: BaseException) -> SyncError:
        return _explain(exc, self.path)

    def _counter(self, key: str = R.COUNTER) -> int:
        row = self.conn.execute(
            "SELECT CAST(value AS BLOB) FROM fieldlog_meta WHERE key = ?", [key]
        ).fetchone()
        return R.parse_counter(R.as_text(row[0]) if row else None, self.url, key)

    @contextmanager
    def _guard(self) -> Iterator[None]:
        """A database error inside as this remote's one-line :class:`SyncError`."""
        try:
            yield
        except _errors(self.conn) as exc:
            raise self._fail(exc) from None

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """One write transaction (``BEGIN IMMEDIATE``), its errors as :meth:`_guard` says."""
        with self._guard(), _immediate(self.conn):
            yield

    @contextmanager
    def _reading(self) -> Iterator[None]:
        """One read transaction: its reads see one state of the file (a push cannot commit
        while it lasts)."""
        with self._guard():
            self.conn.execute("BEGIN")
            try:
                yield
            finally:
                if self.conn.in_transaction:
                    self.conn.execute("COMMIT")

    def _taken(self, table: str, column: str) -> Any:
        def fetch(after: int) -> list[int]:
            return [
                r[0]
                for r in self.conn.execute(
                    f"SELECT {column} FROM {table} WHERE typeof({column}) = 'integer' "
                    f"AND {column} > ? ORDER BY {column} LIMIT 1000",
                    [after],
                )
            ]

        return fetch

    def _keep_head(self, origin: str, head: Head) -> None:
        self.conn.execute(
            "INSERT INTO fieldlog_heads (origin, seq, hash, sig, at) "
            f"SELECT ?, ?, ?, ?, coalesce(nullif(?, ''), {NOW}) WHERE NOT EXISTS ("
            "SELECT 1 FROM fieldlog_heads WHERE origin = ? AND seq = ? AND hash = ?)",
            [origin, head.seq, head.hash, head.sig, head.at, origin, head.seq, head.hash],
        )

    def _insert(self, origin: str, changes: list[OutChange]) -> int:
        """The new changes of a push, numbered from the counter (inside its transaction)."""
        if not changes:
            return 0
        low = min(c.origin_seq for c in changes)
        high = max(c.origin_seq for c in changes)
        # A row planted above the counter under this device's (origin, origin_seq) would make
        # the real change look held already (UNIQUE): it was never pulled by anyone, so it
        # goes, and the real change takes its place.
        self.conn.execute(
            "DELETE FROM fieldlog_changes WHERE origin = ? AND origin_seq BETWEEN ? AND ? "
            "AND seq > ?",
            [origin, low, high, self._counter()],
        )
        held = {
            r[0]
            for r in self.conn.execute(
                "SELECT origin_seq FROM fieldlog_changes "
                "WHERE origin = ? AND origin_seq BETWEEN ? AND ?",
                [origin, low, high],
            )
        }
        new = R.not_held(changes, held)
        if not new:
            return 0
        counter = self._counter()
        seqs = R.allocate(counter, len(new), self._taken("fieldlog_changes", "seq"), self.url)
        self.conn.executemany(
            f"INSERT INTO fieldlog_changes ({', '.join(R.PUSH_COLUMNS)}) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            R.push_rows(origin, seqs, new),
        )
        self._set_counter(seqs[-1])
        return len(new)

    def close(self) -> None:
        self.conn.close()
