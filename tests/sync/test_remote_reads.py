"""Department-wide reads and review against the department store (``--remote NAME``), on a
real PostgreSQL server set up with ``fieldlog dept setup``.

- ``report --remote`` prints exactly what ``report`` prints on a laptop holding every record,
  in every format; ``export TABLE --remote`` writes the same CSV;
- what a login reads is what row-level security shows it: an officer of unit A never sees a
  contact of unit B, in an export or the review list;
- ``review list/approve/return --remote``: a supervisor's review reaches the store, and the
  officer's laptop pulls it;
- a file remote, or a store without the department layout, is one line naming
  ``fieldlog dept setup``; the throwaway log leaves nothing behind.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from fieldlog import remote_review
from fieldlog.db.remotes import dept, roles
from fieldlog.db.remotes.snapshot import open_dept, snapshot
from fieldlog.db.remotes.types import SyncError
from fieldlog.db.store import Store
from fieldlog.errors import ValidationError
from tests.lib.sync_helpers import do_sync, enroll

if TYPE_CHECKING:
    from tests.lib.pg import PgServer

AGENCY = "Metro PD"
TABLES = ("contacts", "concerns", "referrals", "organizations", "flat")


# ---------------------------------------------------------------------- helpers
def setup_store(pg_server: PgServer, url: str) -> str:
    """``fieldlog dept setup URL --agency`` run by the database's owner (who may create the
    department's group roles)."""
    with pg_server.admin_connect("postgres") as conn:
        conn.execute("ALTER ROLE fieldlog_test CREATEROLE")
    dept.setup(url, AGENCY)
    return url


def login(pg_server: PgServer, url: str, officer: str, role: str, unit: str | None) -> str:
    """An enrolled login (``fieldlog dept enroll``) and the URL its laptop syncs with."""
    password = "pw-" + os.urandom(6).hex()
    name = roles.login_for(officer) + "_" + os.urandom(3).hex()
    with dept.open_admin(url) as conn:
        roles.enroll(
            conn, officer=officer, role=role, unit=unit, agency=AGENCY, login=name,
            password=password,
        )  # fmt: skip
    dbname = url.rsplit("/", 1)[1].split("?", 1)[0]
    return pg_server.url(dbname, user=name, password=password)


def laptop(tmp: Path, name: str, officer: str) -> Store:
    s = Store.open(tmp / f"{name}.db")
    s.set_officer(officer)
    return s


def fill(a: Store, b: Store) -> dict[str, str]:
    """Two laptops' records: contacts with concerns and referrals, an organization, an edit,
    a deleted contact, tags and a note; returns some ids."""
    org = a.orgs.add(name="Parks Dept", services=["youth"])
    c1 = a.contacts.add(
        {"summary": "Met the pastor", "neighborhood": "Eastside", "tags": ["faith", "youth"],
         "person_name": "Ana Diaz", "notes": "Asked about the court lights"},
        concerns=[{"category": "youth", "description": "no lit court"}],
        referrals=[{"agency": "Parks Dept", "reason": "lights"}],
    )  # fmt: skip
    c2 = a.contacts.add({"summary": "Corner store owner", "neighborhood": "EASTSIDE"})
    c3 = b.contacts.add(
        {"summary": "Bus stop check", "neighborhood": "Northgate", "kind": "business"},
        concerns=[{"category": "noise", "description": "late music"}],
    )
    gone = b.contacts.add({"summary": "Entered by mistake", "neighborhood": "Northgate"})
    b.contacts.delete(gone)
    a.contacts.update(c2, {"summary": "Corner store owner, night shift"})
    return {"org": org, "c1": c1, "c2": c2, "c3": c3, "gone": gone}


def everything(url: str, a: Store, b: Store) -> None:
    """Both laptops synced until each holds every record."""
    for s in (a, b, a):
        do_sync(s, url)


