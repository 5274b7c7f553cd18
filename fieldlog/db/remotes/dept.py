"""``fieldlog dept setup``: make a PostgreSQL database a department store, or upgrade one.

A department store keeps the change log laptops sync through in schema ``fieldlog`` (the
tables' usual names, so :class:`~fieldlog.db.remotes.postgres.PostgresRemote` works there with
``search_path = fieldlog``), partitioned by agency, next to the merged current state
(``fieldlog.state``, ``fieldlog.contacts``, ...) that every accepted push updates in its own
transaction: :mod:`fieldlog.db.remotes.dept_schema` holds that DDL, and
:mod:`fieldlog.db.remotes.roles` the group roles, grants and row-level security.

:func:`setup` runs as the database owner, in one transaction holding the creation and push
locks (:data:`~fieldlog.db.remotes.postgres.LOCK_CREATE`, ``LOCK_PUSH``), so no laptop pushes
or creates a store meanwhile, and nothing is half done if it fails. It is idempotent: run again
it changes nothing, but adds the partitions of a new ``--agency``. On a database that holds a
plain PostgreSQL remote (the four tables in the URL's ``search_path``, at any layout) it moves
it: the changes keep their seq, signature and ``pushed_by`` (laptops' cursors, the counters and
the store id stay, so nothing is pulled again), the heads and trust log move along, the old
tables and their trigger function are dropped, ``fieldlog_meta`` stays behind as a marker
(kind ``fieldlog-moved``: an older fieldlog refuses it rather than found a new store there),
and ``fieldlog.replay()`` folds the history into the current-state tables.

Errors are one :class:`SyncError` line naming the fix, without the password. psycopg is
imported inside the functions only, as in the backend.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fieldlog import ids
from fieldlog.db.remotes import postgres as P
from fieldlog.db.remotes import rows as R
from fieldlog.db.remotes.pgerrors import Target, explain, reason
from fieldlog.db.remotes.types import (
    REMOTE_KIND,
    SYNC_SCHEMA,
    SyncError,
    check_meta,
    needs_schema_upgrade,
)
from fieldlog.errors import ValidationError

if TYPE_CHECKING:
    import psycopg

__all__ = ["DEFAULT_AGENCY", "SetupReport", "agencies", "clean_agency", "open_admin", "setup"]

DEFAULT_AGENCY = "default"
AGENCY_KEY = "default_agency"
LEGACY_TABLES = ("fieldlog_changes", "fieldlog_heads", "fieldlog_trust")
SCRATCH = "fieldlog_moving"  # a plain store already in schema fieldlog steps aside here
AGENCY_MAX = 100
_BOUND = re.compile(r"^FOR VALUES IN \('((?:[^']|'')*)'\)$")


@dataclass(frozen=True)
class SetupReport:
    """What :func:`setup` did: ``created`` a new store, ``upgraded`` a plain remote into one
    (``moved`` changes, ``replayed`` of them folded into the current state), else nothing
    but ``added`` agencies' partitions. ``agencies``: every agency the store has, the default
    first."""

    store_id: str
    created: bool
    upgraded: bool
    replayed: int
    agencies: list[str]
    default_agency: str = DEFAULT_AGENCY
    added: list[str] = field(default_factory=list)
    moved: int = 0
    moved_from: str | None = None  # the schema the plain store was in

    @property
    def changed(self) -> bool:
        return self.created or self.upgraded or bool(self.added)

    def as_dict(self) -> dict[str, Any]:
        return {
            "store_id": self.store_id,
            "created": self.created,
            "upgraded": self.upgraded,
            "moved": self.moved,
            "moved_from": self.moved_from,
            "replayed": self.replayed,
            "default_agency": self.default_agency,
            "agencies": list(self.agencies),
            "added": list(self.added),
            "changed": self.changed,
        }


def clean_agency(name: str) -> str:
    """An agency name as stored: spaces collapsed; empty, too long or control characters are
    one line."""
    text = " ".join(name.split())
    if not text:
        raise ValidationError(
            "agency", "The agency name is empty: give one, e.g. --agency 'Eastside PD'."
        )
    if len(text) > AGENCY_MAX or any(not ch.isprintable() for ch in text):
        raise ValidationError(
            "agency",
            f"'{text[:40]}' is not an agency name: use at most {AGENCY_MAX} printable characters.",
        )
    return text


@contextmanager
def _admin(url: str) -> Iterator[tuple[psycopg.Connection, Target]]:
    """A connection (autocommit off) committed when the block ends well, rolled back
    otherwise; a database error inside is one :class:`SyncError` line."""
    import psycopg

    conn, t = P.connect(url, autocommit=False)
    try:
        try:
            yield conn, t
            conn.commit()
        except psycopg.Error as exc:
            raise admin_error(exc, t, conn) from None
        except BaseException:
            _rollback(conn)
            raise
    finally:
        conn.close()


@contextmanager
def open_admin(url: str) -> Iterator[psycopg.Connection]:
    """A connection for the store owner's work (setup, enroll): autocommit off, committed
    when the block ends without error, rolled back otherwise; every database error inside is
    one :class:`SyncError` line naming the fix."""
    with _admin(url) as (conn, _t):
        yield conn


def _rollback(conn: Any) -> None:
    try:
        conn.rollback()
    except Exception:  # a dropped connection: nothing was committed
        pass


def admin_error(exc: BaseException, t: Target, conn: Any = None) -> SyncError:
    """A database error of the owner's work as one line."""
    from psycopg import errors as pe

    _rollback(conn)
    diag = getattr(exc, "diag", None)
    said = t.scrub(getattr(diag, "message_primary", None) or reason(exc))
    if isinstance(exc, pe.InsufficientPrivilege):
        if "role" in said.lower() and ("create" in said.lower() or "createrole" in said.lower()):
            return SyncError(
                f"{t.user} may not create the department's group roles ({said}): run it with "
                f"a login that has CREATEROLE (a superuser: ALTER ROLE {t.user} CREATEROLE), "
                "or as a superuser (docs/department.md)."
            )
        return SyncError(
            f"PostgreSQL refused {t.user} the department setup in {t.dbname} ({said}): run it "
            "with the database owner's URL (docs/department.md)."
        )
    return explain(exc, t, conn)


