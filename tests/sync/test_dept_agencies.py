"""Several agencies in one department database (a county): the change log and the
current-state tables are partitioned by agency, and an agency never sees another's rows, from
its laptops or from the database side.

Three agencies, one enrolled officer each, each with a real laptop syncing through its own
login: each laptop ends up with exactly its agency's records, and each login reads exactly its
agency's rows in every table a person can query.
"""

from __future__ import annotations

import pytest

from fieldlog.db.store import Store
from tests.lib.pg import Dept, make_dept
from tests.lib.sync_helpers import do_sync

pytestmark = pytest.mark.pg

AGENCIES = ("Metro PD", "County Sheriff", "Campus Police")
TABLES = ("fieldlog_changes", "state", "contacts", "concerns", "organizations")


@pytest.fixture
def county(pg_server, pg_url) -> Dept:
    d = make_dept(pg_server, pg_url, AGENCIES[0])
    from fieldlog.db.remotes import dept

    for agency in AGENCIES[1:]:
        dept.setup(pg_url, agency)
    return d


def _laptop(county: Dept, tmp_path, name: str, role: str, agency: str) -> tuple[Store, str]:
    officer = f"{name} {tmp_path.name[-6:]}"
    url = county.enroll(officer, role, agency=agency)
    s = Store.open(tmp_path / f"{officer}.db")
    s.set_officer(officer)
    return s, url


def _laptops(county: Dept, tmp_path) -> dict[str, tuple[Store, str]]:
    """An officer's laptop per agency, after the agency's supervisor founded its trust list
    (the first device of an agency to sync must be a supervisor's)."""
    out = {}
    for n, agency in enumerate(AGENCIES):
        boss, boss_url = _laptop(county, tmp_path, f"Chief {n}", "supervisor", agency)
        do_sync(boss, boss_url)
        boss.close()
        out[agency] = _laptop(county, tmp_path, f"Agency Officer {n}", "officer", agency)
    return out


def test_each_agency_has_its_own_partitions(county: Dept) -> None:
    for table in ("fieldlog_changes", "state", "contacts"):
        parts = county.owner(
            "SELECT count(*) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhparent "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'fieldlog' AND c.relname = %s",
            [table],
        )
        assert parts[0][0] == len(AGENCIES), table
        kind = county.owner(
            "SELECT c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'fieldlog' AND c.relname = %s",
            [table],
        )
        assert kind == [("p",)], f"{table} is not a partitioned table"


def test_an_agency_never_sees_another_agencys_rows(county: Dept, tmp_path) -> None:
    laptops = _laptops(county, tmp_path)
    made: dict[str, str] = {}
    for agency, (s, url) in laptops.items():
        org = s.orgs.add(name=f"{agency} partner", kind="nonprofit")
        made[agency] = s.contacts.add(
            {"summary": f"Met a resident for {agency}", "neighborhood": "Eastside",
             "organization_id": org},
            concerns=[{"category": "noise", "description": f"{agency} noise"}],
        )  # fmt: skip
        do_sync(s, url)
    for _agency, (s, url) in laptops.items():  # a second round: everything is in the store
        do_sync(s, url)

    for agency, (s, url) in laptops.items():
        ids = {r[0] for r in s.conn.execute("SELECT id FROM contacts").fetchall()}
        assert ids == {made[agency]}, f"{agency}'s laptop holds another agency's contact"
        orgs = [r[0] for r in s.conn.execute("SELECT name FROM organizations").fetchall()]
        assert orgs == [f"{agency} partner"], "partners are shared within an agency only"
        with county.connect(url) as conn:
            for table in TABLES:
                seen = conn.execute(f"SELECT DISTINCT agency FROM fieldlog.{table}").fetchall()
                assert seen == [(agency,)], f"{agency}'s login reads {table} of {seen}"
            rows = conn.execute("SELECT id FROM fieldlog.contacts").fetchall()
            assert rows == [(made[agency],)]

    # The owner (the county's administrator) sees every agency, each in its own partition.
    counts = county.owner("SELECT agency, count(*) FROM fieldlog.contacts GROUP BY 1 ORDER BY 1")
    assert counts == sorted((a, 1) for a in AGENCIES)
    for s, _url in laptops.values():
        s.close()
