"""``fieldlog problem add | link | unlink | phase | log | plan | list | show | edit | delete``
and ``fieldlog add --problem``, end to end through the CLI (docs/problems.md)."""

from __future__ import annotations

import json
import sqlite3

import pytest


def audit_count(db_path) -> int:
    with sqlite3.connect(db_path) as conn:
        return int(conn.execute("SELECT count(*) FROM audit").fetchone()[0])


def links(db_path, pid: str) -> list[tuple]:
    with sqlite3.connect(db_path) as conn:
        return conn.execute(
            "SELECT contact_id, concern_id, referral_id, organization_id FROM problem_links "
            "WHERE problem_id = ? AND deleted = 0 ORDER BY id",
            [pid],
        ).fetchall()


@pytest.fixture
def log(cli):
    """A log with an officer, a partner, a contact with a concern, a contact alone."""
    cli("init", "--officer", "Dana Ruiz")
    org = cli.new("org", "add", "Parks Dept", "--kind", "government")
    noisy = cli.new("add", "Loud party at Elm Park", "--hood", "Eastside",
                    "--concern", "noise:music at 2am")  # fmt: skip
    alone = cli.new("add", "Neighbour asked about the park lights", "--hood", "Eastside")
    return {"org": org, "noisy": noisy, "alone": alone}


def problem(cli, title="Late-night noise at Elm Park", *extra: str) -> str:
    return cli.new("problem", "add", title, *extra)


# ---------------------------------------------------------------------- add
def test_add_prints_the_short_id_and_defaults_the_coordinator(cli, log):
    out = cli("problem", "add", "Late-night noise at Elm Park", "--hood", "Eastside",
              "--category", "noise", "--location", "Elm Park", "--description", "every weekend",
              "--partner", "parks dept", "--link", f"contact:{log['alone']}")  # fmt: skip
    short = out.stdout.strip()
    assert len(short) >= 6 and "\n" not in short
    p = cli.json("problem", "show", short)
    assert p["short_id"] == short and p["title"] == "Late-night noise at Elm Park"
    assert p["phase"] == "scanning" and p["started_at"] and not p["closed_at"]
    assert p["coordinator"] == "Dana Ruiz"  # the log's officer
    assert (p["neighborhood"], p["category"], p["location"]) == ("Eastside", "noise", "Elm Park")
    assert [o["id"] for o in p["partners"]] == [log["org"]]
    assert [c["id"] for c in p["contacts"]] == [log["alone"]]
    made = cli.json("problem", "add", "Graffiti on Main", "--coordinator", "Sgt Lee")
    assert set(made) == {"id", "short_id"}
    assert cli.json("problem", "show", made["id"])["coordinator"] == "Sgt Lee"


def test_add_a_close_partner_name_says_did_you_mean_and_writes_nothing(cli, log, db_path):
    before = audit_count(db_path)
    r = cli("problem", "add", "Noise", "--partner", "Parks Department", code=1)
    assert r.stderr.count("\n") == 1 and "did you mean 'Parks Dept'?" in r.stderr
    assert "Traceback" not in r.stderr
    r = cli("problem", "add", "Noise", "--category", "nosie", code=1)
    assert "did you mean noise?" in r.stderr
    r = cli("problem", "add", "Noise", "--link", "ffffff", code=1)
    assert r.stderr.startswith("Error: No contact, concern, referral or partner")
    assert audit_count(db_path) == before
    assert cli.json("problem", "list") == []


# ---------------------------------------------------------------------- link / unlink
def test_link_unlink_by_prefix_kind_and_partner_name(cli, log, db_path):
    pid = problem(cli)
    concern = cli.json("show", log["noisy"])["concerns"][0]
    out = cli("problem", "link", pid[:8], f"concern:{concern['id']}", log["alone"], "Parks Dept")
    assert out.stdout.startswith("Linked concern ") and "partner " in out.stdout
    assert len(links(db_path, pid)) == 3
    again = cli.json("problem", "link", pid, log["alone"])
    assert again["linked"] == [] and again["already_linked"][0]["id"] == log["alone"]
    assert again["already_linked"][0]["type"] == "contact"
    assert len(links(db_path, pid)) == 3  # nothing written twice
    p = cli.json("problem", "show", pid)
    assert [k["id"] for k in p["concerns"]] == [concern["id"]]
    gone = cli.json("problem", "unlink", pid, "partner:Parks Dept", log["alone"])
    assert {(g["type"], g["id"]) for g in gone["unlinked"]} == {
        ("partner", log["org"]), ("contact", log["alone"])
    }  # fmt: skip
    assert links(db_path, pid) == [(None, concern["id"], None, None)]
    out = cli("problem", "unlink", pid, f"concern:{concern['id']}")
    assert out.stdout.startswith("Unlinked concern ")


