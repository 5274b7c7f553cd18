"""A login numbers no change by hand: a row an enrolled login inserts into the department
store's change log must carry the seq ``fieldlog.allocate`` handed out for its (origin,
origin_seq) in the same transaction (``fieldlog.may_push``; the numbers are kept in
``fieldlog.allocations``). Checked from the database side, as psql would do it; and the
upgrade of a layout-2 store set up before the check."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest

from fieldlog.db.remotes import dept as dept_setup
from fieldlog.db.store import Store
from tests.lib.pg import Dept
from tests.lib.sync_helpers import do_sync

pytestmark = pytest.mark.pg

# The pieces of the push check as a layout-2 store set up before the seq check holds them
# (fieldlog.allocate keeping nothing, may_push of 7 arguments and its grants and policy),
# generated from that fieldlog's dept_schema.schema_ddl() and roles.security_ddl().
BEFORE = Path(__file__).parent.parent / "fixtures" / "dept_layout2_push_ddl.json"
INSERT = (
    "INSERT INTO fieldlog.fieldlog_changes (seq, origin, origin_seq, tbl, row_id, hlc, body) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s)"
)


class Officer:
    """Dana Ruiz's laptop, registered, trusted, one contact pushed, and a change of hers the
    database accepts from her login but for its number (``change(origin_seq)``)."""

    def __init__(self, dept: Dept, tmp: Path) -> None:
        self.dept = dept
        dept.boss()
        self.url = dept.enroll("Dana Ruiz", unit="East")
        self.store = Store.open(tmp / "dana.db")
        self.store.set_officer("Dana Ruiz")
        do_sync(self.store, self.url)
        dept.trust(self.store)
        self.rid = self.store.contacts.add({"summary": "visit", "neighborhood": "Eastside"})
        assert do_sync(self.store, self.url).pushed == 1
        self.device = self.store.device_id()
        ((self.tbl, self.hlc, self.body),) = dept.owner(
            "SELECT tbl, hlc, body FROM fieldlog.fieldlog_changes WHERE row_id = %s", [self.rid]
        )

    def change(self, seq: int, origin_seq: int) -> list:
        body = json.loads(self.body)
        body["changed"] = ["summary"]
        return [seq, self.device, origin_seq, self.tbl, self.rid, self.hlc, json.dumps(body)]

    def counter(self) -> int:
        return self.dept.owner("SELECT seq FROM fieldlog.counters WHERE agency = 'default'")[0][0]

    def store_rows(self) -> tuple:
        return tuple(
            self.dept.owner(q)
            for q in (
                "SELECT seq, origin, origin_seq FROM fieldlog.fieldlog_changes ORDER BY seq",
                "SELECT seq, rows FROM fieldlog.counters ORDER BY agency",
                "SELECT vals FROM fieldlog.state ORDER BY id",
            )
        )


@pytest.fixture
def dana(dept: Dept, tmp_path: Path):
    o = Officer(dept, tmp_path)
    yield o
    o.store.close()


def refused(conn: psycopg.Connection, query: str, params: list) -> str:
    """The one-line refusal of a statement (42501), its transaction rolled back."""
    with pytest.raises(psycopg.errors.InsufficientPrivilege) as err:
        conn.execute(query, params)
    conn.rollback()
    return str(err.value)


def allocate(conn: psycopg.Connection, origin: str, wanted: list[int]) -> list[tuple[int, int]]:
    return conn.execute(
        "SELECT origin_seq, seq FROM fieldlog.allocate(%s, %s::bigint[])", [origin, wanted]
    ).fetchall()


def test_a_seq_chosen_by_hand_is_refused_for_a_login(dana: Officer):
    before, top = dana.store_rows(), dana.counter()
    with psycopg.connect(dana.url) as conn:  # psql's way: one transaction per block
        for seq in (-5, 0, top + 1, top + 1_000_000):  # under every cursor, next, far ahead
            text = refused(conn, INSERT, dana.change(seq, 500))
            assert f"has seq {seq}, a number fieldlog.allocate did not hand out" in text, text
            assert "(chosen by hand?)" in text and "refused by fieldlog.may_push" in text
        # allocated, but for another origin_seq (two swapped) or another device
        ((o1, s1), (o2, s2)) = allocate(conn, dana.device, [501, 502])
        assert "has seq" in refused(conn, INSERT, dana.change(s2, o1))
        ((_, other),) = allocate(conn, "f" * 12, [501])
        assert "has seq" in refused(conn, INSERT, dana.change(other, 501))
        # allocated in a transaction that ended (committed: the counter moved past it)
        ((_, old),) = allocate(conn, dana.device, [503])
        conn.commit()
        assert "has seq" in refused(conn, INSERT, dana.change(old, 503))
        assert dana.store_rows()[0] == before[0]  # not one row came in
        # the number allocate hands out in the same transaction: accepted and folded
        ((o, seq),) = allocate(conn, dana.device, [504])
        conn.execute(INSERT, dana.change(seq, o))
        conn.commit()
    assert dana.dept.owner(
        "SELECT seq, origin_seq FROM fieldlog.fieldlog_changes WHERE origin_seq = 504"
    ) == [(old + 1, 504)]
    # and a laptop's sync pushes and pulls as before (the committed allocation left a gap:
    # no alarm on a department store, whose gaps are other units' rows)
    dana.store.contacts.update(dana.rid, {"summary": "visit, again"})
    r = do_sync(dana.store, dana.url)
    assert (r.pushed, r.quarantined, r.seq_problems) == (1, 0, [])


def test_the_owner_numbers_rows_freely(dana: Officer):
    """The owner (``dept setup``, a repair) is not bound by row-level security."""
    top = dana.counter()
    dana.dept.owner(INSERT, dana.change(top + 1, 600))
    assert dana.dept.owner("SELECT count(*) FROM fieldlog.fieldlog_changes WHERE seq = %s",
                           [top + 1]) == [(1,)]  # fmt: skip


def test_allocations_are_kept_small_and_no_login_reads_them(dana: Officer):
    with psycopg.connect(dana.url) as conn:
        refused(conn, "SELECT * FROM fieldlog.allocations", [])
        refused(conn, "INSERT INTO fieldlog.allocations VALUES (pg_current_xact_id(), "
                "'default', 'x', 1, 9, 1)", [])  # fmt: skip
    for n in range(3):
        dana.store.contacts.add({"summary": f"more {n}"})
        do_sync(dana.store, dana.url)
    # one run a push, and only the last push's is left (the next allocate clears it)
    assert dana.dept.owner("SELECT count(*) FROM fieldlog.allocations") == [(1,)]


def to_before_the_check(dept: Dept) -> None:
    """The push check as a layout-2 store set up before the seq check holds it."""
    dept.owner("DROP POLICY fieldlog_insert ON fieldlog.fieldlog_changes")
    dept.owner("DROP FUNCTION fieldlog.may_push(text, bigint, text, text, text, text, text, "
               "bigint)")  # fmt: skip
    dept.owner("DROP TABLE fieldlog.allocations")
    with psycopg.connect(dept.url, autocommit=True) as conn:  # no parameters: the text has %
        for stmt in json.loads(BEFORE.read_text()):
            conn.execute(stmt)


def test_a_store_set_up_before_the_check_is_upgraded_by_setup(dana: Officer):
    dept = dana.dept
    to_before_the_check(dept)
    top = dana.counter()
    with psycopg.connect(dana.url) as conn:  # the hole: a number by hand got in
        conn.execute(INSERT, dana.change(top + 1000, 700))
        conn.rollback()
    dana.store.contacts.add({"summary": "on the older store"})
    assert do_sync(dana.store, dana.url).pushed == 1  # this fieldlog syncs with it as it is

    report = dept_setup.setup(dept.url)
    assert not report.created
    assert dept.owner("SELECT to_regclass('fieldlog.allocations') IS NOT NULL, "
                      "to_regprocedure('fieldlog.may_push(text, bigint, text, text, text, text, "
                      "text)') IS NULL") == [(True, True)]  # fmt: skip
    with psycopg.connect(dana.url) as conn:
        assert "has seq" in refused(conn, INSERT, dana.change(dana.counter() + 1000, 701))
    dana.store.contacts.add({"summary": "on the upgraded store"})
    r = do_sync(dana.store, dana.url)
    assert (r.pushed, r.quarantined, r.seq_problems) == (1, 0, [])
    shape = dept.owner("SELECT p.oid::regprocedure::text, md5(p.prosrc) FROM pg_proc p "
                       "JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = "
                       "'fieldlog' ORDER BY 1")  # fmt: skip
    dept_setup.setup(dept.url)  # and again: nothing changes
    assert dept.owner("SELECT p.oid::regprocedure::text, md5(p.prosrc) FROM pg_proc p "
                      "JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = "
                      "'fieldlog' ORDER BY 1") == shape  # fmt: skip


def test_numbers_stepping_over_a_planted_row_are_accepted(dana: Officer):
    """A row planted just above the counter splits a push's numbers in two runs: both hold."""
    top = dana.counter()
    dana.dept.owner(INSERT, dana.change(top + 2, 800))  # the owner plants seq top + 2
    with psycopg.connect(dana.url) as conn:
        given = allocate(conn, dana.device, [801, 802, 803])
        assert [s for _, s in given] == [top + 1, top + 3, top + 4]
        for o, s in given:
            conn.execute(INSERT, dana.change(s, o))
        conn.commit()
    assert dana.dept.owner("SELECT first_origin_seq, last_origin_seq, first_seq FROM "
                           "fieldlog.allocations ORDER BY 1") == [
        (801, 801, top + 1), (802, 803, top + 3)]  # fmt: skip