def setup(url: str, agency: str | None = None) -> SetupReport:
    """Make (or upgrade, or check) the department store at ``url``: see the module's text.
    ``agency``: on the first setup the default agency (changes of logins not enrolled in
    another go there, as do a moved store's), later one more agency with its partitions."""
    name = clean_agency(agency) if agency is not None else None
    with _admin(url) as (conn, t):
        conn.execute("SELECT pg_advisory_xact_lock(%s)", [P.LOCK_CREATE])
        conn.execute("SELECT pg_advisory_xact_lock(%s)", [P.LOCK_PUSH])  # older laptops'
        return _setup(conn, t, name)


def _setup(conn: psycopg.Connection, t: Target, agency: str | None) -> SetupReport:
    from fieldlog.db.remotes import dept_schema as D

    _check_owner(conn, t)
    if _exists(conn, P.DEPT_SCHEMA, "counters"):  # layout 2's pushes: the counters first,
        conn.execute(f"LOCK TABLE {P.DEPT_SCHEMA}.counters IN EXCLUSIVE MODE")  # as theirs
    dept = _dept_meta(conn, t)
    legacy = _legacy(conn, t)
    if dept is not None:
        if legacy is not None:
            raise SyncError(
                f"{t.dbname} already holds a department store (schema {P.DEPT_SCHEMA}) and "
                f"another store in schema {legacy[0]}: give the URL without that schema in "
                "its search_path, or move that store's laptops by hand (docs/department.md)."
            )
        return _refresh(conn, t, dept, agency)
    default = agency or DEFAULT_AGENCY
    if legacy is not None and legacy[0] == P.DEPT_SCHEMA:
        legacy = (_step_aside(conn), legacy[1])
    meta = _fresh_meta(default) if legacy is None else _moved_meta(legacy[1], default)
    _run(conn, D.schema_ddl())
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO fieldlog.fieldlog_meta (key, value) VALUES (%s, %s) "
            "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
            list(meta.items()),
        )
    _run(conn, D.partition_ddl(default))
    moved = 0
    if legacy is not None:
        moved = _move(conn, legacy[0], default)
    _run(conn, _security_ddl())
    replayed = _replay(conn) if legacy is not None else 0
    _drop_store_counter(conn)
    return SetupReport(
        store_id=meta["store_id"],
        created=legacy is None,
        upgraded=legacy is not None,
        replayed=replayed,
        agencies=agencies(conn, default),
        default_agency=default,
        added=[default],
        moved=moved,
        moved_from=None if legacy is None else _where(legacy[0]),
    )