def test_the_id_add_printed_links_the_contact(cli, db_path):
    """The records of one entry share their first characters: the short id ``add`` printed
    starts the contact and its concern. The contact is the entry's head, so it is linked;
    ``concern:ID`` names the concern."""
    cli("init", "--officer", "Dana Ruiz")
    short = cli("add", "Loud party", "--concern", "noise:music at 2am").stdout.strip()
    pid = problem(cli)
    out = cli("problem", "link", pid, short).stdout
    assert out.startswith("Linked contact ")
    cli("problem", "link", pid, f"concern:{short}")
    contact = cli.json("show", short)
    assert links(db_path, pid) == [
        (contact["id"], None, None, None), (None, contact["concerns"][0]["id"], None, None)
    ]  # fmt: skip


def test_an_id_starting_records_of_two_entries_asks_which(cli, db_path, store):
    """A prefix that starts a contact and another entry's concern cannot be guessed."""
    cli("init", "--officer", "Dana Ruiz")
    a = store.contacts.add({"summary": "One"}, concerns=[{"category": "noise", "description": "x"}])
    b = store.contacts.add({"summary": "Two"})
    kid = store.contacts.get(a)["concerns"][0]["id"]
    common = ""
    for x, y in zip(b, kid, strict=True):
        if x != y:
            break
        common += x
    if len(common) < 6:
        return  # made in different milliseconds: nothing ambiguous to show
    pid = problem(cli)
    before = audit_count(db_path)
    r = cli("problem", "link", pid, common, code=1)
    assert r.stderr.count("\n") == 1
    assert "say which, like contact:" in r.stderr or "type more characters" in r.stderr
    assert audit_count(db_path) == before and links(db_path, pid) == []


def test_link_all_or_nothing_and_unlink_of_a_record_not_linked(cli, log, db_path):
    pid = problem(cli)
    before = audit_count(db_path)
    r = cli("problem", "link", pid, log["alone"], "abcdef12", code=1)
    assert "No contact, concern, referral or partner has the id 'abcdef12'" in r.stderr
    assert links(db_path, pid) == [] and audit_count(db_path) == before
    r = cli("problem", "unlink", pid, log["alone"], code=1)
    assert r.stderr.count("\n") == 1
    assert "The problem does not link the contact" in r.stderr
    assert audit_count(db_path) == before


# ---------------------------------------------------------------------- naming a problem
def test_unknown_and_ambiguous_problems_are_one_line(cli, log, db_path):
    problem(cli, "Late-night noise at Elm Park")
    problem(cli, "Late-night noise at Oak Park")
    before = audit_count(db_path)
    r = cli("problem", "show", "Birch", code=1)
    assert r.stderr == "Error: No problem has the id or title 'Birch': check it (fieldlog " \
        "problem list shows them).\n"  # fmt: skip
    r = cli("problem", "log", "noise", "walked", code=1)
    assert r.stderr.count("\n") == 1 and "'noise' matches 2 problems" in r.stderr
    r = cli("problem", "phase", "Elm", "analysys", code=1)
    assert r.stderr.count("\n") == 1 and "did you mean analysis?" in r.stderr
    assert audit_count(db_path) == before
    assert cli.json("problem", "show", "oak park")["title"] == "Late-night noise at Oak Park"


# ---------------------------------------------------------------------- phase, log, plan
def test_phase_stamps_and_the_log(cli, log):
    pid = problem(cli)
    out = cli("problem", "phase", pid, "analysis")
    assert out.stdout.startswith("Problem ") and "is in analysis." in out.stdout
    p = cli.json("problem", "phase", pid, "response", "--note", "lights agreed")
    assert p["phase"] == "response" and p["response_started_at"] and not p["closed_at"]
    p = cli.json("problem", "phase", pid, "closed")
    assert p["closed_at"]
    p = cli.json("problem", "phase", pid, "assessment")  # reopened: not closed any more
    assert p["closed_at"] is None and p["response_started_at"]
    texts = [e["text"] for e in p["entries"] if e["kind"] == "phase"]
    assert texts == ["scanning -> analysis", "analysis -> response: lights agreed",
                     "response -> closed", "closed -> assessment"]  # fmt: skip
    r = cli("problem", "phase", pid, "assessment", code=1)
    assert "in assessment already" in r.stderr


