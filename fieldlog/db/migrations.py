"""Numbered, forward-only schema migrations (sqlite-utils ``Migrations``).

The schema version is ``PRAGMA user_version`` (the number of steps applied) and the file is
marked with ``PRAGMA application_id`` so another program's SQLite file is never mistaken for a
log. Every step runs inside one ``BEGIN IMMEDIATE`` transaction taken by :func:`ensure_schema`,
so eight processes opening a new file at once create it exactly once, and a failed upgrade
leaves the file as it was. An older file is copied (SQLite backup API) before it is upgraded;
a newer one is refused.

Steps use ``conn.execute`` one statement at a time: ``executescript`` (and so sqlite-utils'
``enable_fts``) would commit the surrounding transaction.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

from fieldlog import records
from fieldlog.db.audit import migration_statements as audit_migration
from fieldlog.db.connect import APPLICATION_ID, copy_log, db_error, explain
from fieldlog.errors import StorageError

SYNC_COLUMNS_SQL = """
    id TEXT PRIMARY KEY NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    officer TEXT NOT NULL,
    origin TEXT NOT NULL,
    hlc TEXT NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0,
    clocks TEXT NOT NULL DEFAULT '{}'
"""

# Each step: (name, list of SQL statements). Never edit a shipped step: add a new one.
# A statement is SQL text, or a callable taking the connection for what SQL cannot do.
STEPS: list[tuple[str, list[str | Callable[[sqlite3.Connection], object]]]] = [
    (
        "0001_records",
        [
            f"""CREATE TABLE organizations ({SYNC_COLUMNS_SQL},
                name TEXT NOT NULL,
                kind TEXT NOT NULL DEFAULT 'other',
                contact_person TEXT, phone TEXT, email TEXT, address TEXT, neighborhood TEXT,
                services TEXT NOT NULL DEFAULT '[]',
                status TEXT NOT NULL DEFAULT 'active',
                last_verified TEXT,
                notes TEXT)""",
            f"""CREATE TABLE contacts ({SYNC_COLUMNS_SQL},
                occurred_at TEXT NOT NULL,
                kind TEXT NOT NULL DEFAULT 'resident',
                person_name TEXT,
                organization_id TEXT,
                neighborhood TEXT, beat TEXT, location TEXT,
                summary TEXT NOT NULL,
                notes TEXT,
                tags TEXT NOT NULL DEFAULT '[]',
                follow_up_on TEXT)""",
            f"""CREATE TABLE concerns ({SYNC_COLUMNS_SQL},
                contact_id TEXT NOT NULL REFERENCES contacts(id),
                category TEXT NOT NULL,
                description TEXT NOT NULL,
                priority TEXT NOT NULL DEFAULT 'normal',
                status TEXT NOT NULL DEFAULT 'open',
                resolved_at TEXT,
                resolution TEXT)""",
            # organization_id / concern_id are soft links: sync may deliver a referral before
            # the partner it names (issue: a referral whose organization has not arrived yet
            # still applies).
            f"""CREATE TABLE referrals ({SYNC_COLUMNS_SQL},
                contact_id TEXT NOT NULL REFERENCES contacts(id),
                concern_id TEXT,
                organization_id TEXT,
                agency TEXT NOT NULL,
                service TEXT,
                reason TEXT,
                status TEXT NOT NULL DEFAULT 'made',
                follow_up_on TEXT,
                outcome TEXT)""",
            "CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value TEXT)",
            # The outbox sync pushes from: one row per local write, in order.
            """CREATE TABLE changes (
                seq INTEGER PRIMARY KEY AUTOINCREMENT,
                tbl TEXT NOT NULL, row_id TEXT NOT NULL, hlc TEXT NOT NULL,
                fields TEXT NOT NULL)""",
            "CREATE INDEX contacts_occurred ON contacts(occurred_at)",
            "CREATE INDEX contacts_hood ON contacts(neighborhood)",
            "CREATE INDEX contacts_follow_up ON contacts(follow_up_on) "
            "WHERE follow_up_on IS NOT NULL",
            "CREATE INDEX contacts_org ON contacts(organization_id)",
            "CREATE INDEX concerns_contact ON concerns(contact_id)",
            "CREATE INDEX concerns_status ON concerns(status, category)",
            "CREATE INDEX referrals_contact ON referrals(contact_id)",
            "CREATE INDEX referrals_org ON referrals(organization_id)",
            "CREATE INDEX referrals_status ON referrals(status, follow_up_on)",
            "CREATE INDEX organizations_name ON organizations(name COLLATE NOCASE)",
        ],
    ),
]

# Full-text search: one external-content FTS5 table per record table, the shape of
# sqlite-utils' enable_fts(create_triggers=True), except that tombstoned rows leave the index.
FTS_COLUMNS = records.FTS_COLUMNS  # the registry says which columns each index holds


def fts_statements(columns: Mapping[str, Sequence[str]], *, quoted: bool = True) -> list[str]:
    """The search index of each table in ``columns`` (table -> indexed columns), filled from
    its live rows and kept in step by triggers. Step 0002 makes those of the tables step 0001
    created; a record type added later makes its own in its migration (a shipped step never
    changes, and must not name a table that does not exist yet when it runs).

    ``quoted``: the content table is named ``content="contacts"``, the form sqlite-utils
    (``detect_fts``, ``sqlite-utils search``) and Datasette look for to find a table's index
    (step 0009; docs/datasette.md). Only step 0002 passes False: it shipped with
    ``content=contacts``, which FTS5 reads the same but those tools do not recognise."""
    out: list[str] = []
    for table, cols in columns.items():
        fts = f"{table}_fts"
        colsql = ", ".join(cols)
        new = ", ".join(f"new.{c}" for c in cols)
        old = ", ".join(f"old.{c}" for c in cols)
        content = f'"{table}"' if quoted else table
        out += [
            f"CREATE VIRTUAL TABLE {fts} USING fts5({colsql}, content={content}, "
            "tokenize='porter unicode61 remove_diacritics 2')",
            f"INSERT INTO {fts} (rowid, {colsql}) "
            f"SELECT rowid, {colsql} FROM {table} WHERE deleted = 0",
            f"CREATE TRIGGER {table}_ai AFTER INSERT ON {table} WHEN new.deleted = 0 BEGIN "
            f"INSERT INTO {fts} (rowid, {colsql}) VALUES (new.rowid, {new}); END",
            f"CREATE TRIGGER {table}_ad AFTER DELETE ON {table} WHEN old.deleted = 0 BEGIN "
            f"INSERT INTO {fts} ({fts}, rowid, {colsql}) VALUES ('delete', old.rowid, {old}); END",
            # One trigger, delete before insert: two triggers would fire in an unspecified
            # order and an insert-then-delete of the same rowid corrupts the index.
            f"CREATE TRIGGER {table}_au AFTER UPDATE OF {colsql}, deleted ON {table} BEGIN "
            f"INSERT INTO {fts} ({fts}, rowid, {colsql}) "
            f"SELECT 'delete', old.rowid, {old} WHERE old.deleted = 0; "
            f"INSERT INTO {fts} (rowid, {colsql}) SELECT new.rowid, {new} WHERE new.deleted = 0; "
            "END",
        ]
    return out


def _created_tables(step: str) -> set[str]:
    """The tables a shipped step's ``CREATE TABLE`` statements made."""
    statements = next(sql for name, sql in STEPS if name == step)
    return {
        m.group(1)
        for sql in statements
        if isinstance(sql, str) and (m := re.match(r"\s*CREATE TABLE (\w+)", sql))
    }


