"""Roles and row-level security of the department store, checked from the database side:
each test connects as an enrolled login (psycopg, as psql or a BI tool would) or syncs real
laptops through their own logins, and checks what PostgreSQL lets through.

The people: a supervisor (Sue Boss, unit East) founds the trust list; Dana Ruiz (East) and
Sam Lee (West) are officers; Ann Alyst an analyst; Nora North an officer of another agency."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from pathlib import Path

import psycopg
import pytest

from fieldlog import dates, pulled, review
from fieldlog.db import devkeys
from fieldlog.db.devices import Trust
from fieldlog.db.remotes import roles
from fieldlog.db.remotes.factory import open_remote
from fieldlog.db.remotes.types import SyncError
from fieldlog.db.store import Store
from tests.lib.pg import Dept
from tests.lib.sync_helpers import content, do_sync
from tests.lib.threads import tailing

NORTH = "North County PD"


def laptop(tmp: Path, officer: str) -> Store:
    s = Store.open(tmp / f"{officer.replace(' ', '_').lower()}.db")
    s.set_officer(officer)
    return s


def join(boss: tuple[Store, str], *others: tuple[Store, str]) -> None:
    """The supervisor's laptop syncs first (it founds the trust list), every other registers
    through its own login, then the supervisor trusts them (officers), as ``dept trust``."""
    do_sync(*boss)
    for s, url in others:
        do_sync(s, url)
    remote = open_remote(boss[1])
    try:
        t = Trust(boss[0], remote, remote.store_id)
        t.prepare()
        for s, _ in others:
            key = devkeys.load(s)
            assert key is not None
            t.trust(key.device, "officer")
    finally:
        remote.close()


class Team:
    """The people of the module's text, enrolled, with laptops."""

    def __init__(self, dept: Dept, tmp: Path) -> None:
        self.dept = dept
        self.sue_url = dept.enroll("Sue Boss", "supervisor", unit="East")
        self.dana_url = dept.enroll("Dana Ruiz", unit="East")
        self.sam_url = dept.enroll("Sam Lee", unit="West")
        self.ann_url = dept.enroll("Ann Alyst", "analyst")
        self.nora_url = dept.enroll("Nora North", agency=NORTH)
        self.sue = laptop(tmp, "Sue Boss")
        self.dana = laptop(tmp, "Dana Ruiz")
        self.sam = laptop(tmp, "Sam Lee")
        self.nora = laptop(tmp, "Nora North")
        join((self.sue, self.sue_url), (self.dana, self.dana_url), (self.sam, self.sam_url))

    def close(self) -> None:
        for s in (self.sue, self.dana, self.sam, self.nora):
            s.close()


@pytest.fixture
def team(dept: Dept, tmp_path: Path):
    t = Team(dept, tmp_path)
    yield t
    t.close()


def rows(url: str, query: str, params: tuple | list = ()) -> list[tuple]:
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(query, params).fetchall()  # type: ignore[arg-type]


def refused(url: str, query: str, params: tuple | list = ()) -> str:
    """The error text of a statement PostgreSQL must refuse for that login (42501)."""
    with pytest.raises(psycopg.errors.InsufficientPrivilege) as err:
        rows(url, query, params)
    return str(err.value)


def add_contact(s: Store, summary: str, name: str = "Maria Lopez") -> str:
    return s.contacts.add(
        {"summary": summary, "neighborhood": "Eastside", "person_name": name,
         "location": "5th and Main"},
        concerns=[{"category": "youth", "description": f"{summary}: no lit court"}],
    )  # fmt: skip


def store_counts(dept: Dept) -> tuple:
    return tuple(
        dept.owner(f"SELECT count(*) FROM fieldlog.{t}")[0][0]
        for t in ("fieldlog_changes", "state", "contacts", "fieldlog_heads", "fieldlog_trust")
    ) + tuple(dept.owner("SELECT seq, rows FROM fieldlog.counters ORDER BY agency"))


