"""``fieldlog org merge A B`` (issue 14): keep A, fold B into it -- B's contacts and referrals
move to A, B's details fill A's empty ones, B is tombstoned; synced and audited."""

from __future__ import annotations

import pytest

from fieldlog import partners
from fieldlog.cli import suggest
from fieldlog.db import audit
from tests.lib.sync_helpers import content, do_sync, enroll


def two_partners(store) -> tuple[str, str]:
    keep = store.orgs.add(
        name="Parks Department", kind="other", phone="555-0100", services=["youth"],
        notes="Ask for Omar.",
    )  # fmt: skip
    fold = store.orgs.add(
        name="Parks Dept", kind="government", phone="555-0199", email="parks@city.example",
        address="1 City Hall Plaza", services=["youth", "other"], notes="Lights: call by 3pm.",
    )  # fmt: skip
    return keep, fold


def linked(store, fold: str) -> tuple[str, str]:
    cid = store.contacts.add(
        {"summary": "Walked the park with the director", "organization": fold},
        referrals=[{"agency": "Parks Dept", "reason": "court lights"}],
    )
    store.contacts.review(cid, {"review_status": "approved", "reviewed_by": "Sgt. Lee"})
    [ref] = store.contacts.get(cid)["referrals"]
    return cid, ref["id"]


def test_merge_moves_records_fills_details_and_tombstones(store):
    keep, fold = two_partners(store)
    cid, rid = linked(store, fold)
    plan = partners.merge(store, "parks department", store.records.short_id("organizations", fold))
    a = store.orgs.get(keep)
    assert a["kind"] == "government"  # "other" is no kind of its own
    assert a["phone"] == "555-0100"  # A's own value stays
    assert (a["email"], a["address"]) == ("parks@city.example", "1 City Hall Plaza")
    assert a["services"] == ["youth", "other"]
    assert a["notes"] == "Ask for Omar.\n\nParks Dept: Lights: call by 3pm."
    assert plan.dropped == {"phone": "555-0199"}
    assert store.contacts.get(cid)["organization_id"] == keep
    assert store.contacts.get(cid)["review_status"] == "approved"  # bookkeeping, not an edit
    ref = store.referrals.get(rid)
    assert (ref["organization_id"], ref["agency"]) == (keep, "Parks Department")
    assert store.scalar("SELECT deleted FROM organizations WHERE id = ?", [fold]) == 1
    assert [o["name"] for o in store.orgs.list()] == ["Parks Department"]
    assert (a["referral_count"], a["contacts_90d"]) == (1, 1)
    report = audit.verify(store.conn)
    assert report.ok, report.problems
    entries = store.query(
        "SELECT tbl, row_id FROM audit WHERE row_id IN (?, ?, ?, ?) ORDER BY seq DESC LIMIT 4",
        [keep, fold, cid, rid],
    )
    assert {(e["tbl"], e["row_id"]) for e in entries} == {
        ("organizations", keep), ("contacts", cid), ("referrals", rid), ("organizations", fold),
    }  # fmt: skip


def test_merge_refuses_one_partner_twice(store):
    keep, _ = two_partners(store)
    with pytest.raises(Exception, match="same partner"):
        partners.merge(store, keep, "Parks Department")


def test_merge_then_sync_shows_the_merged_state_on_another_laptop(pair, remote_url):
    a, b = pair
    enroll(remote_url, a, b)
    keep, fold = two_partners(a)
    cid, rid = linked(a, fold)
    do_sync(a, remote_url)
    do_sync(b, remote_url)
    assert len(b.orgs.list()) == 2
    partners.merge(a, keep, fold)
    do_sync(a, remote_url)
    do_sync(b, remote_url)
    assert content(a) == content(b)
    assert [o["name"] for o in b.orgs.list()] == ["Parks Department"]
    assert b.contacts.get(cid)["organization_id"] == keep
    assert b.referrals.get(rid)["agency"] == "Parks Department"
    assert b.orgs.get(keep)["email"] == "parks@city.example"
    for s in (a, b):
        report = audit.verify(s.conn)
        assert report.ok, report.problems


def test_merge_command(cli, store, monkeypatch):
    keep, fold = two_partners(store)
    linked(store, fold)
    r = cli("org", "merge", "Parks Department", "Parks Dept", code=1)  # a script: --yes
    assert "--yes" in r.stderr and len(cli.json("org", "list")) == 2
    monkeypatch.setattr(suggest, "can_ask", lambda: True)
    r = cli("org", "merge", "Parks Department", "Parks Dept", input="n\n", code=1)
    assert "Fold 'Parks Dept'" in r.stderr and "move 1 contact and 1 referral" in r.stderr
    assert len(cli.json("org", "list")) == 2
    r = cli("org", "merge", "Parks Department", "Parks Dept", input="y\n")
    assert "Merged Parks Dept" in r.stdout and "1 contact and 1 referral moved" in r.stdout
    assert "555-0199" in r.stderr  # B's phone, not taken, is said
    assert [o["name"] for o in cli.json("org", "list")] == ["Parks Department"]
    r = cli("org", "merge", "Parks Department", "Parks Dept", "--yes", code=1)
    assert "No partner" in r.stderr  # B is gone


def test_merge_json(cli, store):
    keep, fold = two_partners(store)
    short = store.records.short_id("organizations", keep)
    out = cli.json("org", "merge", short, "Parks Dept", "--yes")
    assert out["kept"] == {"id": keep, "name": "Parks Department"}
    assert out["merged"] == {"id": fold, "name": "Parks Dept"}
    assert (out["contacts_moved"], out["referrals_moved"]) == (0, 0)
    assert out["filled"] == ["address", "email", "kind", "notes", "services"]
    help_text = cli("org", "merge", "--help").stdout
    assert "keep A, fold B into it" in help_text
