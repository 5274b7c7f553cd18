"""One concern or referral with its contact (what their TUI screens show), and the follow-up
counts the follow-ups title shares with the dashboard."""

from __future__ import annotations

import pytest

from fieldlog.errors import NotFoundError


def entry(store) -> tuple[str, str, str]:
    """A contact at a partner, one concern, one referral answering it."""
    oid = store.orgs.add(name="Grace Church", kind="faith")
    cid = store.contacts.add(
        {"summary": "Met Pastor Reyes", "person_name": "Reyes", "neighborhood": "Eastside",
         "organization_id": oid},
        [{"category": "youth", "description": "no lit court after 6pm"}],
    )  # fmt: skip
    kid = store.contacts.get(cid)["concerns"][0]["id"]
    rid = store.referrals.add(cid, "Parks Dept", reason="court lighting", concern=kid)
    return cid, kid, rid


def test_concern_get_has_its_contact_and_referrals(store):
    cid, kid, rid = entry(store)
    k = store.concerns.get(kid[:10])
    assert k["id"] == kid and k["short_id"] == kid[: len(k["short_id"])]
    assert k["description"] == "no lit court after 6pm"
    assert k["status"] == "referred"  # the referral answered it
    assert (k["contact_id"], k["contact_summary"], k["person_name"]) == (
        cid,
        "Met Pastor Reyes",
        "Reyes",
    )
    assert k["neighborhood"] == "Eastside" and k["contact_organization"] == "Grace Church"
    assert cid.startswith(k["contact_short_id"])
    assert [(r["id"], r["agency"]) for r in k["referrals"]] == [(rid, "Parks Dept")]
    assert rid.startswith(k["referrals"][0]["short_id"])


def test_referral_get_has_its_contact_and_concern(store):
    cid, kid, rid = entry(store)
    r = store.referrals.get(rid)
    assert (r["agency"], r["reason"], r["status"]) == ("Parks Dept", "court lighting", "made")
    assert r["contact_id"] == cid and r["contact_summary"] == "Met Pastor Reyes"
    assert cid.startswith(r["contact_short_id"])
    assert r["concern"]["id"] == kid and kid.startswith(r["concern"]["short_id"])
    lone = store.referrals.add(cid, "Food Bank")
    assert store.referrals.get(lone)["concern"] is None


def test_deleted_records_are_not_found(store):
    cid, kid, rid = entry(store)
    store.contacts.delete(cid)
    with pytest.raises(NotFoundError):
        store.concerns.get(kid)
    with pytest.raises(NotFoundError):
        store.referrals.get(rid)


def test_followup_counts_agree_with_the_dashboard_past_any_limit(store):
    cid = store.contacts.add({"summary": "Block party", "follow_up_on": "today"})
    for i in range(30):
        store.referrals.add(cid, f"Agency {i}", follow_up_on="2020-01-01")
    store.referrals.add(cid, "Done already", follow_up_on="2020-01-01", status="completed")
    store.referrals.add(cid, "Later", follow_up_on="in 3d")
    store.contacts.add({"summary": "Overdue visit", "follow_up_on": "2020-02-02"})

    counts = store.followups.counts(until="in 7d")
    figures = store.reports.dashboard()
    assert counts["overdue"] == figures["followups_overdue"] == 31
    assert counts["today"] == figures["followups_due"] == 1
    assert counts["due"] == 33 == len(store.followups.due(until="in 7d"))
    assert len(store.followups.due(until="in 7d", limit=10)) == 10
    assert store.followups.counts()["due"] == 32  # by today: overdue and due today


def test_followups_give_outcomes_only_when_asked(store):
    cid = store.contacts.add({"summary": "Block party", "follow_up_on": "2020-01-02"})
    store.referrals.add(cid, "Parks", follow_up_on="2020-01-01", status="unreachable")
    rid = store.followups.due()[0]["id"]
    store.referrals.update(rid, outcome="left a message")
    assert "outcome" not in store.followups.due()[0]  # `fieldlog followups --json` as before
    rows = store.followups.due(outcomes=True)
    assert [(r["type"], r["outcome"]) for r in rows] == [
        ("referral", "left a message"),
        ("contact", None),
    ]
