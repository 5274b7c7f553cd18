"""Input the CLI and import refuse (issue 11): terminal escapes in any text field, with the
field and the fix, on one line, the log untouched; unknown words with "did you mean"."""

from __future__ import annotations

import sqlite3

import pytest

TITLE = "\x1b]0;pwned\x07"
CLEAR = "\x1b[2J"


def contacts(db) -> int:
    if not db.exists():
        return 0
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT count(*) FROM contacts").fetchone()[0]


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["add", f"Met {TITLE}Reyes"], "summary"),
        (["add", "ok", "--notes", f"two\nlines{CLEAR}"], "notes"),
        (["add", "ok", "--name", f"Ana{CLEAR}"], "person name"),
        (["add", "ok", "--concern", f"noise:loud{TITLE}"], "description"),
        (["add", "ok", "--refer", f"Parks{CLEAR}:lights"], "agency"),
    ],
)
def test_escapes_are_refused_on_one_line(cli, db_path, args, field):
    cli("init", "--officer", "Ofc Test")
    r = cli(*args, code=1)
    err = r.stderr.strip()
    assert err.startswith(f"Error: The {field} hold")
    assert "control character" in err and "remove" in err
    assert "\x1b" not in r.stderr and "\x07" not in r.stderr
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert contacts(db_path) == 0


def test_notes_keep_their_lines(cli):
    cli("init", "--officer", "Ofc Test")
    cid = cli.new("add", "ok", "--notes", "line one\nline two")
    assert cli.json("show", cid)["notes"] == "line one\nline two"


def test_did_you_mean_on_the_command_line(cli):
    cli("init", "--officer", "Ofc Test")
    r = cli("add", "x", "--kind", "resdent", code=1)
    assert "Unknown kind 'resdent': did you mean resident? Use one of resident," in r.stderr
    r = cli("add", "x", "--concern", "noize:late music", code=1)
    assert "Unknown category 'noize': did you mean noise?" in r.stderr


def test_import_refuses_the_row_with_escapes_naming_it(cli, tmp_path, db_path):
    sheet = tmp_path / "sheet.csv"
    sheet.write_text(
        "date,name,summary,concern category,concern text\n"
        "2026-11-20 10:00,Ana,Fine row,,\n"
        f"2026-11-20 11:00,Bo,Bad {TITLE}row,,\n"
        f"2026-11-20 12:00,Cy,Fine too,noise,late {CLEAR}music\n",
        encoding="utf-8",
    )
    r = cli("import", str(sheet), code=1)
    assert "line 3: The summary holds control characters (\\x07, \\x1b)" in r.stderr
    assert "line 4: The description holds a control character (\\x1b)" in r.stderr
    assert "\x1b" not in r.stderr
    assert contacts(db_path) == 0


def test_add_and_edit_check_the_times_a_person_types(cli, monkeypatch):
    """`--at` in the future or 10+ years ago is refused with the fix and writes nothing; a
    past `--follow-up` is saved with a warning on stderr (issue 11)."""
    monkeypatch.setenv("FIELDLOG_NOW", "2026-11-25T10:00:00-06:00")
    cli("init", "--officer", "Dana Ruiz")
    r = cli("add", "Met", "--at", "2036-01-01", code=1)
    assert "is in the future" in r.stderr and r.stderr.count("\n") == 1
    r = cli("add", "Met", "--at", "2010-01-01", code=1)
    assert "10 or more years ago" in r.stderr
    assert cli.json("list") == []
    r = cli("add", "Met", "--follow-up", "2026-11-01")
    assert "Warning: --follow-up 2026-11-01 is in the past" in r.stderr
    cid = cli.json("list")[0]["id"]
    assert cli.json("show", cid)["follow_up_on"] == "2026-11-01"
    r = cli("edit", cid, "--at", "tomorrow 9:00", code=1)
    assert "is in the future" in r.stderr
    cli("edit", cid, "--at", "yesterday 9:00", "--follow-up", "none")
    shown = cli.json("show", cid)
    assert shown["occurred_at"] == "2026-11-24T15:00:00Z" and shown["follow_up_on"] is None


def test_refer_and_referral_update_warn_of_a_past_follow_up(cli, monkeypatch):
    monkeypatch.setenv("FIELDLOG_NOW", "2026-11-25T10:00:00-06:00")
    cli("init", "--officer", "Dana Ruiz")
    cid = cli.new("add", "Met")
    r = cli("refer", cid, "Legal Aid", "--follow-up", "2026-11-20")
    assert "Warning: --follow-up 2026-11-20 is in the past" in r.stderr
    rid = cli.json("show", cid)["referrals"][0]["id"]
    r = cli("referral", "update", rid, "--follow-up", "friday")
    assert "Warning" not in r.stderr
    assert cli.json("show", cid)["referrals"][0]["follow_up_on"] == "2026-11-27"
