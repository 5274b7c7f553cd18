"""Bad input: one clear line on stderr, exit 1 (2 for usage), no traceback, nothing written."""

from __future__ import annotations

import os
import sqlite3

import pytest

from tests.lib.run import run_fieldlog
from tests.lib.snapshot import snapshot


@pytest.fixture
def seeded(cli, db_path):
    cid = cli.new("add", "Seed contact", "--concern", "noise:loud", "--refer", "Parks:lights")
    cli("org", "add", "Parks Dept")
    return cid


BAD_ADDS = [
    (["add", ""], "summary is empty"),
    (["add", "   "], "summary is empty"),
    (["add", "x", "--at", "someday"], "Cannot read the date 'someday'"),
    (["add", "x", "--at", "2026-13-45"], "Cannot read the date"),
    (["add", "x", "--at", "yesterday 25:99"], "Cannot read the time"),
    (["add", "x", "--follow-up", "soonish"], "Cannot read the date 'soonish'"),
    (["add", "x", "--kind", "suspect"], "Unknown kind 'suspect': use one of resident"),
    (["add", "x", "--concern", "gangs:x"], "Unknown category 'gangs': use one of traffic"),
    (["add", "x", "--concern", ":no category"], "needs a category"),
    (["add", "x", "--refer", ":no agency"], "needs an agency"),
    (["add", "x", "--org", "Nobody Inc"], "No partner organization is named"),
    (["add", "x" * 600], "keep it under 500"),
    (["add", "x", "--concern", "noise:y", "--kind", "bad"], "Unknown kind"),
    (["list", "--since", "last century"], "Cannot read the date"),
    (["list", "--kind", "alien"], "Unknown kind 'alien'"),
    (["concern", "list", "--status", "done"], "Unknown status 'done'"),
    (["concern", "list", "--category", "weather"], "Unknown category"),
    (["referral", "list", "--status", "lost"], "Unknown status 'lost'"),
    (["referral", "list", "--service", "magic"], "Unknown service 'magic'"),
    (["org", "add", "X", "--kind", "club"], "Unknown kind 'club'"),
    (["org", "add", "X", "--services", "food,spa"], "Unknown service 'spa'"),
    (["org", "add", " "], "name is empty"),
    (["followups", "--until", "whenever"], "Cannot read the date"),
    (["show", "abc"], "too short: give at least 6"),
    (["show", "ffffffffff"], "No contact has an id starting with 'ffffffffff'"),
    (["show", "not-hex-id"], "No contact has an id starting with"),
    (["org", "show", "Nobody"], "No partner organization is named or numbered 'Nobody'"),
    (["org", "show", "ffffffffff"], "No organization has an id starting with"),
    (["edit", "ffffffffff", "--summary", "x"], "No contact has an id"),
    (["delete", "ffffffffff", "--yes"], "No contact has an id"),
    (["concern", "update", "ffffffffff", "--status", "open"], "No concern has an id"),
    (["referral", "update", "ffffffffff", "--status", "made"], "No referral has an id"),
    (["refer", "ffffffffff", "Parks"], "No contact has an id"),
    (["concern", "add", "ffffffffff", "noise", "x"], "No contact has an id"),
]


@pytest.mark.parametrize(("args", "message"), BAD_ADDS, ids=[" ".join(a) for a, _ in BAD_ADDS])
def test_bad_input_is_one_line_and_writes_nothing(cli, seeded, db_path, args, message):
    before = snapshot(db_path)
    result = cli(*args, code=1)
    err = result.stderr.strip()
    assert message in err
    assert len(err.splitlines()) == 1, err
    assert err.startswith("Error: ")
    assert "Traceback" not in err and result.stdout == ""
    assert snapshot(db_path) == before


