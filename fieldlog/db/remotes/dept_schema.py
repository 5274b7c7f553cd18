"""The department layout of a PostgreSQL store: every table and function of schema ``fieldlog``
but the roles and row-level security (:mod:`fieldlog.db.remotes.roles`).

- The change log the laptops use (``fieldlog_meta``, ``fieldlog_changes``, ``fieldlog_heads``,
  ``fieldlog_trust``) under the same names, so the remote's SQL runs unchanged with
  ``search_path = fieldlog``. Each row carries its ``agency`` (a change its ``unit`` too),
  filled by the column DEFAULT from the pushing login (``fieldlog.my_agency()``): the
  partition key must be known before the row is routed, too early for a BEFORE trigger.
  ``fieldlog_changes`` is partitioned by agency: an agency without its partitions
  (:func:`partition_ddl`) cannot push.
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
    "DEPT_LAYOUT", "PARTITIONED", "SCHEMA", "TYPED_COLUMNS", "check_agency", "column_of",
    "partition_ddl", "partition_name", "schema_ddl", "vocabularies",
]  # fmt: skip

DEPT_LAYOUT = "1"  # fieldlog_meta key dept_layout
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
    """The partitions of every partitioned table for ``agency`` (idempotent)."""
    return [
        f"CREATE TABLE IF NOT EXISTS {SCHEMA}.{partition_name(t, agency)} "
        f"PARTITION OF {SCHEMA}.{t} FOR VALUES IN ({_lit(agency)})"
        for t in PARTITIONED
    ]


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
            PRIMARY KEY (agency, seq), UNIQUE (agency, origin, origin_seq))
            PARTITION BY LIST (agency)""",
        f"CREATE INDEX IF NOT EXISTS fieldlog_changes_seq ON {s}.fieldlog_changes (seq)",
        f"CREATE INDEX IF NOT EXISTS fieldlog_changes_origin ON {s}.fieldlog_changes "
        "(origin, origin_seq)",
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
        f"""CREATE TRIGGER fieldlog_pushed_by BEFORE INSERT OR UPDATE ON {s}.fieldlog_changes
            FOR EACH ROW EXECUTE FUNCTION {s}.fieldlog_pushed_by('unit')""",
        f"DROP TRIGGER IF EXISTS fieldlog_pushed_by ON {s}.fieldlog_trust",
        f"""CREATE TRIGGER fieldlog_pushed_by BEFORE INSERT OR UPDATE ON {s}.fieldlog_trust
            FOR EACH ROW EXECUTE FUNCTION {s}.fieldlog_pushed_by()""",
        f"""CREATE OR REPLACE FUNCTION {s}.taken_after(which text, after bigint)
            RETURNS SETOF bigint LANGUAGE plpgsql STABLE SECURITY DEFINER
            SET search_path = pg_catalog, pg_temp AS $$
            BEGIN
              IF which IN ('fieldlog_changes', 'seq') THEN
                RETURN QUERY SELECT seq FROM {s}.fieldlog_changes WHERE seq > after
                  ORDER BY seq LIMIT 1000;
              ELSIF which IN ('fieldlog_trust', 'id') THEN
                RETURN QUERY SELECT id FROM {s}.fieldlog_trust WHERE id > after
                  ORDER BY id LIMIT 1000;
              END IF;
            END $$""",
        # The sequence check (rows.Backend.check_seq) over the agency's rows whatever RLS
        # hides, from one snapshot: a push committing meanwhile is not taken for planted rows.
        f"""CREATE OR REPLACE FUNCTION {s}.seq_report(cursor bigint, OUT counter text,
            OUT below bigint, OUT beyond bigint) LANGUAGE sql STABLE SECURITY DEFINER
            SET search_path = pg_catalog, pg_temp AS $$
            WITH c AS (SELECT value AS v, CASE WHEN value ~ '^[0-9]{{1,18}}$' THEN value::bigint
                       END AS n FROM {s}.fieldlog_meta WHERE key = 'seq_counter'),
                 x AS (SELECT seq FROM {s}.fieldlog_changes WHERE agency = {s}.my_agency())
            SELECT c.v, (SELECT count(*) FROM x WHERE seq <= cursor),
                   (SELECT count(*) FROM x WHERE seq > c.n) FROM c $$""",
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
            )
        ),  # fmt: skip
    ]


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
