"""A sync remote in a PostgreSQL database (psycopg 3), for departments that outgrow a file.

It behaves exactly as :class:`fieldlog.db.remotes.sqlite.SQLiteRemote` does, over two tables in
the database (and ``search_path``) the URL names: ``fieldlog_meta`` and ``fieldlog_changes``.
They are created on first use, in one transaction, under an advisory lock, so two laptops
syncing for the first time at once create them once.

The sequence is **not** a ``BIGSERIAL``: sequence values are handed out when rows are
inserted but become visible when their transactions commit, in any order, so a laptop that
pulled "everything after 41" while 42 was still uncommitted and 43 was not would never see 42.
Every push instead takes a transaction-scoped advisory lock, then numbers its new rows from
``max(seq) + 1`` in a statement that starts after the lock is granted: pushes are serialized
(they are short: one page of changes, one statement) and seq N+1 never commits before seq N.

``body`` is JSON kept as ``text`` (as the SQLite remote keeps it): byte for byte what the laptop
sent, including text that ``jsonb`` would refuse (``\\u0000``).

Every failure becomes one :class:`SyncError` line naming the server and the fix; the password
is never in it. psycopg is imported here only, inside the functions that use it: importing
this module (the factory does) costs no psycopg, and nothing on the ``fieldlog add`` path
imports it at all. It is optional (the ``postgres`` extra): without it, opening a PostgreSQL
remote is one line naming the install command (:data:`INSTALL_POSTGRES`). A backend: it imports
only :mod:`fieldlog.db.remotes.types`.
"""

from __future__ import annotations

import getpass
import json
import os
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from fieldlog import ids
from fieldlog.db.remotes.types import (
    REMOTE_KIND,
    SYNC_SCHEMA,
    OutChange,
    RemoteChange,
    SyncError,
    check_meta,
    safe_url,
)

if TYPE_CHECKING:
    import psycopg

__all__ = [
    "CONNECT_TIMEOUT", "CONNECT_TIMEOUT_ENV", "IDLE_IN_TX_TIMEOUT", "INSTALL_POSTGRES",
    "LOCK_CREATE", "LOCK_PUSH", "LOCK_TIMEOUT", "PUSH_SQL", "SCHEMA", "PostgresRemote",
]  # fmt: skip

INSTALL_POSTGRES = "pip install 'fieldlog[postgres]'"

CONNECT_TIMEOUT_ENV = "FIELDLOG_PG_CONNECT_TIMEOUT"
CONNECT_TIMEOUT = 10  # seconds
LOCK_TIMEOUT = "30s"  # a push waits this long for another laptop's push to finish
# A laptop that vanishes mid-push (lid shut, network gone) would hold the push lock until the
# server noticed the dead connection; the server ends such a session after this long.
IDLE_IN_TX_TIMEOUT = "60s"
# pg_advisory_xact_lock keys (any constant bigint; these spell "fieldlog" and "fieldlo+").
LOCK_PUSH = 0x6669656C646C6F67
LOCK_CREATE = 0x6669656C646C6F2B

SCHEMA = [
    "CREATE TABLE IF NOT EXISTS fieldlog_meta (key text PRIMARY KEY, value text)",
    """CREATE TABLE IF NOT EXISTS fieldlog_changes (
        seq bigint PRIMARY KEY,
        origin text NOT NULL, origin_seq bigint NOT NULL,
        tbl text NOT NULL, row_id text NOT NULL, hlc text NOT NULL, body text NOT NULL,
        UNIQUE (origin, origin_seq))""",
]

