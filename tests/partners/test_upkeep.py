"""Partnership upkeep (issue 14): each partner's last contact, contacts and referrals of the
last 90 days, open referrals and verification, in ``org list|show``, ``fieldlog partners``
and ``--cold``."""

from __future__ import annotations

import pytest

from fieldlog import models, partners

NOW = "2026-11-25T16:00:00Z"  # 10:00 in Chicago (the tests' zone)


@pytest.fixture
def now(monkeypatch):
    monkeypatch.setenv("FIELDLOG_NOW", NOW)


@pytest.fixture
def width80(monkeypatch):
    from fieldlog import render

    monkeypatch.setattr(render.console, "_width", 80)


def contact(store, org: str | None, at: str, *referrals: tuple[str, str]) -> str:
    values = {"summary": f"Met {org}", "occurred_at": at}
    if org:
        values["organization"] = org
    return store.contacts.add(
        values, referrals=[{"agency": agency, "status": status} for agency, status in referrals]
    )


@pytest.fixture
def directory(store, now):
    """Four partners: busy, quiet (last seen 100 days ago), never contacted, inactive."""
    store.orgs.add(name="Harbor Food Bank", last_verified="2026-01-10")
    store.orgs.add(name="Parks Dept", last_verified="2025-06-01")  # over a year ago
    store.orgs.add(name="Legal Aid Society")  # verified today (the default)
    store.orgs.add(name="Old Mill Club", status="inactive")
    contact(store, "Harbor Food Bank", "2026-11-20T15:00:00Z", ("Harbor Food Bank", "made"))
    contact(store, "Harbor Food Bank", "2026-10-01T15:00:00Z", ("Harbor Food Bank", "accepted"))
    contact(store, "Harbor Food Bank", "2026-06-01T15:00:00Z", ("Harbor Food Bank", "completed"))
    contact(store, "Parks Dept", "2026-08-17T15:00:00Z", ("Parks Dept", "unreachable"))
    # A referral to a partner made at a contact with someone else counts for the partner.
    contact(store, None, "2026-11-24T15:00:00Z", ("Parks Dept", "declined"))
    gone = contact(store, "Parks Dept", "2026-11-23T15:00:00Z")
    store.contacts.delete(gone)  # a deleted contact is no contact
    return store


def by_name(rows):
    return {r["name"]: r for r in rows}


def test_open_statuses_are_the_ones_not_closed():
    assert set(models.REFERRAL_OPEN_STATUSES) == {"made", "accepted", "unreachable"}
    assert set(models.REFERRAL_STATUSES) - set(models.REFERRAL_OPEN_STATUSES) == {
        "declined",
        "completed",
    }


def test_figures_of_every_partner(directory):
    rows = by_name(partners.upkeep(directory))
    harbor, parks, legal, mill = (
        rows[n] for n in ("Harbor Food Bank", "Parks Dept", "Legal Aid Society", "Old Mill Club")
    )
    assert harbor["last_contact_at"] == "2026-11-20T15:00:00Z"
    assert harbor["days_since_contact"] == 5
    assert (harbor["contacts_90d"], harbor["referrals_90d"]) == (2, 2)
    assert (harbor["open_referrals"], harbor["referral_count"]) == (2, 3)
    assert harbor["verified_within_year"] is True
    assert parks["last_contact_at"] == "2026-08-17T15:00:00Z"  # not the deleted one
    assert (parks["contacts_90d"], parks["referrals_90d"]) == (0, 1)  # Aug 17: 100 days ago
    assert (parks["open_referrals"], parks["referral_count"]) == (1, 2)
    assert parks["verified_within_year"] is False
    assert legal["last_contact_at"] is None and legal["days_since_contact"] is None
    assert (legal["contacts_90d"], legal["referrals_90d"], legal["open_referrals"]) == (0, 0, 0)
    assert legal["verified_within_year"] is True
    assert mill["status"] == "inactive"
    one = directory.orgs.get("parks dept")  # the same figures for one partner
    assert {k: one[k] for k in parks if k != "days_since_contact"} == {
        k: v for k, v in parks.items() if k != "days_since_contact"
    }


def test_the_list_is_one_query(directory):
    """One statement for the whole list, whatever the number of partners (not N+1)."""
    seen: list[str] = []
    directory.conn.set_trace_callback(seen.append)
    try:
        directory.orgs.list()
    finally:
        directory.conn.set_trace_callback(None)
    selects = [s for s in seen if s.lstrip().upper().startswith("SELECT")]
    # the list, and the short ids of its rows
    assert len([s for s in selects if "FROM organizations o" in s]) == 1, selects


