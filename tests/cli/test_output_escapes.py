"""Stored text never reaches the terminal raw (issue 11): a summary that came in by sync or
import holding ``ESC ] 0 ; ... BEL`` (a window title) prints as a visible ``\\x1b``."""

from __future__ import annotations

import pytest

from fieldlog import render

TITLE = "\x1b]0;pwned\x07"
CLEAR = "\x1b[2J"


@pytest.fixture
def planted(cli, store):
    """A contact, concern, referral and partner whose text holds escapes, written straight
    to the rows (as a sync from an older laptop would), past the input checks."""
    cid = cli.new("add", "Harmless visit", "--concern", "noise:loud")
    kid = cli.json("show", cid)["concerns"][0]["id"]
    rid = cli.new("refer", cid, "Food Pantry", "--concern", kid, "--reason", "food")
    oid = cli.new("org", "add", "Plain Partner")
    with store.write() as tx:
        tx.update("contacts", cid, {"summary": f"Visit {TITLE} pwned", "notes": f"a\nb{CLEAR}"})
        tx.update("concerns", kid, {"description": f"loud {TITLE}", "resolution": CLEAR})
        tx.update("referrals", rid, {"reason": f"food {TITLE}", "outcome": f"ok {CLEAR}"})
        tx.update("organizations", oid, {"name": f"Partner {TITLE}", "notes": CLEAR})
    return cid, kid, rid, oid


@pytest.mark.parametrize(
    "args",
    [
        ("list",),
        ("show", "{cid}"),
        ("concern", "list"),
        ("referral", "list"),
        ("org", "list"),
        ("org", "show", "{oid}"),
        ("search", "pwned"),
        ("search", "loud"),
    ],
)
def test_no_escape_reaches_the_terminal(cli, planted, args):
    cid, _kid, _rid, oid = planted
    out = cli(*[a.format(cid=cid, oid=oid) for a in args]).stdout
    assert "\x1b" not in out and "\x07" not in out
    assert "\\x1b" in out  # shown, visibly


def test_show_keeps_the_newlines_of_notes(cli, planted, capsys):
    cid = planted[0]
    out = cli("show", cid).stdout
    assert "\\x1b[2J" in out
    lines = out.splitlines()
    assert any(line.rstrip().endswith(" a") for line in lines)  # "Notes  a" then "b\x1b[2J"


def test_table_cells_are_one_line(capsys):
    render.table([{"summary": "one\ntwo\rthree"}], [("summary", "Summary")], lines=None)
    out = capsys.readouterr().out
    assert "one\\x0atwo\\x0dthree" in out


def test_done_prints_no_escape(cli, planted):
    rid = planted[2]
    with_escape = cli("done", rid).stdout
    assert "\x1b" not in with_escape and with_escape.startswith("Done: referral ")
