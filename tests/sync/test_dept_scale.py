"""The department store's per-change cost as laptops grow (dept layout 2): each agency numbers
its changes from its own row of ``fieldlog.counters`` (no advisory lock: pushes of different
agencies never wait for each other), the row keeps the agency's change count (the sequence
check costs the rows above the cursor, not every row), and a pull reads each branch of the
read policy through its own index (``fieldlog.pull_changes``). And the upgrade of a layout-1
store. Everything from the database side: enrolled logins, the plans PostgreSQL runs, the
rows it reads (``pg_stat_xact_*``), never a timing."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import psycopg
import pytest

from fieldlog.db import devkeys
from fieldlog.db.remotes import dept as dept_setup
from fieldlog.db.remotes import dept_schema as D
from fieldlog.db.remotes.factory import open_remote
from fieldlog.db.remotes.postgres import LOCK_PUSH, PostgresRemote
from fieldlog.db.remotes.types import SyncError
from fieldlog.db.store import Store
from tests.lib.pg import Dept, trust_laptops
from tests.lib.sync_helpers import content, do_sync

pytestmark = pytest.mark.pg

NORTH = "North County PD"


def laptop(tmp: Path, officer: str) -> Store:
    s = Store.open(tmp / f"{officer.replace(' ', '_').lower()}.db")
    s.set_officer(officer)
    return s


def add_contact(s: Store, summary: str) -> str:
    return s.contacts.add(
        {"summary": summary, "neighborhood": "Eastside", "person_name": "Maria Lopez"},
        concerns=[{"category": "youth", "description": f"{summary}: no lit court"}],
    )


def rows(url: str, query: str, params: tuple | list = ()) -> list[tuple]:
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(query, params).fetchall()  # type: ignore[arg-type]


def counters(dept: Dept) -> dict[str, tuple[int, int]]:
    return {a: (n, r) for a, n, r in dept.owner("SELECT agency, seq, rows FROM fieldlog.counters")}


def true_counts(dept: Dept) -> dict[str, int]:
    got = dept.owner("SELECT agency, count(*) FROM fieldlog.fieldlog_changes GROUP BY agency")
    return {a: int(n) for a, n in got}


class Two:
    """Two agencies of one store, each with a supervisor (who founds its trust list) and an
    officer of unit East, every laptop registered and trusted."""

    def __init__(self, dept: Dept, tmp: Path) -> None:
        self.dept = dept
        self.urls = {
            "sue": dept.enroll("Sue Boss", "supervisor"),
            "dana": dept.enroll("Dana Ruiz", unit="East"),
            "nick": dept.enroll("Nick North", "supervisor", agency=NORTH),
            "nora": dept.enroll("Nora North", unit="East", agency=NORTH),
        }
        names = {"sue": "Sue Boss", "dana": "Dana Ruiz", "nick": "Nick North",
                 "nora": "Nora North"}  # fmt: skip
        self.laptops = {k: laptop(tmp, v) for k, v in names.items()}
        for k in ("sue", "dana", "nick", "nora"):
            do_sync(self.laptops[k], self.urls[k])
        trust_laptops(self.laptops["sue"], self.urls["sue"], self.laptops["dana"])
        trust_laptops(self.laptops["nick"], self.urls["nick"], self.laptops["nora"])

    def sync(self, who: str) -> Any:
        return do_sync(self.laptops[who], self.urls[who])

    def close(self) -> None:
        for s in self.laptops.values():
            s.close()


@pytest.fixture
def two(dept: Dept, tmp_path: Path):
    t = Two(dept, tmp_path)
    yield t
    t.close()


# ---------------------------------------------------------------------- the counter row
def test_each_agency_numbers_from_its_own_counter_row(two: Two):
    for n in range(3):
        add_contact(two.laptops["dana"], f"default {n}")
    two.sync("dana")
    add_contact(two.laptops["nora"], "north")
    two.sync("nora")
    got = counters(two.dept)
    assert set(got) == {"default", NORTH}
    for agency, (seq, count) in got.items():
        seqs = [
            r[0]
            for r in two.dept.owner(
                "SELECT seq FROM fieldlog.fieldlog_changes WHERE agency = %s ORDER BY seq", [agency]
            )
        ]
        assert seqs == list(range(1, seq + 1)) and count == len(seqs), agency  # dense, each
    assert got["default"][0] > got[NORTH][0] > 0
    # A new agency starts at the highest number of the store: no laptop's cursor is above it.
    dept_setup.setup(two.dept.url, "Campus Police")
    assert counters(two.dept)["Campus Police"] == (got["default"][0], 0)
    remote = open_remote(two.urls["nora"])
    try:
        assert remote.head() == got[NORTH][0]  # head is the login's agency's counter
    finally:
        remote.close()


def test_pushes_of_another_agency_never_wait_and_no_advisory_lock_is_taken(two: Two, monkeypatch):
    """The default agency's counter row held (a push of its own mid-way): a push of another
    agency goes through; one of the held agency waits, then says busy. The push lock of
    plain stores, held all along, stops neither (nothing node-local: Citus)."""
    from fieldlog.db.remotes import postgres as remote_pg

    monkeypatch.setattr(remote_pg, "LOCK_TIMEOUT", "300ms")
    add_contact(two.laptops["nora"], "north, while default pushes")
    add_contact(two.laptops["dana"], "default, behind the held row")
    dbname = two.dept.url.rsplit("/", 1)[1]
    with two.dept.server.admin_connect(dbname) as other:
        other.autocommit = False
        other.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_PUSH])
        other.execute("SELECT 1 FROM fieldlog.counters WHERE agency = 'default' FOR UPDATE")
        assert two.sync("nora").pushed == 2
        with pytest.raises(SyncError, match="is busy .another laptop is syncing"):
            two.sync("dana")
        other.rollback()
    assert two.sync("dana").pushed == 2


def test_counters_from_the_database_side_as_an_enrolled_officer(two: Two):
    add_contact(two.laptops["dana"], "one")
    two.sync("dana")
    before = counters(two.dept)
    dana = two.urls["dana"]
    # Their own agency's row only, read-only.
    assert rows(dana, "SELECT agency, seq, rows FROM fieldlog.counters") == [
        ("default", *before["default"])
    ]
    for sql in (
        "UPDATE fieldlog.counters SET seq = 0",
        f"UPDATE fieldlog.counters SET seq = 0 WHERE agency = '{NORTH}'",
        "DELETE FROM fieldlog.counters",
        "INSERT INTO fieldlog.counters VALUES ('mine', 0, 0)",
        "SELECT * FROM fieldlog.counters FOR UPDATE",
        "TRUNCATE fieldlog.counters",
    ):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            rows(dana, sql)
    # allocate moves the caller's own agency's counter, forward only; a held origin_seq gets
    # no number.
    device = devkeys.load(two.laptops["dana"])
    assert device is not None
    held = rows(dana, "SELECT * FROM fieldlog.allocate(%s, ARRAY[1, 1, 2]::bigint[])",
                [device.device])  # fmt: skip
    assert held == []  # its changes 1 and 2 are in the store
    fresh = rows(dana, "SELECT * FROM fieldlog.allocate('dev-x', ARRAY[7, 7, 8]::bigint[])")
    n = before["default"][0]
    assert fresh == [(7, n + 1), (8, n + 2)]  # committed: numbers given, never given again
    assert counters(two.dept) == {**before, "default": (n + 2, before["default"][1])}
    # The owner may repair a counter; the functions the triggers run are no one else's.
    two.dept.owner("UPDATE fieldlog.counters SET seq = %s WHERE agency = 'default'", [n])
    for fn in ("count_changes()", "fieldlog_record()"):
        with pytest.raises(psycopg.Error):
            rows(dana, f"SELECT fieldlog.{fn}")


def test_concurrent_pushers_of_two_agencies_commit_in_number_order(two: Two, tmp_path: Path):
    """Each agency's tailing reader (its supervisor, of no unit) sees its agency's seqs
    dense and in order while officers of both agencies push at once."""
    from tests.lib.threads import tailing

    urls = {
        "default": [two.dept.enroll(f"Officer {i}", unit=f"U{i % 2}") for i in range(3)],
        NORTH: [two.dept.enroll(f"North {i}", unit=f"U{i % 2}", agency=NORTH) for i in range(3)],
    }
    paths = []
    for agency, boss in (("default", "sue"), (NORTH, "nick")):
        mine = []
        for i, url in enumerate(urls[agency]):
            s = laptop(tmp_path, f"{'Officer' if agency == 'default' else 'North'} {i}")
            do_sync(s, url)
            mine.append(s)
        trust_laptops(two.laptops[boss], two.urls[boss], *mine)
        paths += [(s.path, url) for s, url in zip(mine, urls[agency], strict=True)]
        for s in mine:
            s.close()
    start = counters(two.dept)
    gate = threading.Barrier(len(paths))
    errors: list[BaseException] = []

    def push(path: Path, url: str) -> None:
        try:
            s = Store.open(path)
            try:
                for r in range(3):
                    gate.wait()
                    add_contact(s, f"round {r}")
                    do_sync(s, url)
            finally:
                s.close()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=push, args=p) for p in paths]
    with tailing(two.urls["sue"], 3, errors) as seen_default, \
            tailing(two.urls["nick"], 3, errors) as seen_north:  # fmt: skip
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert errors == [], [str(e) for e in errors]
    end = counters(two.dept)
    for agency, seen in (("default", seen_default), (NORTH, seen_north)):
        seqs = [
            r[0]
            for r in two.dept.owner(
                "SELECT seq FROM fieldlog.fieldlog_changes WHERE agency = %s ORDER BY seq", [agency]
            )
        ]
        assert seqs == list(range(1, len(seqs) + 1)) == seen, agency
        assert end[agency] == (len(seqs), len(seqs))
        assert len(seqs) - start[agency][1] == 3 * 3 * 2


# ---------------------------------------------------------------------- the maintained count
def plant(dept: Dept, table: str, seqs: list[int], agency: str = "default") -> None:
    dept.owner(
        f"INSERT INTO fieldlog.{table} (agency, seq, origin, origin_seq, tbl, row_id, hlc, body) "
        "SELECT %s, s, 'evil', s, 'contacts', 'x', 'h', '{}' FROM unnest(%s::bigint[]) s",
        [agency, seqs],
    )


def report(url: str, cursor: int) -> tuple[str, int, int]:
    got = rows(url, "SELECT counter, below, beyond FROM fieldlog.seq_report(%s)", [cursor])
    return got[0]


def brute(dept: Dept, cursor: int, agency: str = "default") -> tuple[str, int, int]:
    """seq_report as layout 1 computed it: every row counted."""
    (c,) = dept.owner("SELECT seq FROM fieldlog.counters WHERE agency = %s", [agency])[0]
    below, beyond = dept.owner(
        "SELECT count(*) FILTER (WHERE seq <= %s), count(*) FILTER (WHERE seq > %s) "
        "FROM fieldlog.fieldlog_changes WHERE agency = %s",
        [cursor, c, agency],
    )[0]
    return str(c), below, beyond


def test_the_count_stays_exact_through_planted_and_deleted_rows(two: Two):
    dept = two.dept
    for n in range(3):
        add_contact(two.laptops["dana"], f"visit {n}")
    two.sync("dana")
    add_contact(two.laptops["nora"], "north")
    two.sync("nora")
    part = D.partition_name("fieldlog_changes", "default")
    north_part = D.partition_name("fieldlog_changes", NORTH)
    c = counters(dept)["default"][0]
    steps = [
        lambda: plant(dept, "fieldlog_changes", [c + 1, c + 3, 2**63 - 1]),  # above the counter
        lambda: plant(dept, part, [-5, 0]),  # below every cursor, straight into the partition
        lambda: dept.owner(
            "DELETE FROM fieldlog.fieldlog_changes WHERE seq IN (2, 4) AND agency = 'default'"
        ),  # fmt: skip
        lambda: dept.owner(f"DELETE FROM fieldlog.{part} WHERE seq = 0"),
        lambda: dept.owner(  # a row moved to the other agency (its partition)
            "UPDATE fieldlog.fieldlog_changes SET agency = %s, seq = 10000 "
            "WHERE agency = 'default' AND seq = -5",
            [NORTH],
        ),  # fmt: skip
        lambda: dept.owner("UPDATE fieldlog.fieldlog_changes SET hlc = 'hh'"),
        lambda: dept.owner(f"TRUNCATE fieldlog.{north_part}"),
    ]
    dana = two.urls["dana"]
    for i, step in enumerate(steps):
        step()
        assert {a: r for a, (_, r) in counters(dept).items()} == true_counts(dept) | {
            a: 0 for a in counters(dept) if a not in true_counts(dept)
        }, i
        for cursor in (0, 1, 2, 3, c // 2, c - 1, c, c + 2, c + 10):
            assert report(dana, cursor) == brute(dept, cursor), (i, cursor)
    # What the laptop's check makes of it: the same lines as layout 1's.
    remote = open_remote(dana)
    try:
        got = remote.check_seq(c)
        assert got.beyond == 3 and got.below == brute(dept, c)[1]
        assert any("3 changes in the remote have numbers above its counter" in p
                   for p in got.problems)  # fmt: skip
    finally:
        remote.close()


def test_the_sequence_check_reads_the_rows_above_the_cursor_not_all(two: Two):
    """2,000 rows in the agency: the check at a cursor 10 below the counter, and the legacy
    check's small cursor, each read a few rows of the partition (its statistics, in the
    reading transaction), where layout 1 counted all 2,000."""
    dept = two.dept
    plant(dept, "fieldlog_changes", list(range(1, 2001)))
    dept.owner("UPDATE fieldlog.counters SET seq = 2000 WHERE agency = 'default'")
    part = D.partition_name("fieldlog_changes", "default")
    with psycopg.connect(two.urls["dana"]) as conn:
        for cursor, expected in ((1990, ("2000", 1990, 0)), (5, ("2000", 5, 0))):
            with conn.transaction():
                got = conn.execute("SELECT counter, below, beyond FROM fieldlog.seq_report(%s)",
                                   [cursor]).fetchone()  # fmt: skip
                assert got == expected
                read = conn.execute(  # index entries the partition's indexes returned
                    "SELECT sum(pg_stat_get_xact_tuples_returned(indexrelid)) FROM pg_index "
                    "WHERE indrelid = %s::regclass",
                    [f"fieldlog.{part}"],
                ).fetchone()[0]
                seq_read = conn.execute(
                    "SELECT coalesce(sum(seq_tup_read), 0) FROM pg_stat_xact_user_tables "
                    "WHERE relname = %s", [part]).fetchone()[0]  # fmt: skip
                assert seq_read == 0 and read <= 30, (cursor, read)


# ---------------------------------------------------------------------- the pull's access path
def _nodes(plan: dict) -> list[dict]:
    out = [plan]
    for kid in plan.get("Plans", []):
        out += _nodes(kid)
    return out


def test_a_pull_reads_what_it_returns_and_exactly_what_the_policy_allows(two: Two):
    """As an officer of unit East, with 2,000 rows of unit West above the cursor and a few the
    policy lets through (an organization, East's, her own pushes, a supervisor's review of her
    contact, a change of a record of hers from another unit): the pull returns exactly what
    the policy lets her SELECT, and no plan node reads more than 100 rows."""
    dept = two.dept
    add_contact(two.laptops["dana"], "mine")
    two.sync("dana")
    (cursor,) = dept.owner("SELECT seq FROM fieldlog.counters WHERE agency = 'default'")[0]
    mine = dept.owner("SELECT row_id FROM fieldlog.fieldlog_changes WHERE tbl = 'contacts' "
                      "AND pushed_by = 'fl_dana_ruiz'")[0][0]  # fmt: skip
    plant_sql = (
        "INSERT INTO fieldlog.fieldlog_changes (seq, origin, origin_seq, tbl, row_id, hlc, body, "
        "unit) SELECT s, 'dev-w', s, %s, md5(s::text), 'h', '{}', %s FROM unnest(%s::bigint[]) s"
    )
    west = list(range(cursor + 1, cursor + 2001))
    dept.owner(plant_sql, ["contacts", "West", west])
    n = cursor + 2000
    special = {  # seq -> what lets Dana read it
        n + 1: "organization", n + 2: "East's", n + 3: "East's",
        n + 4: "her own push", n + 5: "a review of her contact", n + 6: "her record",
    }  # fmt: skip
    dept.owner(plant_sql, ["organizations", "West", [n + 1]])
    dept.owner(plant_sql, ["contacts", "East", [n + 2, n + 3]])
    dept.owner(plant_sql, ["contacts", "West", [n + 4, n + 6, n + 7]])
    dept.server.execute(dept.url, "SET session_replication_role = replica; "
                        "UPDATE fieldlog.fieldlog_changes SET pushed_by = 'fl_dana_ruiz' "
                        f"WHERE seq = {n + 4}")  # fmt: skip
    # A supervisor of West reviews Dana's contact: the trigger finds the record's unit.
    dept.owner(plant_sql.replace("md5(s::text)", "%s"),
               ["contacts", mine, "West", [n + 5]])  # fmt: skip
    dept.server.execute(dept.url, "SET session_replication_role = replica; "
                        "UPDATE fieldlog.fieldlog_changes SET record_unit = 'West', "
                        f"record_officer = 'Dana Ruiz' WHERE seq = {n + 6}")  # fmt: skip
    dept.owner("UPDATE fieldlog.counters SET seq = %s WHERE agency = 'default'", [n + 7])
    rec = dept.owner("SELECT record_unit, record_officer FROM fieldlog.fieldlog_changes "
                     "WHERE seq = %s", [n + 5])  # fmt: skip
    assert rec == [("East", "Dana Ruiz")]

    dana = two.urls["dana"]
    allowed = [r[0] for r in rows(dana, "SELECT seq FROM fieldlog.fieldlog_changes "
                                  "WHERE seq > %s ORDER BY seq", [cursor])]  # fmt: skip
    assert allowed == sorted(special), allowed
    remote = open_remote(dana)
    try:
        assert isinstance(remote, PostgresRemote) and remote.dept
        assert [c.seq for c in remote.pull(cursor, 1000)] == allowed
        assert [c.seq for c in remote.pull(cursor, 3)] == allowed[:3]  # pages in order
        assert [c.seq for c in remote.pull(allowed[2], 3)] == allowed[3:]
    finally:
        remote.close()
    with psycopg.connect(dana, autocommit=True) as conn:
        (plan,) = conn.execute(
            "EXPLAIN (ANALYZE, FORMAT JSON) SELECT seq FROM fieldlog.pull_changes(%s, %s, %s)",
            [cursor, n + 7, 1000],
        ).fetchone()[0]
    nodes = _nodes(plan["Plan"])
    assert not any(x["Node Type"] == "Function Scan" for x in nodes), "not inlined"
    assert any(x["Node Type"] in ("Index Scan", "Index Only Scan") for x in nodes)
    for x in nodes:
        touched = x["Actual Rows"] * x["Actual Loops"] + x.get("Rows Removed by Filter", 0)
        if touched > 100:
            Path("/tmp/i13/s_plan.json").write_text(json.dumps(plan, indent=1))
        assert touched <= 100, json.dumps(x)[:400]


def test_the_owners_laptop_pulls_its_default_agency(two: Two, tmp_path: Path):
    """Numbers are per agency: the owner (no row-level security) pulls the default agency's
    changes, never another agency's under the same numbers."""
    add_contact(two.laptops["dana"], "default's")
    two.sync("dana")
    add_contact(two.laptops["nora"], "north's")
    two.sync("nora")
    remote = open_remote(two.dept.url)
    try:
        got = remote.pull(0, 1000)
        assert {c.origin for c in got} <= {
            r[0] for r in two.dept.owner(
                "SELECT origin FROM fieldlog.fieldlog_changes WHERE agency = 'default'")
        }  # fmt: skip
        assert [c.seq for c in got] == list(range(1, counters(two.dept)["default"][0] + 1))
    finally:
        remote.close()