def _refresh(
    conn: psycopg.Connection, t: Target, meta: dict[str, str], agency: str | None
) -> SetupReport:
    """An existing department store: its DDL run again (all idempotent: a newer fieldlog's
    functions replace older ones), a new agency's partitions, its layout brought forward."""
    from fieldlog.db.remotes import dept_schema as D

    theirs, ours = R.as_int(meta.get(P.DEPT_KEY)) or 0, int(D.DEPT_LAYOUT)
    if theirs > ours:
        raise SyncError(
            f"The department store {t.url} has layout {theirs}, newer than this fieldlog's "
            f"({ours}): upgrade fieldlog here first (pip install -U fieldlog)."
        )
    default = meta.get(AGENCY_KEY) or DEFAULT_AGENCY
    before = agencies(conn, default)
    _run(conn, D.schema_ddl())
    for name in dict.fromkeys([*before, default, *([agency] if agency else [])]):
        _run(conn, D.partition_ddl(name))  # layout 1's agencies get their counter rows
    _run(conn, _security_ddl())
    older = theirs < ours or needs_schema_upgrade(meta)
    if older:
        for key, value in ((P.DEPT_KEY, D.DEPT_LAYOUT), ("sync_schema", str(SYNC_SCHEMA))):
            conn.execute(
                "INSERT INTO fieldlog.fieldlog_meta (key, value) VALUES (%s, %s) "
                "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
                [key, value],
            )
    now = agencies(conn, default)
    replayed = _replay(conn) if older else 0  # also the changes' record columns, the counts
    _drop_store_counter(conn)
    return SetupReport(
        store_id=meta.get("store_id", ""),
        created=False,
        upgraded=older,
        replayed=replayed,
        agencies=now,
        default_agency=default,
        added=[a for a in now if a not in before],
    )


def _drop_store_counter(conn: psycopg.Connection) -> None:
    """Layout 2 numbers each agency from its row of ``fieldlog.counters`` (started at the
    store-wide ``seq_counter``, :func:`~fieldlog.db.remotes.dept_schema.counter_ddl`): the
    old key goes, so nothing numbers from it again (a laptop of layout 1 that opened the
    store before this setup refuses its next push: no counter)."""
    conn.execute(f"DELETE FROM {P.DEPT_SCHEMA}.fieldlog_meta WHERE key = %s", [R.COUNTER])


def _run(conn: psycopg.Connection, statements: list[str]) -> None:
    for sql in statements:
        conn.execute(sql)  # our own DDL, no parameters


def _security_ddl() -> list[str]:
    """The group roles, grants, row-level security and redacted views
    (:mod:`fieldlog.db.remotes.roles`)."""
    from fieldlog.db.remotes import roles

    return roles.security_ddl()