def laptop_state(s: Store) -> tuple:
    outbox = s.conn.execute("SELECT seq, tbl, row_id, fields FROM changes ORDER BY seq").fetchall()
    # The cursors and what the laptop knows of the store, but the row count it last saw under
    # its cursor (an observation of the store, written by any sync's sequence check).
    cursors = {
        k: v for k, v in s.meta().items() if k.startswith("sync:") and not k.endswith(":below")
    }
    return outbox, cursors, content(s)


# ---------------------------------------------------------------------- setup and enroll
def test_security_is_idempotent_and_groups_are_nologin(dept: Dept):
    from fieldlog.db.remotes import dept as D

    D.setup(dept.url)  # again: nothing breaks, the key stays
    key = dept.owner("SELECT value FROM fieldlog.fieldlog_meta WHERE key = 'redact_key'")
    D.setup(dept.url)
    assert dept.owner("SELECT value FROM fieldlog.fieldlog_meta WHERE key = 'redact_key'") == key
    assert len(key[0][0]) == 64
    got = dept.owner(
        "SELECT rolname, rolcanlogin FROM pg_roles WHERE rolname IN ('fieldlog_officer', "
        "'fieldlog_supervisor', 'fieldlog_analyst') ORDER BY 1"
    )
    assert got == [("fieldlog_analyst", False), ("fieldlog_officer", False),
                   ("fieldlog_supervisor", False)]  # fmt: skip
    secured = dept.owner(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'fieldlog' AND c.relrowsecurity AND c.relkind IN ('r', 'p') "
        "ORDER BY 1"
    )
    assert {r[0] for r in secured} >= {"fieldlog_changes", "fieldlog_meta", "fieldlog_trust",
                                       "fieldlog_heads", "state", "contacts", "concerns",
                                       "referrals", "organizations", "people"}  # fmt: skip


def test_enroll_moves_the_login_between_groups_and_makes_the_agency(dept: Dept):
    url = dept.enroll("Dana Ruiz", unit="East")
    assert url.startswith("postgresql://fl_dana_ruiz:")

    def groups() -> list[str]:
        return [r[0] for r in dept.owner(
            "SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid "
            "JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = 'fl_dana_ruiz' ORDER BY 1"
        )]  # fmt: skip

    assert groups() == ["fieldlog_officer"]
    dept.enroll("Dana Ruiz", "supervisor", unit="East", agency=NORTH)
    assert groups() == ["fieldlog_supervisor"]
    assert dept.owner("SELECT officer, role, unit, agency FROM fieldlog.people") == [
        ("Dana Ruiz", "supervisor", "East", NORTH)
    ]
    assert rows(dept.enroll("Dana Ruiz", "supervisor"), "SELECT fieldlog.my_agency()") == [
        ("default",)
    ]  # the new password works; back in the default agency
    parts = dept.owner(
        "SELECT count(*) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhparent "
        "WHERE c.relname = 'fieldlog_changes'"
    )
    assert parts == [(2,)]  # default and North County PD


def test_enroll_refuses_the_owner_and_administrators(dept: Dept):
    from fieldlog.db.remotes import dept as D

    for login in ("fieldlog_test", "postgres", "fieldlog_officer"):
        with pytest.raises(SyncError, match="a login of their own"), D.open_admin(dept.url) as c:
            roles.enroll(c, officer="X", role="officer", login=login)
    with pytest.raises(SyncError, match="not a role"), D.open_admin(dept.url) as c:
        roles.enroll(c, officer="X", role="chief")


def test_enroll_as_a_non_owner_says_so(dept: Dept):
    from fieldlog.db.remotes import dept as D

    sue = dept.enroll("Sue Boss", "supervisor")
    with pytest.raises(SyncError, match="not the department store's owner") as err:
        with D.open_admin(sue) as conn:
            roles.enroll(conn, officer="Eve", role="supervisor")
    assert dept.passwords["fl_sue_boss"] not in str(err.value)