# ---------------------------------------------------------------------- the upgrade
LAYOUT_1_POLICY = """
    CREATE OR REPLACE FUNCTION fieldlog.sees_record(p_agency text, p_tbl text, p_id text,
        p_unit text, p_officer text) RETURNS boolean LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, fieldlog AS $$ BEGIN
        RETURN EXISTS (SELECT 1 FROM fieldlog.state s WHERE s.agency = p_agency AND s.tbl = p_tbl
            AND s.id = p_id AND (s.unit IS NOT DISTINCT FROM p_unit OR s.officer = p_officer));
    END $$;
    CREATE POLICY fieldlog_select ON fieldlog.fieldlog_changes FOR SELECT
        TO fieldlog_officer, fieldlog_supervisor USING (
        (SELECT fieldlog.my_role()) IN ('officer', 'supervisor')
        AND agency = (SELECT fieldlog.my_agency()) AND (tbl = 'organizations'
        OR (SELECT fieldlog.my_unit()) IS NULL
        OR unit IS NOT DISTINCT FROM (SELECT fieldlog.my_unit())
        OR pushed_by = current_user
        OR fieldlog.sees_record(agency, tbl, row_id, (SELECT fieldlog.my_unit()),
                                (SELECT fieldlog.my_officer()))))
"""