def _replay(conn: psycopg.Connection) -> int:
    row = conn.execute("SELECT fieldlog.replay()").fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def _fresh_meta(default: str) -> dict[str, str]:
    return {
        "kind": REMOTE_KIND,
        "sync_schema": str(SYNC_SCHEMA),
        "store_id": ids.uuid7_hex(),
        R.COUNTER: "0",
        R.TRUST_COUNTER: "0",
        R.LAYOUT_KEY: R.LAYOUT,
        **_dept_keys(default),
    }


def _moved_meta(old: dict[str, str], default: str) -> dict[str, str]:
    """The plain store's meta (its id and counters: laptops carry on where they were) with
    the department's keys."""
    return {**old, "sync_schema": str(SYNC_SCHEMA), **_dept_keys(default)}


def _dept_keys(default: str) -> dict[str, str]:
    from fieldlog.db.remotes.dept_schema import DEPT_LAYOUT

    return {P.DEPT_KEY: DEPT_LAYOUT, AGENCY_KEY: default}


def _exists(conn: psycopg.Connection, schema: str, table: str) -> bool:
    row = conn.execute(
        "SELECT EXISTS (SELECT FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n "
        "ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relname = %s)",
        [schema, table],
    ).fetchone()
    return bool(row and row[0])


def _read_meta(conn: psycopg.Connection, schema: str) -> dict[str, str] | None:
    """``schema.fieldlog_meta`` as a dict; None when it is not fieldlog's (no key/value)."""
    import psycopg
    from psycopg import sql

    try:
        with conn.transaction():  # a savepoint: a table that is not ours must not abort setup
            rows = conn.execute(
                sql.SQL("SELECT key::text, value::text FROM {}.fieldlog_meta").format(
                    sql.Identifier(schema)
                )
            ).fetchall()
    except psycopg.errors.UndefinedColumn:
        return None
    return {k: v for k, v in rows if k is not None and v is not None}


def _dept_meta(conn: psycopg.Connection, t: Target) -> dict[str, str] | None:
    """The department store's meta, or None when there is none yet (a plain store that lives
    in schema fieldlog is not one: :func:`_legacy` finds it)."""
    if not _exists(conn, P.DEPT_SCHEMA, "fieldlog_meta"):
        return None
    meta = _read_meta(conn, P.DEPT_SCHEMA)
    if meta is None or (meta.get("kind") != REMOTE_KIND and P.DEPT_KEY not in meta):
        raise SyncError(
            f"Schema {P.DEPT_SCHEMA} in {t.dbname} holds a fieldlog_meta table that is not "
            "fieldlog's: rename that schema, or set the store up in another database "
            "(docs/department.md)."
        )
    return meta if P.DEPT_KEY in meta else None


def _legacy(conn: psycopg.Connection, t: Target) -> tuple[str, dict[str, str]] | None:
    """The plain store in the URL's search_path, as ``(schema, meta)``, brought to the
    current plain layout first (older stores have no counters, signatures or trust log);
    None when there is none (or only the marker of one moved before)."""
    row = conn.execute(
        "SELECT n.nspname::text FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n "
        "ON n.oid = c.relnamespace WHERE c.oid = to_regclass('fieldlog_meta')"
    ).fetchone()
    if row is None:
        return None
    schema = str(row[0])
    if not _exists(conn, schema, "fieldlog_changes"):
        return None  # someone else's table, or the marker of a store moved before
    _check_tables_owner(conn, t, schema)
    meta = _read_meta(conn, schema)
    if meta is None or P.DEPT_KEY in meta or meta.get("kind") != REMOTE_KIND:
        return None  # someone else's table, or the department store itself
    if not needs_schema_upgrade(meta):
        check_meta(meta, t.url)  # a newer sync schema: upgrade fieldlog here first
    if meta.get(R.LAYOUT_KEY) != R.LAYOUT or R.COUNTER not in meta or R.TRUST_COUNTER not in meta:
        P.PostgresRemote._upgrade(conn)  # in the URL's search_path, where the store is
        meta = _read_meta(conn, schema) or {}
    R.parse_counter(meta.get(R.COUNTER), t.url)
    R.parse_counter(meta.get(R.TRUST_COUNTER), t.url, R.TRUST_COUNTER)
    return schema, meta


