"""``list``, ``search`` and ``followups``: JSON is never cut unless ``--limit`` is given, a
screen says "Showing N of M" when it is cut; filters match in any case; messages count
right ("1 concern")."""

from __future__ import annotations

import pytest

from fieldlog import dates


@pytest.fixture
def many(store):
    """60 contacts on Eastside, 25 of them about lighting, 30 with a follow-up due today."""
    store.set_officer("Dana Ruiz")
    today = dates.today_local()
    for i in range(60):
        values = {
            "summary": f"Street lighting out, visit {i}" if i < 25 else f"Visit {i}",
            "neighborhood": "Eastside",
            "tags": ["faith"] if i % 2 else [],
        }
        if i < 30:
            values["follow_up_on"] = today
        store.contacts.add(values)
    return store


def test_list_json_gives_every_row_unless_limited(cli, many):
    assert len(cli.json("list")) == 60
    assert len(cli.json("list", "--limit", "7")) == 7


def test_list_on_screen_says_how_many_it_shows(cli, many):
    out = cli("list").stdout
    assert "Showing 50 of 60: --limit N for more." in out
    out = cli("list", "--limit", "10", "--tag", "faith").stdout
    assert "Showing 10 of 30" in out
    assert "Showing" not in cli("list", "--limit", "60").stdout


def test_search_json_gives_every_hit_unless_limited(cli, many):
    assert len(cli.json("search", "lighting")) == 25
    assert len(cli.json("search", "lighting", "--limit", "3")) == 3
    assert "Showing 20 of 25: --limit N for more." in cli("search", "lighting").stdout
    assert "Showing" not in cli("search", "lighting", "-n", "30").stdout


def test_followups_gives_every_one_and_limit_cuts(cli, many):
    assert len(cli.json("followups")) == 30
    assert len(cli.json("followups", "--limit", "4")) == 4
    assert "Showing 4 of 30" in cli("followups", "--limit", "4").stdout


@pytest.mark.parametrize("spelling", ["Eastside", "eastside", "EASTSIDE", " eastSide "])
def test_the_neighborhood_filter_matches_any_case(cli, store, spelling):
    store.contacts.add({"summary": "One", "neighborhood": "Eastside"})
    store.contacts.add({"summary": "Two", "neighborhood": "EASTSIDE"})
    store.contacts.add({"summary": "Three", "neighborhood": "Westside"})
    rows = cli.json("list", "--hood", spelling)
    assert sorted(r["summary"] for r in rows) == ["One", "Two"]


def test_tag_officer_and_kind_filters_match_any_case(cli, store):
    store.set_officer("Dana Ruiz")
    store.contacts.add({"summary": "Tagged", "tags": ["faith"], "kind": "business"})
    with store.write() as tx:  # a tag spelled in capitals by an older fieldlog or a sync
        tx.insert(
            "contacts",
            {"summary": "Old", "tags": ["Faith"], "kind": "resident",
             "occurred_at": "2026-01-01T12:00:00Z"},
        )  # fmt: skip
    assert len(cli.json("list", "--tag", "FAITH")) == 2
    assert len(cli.json("list", "--officer", "dana ruiz")) == 2
    assert [r["summary"] for r in cli.json("list", "--kind", "Business")] == ["Tagged"]
    assert store.contacts.count(tag="faith") == 2 and store.contacts.count(hood="x") == 0


def test_delete_asks_in_good_grammar(cli):
    cid = cli.new("add", "Met the owner", "--concern", "noise:music", "--refer", "Parks:lights")
    err = cli("delete", cid, input="n\n", code=1).stderr
    assert "with 1 concern and 1 referral?" in err


def test_demo_counts_in_good_grammar(cli):
    out = cli("demo", "--contacts", "1").stdout
    assert out.startswith("Added 1 contact, ")


# ---------------------------------------------------------------- --limit out of range
HUGE = "99999999999999999999"  # more than SQLite's 64-bit integers


@pytest.mark.parametrize(
    "command",
    [
        ["list"],
        ["search", "lighting"],
        ["concern", "list"],
        ["referral", "list"],
        ["org", "list"],
        ["followups"],
    ],
)
@pytest.mark.parametrize("value", [HUGE, "9223372036854775808", "0", "-3"])
def test_a_limit_out_of_range_is_one_line_naming_limit(cli, store, command, value):
    store.contacts.add({"summary": "Street lighting out"})
    r = cli(*command, "--limit", value, code=2)
    line = r.stderr.strip()
    assert "\n" not in line and "Traceback" not in line, r.stderr
    assert line.startswith("Error: --limit must be a whole number from 1 to 1,000,000,000")
    assert "--db" not in line and "too large" not in line


def test_the_largest_limit_is_accepted(cli, store):
    store.contacts.add({"summary": "One"})
    assert len(cli.json("list", "--limit", "1000000000")) == 1
    assert len(cli.json("list", "-n", "1")) == 1


def test_page_size_refuses_a_huge_limit_from_a_library_caller():
    from fieldlog.cli.common import UsageProblem, page_size

    assert page_size(None, False, 50) == 50 and page_size(None, True, 50) is None
    with pytest.raises(UsageProblem, match="--limit"):
        page_size(10**20, True, 50)