# One statement, after the lock: new rows only, numbered from max(seq) + 1 in push order.
# ON CONFLICT stays as a guard (a change repeated inside one batch). The arrays travel in
# binary (%b): psycopg's text format escapes every quote of every JSON body in Python, which
# made a 500-change push spend 95% of its time quoting.
PUSH_SQL = """
INSERT INTO fieldlog_changes (seq, origin, origin_seq, tbl, row_id, hlc, body)
SELECT (SELECT coalesce(max(seq), 0) FROM fieldlog_changes)
           + row_number() OVER (ORDER BY u.ord),
       %(origin)s, u.origin_seq, u.tbl, u.row_id, u.hlc, u.body
FROM unnest(%(origin_seq)b::bigint[], %(tbl)b::text[], %(row_id)b::text[], %(hlc)b::text[],
            %(body)b::text[]) WITH ORDINALITY AS u (origin_seq, tbl, row_id, hlc, body, ord)
WHERE NOT EXISTS (
    SELECT 1 FROM fieldlog_changes c WHERE c.origin = %(origin)s AND c.origin_seq = u.origin_seq)
ORDER BY u.ord
ON CONFLICT (origin, origin_seq) DO NOTHING
"""


class _Target:
    """Who and where, for messages (never the password)."""

    def __init__(self, url: str, params: dict[str, Any]) -> None:
        self.url = safe_url(url)
        self.password = str(params.get("password") or "")
        host = str(params.get("host") or params.get("hostaddr") or os.environ.get("PGHOST") or "")
        port = str(params.get("port") or os.environ.get("PGPORT") or "5432")
        self.server = f"{host}:{port}" if host and not host.startswith("/") else (
            f"the local socket ({host or 'default'}), port {port}"
        )  # fmt: skip
        try:
            default_user = getpass.getuser()
        except Exception:  # no user name in this environment
            default_user = "(your login)"
        self.user = str(params.get("user") or os.environ.get("PGUSER") or default_user)
        self.dbname = str(params.get("dbname") or os.environ.get("PGDATABASE") or self.user)

    def scrub(self, text: str) -> str:
        """An error text as it may be shown: one line, no password in it."""
        text = " ".join(str(text).split())
        text = text.removeprefix("connection failed: ")
        if self.password:
            for secret in {self.password, quote(self.password, safe="")}:
                text = text.replace(secret, "***")
        return safe_url(text)


def _reason(exc: BaseException) -> str:
    """The server's own words, without libpq's prefixes."""
    text = " ".join(str(exc).split())
    return re.sub(r"^.*?failed: (FATAL: )?", "", text) if "failed: " in text else text


def _connect_error(exc: BaseException, t: _Target) -> SyncError:
    msg = str(exc).lower()
    if (
        "password authentication failed" in msg
        or "no password supplied" in msg
        or "authentication failed" in msg
        or ("role" in msg and "does not exist" in msg)
    ):
        return SyncError(
            f"PostgreSQL refused the login for {t.user}: check the user and password in the "
            "remote URL (fieldlog remote list), or in ~/.pgpass."
        )
    if "pg_hba.conf" in msg:
        return SyncError(
            f"The PostgreSQL server at {t.server} does not accept {t.user} from this laptop "
            "(no pg_hba.conf entry): ask its administrator (docs/sync-postgres.md)."
        )
    if "database" in msg and "does not exist" in msg:
        return SyncError(
            f"The PostgreSQL server at {t.server} has no database {t.dbname}: check the "
            "database name in the remote URL (fieldlog remote list), or ask its administrator "
            "to create it (docs/sync-postgres.md)."
        )
    if "resolve host" in msg or "translate host name" in msg:
        return SyncError(
            f"Cannot reach the PostgreSQL server at {t.server}: its name does not resolve. "
            "Check the host in the remote URL; is the laptop on the network?"
        )
    if "too many" in msg and "connection" in msg:
        return SyncError(
            f"The PostgreSQL server at {t.server} has too many connections open: try again "
            "in a moment."
        )
    if "starting up" in msg or "shutting down" in msg or "recovery mode" in msg:
        return SyncError(
            f"The PostgreSQL server at {t.server} is starting up or shutting down: try again "
            "in a moment."
        )
    if "ssl" in msg and ("requir" in msg or "certificate" in msg or "not support" in msg):
        return SyncError(
            f"The PostgreSQL server at {t.server} refused the connection over SSL "
            f"({t.scrub(_reason(exc))}): check sslmode in the remote URL (docs/sync-postgres.md)."
        )
    if (
        "connection refused" in msg
        or "timeout" in msg
        or "timed out" in msg
        or "no route to host" in msg
        or "network is unreachable" in msg
        or "could not connect" in msg
        or "connection to server" in msg
        or "server closed the connection" in msg
    ):
        return SyncError(
            f"Cannot reach the PostgreSQL server at {t.server}: is it running and is the "
            "laptop on the network?"
        )
    return SyncError(f"Cannot connect to the PostgreSQL remote {t.url} ({t.scrub(_reason(exc))}).")