def test_a_login_cannot_run_its_own_code_with_the_owners_rights(dept: Dept, dana: Officer):
    """The push checks run with the owner's rights (SECURITY DEFINER); their search_path puts
    the caller's temporary schema last, so a login's own ``pg_temp.text`` domain (its CHECK a
    function of the login's) is never the ``text`` they declare: a push of hers runs none of
    her code as the owner."""
    conn = dept.connect(dana.url)
    conn.execute(
        """CREATE FUNCTION pg_temp.pwn(v pg_catalog.text) RETURNS pg_catalog.bool
        LANGUAGE plpgsql AS $$ BEGIN
          IF current_user::pg_catalog.text OPERATOR(pg_catalog.<>) session_user::pg_catalog.text
          THEN UPDATE fieldlog.people SET role = 'supervisor', unit = NULL
               WHERE login OPERATOR(pg_catalog.=) session_user::pg_catalog.text;
          END IF;
          RETURN true; END $$"""
    )
    conn.execute("CREATE DOMAIN pg_temp.text AS pg_catalog.text CHECK (pg_temp.pwn(VALUE))")
    conn.execute("BEGIN")
    ((_, seq),) = conn.execute(
        "SELECT * FROM fieldlog.allocate(%s, '{950}')", [dana.device]
    ).fetchall()
    conn.execute(INSERT, dana.change(seq, 950))
    conn.execute("COMMIT")
    conn.close()
    role = dept.owner("SELECT role, unit FROM fieldlog.people WHERE officer = 'Dana Ruiz'")
    assert role == [("officer", "East")]


def test_a_login_of_another_store_numbers_no_change(dept: Dept, pg_server, dana: Officer):
    """The groups are cluster-wide: an officer enrolled only in another department store
    (another database of the same server) is a member of fieldlog_officer here too, but has no
    row of this store's people, and allocate refuses her; the counter does not move."""
    from tests.lib.pg import make_dept

    other = make_dept(pg_server, pg_server.fresh_database())
    try:
        olga = other.enroll("Olga Stranger")
        theirs = psycopg.conninfo.conninfo_to_dict(olga)
        here = psycopg.conninfo.make_conninfo(
            dept.url, user=theirs["user"], password=theirs["password"]
        )
        before = dana.counter()
        conn = psycopg.connect(here, autocommit=True)
        try:
            line = refused(conn, "SELECT * FROM fieldlog.allocate('x', '{1,2,3}')", [])
        finally:
            conn.close()
        assert "not enrolled" in line
        assert dana.counter() == before
    finally:
        other.close()