_TABLES_0001 = _created_tables("0001_records")
# The columns 0002 indexed, frozen (a later migration that indexes more makes the index again;
# 0002 must not name a column that does not exist yet when it runs).
FTS_COLUMNS_0002: dict[str, tuple[str, ...]] = {
    "contacts": ("summary", "notes", "person_name", "location"),
    "concerns": ("description", "resolution"),
    "referrals": ("agency", "reason", "outcome"),
    "organizations": ("name", "contact_person", "services", "notes"),
}
# As shipped: ``content=contacts`` unquoted (0009 makes the indexes again, quoted).
STEPS.append(("0002_search", [*fts_statements(FTS_COLUMNS_0002, quoted=False)]))
# The dashboard's counts read small partial indexes instead of scanning 100,000s of rows.
STEPS.append(
    (
        "0003_live_indexes",
        [
            "CREATE INDEX contacts_live ON contacts(occurred_at) WHERE deleted = 0",
            "CREATE INDEX concerns_unresolved ON concerns(category) "
            "WHERE deleted = 0 AND status != 'resolved'",
            "CREATE INDEX referrals_live ON referrals(status, follow_up_on) WHERE deleted = 0",
        ],
    )
)
# The report's "resolved in the period" reads resolved concerns by date.
STEPS.append(
    (
        "0004_resolved_index",
        [
            "CREATE INDEX concerns_resolved ON concerns(resolved_at) "
            "WHERE deleted = 0 AND status = 'resolved'",
        ],
    )
)
# --- 0005_sync
# Sync: values that lost a same-field race (the officer reviews them), and pulled changes
# that cannot apply yet (stamped too far in the future, or an edit whose record has not
# arrived). Remotes and per-remote cursors live in meta ("remote:NAME", "sync:STORE:pulled",
# "sync:STORE:pushed").
STEPS.append(
    (
        "0005_sync",
        [
            """CREATE TABLE conflicts (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                tbl TEXT NOT NULL, row_id TEXT NOT NULL, field TEXT NOT NULL,
                mine TEXT, theirs TEXT, kept TEXT NOT NULL,
                mine_hlc TEXT, theirs_hlc TEXT, theirs_officer TEXT,
                found_at TEXT NOT NULL, resolved_at TEXT, resolution TEXT)""",
            "CREATE INDEX conflicts_open ON conflicts(row_id) WHERE resolved_at IS NULL",
            """CREATE TABLE sync_held (
                store_id TEXT NOT NULL, seq INTEGER NOT NULL, reason TEXT NOT NULL,
                body TEXT NOT NULL, PRIMARY KEY (store_id, seq))""",
            "CREATE INDEX changes_row ON changes(row_id, seq)",
        ],
    )
)
# --- 0006_audit
# The audit chain and the ids a retention purge removed (fieldlog/db/audit/). Existing rows
# get a "genesis" entry each (a Python step: SQLite has no SHA-256), so older logs verify.
STEPS.append(("0006_audit", audit_migration()))
# --- 0007_quarantine
# Pulled changes that may never apply as they are (not what a fieldlog writes, not signed by an
# enrolled device, out of the store's sequence), kept with the reason for the officer
# (fieldlog sync --held); anomalies of a store's sequence (rows missing or slipped in under
# the cursor, planted above the counter); and the time a held change is due (ms since the
# epoch; 0: retried every round), so a far-ahead change is not reprocessed by every sync.
STEPS.append(
    (
        "0007_quarantine",
        [
            """CREATE TABLE sync_quarantine (
                store_id TEXT NOT NULL, seq INTEGER NOT NULL,
                origin TEXT, origin_seq INTEGER, tbl TEXT, row_id TEXT, hlc TEXT,
                kind TEXT NOT NULL, reason TEXT NOT NULL,
                text TEXT NOT NULL DEFAULT '', sig TEXT, pushed_by TEXT,
                found_at TEXT NOT NULL, PRIMARY KEY (store_id, seq))""",
            "CREATE INDEX sync_quarantine_kind ON sync_quarantine(store_id, kind)",
            """CREATE TABLE sync_anomalies (
                store_id TEXT NOT NULL, reason TEXT NOT NULL, seq INTEGER,
                first_seen TEXT NOT NULL, last_seen TEXT NOT NULL,
                times INTEGER NOT NULL DEFAULT 1, PRIMARY KEY (store_id, reason))""",
            "ALTER TABLE sync_held ADD COLUMN due_ms INTEGER NOT NULL DEFAULT 0",
            "CREATE INDEX sync_held_due ON sync_held(store_id, due_ms)",
        ],
    )
)