def test_log_with_a_time_and_from_stdin(cli, log):
    pid = problem(cli)
    e = cli.json("problem", "log", pid, "walked the park with Parks", "--at", "2026-11-30 21:15")
    assert set(e) == {"id", "short_id", "problem_id", "problem_short_id", "occurred_at"}
    assert e["occurred_at"] == "2026-12-01T03:15:00Z"  # Chicago time stored as UTC
    out = cli("problem", "log", pid, "-", input="talked to the bar owner\n")
    assert out.stdout.startswith("Logged on problem ")
    entries = cli.json("problem", "show", pid)["entries"]
    assert [x["text"] for x in entries] == ["walked the park with Parks",
                                            "talked to the bar owner"]  # fmt: skip
    r = cli("problem", "log", pid, "-", input="", code=1)
    assert r.stderr.count("\n") == 1


def test_plan_as_text_from_stdin_and_in_the_editor(cli, log, tmp_path, monkeypatch):
    pid = problem(cli)
    assert cli("problem", "plan", pid, "Parks adds lights").stdout.startswith("Plan of problem")
    out = cli("problem", "plan", pid, "-", "--json", input="Lights by Friday\nPatrols Fri-Sat\n")
    p = json.loads(out.stdout)
    assert p["plan"] == "Lights by Friday\nPatrols Fri-Sat"
    assert [e["kind"] for e in p["entries"]] == ["plan", "plan"]
    script = tmp_path / "ed.py"
    script.write_text(
        "import sys\np = sys.argv[1]\ntext = open(p, encoding='utf-8').read()\n"
        "open(p, 'w', encoding='utf-8').write(text + '\\nAnd a meeting on Monday\\n')\n"
    )
    import sys

    monkeypatch.setenv("EDITOR", f'"{sys.executable}" "{script}"')
    p = cli.json("problem", "plan", pid)
    assert p["plan"] == "Lights by Friday\nPatrols Fri-Sat\n\nAnd a meeting on Monday"
    r = cli("problem", "plan", pid, "   ", code=1)
    assert "The plan is empty" in r.stderr


# ---------------------------------------------------------------------- list / show
def test_list_is_grouped_by_phase_with_counts_and_filters(cli, log):
    a = problem(cli, "Noise at Elm Park", "--hood", "Eastside", "--link", f"contact:{log['alone']}",
                "--partner", "Parks Dept")  # fmt: skip
    b = problem(cli, "Graffiti on Main", "--hood", "Westside", "--coordinator", "Sgt Lee")
    cli("problem", "phase", b, "response")
    rows = cli.json("problem", "list")
    assert [r["id"] for r in rows] == [a, b]  # scanning before response
    first = rows[0]
    assert (first["contacts_linked"], first["concerns_linked"], first["referrals_linked"],
            first["organizations_linked"]) == (1, 0, 0, 1)  # fmt: skip
    assert rows[1]["last_activity_at"] == rows[1]["last_entry_at"]
    assert [r["id"] for r in cli.json("problem", "list", "--phase", "response")] == [b]
    assert [r["id"] for r in cli.json("problem", "list", "--hood", "eastside")] == [a]
    assert [r["id"] for r in cli.json("problem", "list", "--coordinator", "sgt lee")] == [b]
    assert len(cli.json("problem", "list", "--limit", "1")) == 1
    out = cli("problem", "list").stdout
    assert "scanning" in out and "response" in out and "Graffiti" in out
    assert out.index("scanning") < out.index("response")
    r = cli("problem", "list", "--phase", "analysys", code=1)
    assert "did you mean analysis?" in r.stderr
    assert "No problems match." in cli("problem", "list", "--hood", "Northside").stdout


def test_list_on_a_log_without_problems(cli, log):
    assert "No problems yet" in cli("problem", "list").stdout
    assert cli.json("problem", "list") == []


