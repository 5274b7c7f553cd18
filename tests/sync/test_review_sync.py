"""Supervisor review across laptops (docs/review.md): the review fields sync like any field, a
change from an older fieldlog (no review fields) still applies and leaves the review alone, and
a store at sync schema 1 is upgraded in place while a newer one is refused."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from fieldlog import dates, pulled, review
from fieldlog.db.remotes import types
from fieldlog.db.remotes.factory import open_remote
from fieldlog.db.store import Store
from tests.lib.plant import body_of, plant, signed, stamp
from tests.lib.sync_helpers import content, do_sync, enroll

REVIEW_FIELDS = ("review_status", "review_comment", "reviewed_by", "reviewed_at")


@pytest.fixture
def laptops(tmp_path):
    """A supervisor's laptop (founds the store) and an officer's, both enrolled."""
    boss = Store.open(tmp_path / "boss.db")
    officer = Store.open(tmp_path / "officer.db")
    boss.set_officer("Sgt Ruiz")
    officer.set_officer("Ofc Lee")
    yield boss, officer
    boss.close()
    officer.close()


def state(store: Store, cid: str) -> dict:
    c = store.contacts.get(cid)
    return {k: c[k] for k in ("summary", "notes", *REVIEW_FIELDS)}


def now() -> str:
    return dates.to_storage(dates.now())


def test_review_round_trip_between_an_officer_and_a_supervisor(laptops, remote_url, tmp_path, cli):
    boss, officer = laptops
    enroll(remote_url, boss, officer)
    cid = officer.contacts.add({"summary": "Met the pastor", "neighborhood": "Eastside"})
    do_sync(officer, remote_url)
    do_sync(boss, remote_url)
    assert review.may_review(boss) is None
    assert review.may_review(officer) == review.NOT_SUPERVISOR
    assert state(boss, cid)["review_status"] == "submitted"

    # the supervisor returns it with a comment; the officer sees it after both sync
    boss.contacts.review(cid, review.return_values(boss.officer(), "Which church?", now()))
    do_sync(boss, remote_url)
    do_sync(officer, remote_url)
    got = state(officer, cid)
    assert (got["review_status"], got["review_comment"]) == ("returned", "Which church?")
    assert got["reviewed_by"] == "Sgt Ruiz"
    assert [r["id"] for r in officer.contacts.returned()] == [cid]
    out = cli("--db", str(officer.path), "followups").stdout
    assert "Returned to you by a supervisor" in out and "Which church?" in out

    # the officer fixes it: submitted again, the comment kept for the supervisor
    officer.contacts.update(cid, {"notes": "St Mark's on 5th"})
    assert state(officer, cid)["review_status"] == "submitted"
    do_sync(officer, remote_url)
    do_sync(boss, remote_url)
    assert [r["id"] for r in boss.contacts.reviews(status="submitted")] == [cid]
    assert state(boss, cid)["review_comment"] == "Which church?"

    # approved; both converge
    boss.contacts.review(cid, review.approve_values(boss.officer(), now()))
    do_sync(boss, remote_url)
    do_sync(officer, remote_url)
    assert state(officer, cid)["review_status"] == "approved"
    assert officer.contacts.returned() == []
    assert content(officer) == content(boss)
    assert not officer.sync.held_list() and not boss.sync.held_list()
    for s in (boss, officer):
        assert cli("--db", str(s.path), "verify").stdout.startswith("OK: ")


def test_a_change_from_an_older_fieldlog_applies_and_leaves_the_review(
    laptops, remote_url, tmp_path
):
    boss, officer = laptops
    old = Store.open(tmp_path / "old.db")  # a laptop still running the fieldlog before review
    old.set_officer("Ofc Lee")
    try:
        enroll(remote_url, boss, officer, old)
        cid = officer.contacts.add({"summary": "Met the pastor"})
        do_sync(officer, remote_url)
        do_sync(boss, remote_url)
        boss.contacts.review(cid, review.return_values("Sgt Ruiz", "Which church?", now()))
        do_sync(boss, remote_url)
        do_sync(officer, remote_url)

        # an edit of the summary as the older fieldlog pushes it: no review field at all
        body = body_of(officer, "contacts", cid)
        for name in REVIEW_FIELDS:
            body["values"].pop(name)
            body["clocks"].pop(name, None)
        hlc = stamp(old.device_id(), 1000)
        body["values"]["summary"] = "Met the pastor of St Mark's"
        body["clocks"]["summary"] = hlc
        body["changed"] = ["summary"]
        checked = pulled.check_body("contacts", body)
        assert not set(REVIEW_FIELDS) & set(checked.fields)
        row = signed(old, remote_url, tbl="contacts", row_id=cid, hlc=hlc, body=body,
                     origin_seq=1)  # fmt: skip
        plant(remote_url, [row])
        for s in (officer, boss):
            do_sync(s, remote_url)
            assert not s.sync.held_list()
            got = state(s, cid)
            assert got["summary"] == "Met the pastor of St Mark's"
            assert (got["review_status"], got["review_comment"]) == ("returned", "Which church?")
        assert content(officer) == content(boss)

        # a new contact from the older fieldlog arrives submitted
        new_id = "0" * 31 + "1"
        body = body_of(officer, "contacts", cid)
        for name in REVIEW_FIELDS:
            body["values"].pop(name)
        hlc = stamp(old.device_id(), 2000)
        body["values"]["summary"] = "Walked the block"
        body["clocks"], body["changed"] = {"*": hlc}, ["*"]
        plant(remote_url, [signed(old, remote_url, tbl="contacts", row_id=new_id, hlc=hlc,
                                  body=body, origin_seq=2)])  # fmt: skip
        do_sync(officer, remote_url)
        assert state(officer, new_id)["review_status"] == "submitted"
    finally:
        old.close()


def test_a_body_missing_only_some_review_fields_is_refused():
    store_body = {
        "officer": "Ofc Lee", "origin": "abcdef123456", "created_at": "2026-11-24T20:30:00.000Z",
        "updated_at": "2026-11-24T20:30:00.000Z", "changed": ["*"],
        "clocks": {"*": "1795000000000-00000-abcdef123456"},
        "values": {"occurred_at": "2026-11-24T20:30:00Z", "kind": "resident",
                   "person_name": None, "organization_id": None, "neighborhood": None,
                   "beat": None, "location": None, "summary": "Hello", "notes": None,
                   "tags": "[]", "follow_up_on": None, "deleted": 0},
    }  # fmt: skip
    assert "review_status" not in pulled.check_body("contacts", store_body).fields
    store_body["values"]["review_status"] = "approved"
    with pytest.raises(pulled.Invalid, match="review_comment is missing"):
        pulled.check_body("contacts", store_body)
    store_body["values"].update(review_comment=None, reviewed_by="Sgt Ruiz", reviewed_at="x")
    with pytest.raises(pulled.Invalid, match="reviewed_at"):
        pulled.check_body("contacts", store_body)
    store_body["values"]["reviewed_at"] = "2026-11-24T20:30:00Z"
    assert pulled.check_body("contacts", store_body).fields["review_status"][0] == "approved"
    store_body["values"]["review_status"] = "bogus"
    with pytest.raises(pulled.Invalid, match="review status"):
        pulled.check_body("contacts", store_body)
    assert pulled.ADDED_FIELDS == {"contacts": REVIEW_FIELDS}


def _set_schema(url: str, value: str) -> None:
    con = sqlite3.connect(url)
    con.execute("UPDATE fieldlog_meta SET value = ? WHERE key = 'sync_schema'", [value])
    con.commit()
    con.close()


def _schema(url: str) -> str:
    con = sqlite3.connect(url)
    try:
        row = con.execute("SELECT value FROM fieldlog_meta WHERE key = 'sync_schema'").fetchone()
        return str(row[0])
    finally:
        con.close()


def test_a_store_at_sync_schema_1_is_upgraded_and_a_newer_one_refused(laptops, remote_url, cli):
    boss, officer = laptops
    now, newer = types.SYNC_SCHEMA, str(types.SYNC_SCHEMA + 1)
    assert now == 3  # 2: the review fields; 3: the problem tables
    enroll(remote_url, boss, officer)
    cid = officer.contacts.add({"summary": "Met the pastor"})
    do_sync(officer, remote_url)
    assert _schema(remote_url) == str(now)  # a new store is made at this schema

    meta = {"kind": types.REMOTE_KIND, "store_id": "s", "sync_schema": "1"}
    assert types.needs_schema_upgrade(meta)
    assert types.needs_schema_upgrade({**meta, "sync_schema": "2"})
    assert not types.needs_schema_upgrade({**meta, "sync_schema": str(now)})
    assert not types.needs_schema_upgrade({**meta, "sync_schema": newer})
    assert not types.needs_schema_upgrade({**meta, "kind": "other"})
    for older in ("1", "2"):  # stores older fieldlogs made
        _set_schema(remote_url, older)
        open_remote(remote_url, create=False).close()
        assert _schema(remote_url) == str(now)  # upgraded on open: an older fieldlog refuses it
    do_sync(boss, remote_url)
    assert boss.contacts.get(cid)["summary"] == "Met the pastor"

    _set_schema(remote_url, newer)  # made by a newer fieldlog
    before = Path(remote_url).read_bytes()
    r = cli("--db", str(boss.path), "sync", remote_url, code=1)
    assert f"sync schema {newer}, newer than this fieldlog's ({now})" in r.stderr
    assert "upgrade fieldlog on this laptop" in r.stderr
    assert Path(remote_url).read_bytes() == before