def audit_upgrade(conn: sqlite3.Connection, table: str, changes: Mapping[str, object]) -> int:
    """A step that gave every row of ``table`` new values (``changes``, as stored): one
    ``upgrade`` entry per row (tombstones too), naming the row's own officer and device as
    genesis does, so ``fieldlog verify`` finds each row as its last entry says. Undo walks
    past these entries (they are nobody's write). One chained batch, as genesis writes its
    entries (100,000 contacts: seconds, not minutes)."""
    from fieldlog import dates
    from fieldlog.db.audit import chain

    at = dates.stamp_now()
    text = chain.canonical(dict(changes))
    cur = conn.execute(f"SELECT * FROM {table} ORDER BY rowid")
    names = [d[0] for d in cur.description]

    def items() -> Iterator[tuple[object, ...]]:
        while batch := cur.fetchmany(chain.BATCH):
            for raw in batch:
                row = dict(zip(names, raw, strict=True))
                state = chain.state_text(*chain.row_texts(row))
                yield at, row["officer"], row["origin"], table, row["id"], "upgrade", text, state

    return chain.append_many(conn, items())


# --- 0008_review
# Supervisor review of contacts (fieldlog.review): every existing contact is "submitted". The
# new status changes each contact row's state, so each gets an ``upgrade`` audit entry (a
# Python step, as 0006's genesis) and the log still verifies.
STEPS.append(
    (
        "0008_review",
        [
            "ALTER TABLE contacts ADD COLUMN review_status TEXT NOT NULL DEFAULT 'submitted'",
            "ALTER TABLE contacts ADD COLUMN review_comment TEXT",
            "ALTER TABLE contacts ADD COLUMN reviewed_by TEXT",
            "ALTER TABLE contacts ADD COLUMN reviewed_at TEXT",
            # the returned contacts each officer has to fix (dashboard, followups): few
            "CREATE INDEX contacts_returned ON contacts(occurred_at) "
            "WHERE deleted = 0 AND review_status = 'returned'",
            lambda conn: audit_upgrade(conn, "contacts", {"review_status": "submitted"}),
        ],
    )
)


