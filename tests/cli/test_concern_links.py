"""A referral answers a concern of its own contact only (issue 11): refused on every path,
and `fieldlog verify` reports such links stored before."""

from __future__ import annotations

import json

import pytest

from fieldlog.errors import ValidationError


def _two_contacts(cli):
    a = cli.new("add", "Court lights out", "--concern", "youth:no lit court")
    b = cli.new("add", "Eviction notice", "--concern", "housing:eviction")
    ka = cli.json("show", a)["concerns"][0]
    return a, b, ka


def test_refer_refuses_a_concern_of_another_contact(cli):
    a, b, ka = _two_contacts(cli)
    out = cli("refer", b, "Legal Aid", "--concern", ka["id"], code=1)
    err = out.stderr.strip()
    assert "\n" not in err and err.startswith("Error: Concern ")
    sa, sb = cli.json("show", a)["short_id"], cli.json("show", b)["short_id"]
    assert f"contact {sa}" in err and f"contact {sb}" in err
    assert f"fieldlog show {sb}" in err  # the fix: a concern of its own contact
    assert cli.json("show", b)["referrals"] == []
    assert cli.json("show", a)["concerns"][0]["status"] == "open"  # not marked referred


def test_refer_with_its_own_concern_answers_it(cli):
    a, _b, ka = _two_contacts(cli)
    cli("refer", a, "Parks Dept", "--concern", ka["id"], "--new-agency")
    shown = cli.json("show", a)
    assert shown["concerns"][0]["status"] == "referred"
    ref = shown["referrals"][0]
    assert ref["concern_id"] == ka["id"] and ref["service"] == "youth"


def test_the_store_refuses_it_on_every_path(cli, store):
    a, b, ka = _two_contacts(cli)
    with pytest.raises(ValidationError) as err:
        store.referrals.add(b, "Legal Aid", concern=ka["id"])
    assert err.value.field == "concern"
    rid = store.referrals.add(b, "Legal Aid")
    with pytest.raises(ValidationError):
        store.referrals.update(rid, concern=ka["id"])
    assert store.records.get("referrals", rid)["concern_id"] is None


def test_referral_update_moves_and_unlinks_a_concern(cli):
    a, _b, ka = _two_contacts(cli)
    rid = cli.new("refer", a, "Parks Dept", "--new-agency")
    cli("referral", "update", rid, "--concern", ka["id"])
    assert cli.json("show", a)["referrals"][0]["concern_id"] == ka["id"]
    cli("referral", "update", rid, "--concern", "none")
    assert cli.json("show", a)["referrals"][0]["concern_id"] is None


def test_verify_reports_a_link_stored_before(cli, store):
    a, b, ka = _two_contacts(cli)
    rid = store.referrals.add(b, "Legal Aid")
    with store.write() as tx:  # as an earlier fieldlog, or a sync from one, stored it
        tx.update("referrals", rid, {"concern_id": ka["id"]})
    out = cli("verify", code=1).stdout
    assert f"Referral {rid}" in out and ka["id"] in out and a in out and b in out
    assert "--concern none" in out and "1 link to fix" in out
    assert "changed outside fieldlog" not in out  # the chain is sound: not tampering
    rep = json.loads(cli("verify", "--json", code=1).stdout)
    assert rep["problems"] == []
    [finding] = rep["findings"]
    assert finding["referral_id"] == rid and finding["concern_id"] == ka["id"]
    assert finding["contact_id"] == b and finding["concern_contact_id"] == a
    cli("referral", "update", rid, "--concern", "none")
    assert "OK:" in cli("verify").stdout


def test_import_refuses_a_referral_answering_another_contacts_concern(cli, tmp_path, db_path):
    """An exported folder edited (or made by an older fieldlog) so that a referral answers
    the concern of another contact: the import names the row and writes nothing."""
    import csv

    from fieldlog import export
    from fieldlog.db.store import Store

    a, b, ka = _two_contacts(cli)
    kb = cli.json("show", b)["concerns"][0]
    cli("refer", a, "Legal Aid", "--concern", ka["id"], "--new-agency")
    with Store.open(db_path) as s:
        export.export_all(s, tmp_path / "all")
    sheet = tmp_path / "all" / "referrals.csv"
    with sheet.open(newline="", encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    rows[0]["concern_id"] = kb["id"]  # contact b's concern, on contact a's referral
    with sheet.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    other = tmp_path / "other.db"
    r = cli("--db", str(other), "import", str(tmp_path / "all"), code=1)
    assert "raised at contact" in r.stderr and "concern_id" in r.stderr
    with Store.open(other) as s:
        assert s.contacts.count() == 0
