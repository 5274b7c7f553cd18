"""`fieldlog done ID [--outcome TEXT]`: a follow-up marked done from the command line."""

from __future__ import annotations

import json

import pytest


def _due(cli):
    return {r["id"]: r for r in cli.json("followups", "--until", "30d")}


def test_done_completes_a_referral_with_its_outcome(cli):
    cli("org", "add", "Parks Dept", "--kind", "government")
    cid = cli.new("add", "Court lights out", "--concern", "youth:no lit court")
    rid = cli.new("refer", cid, "Parks Dept")
    assert rid in _due(cli)
    short = cli.json("referral", "list")[0]["short_id"]
    out = cli("done", short, "--outcome", "Lights repaired").stdout
    assert out == f"Done: referral {short} (Parks Dept) \u2014 completed.\n"
    ref = cli.json("show", cid)["referrals"][0]
    assert ref["status"] == "completed" and ref["outcome"] == "Lights repaired"
    assert rid not in _due(cli)  # the loop is closed
    again = cli("done", short).stdout
    assert "already completed" in again
    assert cli.json("show", cid)["referrals"][0]["outcome"] == "Lights repaired"  # kept


def test_done_clears_a_contacts_follow_up(cli):
    cid = cli.new("add", "Call back Mrs Reyes", "--follow-up", "tomorrow")
    assert cid in _due(cli)
    short = cli.json("show", cid)["short_id"]
    out = cli("done", cid).stdout
    assert out.startswith(f"Done: contact {short} (Call back Mrs Reyes)")
    assert "follow-up cleared" in out
    assert cli.json("show", cid)["follow_up_on"] is None and cid not in _due(cli)
    err = cli("done", cid, code=1).stderr
    assert "has no follow-up to mark done" in err and err.count("\n") == 1


def test_done_on_a_contact_keeps_the_outcome_in_its_notes(cli):
    cid = cli.new("add", "Call back", "--follow-up", "tomorrow", "--notes", "Asked about rent")
    cli("done", cid, "--outcome", "Landlord agreed to wait")
    notes = cli.json("show", cid)["notes"]
    assert notes.startswith("Asked about rent\n\nFollow-up done ")
    assert notes.endswith(": Landlord agreed to wait")


def test_done_json(cli):
    cid = cli.new("add", "Court lights out")
    rid = cli.new("refer", cid, "Parks Dept")
    out = json.loads(cli("done", rid, "--outcome", "Fixed", "--json").stdout)
    assert out["type"] == "referral" and out["id"] == rid
    assert out["status"] == "completed" and out["outcome"] == "Fixed"
    assert out["result"] == "completed"


def test_done_refuses_a_declined_referral_and_unknown_ids(cli):
    cid = cli.new("add", "Court lights out")
    rid = cli.new("refer", cid, "Parks Dept")
    cli("referral", "update", rid, "--status", "declined")
    err = cli("done", rid, code=1).stderr
    assert "was declined" in err and "--status completed" in err
    err = cli("done", "ffffffffff", code=1).stderr
    assert "No referral or contact has an id starting with 'ffffffffff'" in err
    assert "fieldlog followups" in err


def test_an_id_shared_by_a_referral_and_its_contact(cli, store):
    """A referral typed with its contact is made in the same instant: their ids start alike,
    so the short id followups shows can fit both; the one with a follow-up left is meant."""
    cid = cli.new("add", "Court lights out", "--refer", "Parks Dept:lights")
    rid = cli.json("show", cid)["referrals"][0]["id"]
    n = next(i for i, (x, y) in enumerate(zip(cid, rid, strict=False)) if x != y)
    shared = cid[: max(n, 6)]
    if not (rid.startswith(shared) and len(shared) >= 6):
        pytest.skip("made in different milliseconds: nothing shared to test")
    cli("done", shared)
    assert cli.json("show", cid)["referrals"][0]["status"] == "completed"
    store.referrals.update(rid, status="made")
    store.contacts.update(cid, {"follow_up_on": "tomorrow"})
    err = cli("done", shared, code=1).stderr
    assert "fits referral " in err and " and contact " in err
    assert rid[: n + 1] in err and cid[: n + 1] in err
