"""``fieldlog dept setup``: a new department store, the same setup run again, a plain
PostgreSQL remote moved in while its laptops keep syncing, the marker an older fieldlog meets,
the laptop's checks of the layout, the command's lines, and every query of
docs/department.md run against a real store (tests/lib/pg.py: a real throwaway server).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from fieldlog.db.remotes import dept
from fieldlog.db.remotes import dept_schema as D
from fieldlog.db.remotes.factory import open_remote
from fieldlog.db.remotes.postgres import PostgresRemote
from fieldlog.db.remotes.types import SYNC_SCHEMA, OutChange, SyncError
from tests.lib.run import one_line_error, run_fieldlog
from tests.lib.sync_helpers import TABLES, content, do_sync

ROOT = Path(__file__).resolve().parent.parent.parent
DOC = ROOT / "docs" / "department.md"


@pytest.fixture(autouse=True)
def owner_may_make_roles(pg_server):
    """A department's setup login makes the cluster's group roles once (CREATEROLE); the
    test role is put back as it was (other tests see it without)."""
    with pg_server.admin_connect("postgres") as conn:
        (had,) = conn.execute(
            "SELECT rolcreaterole FROM pg_roles WHERE rolname = 'fieldlog_test'"
        ).fetchone()
        conn.execute("ALTER ROLE fieldlog_test CREATEROLE")
    yield
    if not had:
        with pg_server.admin_connect("postgres") as conn:
            conn.execute("ALTER ROLE fieldlog_test NOCREATEROLE")


def q(pg_server, url: str, sql: str, params: tuple = ()) -> list[tuple]:
    return pg_server.execute(url, sql, params)


def meta(pg_server, url: str, schema: str = "fieldlog") -> dict[str, str]:
    return dict(q(pg_server, url, f"SELECT key, value FROM {schema}.fieldlog_meta"))


def counters(pg_server, url: str) -> dict[str, tuple[int, int]]:
    """Each agency's (seq, rows) in ``fieldlog.counters`` (layout 2: the agency's counter)."""
    rows = q(pg_server, url, "SELECT agency, seq, rows FROM fieldlog.counters")
    return {a: (n, r) for a, n, r in rows}


def catalog(pg_server, url: str) -> list[tuple]:
    """What a setup makes, to compare two runs: relations, functions' bodies, policies,
    triggers, grants, and the meta."""
    out = q(
        pg_server,
        url,
        "SELECT 'rel', c.relname::text, c.relkind::text, coalesce(c.relacl::text, '') "
        "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'fieldlog' "
        "UNION ALL SELECT 'fn', p.proname::text, md5(p.prosrc), coalesce(p.proacl::text, '') "
        "FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'fieldlog' "
        "UNION ALL SELECT 'pol', tablename::text || '.' || policyname::text, "
        "coalesce(qual, ''), coalesce(with_check, '') FROM pg_policies "
        "WHERE schemaname = 'fieldlog' "
        "UNION ALL SELECT 'trg', tgname::text, tgrelid::regclass::text, tgenabled::text "
        "FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'fieldlog' AND NOT t.tgisinternal "
        "ORDER BY 1, 2, 3",
    )
    return out + sorted(("meta", k, v, "") for k, v in meta(pg_server, url).items())


def live(store, table: str) -> dict[str, dict]:
    """The laptop's live records of ``table`` whose parent is live (what the typed table shows)."""
    from fieldlog import records

    rows = content(store)[table]
    parent = records.get(table).parent
    parents = content(store)[parent[0]] if parent else {}
    return {
        rid: r
        for rid, r in rows.items()
        if not r["deleted"]
        and (not parent or not parents.get(r[parent[1]], {"deleted": 1})["deleted"])
    }


def typed_ids(pg_server, url: str, table: str) -> set[str]:
    return {r[0] for r in q(pg_server, url, f"SELECT id FROM fieldlog.{table}")}