@pytest.mark.slow
def test_bad_edits_write_nothing(cli, seeded, db_path):
    before = snapshot(db_path)
    shown = cli.json("show", seeded)
    kid, rid = shown["concerns"][0]["id"], shown["referrals"][0]["id"]
    for args, message in [
        (["edit", seeded, "--summary", ""], "summary is empty"),
        (["edit", seeded, "--at", "the other day"], "Cannot read the date"),
        (["edit", seeded, "--kind", "nope"], "Unknown kind"),
        (["concern", "update", kid, "--status", "closed"], "Unknown status 'closed'"),
        (["concern", "update", kid, "--priority", "meh"], "Unknown priority 'meh'"),
        (["referral", "update", rid, "--status", "gone"], "Unknown status 'gone'"),
        (["referral", "update", rid, "--follow-up", "later"], "Cannot read the date"),
        (["org", "edit", "Parks Dept", "--status", "closed"], "Unknown status"),
    ]:
        err = cli(*args, code=1).stderr
        assert message in err and len(err.strip().splitlines()) == 1
    assert snapshot(db_path) == before


def test_ambiguous_prefix_lists_the_matches(cli, store):
    ids = [cli.new("add", f"Contact {i}") for i in range(3)]
    common = os.path.commonprefix(ids)
    assert len(common) >= 6  # made in the same second: time-ordered ids share a prefix
    err = cli("show", common[:6], code=1).stderr
    assert "matches 3 contacts" in err and "type more characters" in err
    for full in ids:
        assert store.records.short_id("contacts", full) in err
    # any unique prefix of 6+ characters works, hyphens and case ignored
    for full in ids:
        short = store.records.short_id("contacts", full)
        assert cli.json("show", short.upper())["id"] == full
        assert cli.json("show", full[:8] + "-" + full[8:])["id"] == full


def test_usage_errors_exit_2(cli):
    assert cli("add", code=2).exit_code == 2
    assert cli("list", "--limit", "0", code=2).exit_code == 2
    assert cli("frobnicate", code=2).exit_code == 2


@pytest.mark.slow
def test_no_traceback_in_a_real_process(tmp_path):
    db = str(tmp_path / "p.db")
    for args in (["add", ""], ["show", "zzzzzzzz"], ["add", "x", "--at", "blah"]):
        r = run_fieldlog("--db", db, *args)
        assert r.returncode == 1
        assert "Traceback" not in r.stderr
        assert r.stderr.startswith("Error: ") and len(r.stderr.strip().splitlines()) == 1


def test_not_a_fieldlog_file(cli, tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("shopping list\n" * 50)
    before = text.read_bytes()
    err = cli("--db", str(text), "list", code=1).stderr
    assert "is not a fieldlog log (it is not an SQLite database)" in err
    assert text.read_bytes() == before

    other = tmp_path / "other.sqlite"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE cats (name TEXT)")
    conn.execute("INSERT INTO cats VALUES ('Tom')")
    conn.commit()
    conn.close()
    before = other.read_bytes()
    err = cli("--db", str(other), "add", "x", code=1).stderr
    assert "is an SQLite database but not a fieldlog log" in err
    assert other.read_bytes() == before

    err = cli("--db", str(tmp_path), "list", code=1).stderr
    assert "is a folder" in err


def test_locked_log_is_a_clear_error(cli, db_path, monkeypatch):
    cli("add", "Before the lock")
    before = snapshot(db_path)
    holder = sqlite3.connect(db_path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        monkeypatch.setenv("FIELDLOG_BUSY_TIMEOUT_MS", "200")
        r = run_fieldlog("--db", str(db_path), "add", "Blocked")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert r.returncode == 1, r.stderr
    assert "is locked by another program" in r.stderr and "Traceback" not in r.stderr
    assert snapshot(db_path) == before


def test_read_only_log_is_a_clear_error(cli, tmp_path):
    """A log on a read-only file (made immutable: root ignores file modes)."""
    import shutil
    import subprocess

    db = tmp_path / "ro.db"
    cli("--db", str(db), "add", "Written by the owner")
    if not shutil.which("chattr") or subprocess.run(["chattr", "+i", db]).returncode != 0:
        pytest.skip("chattr +i is not available here")
    try:
        before = db.read_bytes()
        r = run_fieldlog("--db", str(db), "add", "Sneaky")
        assert r.returncode == 1, r.stderr
        assert "Traceback" not in r.stderr
        assert "is read-only" in r.stderr, r.stderr
        assert db.read_bytes() == before
    finally:
        subprocess.run(["chattr", "-i", db])