def _explain(exc: BaseException, t: _Target, conn: Any = None, doing: str = "") -> SyncError:
    """A server error during use as one line."""
    import psycopg
    from psycopg import errors as pe

    lost = (
        (conn is not None and (conn.broken or conn.closed))
        or isinstance(exc, pe.AdminShutdown | pe.CrashShutdown | pe.ConnectionFailure)
        or (isinstance(exc, psycopg.OperationalError) and getattr(exc, "sqlstate", None) is None)
    )
    if lost:
        return SyncError(
            f"The connection to the PostgreSQL server at {t.server} was lost during sync: what "
            "was committed stays, nothing is half-written; run fieldlog sync again."
        )
    if isinstance(exc, pe.InsufficientPrivilege):
        if doing == "create" and "for table" not in str(exc):
            return SyncError(
                f"PostgreSQL refused to create fieldlog's tables in {t.dbname} for {t.user} "
                f"({t.scrub(_reason(exc))}): make {t.user} the database's owner or "
                f"GRANT CREATE ON SCHEMA public TO {t.user} (docs/sync-postgres.md)."
            )
        return SyncError(
            f"PostgreSQL refused {t.user} access to fieldlog's tables in {t.dbname} "
            f"({t.scrub(_reason(exc))}): GRANT SELECT, INSERT ON fieldlog_meta, "
            f"fieldlog_changes TO {t.user} (docs/sync-postgres.md)."
        )
    if isinstance(exc, pe.LockNotAvailable | pe.QueryCanceled | pe.DeadlockDetected):
        return SyncError(
            f"The remote {t.url} is busy (another laptop is syncing): try again in a moment."
        )
    if isinstance(exc, pe.InvalidSchemaName):
        return SyncError(
            f"PostgreSQL has no schema to create fieldlog's tables in, in {t.dbname} "
            f"({t.scrub(_reason(exc))}): check search_path, or create the schema "
            "(docs/sync-postgres.md)."
        )
    if isinstance(exc, pe.UndefinedTable | pe.UndefinedColumn | pe.InvalidColumnReference):
        return SyncError(
            f"{t.url} is not a fieldlog sync store (its fieldlog tables are missing or are "
            "someone else's): check the remote's URL (fieldlog remote list)."
        )
    if isinstance(exc, pe.DiskFull | pe.OutOfMemory | pe.InsufficientResources):
        return SyncError(
            f"The PostgreSQL server at {t.server} is out of disk space or memory: ask its "
            "administrator."
        )
    if isinstance(exc, pe.ReadOnlySqlTransaction):
        return SyncError(
            f"The PostgreSQL server at {t.server} is read-only (a standby?): use the primary "
            "server's address in the remote URL."
        )
    return SyncError(f"The PostgreSQL remote {t.url} could not be used ({t.scrub(_reason(exc))}).")


def _psycopg() -> Any:
    """psycopg, or one line saying how to install it: it comes with the ``postgres`` extra
    only (most officers sync to a file), so a plain ``pip install fieldlog`` has none. An
    installed psycopg without its C library (no ``psycopg[binary]``) fails to import too."""
    try:
        import psycopg
    except ImportError:
        raise SyncError(
            "PostgreSQL remotes need psycopg, which is not installed: run  "
            f"{INSTALL_POSTGRES}  (pipx: pipx install --force 'fieldlog[postgres]'; "
            "docs/install.md)."
        ) from None
    return psycopg