# --- 0009_datasette
# The log in the tools supervisors already use (docs/datasette.md). sqlite-utils and Datasette
# find a table's full-text index by ``content="contacts"`` (or ``[contacts]``) in its SQL, and
# 0002 wrote ``content=contacts``: each index is made again with the quoted name, refilled from
# the live rows, its triggers made again with it (same text). No record row changes, so no
# audit entry. Plus one ``live_<table>`` view per record table: the live rows (no tombstones),
# with the columns ``fieldlog export <table>`` writes (id, the fields, officer, created_at,
# updated_at), as stored; the sync bookkeeping (origin, hlc, clocks, deleted) left out.
# The columns are frozen here as this step shipped them: a migration that adds a field to a
# record type makes its view again with :func:`live_view_statements` (a test compares each
# view with the registry's export columns), one that indexes other columns makes the index
# again with :func:`fts_rebuild_statements`.
LIVE_VIEW_COLUMNS_0009: dict[str, tuple[str, ...]] = {
    "contacts": (
        "id", "occurred_at", "officer", "kind", "person_name", "organization_id", "neighborhood",
        "beat", "location", "summary", "notes", "tags", "follow_up_on", "created_at",
        "updated_at", "review_status", "review_comment", "reviewed_by", "reviewed_at",
    ),
    "concerns": (
        "id", "contact_id", "category", "description", "priority", "status", "resolved_at",
        "resolution", "officer", "created_at", "updated_at",
    ),
    "referrals": (
        "id", "contact_id", "concern_id", "organization_id", "agency", "service", "reason",
        "status", "follow_up_on", "outcome", "officer", "created_at", "updated_at",
    ),
    "organizations": (
        "id", "name", "kind", "contact_person", "phone", "email", "address", "neighborhood",
        "services", "status", "last_verified", "notes", "officer", "created_at", "updated_at",
    ),
}  # fmt: skip


