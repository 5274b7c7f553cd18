"""The contact-entry rule (fieldlog/entry.py): pure, no store."""

from __future__ import annotations

from fieldlog import entry


def concern(category: str = "youth", status: str = "open") -> dict:
    return {"category": category, "description": "x", "status": status}


def test_one_concern_the_referrals_answer_it():
    e = entry.link({"summary": "s"}, [concern()], [{"agency": "A"}, {"agency": "B"}])
    assert e.answered == 0
    assert e.concerns[0]["status"] == "referred"
    assert [r["service"] for r in e.referrals] == ["youth", "youth"]
    linked = e.referrals_for(["k1"])
    assert [r["concern_id"] for r in linked] == ["k1", "k1"]


def test_a_category_that_is_no_service_gives_other():
    """Issue 11: no referral is saved without a service (5 of 8 showed "(none)" in the report):
    a category with no service of its own is `other`, and the concern still becomes referred."""
    e = entry.link({}, [concern("noise")], [{"agency": "A"}])
    assert e.referrals[0]["service"] == "other" and e.concerns[0]["status"] == "referred"


def test_a_service_given_or_a_concern_named_is_kept():
    e = entry.link({}, [concern()], [{"agency": "A", "service": "food", "concern_id": "k0"}])
    assert e.referrals[0]["service"] == "food"
    assert e.referrals_for(["k1"])[0]["concern_id"] == "k0"


def test_only_an_open_concern_becomes_referred():
    assert entry.referred_status("open") == "referred"
    for status in ("in_progress", "referred", "resolved"):
        assert entry.referred_status(status) == status
        e = entry.link({}, [concern(status=status)], [{"agency": "A"}])
        assert e.concerns[0]["status"] == status


def test_no_referral_leaves_the_concern_open():
    e = entry.link({}, [concern()], [])
    assert e.concerns[0]["status"] == "open" and e.referrals_for(["k1"]) == []


def test_several_or_no_concerns_guess_nothing():
    for concerns in ([], [concern(), concern("housing")]):
        e = entry.link({}, concerns, [{"agency": "A"}])
        assert e.answered is None
        assert e.referrals[0]["service"] == "other"  # no concern to take it from
        assert all(c["status"] == "open" for c in e.concerns)
        assert "concern_id" not in e.referrals_for(["k1", "k2"][: len(concerns)])[0]


def test_the_arguments_are_not_changed():
    c, r, head = concern(), {"agency": "A"}, {"summary": "s"}
    e = entry.link(head, [c], [r])
    e.referrals_for(["k1"])
    assert c["status"] == "open" and r == {"agency": "A"} and e.contact == head
    assert e.contact is not head