def test_show_has_the_fields_plan_partners_and_timeline_in_local_time(cli, log):
    pid = problem(cli, "Noise at Elm Park", "--hood", "Eastside", "--partner", "Parks Dept",
                  "--link", f"contact:{log['noisy']}")  # fmt: skip
    cli("problem", "plan", pid, "Parks adds lights")
    cli("problem", "log", pid, "walked the park", "--at", "2026-11-30 21:15")
    out = cli("problem", "show", pid).stdout
    for text in (
        "Noise at Elm Park",
        "Eastside",
        "Parks adds lights",
        "Parks Dept",
        "Timeline",
        "walked the park",
        "Loud party at Elm Park",
        "2026-11-30 21:15",
    ):
        assert text in out, text  # fmt: skip
    p = cli.json("problem", "show", pid)
    assert {"contacts", "concerns", "referrals", "partners", "entries", "timeline"} <= set(p)
    assert {e["kind"] for e in p["timeline"]} == {"contact", "plan", "note"}
    assert all({"at", "kind", "id", "short_id", "text"} <= set(e) for e in p["timeline"])


def test_stored_control_characters_are_shown_escaped(cli, log, db_path):
    pid = problem(cli)
    with sqlite3.connect(db_path) as conn:  # as if it came in by sync
        conn.execute("UPDATE problems SET title = 'Bad \x1b]0;owned\x07 title' WHERE id = ?",
                     [pid])  # fmt: skip
    for args in (("problem", "show", pid), ("problem", "list")):
        out = cli(*args).stdout
        assert "\x1b" not in out and "\x07" not in out


# ---------------------------------------------------------------------- edit / delete
def test_edit_and_delete(cli, log, db_path):
    pid = problem(cli, "Noise", "--hood", "Eastside", "--link", f"contact:{log['alone']}")
    out = cli("problem", "edit", pid, "--title", "Noise at Elm Park", "--hood", "",
              "--category", "noise")  # fmt: skip
    assert out.stdout.startswith("Updated problem ")
    p = cli.json("problem", "show", pid)
    assert (p["title"], p["neighborhood"], p["category"]) == ("Noise at Elm Park", None, "noise")
    r = cli("problem", "edit", pid, code=1)
    assert "Nothing to change" in r.stderr
    before = audit_count(db_path)
    r = cli("problem", "delete", pid, code=1)  # a script: --yes or nothing
    assert "--yes" in r.stderr and audit_count(db_path) == before
    assert cli("problem", "delete", "Elm Park", "--yes").stdout.startswith("Deleted problem ")
    assert cli.json("problem", "list") == [] and links(db_path, pid) == []
    assert cli.json("show", log["alone"])["id"] == log["alone"]  # the record stays


# ---------------------------------------------------------------------- add --problem
def test_add_with_problem_links_the_new_contact(cli, log, db_path):
    elm = problem(cli, "Noise at Elm Park")
    oak = problem(cli, "Noise at Oak Park")
    cid = cli.new("add", "Met the bar owner", "--problem", "Elm Park", "--problem", oak[:12],
                  "--concern", "noise:speakers outside")  # fmt: skip
    assert links(db_path, elm) == [(cid, None, None, None)]
    assert links(db_path, oak) == [(cid, None, None, None)]
    assert cli.json("problem", "show", elm)["contacts"][0]["summary"] == "Met the bar owner"


def test_add_with_a_bad_problem_writes_nothing(cli, log, db_path):
    problem(cli, "Noise at Elm Park")
    problem(cli, "Noise at Oak Park")
    before = audit_count(db_path)
    contacts = len(cli.json("list"))
    r = cli("add", "Met the bar owner", "--problem", "Birch", code=1)
    assert r.stderr.startswith("Error: No problem has the id or title 'Birch'")
    r = cli("add", "Met the bar owner", "--problem", "Noise", code=1)
    assert "matches 2 problems" in r.stderr and r.stderr.count("\n") == 1
    assert audit_count(db_path) == before and len(cli.json("list")) == contacts


def test_store_entries_save_links_in_the_entrys_transaction_and_once(store, monkeypatch):
    pid = store.problems.add("Noise at Elm Park")
    opened = []
    write = store.write
    monkeypatch.setattr(store, "write", lambda *a, **k: opened.append(1) or write(*a, **k))
    cid = store.entries.save({"summary": "Met the owner"}, problems=[pid])
    assert opened == [1]  # the contact and its link: one transaction
    monkeypatch.undo()
    store.entries.save({"summary": "Met the owner again"}, contact=cid, problems=[pid])
    rows = store.query("SELECT id FROM problem_links WHERE problem_id = ? AND deleted = 0", [pid])
    assert len(rows) == 1