def live_view_statements(columns: Mapping[str, Sequence[str]]) -> list[str]:
    """(Re)make the ``live_<table>`` view of each table in ``columns`` (table -> the columns
    it shows): its rows that are not tombstones."""
    out: list[str] = []
    for table, cols in columns.items():
        out += [
            f"DROP VIEW IF EXISTS live_{table}",
            f"CREATE VIEW live_{table} AS SELECT {', '.join(cols)} FROM {table} WHERE deleted = 0",
        ]
    return out


def fts_rebuild_statements(columns: Mapping[str, Sequence[str]]) -> list[str]:
    """Each table's search index and its triggers dropped and made again (quoted), indexing
    ``columns`` (table -> columns), inside the migration's transaction (no ``executescript``):
    step 0009, and a later step that indexes other columns of a table."""
    out: list[str] = []
    for table in columns:
        out += [f"DROP TRIGGER IF EXISTS {table}_{t}" for t in ("ai", "ad", "au")]
        out.append(f"DROP TABLE IF EXISTS {table}_fts")
    return out + fts_statements(columns)


STEPS.append(
    (
        "0009_datasette",
        [*fts_rebuild_statements(FTS_COLUMNS_0002), *live_view_statements(LIVE_VIEW_COLUMNS_0009)],
    )
)

# --- 0010_problems
# Problem-solving projects (SARA; docs/problems.md): a problem, its links to contacts,
# concerns, referrals and partners (one row per link: exactly one of the four columns set),
# and its activity log (one row per entry), each synced like every record. The links' columns
# are soft, like a referral's concern_id: sync may deliver a link before the record it names.
# Their search indexes and live views are frozen here as shipped.
FTS_COLUMNS_0010: dict[str, tuple[str, ...]] = {
    "problems": ("title", "description", "location", "plan"),
    "problem_entries": ("text",),
}
LIVE_VIEW_COLUMNS_0010: dict[str, tuple[str, ...]] = {
    "problems": (
        "id", "title", "description", "neighborhood", "location", "category", "coordinator",
        "phase", "started_at", "response_started_at", "closed_at", "plan", "officer",
        "created_at", "updated_at",
    ),
    "problem_links": (
        "id", "problem_id", "contact_id", "concern_id", "referral_id", "organization_id",
        "officer", "created_at", "updated_at",
    ),
    "problem_entries": (
        "id", "problem_id", "occurred_at", "kind", "text", "officer", "created_at", "updated_at",
    ),
}  # fmt: skip
STEPS.append(
    (
        "0010_problems",
        [
            f"""CREATE TABLE problems ({SYNC_COLUMNS_SQL},
                title TEXT NOT NULL,
                description TEXT,
                neighborhood TEXT,
                location TEXT,
                category TEXT,
                coordinator TEXT,
                phase TEXT NOT NULL DEFAULT 'scanning',
                started_at TEXT,
                response_started_at TEXT,
                closed_at TEXT,
                plan TEXT)""",
            f"""CREATE TABLE problem_links ({SYNC_COLUMNS_SQL},
                problem_id TEXT NOT NULL REFERENCES problems(id),
                contact_id TEXT,
                concern_id TEXT,
                referral_id TEXT,
                organization_id TEXT)""",
            f"""CREATE TABLE problem_entries ({SYNC_COLUMNS_SQL},
                problem_id TEXT NOT NULL REFERENCES problems(id),
                occurred_at TEXT NOT NULL,
                kind TEXT NOT NULL DEFAULT 'note',
                text TEXT NOT NULL)""",
            "CREATE INDEX problems_live ON problems(phase, neighborhood) WHERE deleted = 0",
            "CREATE INDEX problem_links_problem ON problem_links(problem_id)",
            "CREATE INDEX problem_links_contact ON problem_links(contact_id) "
            "WHERE contact_id IS NOT NULL",
            "CREATE INDEX problem_links_concern ON problem_links(concern_id) "
            "WHERE concern_id IS NOT NULL",
            "CREATE INDEX problem_links_referral ON problem_links(referral_id) "
            "WHERE referral_id IS NOT NULL",
            "CREATE INDEX problem_links_org ON problem_links(organization_id) "
            "WHERE organization_id IS NOT NULL",
            "CREATE INDEX problem_entries_problem ON problem_entries(problem_id, occurred_at)",
            *fts_statements(FTS_COLUMNS_0010),
            *live_view_statements(LIVE_VIEW_COLUMNS_0010),
        ],
    )
)