def test_the_views_classify_columns_as_export_redact_does():
    """The views and export --redact share fieldlog.privacy's sets."""
    from fieldlog.export import redact

    assert roles.NAME_FIELDS == redact.NAME_FIELDS
    assert roles.KEPT_FIELDS == redact.KEPT_FIELDS
    assert roles.id_fields() == redact.ID_FIELDS
    withheld = redact.BLANKED_FIELDS | redact.FREE_TEXT_FIELDS
    assert not withheld & (roles.KEPT_FIELDS | roles.id_fields() | roles.NAME_FIELDS)
    assert not withheld & set(roles.BOOKKEEPING) - {"agency"}  # a referral's agency: renamed


def test_login_for():
    assert roles.login_for("Dana Ruiz") == "fl_dana_ruiz"
    assert roles.login_for("  O'Brien-Smith, J. ") == "fl_o_brien_smith_j"
    with pytest.raises(SyncError, match="--login"):
        roles.login_for("---")


# ---------------------------------------------------------------------- officers read
def test_officer_reads_own_unit_and_every_organization_never_another_agency(team: Team):
    east = add_contact(team.dana, "east visit")
    west = add_contact(team.sam, "west visit")
    org = team.sam.orgs.add(name="Westside Shelter", kind="nonprofit")
    do_sync(team.dana, team.dana_url)
    do_sync(team.sam, team.sam_url)
    with pytest.raises(SyncError, match="would found the trust list of agency North County "
                       "PD, and login fl_nora_north is an officer"):  # fmt: skip
        do_sync(team.nora, team.nora_url)  # only a supervisor founds an agency's trust list
    north = "b" * 32
    team.dept.owner(
        "INSERT INTO fieldlog.fieldlog_changes (seq, origin, origin_seq, tbl, row_id, hlc, body,"
        " agency, unit) SELECT 1000, origin, origin_seq + 1000, tbl, %s, hlc, body, %s, 'East' "
        "FROM fieldlog.fieldlog_changes WHERE row_id = %s",
        [north, NORTH, east],
    )  # a North row of a unit East: the agency decides first
    for url in (team.dana_url, team.sue_url):
        ids = {r[0] for r in rows(url, "SELECT row_id FROM fieldlog.fieldlog_changes")}
        assert east in ids and org in ids and west not in ids and north not in ids
        state = {r[0] for r in rows(url, "SELECT id FROM fieldlog.state")}
        assert east in state and org in state and west not in state and north not in state
        assert [r[0] for r in rows(url, "SELECT id FROM fieldlog.contacts")] == [east]
        assert [r[0] for r in rows(url, "SELECT id FROM fieldlog.organizations")] == [org]
        assert len(rows(url, "SELECT id FROM fieldlog.concerns")) == 1
    sam = {r[0] for r in rows(team.sam_url, "SELECT row_id FROM fieldlog.fieldlog_changes")}
    assert west in sam and org in sam and east not in sam
    # the owner sees everything
    assert len(team.dept.owner("SELECT id FROM fieldlog.contacts")) == 3
    # and a fresh laptop of Dana's pulls only what Dana may read
    fresh = Store.open(team.dana.path.parent / "fresh.db")
    fresh.set_officer("Dana Ruiz")
    do_sync(fresh, team.dana_url)
    got = content(fresh)
    assert east in got["contacts"] and west not in got["contacts"]
    assert org in got["organizations"]
    fresh.close()


def test_another_units_pushes_raise_no_sequence_alarm(team: Team):
    """The store's sequence check counts the agency's rows whatever RLS shows the login: rows
    of another unit are neither "missing" nor "planted" for an officer who cannot read them."""
    add_contact(team.dana, "east visit")
    first = do_sync(team.dana, team.dana_url)
    for n in range(3):  # West's changes land above and below Dana's cursor between her syncs
        add_contact(team.sam, f"west visit {n}")
        do_sync(team.sam, team.sam_url)
        add_contact(team.dana, f"east visit {n}")
        got = do_sync(team.dana, team.dana_url)
        assert got.seq_problems == [], got.seq_problems
    assert first.seq_problems == []
    assert do_sync(team.dana, team.dana_url).seq_problems == []