def busy_day(a, b, url: str) -> dict[str, str]:
    """Both laptops enrolled, adding, editing and deleting through ``url``; both synced."""
    from tests.lib.sync_helpers import enroll

    enroll(url, a, b)
    keep = a.contacts.add(
        {"summary": "Met the pastor", "neighborhood": "Eastside", "tags": ["faith", "youth"]},
        concerns=[{"category": "youth", "description": "no lit court"}],
        referrals=[{"agency": "Parks Dept", "reason": "lights", "follow_up_on": "2020-01-06"}],
    )
    gone = a.contacts.add(
        {"summary": "Wrong entry", "neighborhood": "Northside"},
        concerns=[{"category": "noise", "description": "dup"}],
    )
    do_sync(a, url)
    do_sync(b, url)
    b.contacts.update(keep, {"summary": "Met the pastor and the coach"})
    other = b.contacts.add(
        {"summary": "Store owner, graffiti", "neighborhood": "Northside"},
        concerns=[{"category": "disorder", "description": "tags on the wall"}],
    )
    a.contacts.delete(gone)
    for s in (a, b, a, b):
        do_sync(s, url)
    return {"keep": keep, "gone": gone, "other": other}


def assert_projected(pg_server, url: str, store) -> None:
    """fieldlog.contacts and siblings hold exactly the laptop's live records."""
    for table in TABLES:
        assert typed_ids(pg_server, url, table) == set(live(store, table)), table
    summaries = dict(q(pg_server, url, "SELECT id, summary FROM fieldlog.contacts"))
    assert summaries == {k: r["summary"] for k, r in live(store, "contacts").items()}