LATEST = len(STEPS)
MIGRATION_SET = "fieldlog"


def _migrations():  # -> sqlite_utils.migrations.Migrations
    from sqlite_utils.migrations import Migrations

    migrations = Migrations(MIGRATION_SET)
    for name, statements in STEPS:

        def step(db, statements=statements):  # noqa: ANN001 - sqlite-utils' signature
            for sql in statements:
                if callable(sql):  # a Python step (0006's genesis entries)
                    sql(db.conn)
                else:
                    db.conn.execute(sql)

        migrations(name=name)(step)
    return migrations


def read_version(conn: sqlite3.Connection) -> tuple[int, int]:
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    app = conn.execute("PRAGMA application_id").fetchone()[0]
    return version, app


def _user_tables(conn: sqlite3.Connection) -> list[str]:
    return [
        r[0]
        for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    ]


def too_new_message(path: Path | str, version: int) -> str:
    return (
        f"The log {path} was written by a newer fieldlog (schema {version}; this one knows "
        f"up to {LATEST}): upgrade fieldlog (pip install -U fieldlog) to open it."
    )


def backup_path(path: Path, version: int) -> Path:
    from fieldlog.dates import now

    stamp = now().strftime("%Y%m%dT%H%M%S")
    return path.with_name(f"{path.name}.v{version}-{stamp}.bak")


def _backup(conn: sqlite3.Connection, dest: Path) -> None:
    """A consistent copy through SQLite's online backup API (taken outside any transaction),
    encrypted with the log's passphrase when the log is encrypted."""
    copy_log(conn, dest)


def ensure_schema(
    conn: sqlite3.Connection, path: Path | str, *, stop_before: str | None = None
) -> None:
    """Bring the file to the latest schema, or refuse it. Cheap when it is up to date."""
    try:
        version, app = read_version(conn)
    except db_error(conn) as exc:
        raise explain(exc, path) from None
    if app == APPLICATION_ID and version == LATEST and stop_before is None:
        return
    if app == APPLICATION_ID and version > LATEST:
        raise StorageError(too_new_message(path, version))
    try:
        if app == APPLICATION_ID and 0 < version < LATEST and str(path) != ":memory:":
            _backup(conn, backup_path(Path(path), version))
        conn.execute("BEGIN IMMEDIATE")
    except db_error(conn) as exc:
        raise explain(exc, path) from None
    try:
        version, app = read_version(conn)
        if app != APPLICATION_ID and _user_tables(conn):
            raise StorageError(
                f"{path} is an SQLite database but not a fieldlog log: check --db / FIELDLOG_DB."
            )
        if version > LATEST:
            raise StorageError(too_new_message(path, version))
        if version < LATEST or stop_before is not None:
            from sqlite_utils import Database

            db = Database(conn, execute_plugins=False, recursive_triggers=False)
            _migrations().apply(db, stop_before=stop_before)
            applied = conn.execute(
                "SELECT count(*) FROM _sqlite_migrations WHERE migration_set = ?",
                [MIGRATION_SET],
            ).fetchone()[0]
            conn.execute(f"PRAGMA user_version = {int(applied)}")
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        conn.execute("COMMIT")
    except StorageError:
        conn.execute("ROLLBACK")
        raise
    except db_error(conn) as exc:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise explain(exc, path) from None
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
