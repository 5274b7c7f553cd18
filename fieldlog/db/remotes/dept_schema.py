"""The department layout of a PostgreSQL store: every table and function of schema ``fieldlog``
but the roles and row-level security (:mod:`fieldlog.db.remotes.roles`).

- The change log the laptops use (``fieldlog_meta``, ``fieldlog_changes``, ``fieldlog_heads``,
  ``fieldlog_trust``) under the same names, so the remote's SQL runs unchanged with
  ``search_path = fieldlog``. Each row carries its ``agency`` (a change its ``unit`` too),
  filled by the column DEFAULT from the pushing login (``fieldlog.my_agency()``): the
  partition key must be known before the row is routed, too early for a BEFORE trigger.
  ``fieldlog_changes`` is partitioned by agency: an agency without its partitions
  (:func:`partition_ddl`) cannot push.
- ``fieldlog.counters``: each agency's sequence counter and change count (layout 2). A push
  numbers its rows through ``fieldlog.allocate`` (the agency's row locked until it commits),
  which keeps what it handed out in ``fieldlog.allocations``: a login's row must carry one of
  those numbers (``fieldlog.may_push``);
  statement triggers keep ``rows`` exact; ``fieldlog.seq_report`` counts the smaller side of
  the cursor. Each change carries its record's unit and officer (``fieldlog_record``), and
  ``fieldlog.pull_changes`` reads each branch of the read policy through its own index.
- ``fieldlog.state``: every record's merged state, tombstones included, as a laptop stores it
  (values as JSON, lists as JSON *text*; ``clocks``: each field's effective stamp and ``*``).
- ``fieldlog.contacts`` and siblings: one typed row per live record whose parent is live,
  generated from the registry; a field named like one of the table's own columns (a
  referral's ``agency``) gets the noun's prefix (``referral_agency``): :func:`column_of`.
- An AFTER INSERT trigger (``apply_trigger``, owner rights) folds each change into the state
  by the laptops' rules (``apply_change``; :mod:`fieldlog.merge`; ``fieldlog.value_key`` is
  Python's tie-break byte for byte) and projects the record (``project``). A change it cannot
  read (checks after :mod:`fieldlog.pulled`) stays in the log and changes nothing: a bad body
  never fails a push. ``fieldlog.replay()`` rebuilds state and typed tables from the log.

Every statement is idempotent; run them without parameters (the text holds ``%``). SQL text
only (no psycopg).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from typing import Any

from fieldlog import models, pulled, records

__all__ = [
    "DEPT_LAYOUT", "PARTITIONED", "SCHEMA", "SEQ_MAX", "TYPED_COLUMNS", "check_agency",
    "column_of", "counter_ddl", "partition_ddl", "partition_name", "schema_ddl", "vocabularies",
]  # fmt: skip

# fieldlog_meta key dept_layout. 2: per-agency counters (fieldlog.counters) with the agency's
# row count, the record's unit and officer on each change, the pull's access paths.
# 3: the problem tables' current state (fieldlog.problems, .problem_links, .problem_entries).
DEPT_LAYOUT = "3"
SCHEMA = "fieldlog"
# The tables partitioned by agency (one partition each per agency).
PARTITIONED = ("fieldlog_changes", "state", *records.TABLES)
# The typed tables' own columns, around the record's fields.
HEAD_COLUMNS = ("agency", "unit", "id")
TAIL_COLUMNS = ("officer", "origin", "created_at", "updated_at", "hlc")
TIME_COLUMNS = frozenset(pulled.TIME_FIELDS | {"reviewed_at"})
DAY_COLUMNS = frozenset(pulled.DAY_FIELDS)
_STAMP_RE = r"^[0-9]{13}-[0-9]{5,9}-[0-9A-Za-z_.-]{1,64}$"
_TIME_RE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?Z$"
_DAY_RE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_HEX32_RE = r"^[0-9a-f]{32}$"
_SAFE_RE = r"^[\x20\x21\x23-\x5b\x5d-\x7e]*$"  # what json.dumps writes as it is
SEQ_MAX = 2**63 - 1
# SQLSTATEs of fieldlog.allocate (postgres.py turns them into the counter's one line).
COUNTER_TAMPERED = "FLC01"
COUNTER_EXHAUSTED = "FLC02"
# What allocate keeps of the numbers it hands out (fieldlog.allocations), for may_push: the
# agency's rows of transactions that ended (none but this one holds the agency's counter row)
# go, and this one's (origin, origin_seq) -> seq pairs come in as runs (origin_seq and seq
# each one up from the pair before), about one row a push.
RECORD_ALLOCATED = f"""DELETE FROM {SCHEMA}.allocations k
                WHERE k.agency = a AND k.xact <> pg_current_xact_id();
              INSERT INTO {SCHEMA}.allocations
                  (xact, agency, origin, first_origin_seq, last_origin_seq, first_seq)
                SELECT pg_current_xact_id(), a, p_origin, min(r.o), max(r.o), min(r.q)
                FROM (SELECT f.o, f.q, sum(f.brk) OVER (ORDER BY f.i) AS run
                      FROM (SELECT u.o, u.q, u.i,
                                   CASE WHEN u.o = lag(u.o) OVER w + 1
                                         AND u.q = lag(u.q) OVER w + 1 THEN 0 ELSE 1 END AS brk
                            FROM unnest(fresh, got) WITH ORDINALITY AS u(o, q, i)
                            WINDOW w AS (ORDER BY u.i)) f) r
                GROUP BY r.run;"""
# The count triggers of fieldlog_changes: (name, event, transition tables).
_COUNT_TRIGGERS = (
    ("fieldlog_count_ins", "INSERT", "NEW TABLE AS new_rows"),
    ("fieldlog_count_del", "DELETE", "OLD TABLE AS old_rows"),
    ("fieldlog_count_upd", "UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
)


def _lit(text: str) -> str:
    """A SQL string literal (standard_conforming_strings: only quotes double)."""
    return "'" + text.replace("'", "''") + "'"


def _arr(items: Any) -> str:
    return "ARRAY[" + ", ".join(_lit(i) for i in items) + "]::text[]" if items else "'{}'::text[]"


def column_of(table: str, name: str) -> str:
    """The typed table's column of a registry field: its own name, unless the table has a
    column of that name already (a referral's ``agency``: ``referral_agency``)."""
    if name in HEAD_COLUMNS or name in TAIL_COLUMNS:
        return f"{records.NOUN[table]}_{name}"
    return name


def _sql_type(table: str, name: str) -> str:
    if name in records.get(table).lists:
        return "text[]"
    return "timestamptz" if name in TIME_COLUMNS else "date" if name in DAY_COLUMNS else "text"


# table -> [(field, column, SQL type)] in the registry's order.
TYPED_COLUMNS: dict[str, list[tuple[str, str, str]]] = {
    t: [(f, column_of(t, f), _sql_type(t, f)) for f in records.TABLE_FIELDS[t]]
    for t in records.TABLES
}


def _added(table: str) -> tuple[str, ...]:
    """The fields an older laptop's change lacks (all together), as pulled reads it."""
    return tuple(pulled.ADDED_FIELDS.get(table, ()))


def _nullable(table: str, name: str) -> bool:
    try:  # pulled takes a NULL there
        pulled.check_value(table, name, None)
    except pulled.Invalid:
        return False
    return True


def _default(table: str, name: str) -> Any:
    """What a laptop's column holds for a field a change did not carry."""
    rule = records.get(table).rules[name]
    value = rule.default if isinstance(rule, models.Default) else None
    return json.dumps(value) if isinstance(value, list) else value


def vocabularies(table: str) -> dict[str, list[str]]:
    """The fields of ``table`` that take words of a vocabulary (:func:`fieldlog.pulled.
    vocabularies`), checked in SQL as pulled checks them."""
    return pulled.vocabularies(table)


def partition_name(table: str, agency: str) -> str:
    """The partition of ``table`` for ``agency``: ``<table>_a_<slug>_<8 hex>`` (the slug for
    people reading ``\\d+``, the hash so that two names never share one)."""
    check_agency(agency)
    slug = re.sub(r"[^a-z0-9]+", "_", agency.lower()).strip("_")[:16].rstrip("_")
    digest = hashlib.sha256(agency.encode("utf-8")).hexdigest()[:8]
    return f"{table}_a_{slug}_{digest}" if slug else f"{table}_a_{digest}"


def check_agency(agency: str) -> None:
    """ValueError for an agency name no partition can be made for."""
    if not agency or len(agency) > 100 or not agency.isprintable() or agency != agency.strip():
        raise ValueError(f"{agency[:40]!r} is not an agency name: use 1 to 100 printable "
                         "characters, no leading or trailing spaces.")  # fmt: skip


def partition_ddl(agency: str) -> list[str]:
    """The partitions of every partitioned table for ``agency``, its change log partition's
    count triggers and its counter row (idempotent)."""
    return [
        *(
            f"CREATE TABLE IF NOT EXISTS {SCHEMA}.{partition_name(t, agency)} "
            f"PARTITION OF {SCHEMA}.{t} FOR VALUES IN ({_lit(agency)})"
            for t in PARTITIONED
        ),
        *_count_triggers(f"{SCHEMA}.{partition_name('fieldlog_changes', agency)}", agency),
        counter_ddl(agency),
    ]


def counter_ddl(agency: str) -> str:
    """The agency's row of ``fieldlog.counters`` when it has none: its sequence starts where
    the store's numbers are (the layout-1 store-wide counter, or the highest of any agency),
    so no number is handed out twice and no laptop's cursor is above it; its row count is
    its rows' (counted once, here: the triggers keep it after)."""
    s, a = SCHEMA, _lit(agency)
    legacy = (
        f"(SELECT value::bigint FROM {s}.fieldlog_meta WHERE key = 'seq_counter' "
        "AND value ~ '^[0-9]{1,18}$')"
    )
    return f"""INSERT INTO {s}.counters (agency, seq, rows)
        SELECT {a}, greatest(coalesce({legacy}, 0),
                             coalesce((SELECT max(seq) FROM {s}.counters), 0)),
               (SELECT count(*) FROM {s}.fieldlog_changes WHERE agency = {a})
        WHERE NOT EXISTS (SELECT 1 FROM {s}.counters WHERE agency = {a})"""


def _count_triggers(table: str, agency: str | None = None) -> list[str]:
    """The statement triggers keeping ``counters.rows`` exact on ``table``: on the parent
    for statements through it, on each partition for statements naming the partition (a
    statement fires the statement triggers of the table it names only)."""
    arg = _lit(agency) if agency is not None else ""
    out = [
        f"""CREATE OR REPLACE TRIGGER {name} AFTER {event} ON {table}
            REFERENCING {refs} FOR EACH STATEMENT EXECUTE FUNCTION {SCHEMA}.count_changes()"""
        for name, event, refs in _COUNT_TRIGGERS
    ]
    out.append(
        f"""CREATE OR REPLACE TRIGGER fieldlog_count_truncate AFTER TRUNCATE ON {table}
        FOR EACH STATEMENT EXECUTE FUNCTION {SCHEMA}.count_changes({arg})"""
    )
    return out


def _tables() -> list[str]:
    s = SCHEMA
    out = [
        f"CREATE SCHEMA IF NOT EXISTS {s}",
        f"CREATE TABLE IF NOT EXISTS {s}.fieldlog_meta (key text PRIMARY KEY, value text)",
        f"""CREATE TABLE IF NOT EXISTS {s}.people (
            login text PRIMARY KEY, officer text NOT NULL,
            role text NOT NULL CHECK (role IN ('officer', 'supervisor', 'analyst')),
            unit text, agency text NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now())""",
        *_who_functions(),
        f"""CREATE TABLE IF NOT EXISTS {s}.fieldlog_changes (
            seq bigint NOT NULL,
            origin text NOT NULL, origin_seq bigint NOT NULL,
            tbl text NOT NULL, row_id text NOT NULL, hlc text NOT NULL, body text NOT NULL,
            sig text, pushed_by text NOT NULL DEFAULT current_user,
            agency text NOT NULL DEFAULT {s}.my_agency(),
            unit text DEFAULT {s}.my_unit(),
            record_unit text, record_officer text,
            PRIMARY KEY (agency, seq), UNIQUE (agency, origin, origin_seq))
            PARTITION BY LIST (agency)""",
        # Layout 2: the record's unit and officer (fieldlog_record), for the read policy.
        f"ALTER TABLE {s}.fieldlog_changes ADD COLUMN IF NOT EXISTS record_unit text",
        f"ALTER TABLE {s}.fieldlog_changes ADD COLUMN IF NOT EXISTS record_officer text",
        f"CREATE INDEX IF NOT EXISTS fieldlog_changes_seq ON {s}.fieldlog_changes (seq)",
        # The pull's access paths, one per branch of the read policy (pull_changes).
        *(
            f"CREATE INDEX IF NOT EXISTS fieldlog_changes_{col} ON {s}.fieldlog_changes "
            f"(agency, {col}, seq)"
            for col in ("unit", "pushed_by", "record_unit", "record_officer")
        ),
        f"CREATE INDEX IF NOT EXISTS fieldlog_changes_orgs ON {s}.fieldlog_changes "
        "(agency, seq) WHERE tbl = 'organizations'",
        # Each agency's sequence counter and row count (counter_ddl makes the rows, pushes
        # move seq through allocate, the count triggers keep rows).
        f"""CREATE TABLE IF NOT EXISTS {s}.counters (
            agency text PRIMARY KEY, seq bigint NOT NULL, rows bigint NOT NULL DEFAULT 0)""",
        f"CREATE INDEX IF NOT EXISTS fieldlog_changes_origin ON {s}.fieldlog_changes "
        "(origin, origin_seq)",
        # The numbers allocate handed out, for may_push to check a pushed row's seq against
        # (owner only; rows of a transaction that ended are cleared by the agency's next
        # allocate; unlogged: they mean nothing after a crash, which ends every push).
        f"""CREATE UNLOGGED TABLE IF NOT EXISTS {s}.allocations (
            xact xid8 NOT NULL, agency text NOT NULL, origin text NOT NULL,
            first_origin_seq bigint NOT NULL, last_origin_seq bigint NOT NULL,
            first_seq bigint NOT NULL)""",
        f"CREATE INDEX IF NOT EXISTS allocations_xact ON {s}.allocations (xact, agency, origin)",
        f"REVOKE ALL ON {s}.allocations FROM PUBLIC",
        f"""CREATE TABLE IF NOT EXISTS {s}.fieldlog_heads (
            origin text NOT NULL, seq bigint NOT NULL, hash text NOT NULL, sig text,
            at timestamptz NOT NULL DEFAULT clock_timestamp(),
            agency text NOT NULL DEFAULT {s}.my_agency())""",
        f"CREATE INDEX IF NOT EXISTS fieldlog_heads_origin ON {s}.fieldlog_heads (origin, seq)",
        f"""CREATE TABLE IF NOT EXISTS {s}.fieldlog_trust (
            id bigint PRIMARY KEY, kind text NOT NULL, subject text NOT NULL,
            record text NOT NULL, sig text NOT NULL, signer text NOT NULL,
            pushed_by text NOT NULL DEFAULT current_user,
            at timestamptz NOT NULL DEFAULT clock_timestamp(),
            agency text NOT NULL DEFAULT {s}.my_agency())""",
        f"""CREATE TABLE IF NOT EXISTS {s}.state (
            agency text NOT NULL, tbl text NOT NULL, id text NOT NULL, unit text,
            officer text, origin text, created_at text, updated_at text,
            vals jsonb NOT NULL, clocks jsonb NOT NULL, deleted int NOT NULL DEFAULT 0,
            PRIMARY KEY (agency, tbl, id)) PARTITION BY LIST (agency)""",
    ]
    kids = {t: r.parent[1] for t in records.TABLES if (r := records.get(t)).parent}
    for col in sorted(set(kids.values())):  # a contact's children, found from its state
        tables = ", ".join(_lit(t) for t, c in kids.items() if c == col)
        out.append(f"CREATE INDEX IF NOT EXISTS state_{col} ON {s}.state "
                   f"(agency, (vals->>{_lit(col)})) WHERE tbl IN ({tables})")  # fmt: skip
    for t in records.in_sync_order():
        r = records.get(t)
        cols = [f"{c} {typ}" for _, c, typ in TYPED_COLUMNS[t]]
        fk = (f", FOREIGN KEY (agency, {column_of(t, r.parent[1])}) REFERENCES "
              f"{s}.{r.parent[0]} (agency, id) ON DELETE CASCADE") if r.parent else ""  # fmt: skip
        out.append(f"""CREATE TABLE IF NOT EXISTS {s}.{t} (
            agency text NOT NULL, unit text, id text NOT NULL, {", ".join(cols)},
            officer text, origin text, created_at timestamptz, updated_at timestamptz,
            hlc text, PRIMARY KEY (agency, id){fk}) PARTITION BY LIST (agency)""")  # fmt: skip
        for _, c, _typ in TYPED_COLUMNS[t]:  # a column the registry gained since setup
            out.append(f"ALTER TABLE {s}.{t} ADD COLUMN IF NOT EXISTS {c} {_typ}")
        for pcol in [column_of(t, r.parent[1])] if r.parent else []:
            out.append(f"CREATE INDEX IF NOT EXISTS {t}_{pcol} ON {s}.{t} (agency, {pcol})")
    return out


def _who_functions() -> list[str]:
    """my_agency/my_unit/my_officer/my_role: the session login's people row (owner rights,
    so a login without a grant on people can ask)."""
    s = SCHEMA
    head = "LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS"
    me = f"FROM {s}.people WHERE login = session_user::text"
    return [
        f"""CREATE OR REPLACE FUNCTION {s}.my_agency() RETURNS text {head} $$
            SELECT coalesce((SELECT agency {me}),
                            (SELECT value FROM {s}.fieldlog_meta WHERE key = 'default_agency'),
                            'default') $$""",
        *(f"CREATE OR REPLACE FUNCTION {s}.my_{name}() RETURNS text {head} $$ SELECT {sql} $$"
          for name, sql in (("unit", f"unit {me}"), ("officer", f"officer {me}"),
                            ("role", f"coalesce((SELECT role {me}), 'owner')"))),
    ]  # fmt: skip


def _functions() -> list[str]:
    s = SCHEMA
    return [
        # pushed_by is whoever runs the INSERT; an enrolled login's unit is its own.
        f"""CREATE OR REPLACE FUNCTION {s}.fieldlog_pushed_by() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
              NEW.pushed_by := current_user;
              IF TG_NARGS > 0 AND {s}.my_officer() IS NOT NULL THEN NEW.unit := {s}.my_unit();
              END IF;
              RETURN NEW;
            END $$""",
        f"DROP TRIGGER IF EXISTS fieldlog_pushed_by ON {s}.fieldlog_changes",
        # An UPDATE of the record columns alone (replay's refresh) keeps the pusher.
        f"""CREATE TRIGGER fieldlog_pushed_by BEFORE INSERT OR UPDATE OF {_LOG_COLUMNS}
            ON {s}.fieldlog_changes FOR EACH ROW EXECUTE FUNCTION {s}.fieldlog_pushed_by('unit')""",
        # The record's unit and officer as the state holds them (fixed at creation: the fold
        # never changes them, may_push refuses a relabel, replay refreshes them), the
        # pusher's for a new record; after fieldlog_pushed_by (triggers fire by name).
        f"""CREATE OR REPLACE FUNCTION {s}.fieldlog_record() RETURNS trigger
            LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
            DECLARE u text; o text;
            BEGIN
              SELECT st.unit, st.officer INTO u, o FROM {s}.state st
                WHERE st.agency = NEW.agency AND st.tbl = NEW.tbl AND st.id = NEW.row_id;
              IF FOUND THEN
                NEW.record_unit := u; NEW.record_officer := o;
              ELSE
                NEW.record_unit := NEW.unit; NEW.record_officer := {s}.my_officer();
                IF NEW.record_officer IS NULL THEN  -- the owner's: the body says
                  BEGIN
                    NEW.record_officer := NEW.body::jsonb->>'officer';
                  EXCEPTION WHEN OTHERS THEN NEW.record_officer := NULL;
                  END;
                END IF;
              END IF;
              RETURN NEW;
            END $$""",
        f"DROP TRIGGER IF EXISTS fieldlog_record ON {s}.fieldlog_changes",
        f"""CREATE TRIGGER fieldlog_record BEFORE INSERT ON {s}.fieldlog_changes
            FOR EACH ROW EXECUTE FUNCTION {s}.fieldlog_record()""",
        # counters.rows: +inserted -deleted per agency, per statement (transition tables);
        # TRUNCATE of the log (no argument) or of one agency's partition.
        f"""CREATE OR REPLACE FUNCTION {s}.count_changes() RETURNS trigger
            LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
            BEGIN
              IF TG_OP = 'INSERT' THEN
                UPDATE {s}.counters k SET rows = k.rows + d.n
                  FROM (SELECT agency, count(*) AS n FROM new_rows GROUP BY agency) d
                  WHERE k.agency = d.agency;
              ELSIF TG_OP = 'DELETE' THEN
                UPDATE {s}.counters k SET rows = k.rows - d.n
                  FROM (SELECT agency, count(*) AS n FROM old_rows GROUP BY agency) d
                  WHERE k.agency = d.agency;
              ELSIF TG_OP = 'UPDATE' THEN  -- a row moved to another agency
                UPDATE {s}.counters k SET rows = k.rows + d.n
                  FROM (SELECT agency, sum(n) AS n FROM (
                          SELECT agency, 1 AS n FROM new_rows
                          UNION ALL SELECT agency, -1 FROM old_rows) x
                        GROUP BY agency HAVING sum(n) <> 0) d
                  WHERE k.agency = d.agency;
              ELSIF TG_NARGS > 0 THEN
                UPDATE {s}.counters SET rows = 0 WHERE agency = TG_ARGV[0];
              ELSE
                UPDATE {s}.counters SET rows = 0;
              END IF;
              RETURN NULL;
            END $$""",
        *_count_triggers(f"{s}.fieldlog_changes"),
        # A push's numbers, under the agency's counter row (locked until the push commits:
        # pushes of one agency commit in number order, other agencies' do not wait): the
        # origin_seqs of p_wanted the agency does not hold yet, each once, in order, each
        # with the next number no row holds (a row planted just above is stepped over),
        # kept in fieldlog.allocations for may_push (a login's row must carry a number
        # handed out here, in its own transaction: no seq chosen by hand).
        f"""CREATE OR REPLACE FUNCTION {s}.allocate(p_origin text, p_wanted bigint[])
            RETURNS TABLE (origin_seq bigint, seq bigint)
            LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
            #variable_conflict use_column
            DECLARE a text := {s}.my_agency(); c bigint; fresh bigint[]; n int; t bigint;
                    got bigint[] := '{{}}';
            BEGIN
              -- Only this store's officers and supervisors (and its owner) number changes: the
              -- groups are cluster-wide, so a login enrolled in another database is a member.
              IF coalesce({s}.my_role(), '') NOT IN ('officer', 'supervisor') AND NOT pg_has_role(
                  session_user, (SELECT n.nspowner FROM pg_namespace n WHERE n.nspname = '{s}'),
                  'USAGE') THEN
                RAISE EXCEPTION USING ERRCODE = '42501',
                  MESSAGE = format('login %s is not enrolled as an officer or supervisor of this '
                                   'store: it numbers no change', session_user),
                  HINT = 'the store''s owner enrolls it: fieldlog dept enroll',
                  DETAIL = 'refused by fieldlog.may_push';
              END IF;
              SELECT k.seq INTO c FROM {s}.counters k WHERE k.agency = a FOR UPDATE;
              IF c IS NULL OR c < 0 THEN
                RAISE EXCEPTION USING ERRCODE = '{COUNTER_TAMPERED}',
                  MESSAGE = format('the sequence counter of agency %s is %s', a, c),
                  DETAIL = coalesce(c::text, '');
              END IF;
              SELECT coalesce(array_agg(w.o ORDER BY w.i), '{{}}') INTO fresh FROM (
                SELECT u.o, min(u.i) AS i FROM unnest(p_wanted) WITH ORDINALITY AS u(o, i)
                WHERE u.o IS NOT NULL AND NOT EXISTS (SELECT 1 FROM {s}.fieldlog_changes x
                  WHERE x.agency = a AND x.origin = p_origin AND x.origin_seq = u.o)
                GROUP BY u.o) w;
              n := cardinality(fresh);
              IF n = 0 THEN RETURN; END IF;
              IF c > {SEQ_MAX} - n THEN
                RAISE EXCEPTION USING ERRCODE = '{COUNTER_EXHAUSTED}',
                  MESSAGE = format('the sequence counter of agency %s is %s', a, c),
                  DETAIL = c::text;
              END IF;
              SELECT x.seq INTO t FROM {s}.fieldlog_changes x WHERE x.agency = a AND x.seq > c
                ORDER BY x.seq LIMIT 1;
              IF t IS NULL OR t > c + n THEN  -- nothing in the way: the next n numbers
                got := ARRAY(SELECT generate_series(c + 1, c + n));
              ELSE
                FOR t IN SELECT x.seq FROM {s}.fieldlog_changes x
                         WHERE x.agency = a AND x.seq > c ORDER BY x.seq LOOP
                  WHILE cardinality(got) < n AND c + 1 < t LOOP
                    c := c + 1; got := got || c;
                  END LOOP;
                  EXIT WHEN cardinality(got) >= n;
                  IF t = {SEQ_MAX} THEN
                    RAISE EXCEPTION USING ERRCODE = '{COUNTER_EXHAUSTED}',
                      MESSAGE = format('the sequence counter of agency %s is %s', a, c),
                      DETAIL = c::text;
                  END IF;
                  c := t;
                END LOOP;
                WHILE cardinality(got) < n LOOP
                  IF c = {SEQ_MAX} THEN
                    RAISE EXCEPTION USING ERRCODE = '{COUNTER_EXHAUSTED}',
                      MESSAGE = format('the sequence counter of agency %s is %s', a, c),
                      DETAIL = c::text;
                  END IF;
                  c := c + 1; got := got || c;
                END LOOP;
              END IF;
              UPDATE {s}.counters k SET seq = got[n] WHERE k.agency = a;
              {RECORD_ALLOCATED}
              RETURN QUERY SELECT f.o, f.q FROM unnest(fresh, got) AS f(o, q);
            END $$""",
        # A pull: the changes after p_after up to p_upto the login may read, through one
        # index per branch of the read policy (roles._read_rule), so it reads about what it
        # returns, not every new row of the agency. SQL, not SECURITY DEFINER, no SET:
        # inlined into the caller's query, and row-level security decides as in any SELECT.
        _pull_changes(),
        f"DROP TRIGGER IF EXISTS fieldlog_pushed_by ON {s}.fieldlog_trust",
        f"""CREATE TRIGGER fieldlog_pushed_by BEFORE INSERT OR UPDATE ON {s}.fieldlog_trust
            FOR EACH ROW EXECUTE FUNCTION {s}.fieldlog_pushed_by()""",
        f"""CREATE OR REPLACE FUNCTION {s}.taken_after(which text, after bigint)
            RETURNS SETOF bigint LANGUAGE plpgsql STABLE SECURITY DEFINER
            SET search_path = pg_catalog, pg_temp AS $$
            BEGIN
              IF which IN ('fieldlog_changes', 'seq') THEN
                RETURN QUERY SELECT seq FROM {s}.fieldlog_changes
                  WHERE agency = {s}.my_agency() AND seq > after ORDER BY seq LIMIT 1000;
              ELSIF which IN ('fieldlog_trust', 'id') THEN
                RETURN QUERY SELECT id FROM {s}.fieldlog_trust WHERE id > after
                  ORDER BY id LIMIT 1000;
              END IF;
            END $$""",
        # The sequence check (rows.Backend.check_seq) over the agency's rows whatever RLS
        # hides, from one snapshot (a STABLE function: a push committing meanwhile is not
        # taken for planted rows), costing the smaller side of the cursor, never every row:
        # below = the maintained count minus the rows above the cursor, or (a small cursor,
        # as the legacy check's) the rows at or below it counted.
        f"""CREATE OR REPLACE FUNCTION {s}.seq_report(cursor bigint, OUT counter text,
            OUT below bigint, OUT beyond bigint) LANGUAGE plpgsql STABLE SECURITY DEFINER
            SET search_path = pg_catalog, pg_temp AS $$
            DECLARE a text := {s}.my_agency(); c bigint; total bigint;
            BEGIN
              SELECT k.seq, k.rows INTO c, total FROM {s}.counters k WHERE k.agency = a;
              below := 0; beyond := 0;
              IF NOT FOUND THEN RETURN; END IF;
              counter := c::text;
              IF cursor <= c / 2 THEN
                SELECT count(*) INTO below FROM {s}.fieldlog_changes x
                  WHERE x.agency = a AND x.seq <= cursor;
              ELSE
                SELECT total - count(*) INTO below FROM {s}.fieldlog_changes x
                  WHERE x.agency = a AND x.seq > cursor;
              END IF;
              SELECT count(*) INTO beyond FROM {s}.fieldlog_changes x
                WHERE x.agency = a AND x.seq > c;
            END $$""",
        # json.dumps(value, sort_keys=True) of a value a laptop stores (text, null, 0/1).
        # plpgsql: its plans are kept (a sql function not inlined is planned on every call).
        f"""CREATE OR REPLACE FUNCTION {s}.json_quote(t text) RETURNS text
            LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$ BEGIN
            RETURN CASE WHEN t ~ '{_SAFE_RE}' THEN '"' || t || '"' ELSE
              '"' || (SELECT string_agg(CASE
                 WHEN c = '"' THEN '\\"' WHEN c = '\\' THEN '\\\\'
                 WHEN c = chr(8) THEN '\\b' WHEN c = chr(12) THEN '\\f'
                 WHEN c = chr(10) THEN '\\n' WHEN c = chr(13) THEN '\\r'
                 WHEN c = chr(9) THEN '\\t'
                 WHEN ascii(c) BETWEEN 32 AND 126 THEN c
                 WHEN ascii(c) <= 65535 THEN '\\u' || lpad(to_hex(ascii(c)), 4, '0')
                 ELSE '\\u' || to_hex(55296 + ((ascii(c) - 65536) >> 10))
                   || '\\u' || to_hex(56320 + ((ascii(c) - 65536) & 1023)) END,
                 '' ORDER BY o)
               FROM unnest(string_to_array(t, NULL)) WITH ORDINALITY AS u(c, o)) || '"' END;
            END $$""",
        f"""CREATE OR REPLACE FUNCTION {s}.value_key(v jsonb) RETURNS text
            LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$ BEGIN
            RETURN CASE WHEN v IS NULL OR jsonb_typeof(v) = 'null' THEN 'null'
                        WHEN jsonb_typeof(v) = 'string' THEN {s}.json_quote(v #>> '{{}}')
                        ELSE v::text END; END $$""",
        _project(),
        _apply(),
        f"""CREATE OR REPLACE FUNCTION {s}.apply_trigger() RETURNS trigger
            LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
            BEGIN
              PERFORM {s}.apply_change(NEW.agency, NEW.unit, NEW.tbl, NEW.row_id, NEW.body);
              RETURN NULL;
            EXCEPTION WHEN OTHERS THEN  -- a fault of ours: the push still goes through
              RAISE WARNING 'fieldlog.apply_change failed on seq %: %', NEW.seq, SQLERRM;
              RETURN NULL;
            END $$""",
        f"DROP TRIGGER IF EXISTS fieldlog_apply ON {s}.fieldlog_changes",
        f"""CREATE TRIGGER fieldlog_apply AFTER INSERT ON {s}.fieldlog_changes
            FOR EACH ROW EXECUTE FUNCTION {s}.apply_trigger()""",
        f"""CREATE OR REPLACE FUNCTION {s}.replay() RETURNS bigint
            LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
            DECLARE r record; n bigint := 0;
            BEGIN
              TRUNCATE {", ".join(f"{s}.{t}" for t in (*records.TABLES, "state"))};
              FOR r IN SELECT agency, unit, tbl, row_id, body FROM {s}.fieldlog_changes
                       ORDER BY seq LOOP
                IF {s}.apply_change(r.agency, r.unit, r.tbl, r.row_id, r.body) THEN n := n + 1;
                END IF;
              END LOOP;
              -- The changes' record columns and the row counts, from the rebuilt state and
              -- the log (a store moved in or upgraded; rows written with triggers off).
              UPDATE {s}.fieldlog_changes c SET record_unit = st.unit, record_officer = st.officer
                FROM {s}.state st
                WHERE st.agency = c.agency AND st.tbl = c.tbl AND st.id = c.row_id
                  AND (c.record_unit IS DISTINCT FROM st.unit
                       OR c.record_officer IS DISTINCT FROM st.officer);
              UPDATE {s}.counters k SET rows = x.n
                FROM (SELECT k2.agency, (SELECT count(*) FROM {s}.fieldlog_changes c
                                         WHERE c.agency = k2.agency) AS n
                      FROM {s}.counters k2) x
                WHERE k.agency = x.agency AND k.rows IS DISTINCT FROM x.n;
              RETURN n;
            END $$""",
        # Only the trigger (and the owner) fold changes: a login calling apply_change itself
        # could write any agency's state without a row in the log.
        *(
            f"REVOKE ALL ON FUNCTION {s}.{f} FROM PUBLIC"
            for f in (
                "apply_change(text, text, text, text, text)",
                "project(text, text, text)",
                "replay()",
                "allocate(text, bigint[])",
            )
        ),  # fmt: skip
    ]


# The change log's own columns: an UPDATE of any of them re-stamps the pusher.
_LOG_COLUMNS = "seq, origin, origin_seq, tbl, row_id, hlc, body, sig, pushed_by, agency, unit"

# The branches of the changes' read policy (roles._read_rule), each over its own index.
PULL_BRANCHES = (
    "(SELECT {s}.my_unit()) IS NULL",
    "x.tbl = 'organizations'",
    "x.unit = (SELECT {s}.my_unit())",
    # A parameter in the column's collation (a name's is "C"): an index condition.
    'x.pushed_by = (SELECT current_user::text COLLATE "default")',
    "x.record_unit = (SELECT {s}.my_unit())",
    "x.record_officer = (SELECT {s}.my_officer())",
)


def _pull_changes() -> str:
    s = SCHEMA
    me = f"(SELECT {s}.my_agency())"
    # The first branch (a login of no unit reads the whole agency) makes the others
    # redundant: they run only for a login of a unit (a one-time filter each).
    gate = f"(SELECT {s}.my_unit()) IS NOT NULL AND "
    branches = "\n              UNION ALL\n".join(  # a row two branches return: once
        f"""              (SELECT x.* FROM {s}.fieldlog_changes x
               WHERE x.agency = {me} AND {gate if i else ""}{b.format(s=s)}
                 AND x.seq > p_after AND x.seq <= p_upto ORDER BY x.seq LIMIT p_lim)"""
        for i, b in enumerate(PULL_BRANCHES)
    )
    return f"""CREATE OR REPLACE FUNCTION {s}.pull_changes(p_after bigint, p_upto bigint,
            p_lim bigint) RETURNS SETOF {s}.fieldlog_changes LANGUAGE sql STABLE AS $$
            SELECT DISTINCT ON (u.seq) u.* FROM (
{branches}
              ) u ORDER BY u.seq LIMIT p_lim $$"""


def _case(per_table: dict[str, str], otherwise: str = "NULL") -> str:
    whens = " ".join(f"WHEN {_lit(t)} THEN {v}" for t, v in per_table.items())
    return f"CASE p_tbl {whens} ELSE {otherwise} END"


def _apply() -> str:
    """apply_change(agency, unit, tbl, id, body) -> applied: validate, fold, project."""
    s = SCHEMA
    fields = {t: (*records.TABLE_FIELDS[t], "deleted") for t in records.TABLES}
    picks: dict[str, Callable[[str, str], bool]] = {  # the fields of each kind, per table
        "f_all": lambda t, f: True,
        "f_opt": lambda t, f: f in _added(t),
        "f_null": lambda t, f: f != "deleted" and not _nullable(t, f),
        "f_time": lambda t, f: f in TIME_COLUMNS,
        "f_day": lambda t, f: f in DAY_COLUMNS,
        "f_id": lambda t, f: f in pulled.ID_FIELDS[t],
        "f_list": lambda t, f: f in records.get(t).lists,
    }
    arrays = {
        name: _case({t: _arr([f for f in fields[t] if pick(t, f)]) for t in fields}, "'{}'")
        for name, pick in picks.items()
    }
    words = {t: _lit(json.dumps(vocabularies(t))) + "::jsonb" for t in fields}
    added = {
        t: _lit(json.dumps({f: _default(t, f) for f in _added(t)})) + "::jsonb" for t in fields
    }
    nl = "\n        "
    return f"""CREATE OR REPLACE FUNCTION {s}.apply_change(
        p_agency text, p_unit text, p_tbl text, p_id text, p_body text) RETURNS boolean
        LANGUAGE plpgsql AS $$
    DECLARE
      {" ".join(f"{name} text[];" for name in arrays)} f_words jsonb;
      b jsonb; v jsonb; c jsonb; star text; bad boolean; k int; o int; ahead bigint;
      cur {s}.state%ROWTYPE; nv jsonb; nc jsonb;
    BEGIN
      BEGIN
        {nl.join(f"{name} := {sql};" for name, sql in arrays.items())}
        f_words := {_case(words, "'{}'::jsonb")};
        IF f_all = '{{}}' OR p_id IS NULL OR p_id !~ '{_HEX32_RE}' OR p_body IS NULL
           OR p_agency IS NULL THEN
          RETURN false;
        END IF;
        b := p_body::jsonb;
        IF jsonb_typeof(b) IS DISTINCT FROM 'object' THEN RETURN false; END IF;
        v := b->'values'; c := b->'clocks';
        IF jsonb_typeof(v) IS DISTINCT FROM 'object' OR jsonb_typeof(c) IS DISTINCT FROM 'object'
        THEN RETURN false; END IF;
        star := c->>'*';  -- and no clock is that far ahead (pulled.MAX_AHEAD_MS):
        ahead := (extract(epoch FROM now()) * 1000)::bigint + {pulled.MAX_AHEAD_MS};
        SELECT
          jsonb_typeof(b->'officer') IS DISTINCT FROM 'string'
          OR char_length(b->>'officer') > {models.MAX_SHORT}
          OR jsonb_typeof(b->'origin') IS DISTINCT FROM 'string'
          OR (b->>'origin') = '' OR char_length(b->>'origin') > {pulled.MAX_ORIGIN}
          OR jsonb_typeof(b->'created_at') IS DISTINCT FROM 'string'
          OR jsonb_typeof(b->'updated_at') IS DISTINCT FROM 'string'
          OR (b->>'created_at') !~ '{_TIME_RE}' OR (b->>'updated_at') !~ '{_TIME_RE}'
          OR (b->>'created_at')::timestamptz IS NULL OR (b->>'updated_at')::timestamptz IS NULL
          OR (b->'changed' IS NOT NULL AND (jsonb_typeof(b->'changed') <> 'array'
              OR EXISTS (SELECT 1 FROM jsonb_array_elements(b->'changed') e
                         WHERE jsonb_typeof(e) <> 'string'
                            OR NOT ((e #>> '{{}}') = '*' OR (e #>> '{{}}') = ANY(f_all)))))
          OR EXISTS (SELECT 1 FROM jsonb_each(c) e
                     WHERE NOT (e.key = '*' OR e.key = ANY(f_all))
                        OR jsonb_typeof(e.value) <> 'string'
                        OR (e.value #>> '{{}}') !~ '{_STAMP_RE}'
                        OR left(e.value #>> '{{}}', 13)::bigint > ahead)
        INTO bad;
        IF bad THEN RETURN false; END IF;
        -- Every value, in one pass: a known field, of its kind, with a stamp; the fields an
        -- older fieldlog lacks missing all together or not at all.
        SELECT bool_or(CASE
                 WHEN NOT (n = ANY(f_all)) THEN true
                 WHEN star IS NULL AND c->n IS NULL THEN true
                 WHEN n = 'deleted' THEN x::text NOT IN ('0', '1')
                 WHEN jsonb_typeof(x) = 'null' THEN n = ANY(f_null)
                 WHEN jsonb_typeof(x) <> 'string' THEN true
                 WHEN n = ANY(f_time) THEN (x #>> '{{}}') !~ '{_TIME_RE}'
                                           OR (x #>> '{{}}')::timestamptz IS NULL
                 WHEN n = ANY(f_day) THEN (x #>> '{{}}') !~ '{_DAY_RE}'
                                          OR (x #>> '{{}}')::date IS NULL
                 WHEN n = ANY(f_id) THEN (x #>> '{{}}') !~ '{_HEX32_RE}'
                 WHEN n = ANY(f_list) THEN
                   jsonb_typeof((x #>> '{{}}')::jsonb) <> 'array'
                   OR EXISTS (SELECT 1 FROM jsonb_array_elements((x #>> '{{}}')::jsonb) e
                              WHERE jsonb_typeof(e) <> 'string')
                   OR (f_words->n IS NOT NULL AND NOT (f_words->n @> (x #>> '{{}}')::jsonb))
                 WHEN f_words->n IS NOT NULL THEN NOT (f_words->n @> x)
                 ELSE false END),
               count(*), count(*) FILTER (WHERE n = ANY(f_opt))
          INTO bad, k, o FROM jsonb_each(v) AS e(n, x);
        IF bad OR NOT ((k = cardinality(f_all) AND o = cardinality(f_opt))
                       OR (k = cardinality(f_all) - cardinality(f_opt) AND o = 0)) THEN
          RETURN false;
        END IF;

        SELECT * INTO cur FROM {s}.state
          WHERE agency = p_agency AND tbl = p_tbl AND id = p_id FOR UPDATE;
        IF NOT FOUND THEN
          SELECT {_case(added, "'{}'::jsonb")} || jsonb_object_agg(n, v->n),
                 jsonb_object_agg(n, coalesce(c->>n, star))
                   || jsonb_build_object('*', coalesce(star,
                        min(coalesce(c->>n, star) COLLATE "C")))
            INTO nv, nc FROM unnest(f_all) n WHERE v->n IS NOT NULL;
          INSERT INTO {s}.state (agency, tbl, id, unit, officer, origin, created_at,
                                 updated_at, vals, clocks, deleted)
          VALUES (p_agency, p_tbl, p_id, p_unit, b->>'officer', b->>'origin',
                  b->>'created_at', b->>'updated_at', nv, nc, (nv->>'deleted')::int)
          ON CONFLICT DO NOTHING;
          IF NOT FOUND THEN  -- a push running alongside made it first: merge into theirs
            SELECT * INTO cur FROM {s}.state
              WHERE agency = p_agency AND tbl = p_tbl AND id = p_id FOR UPDATE;
          END IF;
        END IF;
        IF cur.id IS NOT NULL THEN
          SELECT cur.vals || coalesce(jsonb_object_agg(n, x.nv) FILTER (WHERE x.w), '{{}}'),
                 cur.clocks || coalesce(jsonb_object_agg(n, x.ns) FILTER (WHERE x.w), '{{}}')
            INTO nv, nc
            FROM (SELECT n, y.nv, y.ns, CASE
                    WHEN y.ns > y.os COLLATE "C" THEN true
                    WHEN y.ns = y.os AND y.nv IS DISTINCT FROM y.ov THEN
                      {s}.value_key(y.nv) > {s}.value_key(y.ov) COLLATE "C"
                    ELSE false END AS w
                  FROM (SELECT n, v->n AS nv, coalesce(c->>n, star) AS ns,
                               coalesce(cur.vals->n, 'null'::jsonb) AS ov,
                               coalesce(cur.clocks->>n, cur.clocks->>'*') AS os
                        FROM unnest(f_all) n WHERE v->n IS NOT NULL) y) x;
          UPDATE {s}.state SET vals = nv, clocks = nc, deleted = (nv->>'deleted')::int,
                 updated_at = CASE WHEN (b->>'updated_at') > updated_at COLLATE "C"
                                   THEN b->>'updated_at' ELSE updated_at END
            WHERE agency = p_agency AND tbl = p_tbl AND id = p_id;
        END IF;
        PERFORM {s}.project(p_agency, p_tbl, p_id);
        RETURN true;
      EXCEPTION WHEN OTHERS THEN
        RETURN false;
      END;
    END $$"""


def _typed_value(name: str, typ: str) -> str:
    """A state value (``r.vals``) as its typed column holds it."""
    get = f"r.vals->>{_lit(name)}"
    if typ == "text[]":
        return f"ARRAY(SELECT jsonb_array_elements_text(({get})::jsonb))"
    return get if typ == "text" else f"({get})::{typ}"


def _project() -> str:
    """project(agency, tbl, id): the typed row of one record, from its state."""
    s = SCHEMA
    branches = []
    for t in records.TABLES:
        r = records.get(t)
        cols = [c for _, c, _ in TYPED_COLUMNS[t]]
        vals = [_typed_value(f, typ) for f, _, typ in TYPED_COLUMNS[t]]
        all_cols = [*HEAD_COLUMNS, *cols, *TAIL_COLUMNS]
        all_vals = [
            "p_agency", "r.unit", "p_id", *vals, "r.officer", "r.origin",
            "r.created_at::timestamptz", "r.updated_at::timestamptz", "top",
        ]  # fmt: skip
        sets = ", ".join(f"{c} = EXCLUDED.{c}" for c in all_cols[1:] if c != "id")
        parent = ""
        if r.parent:
            ptable, pcol = r.parent
            parent = (
                f" AND EXISTS (SELECT 1 FROM {s}.{ptable} p WHERE p.agency = p_agency "
                f"AND p.id = r.vals->>{_lit(pcol)})"
            )
        kids = ""
        for child in records.children(t):
            ccol = records.get(child).parent[1]  # type: ignore[index]
            kids += f"""
            FOR k IN SELECT id FROM {s}.state WHERE agency = p_agency AND tbl = {_lit(child)}
                     AND vals->>{_lit(ccol)} = p_id AND deleted = 0 LOOP
              PERFORM {s}.project(p_agency, {_lit(child)}, k.id);
            END LOOP;"""
        branches.append(f"""
          IF p_tbl = {_lit(t)} THEN
            IF live{parent} THEN
              had := EXISTS (SELECT 1 FROM {s}.{t} WHERE agency = p_agency AND id = p_id);
              INSERT INTO {s}.{t} ({", ".join(all_cols)})
              VALUES ({", ".join(all_vals)})
              ON CONFLICT (agency, id) DO UPDATE SET {sets};
              IF NOT had THEN {kids or "NULL;"}
              END IF;
            ELSE
              DELETE FROM {s}.{t} WHERE agency = p_agency AND id = p_id;
            END IF;
            RETURN;
          END IF;""")
    return f"""CREATE OR REPLACE FUNCTION {s}.project(p_agency text, p_tbl text, p_id text)
        RETURNS void LANGUAGE plpgsql AS $$
        DECLARE r {s}.state%ROWTYPE; live boolean; had boolean; top text; k record;
        BEGIN
          SELECT * INTO r FROM {s}.state WHERE agency = p_agency AND tbl = p_tbl AND id = p_id;
          live := FOUND AND r.deleted = 0;
          IF FOUND THEN
            SELECT max(value COLLATE "C") INTO top FROM jsonb_each_text(r.clocks);
          END IF;
          {"".join(branches)}
        END $$"""


def schema_ddl() -> list[str]:
    """Every statement of the department layout but roles and RLS, in order (idempotent).
    Run as the database owner, in one transaction, before :func:`partition_ddl`."""
    return [*_tables(), *_functions()]
