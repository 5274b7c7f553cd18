"""Every command of the quick-entry CLI, through Typer's CliRunner."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from fieldlog import dates


def test_add_with_concern_and_referral_links_partner(cli, store):
    cli("org", "add", "Parks Dept", "--kind", "government", "--services", "youth")
    short = cli(
        "add",
        "Met Pastor Reyes about the youth league",
        "--hood",
        "Eastside",
        "--name",
        "Pastor Reyes",
        "--concern",
        "youth:no lit court after 6pm",
        "--refer",
        "parks dept:court lighting",
        "--tag",
        "faith",
        "--at",
        "yesterday 14:30",
    ).stdout.strip()
    assert len(short) >= 8
    shown = cli.json("show", short)
    assert shown["summary"] == "Met Pastor Reyes about the youth league"
    assert shown["neighborhood"] == "Eastside"
    assert shown["person_name"] == "Pastor Reyes"
    assert shown["tags"] == ["faith"]
    local = dates.from_storage(shown["occurred_at"]).astimezone()
    assert local.date() == date.today() - timedelta(days=1)
    assert (local.hour, local.minute) == (14, 30)
    [concern] = shown["concerns"]
    assert concern["category"] == "youth" and concern["status"] == "referred"
    [ref] = shown["referrals"]
    org = cli.json("org", "show", "Parks Dept")
    assert ref["organization_id"] == org["id"] and ref["agency"] == "Parks Dept"
    assert ref["concern_id"] == concern["id"]
    assert ref["service"] == "youth" and ref["status"] == "made"
    assert ref["follow_up_on"] is not None
    assert org["referral_count"] == 1


def test_refer_to_unknown_agency_keeps_the_name(cli):
    cid = cli("add", "Call about eviction", "--refer", "Legal Aid Society:eviction notice")
    ref = cli.json("show", cid.stdout.strip())["referrals"][0]
    assert ref["agency"] == "Legal Aid Society" and ref["organization_id"] is None


def test_init_sets_officer_and_default_hood(cli):
    out = cli("init", "--officer", "Dana Ruiz", "--badge", "4471", "--hood", "Eastside").stdout
    assert "Dana Ruiz" in out
    cid = cli.new("add", "Walked the block")
    c = cli.json("show", cid)
    assert c["officer"] == "Dana Ruiz" and c["neighborhood"] == "Eastside"


def test_officer_defaults_to_os_user(cli):
    import getpass

    cid = cli.new("add", "Walked the block")
    assert cli.json("show", cid)["officer"] == getpass.getuser()


@pytest.mark.slow
def test_list_filters(cli):
    cli("add", "Old visit", "--at", "10d ago", "--hood", "Riverside", "--kind", "business")
    cli("add", "Recent visit", "--at", "2h ago", "--hood", "Eastside", "--tag", "night-shift")
    cli("init", "--officer", "Sam Lee")
    cli("add", "Today event", "--kind", "event", "--hood", "eastside")
    rows = cli.json("list")
    assert [r["summary"] for r in rows] == ["Today event", "Recent visit", "Old visit"]
    assert [r["summary"] for r in cli.json("list", "--since", "7d")] == [
        "Today event",
        "Recent visit",
    ]
    assert [r["summary"] for r in cli.json("list", "--until", "3d")] == ["Old visit"]
    assert [r["summary"] for r in cli.json("list", "--hood", "Eastside")] == [
        "Today event",
        "Recent visit",
    ]
    assert [r["summary"] for r in cli.json("list", "--tag", "night-shift")] == ["Recent visit"]
    assert [r["summary"] for r in cli.json("list", "--kind", "business")] == ["Old visit"]
    assert [r["summary"] for r in cli.json("list", "--officer", "sam lee")] == ["Today event"]
    assert len(cli.json("list", "--limit", "1")) == 1
    assert "Recent visit" in cli("list").stdout


def test_until_a_day_includes_that_day(cli, monkeypatch):
    # "today 09:00" must be in the past whatever the hour the suite runs at
    monkeypatch.setenv("FIELDLOG_NOW", "2026-11-25T15:00:00-06:00")
    cli("add", "This morning", "--at", "today 09:00")
    assert len(cli.json("list", "--until", "today")) == 1
    assert len(cli.json("list", "--until", "yesterday")) == 0


def test_edit_every_field(cli, store):
    cli("org", "add", "Harbor Food Bank", "--kind", "nonprofit")
    cid = cli.new("add", "First words", "--tag", "a", "--tag", "b")
    cli(
        "edit",
        cid,
        "--summary",
        "Better words",
        "--name",
        "Ana Diaz",
        "--kind",
        "phone",
        "--org",
        "Harbor Food Bank",
        "--hood",
        "Harbor",
        "--beat",
        "H1",
        "--location",
        "Pier 3",
        "--at",
        "2026-01-02 10:15",
        "--notes",
        "Call back",
        "--add-tag",
        "c",
        "--remove-tag",
        "a",
        "--follow-up",
        "2026-12-01",
    )
    c = cli.json("show", cid)
    assert c["summary"] == "Better words" and c["person_name"] == "Ana Diaz"
    assert c["kind"] == "phone" and c["organization_name"] == "Harbor Food Bank"
    assert (c["neighborhood"], c["beat"], c["location"]) == ("Harbor", "H1", "Pier 3")
    assert c["occurred_at"] == "2026-01-02T16:15:00Z"  # Chicago is UTC-6 in January
    assert c["notes"] == "Call back" and c["tags"] == ["b", "c"]
    assert c["follow_up_on"] == "2026-12-01"
    cli("edit", cid, "--follow-up", "none", "--org", "", "--tag", "x")
    c = cli.json("show", cid)
    assert c["follow_up_on"] is None and c["organization_id"] is None and c["tags"] == ["x"]


def test_edit_without_options_is_an_error(cli):
    cid = cli.new("add", "Something")
    r = cli("edit", cid, code=1)
    assert "Nothing to change" in r.stderr


def test_delete_asks_and_tombstones_children(cli, store):
    cid = cli.new("add", "To delete", "--concern", "noise:loud", "--refer", "X:y")
    r = cli("delete", cid, input="n\n", code=1)
    assert "Delete contact" in r.stderr
    assert len(cli.json("list")) == 1
    cli("delete", cid, "--yes")
    assert cli.json("list") == []
    assert cli.json("concern", "list") == [] and cli.json("referral", "list") == []
    assert store.scalar("SELECT count(*) FROM contacts WHERE deleted = 1") == 1
    assert store.scalar("SELECT count(*) FROM concerns WHERE deleted = 1") == 1
    assert store.scalar("SELECT count(*) FROM referrals WHERE deleted = 1") == 1
    r = cli("show", cid, code=1)
    assert "No contact has an id starting with" in r.stderr


def test_delete_with_yes_on_prompt(cli):
    cid = cli.new("add", "To delete")
    cli("delete", cid, input="y\n")
    assert cli.json("list") == []


@pytest.mark.slow
def test_search_ranked_and_highlighted(cli):
    cli("add", "Met the after-school program lead", "--notes", "Court lights are out")
    cli("add", "Noise complaint on Oak Ave", "--concern", "noise:music after midnight")
    cli("org", "add", "After School Matters", "--kind", "youth")
    hits = cli.json("search", "after-school")
    assert {h["type"] for h in hits} == {"contact", "organization"}
    assert [h["rank"] for h in hits] == sorted(h["rank"] for h in hits)  # best first
    contact = next(h for h in hits if h["type"] == "contact")
    assert "[after-school]" in contact["snippet"]
    types = {h["type"] for h in cli.json("search", "after")}
    assert types == {"contact", "concern", "organization"}
    assert cli.json("search", "midnight")[0]["type"] == "concern"
    assert len(cli.json("search", "after", "--limit", "1")) == 1
    out = cli("search", "court").stdout
    assert "Court" in out
    # Officer-typed syntax is data, never an FTS error.
    for q in ['"', "*", "NOT", "AND OR", "a:b", "(court", "court)", "-x", "'"]:
        cli("search", "--", q)


def test_concern_commands(cli):
    cid = cli.new("add", "Resident visit")
    kid = cli.new(
        "concern", "add", cid, "Mental Health", "neighbor in crisis", "--priority", "high"
    )
    cli("concern", "add", cid, "traffic", "speeding on Main St")
    rows = cli.json("concern", "list", "--category", "mental_health")
    assert [r["description"] for r in rows] == ["neighbor in crisis"]
    assert rows[0]["priority"] == "high" and rows[0]["status"] == "open"
    r = cli.json("concern", "update", kid, "--status", "in_progress")
    assert r["status"] == "in_progress"
    r = cli.json("concern", "update", kid, "--resolution", "Crisis team visited")
    assert r["status"] == "resolved" and r["resolved_at"]
    assert [x["category"] for x in cli.json("concern", "list", "--status", "open")] == ["traffic"]
    assert len(cli.json("concern", "list", "--status", "resolved")) == 1
    assert len(cli.json("concern", "list", "--status", "unresolved")) == 1
    r = cli.json("concern", "update", kid, "--status", "open")
    assert r["resolved_at"] is None


def test_refer_and_referral_commands(cli):
    cli("org", "add", "Hope Housing", "--services", "housing")
    cid = cli.new("add", "Family facing eviction")
    rid = cli.new("refer", cid, "hope housing", "--reason", "rent arrears", "--follow-up", "friday")
    ref = cli.json("referral", "list")[0]
    assert ref["agency"] == "Hope Housing" and ref["service"] == "housing"
    assert date.fromisoformat(ref["follow_up_on"]).weekday() == 4
    r = cli.json("referral", "update", rid, "--status", "accepted", "--outcome", "Intake set")
    assert r["status"] == "accepted" and r["outcome"] == "Intake set"
    assert len(cli.json("referral", "list", "--status", "accepted")) == 1
    assert len(cli.json("referral", "list", "--status", "open")) == 1
    cli("referral", "update", rid, "--status", "completed")
    assert cli.json("referral", "list", "--status", "open") == []
    assert "Hope Housing" in cli("referral", "list").stdout


def test_referral_default_follow_up_is_a_week(cli):
    cid = cli.new("add", "Needs food")
    cli("refer", cid, "Food Bank")
    ref = cli.json("referral", "list")[0]
    expected = dates.now_local().date() + timedelta(days=7)
    assert ref["follow_up_on"] == expected.isoformat()


def test_followups_due_overdue_oldest_first(cli, monkeypatch):
    a = cli.new("add", "Overdue one", "--follow-up", "2020-01-01")
    cli("add", "Due today", "--follow-up", "today")
    cli("add", "Not yet", "--follow-up", "in 10d")
    b = cli.new("add", "With referral")
    cli("refer", b, "Parks", "--follow-up", "2021-05-05")
    rows = cli.json("followups")
    assert [r["subject"] for r in rows] == ["Overdue one", "Parks", "Due today"]
    assert [r["overdue"] for r in rows] == [True, True, False]
    assert rows[0]["id"].startswith(a)
    assert len(cli.json("followups", "--until", "in 11d")) == 4
    out = cli("followups").stdout
    assert "Overdue one" in out and "!" in out


def test_closed_referrals_are_not_followups(cli):
    b = cli.new("add", "With referral")
    rid = cli.new("refer", b, "Parks", "--follow-up", "2021-05-05")
    cli("referral", "update", rid, "--status", "completed")
    assert cli.json("followups") == []


def test_org_commands(cli):
    oid = cli.new(
        "org",
        "add",
        "St. Mark's Church",
        "--kind",
        "faith",
        "--contact-person",
        "Rev. Ann",
        "--phone",
        "555-0101",
        "--email",
        "ann@example.org",
        "--address",
        "1 Elm St",
        "--hood",
        "Old Town",
        "--services",
        "food,youth",
    )
    o = cli.json("org", "show", oid)
    assert o["name"] == "St. Mark's Church" and o["services"] == ["food", "youth"]
    assert o["phone"] == "555-0101" and o["status"] == "active"
    cli("org", "edit", "st. mark's church", "--phone", "555-0199", "--status", "inactive")
    o = cli.json("org", "show", oid)
    assert o["phone"] == "555-0199" and o["status"] == "inactive"
    assert [x["name"] for x in cli.json("org", "list")] == ["St. Mark's Church"]
    assert cli.json("org", "list", "--service", "food")[0]["referral_count"] == 0
    r = cli("org", "add", "st. mark's church", code=1)
    assert "already in the directory" in r.stderr
    assert "St. Mark" in cli("org", "list").stdout


def test_json_for_every_reading_command(cli):
    cid = cli.new(
        "add", "Json check", "--concern", "noise:x", "--refer", "A:b", "--follow-up", "today"
    )
    cli("org", "add", "Org")
    for args in (
        ["list"],
        ["concern", "list"],
        ["referral", "list"],
        ["org", "list"],
        ["followups"],
        ["search", "json"],
    ):
        data = cli.json(*args)
        assert isinstance(data, list) and data and all(isinstance(x, dict) for x in data)
        assert all("id" in x for x in data)
    shown = cli.json("show", cid)
    assert isinstance(shown["concerns"], list) and isinstance(shown["referrals"], list)


def test_bare_fieldlog_tells_a_newcomer_about_demo(cli):
    out = cli().stdout
    assert "empty" in out and "demo" in out


def test_demo_fills_every_status(cli, store):
    out = cli("demo", "--contacts", "400").stdout
    assert "Added 400 contacts" in out
    cats = {r[0] for r in store.conn.execute("SELECT DISTINCT category FROM concerns")}
    assert len(cats) == 12
    k_status = {r[0] for r in store.conn.execute("SELECT DISTINCT status FROM concerns")}
    assert k_status == {"open", "in_progress", "referred", "resolved"}
    r_status = {r[0] for r in store.conn.execute("SELECT DISTINCT status FROM referrals")}
    assert r_status == {"made", "accepted", "declined", "unreachable", "completed"}
    assert any(r["overdue"] for r in cli.json("followups"))
    assert cli.json("search", "court")  # the demo rows are searchable
    # a second run asks first; --if-empty skips
    cli("demo", "--contacts", "10", input="n\n", code=1)
    cli("demo", "--contacts", "10", "--if-empty")
    assert store.contacts.count() == 400


def test_every_command_has_help(cli):
    from typer.main import get_command

    from fieldlog.cli import app

    group = get_command(app)
    seen = 0
    for name, cmd in group.commands.items():
        subs = getattr(cmd, "commands", None)
        for sub in (subs or {name: cmd}).values():
            assert sub.help, f"{name} {sub.name} has no help text"
            seen += 1
    assert seen >= 17


def test_version(cli):
    from importlib.metadata import version

    import fieldlog

    assert "fieldlog" in cli("--version").stdout
    assert cli("--version").stdout == f"fieldlog {version('fieldlog')}\n"
    assert version("fieldlog") == fieldlog.__version__  # one source: pyproject reads it
    assert re.fullmatch(r"\d+\.\d+\.\d+", fieldlog.__version__)


def test_updates_with_nothing_to_change_are_errors(cli):
    cid = cli.new("add", "Visit", "--concern", "noise:x", "--refer", "Parks:y")
    shown = cli.json("show", cid)
    for args in (["concern", "update", shown["concerns"][0]["id"]],
                 ["referral", "update", shown["referrals"][0]["id"]]):  # fmt: skip
        assert "Nothing to change" in cli(*args, code=1).stderr


def test_overview_counts_follow_ups(cli):
    cli("add", "Overdue", "--follow-up", "2020-01-01")
    cli("add", "Due", "--follow-up", "today")
    out = cli().stdout
    assert "2 contacts" in out and "2 follow-ups due today (1 overdue)" in out


def test_demo_is_repeatable_and_can_be_added_twice(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("FIELDLOG_NOW", "2026-11-25T10:00:00-06:00")
    a, b = str(tmp_path / "a.db"), str(tmp_path / "b.db")
    cli("--db", a, "demo", "--contacts", "30")
    cli("--db", b, "demo", "--contacts", "30")

    def visible(db):  # the device id and its clock differ by design
        return [{k: v for k, v in r.items() if k not in ("origin", "hlc")}
                for r in cli.json("--db", db, "list")]  # fmt: skip

    assert visible(a) == visible(b)
    cli("--db", a, "demo", "--contacts", "30", "--yes")  # same seed again: no id clash
    assert len(cli.json("--db", a, "list", "--limit", "100")) == 60