def test_redact_key_and_people_are_the_owners(team: Team):
    assert rows(team.dana_url, "SELECT key FROM fieldlog.fieldlog_meta WHERE key = "
                "'redact_key'") == []  # fmt: skip
    assert {r[0] for r in rows(team.sue_url, "SELECT key FROM fieldlog.fieldlog_meta")} >= {
        "store_id",
        "trust_counter",
    }
    refused(team.dana_url, "SELECT * FROM fieldlog.people")
    refused(team.dana_url, "SELECT * FROM fieldlog.contacts_redacted")  # analysts' only


# ---------------------------------------------------------------------- refused pushes
def test_push_as_another_officer_is_refused_and_nothing_is_applied(team: Team, cli):
    add_contact(team.dana, "first")
    do_sync(team.dana, team.dana_url)
    do_sync(team.dana, team.dana_url)  # its cursors up to date: the next sync only pushes
    team.dana.set_officer("Sam Lee")  # Dana's laptop now claims Sam's name
    add_contact(team.dana, "as Sam")
    store_before, laptop_before = store_counts(team.dept), laptop_state(team.dana)
    with pytest.raises(SyncError) as err:
        do_sync(team.dana, team.dana_url)
    line = str(err.value)
    assert line.startswith("The department store refused this push: change ")
    assert (
        "creates a record as officer Sam Lee, but login fl_dana_ruiz is enrolled as Dana Ruiz"
        in line
    )
    assert "nothing was applied" in line and "\n" not in line
    assert team.dept.passwords["fl_dana_ruiz"] not in line
    assert store_counts(team.dept) == store_before
    assert laptop_state(team.dana) == laptop_before
    r = cli("--db", str(team.dana.path), "sync", team.dana_url, code=1)
    assert "The department store refused this push" in r.stderr
    assert "Traceback" not in r.stderr + r.stdout
    assert team.dept.passwords["fl_dana_ruiz"] not in r.stderr + r.stdout
    assert store_counts(team.dept) == store_before


def test_push_from_another_officers_device_is_refused(team: Team):
    do_sync(team.sam, team.sam_url)  # up to date with the trust list
    add_contact(team.sam, "Sam's")
    store_before, laptop_before = store_counts(team.dept), laptop_state(team.sam)
    with pytest.raises(SyncError, match="did not register with the store from login "
                       "fl_dana_ruiz"):  # fmt: skip
        do_sync(team.sam, team.dana_url)  # Sam's laptop through Dana's login
    assert store_counts(team.dept) == store_before
    assert laptop_state(team.sam) == laptop_before
    assert do_sync(team.sam, team.sam_url).pushed == 2  # through his own: fine


def test_a_device_registered_from_another_login_cannot_be_taken_over(team: Team):
    key = devkeys.load(team.sam)
    assert key is not None
    text = refused(
        team.dana_url,
        "INSERT INTO fieldlog.fieldlog_trust (id, kind, subject, record, sig, signer) VALUES "
        "(999, 'register', %s, %s, 'x', %s)",
        [key.device, json.dumps({"officer": "Dana Ruiz"}), key.device],
    )
    assert "registered from another login" in text


def test_only_a_supervisor_trusts_and_officers_register_as_themselves(team: Team):
    ins = (
        "INSERT INTO fieldlog.fieldlog_trust (id, kind, subject, record, sig, signer) VALUES "
        "(%s, %s, %s, %s, 'x', 'y')"
    )
    assert "a supervisor trusts" in refused(team.dana_url, ins, [990, "trust", "d" * 32, "{}"])
    text = refused(team.dana_url, ins, [991, "register", "e" * 32, '{"officer": "Sam Lee"}'])
    assert "registers officer Sam Lee, but login fl_dana_ruiz is enrolled as Dana Ruiz" in text
    refused(team.ann_url, ins, [992, "register", "f" * 32, '{"officer": "Ann Alyst"}'])


