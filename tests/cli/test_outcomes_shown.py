"""Resolutions and outcomes shown, reopening clears them, every referral has a service, lists
never cut silently, wrapped cells at most two lines, filters in any case (issue 11)."""

from __future__ import annotations

import pytest

from fieldlog import render


@pytest.fixture
def width80(monkeypatch):
    monkeypatch.setattr(render.console, "_width", 80)


def _resolved_and_completed(cli):
    cid = cli.new("add", "Court lights out", "--concern", "youth:no lit court after 6pm")
    kid = cli.json("show", cid)["concerns"][0]["id"]
    rid = cli.new("refer", cid, "Parks Dept", "--concern", kid, "--new-agency")
    cli("concern", "update", kid, "--resolution", "Parks fixed the lights May 3")
    cli("referral", "update", rid, "--status", "completed", "--outcome", "Lights repaired")
    return cid, kid, rid


def test_show_has_resolutions_and_outcomes(cli, width80):
    cid, _kid, _rid = _resolved_and_completed(cli)
    out = cli("show", cid).stdout
    words = " ".join(out.split())
    assert "Resolved 20" in words and "Parks fixed the lights May 3" in words
    assert "Outcome: Lights repaired" in words
    assert max(len(line) for line in out.splitlines()) <= 80


def test_render_contact_keeps_whole_texts(cli, width80, capsys):
    long = "word " * 60
    cid = cli.new("add", "Court lights out", "--concern", f"youth:{long}")
    c = cli.json("show", cid)
    render.contact(c)
    out = capsys.readouterr().out
    assert out.count("word") == 60 and "\u2026" not in out


def test_lists_have_resolution_and_outcome_columns(cli, width80):
    _resolved_and_completed(cli)
    out = cli("concern", "list").stdout
    assert "Resolution" in out and "Parks fixed the" in out
    assert max(len(line) for line in out.splitlines()) <= 80
    out = cli("referral", "list").stdout
    assert "Outcome" in out and "Lights repaired" in out
    assert max(len(line) for line in out.splitlines()) <= 80


def test_reopening_clears_the_resolution(cli, store):
    _cid, kid, _rid = _resolved_and_completed(cli)
    k = cli.json("concern", "update", kid, "--status", "in_progress")
    assert k["status"] == "in_progress" and k["resolution"] is None and k["resolved_at"] is None
    # The TUI's form sends the resolution back unchanged with the new status: cleared too.
    store.concerns.update(kid, resolution="Fixed")
    k = store.concerns.update(kid, status="open", resolution="Fixed")
    assert k["status"] == "open" and k["resolution"] is None and k["resolved_at"] is None
    # A new resolution typed with a reopened status is kept (the officer wrote it).
    store.concerns.update(kid, resolution="Fixed")
    k = store.concerns.update(kid, status="open", resolution="Lights out again, re-referred")
    assert k["resolution"] == "Lights out again, re-referred"


@pytest.mark.parametrize(
    ("category", "service"),
    [
        ("youth", "youth"),
        ("homelessness", "housing"),
        ("violence", "victim_services"),
        ("noise", "other"),
        ("traffic", "other"),
        ("infrastructure", "other"),
    ],
)
def test_every_referral_gets_a_service(cli, category, service):
    cid = cli.new("add", "A visit", "--concern", f"{category}:something", "--refer", "X Agency:r")
    assert cli.json("show", cid)["referrals"][0]["service"] == service
    kid = cli.json("show", cid)["concerns"][0]["id"]
    cli("refer", cid, "Y Agency", "--concern", kid)
    assert {r["service"] for r in cli.json("show", cid)["referrals"]} == {service}


def test_a_referral_without_a_concern_is_for_other(cli):
    cid = cli.new("add", "A call", "--refer", "Legal Aid Society:eviction")
    cli("refer", cid, "Food Pantry")
    assert [r["service"] for r in cli.json("show", cid)["referrals"]] == ["other", "other"]


def _many(store, n):
    cid = store.contacts.add({"summary": "Block meeting", "neighborhood": "Eastside"})
    for i in range(n):
        store.concerns.add(cid, category="noise", description=f"concern {i}")
        store.referrals.add(cid, f"Agency {i}")
    for i in range(n):
        store.orgs.add(name=f"Partner {i:03}", neighborhood="Eastside")
    return cid


def test_json_is_never_cut_unless_limit(cli, store):
    _many(store, 105)
    for cmd in (("concern", "list"), ("referral", "list"), ("org", "list")):
        assert len(cli.json(*cmd)) == 105
        assert len(cli.json(*cmd, "--limit", "7")) == 7


def test_screen_says_how_many_were_left_out(cli, store, width80):
    _many(store, 105)
    for cmd in (("concern", "list"), ("referral", "list"), ("org", "list")):
        out = cli(*cmd).stdout
        assert "Showing 100 of 105: --limit N for more" in out
        assert "Showing 3 of 105" in cli(*cmd, "-n", "3").stdout
        assert "Showing" not in cli(*cmd, "--limit", "200").stdout


def test_store_counts_match_lists(store):
    _many(store, 3)
    assert store.concerns.count(hood="EASTSIDE") == len(store.concerns.list(hood="eastside")) == 3
    assert store.referrals.count(hood="eastside") == 3
    assert store.orgs.count(hood="EastSide") == 3
    assert store.concerns.count(category="Noise") == 3


def test_filters_any_case(cli, store):
    _many(store, 2)
    assert len(cli.json("concern", "list", "--hood", "EASTSIDE")) == 2
    assert len(cli.json("concern", "list", "--category", "NOISE")) == 2
    assert len(cli.json("referral", "list", "--agency", "agency 1")) == 1
    assert len(cli.json("referral", "list", "--hood", "eastSIDE")) == 2
    assert len(cli.json("org", "list", "--hood", "eastside")) == 2


def test_list_cells_wrap_to_two_lines(cli, width80):
    long = " ".join(f"word{i}" for i in range(60))
    for _ in range(3):
        cli("add", long)
    out = cli("list").stdout
    lines = [line for line in out.splitlines() if line.strip()]
    assert len(lines) == 2 + 3 * 2  # heading, rule, two lines per contact
    assert out.count("\u2026") == 3
    assert max(len(line) for line in out.splitlines()) <= 80
    cid = cli.json("list")[0]["id"]
    assert "word59" in cli("show", cid).stdout  # show keeps the whole text


def test_clamp_cuts_a_long_word_and_keeps_short_text(capsys):
    from rich.console import Console
    from rich.text import Text

    console = Console(width=20, file=None, highlight=False)
    with console.capture() as cap:
        console.print(render.Clamp(Text("x" * 100), 2))
    lines = cap.get().splitlines()
    assert len(lines) == 2 and lines[1].endswith("\u2026") and len(lines[1]) <= 20
    with console.capture() as cap:
        console.print(render.Clamp(Text("short"), 2))
    assert cap.get().strip() == "short"