def _check_tables_owner(conn: psycopg.Connection, t: Target, schema: str) -> None:
    """Only the owner of a plain store's tables may move them (drop them): one line first."""
    row = conn.execute(
        "SELECT c.relowner::regrole::text FROM pg_catalog.pg_class c "
        "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relname = ANY(%s) AND NOT pg_has_role(c.relowner, 'USAGE') "
        "LIMIT 1",
        [schema, ["fieldlog_meta", *LEGACY_TABLES]],
    ).fetchone()
    if row is not None:
        raise SyncError(
            f"The store's tables in schema {schema} of {t.dbname} belong to {row[0]}, and only "
            f"their owner may move them: run it with {row[0]}'s URL, or as a superuser "
            "(docs/department.md)."
        )


def _check_owner(conn: psycopg.Connection, t: Target) -> None:
    """One line before any DDL when this login cannot own the store: it must be able to
    create schemas in the database (its owner) and own schema fieldlog if it exists."""
    row = conn.execute(
        "SELECT has_database_privilege(current_database(), 'CREATE'), "
        "(SELECT pg_has_role(nspowner, 'USAGE') FROM pg_catalog.pg_namespace WHERE nspname = %s),"
        " (SELECT nspowner::regrole::text FROM pg_catalog.pg_namespace WHERE nspname = %s)",
        [P.DEPT_SCHEMA, P.DEPT_SCHEMA],
    ).fetchone()
    assert row is not None
    may_create, owns_schema, owner = row
    if owns_schema is False:
        raise SyncError(
            f"{t.user} does not own schema {P.DEPT_SCHEMA} in {t.dbname} (its owner is "
            f"{owner}): run it with the store owner's URL (docs/department.md)."
        )
    if not may_create and owns_schema is None:
        raise SyncError(
            f"{t.user} may not create schemas in {t.dbname}: run it with the database "
            "owner's URL (docs/department.md)."
        )


def _step_aside(conn: psycopg.Connection) -> str:
    """A plain store made in schema fieldlog itself (docs/sync-postgres.md suggests a schema
    of its own) moves to a scratch schema, so the department tables can take its names."""
    conn.execute(f"CREATE SCHEMA {SCRATCH}")
    for table in ("fieldlog_meta", *LEGACY_TABLES):
        if _exists(conn, P.DEPT_SCHEMA, table):
            conn.execute(f"ALTER TABLE {P.DEPT_SCHEMA}.{table} SET SCHEMA {SCRATCH}")
    row = conn.execute(f"SELECT to_regprocedure('{P.DEPT_SCHEMA}.fieldlog_pushed_by()')").fetchone()
    if row and row[0] is not None:
        conn.execute(f"ALTER FUNCTION {P.DEPT_SCHEMA}.fieldlog_pushed_by() SET SCHEMA {SCRATCH}")
    return SCRATCH


def _columns(conn: psycopg.Connection, schema: str, table: str) -> list[str]:
    rows = conn.execute(
        "SELECT attname::text FROM pg_catalog.pg_attribute "
        "WHERE attrelid = to_regclass(%s) AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
        ['"{}".{}'.format(schema.replace('"', '""'), table)],
    ).fetchall()
    return [str(r[0]) for r in rows]