def raw_change(team: Team, url: str, s: Store, rid: str, values: dict, changed: list[str]):
    """Insert a contact change as the login of ``url`` straight into the store, from the
    device of laptop ``s`` (what a patched client could send): the body of the record as
    ``s`` holds it, with ``values`` over it."""
    row = team.dept.owner(
        "SELECT vals, clocks, officer, origin, created_at, updated_at FROM fieldlog.state "
        "WHERE id = %s", [rid]
    )[0]  # fmt: skip
    vals = {**row[0], **values}
    stamp = f"{pulled.now_ms():013d}-00001-{s.device_id()}"
    clocks = {**row[1], **{k: stamp for k in values}}
    body = {"values": vals, "clocks": clocks, "officer": row[2], "origin": row[3],
            "created_at": row[4], "updated_at": row[5], "changed": changed}  # fmt: skip
    top = team.dept.owner("SELECT coalesce(max(seq), 0) + 1 FROM fieldlog.fieldlog_changes")[0][0]
    with psycopg.connect(url) as conn:  # one transaction: the seq is one allocate hands out
        ((oseq, seq),) = conn.execute(
            "SELECT origin_seq, seq FROM fieldlog.allocate(%s, ARRAY[%s]::bigint[])",
            [s.device_id(), 10_000 + top],
        ).fetchall()
        conn.execute(
            "INSERT INTO fieldlog.fieldlog_changes (seq, origin, origin_seq, tbl, row_id, hlc, "
            "body) VALUES (%s, %s, %s, 'contacts', %s, %s, %s)",
            [seq, s.device_id(), oseq, rid, stamp, json.dumps(body)],
        )


def test_officer_cannot_set_review_fields_supervisor_can(team: Team):
    rid = add_contact(team.dana, "to review")
    do_sync(team.dana, team.dana_url)
    before = store_counts(team.dept)
    approved = {"review_status": "approved", "reviewed_by": "Dana Ruiz"}
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="sets review_status to "
                       "approved, and login fl_dana_ruiz is an officer"):  # fmt: skip
        raw_change(team, team.dana_url, team.dana, rid, approved, ["review_status"])
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="sets review_comment"):
        raw_change(team, team.dana_url, team.dana, rid, {"review_comment": "fine"},
                   ["review_comment"])  # fmt: skip
    assert store_counts(team.dept) == before
    # back to 'submitted' is an officer's (an edit of a returned contact does it)
    raw_change(team, team.dana_url, team.dana, rid, {"review_status": "submitted"},
               ["review_status"])  # fmt: skip
    # and through a laptop: an officer's review is refused by the store, whole
    do_sync(team.dana, team.dana_url)
    team.dana.contacts.review(rid, review.approve_values("Dana Ruiz", dates.stamp_now()))
    laptop_before = laptop_state(team.dana)
    with pytest.raises(SyncError, match="refused this push: .*sets review_status to approved"):
        do_sync(team.dana, team.dana_url)
    assert laptop_state(team.dana) == laptop_before
    # the supervisor (same unit) reads the contact and approves it through the laptop
    do_sync(team.sue, team.sue_url)
    assert rid in content(team.sue)["contacts"]
    team.sue.contacts.review(rid, review.return_values("Sue Boss", "add the address",
                                                       dates.stamp_now()))  # fmt: skip
    assert do_sync(team.sue, team.sue_url).pushed == 1
    assert team.dept.owner(
        "SELECT review_status, review_comment, reviewed_by FROM fieldlog.contacts WHERE id = %s",
        [rid],
    ) == [("returned", "add the address", "Sue Boss")]