# ---------------------------------------------------------------------- a new store
def test_a_fresh_database_becomes_a_department_store(pg_server, pg_url, pair):
    report = dept.setup(pg_url)
    assert report.created and not report.upgraded and report.replayed == 0
    assert report.agencies == ["default"] and report.default_agency == "default"
    m = meta(pg_server, pg_url)
    assert {k: m[k] for k in ("kind", "sync_schema", "trust_counter", "layout")} == {
        "kind": "fieldlog-remote",
        "sync_schema": str(SYNC_SCHEMA),
        "trust_counter": "0",
        "layout": "2",
    }
    # The sequence counter is the agency's row of fieldlog.counters (layout 2), not meta.
    assert "seq_counter" not in m and counters(pg_server, pg_url) == {"default": (0, 0)}
    assert m["store_id"] == report.store_id and len(m["store_id"]) == 32
    assert (m["dept_layout"], m["default_agency"]) == (D.DEPT_LAYOUT, "default")
    for table in D.PARTITIONED:  # the default agency's partitions
        name = D.partition_name(table, "default")
        assert q(
            pg_server, pg_url, "SELECT to_regclass(%s) IS NOT NULL", (f"fieldlog.{name}",)
        ) == [(True,)]
    # Nothing in public: the store lives in schema fieldlog only.
    assert q(pg_server, pg_url, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == [
        (0,)
    ]
    # A laptop syncing with the same URL works in the department schema.
    remote = open_remote(pg_url)
    assert isinstance(remote, PostgresRemote) and remote.dept and remote.store_id == report.store_id
    remote.close()
    a, b = pair
    days = busy_day(a, b, pg_url)
    assert content(a) == content(b)
    assert_projected(pg_server, pg_url, a)
    assert days["gone"] not in typed_ids(pg_server, pg_url, "contacts")
    assert q(pg_server, pg_url, "SELECT DISTINCT agency FROM fieldlog.fieldlog_changes") == [
        ("default",)
    ]


def test_setup_again_changes_nothing(pg_server, pg_url, pair):
    first = dept.setup(pg_url)
    a, b = pair
    busy_day(a, b, pg_url)
    before = catalog(pg_server, pg_url)
    rows = q(pg_server, pg_url, "SELECT * FROM fieldlog.fieldlog_changes ORDER BY seq")
    again = dept.setup(pg_url)
    assert (again.created, again.upgraded, again.replayed, again.added) == (False, False, 0, [])
    assert not again.changed and again.store_id == first.store_id
    assert catalog(pg_server, pg_url) == before
    assert q(pg_server, pg_url, "SELECT * FROM fieldlog.fieldlog_changes ORDER BY seq") == rows
    r = do_sync(a, pg_url)
    assert (r.pushed, r.pulled) == (0, 0)


def test_a_second_agency_gets_its_partitions(pg_server, pg_url):
    dept.setup(pg_url, agency="Eastside PD")
    report = dept.setup(pg_url, agency="Northside Sheriff")
    assert report.added == ["Northside Sheriff"] and not report.created
    assert report.agencies == ["Eastside PD", "Northside Sheriff"]
    assert report.default_agency == "Eastside PD"
    for agency in report.agencies:
        for table in D.PARTITIONED:
            name = D.partition_name(table, agency)
            found = q(
                pg_server, pg_url, "SELECT to_regclass(%s) IS NOT NULL", (f"fieldlog.{name}",)
            )
            assert found == [(True,)], name
    assert dept.setup(pg_url, agency="Northside Sheriff").added == []  # idempotent
    # A row of an agency without partitions has nowhere to go.
    with pytest.raises(Exception, match="no partition"):
        q(
            pg_server,
            pg_url,
            "INSERT INTO fieldlog.fieldlog_changes (agency, seq, origin, origin_seq, tbl, "
            "row_id, hlc, body) VALUES ('Nobody', 1, 'o', 1, 'contacts', 'x', 'h', '{}')",
        )


# ---------------------------------------------------------------------- upgrading a remote
def test_a_plain_remote_is_moved_in_and_its_laptops_sync_on(pg_server, pg_url, pair):
    a, b = pair
    days = busy_day(a, b, pg_url)  # today's sync: the four tables in public
    store_id = open_remote(pg_url).store_id
    old = q(
        pg_server,
        pg_url,
        "SELECT seq, origin, origin_seq, tbl, row_id, hlc, body, sig, pushed_by "
        "FROM public.fieldlog_changes ORDER BY seq",
    )
    heads = q(pg_server, pg_url, "SELECT origin, seq, hash, sig FROM fieldlog_heads ORDER BY 1, 2")
    trust = q(pg_server, pg_url, "SELECT id, kind, subject, record, sig, signer, pushed_by "
                                  "FROM fieldlog_trust ORDER BY id")  # fmt: skip
    old_meta = meta(pg_server, pg_url, "public")
    before = content(a)

    report = dept.setup(pg_url)
    assert report.upgraded and not report.created and report.moved_from == "public"
    assert report.store_id == store_id and report.moved == len(old) == report.replayed
    # Every change kept as it was (seq, signature, who pushed it), under the default agency.
    moved = q(
        pg_server,
        pg_url,
        "SELECT seq, origin, origin_seq, tbl, row_id, hlc, body, sig, pushed_by "
        "FROM fieldlog.fieldlog_changes ORDER BY seq",
    )
    assert moved == old
    assert q(pg_server, pg_url, "SELECT DISTINCT agency FROM fieldlog.fieldlog_changes") == [
        ("default",)
    ]
    assert q(pg_server, pg_url, "SELECT origin, seq, hash, sig FROM fieldlog.fieldlog_heads "
                                "ORDER BY 1, 2") == heads  # fmt: skip
    assert q(pg_server, pg_url, "SELECT id, kind, subject, record, sig, signer, pushed_by "
                                "FROM fieldlog.fieldlog_trust ORDER BY id") == trust  # fmt: skip
    m = meta(pg_server, pg_url)
    assert m["store_id"] == store_id and m["trust_counter"] == old_meta["trust_counter"]
    # The store's counter is the default agency's now, with the count of its rows.
    assert "seq_counter" not in m
    assert counters(pg_server, pg_url) == {"default": (int(old_meta["seq_counter"]), len(old))}
    # Only the marker is left in public.
    assert q(pg_server, pg_url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'") == [
        ("fieldlog_meta",)
    ]
    assert meta(pg_server, pg_url, "public")["kind"] == "fieldlog-moved"
    assert q(pg_server, pg_url, "SELECT to_regprocedure('public.fieldlog_pushed_by()')") == [
        (None,)
    ]
    # The history is in the current-state tables.
    assert_projected(pg_server, pg_url, a)
    assert days["gone"] not in typed_ids(pg_server, pg_url, "contacts")

    # The laptops carry on: nothing pulled again, nothing pushed twice.
    for s in (a, b):
        r = do_sync(s, pg_url)
        assert (r.pushed, r.pulled, r.quarantined) == (0, 0, 0), r.line()
    assert content(a) == content(b) == before
    a.contacts.update(days["other"], {"summary": "Owner painted over it"})
    b.contacts.add({"summary": "After the move", "neighborhood": "Eastside"})
    for s in (a, b, a):
        r = do_sync(s, pg_url)
        assert r.quarantined == 0, r.line()
    assert content(a) == content(b)
    assert_projected(pg_server, pg_url, b)
    dupes = q(
        pg_server,
        pg_url,
        "SELECT count(*) - count(DISTINCT (origin, origin_seq)) FROM fieldlog.fieldlog_changes",
    )
    assert dupes == [(0,)]
    assert q(pg_server, pg_url, "SELECT max(seq), count(*) FROM fieldlog.fieldlog_changes") == [
        counters(pg_server, pg_url)["default"]
    ]
    # Set up again: up to date, the history not replayed twice.
    again = dept.setup(pg_url)
    assert not again.changed and again.replayed == 0


def test_a_remote_at_the_oldest_layout_is_moved_too(pg_server, pg_url):
    """A store from before counters, signatures, pushed_by and the trust log."""
    q(
        pg_server,
        pg_url,
        "CREATE TABLE fieldlog_meta (key text PRIMARY KEY, value text); "
        "INSERT INTO fieldlog_meta VALUES ('kind', 'fieldlog-remote'), ('sync_schema', '1'), "
        "('store_id', 'cafe0000000000000000000000000001'); "
        "CREATE TABLE fieldlog_changes (seq bigint PRIMARY KEY, origin text NOT NULL, "
        "origin_seq bigint NOT NULL, tbl text NOT NULL, row_id text NOT NULL, hlc text NOT NULL, "
        "body text NOT NULL, UNIQUE (origin, origin_seq)); "
        "INSERT INTO fieldlog_changes VALUES (1, 'dev', 1, 'contacts', 'x', 'h', '{}'), "
        "(2, 'dev', 2, 'contacts', 'x', 'h', 'not json'); "
        "ALTER TABLE fieldlog_meta OWNER TO fieldlog_test; "
        "ALTER TABLE fieldlog_changes OWNER TO fieldlog_test",
    )
    report = dept.setup(pg_url, agency="Eastside PD")
    assert report.upgraded and report.moved == 2 and report.replayed == 0  # bodies unusable
    assert report.store_id == "cafe0000000000000000000000000001"
    rows = q(pg_server, pg_url, "SELECT seq, agency, pushed_by, sig FROM fieldlog.fieldlog_changes "
                                "ORDER BY seq")  # fmt: skip
    assert rows == [(1, "Eastside PD", None, None), (2, "Eastside PD", None, None)]
    m = meta(pg_server, pg_url)
    assert (m["trust_counter"], m["sync_schema"]) == ("0", str(SYNC_SCHEMA))
    assert counters(pg_server, pg_url) == {"Eastside PD": (2, 2)}
    remote = open_remote(pg_url)
    assert remote.dept and remote.head() == 2
    assert remote.push("dev", [OutChange(3, "contacts", "x", "h", {})]) == 1
    assert remote.head() == 3
    remote.close()


def test_a_plain_store_in_schema_fieldlog_is_moved_in_place(pg_server, pg_url, pair):
    """docs/sync-postgres.md suggests a schema of its own, named in the URL."""
    q(pg_server, pg_url, "CREATE SCHEMA fieldlog AUTHORIZATION fieldlog_test")
    url = pg_url + "?options=-csearch_path%3Dfieldlog"
    a, b = pair
    busy_day(a, b, url)
    n = q(pg_server, pg_url, "SELECT count(*) FROM fieldlog.fieldlog_changes")[0][0]
    report = dept.setup(url)
    assert report.upgraded and report.moved == n and report.moved_from == "fieldlog"
    assert q(pg_server, pg_url, "SELECT to_regnamespace('fieldlog_moving')") == [(None,)]
    assert meta(pg_server, pg_url)["dept_layout"] == D.DEPT_LAYOUT
    for s in (a, b):
        r = do_sync(s, url)
        assert (r.pushed, r.pulled, r.quarantined) == (0, 0, 0), r.line()
    for s in (a, b):  # the URL without the schema reaches the same store
        assert do_sync(s, pg_url).pulled == 0
    assert_projected(pg_server, pg_url, a)


def test_an_older_fieldlog_meets_the_marker_and_creates_nothing(
    pg_server, pg_url, pair, monkeypatch
):
    a, _ = pair
    a.contacts.add({"summary": "before the move"})
    do_sync(a, pg_url)
    dept.setup(pg_url)
    # An older fieldlog knows nothing of schema fieldlog: it sees public only, and would make
    # its tables there (a new, empty store) but for the marker.
    seen = PostgresRemote._tables

    def older(conn):
        has_meta, has_changes, _ = seen(conn)
        return has_meta, has_changes, False

    monkeypatch.setattr(PostgresRemote, "_tables", staticmethod(older))
    with pytest.raises(SyncError, match="not a fieldlog sync store"):
        open_remote(pg_url)
    assert q(pg_server, pg_url, "SELECT to_regclass('public.fieldlog_changes')") == [(None,)]
    assert meta(pg_server, pg_url, "public")["kind"] == "fieldlog-moved"
    monkeypatch.undo()
    # This fieldlog, as a login that may not see the department schema, is told why.
    q(pg_server, pg_url, "CREATE ROLE outsider LOGIN PASSWORD 'out-pw'")
    try:
        dbname = pg_url.rsplit("/", 1)[1]
        with pytest.raises(SyncError, match="dept enroll") as err:
            open_remote(pg_server.url(dbname, user="outsider", password="out-pw"))
        assert "out-pw" not in str(err.value)
    finally:
        q(pg_server, pg_url, "DROP OWNED BY outsider; DROP ROLE outsider")


def test_tables_another_login_owns_are_left_alone_with_one_line(pg_server, pg_url):
    """Laptops that share one login made the tables; the database's owner may not drop them."""
    open_remote(pg_url).close()
    lap = "lap_" + pg_url.rsplit("/", 1)[1]
    q(pg_server, pg_url, f"CREATE ROLE {lap} NOLOGIN")
    try:
        for table in ("fieldlog_meta", "fieldlog_changes", "fieldlog_heads", "fieldlog_trust"):
            q(pg_server, pg_url, f"ALTER TABLE {table} OWNER TO {lap}")
        with pytest.raises(SyncError, match=f"belong to {lap}.*run it with {lap}'s URL"):
            dept.setup(pg_url)
        assert q(pg_server, pg_url, "SELECT to_regnamespace('fieldlog')") == [(None,)]
        assert meta(pg_server, pg_url, "public")["kind"] == "fieldlog-remote"
    finally:
        q(pg_server, pg_url, f"DROP OWNED BY {lap}; DROP ROLE {lap}")


# ---------------------------------------------------------------------- the laptop's checks
@pytest.mark.parametrize(
    "key,value,needle",
    [
        ("dept_layout", str(int(D.DEPT_LAYOUT) + 1), "upgrade fieldlog on this laptop"),
        ("dept_layout", "0", "run  fieldlog dept setup URL  as the store's owner"),
        ("sync_schema", str(SYNC_SCHEMA + 1), "upgrade fieldlog on this laptop"),
        ("sync_schema", "1", "run  fieldlog dept setup URL  as the store's owner"),
    ],
)
def test_a_department_store_at_another_layout_is_one_line(pg_server, pg_url, key, value, needle):
    dept.setup(pg_url)
    q(
        pg_server,
        pg_url,
        "UPDATE fieldlog.fieldlog_meta SET value = %s WHERE key = %s",
        (value, key),
    )
    with pytest.raises(SyncError) as err:
        open_remote(pg_url)
    assert needle in str(err.value) and pg_server.password not in str(err.value)
    if value in ("0", "1"):  # the owner's setup brings it forward, and laptops sync again
        report = dept.setup(pg_url)
        assert report.upgraded and meta(pg_server, pg_url)[key] != value
        open_remote(pg_url).close()


def test_a_plain_store_at_sync_schema_1_is_upgraded_on_open(pg_server, pg_url):
    open_remote(pg_url).close()
    q(pg_server, pg_url, "UPDATE fieldlog_meta SET value = '1' WHERE key = 'sync_schema'")
    remote = open_remote(pg_url)
    assert not remote.dept
    remote.close()
    assert meta(pg_server, pg_url, "public")["sync_schema"] == str(SYNC_SCHEMA)


# ---------------------------------------------------------------------- the command
def test_the_command_says_what_it_did(pg_server, pg_url, pair):
    a, _ = pair
    a.contacts.add({"summary": "plain first"})
    do_sync(a, pg_url)
    r = run_fieldlog("dept", "setup", pg_url)
    assert r.returncode == 0, r.stderr
    assert "Moved the store" in r.stdout and "1 change, 1 replayed" in r.stdout
    assert "agencies: default" in r.stdout and pg_server.password not in r.stdout
    r = run_fieldlog("dept", "setup", pg_url, "--agency", "North PD", "--json")
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)
    assert got["added"] == ["North PD"] and got["agencies"] == ["default", "North PD"]
    assert got["changed"] and pg_server.password not in r.stdout
    r = run_fieldlog("dept", "setup", pg_url)
    assert "already up to date; agencies: default, North PD" in r.stdout