def _move(conn: psycopg.Connection, schema: str, agency: str) -> int:
    """Copy the plain store's changes, heads and trust log into the department tables under
    ``agency``, as they are (seq, signature and pushed_by kept: the tables' triggers, which
    would stamp the setup login as pusher and fold each change, are off for the copy; the
    replay folds them after), then drop the old tables and leave the marker. Returns how many
    changes moved."""
    from psycopg import sql

    moved = 0
    for table in LEGACY_TABLES:
        if not _exists(conn, schema, table):
            continue
        target = _columns(conn, P.DEPT_SCHEMA, table)
        source = set(_columns(conn, schema, table))
        names = [c for c in target if c in source and c != "agency"]
        cols = sql.SQL(", ").join(sql.Identifier(c) for c in names)
        into, values = cols, cols
        if "agency" in target:
            into = sql.SQL("agency, {}").format(cols)
            values = sql.SQL("{}, {}").format(sql.Literal(agency), cols)
        dest = sql.SQL("{}.{}").format(sql.Identifier(P.DEPT_SCHEMA), sql.Identifier(table))
        src = sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(table))
        if table == "fieldlog_changes" and "pushed_by" in names:
            unknown = conn.execute(
                sql.SQL("SELECT EXISTS (SELECT FROM {} WHERE pushed_by IS NULL)").format(src)
            ).fetchone()
            if unknown and unknown[0]:  # rows from before layout 2: who pushed them is unknown
                conn.execute(
                    sql.SQL("ALTER TABLE {} ALTER COLUMN pushed_by DROP NOT NULL").format(dest)
                )
        conn.execute(sql.SQL("ALTER TABLE {} DISABLE TRIGGER USER").format(dest))
        cur = conn.execute(
            sql.SQL("INSERT INTO {} ({}) SELECT {} FROM {}").format(dest, into, values, src)
        )
        conn.execute(sql.SQL("ALTER TABLE {} ENABLE TRIGGER USER").format(dest))
        if table == "fieldlog_changes":
            moved = cur.rowcount
    _leave_marker(conn, schema)
    return moved


def _leave_marker(conn: psycopg.Connection, schema: str) -> None:
    """Drop the moved tables; their ``fieldlog_meta`` keeps only the marker (a scratch
    schema goes whole: the department's own meta is then where the store was)."""
    from psycopg import sql

    where = sql.Identifier(schema)
    if schema == SCRATCH:
        conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(where))
        return
    for table in LEGACY_TABLES:
        conn.execute(sql.SQL("DROP TABLE IF EXISTS {}.{}").format(where, sql.Identifier(table)))
    conn.execute(sql.SQL("DROP FUNCTION IF EXISTS {}.fieldlog_pushed_by()").format(where))
    store_id = (_read_meta(conn, schema) or {}).get("store_id", "")
    conn.execute(sql.SQL("DELETE FROM {}.fieldlog_meta").format(where))
    marker = [
        ("kind", P.MOVED_KIND),
        ("store_id", store_id),
        ("moved_to", P.DEPT_SCHEMA),
        (
            "note",
            f"This fieldlog store moved to schema {P.DEPT_SCHEMA} (fieldlog dept setup): "
            "upgrade fieldlog on every laptop (pip install -U fieldlog).",
        ),
    ]
    with conn.cursor() as cur:
        cur.executemany(
            sql.SQL("INSERT INTO {}.fieldlog_meta (key, value) VALUES (%s, %s)").format(where),
            marker,
        )


def _where(schema: str) -> str:
    return P.DEPT_SCHEMA if schema == SCRATCH else schema


def agencies(conn: psycopg.Connection, default: str | None = None) -> list[str]:
    """The agencies the store has partitions for (read from the change log's partition
    bounds), ``default`` first, then by name."""
    rows = conn.execute(
        "SELECT pg_get_expr(c.relpartbound, c.oid) FROM pg_catalog.pg_inherits i "
        "JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = to_regclass('fieldlog.fieldlog_changes')"
    ).fetchall()
    found = set()
    for (bound,) in rows:
        m = _BOUND.match(str(bound or ""))
        if m:
            found.add(m.group(1).replace("''", "'"))
    return sorted(found, key=lambda a: (a != default, a))