def test_a_review_by_a_supervisor_of_no_unit_reaches_the_officer(team: Team, tmp_path):
    """The chief reads every unit and pushes with no unit; the officer still pulls the review
    of their own contact (a change is visible when its record is)."""
    rid = add_contact(team.dana, "to review")
    do_sync(team.dana, team.dana_url)
    chief_url = team.dept.enroll("Cai Chief", "supervisor")
    chief = laptop(tmp_path, "Cai Chief")
    do_sync(chief, chief_url)  # registers
    remote = open_remote(team.sue_url)
    try:
        t = Trust(team.sue, remote, remote.store_id)
        t.prepare()
        t.trust(chief.device_id(), "supervisor")
    finally:
        remote.close()
    do_sync(chief, chief_url)
    chief.contacts.review(rid, review.return_values("Cai Chief", "which court?", dates.stamp_now()))
    assert do_sync(chief, chief_url).pushed == 1
    assert team.dept.owner(
        "SELECT unit FROM fieldlog.fieldlog_changes ORDER BY seq DESC LIMIT 1"
    ) == [(None,)]
    do_sync(team.dana, team.dana_url)
    got = team.dana.contacts.get(rid)
    assert (got["review_status"], got["review_comment"]) == ("returned", "which court?")
    assert rid not in {
        r[0] for r in rows(team.sam_url, "SELECT row_id FROM fieldlog.fieldlog_changes")
    }
    chief.close()


def test_a_body_the_database_cannot_read_is_refused_for_a_login(team: Team):
    text = refused(
        team.dana_url,
        "INSERT INTO fieldlog.fieldlog_changes (seq, origin, origin_seq, tbl, row_id, hlc, body)"
        " VALUES (5000, %s, 5000, 'contacts', %s, 'x', 'not json')",
        [team.dana.device_id(), "a" * 32],
    )
    assert "is not a JSON object the database can read" in text


# ---------------------------------------------------------------------- analysts
def test_analyst_reads_only_the_redacted_views(team: Team):
    rid = add_contact(team.dana, "visit", name="  Maria   LOPEZ ")
    org = team.dana.orgs.add(name="Eastside Shelter", kind="nonprofit",
                             contact_person="Joe Brown", phone="555-0100")  # fmt: skip
    do_sync(team.dana, team.dana_url)
    for table in ("contacts", "concerns", "referrals", "organizations", "state",
                  "fieldlog_changes", "fieldlog_meta", "fieldlog_trust", "people"):  # fmt: skip
        refused(team.ann_url, f"SELECT * FROM fieldlog.{table}")
    key = bytes.fromhex(
        team.dept.owner("SELECT value FROM fieldlog.fieldlog_meta WHERE key = 'redact_key'")[0][0]
    )

    def pseudonym(name: str) -> str:
        folded = " ".join(name.split()).lower()
        return "Person-" + hmac.new(key, folded.encode(), hashlib.sha256).hexdigest()[:8]

    with psycopg.connect(team.ann_url, autocommit=True) as conn:
        cur = conn.execute("SELECT * FROM fieldlog.contacts_redacted")
        got = [dict(zip([d.name for d in cur.description], r, strict=True)) for r in cur]
        orgs = conn.execute(
            "SELECT id, name, contact_person, phone, kind FROM fieldlog.organizations_redacted"
        ).fetchall()
        concerns = conn.execute(
            "SELECT contact_id, category, description FROM fieldlog.concerns_redacted"
        ).fetchall()
    assert len(got) == 1
    c = got[0]
    assert c["id"] == rid and c["person_name"] == pseudonym("maria lopez")
    assert c["location"] is None and c["summary"] is None and c["notes"] is None
    assert c["neighborhood"] == "Eastside" and c["officer"] == "Dana Ruiz"
    assert c["occurred_at"] is not None and c["review_status"] == "submitted"
    assert orgs == [(org, None, pseudonym("Joe Brown"), None, "nonprofit")]
    assert concerns == [(rid, "youth", None)]
    # the supervisor reads them too; an analyst of no agency's rows sees nothing of another
    assert len(rows(team.sue_url, "SELECT id FROM fieldlog.contacts_redacted")) == 1
    team.dept.enroll("Ann Alyst", "analyst", agency=NORTH)
    ann = team.dept.enroll("Ann Alyst", "analyst", agency=NORTH)
    assert rows(ann, "SELECT id FROM fieldlog.contacts_redacted") == []
    # the key is out of reach: no function hands it out, meta is closed to analysts
    refused(ann, "SELECT value FROM fieldlog.fieldlog_meta")