def test_the_command_on_a_new_database(pg_url):
    r = run_fieldlog("dept", "setup", pg_url, "--agency", "Eastside PD")
    assert r.returncode == 0, r.stderr
    assert "Set up the department store" in r.stdout and "agencies: Eastside PD" in r.stdout
    assert "fieldlog dept enroll" in r.stdout


def test_the_commands_errors_are_one_line(pg_server, pg_url, tmp_path):
    dbname = pg_url.rsplit("/", 1)[1]
    one_line_error(run_fieldlog("dept", "setup", str(tmp_path / "x.fieldlog")), "postgresql://")
    bad = pg_server.url(dbname, password="wrong-secret")
    err = one_line_error(run_fieldlog("dept", "setup", bad), "refused the login")
    assert "wrong-secret" not in err
    one_line_error(run_fieldlog("dept", "setup", pg_url, "--agency", "  "), "agency")
    # Not the owner: a login that may connect but not create.
    q(pg_server, pg_url, "CREATE ROLE clerk_setup LOGIN PASSWORD 'clerk-pw'")
    try:
        q(pg_server, pg_url, f'GRANT CONNECT ON DATABASE "{dbname}" TO clerk_setup')
        clerk = pg_server.url(dbname, user="clerk_setup", password="clerk-pw")
        err = one_line_error(run_fieldlog("dept", "setup", clerk), "database owner's URL")
        assert "clerk-pw" not in err
        dept.setup(pg_url)
        err = one_line_error(run_fieldlog("dept", "setup", clerk), "does not own schema fieldlog")
        assert "clerk-pw" not in err
        assert q(
            pg_server, pg_url, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
        ) == [(0,)]
    finally:
        q(pg_server, pg_url, "DROP OWNED BY clerk_setup; DROP ROLE clerk_setup")