def _connect_timeout() -> int:
    from fieldlog import settings  # a bad value is one line (fieldlog.settings), not ignored

    return settings.pg_connect_timeout() or CONNECT_TIMEOUT


class PostgresRemote:
    """A :class:`~fieldlog.db.remotes.types.Remote` in a PostgreSQL database."""

    def __init__(self, conn: psycopg.Connection, target: _Target, store_id: str) -> None:
        self.conn = conn
        self._t = target
        self.url = target.url
        self.store_id = store_id

    @classmethod
    def open(cls, url: str, *, create: bool = True) -> PostgresRemote:
        psycopg = _psycopg()  # the first use of psycopg: a missing one is one line here
        from psycopg.conninfo import conninfo_to_dict

        try:
            params = conninfo_to_dict(url)
        except psycopg.Error as exc:
            t = _Target(url, {"password": _url_password(url)})
            raise SyncError(
                f"{t.url} is not a valid postgresql:// URL ({t.scrub(_reason(exc))}): the form "
                "is postgresql://USER@HOST:5432/DATABASE (docs/sync-postgres.md)."
            ) from None
        t = _Target(url, params)
        extra: dict[str, Any] = {}
        if os.environ.get(CONNECT_TIMEOUT_ENV) or (
            "connect_timeout" not in params and not os.environ.get("PGCONNECT_TIMEOUT")
        ):
            extra["connect_timeout"] = _connect_timeout()
        if "application_name" not in params:
            extra["application_name"] = "fieldlog"
        try:
            # autocommit: every read is one statement; every write is an explicit transaction.
            # No server-side prepared statements: a pooler (pgbouncer) in front is fine.
            conn = psycopg.connect(url, autocommit=True, prepare_threshold=None, **extra)
        except psycopg.Error as exc:
            raise _connect_error(exc, t) from None
        try:
            conn.execute(
                f"SET lock_timeout = '{LOCK_TIMEOUT}'; "
                f"SET idle_in_transaction_session_timeout = '{IDLE_IN_TX_TIMEOUT}'"
            )
            store_id = cls._hello(conn, t, create=create)
        except psycopg.Error as exc:
            err = _explain(exc, t, conn)
            conn.close()
            raise err from None
        except BaseException:
            conn.close()
            raise
        return cls(conn, t, store_id)

    @staticmethod
    def _tables(conn: psycopg.Connection) -> tuple[bool, bool]:
        row = conn.execute(
            "SELECT to_regclass('fieldlog_meta') IS NOT NULL, "
            "to_regclass('fieldlog_changes') IS NOT NULL"
        ).fetchone()
        assert row is not None
        return bool(row[0]), bool(row[1])

    @staticmethod
    def _read_meta(conn: psycopg.Connection, t: _Target) -> str:
        import psycopg

        try:
            rows = conn.execute("SELECT key::text, value::text FROM fieldlog_meta").fetchall()
        except psycopg.errors.UndefinedColumn:
            rows = []  # someone else's fieldlog_meta: check_meta refuses it
        return check_meta({k: v for k, v in rows if k is not None}, t.url)

    @classmethod
    def _hello(cls, conn: psycopg.Connection, t: _Target, *, create: bool) -> str:
        has_meta, has_changes = cls._tables(conn)
        if has_meta and has_changes:
            return cls._read_meta(conn, t)
        if not create:
            if has_meta:
                cls._read_meta(conn, t)  # someone else's table: say so first
            raise SyncError(
                f"{t.url} holds no fieldlog sync store: check the remote's URL (fieldlog "
                "remote list)."
            )
        import psycopg

        try:
            return cls._create(conn, t)
        except psycopg.errors.InsufficientPrivilege as exc:
            raise _explain(exc, t, conn, doing="create") from None

    @classmethod
    def _create(cls, conn: psycopg.Connection, t: _Target) -> str:
        import psycopg

        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_CREATE])
            # Another laptop may have created the store while we waited. Only statements that
            # lock the table see it for sure (to_regclass can answer from a stale cache), so:
            # create it if missing, then read it; fill it only when it is empty.
            conn.execute(SCHEMA[0])
            try:
                rows = conn.execute("SELECT key::text, value::text FROM fieldlog_meta").fetchall()
            except psycopg.errors.UndefinedColumn:
                rows = None  # someone else's fieldlog_meta
            if rows == []:
                rows = [
                    ("kind", REMOTE_KIND),
                    ("sync_schema", str(SYNC_SCHEMA)),
                    ("store_id", ids.uuid7_hex()),
                ]
                with conn.cursor() as cur:
                    cur.executemany("INSERT INTO fieldlog_meta (key, value) VALUES (%s, %s)", rows)
            # Never add a table next to a fieldlog_meta that is not ours.
            store_id = check_meta({k: v for k, v in rows or [] if k is not None}, t.url)
            conn.execute(SCHEMA[1])
        return store_id

    # ---------------------------------------------------------------- the Remote protocol
    def _fail(self, exc: BaseException) -> SyncError:
        return _explain(exc, self._t, self.conn)

    def head(self) -> int:
        import psycopg

        try:
            row = self.conn.execute("SELECT coalesce(max(seq), 0) FROM fieldlog_changes").fetchone()
        except psycopg.Error as exc:
            raise self._fail(exc) from None
        return int(row[0]) if row else 0

    def pull(self, after: int, limit: int) -> list[RemoteChange]:
        import psycopg

        try:
            rows = self.conn.execute(
                "SELECT seq, origin, origin_seq, tbl, row_id, hlc, body FROM fieldlog_changes "
                "WHERE seq > %s ORDER BY seq LIMIT %s",
                [after, limit],
            ).fetchall()
        except psycopg.Error as exc:
            raise self._fail(exc) from None
        return [
            RemoteChange(seq, origin, oseq, tbl, rid, hlc, _body(body))
            for seq, origin, oseq, tbl, rid, hlc, body in rows
        ]

    def push(self, origin: str, changes: list[OutChange]) -> int:
        if not changes:
            return 0
        import psycopg

        params = {
            "origin": origin,
            "origin_seq": [c.origin_seq for c in changes],
            "tbl": [c.tbl for c in changes],
            "row_id": [c.row_id for c in changes],
            "hlc": [c.hlc for c in changes],
            "body": [c.body if isinstance(c.body, str) else json.dumps(c.body) for c in changes],
        }
        try:
            with self.conn.transaction():
                # The lock first, on its own: the INSERT's snapshot (and so max(seq)) is taken
                # after it is granted, when the previous push has committed.
                self.conn.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_PUSH])
                added = self.conn.execute(PUSH_SQL, params).rowcount
        except psycopg.Error as exc:
            raise self._fail(exc) from None
        return max(added, 0)

    def origin_changes(self, origin: str, after: int, limit: int) -> list[tuple[int, str, str]]:
        import psycopg

        try:
            rows = self.conn.execute(
                "SELECT origin_seq, row_id, hlc FROM fieldlog_changes "
                "WHERE origin = %s AND origin_seq > %s ORDER BY origin_seq LIMIT %s",
                [origin, after, limit],
            ).fetchall()
        except psycopg.Error as exc:
            raise self._fail(exc) from None
        return [(int(s), r, h) for s, r, h in rows]

    def close(self) -> None:
        try:
            self.conn.close()
        except Exception:  # closing a dropped connection: nothing left to do
            pass


def _body(text: str) -> dict[str, Any]:
    """A change's body; anything that is not a JSON object (not written by a fieldlog) comes
    back empty, and the merge skips it."""
    try:
        body = json.loads(text)
    except (TypeError, ValueError):
        return {}
    return body if isinstance(body, dict) else {}


def _url_password(url: str) -> str:
    m = re.search(r"://[^:/@]+:([^@/]*)@", url)
    return m.group(1) if m else ""