# ---------------------------------------------------------------------- counters
def test_counter_cannot_move_backwards_as_an_officer(team: Team):
    """The trust counter (fieldlog_meta) moves forward only; the sequence counters
    (fieldlog.counters, one row per agency) only through fieldlog.allocate: an officer may
    read their own agency's row, never write one (tests/sync/test_dept_scale.py: more)."""
    add_contact(team.dana, "one")
    do_sync(team.dana, team.dana_url)
    (counter,) = team.dept.owner("SELECT seq FROM fieldlog.counters WHERE agency = 'default'")[0]
    assert counter > 0
    upd = "UPDATE fieldlog.fieldlog_meta SET value = %s WHERE key = %s"
    (trust,) = team.dept.owner(
        "SELECT value::bigint FROM fieldlog.fieldlog_meta WHERE key = 'trust_counter'"
    )[0]
    assert "may only move forward" in refused(team.dana_url, upd, ["0", "trust_counter"])
    assert "may only move forward" in refused(team.dana_url, upd, ["junk", "trust_counter"])
    with psycopg.connect(team.dana_url, autocommit=True) as conn:
        assert conn.execute(upd, ["x", "store_id"]).rowcount == 0  # not a counter: no row
        assert conn.execute(upd, ["5", "seq_counter"]).rowcount == 0  # none since layout 2
        assert conn.execute(upd, [str(trust + 5), "trust_counter"]).rowcount == 1
    team.dept.owner(upd, [str(trust), "trust_counter"])  # the owner may repair it
    refused(team.dana_url, "UPDATE fieldlog.counters SET seq = 0")
    assert rows(team.dana_url, "SELECT agency, seq FROM fieldlog.counters") == [
        ("default", counter)
    ]


# ---------------------------------------------------------------------- concurrency
def test_concurrent_officers_under_rls_get_dense_ordered_seqs(dept: Dept, tmp_path: Path):
    """The allocation under RLS: officers (each its own login, units apart) push at once
    while a supervisor of no unit tails the store; seqs are dense, in commit order, and the
    reader misses none (seq N+1 is never visible before N)."""
    n, rounds = 4, 4
    sue_url = dept.enroll("Sue Boss", "supervisor")
    urls = [dept.enroll(f"Officer {i}", unit=f"U{i % 2}") for i in range(n)]
    sue = laptop(tmp_path, "Sue Boss")
    officers = [laptop(tmp_path, f"Officer {i}") for i in range(n)]
    join((sue, sue_url), *zip(officers, urls, strict=True))
    sue.close()
    paths = [s.path for s in officers]
    for s in officers:
        s.close()
    start = dept.owner("SELECT count(*) FROM fieldlog.fieldlog_changes")[0][0]
    gate = threading.Barrier(n)
    errors: list[BaseException] = []

    def push(i: int) -> None:
        try:
            s = Store.open(paths[i])
            try:
                for r in range(rounds):
                    gate.wait()
                    add_contact(s, f"officer {i} round {r}")
                    do_sync(s, urls[i])
            finally:
                s.close()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=push, args=(i,)) for i in range(n)]
    with tailing(sue_url, 3, errors) as seen:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert errors == [], [str(e) for e in errors]
    seqs = [r[0] for r in dept.owner("SELECT seq FROM fieldlog.fieldlog_changes ORDER BY seq")]
    assert seqs == list(range(1, len(seqs) + 1)) == seen
    assert len(seqs) - start == n * rounds * 2  # a contact and its concern each
    assert dept.owner("SELECT seq, rows FROM fieldlog.counters WHERE agency = 'default'") == [
        (len(seqs), len(seqs))
    ]
    assert dept.owner("SELECT count(*) FROM fieldlog.contacts") == [(n * rounds,)]