def to_layout_1(dept: Dept) -> int:
    """Undo layout 2 by hand: the store as the previous fieldlog left it (one store-wide
    counter in fieldlog_meta, no counters, no record columns, the per-row policy). Returns
    the store-wide counter (the highest number any agency handed out)."""
    (top,) = dept.owner("SELECT max(seq) FROM fieldlog.counters")[0]
    parts = [r[0] for r in dept.owner(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = 'fieldlog.fieldlog_changes'::regclass")]  # fmt: skip
    sql = ["DROP POLICY fieldlog_select ON fieldlog.fieldlog_changes"]
    for table in ["fieldlog_changes", *parts]:
        for trig in ("fieldlog_count_ins", "fieldlog_count_del", "fieldlog_count_upd",
                     "fieldlog_count_truncate"):  # fmt: skip
            sql.append(f"DROP TRIGGER {trig} ON fieldlog.{table}")
    sql += [
        "DROP TRIGGER fieldlog_record ON fieldlog.fieldlog_changes",
        "DROP TRIGGER fieldlog_pushed_by ON fieldlog.fieldlog_changes",
        "CREATE TRIGGER fieldlog_pushed_by BEFORE INSERT OR UPDATE ON fieldlog.fieldlog_changes "
        "FOR EACH ROW EXECUTE FUNCTION fieldlog.fieldlog_pushed_by('unit')",
        "DROP FUNCTION fieldlog.fieldlog_record(), fieldlog.count_changes(), "
        "fieldlog.allocate(text, bigint[]), fieldlog.pull_changes(bigint, bigint, bigint)",
        *(f"DROP INDEX fieldlog.fieldlog_changes_{i}" for i in
          ("unit", "pushed_by", "record_unit", "record_officer", "orgs")),
        "ALTER TABLE fieldlog.fieldlog_changes DROP COLUMN record_unit, DROP COLUMN record_officer",
        "DROP TABLE fieldlog.counters",
        f"INSERT INTO fieldlog.fieldlog_meta VALUES ('seq_counter', '{top}')",
        "UPDATE fieldlog.fieldlog_meta SET value = '1' WHERE key = 'dept_layout'",
        LAYOUT_1_POLICY,
    ]  # fmt: skip
    for s in sql:
        dept.owner(s)
    return int(top)


def shape(dept: Dept) -> list[tuple]:
    """What a setup makes and keeps, to compare two runs."""
    return dept.owner(
        "SELECT 'rel', c.relname::text, c.relkind::text, coalesce(c.relacl::text, '') "
        "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'fieldlog' "
        "UNION ALL SELECT 'fn', p.proname::text, md5(p.prosrc), coalesce(p.proacl::text, '') "
        "FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
        "WHERE n.nspname = 'fieldlog' "
        "UNION ALL SELECT 'trig', t.tgname::text, t.tgrelid::regclass::text, t.tgenabled::text "
        "FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n "
        "ON n.oid = c.relnamespace WHERE n.nspname = 'fieldlog' "
        "UNION ALL SELECT 'pol', polname::text, polrelid::regclass::text, "
        "pg_get_expr(polqual, polrelid) FROM pg_policy "
        "UNION ALL SELECT 'meta', key, value, '' FROM fieldlog.fieldlog_meta "
        "UNION ALL SELECT 'counter', agency, seq::text, rows::text FROM fieldlog.counters "
        "UNION ALL SELECT 'change', agency || seq, coalesce(record_unit, '-'), "
        "coalesce(record_officer, '-') || pushed_by FROM fieldlog.fieldlog_changes "
        "ORDER BY 1, 2, 3"
    )


def test_a_layout_1_store_is_upgraded_and_its_laptops_sync_on(two: Two):
    dept = two.dept
    for who in ("dana", "nora", "sue"):
        add_contact(two.laptops[who], f"{who} before")
    for _ in range(2):  # every laptop up to date
        for who in two.laptops:
            two.sync(who)
    before = {k: content(s) for k, s in two.laptops.items()}
    changes = dept.owner("SELECT agency, seq, origin, origin_seq, pushed_by, unit "
                         "FROM fieldlog.fieldlog_changes ORDER BY 1, 2")  # fmt: skip
    top = to_layout_1(dept)
    for url in (two.urls["dana"], dept.url):
        with pytest.raises(SyncError, match="set up by an older fieldlog"):
            open_remote(url)

    report = dept_setup.setup(dept.url)
    assert report.upgraded and not report.created
    # Every number kept; each agency's counter at the store-wide one, its count exact; the
    # record columns filled from the state; the store-wide counter gone.
    assert dept.owner("SELECT agency, seq, origin, origin_seq, pushed_by, unit "
                      "FROM fieldlog.fieldlog_changes ORDER BY 1, 2") == changes  # fmt: skip
    assert counters(dept) == {a: (top, n) for a, n in true_counts(dept).items()}
    assert dept.owner("SELECT count(*) FROM fieldlog.fieldlog_changes c JOIN fieldlog.state s "
                      "ON s.agency = c.agency AND s.tbl = c.tbl AND s.id = c.row_id "
                      "WHERE c.record_unit IS DISTINCT FROM s.unit "
                      "OR c.record_officer IS DISTINCT FROM s.officer") == [(0,)]  # fmt: skip
    assert dept.owner("SELECT count(*) FROM fieldlog.fieldlog_changes "
                      "WHERE record_officer IS NULL") == [(0,)]  # fmt: skip
    assert dept.owner("SELECT value FROM fieldlog.fieldlog_meta WHERE key = 'dept_layout'") == [
        (D.DEPT_LAYOUT,)
    ]
    assert dept.owner("SELECT value FROM fieldlog.fieldlog_meta WHERE key = 'seq_counter'") == []
    assert dept.owner("SELECT to_regprocedure('fieldlog.sees_record(text, text, text, text, "
                      "text)')") == [(None,)]  # fmt: skip

    # The laptops carry on: nothing pulled again, nothing pushed twice; new changes flow.
    for who in two.laptops:
        r = two.sync(who)
        assert (r.pushed, r.pulled, r.quarantined, r.seq_problems) == (0, 0, 0, []), (who, r)
    assert {k: content(s) for k, s in two.laptops.items()} == before
    add_contact(two.laptops["dana"], "dana after")
    add_contact(two.laptops["nora"], "nora after")
    for who in ("dana", "nora", "sue", "nick"):
        r = two.sync(who)
        assert r.quarantined == 0 and r.seq_problems == [], (who, r)
    assert content(two.laptops["sue"])["contacts"].keys() >= content(
        two.laptops["dana"])["contacts"].keys()  # fmt: skip
    assert sorted(
        dept.owner("SELECT agency, seq FROM fieldlog.fieldlog_changes WHERE seq > %s", [top])
    ) == sorted(
        [  # fmt: skip
            ("default", top + 1),
            ("default", top + 2),
            (NORTH, top + 1),
            (NORTH, top + 2),
        ]
    )
    assert dept.owner("SELECT count(*) - count(DISTINCT (agency, origin, origin_seq)) "
                      "FROM fieldlog.fieldlog_changes") == [(0,)]  # fmt: skip
    assert counters(dept) == {a: (top + 2, n) for a, n in true_counts(dept).items()}

    # A second setup changes nothing.
    was = shape(dept)
    again = dept_setup.setup(dept.url)
    assert not again.changed and again.replayed == 0
    assert shape(dept) == was
