"""A sync remote in a PostgreSQL database (psycopg 3), for departments that outgrow a file.

It behaves exactly as :class:`fieldlog.db.remotes.sqlite.SQLiteRemote` does, over two tables in
the database (and ``search_path``) the URL names: ``fieldlog_meta`` and ``fieldlog_changes``.
They are created on first use, in one transaction, under an advisory lock, so two laptops
syncing for the first time at once create them once.

The sequence is **not** a ``BIGSERIAL``: sequence values are handed out when rows are
inserted but become visible when their transactions commit, in any order, so a laptop that
pulled "everything after 41" while 42 was still uncommitted and 43 was not would never see 42.
Nor is it ``max(seq) + 1``: one row planted with seq ``2**63 - 1`` would make every later push
fail. Every push takes a transaction-scoped advisory lock, then numbers its new rows from the
store's own counter (``fieldlog_meta`` key ``seq_counter``, moved in the same transaction):
pushes are serialized (they are short: one page of changes) and seq N+1 never commits before
seq N; a pull reads only up to the counter. A department store (dept layout 2) takes no
advisory lock: each agency numbers from its own row of ``fieldlog.counters``, locked by
``fieldlog.allocate`` until the push commits (same order guarantee, per agency; portable to
Citus), and pulls through ``fieldlog.pull_changes`` (:mod:`fieldlog.db.remotes.dept_schema`).
:mod:`fieldlog.db.remotes.rows` says how a store
made before the counter existed gets one (on first open, under the creation lock) and how a
row no fieldlog wrote is read without error.

Each change also keeps the device's signature (``sig``) and the database role that pushed it
(``pushed_by``: set to ``current_user`` by a trigger, whatever the INSERT says, so a login
cannot push under another's name); ``fieldlog_heads`` keeps the audit heads devices pushed and
``fieldlog_trust`` the store's trust log (ids from ``trust_counter``).

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

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from fieldlog import ids
from fieldlog.db.remotes import rows as R
from fieldlog.db.remotes.pgerrors import Target, connect_error, explain, reason, url_password
from fieldlog.db.remotes.types import (
    BODY_LIMIT,
    MAX_BODY,
    REMOTE_KIND,
    SYNC_SCHEMA,
    Head,
    OutChange,
    SyncError,
    check_meta,
    needs_schema_upgrade,
)

if TYPE_CHECKING:
    import psycopg

__all__ = [
    "CONNECT_TIMEOUT", "CONNECT_TIMEOUT_ENV", "DEPT_COUNTER_SQL", "DEPT_KEY", "DEPT_PULL_SQL",
    "DEPT_SCHEMA", "IDLE_IN_TX_TIMEOUT",
    "INSTALL_POSTGRES", "LOCK_CREATE", "LOCK_PUSH", "LOCK_TIMEOUT", "MOVED_KIND", "PUSH_SQL",
    "SCHEMA", "UPGRADE", "PostgresRemote", "connect",
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
# A department store (fieldlog dept setup): its change log in this schema, its meta key
# DEPT_KEY = dept_schema.DEPT_LAYOUT; MOVED_KIND marks the old tables' place after an upgrade.
DEPT_SCHEMA = "fieldlog"
DEPT_KEY = "dept_layout"
MOVED_KIND = "fieldlog-moved"

SCHEMA = [
    "CREATE TABLE IF NOT EXISTS fieldlog_meta (key text PRIMARY KEY, value text)",
    """CREATE TABLE IF NOT EXISTS fieldlog_changes (
        seq bigint PRIMARY KEY,
        origin text NOT NULL, origin_seq bigint NOT NULL,
        tbl text NOT NULL, row_id text NOT NULL, hlc text NOT NULL, body text NOT NULL,
        sig text, pushed_by text NOT NULL DEFAULT current_user,
        UNIQUE (origin, origin_seq))""",
]
# Layout 2, on a new store and on first open of an older one (idempotent, under both locks).
# A store made before it keeps NULL in pushed_by for its old rows (who pushed them is unknown).
UPGRADE = [
    "ALTER TABLE fieldlog_changes ADD COLUMN IF NOT EXISTS sig text",
    "ALTER TABLE fieldlog_changes ADD COLUMN IF NOT EXISTS pushed_by text",
    "ALTER TABLE fieldlog_changes ALTER COLUMN pushed_by SET DEFAULT current_user",
    """CREATE TABLE IF NOT EXISTS fieldlog_heads (
        origin text NOT NULL, seq bigint NOT NULL, hash text NOT NULL, sig text,
        at timestamptz NOT NULL DEFAULT clock_timestamp())""",
    """CREATE TABLE IF NOT EXISTS fieldlog_trust (
        id bigint PRIMARY KEY, kind text NOT NULL, subject text NOT NULL, record text NOT NULL,
        sig text NOT NULL, signer text NOT NULL,
        pushed_by text NOT NULL DEFAULT current_user,
        at timestamptz NOT NULL DEFAULT clock_timestamp())""",
    # pushed_by is whoever runs the INSERT (or an UPDATE), whatever the statement says.
    """CREATE OR REPLACE FUNCTION fieldlog_pushed_by() RETURNS trigger LANGUAGE plpgsql AS
        $$ BEGIN NEW.pushed_by := current_user; RETURN NEW; END $$""",
    "DROP TRIGGER IF EXISTS fieldlog_pushed_by ON fieldlog_changes",
    """CREATE TRIGGER fieldlog_pushed_by BEFORE INSERT OR UPDATE ON fieldlog_changes
        FOR EACH ROW EXECUTE PROCEDURE fieldlog_pushed_by()""",
    "DROP TRIGGER IF EXISTS fieldlog_pushed_by ON fieldlog_trust",
    """CREATE TRIGGER fieldlog_pushed_by BEFORE INSERT OR UPDATE ON fieldlog_trust
        FOR EACH ROW EXECUTE PROCEDURE fieldlog_pushed_by()""",
]

# After the lock and the counter: the new rows with the seqs rows.allocate gave them. The
# arrays travel in binary (%b): psycopg's text format escapes every quote of every JSON body
# in Python, which made a 500-change push spend 95% of its time quoting.
PUSH_SQL = """
INSERT INTO fieldlog_changes (seq, origin, origin_seq, tbl, row_id, hlc, body, sig)
SELECT u.seq, %(origin)s, u.origin_seq, u.tbl, u.row_id, u.hlc, u.body, u.sig
FROM unnest(%(seq)b::bigint[], %(origin_seq)b::bigint[], %(tbl)b::text[], %(row_id)b::text[],
            %(hlc)b::text[], %(body)b::text[], %(sig)b::text[])
     AS u (seq, origin_seq, tbl, row_id, hlc, body, sig)