# ---------------------------------------------------------------------- the CLI
def test_enroll_cli_prints_the_url_once_and_never_the_owners_password(dept: Dept, cli, tmp_path):
    out = cli("dept", "enroll", dept.url, "--officer", "Dana Ruiz", "--role", "officer",
              "--unit", "East", "--login", "fl_cli_dana").stdout  # fmt: skip
    assert dept.server.password not in out
    url = next(w for w in out.split() if w.startswith("postgresql://fl_cli_dana:"))
    assert rows(url, "SELECT fieldlog.my_officer(), fieldlog.my_unit(), fieldlog.my_role()") == [
        ("Dana Ruiz", "East", "officer")
    ]
    pw = tmp_path / "pw"
    pw.write_text("s3cret:/@ word\nignored\n")
    got = cli.json("dept", "enroll", dept.url, "--officer", "Dana Ruiz", "--role", "supervisor",
                   "--login", "fl_cli_dana", "--password-file", str(pw))  # fmt: skip
    assert got["created"] is False and got["role"] == "supervisor"
    assert "s3cret%3A%2F%40%20word" in got["url"]
    assert rows(got["url"], "SELECT fieldlog.my_role()") == [("supervisor",)]
    again = cli("dept", "enroll", dept.url, "--officer", "Dana Ruiz", "--role", "analyst",
                "--login", "fl_cli_dana").stdout  # fmt: skip
    assert "password is unchanged" in again and "s3cret" not in again
    r = cli("dept", "enroll", got["url"], "--officer", "Eve", "--role", "officer", code=1)
    assert "not the department store's owner" in r.stderr and "s3cret" not in r.stderr
    r = cli("dept", "enroll", dept.url, "--officer", "Eve", "--role", "boss", code=1)
    assert "not a role" in r.stderr and dept.server.password not in r.stderr
    r = cli("dept", "enroll", dept.url, "--officer", "Eve", "--role", "officer",
            "--password-file", str(tmp_path / "missing"), code=1)  # fmt: skip
    assert "Cannot read the password file" in r.stderr


def test_problems_are_typed_tables_read_by_unit_and_redacted_for_analysts(team: Team):
    """A problem, its links and log entries reach the department store's current-state
    tables (layout 3), which the supervisor of the unit queries, another unit's officer does
    not see, and an analyst reads only redacted (issue 15)."""
    cid = add_contact(team.dana, "visit")
    pid = team.dana.problems.add(
        "Court at 5th and Main (Maria Lopez)", neighborhood="Eastside", category="youth",
        coordinator="Dana Ruiz", links=[f"contact:{cid}"],
    )  # fmt: skip
    team.dana.problems.log(pid, "Called Maria Lopez")
    do_sync(team.dana, team.dana_url)
    got = rows(team.sue_url, "SELECT id, title, phase, coordinator FROM fieldlog.problems")
    assert got == [(pid, "Court at 5th and Main (Maria Lopez)", "scanning", "Dana Ruiz")]
    assert rows(team.sue_url, "SELECT contact_id FROM fieldlog.problem_links") == [(cid,)]
    assert len(rows(team.sue_url, "SELECT text FROM fieldlog.problem_entries")) == 1
    assert rows(team.sam_url, "SELECT id FROM fieldlog.problems") == []  # another unit
    refused(team.ann_url, "SELECT * FROM fieldlog.problems")
    with psycopg.connect(team.ann_url, autocommit=True) as conn:
        red = conn.execute(
            "SELECT id, title, phase, neighborhood FROM fieldlog.problems_redacted"
        ).fetchall()
        entries = conn.execute("SELECT text FROM fieldlog.problem_entries_redacted").fetchall()
    assert red == [(pid, None, "scanning", "Eastside")]
    assert entries == [(None,)]