def rows_of(text: str) -> tuple[list[str], list[list[str]]]:
    """A CSV's header and its rows, sorted (the order a log holds rows in is its own)."""
    got = list(csv.reader(io.StringIO(text)))
    return got[0], sorted(got[1:])


@pytest.fixture
def two_laptops(tmp_path, pg_server, pg_url):
    """A department store holding two enrolled laptops' records, both in sync."""
    url = setup_store(pg_server, pg_url)
    a = laptop(tmp_path, "a", "Dana Ruiz")
    b = laptop(tmp_path, "b", "Sam Lee")
    enroll(url, a, b)
    made = fill(a, b)
    everything(url, a, b)
    yield url, a, b, made
    a.close()
    b.close()


# ---------------------------------------------------------------------- report and export
@pytest.mark.parametrize("fmt", ["table", "csv", "md", "json"])
def test_report_remote_prints_what_a_laptop_holding_everything_prints(two_laptops, cli, fmt):
    url, a, _b, _made = two_laptops
    args = ["--json"] if fmt == "json" else ["--format", fmt]
    for by in ("hood", "officer"):
        local = cli("--db", str(a.path), "report", "--by", by, *args).stdout
        remote = cli("report", "--remote", url, "--by", by, *args).stdout
        assert remote == local
    assert "Dana Ruiz" in remote and "Sam Lee" in remote


def test_report_remote_by_saved_name_and_counts(two_laptops, cli):
    url, a, _b, _made = two_laptops
    a.sync.add_remote("dept", url)
    data = json.loads(cli("--db", str(a.path), "report", "--remote", "dept", "--json").stdout)
    assert data["totals"]["contacts"] == 3  # the deleted one is not counted
    assert data == json.loads(cli("--db", str(a.path), "report", "--json").stdout)


@pytest.mark.parametrize("table", TABLES)
def test_export_remote_writes_what_the_local_export_writes(two_laptops, cli, table):
    url, a, _b, _made = two_laptops
    local = cli("--db", str(a.path), "export", table).stdout
    remote = cli("export", table, "--remote", url).stdout
    assert remote == local  # the same bytes, in the same order
    assert len(rows_of(remote)[1]) >= 1


def test_export_remote_options_and_all(two_laptops, cli, tmp_path):
    url, a, _b, _made = two_laptops
    for opts in (["--hood", "eastside"], ["--officer", "Sam Lee"], ["--excel"], ["--redact"]):
        local = cli("--db", str(a.path), "export", "contacts", *opts).stdout
        remote = cli("export", "contacts", "--remote", url, *opts).stdout
        if "--redact" in opts:  # pseudonyms have a new key per export: compare the shape
            assert len(remote.splitlines()) == len(local.splitlines())
            assert "Ana Diaz" not in remote
        else:
            assert rows_of(remote) == rows_of(local)
    mine, theirs = tmp_path / "mine", tmp_path / "theirs"
    cli("--db", str(a.path), "export", "all", "--out", str(mine))
    got = cli.json("export", "all", "--remote", url, "--out", str(theirs))
    assert sum(got["rows"].values()) > 0
    for f in sorted(mine.iterdir()):
        assert rows_of((theirs / f.name).read_text()) == rows_of(f.read_text()), f.name


def test_the_snapshot_is_removed_and_holds_tombstones(two_laptops, monkeypatch, tmp_path):
    url, a, _b, made = two_laptops
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    seen: list[tuple[int, int]] = []
    with snapshot(url, Store.open, progress=lambda d, t: seen.append((d, t))) as log:
        folder = Path(log.path).parent
        assert oct(folder.stat().st_mode & 0o777) == "0o700"
        gone = log.query("SELECT deleted FROM contacts WHERE id = ?", [made["gone"]])
        assert gone == [{"deleted": True}]
        assert log.conn.execute("SELECT count(*) FROM changes").fetchone()[0] == 0  # no outbox
        assert log.sync.quarantined_count() == 0
    assert not folder.exists() and list(tmp.iterdir()) == []
    assert seen[-1][0] == seen[-1][1] > 0