"""
# Every column as text (a table someone rebuilt with other types must not fail the read); a
# body over BODY_LIMIT only as a prefix, so a 50 MB body never crosses the network whole.
CHANGE_COLUMNS = f"""
seq, origin::text, origin_seq::text, tbl::text, row_id::text, hlc::text,
CASE WHEN octet_length(body::text) <= {BODY_LIMIT} THEN body::text
     ELSE substr(body::text, 1, {MAX_BODY}) END,
octet_length(body::text), sig::text, pushed_by::text
"""
PULL_SQL = f"""
SELECT {CHANGE_COLUMNS} FROM fieldlog_changes WHERE seq > %s AND seq <= %s ORDER BY seq LIMIT %s
"""
# A department store's pull (layout 2): the store's own function, one index per branch of the
# read policy (dept_schema.pull_changes), the policy still deciding every row.
DEPT_PULL_SQL = f"""
SELECT {CHANGE_COLUMNS} FROM fieldlog.pull_changes(%s, %s, %s) ORDER BY seq
"""
# The agency's counter (layout 2: fieldlog.counters, one row per agency).
DEPT_COUNTER_SQL = "SELECT seq::text FROM fieldlog.counters WHERE agency = fieldlog.my_agency()"
ORIGIN_SQL = f"""
SELECT {CHANGE_COLUMNS} FROM fieldlog_changes WHERE origin = %s AND origin_seq > %s
ORDER BY origin_seq LIMIT %s
"""
UTC = "to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"


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


def _current(meta: dict[str, str], *, dept: bool = False) -> bool:
    """Whether a store's meta is at this fieldlog's layout, counters and sync schema (a
    department store's sequence counters are rows of ``fieldlog.counters``, not meta)."""
    counters = R.TRUST_COUNTER in meta if dept else R.COUNTER in meta
    return meta.get(R.LAYOUT_KEY) == R.LAYOUT and counters and not needs_schema_upgrade(meta)


def _connect_timeout() -> int:
    from fieldlog import settings  # a bad value is one line (fieldlog.settings), not ignored

    return settings.pg_connect_timeout() or CONNECT_TIMEOUT


def connect(url: str, *, autocommit: bool = True) -> tuple[psycopg.Connection, Target]:
    """A connection to ``url`` with fieldlog's session settings, and who and where it is for
    messages; every failure is one :class:`SyncError` line. Autocommit (the remote's own use):
    every read is one statement and every write an explicit transaction. ``fieldlog dept
    setup`` (:mod:`fieldlog.db.remotes.dept`) connects through here too."""
    psycopg = _psycopg()  # the first use of psycopg: a missing one is one line here
    from psycopg.conninfo import conninfo_to_dict

    try:
        params = conninfo_to_dict(url)
    except psycopg.Error as exc:
        t = Target(url, {"password": url_password(url)})
        raise SyncError(
            f"{t.url} is not a valid postgresql:// URL ({t.scrub(reason(exc))}): the form "
            "is postgresql://USER@HOST:5432/DATABASE (docs/sync-postgres.md)."
        ) from None
    t = Target(url, params)
    extra: dict[str, Any] = {}
    if os.environ.get(CONNECT_TIMEOUT_ENV) or (
        "connect_timeout" not in params and not os.environ.get("PGCONNECT_TIMEOUT")
    ):
        extra["connect_timeout"] = _connect_timeout()
    if "application_name" not in params:
        extra["application_name"] = "fieldlog"
    try:
        # No server-side prepared statements: a pooler (pgbouncer) in front is fine.
        conn = psycopg.connect(url, autocommit=autocommit, prepare_threshold=None, **extra)
    except psycopg.Error as exc:
        raise connect_error(exc, t) from None
    try:
        conn.execute(
            f"SET lock_timeout = '{LOCK_TIMEOUT}'; "
            f"SET idle_in_transaction_session_timeout = '{IDLE_IN_TX_TIMEOUT}'"
        )
        if not autocommit:
            conn.commit()  # the settings are the session's, not a transaction's
    except psycopg.Error as exc:
        err = explain(exc, t, conn)
        conn.close()
        raise err from None
    return conn, t


class PostgresRemote(R.Backend):
    """A :class:`~fieldlog.db.remotes.types.Remote` in a PostgreSQL database."""

    encrypted = False  # the server's own business (TLS in transit, its disks at rest)
    MARK = "%s"
    PULL_SQL = PULL_SQL
    ORIGIN_SQL = ORIGIN_SQL
    HEADS_SQL = (
        f"SELECT origin::text, seq, hash::text, {UTC}, sig::text FROM fieldlog_heads "
        "WHERE origin = %s ORDER BY at, seq"
    )
    TRUST_SQL = (
        "SELECT id, kind::text, subject::text, record::text, sig::text, signer::text, "
        "pushed_by::text FROM fieldlog_trust WHERE id > %s AND id <= %s ORDER BY id"
    )
    ADD_TRUST_SQL = (
        "INSERT INTO fieldlog_trust (id, kind, subject, record, sig, signer) "
        "VALUES (%s, %s, %s, %s, %s, %s)"
    )
    is_file = False

    def __init__(
        self, conn: psycopg.Connection, target: Target, store_id: str, *, dept: bool = False
    ) -> None:
        self.conn = conn
        self._t = target
        self.url = target.url
        self.store_id = store_id
        self.dept = dept  # a department store (schema fieldlog): see _dept_hello
        self.dense = not dept  # there RLS hides other units' rows: gaps are not missing rows
        if dept:  # its own pull: one index per branch of the read policy
            self.PULL_SQL = DEPT_PULL_SQL

    @classmethod
    def open(cls, url: str, *, create: bool = True) -> PostgresRemote:
        psycopg = _psycopg()
        conn, t = connect(url)
        try:
            store_id, dept = cls._hello(conn, t, create=create)
        except psycopg.Error as exc:
            err = explain(exc, t, conn)
            conn.close()
            raise err from None
        except BaseException:
            conn.close()
            raise
        return cls(conn, t, store_id, dept=dept)

    @staticmethod
    def _tables(conn: psycopg.Connection) -> tuple[bool, bool, bool]:
        """Whether ``fieldlog_meta`` and ``fieldlog_changes`` are in the URL's search_path,
        and whether schema ``fieldlog`` holds a ``fieldlog_meta`` (from the catalog: a login
        without USAGE on the schema may ask, where ``to_regclass`` would fail)."""
        row = conn.execute(
            "SELECT to_regclass('fieldlog_meta') IS NOT NULL, "
            "to_regclass('fieldlog_changes') IS NOT NULL, "
            "EXISTS (SELECT FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n "
            f"ON n.oid = c.relnamespace WHERE n.nspname = '{DEPT_SCHEMA}' "
            "AND c.relname = 'fieldlog_meta')"
        ).fetchone()
        assert row is not None
        return bool(row[0]), bool(row[1]), bool(row[2])

    @staticmethod
    def _meta_rows(conn: psycopg.Connection, table: str = "fieldlog_meta") -> dict[str, str] | None:
        """``fieldlog_meta`` as a dict; None when the table is someone else's."""
        import psycopg

        try:
            rows = conn.execute(f"SELECT key::text, value::text FROM {table}").fetchall()
        except psycopg.errors.UndefinedColumn:
            return None
        return {k: v for k, v in rows if k is not None and v is not None}

    @classmethod
    def _hello(cls, conn: psycopg.Connection, t: Target, *, create: bool) -> tuple[str, bool]:
        """The store's id, and whether it is a department store; a plain store made by an
        older fieldlog is upgraded on the way (layout, counters, sync schema)."""
        import psycopg

        has_meta, has_changes, has_dept = cls._tables(conn)
        if has_dept:
            try:
                dept = cls._meta_rows(conn, f"{DEPT_SCHEMA}.fieldlog_meta")
            except psycopg.errors.InsufficientPrivilege as exc:
                if not (has_meta and has_changes):  # no store of its own in the search_path
                    raise cls._not_enrolled(exc, t) from None
                dept = None
            if dept is not None and DEPT_KEY in dept:
                return cls._dept_hello(conn, t, dept), True
        if has_meta and has_changes:
            meta = cls._meta_rows(conn) or {}
            cls._moved(meta, t)
            if not needs_schema_upgrade(meta):
                check_meta(meta, t.url)  # someone else's, or newer: refused before any change
            if not _current(meta):
                try:
                    with conn.transaction():
                        conn.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_CREATE])
                        cls._upgrade(conn)
                except psycopg.errors.InsufficientPrivilege as exc:
                    raise explain(exc, t, conn, doing="upgrade") from None
                meta = cls._meta_rows(conn) or {}
            store_id = check_meta(meta, t.url)
        else:
            if not create:
                if has_meta:
                    meta = cls._meta_rows(conn) or {}
                    cls._moved(meta, t)
                    check_meta(meta, t.url)  # someone else's: say so
                raise SyncError(
                    f"{t.url} holds no fieldlog sync store: check the remote's URL (fieldlog "
                    "remote list)."
                )
            try:
                store_id = cls._create(conn, t)
            except psycopg.errors.InsufficientPrivilege as exc:
                raise explain(exc, t, conn, doing="create") from None
            meta = cls._meta_rows(conn) or {}
        R.parse_counter(meta.get(R.COUNTER), t.url)
        R.parse_counter(meta.get(R.TRUST_COUNTER), t.url, R.TRUST_COUNTER)
        return store_id, False

    @staticmethod
    def _dept_hello(conn: psycopg.Connection, t: Target, meta: dict[str, str]) -> str:
        """A department store (``fieldlog dept setup``): the session works in schema
        ``fieldlog``, where the change log has the tables' usual names, so every statement
        of this class runs there as it does on a plain store. Its layout is the setup's
        business, never this laptop's: a login that syncs may not change the schema (and
        an officer's RLS hides most rows), so a store at another layout is one line."""
        from fieldlog.db.remotes.dept_schema import DEPT_LAYOUT

        theirs, ours = R.as_int(meta.get(DEPT_KEY)) or 0, int(DEPT_LAYOUT)
        if theirs > ours:
            raise SyncError(
                f"The department store {t.url} has layout {theirs}, newer than this fieldlog's "
                f"({ours}): upgrade fieldlog on this laptop (pip install -U fieldlog)."
            )
        if theirs == ours and not needs_schema_upgrade(meta):
            store_id = check_meta(meta, t.url)  # someone else's, or a newer sync schema
            if _current(meta, dept=True):
                row = conn.execute(DEPT_COUNTER_SQL).fetchone()
                R.parse_counter(row[0] if row else None, t.url)
                R.parse_counter(meta.get(R.TRUST_COUNTER), t.url, R.TRUST_COUNTER)
                conn.execute(f"SET search_path = {DEPT_SCHEMA}")
                return store_id
        raise SyncError(
            f"The department store {t.url} was set up by an older fieldlog (layout {theirs}; "
            f"this fieldlog's is {ours}): run  fieldlog dept setup URL  as the store's owner "
            "(docs/department.md)."
        )

    @staticmethod
    def _not_enrolled(exc: BaseException, t: Target) -> SyncError:
        return SyncError(
            f"PostgreSQL refused {t.user} the department store in {t.dbname} "
            f"({t.scrub(reason(exc))}): its owner gives each officer a login with  fieldlog "
            "dept enroll URL --officer NAME --role officer  (docs/department.md)."
        )

    @staticmethod
    def _moved(meta: dict[str, str], t: Target) -> None:
        """The marker ``fieldlog dept setup`` leaves where it moved a store from (older
        fieldlogs refuse it as someone else's table): this one says where the store went."""
        if meta.get("kind") == MOVED_KIND:
            raise SyncError(
                f"The store at {t.url} was moved into the department schema {DEPT_SCHEMA} "
                f"(fieldlog dept setup), which {t.user} cannot see: ask its owner to enroll "
                f"{t.user} (fieldlog dept enroll) or restore the schema (docs/department.md)."
            )

    @classmethod
    def _create(cls, conn: psycopg.Connection, t: Target) -> str:
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_CREATE])
            # Another laptop may have created the store while we waited. Only statements that
            # lock the table see it for sure (to_regclass can answer from a stale cache), so:
            # create it if missing, then read it; fill it only when it is empty.
            conn.execute(SCHEMA[0])
            meta = cls._meta_rows(conn)
            rows = list((meta or {}).items())
            if meta == {}:
                rows = [
                    ("kind", REMOTE_KIND),
                    ("sync_schema", str(SYNC_SCHEMA)),
                    ("store_id", ids.uuid7_hex()),
                ]
                with conn.cursor() as cur:
                    cur.executemany("INSERT INTO fieldlog_meta (key, value) VALUES (%s, %s)", rows)
            # Never add a table next to a fieldlog_meta that is not ours.
            store_id = check_meta(dict(rows), t.url)
            conn.execute(SCHEMA[1])
            cls._upgrade(conn)
        return store_id

    @classmethod
    def _upgrade(cls, conn: psycopg.Connection) -> None:
        """Bring the tables to the current layout and sync schema inside the caller's
        transaction, which holds the creation lock; the push lock too, so no push runs while
        a legacy store's counter is computed (:func:`fieldlog.db.remotes.rows.legacy_bound`).
        ``fieldlog dept setup`` runs it on the store it moves, first."""
        conn.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_PUSH])
        meta = cls._meta_rows(conn) or {}
        if needs_schema_upgrade(meta):  # a login that may sync may do this (UPDATE on meta)
            conn.execute(
                "UPDATE fieldlog_meta SET value = %s WHERE key = 'sync_schema'", [str(SYNC_SCHEMA)]
            )
        if meta.get(R.LAYOUT_KEY) == R.LAYOUT and R.COUNTER in meta:
            return  # another laptop did it while this one waited (or only the schema moved)
        for sql in UPGRADE:
            conn.execute(sql)
        for key, table, column in (
            (R.COUNTER, "fieldlog_changes", "seq"),
            (R.TRUST_COUNTER, "fieldlog_trust", "id"),
        ):
            row = conn.execute(
                f"SELECT coalesce(max({column}), 0) FROM {table} WHERE {column} BETWEEN 0 AND "
                f"(SELECT 2 * count(*) + {R.LEGACY_SLACK} FROM {table})"
            ).fetchone()
            conn.execute(
                "INSERT INTO fieldlog_meta (key, value) VALUES (%s, %s) "
                "ON CONFLICT (key) DO NOTHING",
                [key, str(row[0] if row else 0)],
            )
        conn.execute(
            "INSERT INTO fieldlog_meta (key, value) VALUES (%s, %s) "
            "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
            [R.LAYOUT_KEY, R.LAYOUT],
        )

    # ---------------------------------------------------------------- the Remote protocol
    def _fail(self, exc: BaseException) -> SyncError:
        return explain(exc, self._t, self.conn)

    @contextmanager
    def _guard(self) -> Iterator[None]:
        """A database error inside as this remote's one-line :class:`SyncError`."""
        import psycopg

        try:
            yield
        except psycopg.Error as exc:
            raise self._fail(exc) from None

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """One write transaction holding the push lock, its errors as :meth:`_guard` says.
        The lock first, on its own: the counter is read after it is granted, when the
        previous push has committed. A department store takes no advisory lock (node-local
        on Citus): a push locks its agency's counter row (``fieldlog.allocate``), a trust
        entry the trust counter's row (:meth:`add_trust`), each until it commits."""
        with self._guard(), self.conn.transaction():
            if not self.dept:
                self.conn.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_PUSH])
            yield

    def add_trust(self, kind: str, subject: str, record: str, sig: str, signer: str) -> int:
        if not self.dept:
            return super().add_trust(kind, subject, record, sig, signer)
        with self._writing():  # the trust counter's row, locked until this one commits
            self.conn.execute(
                "SELECT 1 FROM fieldlog_meta WHERE key = %s FOR UPDATE", [R.TRUST_COUNTER]
            )
            return super().add_trust(kind, subject, record, sig, signer)  # a savepoint

    @contextmanager
    def _reading(self) -> Iterator[None]:
        """One REPEATABLE READ transaction: its statements share one snapshot."""
        with self._guard(), self.conn.transaction():
            self.conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            yield

    def _seq_counts(self, cursor: int) -> tuple[int, int, int]:
        if not self.dept:
            return super()._seq_counts(cursor)
        # The department store counts the agency's rows whatever RLS shows this login
        # (another unit's rows are not missing ones), in one statement's snapshot.
        with self._guard():
            row = self.conn.execute(
                f"SELECT counter, below, beyond FROM {DEPT_SCHEMA}.seq_report(%s)", [cursor]
            ).fetchone()
        counter = R.parse_counter(row[0] if row else None, self.url)
        return counter, int(row[1]) if row else 0, int(row[2]) if row else 0

    def _counter(self, key: str = R.COUNTER) -> int:
        if self.dept and key == R.COUNTER:  # the agency's row of fieldlog.counters
            row = self.conn.execute(DEPT_COUNTER_SQL).fetchone()
        else:
            row = self.conn.execute(
                "SELECT value::text FROM fieldlog_meta WHERE key = %s", [key]
            ).fetchone()
        return R.parse_counter(row[0] if row else None, self.url, key)

    def _taken(self, table: str, column: str) -> Any:
        def fetch(after: int) -> list[int]:
            rows = self.conn.execute(
                f"SELECT {column} FROM {table} WHERE {column} > %s ORDER BY {column} LIMIT 1000",
                [after],
            ).fetchall()
            return [int(r[0]) for r in rows]

        def fetch_dept(after: int) -> list[int]:
            # Under RLS an officer's SELECT sees only some rows: the allocator must see all.
            rows = self.conn.execute(
                f"SELECT n FROM {DEPT_SCHEMA}.taken_after(%s, %s) AS n ORDER BY n LIMIT 1000",
                [table, after],
            ).fetchall()
            return [int(r[0]) for r in rows]

        return fetch_dept if self.dept else fetch

    def _keep_head(self, origin: str, head: Head) -> None:
        self.conn.execute(
            "INSERT INTO fieldlog_heads (origin, seq, hash, sig) "
            "SELECT %s, %s, %s, %s WHERE NOT EXISTS (SELECT 1 FROM fieldlog_heads "
            "WHERE origin = %s AND seq = %s AND hash = %s)",
            [origin, head.seq, head.hash, head.sig, origin, head.seq, head.hash],
        )

    def _insert(self, origin: str, changes: list[OutChange]) -> int:
        """The new changes of a push, numbered from the counter (inside its transaction)."""
        if not changes:
            return 0
        if self.dept:
            return self._insert_dept(origin, changes)
        held = {
            int(r[0])
            for r in self.conn.execute(
                "SELECT origin_seq FROM fieldlog_changes "
                "WHERE origin = %s AND origin_seq = ANY(%b::bigint[])",
                [origin, [c.origin_seq for c in changes]],
            ).fetchall()
        }
        new = R.not_held(changes, held)
        if not new:
            return 0
        seqs = R.allocate(
            self._counter(), len(new), self._taken("fieldlog_changes", "seq"), self.url
        )
        columns = zip(*R.push_rows(origin, seqs, new), strict=True)
        params: dict[str, Any] = {k: list(v) for k, v in zip(R.PUSH_COLUMNS, columns, strict=True)}
        params["origin"] = origin  # one value, not a column of them
        self.conn.execute(PUSH_SQL, params)
        self._set_counter(seqs[-1])
        return len(new)

    def _insert_dept(self, origin: str, changes: list[OutChange]) -> int:
        """A department store's push: ``fieldlog.allocate`` locks the agency's counter row
        (until this push commits), leaves out what the agency holds and numbers the rest."""
        import psycopg

        from fieldlog.db.remotes.dept_schema import COUNTER_EXHAUSTED, COUNTER_TAMPERED

        page = R.not_held(changes, set())  # each origin_seq once, in order
        try:
            given = self.conn.execute(
                "SELECT origin_seq, seq FROM fieldlog.allocate(%s, %b::bigint[])",
                [origin, [c.origin_seq for c in page]],
            ).fetchall()
        except psycopg.Error as exc:
            detail = getattr(getattr(exc, "diag", None), "message_detail", None) or ""
            if exc.sqlstate == COUNTER_TAMPERED:
                R.parse_counter(detail or None, self.url)  # raises: not a usable counter
            if exc.sqlstate == COUNTER_EXHAUSTED:
                raise R._exhausted(int(detail), self.url, "sequence") from None
            raise
        if not given:
            return 0
        by_seq = {c.origin_seq: c for c in page}
        new = [by_seq[int(o)] for o, _ in given]
        seqs = [int(n) for _, n in given]
        columns = zip(*R.push_rows(origin, seqs, new), strict=True)
        params: dict[str, Any] = {k: list(v) for k, v in zip(R.PUSH_COLUMNS, columns, strict=True)}
        params["origin"] = origin
        self.conn.execute(PUSH_SQL, params)
        return len(new)

    def close(self) -> None:
        try:
            self.conn.close()
        except Exception:  # closing a dropped connection: nothing left to do
            pass