# ---------------------------------------------------------------------- docs/department.md
def sql_blocks(text: str) -> list[str]:
    return re.findall(r"^```sql\n(.*?)^```", text, flags=re.S | re.M)


def test_every_query_in_the_department_docs_runs(pg_server, pg_url, pair):
    """Each ```sql block of docs/department.md, as a supervisor reading the store through a
    read-only transaction (as a BI tool would), returns rows on a store with a busy day. (The
    owner's statements there are ```pgsql blocks, not run.)"""
    import psycopg

    from fieldlog.db.remotes import roles

    blocks = sql_blocks(DOC.read_text(encoding="utf-8"))
    assert len(blocks) >= 3
    dept.setup(pg_url)
    a, b = pair
    busy_day(a, b, pg_url)
    dbname = pg_url.rsplit("/", 1)[1]
    login = f"sup_{dbname}"
    with dept.open_admin(pg_url) as conn:
        who = roles.enroll(
            conn, officer="Pat Boss", role="supervisor", unit=None, agency=None, login=login,
            password="sup-pw",
        )  # fmt: skip
    try:
        url = pg_server.url(dbname, user=who.login, password="sup-pw")
        with psycopg.connect(url) as conn:
            conn.read_only = True
            for block in blocks:
                cur = conn.execute(block)
                assert cur.description is not None, block
                assert cur.fetchall(), f"no rows for:\n{block}"
    finally:
        q(pg_server, pg_url, f"DROP OWNED BY {login}; DROP ROLE {login}")