def test_an_encrypted_laptop_gets_an_encrypted_snapshot(two_laptops):
    url, *_ = two_laptops
    with snapshot(url, Store.open, encrypted=True) as log:
        assert log.encrypted
        assert Path(log.path).read_bytes()[:16] != b"SQLite format 3\x00"
        assert log.scalar("SELECT count(*) FROM contacts") == 4


def test_a_file_remote_or_a_plain_store_is_one_line(cli, tmp_path, pg_url):
    r = cli("report", "--remote", str(tmp_path / "dept.fieldlog"), code=1)
    assert "fieldlog dept setup" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    s = laptop(tmp_path, "p", "Pat Kim")
    s.contacts.add({"summary": "On a plain store"})
    do_sync(s, pg_url)  # the change-log tables only: no department layout
    r = cli("export", "contacts", "--remote", pg_url, code=1)
    assert "fieldlog dept setup" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert "Traceback" not in r.stderr
    s.close()


# ---------------------------------------------------------------------- visibility
@pytest.fixture
def units(tmp_path, pg_server, pg_url):
    """A store with a supervisor and an officer of unit A and an officer of unit B, each on
    a laptop syncing with their own login; the supervisor founded the trust list and
    trusted both officers' devices."""
    url = setup_store(pg_server, pg_url)
    sup_url = login(pg_server, url, "Lee Park", "supervisor", "A")
    a_url = login(pg_server, url, "Dana Ruiz", "officer", "A")
    b_url = login(pg_server, url, "Sam Lee", "officer", "B")
    sup = laptop(tmp_path, "sup", "Lee Park")
    a = laptop(tmp_path, "a", "Dana Ruiz")
    b = laptop(tmp_path, "b", "Sam Lee")
    do_sync(sup, sup_url)  # founds the trust list: a supervisor
    do_sync(a, a_url)
    do_sync(b, b_url)
    enroll(sup_url, sup, a)
    enroll(sup_url, sup, b)  # trusted through the supervisor's login (within the agency)
    yield {"sup": (sup, sup_url), "a": (a, a_url), "b": (b, b_url), "owner": url}
    for s in (sup, a, b):
        s.close()


def test_an_officer_of_unit_a_never_sees_unit_b(units, cli):
    a, a_url = units["a"]
    b, b_url = units["b"]
    mine = a.contacts.add({"summary": "Unit A contact", "neighborhood": "Eastside"})
    theirs = b.contacts.add({"summary": "Unit B contact", "neighborhood": "Northgate"})
    do_sync(a, a_url)
    do_sync(b, b_url)
    out = cli("export", "contacts", "--remote", a_url).stdout
    assert mine in out and theirs not in out
    report = json.loads(cli("report", "--remote", a_url, "--json").stdout)
    assert report["totals"]["contacts"] == 1
    listed = [r["id"] for r in remote_review.list_remote(a_url, None, None)]
    assert listed == [mine]
    everyone = cli("export", "contacts", "--remote", units["owner"]).stdout
    assert mine in everyone and theirs in everyone  # the owner's login sees the whole store


def test_an_analyst_login_is_refused_in_one_line(pg_server, pg_url, cli):
    """An analyst reads the redacted views only: the store refuses the records themselves."""
    url = setup_store(pg_server, pg_url)
    analyst = login(pg_server, url, "Ari Stone", "analyst", None)
    for args in (["report"], ["export", "contacts"]):
        r = cli(*args, "--remote", analyst, code=1)
        err = r.stderr.strip()
        assert "refused" in err and len(err.splitlines()) == 1 and "Traceback" not in err
        assert "pw-" not in err  # never the password


