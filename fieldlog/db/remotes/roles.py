"""Who may read and push what in a department store: group roles, grants, row-level security,
the push check (``fieldlog.may_push``), the redacted views, and enrolling a person.

PostgreSQL decides, not the laptop: the rules bind the logins ``fieldlog dept enroll`` makes
whatever client they use (psql, a BI tool, a patched fieldlog). The store's owner keeps full
access (row-level security is enabled, not forced).

- The grants go to three cluster-wide NOLOGIN groups (``fieldlog_officer``,
  ``fieldlog_supervisor``, ``fieldlog_analyst``); the policies read the login's row of this
  database's ``fieldlog.people`` (``fieldlog.my_*``): a member of a group without a row here
  (enrolled in another database) sees nothing.
- Officers and supervisors read their agency's rows of their unit (all units without one),
  every organization, what they pushed, and every change of a record they read; analysts
  read only the ``*_redacted`` views.
- ``fieldlog.may_push`` checks each pushed row: the device registered from this login, a new
  record is the login's own officer's, an edit keeps the record's officer, an officer sets no
  review field, and the row's seq is one ``fieldlog.allocate`` handed out for it in the
  push's own transaction (a login cannot number a change by hand: below other laptops'
  cursors, or far ahead). The owner (``dept setup``, repairs) is free: RLS does not bind it.
  A refusal is SQLSTATE 42501 with the reason: the push's transaction aborts
  whole and :mod:`fieldlog.db.remotes.pgerrors` shows the reason as one line.
- Non-owners move the trust log's counter forward only, and the sequence counters
  (``fieldlog.counters``) only through ``fieldlog.allocate`` (their own agency's, forward);
  they never read the pseudonym key.
- The redacted views follow ``export --redact`` (:mod:`fieldlog.export.redact`): names become
  ``Person-`` and 8 hex digits of an HMAC-SHA256 under the store's key, ids, times and
  vocabulary words stay, everything else is NULL (SQL cannot run the exporter's scrubber, so
  free text is withheld).

psycopg is imported inside the functions only (as in :mod:`fieldlog.db.remotes.postgres`).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from fieldlog import records
from fieldlog.db.remotes.types import SyncError
from fieldlog.privacy import ID_FIELDS, KEPT_FIELDS, NAME_FIELDS

if TYPE_CHECKING:
    import psycopg

__all__ = [
    "GROUPS", "ROLES", "TYPED_TABLES", "Enrolled", "enroll", "login_for", "redacted_view",
    "security_ddl",
]  # fmt: skip

ROLES = ("officer", "supervisor", "analyst")
GROUPS = {role: f"fieldlog_{role}" for role in ROLES}
PUSHERS = f"{GROUPS['officer']}, {GROUPS['supervisor']}"
# Every record table has its current-state table (the registry's: problems and their rows
# since layout 3).
TYPED_TABLES = records.TABLES
# The current-state tables' own columns kept in the redacted views (not registry fields).
BOOKKEEPING = ("agency", "unit", "origin", "hlc")
LOGIN_MAX = 63  # PostgreSQL's identifier length

# What an enrolled login may see of a row of its agency (the SELECT policies). Each my_*()
# is a subquery: evaluated once per query (an InitPlan), not once per row.
_UNIT_RULE = (
    "(SELECT fieldlog.my_unit()) IS NULL OR unit IS NOT DISTINCT FROM (SELECT fieldlog.my_unit())"
)
_MEMBER = "(SELECT fieldlog.my_role()) IN ('officer', 'supervisor')"
# A change of a record the login reads (a supervisor's review of an officer's contact): the
# record's unit and officer, kept on the change (dept_schema: fieldlog_record), so the pull
# reads each branch through its own index (dept_schema.pull_changes, PULL_BRANCHES).
_RECORD_SEEN = (
    "record_unit = (SELECT fieldlog.my_unit()) OR record_officer = (SELECT fieldlog.my_officer())"
)


def _read_rule(*, tbl: bool, pushed_by: bool = False, officer: bool = False) -> str:
    extra = ["tbl = 'organizations'"] if tbl else []
    extra.append(_UNIT_RULE)
    if pushed_by:  # a change: also one of a record the login reads (a supervisor's review)
        extra.append("pushed_by = current_user")
        extra.append(_RECORD_SEEN)
    if officer:
        extra.append("officer = (SELECT fieldlog.my_officer())")
    return f"{_MEMBER} AND agency = (SELECT fieldlog.my_agency()) AND ({' OR '.join(extra)})"


def _group_ddl() -> list[str]:
    """The group roles, made once per cluster; two setups at once both succeed."""
    return [
        f"""DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{name}') THEN
            BEGIN CREATE ROLE {name} NOLOGIN;
            EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END;
        END IF; END $$"""
        for name in GROUPS.values()
    ]


_FUNCTIONS = [
    # Whether device `origin` registered with the store from login `by` first (a device id
    # another login registered before is that login's).
    """CREATE OR REPLACE FUNCTION fieldlog.registered(p_origin text, p_by text)
    RETURNS boolean LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, fieldlog, pg_temp
    AS $$ SELECT coalesce((SELECT t.pushed_by = p_by FROM fieldlog.fieldlog_trust t
        WHERE t.kind = 'register' AND t.subject = p_origin ORDER BY t.id LIMIT 1), false) $$""",
    # A refused push or trust entry: SQLSTATE 42501, the reason and the fix (the laptop's
    # one line, fieldlog.db.remotes.pgerrors); the DETAIL marks it as fieldlog's.
    """CREATE OR REPLACE FUNCTION fieldlog.refuse(p_message text, p_hint text) RETURNS void
    LANGUAGE plpgsql AS $$ BEGIN
        RAISE EXCEPTION USING ERRCODE = '42501', MESSAGE = p_message, HINT = p_hint,
            DETAIL = 'refused by fieldlog.may_push';
    END $$""",
    # The push check, row by row (the INSERT policy of fieldlog_changes): refuses with what
    # was refused and why, so the laptop shows one line and the push aborts whole.
    """CREATE OR REPLACE FUNCTION fieldlog.may_push(p_origin text, p_origin_seq bigint,
        p_tbl text, p_row_id text, p_body text, p_agency text, p_by text, p_seq bigint)
    RETURNS boolean LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, fieldlog, pg_temp AS $$
    DECLARE
        me fieldlog.people%ROWTYPE;
        what text := format('change %s of device %s (%s %s)', p_origin_seq, p_origin, p_tbl,
                            left(coalesce(p_row_id, '?'), 10));
        review text := 'only a supervisor reviews contacts: a supervisor approves or returns '
                       'it (fieldlog review)';
        j json; names text[]; officer text; status text; bad text; held text;
        readable boolean := true;
    BEGIN
        SELECT * INTO me FROM fieldlog.people WHERE login = session_user;
        IF NOT FOUND OR me.role NOT IN ('officer', 'supervisor') THEN
            PERFORM fieldlog.refuse(format('%s: login %s is not enrolled as an officer or '
                'supervisor of this store', what, session_user),
                'the store''s owner enrolls it: fieldlog dept enroll');
        END IF;
        IF p_agency IS DISTINCT FROM me.agency THEN
            PERFORM fieldlog.refuse(format('%s names agency %s, but login %s belongs to %s',
                what, coalesce(p_agency, '(none)'), session_user, me.agency),
                'sync with a login of that agency');
        END IF;
        IF NOT fieldlog.registered(p_origin, p_by) THEN
            PERFORM fieldlog.refuse(format('%s: that device did not register with the store '
                'from login %s (another officer''s device?)', what, p_by),
                'push from your own laptop with your own login');
        END IF;
        BEGIN
            j := p_body::json;
            officer := j->>'officer';
            names := CASE WHEN json_typeof(j->'changed') = 'array'
                THEN ARRAY(SELECT json_array_elements_text(j->'changed')) ELSE ARRAY['*'] END;
            status := j->'values'->>'review_status';
            SELECT string_agg(f, ', ' ORDER BY f) INTO bad
            FROM unnest(ARRAY['review_comment', 'reviewed_by', 'reviewed_at']) f
            WHERE CASE WHEN '*' = ANY(names)
                THEN coalesce(json_typeof(j->'values'->f), 'null') <> 'null'
                ELSE f = ANY(names) END;
        EXCEPTION WHEN others THEN
            readable := false;
        END;
        IF NOT readable OR json_typeof(j) IS DISTINCT FROM 'object' THEN
            PERFORM fieldlog.refuse(format('%s is not a JSON object the database can read',
                what), 'fieldlog never sends one: was it written by hand?');
        END IF;
        SELECT s.officer INTO held FROM fieldlog.state s
        WHERE s.agency = me.agency AND s.tbl = p_tbl AND s.id = p_row_id;
        IF ('*' = ANY(names) OR NOT FOUND) AND officer IS DISTINCT FROM me.officer THEN
            PERFORM fieldlog.refuse(format('%s creates a record as officer %s, but login %s '
                'is enrolled as %s', what, coalesce(officer, '(none)'), session_user,
                me.officer), format('set this laptop''s officer to %L (fieldlog init '
                '--officer NAME), or sync with that officer''s own login', me.officer));
        ELSIF officer IS DISTINCT FROM held AND officer IS DISTINCT FROM me.officer THEN
            PERFORM fieldlog.refuse(format('%s relabels a record of officer %s as officer %s',
                what, held, coalesce(officer, '(none)')), 'edit it without changing its officer');
        END IF;
        IF me.role = 'officer' AND p_tbl = 'contacts' THEN
            IF ('review_status' = ANY(names) OR '*' = ANY(names))
                    AND coalesce(status, 'submitted') <> 'submitted' THEN
                PERFORM fieldlog.refuse(format('%s sets review_status to %s, and login %s is an '
                    'officer', what, status, session_user), review);
            ELSIF bad IS NOT NULL THEN
                PERFORM fieldlog.refuse(format('%s sets %s, and login %s is an officer', what,
                    bad, session_user), review);
            END IF;
        END IF;
        -- Its number: one fieldlog.allocate handed out for it in this transaction (an
        -- earlier statement's: this one's snapshot sees those), never one chosen by hand.
        IF NOT EXISTS (SELECT 1 FROM fieldlog.allocations k
                       WHERE k.xact = pg_current_xact_id() AND k.agency = p_agency
                         AND k.origin = p_origin
                         AND p_origin_seq BETWEEN k.first_origin_seq AND k.last_origin_seq
                         AND p_seq = k.first_seq + (p_origin_seq - k.first_origin_seq)) THEN
            PERFORM fieldlog.refuse(format('%s has seq %s, a number fieldlog.allocate did not '
                'hand out for it in this transaction (chosen by hand?)', what,
                coalesce(p_seq::text, '(none)')),
                'push with fieldlog sync: the store numbers each change (fieldlog.allocate)');
        END IF;
        RETURN true;
    END $$""",
    # The trust log's INSERT check: a register entry is the login's own officer's and device;
    # only a supervisor founds the trust list (the first register of an agency makes its
    # founder, a supervisor), trusts, revokes, or vouches for legacy changes.
    """CREATE OR REPLACE FUNCTION fieldlog.may_trust(p_kind text, p_subject text, p_record text,
        p_agency text, p_by text)
    RETURNS boolean LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, fieldlog, pg_temp AS $$
    DECLARE
        me fieldlog.people%ROWTYPE;
        officer text;
        what text := format('a %s entry of the trust list (device %s)', p_kind, p_subject);
    BEGIN
        SELECT * INTO me FROM fieldlog.people WHERE login = session_user;
        IF NOT FOUND OR me.role NOT IN ('officer', 'supervisor') THEN
            PERFORM fieldlog.refuse(format('%s: login %s is not enrolled as an officer or '
                'supervisor of this store', what, session_user),
                'the store''s owner enrolls it: fieldlog dept enroll');
        ELSIF p_agency IS DISTINCT FROM me.agency THEN
            PERFORM fieldlog.refuse(format('%s names agency %s, but login %s belongs to %s',
                what, p_agency, session_user, me.agency), 'sync with a login of that agency');
        ELSIF p_kind = 'register' AND NOT fieldlog.registered(p_subject, p_by)
                AND EXISTS (SELECT 1 FROM fieldlog.fieldlog_trust t
                            WHERE t.kind = 'register' AND t.subject = p_subject) THEN
            PERFORM fieldlog.refuse(format('%s: that device registered from another login',
                what), 'sync from your own laptop (a copied log makes itself a new device id)');
        ELSIF p_kind <> 'register' AND me.role = 'supervisor' THEN
            RETURN true;
        ELSIF p_kind <> 'register' THEN
            PERFORM fieldlog.refuse(format('%s from login %s, an officer', what, session_user),
                'a supervisor trusts and revokes devices (fieldlog dept trust / revoke)');
        ELSIF me.role = 'officer' AND NOT EXISTS (SELECT 1 FROM fieldlog.fieldlog_trust t
                          WHERE t.kind = 'register' AND t.agency = me.agency) THEN
            PERFORM fieldlog.refuse(format('%s would found the trust list of agency %s, and '
                'login %s is an officer', what, me.agency, session_user),
                'a supervisor syncs first: the first device to sync is the store''s founder');
        END IF;
        BEGIN
            officer := p_record::json->>'officer';
        EXCEPTION WHEN others THEN
            officer := NULL;
        END;
        IF officer IS DISTINCT FROM me.officer THEN
            PERFORM fieldlog.refuse(format('%s registers officer %s, but login %s is enrolled '
                'as %s', what, coalesce(officer, '(none)'), session_user, me.officer),
                format('set this laptop''s officer to %L (fieldlog init --officer NAME)',
                       me.officer));
        END IF;
        RETURN true;
    END $$""",
    # Non-owners move the counters forward only (a login resetting them would make laptops
    # skip or re-pull changes); the owner may repair them. (They may not set key: the grant.)
    """CREATE OR REPLACE FUNCTION fieldlog.counter_forward() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, fieldlog, pg_temp AS $$
    DECLARE before_n numeric; after_n numeric;
    BEGIN
        IF pg_has_role(current_user, (SELECT c.relowner FROM pg_class c
                                      WHERE c.oid = TG_RELID), 'USAGE') THEN
            RETURN NEW;
        END IF;
        BEGIN
            before_n := OLD.value::numeric; after_n := NEW.value::numeric;
        EXCEPTION WHEN others THEN
            after_n := NULL;
        END;
        IF after_n IS NULL OR after_n < before_n OR after_n <> trunc(after_n) THEN
            RAISE EXCEPTION USING ERRCODE = '42501', MESSAGE = format(
                'the store''s %s may only move forward (from %s, not to %s) for login %s',
                OLD.key, OLD.value, coalesce(NEW.value, 'NULL'), current_user);
        END IF;
        RETURN NEW;
    END $$""",
    "DROP TRIGGER IF EXISTS fieldlog_counter_forward ON fieldlog.fieldlog_meta",
    """CREATE TRIGGER fieldlog_counter_forward BEFORE UPDATE ON fieldlog.fieldlog_meta
        FOR EACH ROW EXECUTE FUNCTION fieldlog.counter_forward()""",
    # A redacted name: 'Person-' and 8 hex digits of HMAC-SHA256(key, folded name), the key's
    # pads passed in by the view (which reads the key with the owner's rights): no function
    # hands the key to a caller.
    """CREATE OR REPLACE FUNCTION fieldlog.pseudonym(p_name text, p_ipad bytea, p_opad bytea)
    RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT CASE WHEN p_name IS NULL OR btrim(p_name) = '' THEN NULL
            ELSE 'Person-' || left(encode(sha256(p_opad || sha256(p_ipad || convert_to(
                lower(regexp_replace(btrim(p_name), '\\s+', ' ', 'g')), 'UTF8'))), 'hex'), 8)
        END $$""",
]

# The key's HMAC pads, once per query in a view (32 bytes zero-padded to 64, XOR 0x36, 0x5c).
_PADS = """(SELECT decode(string_agg(lpad(to_hex(get_byte(k.b, i) # 54), 2, '0'), '' ORDER BY i),
                  'hex') AS ipad,
           decode(string_agg(lpad(to_hex(get_byte(k.b, i) # 92), 2, '0'), '' ORDER BY i),
                  'hex') AS opad
    FROM (SELECT decode(rpad(m.value, 128, '0'), 'hex') AS b FROM fieldlog.fieldlog_meta m
          WHERE m.key = 'redact_key') k, generate_series(0, 63) i)"""


def id_fields() -> frozenset[str]:
    """Ids and the columns pointing at records (kept: a view's rows must join)."""
    return ID_FIELDS


def redacted_view(table: str) -> str:
    """The DO block (re)making ``fieldlog.<table>_redacted`` from the table's own columns,
    each classified as above (a column in no set, a new one included, is withheld: NULL)."""

    def arr(names: Any) -> str:
        return "ARRAY[" + ", ".join(f"'{n}'" for n in sorted(names)) + "]::text[]"

    kept = id_fields() | KEPT_FIELDS | set(BOOKKEEPING)
    view = f"{table}_redacted"
    return f"""DO $$
    DECLARE cols text; c record;
    BEGIN
        cols := '';
        FOR c IN SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type
                 FROM pg_attribute a WHERE a.attrelid = 'fieldlog.{table}'::regclass
                   AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum LOOP
            cols := cols || CASE WHEN cols = '' THEN '' ELSE ', ' END || CASE
                WHEN c.name = ANY({arr(NAME_FIELDS)})
                    THEN format('fieldlog.pseudonym(t.%I, k.ipad, k.opad) AS %I', c.name, c.name)
                WHEN c.name = ANY({arr(kept)}) THEN format('t.%I', c.name)
                ELSE format('NULL::%s AS %I', c.type, c.name) END;
        END LOOP;
        EXECUTE 'DROP VIEW IF EXISTS fieldlog.{view}';
        EXECUTE 'CREATE VIEW fieldlog.{view} WITH (security_barrier) AS SELECT ' || cols
            || ' FROM fieldlog.{table} t CROSS JOIN ' || $q${_PADS}$q$ || ' k'
            || ' WHERE t.agency = fieldlog.my_agency() AND (fieldlog.my_role() IN '
            || '(''analyst'', ''supervisor'') OR pg_has_role(current_user, (SELECT n.nspowner '
            || 'FROM pg_namespace n WHERE n.nspname = ''fieldlog''), ''USAGE''))';
        EXECUTE 'GRANT SELECT ON fieldlog.{view} TO {GROUPS["analyst"]}, {GROUPS["supervisor"]}';
    END $$"""


def _grant_ddl() -> list[str]:
    analyst = GROUPS["analyst"]
    everyone = f"{PUSHERS}, {analyst}"
    log = "fieldlog.fieldlog_changes, fieldlog.fieldlog_heads, fieldlog.fieldlog_trust"
    typed = ", ".join(f"fieldlog.{t}" for t in ("state", *TYPED_TABLES))
    checks = (
        "fieldlog.registered(text, text), fieldlog.may_trust(text, text, text, text, text), "
        "fieldlog.may_push(text, bigint, text, text, text, text, text, bigint)"
    )
    return [
        f"GRANT USAGE ON SCHEMA fieldlog TO {everyone}",
        f"GRANT SELECT, INSERT ON {log} TO {PUSHERS}",
        f"GRANT SELECT, UPDATE (value) ON fieldlog.fieldlog_meta TO {PUSHERS}",
        f"GRANT SELECT ON {typed} TO {PUSHERS}",
        f"REVOKE ALL ON {typed}, {log}, fieldlog.fieldlog_meta FROM {analyst}",
        "REVOKE ALL ON fieldlog.people FROM PUBLIC",
        # The policies' functions: the groups only (PUBLIC gets EXECUTE by default).
        f"REVOKE EXECUTE ON FUNCTION {checks} FROM PUBLIC",
        f"GRANT EXECUTE ON FUNCTION {checks} TO {PUSHERS}",
        f"GRANT EXECUTE ON FUNCTION fieldlog.my_agency(), fieldlog.my_unit(), "
        f"fieldlog.my_officer(), fieldlog.my_role(), fieldlog.pseudonym(text, bytea, bytea) "
        f"TO {everyone}",
        f"GRANT EXECUTE ON FUNCTION fieldlog.taken_after(text, bigint), "
        f"fieldlog.seq_report(bigint) TO {PUSHERS}",
        # The counters: read (their own agency's row, RLS), moved only by allocate (owner
        # rights, forward only, the caller's agency): no login but the owner writes them.
        f"REVOKE ALL ON fieldlog.counters FROM PUBLIC, {everyone}",
        f"GRANT SELECT ON fieldlog.counters TO {PUSHERS}",
        "REVOKE EXECUTE ON FUNCTION fieldlog.allocate(text, bigint[]) FROM PUBLIC",
        f"GRANT EXECUTE ON FUNCTION fieldlog.allocate(text, bigint[]), "
        f"fieldlog.pull_changes(bigint, bigint, bigint) TO {PUSHERS}",
    ]


def _rls_ddl() -> list[str]:
    """RLS on every table, and one policy per table and command (``fieldlog_select`` ...)."""
    out = [
        f"ALTER TABLE fieldlog.{t} ENABLE ROW LEVEL SECURITY"
        for t in ("fieldlog_changes", "fieldlog_heads", "fieldlog_trust", "fieldlog_meta",
                  "counters", "state", *TYPED_TABLES, "people")
    ]  # fmt: skip
    agency = f"{_MEMBER} AND agency = (SELECT fieldlog.my_agency())"
    me = "current_user::text"
    # The trust log's counter (the sequence counters are fieldlog.counters, layout 2).
    counters = f"{_MEMBER} AND key = 'trust_counter'"
    policies = [
        ("fieldlog_changes", "SELECT", _read_rule(tbl=True, pushed_by=True)),
        ("fieldlog_changes", "INSERT",
         f"fieldlog.may_push(origin, origin_seq, tbl, row_id, body, agency, {me}, seq)"),
        ("fieldlog_heads", "SELECT", agency),
        ("fieldlog_heads", "INSERT", f"{agency} AND fieldlog.registered(origin, {me})"),
        ("fieldlog_trust", "SELECT", agency),
        ("fieldlog_trust", "INSERT", f"fieldlog.may_trust(kind, subject, record, agency, {me})"),
        ("fieldlog_meta", "SELECT", f"{_MEMBER} AND key <> 'redact_key'"),
        ("fieldlog_meta", "UPDATE", counters),
        ("counters", "SELECT", agency),
        ("state", "SELECT", _read_rule(tbl=True, officer=True)),
        *((t, "SELECT", agency if t == "organizations" else _read_rule(tbl=False, officer=True))
          for t in TYPED_TABLES),
    ]  # fmt: skip
    for table, what, rule in policies:
        name = f"fieldlog_{what.lower()}"
        clause = {"SELECT": f"USING ({rule})", "INSERT": f"WITH CHECK ({rule})"}.get(
            what, f"USING ({rule}) WITH CHECK ({rule})"
        )
        out.append(f"DROP POLICY IF EXISTS {name} ON fieldlog.{table}")
        out.append(f"CREATE POLICY {name} ON fieldlog.{table} FOR {what} TO {PUSHERS} {clause}")
    return out


def _key_ddl() -> str:
    """The store's pseudonym key (made once: a later setup keeps it, so pseudonyms stay)."""
    key = secrets.token_hex(32)
    return (
        "INSERT INTO fieldlog.fieldlog_meta (key, value) "
        f"VALUES ('redact_key', '{key}') ON CONFLICT (key) DO NOTHING"
    )


def security_ddl() -> list[str]:
    """Everything above for a store whose tables exist (:func:`~fieldlog.db.remotes.
    dept_schema.schema_ddl`), idempotent, in the caller's transaction (the setup's)."""
    views = [redacted_view(t) for t in TYPED_TABLES]
    return [
        *_group_ddl(), *_FUNCTIONS, _key_ddl(), *_grant_ddl(), *_rls_ddl(), *views,
        # Layout 1's per-row state lookup of the read policy (the policy no longer uses it).
        "DROP FUNCTION IF EXISTS fieldlog.sees_record(text, text, text, text, text)",
        # The push check before it checked the seq (the policy now calls the one above).
        "DROP FUNCTION IF EXISTS fieldlog.may_push(text, bigint, text, text, text, text, text)",
    ]  # fmt: skip


# ---------------------------------------------------------------------- enroll
@dataclass(frozen=True)
class Enrolled:
    """What :func:`enroll` did; ``password`` when it set one (shown once, never stored)."""

    login: str
    officer: str
    role: str
    unit: str | None
    agency: str
    created: bool
    password: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if k != "password"}


def login_for(officer: str) -> str:
    """The default login of an officer: ``fl_`` and the name lower-cased, every run of other
    characters than ASCII letters and digits one ``_`` ("Dana Ruiz" -> ``fl_dana_ruiz``)."""
    slug = re.sub(r"[^a-z0-9]+", "_", officer.lower()).strip("_")
    if not slug:
        raise SyncError(
            f"'{officer[:40]}' gives no login name (no letters or digits): give one with --login."
        )
    return f"fl_{slug}"[:LOGIN_MAX].rstrip("_")


def _clean(name: str, text: str | None, limit: int = 200) -> str | None:
    if text is None:
        return None
    out = " ".join(text.split())
    if len(out) > limit or any(not ch.isprintable() for ch in out):
        raise SyncError(
            f"The {name} '{out[:40]}' is not usable: at most {limit} printable characters."
        )
    return out or None


def enroll(
    conn: psycopg.Connection,
    *,
    officer: str,
    role: str,
    unit: str | None = None,
    agency: str | None = None,
    login: str | None = None,
    password: str | None = None,
) -> Enrolled:
    """Create or update one person's login in the caller's transaction (the owner's,
    :func:`fieldlog.db.remotes.dept.open_admin`): the login (a new one gets a generated
    password unless one is given; an existing one keeps its own unless one is), its
    ``fieldlog.people`` row, its group (left the others) and a new agency's partitions."""
    from psycopg import errors as pe
    from psycopg import sql

    from fieldlog.db.remotes import dept_schema
    from fieldlog.db.remotes.postgres import LOCK_CREATE

    role = role.strip().lower()
    if role not in ROLES:
        raise SyncError(f"'{role}' is not a role: give officer, supervisor or analyst.")
    name = _clean("officer name", officer)
    if name is None:
        raise SyncError("The officer's name is empty: give it with --officer 'Dana Ruiz'.")
    unit = _clean("unit", unit)
    login = (login or "").strip() or login_for(name)
    if len(login) > LOGIN_MAX or not login.isprintable():
        raise SyncError(
            f"'{login[:70]}' is not a login name: at most {LOGIN_MAX} printable characters."
        )
    if password is not None and (not password or "\n" in password or "\x00" in password):
        raise SyncError("The password is empty or holds a line break: give one line.")

    is_dept, me, owner = conn.execute(
        "SELECT to_regclass('fieldlog.people') IS NOT NULL, current_user::text, "
        "coalesce((SELECT pg_has_role(current_user, n.nspowner, 'USAGE') FROM pg_namespace n "
        "WHERE n.nspname = 'fieldlog'), false)"
    ).fetchone() or (False, "", False)
    if not is_dept:
        raise SyncError(
            "This database holds no department store: run  fieldlog dept setup URL  first, with "
            "the database owner's URL."
        )
    if not owner:
        raise SyncError(
            f"{me} is not the department store's owner: enroll with the owner's URL (the login "
            "that ran fieldlog dept setup)."
        )
    conn.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_CREATE])
    if agency is None:
        got = conn.execute(
            "SELECT value FROM fieldlog.fieldlog_meta WHERE key = 'default_agency'"
        ).fetchone()
        agency = str(got[0]) if got and got[0] else "default"
    agency = _clean("agency", agency, 100)
    try:
        dept_schema.check_agency(agency or "")
    except ValueError as exc:
        raise SyncError(str(exc)) from None
    assert agency is not None
    found = conn.execute(
        "SELECT rolsuper OR rolcreaterole OR rolbypassrls, rolcanlogin, "
        "pg_has_role(r.oid, (SELECT n.nspowner FROM pg_namespace n WHERE n.nspname = 'fieldlog'), "
        "'USAGE') FROM pg_roles r WHERE rolname = %s",
        [login],
    ).fetchone()
    if login == me or login in GROUPS.values() or (found and (found[0] or found[2])):
        raise SyncError(
            f"{login} is the store's owner, a group role or an administrator's login: enroll "
            "each person under a login of their own (--login NAME)."
        )
    created = found is None
    if created and password is None:
        password = secrets.token_urlsafe(18)
    ident = sql.Identifier(login)
    if conn.execute(
        "SELECT to_regclass(%s) IS NULL",
        [f"fieldlog.{dept_schema.partition_name('fieldlog_changes', agency)}"],
    ).fetchone() == (True,):
        for ddl in dept_schema.partition_ddl(agency):
            conn.execute(ddl)
    try:
        head = sql.SQL("CREATE ROLE {} LOGIN" if created else "ALTER ROLE {} WITH LOGIN")
        stmt = head.format(ident)
        if password is not None:
            stmt = sql.SQL("{} PASSWORD {}").format(stmt, sql.Literal(password))
        conn.execute(stmt)
    except pe.InsufficientPrivilege:
        raise SyncError(
            f"{me} may not create or change logins: a superuser runs  ALTER ROLE {me} "
            "CREATEROLE  once (docs/department.md)."
        ) from None
    for other, group in GROUPS.items():
        verb = "GRANT {} TO {}" if other == role else "REVOKE {} FROM {}"
        conn.execute(sql.SQL(verb).format(sql.Identifier(group), ident))
    db = sql.Identifier(str(conn.info.dbname))
    conn.execute(sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(db, ident))
    conn.execute(
        "INSERT INTO fieldlog.people (login, officer, role, unit, agency) "
        "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (login) DO UPDATE SET officer = "
        "EXCLUDED.officer, role = EXCLUDED.role, unit = EXCLUDED.unit, agency = EXCLUDED.agency",
        [login, name, role, unit, agency],
    )
    return Enrolled(login, name, role, unit, agency, created, password)