def test_the_indexes_the_figures_use_exist(store):
    names = {r["name"] for r in store.query("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert {"contacts_org", "referrals_org"} <= names
    plan = " ".join(
        str(r["detail"])
        for r in store.query(
            "EXPLAIN QUERY PLAN SELECT count(*) FROM contacts WHERE organization_id = ?", ["x"]
        )
    )
    assert "contacts_org" in plan


def test_cold_partners_oldest_first(directory):
    rows = partners.cold(directory, "60d")
    # never contacted first, then the longest silent; active ones only; Harbor is not cold
    assert [r["name"] for r in rows] == ["Legal Aid Society", "Parks Dept"]
    assert rows[1]["days_since_contact"] == 100
    assert directory.orgs.count_cold(partners.cold_since("60d")) == 2
    assert [r["name"] for r in partners.cold(directory, "4d")] == [
        "Legal Aid Society",
        "Parks Dept",
        "Harbor Food Bank",
    ]
    assert [r["name"] for r in partners.cold(directory, "2026-08-01")] == ["Legal Aid Society"]
    assert partners.cold(directory, "60d", limit=1)[0]["name"] == "Legal Aid Society"


@pytest.mark.parametrize(
    ("text", "days"), [("60d", 60), ("8w", 56), ("90 days", 90), ("2026-10-26", 30)]
)
def test_cold_reads_ages_like_since(now, text, days):
    from datetime import datetime, timedelta

    got = datetime.fromisoformat(partners.cold_since(text).replace("Z", "+00:00"))
    want = datetime.fromisoformat(NOW.replace("Z", "+00:00")) - timedelta(days=days)
    assert abs(got - want) <= timedelta(hours=11)  # a date means its local midnight


def test_cold_refuses_bad_and_future_ages(cli, now):
    for bad in ("soon", "60x", "in 3d", "2027-01-01"):
        r = cli("partners", "--cold", bad, code=1)
        line = r.stderr.strip()
        assert "\n" not in line and "Traceback" not in line and "cold" in line, line


def test_partners_command(cli, directory, width80):
    rows = cli.json("partners")
    assert [r["name"] for r in rows] == [
        "Harbor Food Bank",
        "Legal Aid Society",
        "Old Mill Club",
        "Parks Dept",
    ]
    assert {"last_contact_at", "contacts_90d", "referrals_90d", "open_referrals",
            "verified_within_year", "days_since_contact", "phone",
            "services"} <= set(rows[0])  # fmt: skip
    cold = cli.json("partners", "--cold", "60d")
    assert [(r["name"], r["days_since_contact"]) for r in cold] == [
        ("Legal Aid Society", None),
        ("Parks Dept", 100),
    ]
    out = cli("partners", "--cold", "60d").stdout
    assert out.index("Legal Aid") < out.index("Parks Dept") and "never" in out
    assert "Harbor" not in out
    assert all(len(line) <= 80 for line in out.splitlines()), out
    assert [r["name"] for r in cli.json("partners", "--cold", "1000d")] == ["Legal Aid Society"]


def test_nobody_cold(cli, store, now):
    store.orgs.add(name="Harbor Food Bank")
    contact(store, "Harbor Food Bank", "2026-11-20T15:00:00Z")
    assert cli.json("partners", "--cold", "30d") == []
    assert (
        "No active partner has gone 30d without a contact."
        in cli("partners", "--cold", "30d").stdout
    )


def test_org_list_and_show_carry_the_figures(cli, directory, width80):
    out = cli("org", "list").stdout
    assert all(len(line) <= 80 for line in out.splitlines()), out
    for heading in ("Last contact", "C 90d", "R 90d", "Open", "Verified"):
        assert heading in out
    assert "never" in out and "2026-11-20" in out
    [parks] = [r for r in cli.json("org", "list") if r["name"] == "Parks Dept"]
    assert parks["open_referrals"] == 1 and parks["verified_within_year"] is False
    show = cli("org", "show", "Parks Dept").stdout
    assert "2026-08-17 (100 days ago)" in show
    assert "0 contacts, 1 referral" in show
    assert "over a year ago" in show and "--verified today" in show
    data = cli.json("org", "show", "Harbor Food Bank")
    assert (data["contacts_90d"], data["open_referrals"], data["days_since_contact"]) == (2, 2, 5)
    assert "never" in cli("org", "show", "Legal Aid Society").stdout