# ---------------------------------------------------------------------- review
def test_review_against_the_store_reaches_the_officer(units):
    sup, sup_url = units["sup"]
    a, a_url = units["a"]
    cid = a.contacts.add({"summary": "Needs a look", "neighborhood": "Eastside"})
    other = a.contacts.add({"summary": "Also new", "neighborhood": "Eastside"})
    do_sync(a, a_url)

    waiting = remote_review.list_remote(sup_url, "submitted", None)
    assert {r["id"] for r in waiting} == {cid, other}
    row = next(r for r in waiting if r["id"] == cid)
    assert row["officer"] == "Dana Ruiz" and row["review_status"] == "submitted"
    assert set(row) >= {"id", "occurred_at", "summary", "neighborhood", "review_comment",
                        "reviewed_by", "reviewed_at", "short_id"}  # fmt: skip
    assert remote_review.list_remote(sup_url, "approved", "dana ruiz") == []

    assert remote_review.approve_remote(sup, sup_url, [row["short_id"]]) == 1
    approved = remote_review.list_remote(sup_url, "approved", None)
    assert [(r["id"], r["reviewed_by"]) for r in approved] == [(cid, "Lee Park")]
    assert sup.contacts.get(cid)["review_status"] == "approved"  # in the supervisor's log too

    do_sync(a, a_url)
    assert a.contacts.get(cid)["review_status"] == "approved"
    assert a.contacts.get(cid)["reviewed_by"] == "Lee Park"

    assert remote_review.return_remote(sup, sup_url, other, "Add the address") == 1
    do_sync(a, a_url)
    back = a.contacts.get(other)
    assert (back["review_status"], back["review_comment"]) == ("returned", "Add the address")
    returned = remote_review.list_remote(sup_url, "returned", None)
    assert [(r["id"], r["review_comment"]) for r in returned] == [(other, "Add the address")]


def test_review_commands_with_remote(units, cli):
    """``fieldlog review list/approve/return --remote``, through the CLI."""
    sup, sup_url = units["sup"]
    a, a_url = units["a"]
    cid = a.contacts.add({"summary": "Through the CLI", "neighborhood": "Eastside"})
    do_sync(a, a_url)
    db = ["--db", str(sup.path)]
    listed = cli.json(*db, "review", "list", "--remote", sup_url)
    assert [r["id"] for r in listed] == [cid]
    cli(*db, "review", "approve", cid[:10], "--remote", sup_url)
    assert (
        cli.json(*db, "review", "list", "--status", "approved", "--remote", sup_url)[0]["id"] == cid
    )
    cli(*db, "review", "return", cid, "--comment", "Name the street", "--remote", sup_url)
    do_sync(a, a_url)
    assert a.contacts.get(cid)["review_comment"] == "Name the street"
    r = cli("--db", str(a.path), "review", "approve", cid, "--remote", a_url, code=1)
    assert "supervisor" in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_an_officer_cannot_review_against_the_store(units):
    a, a_url = units["a"]
    cid = a.contacts.add({"summary": "Mine", "neighborhood": "Eastside"})
    do_sync(a, a_url)
    pending = a.sync.pending()
    with pytest.raises(ValidationError, match="supervisor"):
        remote_review.approve_remote(a, a_url, [cid])
    assert a.contacts.get(cid)["review_status"] == "submitted"
    assert a.sync.pending() == pending  # nothing was written, nothing waits to be refused


def test_review_ids_are_checked_against_the_store(units):
    sup, sup_url = units["sup"]
    b, b_url = units["b"]
    hidden = b.contacts.add({"summary": "Unit B", "neighborhood": "Northgate"})
    do_sync(b, b_url)
    with pytest.raises(Exception, match="No contact you can see"):
        remote_review.approve_remote(sup, sup_url, [hidden])  # unit B: not the supervisor's
    with pytest.raises(ValidationError, match="too short"):
        remote_review.approve_remote(sup, sup_url, ["abc"])


def test_open_dept_refuses_a_file(tmp_path):
    with pytest.raises(SyncError, match="fieldlog dept setup"), open_dept(str(tmp_path / "x")):
        pass
