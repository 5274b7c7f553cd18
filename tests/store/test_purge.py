"""`fieldlog purge --older-than AGE`: the retention rule, tombstones first, then removal."""

from __future__ import annotations

import json
import sqlite3

import pytest

from fieldlog.cli import audit as cli_audit
from fieldlog.db import retention
from tests.lib.snapshot import snapshot


@pytest.fixture
def aged(cli, db_path, monkeypatch):
    """Two contacts from 2021 (one with a concern and a referral), one from this year, a
    partner deleted in 2021 and one still in use."""
    cli("init", "--officer", "Ofc Reyes")
    monkeypatch.setenv("FIELDLOG_NOW", "2021-03-01T10:00:00-06:00")
    old = cli.new("add", "Met Pastor Reyes", "--name", "Ana Secret", "--concern",
                  "youth:no lit court", "--refer", "Parks Dept:court lighting")  # fmt: skip
    old2 = cli.new("add", "Porch chat with Mr Quiet")
    cli("org", "add", "Defunct Club")
    monkeypatch.setenv("FIELDLOG_NOW", "2026-06-01T10:00:00-06:00")
    new = cli.new("add", "Recent visit", "--concern", "noise:music")
    cli("org", "add", "Harbor Food Bank")
    # a partner deleted back in 2021 (the CLI has no org delete: the store's write path)
    from fieldlog.db.store import Store

    monkeypatch.setenv("FIELDLOG_NOW", "2021-04-01T10:00:00-06:00")
    with Store.open(db_path) as s:
        org = s.orgs.find("Defunct Club")["id"]
        with s.write() as tx:
            tx.tombstone("organizations", org)
    monkeypatch.setenv("FIELDLOG_NOW", "2026-06-01T10:00:00-06:00")
    return {"old": old, "old2": old2, "new": new, "org": org}


def q(db_path, sql: str, params=()) -> list:
    conn = sqlite3.connect(db_path)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


@pytest.mark.slow
def test_purge_removes_old_records_and_keeps_the_audit_sound(cli, db_path, aged):
    out = cli("purge", "--older-than", "2y", "--yes").stdout
    assert "Purged records from before 2024-06-01" in out
    assert "deleted 2 contacts, 1 concern, 1 referral" in out
    assert "removed for good 2 contacts, 1 concern, 1 referral, 1 partner" in out
    assert q(db_path, "SELECT id FROM contacts") == [(aged["new"],)]
    assert q(db_path, "SELECT count(*) FROM concerns") == [(1,)]
    assert q(db_path, "SELECT count(*) FROM referrals") == [(0,)]
    assert q(db_path, "SELECT name FROM organizations") == [("Harbor Food Bank",)]
    purged = dict(q(db_path, "SELECT row_id, tbl FROM purged"))
    assert purged[aged["old"]] == "contacts" and purged[aged["org"]] == "organizations"
    assert len(purged) == 5
    # the outbox rows of removed records are gone (no remote: nothing left to push)
    assert q(db_path, "SELECT count(*) FROM changes WHERE row_id = ?", [aged["old"]]) == [(0,)]
    # the audit keeps that they were purged; their personal data is erased from it
    assert q(db_path, "SELECT count(*) FROM audit WHERE action = 'purge'") == [(5,)]
    leftovers = q(
        db_path,
        "SELECT count(*) FROM audit WHERE changes LIKE '%Secret%' OR changes LIKE '%Quiet%'",
    )
    assert leftovers == [(0,)]
    assert cli("verify").stdout.startswith("OK: ")
    assert "5 purged" in cli("verify").stdout
    hist = cli("history", aged["old"]).stdout
    assert "the record was purged" in hist and "retention: older than 2024-06-01" in hist
    assert "content erased by the retention purge" in hist and "Secret" not in hist
    assert cli.json("history", aged["old"])["current"] == "purged"
    # the recent contact is untouched and a second run has nothing to do
    assert cli("purge", "--older-than", "2y", "--yes").stdout.startswith("Nothing to purge")


def test_dry_run_changes_nothing(cli, db_path, aged):
    before = snapshot(db_path)
    out = cli("purge", "--older-than", "2y", "--dry-run").stdout
    assert out.startswith("dry run: records from before 2024-06-01: would delete 2 contacts")
    data = cli.json("purge", "--older-than", "2y", "--dry-run")
    assert data["dry_run"] is True
    assert data["tombstoned"] == {
        "contacts": 2,
        "concerns": 1,
        "referrals": 1,
        "organizations": 0,
        "problems": 0,
        "problem_links": 0,
        "problem_entries": 0,
    }
    assert data["removed"] == {
        "contacts": 2,
        "concerns": 1,
        "referrals": 1,
        "organizations": 1,
        "problems": 0,
        "problem_links": 0,
        "problem_entries": 0,
    }
    assert snapshot(db_path) == before


def test_json_output(cli, aged):
    data = cli.json("purge", "--older-than", "2y", "--yes")
    assert data["dry_run"] is False and data["remotes"] == 0 and data["held_back"] == 0
    assert data["removed"]["contacts"] == 2 and data["cutoff"] == "2024-06-01"


def test_without_yes_off_a_terminal_it_refuses(cli, db_path, aged):
    before = snapshot(db_path)
    err = cli("purge", "--older-than", "2y", code=1).stderr
    assert err.startswith("Error: fieldlog purge deletes records for good: add --yes")
    assert err.count("\n") == 1
    assert snapshot(db_path) == before


def test_at_a_terminal_it_asks(cli, db_path, aged, monkeypatch):
    monkeypatch.setattr(cli_audit, "_interactive", lambda: True)
    before = snapshot(db_path)
    result = cli("purge", "--older-than", "2y", input="n\n", code=1)
    assert "Delete 2 contacts from before 2024-06-01 (with 1 concern and 1 referral)" in (
        result.stderr
    )
    assert snapshot(db_path) == before
    cli("purge", "--older-than", "2y", input="y\n")
    assert q(db_path, "SELECT count(*) FROM contacts") == [(1,)]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("age", "message"),
    [
        ("soon", "Cannot read the age 'soon'"),
        ("18m", "write 18mo for months"),
        ("0d", "would purge everything"),
        ("2099-01-01", "is in the future"),
        ("2023-02-30", "Cannot read the date '2023-02-30'"),
        ("9999y", "reaches back before 1970"),
    ],
)
def test_bad_ages_are_one_line_errors(cli, db_path, aged, age, message):
    before = snapshot(db_path)
    err = cli("purge", "--older-than", age, "--yes", code=1).stderr
    assert message in err and err.count("\n") == 1
    assert snapshot(db_path) == before


def test_ages(monkeypatch):
    from datetime import date

    today = date(2024, 2, 29)
    assert retention.cutoff_day("2y", today=today) == date(2022, 2, 28)
    assert retention.cutoff_day("18 months", today=today) == date(2022, 8, 29)
    assert retention.cutoff_day("26w", today=today) == date(2023, 8, 31)
    assert retention.cutoff_day("730d", today=today) == date(2022, 3, 1)
    assert retention.cutoff_day("2023-01-01", today=today) == date(2023, 1, 1)


@pytest.mark.slow
def test_tombstones_wait_for_every_remote(cli, db_path, aged):
    """With sync remotes (push cursors in meta), old records are tombstoned (and pushed by
    the next sync) but removed only once every remote has their tombstones."""
    top = q(db_path, "SELECT max(seq) FROM changes")[0][0]
    conn = sqlite3.connect(db_path)
    conn.execute("INSERT INTO meta VALUES ('sync:storeA:pushed', ?)", [str(top)])
    conn.execute("INSERT INTO meta VALUES ('sync:storeB:pushed', '0')")
    conn.commit()
    conn.close()
    data = cli.json("purge", "--older-than", "2y", "--yes")
    assert data["remotes"] == 2
    assert data["tombstoned"]["contacts"] == 2
    assert data["removed"] == {
        "contacts": 0,
        "concerns": 0,
        "referrals": 0,
        "organizations": 0,
        "problems": 0,
        "problem_links": 0,
        "problem_entries": 0,
    }
    assert data["held_back"] == 5
    assert q(db_path, "SELECT count(*) FROM contacts WHERE deleted = 1") == [(2,)]
    # the tombstones are in the outbox for sync to push
    assert q(db_path, "SELECT fields FROM changes WHERE row_id = ? ORDER BY seq DESC LIMIT 1",
             [aged["old"]]) == [("deleted",)]  # fmt: skip
    assert (
        "Run fieldlog sync, then fieldlog purge again"
        in cli("purge", "--older-than", "2y", "--yes").stdout
    )
    assert cli("verify").stdout.startswith("OK: ")
    # storeA has everything, storeB everything but the last change
    top = q(db_path, "SELECT max(seq) FROM changes")[0][0]
    last_row = q(db_path, "SELECT row_id FROM changes WHERE seq = ?", [top])[0][0]
    conn = sqlite3.connect(db_path)
    conn.execute("UPDATE meta SET value = ? WHERE key = 'sync:storeA:pushed'", [str(top)])
    conn.execute("UPDATE meta SET value = ? WHERE key = 'sync:storeB:pushed'", [str(top - 1)])
    conn.commit()
    conn.close()
    data = cli.json("purge", "--older-than", "2y", "--yes")
    assert sum(data["removed"].values()) == 4 and data["held_back"] == 1
    assert q(db_path, "SELECT id FROM contacts WHERE deleted = 1") == [(last_row,)]
    assert cli("verify").stdout.startswith("OK: ")
    conn = sqlite3.connect(db_path)
    conn.execute("UPDATE meta SET value = ? WHERE key LIKE 'sync:%:pushed'", [str(top)])
    conn.commit()
    conn.close()
    data = cli.json("purge", "--older-than", "2y", "--yes")
    assert data["removed"]["contacts"] == 1 and data["held_back"] == 0
    assert cli("verify").stdout.startswith("OK: ")


def test_a_contact_waits_for_its_children(cli, db_path, aged):
    """A child whose latest change a remote lacks keeps its contact (foreign key) too."""
    conn = sqlite3.connect(db_path)
    conn.execute("INSERT INTO meta VALUES ('sync:storeA:pushed', '0')")
    conn.commit()
    conn.close()
    cli("purge", "--older-than", "2y", "--yes")
    kid = q(db_path, "SELECT id FROM concerns WHERE contact_id = ?", [aged["old"]])[0][0]
    top = q(db_path, "SELECT max(seq) FROM changes")[0][0]
    conn = sqlite3.connect(db_path)
    conn.execute("UPDATE meta SET value = ? WHERE key = 'sync:storeA:pushed'", [str(top)])
    # a later change of the concern that storeA has not received
    conn.execute(
        "INSERT INTO changes (tbl, row_id, hlc, fields) VALUES ('concerns', ?, 'h', 'status')",
        [kid],
    )
    conn.commit()
    conn.close()
    data = cli.json("purge", "--older-than", "2y", "--yes")
    assert data["removed"] == {
        "contacts": 1,
        "concerns": 0,
        "referrals": 1,
        "organizations": 1,
        "problems": 0,
        "problem_links": 0,
        "problem_entries": 0,
    }
    assert q(db_path, "SELECT count(*) FROM contacts WHERE id = ?", [aged["old"]]) == [(1,)]
    assert cli("verify").stdout.startswith("OK: ")


def test_purge_is_one_line_on_an_empty_log(cli):
    cli("init", "--officer", "Dana")  # an empty log (on a missing one purge says "No log at")
    out = cli("purge", "--older-than", "2y").stdout
    assert out.startswith("Nothing to purge: no records from before ")
    assert json.loads(cli("purge", "--older-than", "1y", "--json").stdout)["removed"] == {
        "contacts": 0,
        "concerns": 0,
        "referrals": 0,
        "organizations": 0,
        "problems": 0,
        "problem_links": 0,
        "problem_entries": 0,
    }


def test_purge_forgets_held_and_quarantined_copies(cli, db_path, aged):
    """A change held or quarantined by sync keeps the record's text (personal data): a purge
    of that record removes those copies too."""
    from fieldlog.db import quarantine
    from fieldlog.db.remotes.types import RemoteChange
    from fieldlog.db.store import Store

    body = {"values": {"summary": "Ana Secret again"}, "row_id": aged["old"]}
    change = RemoteChange(7, "evil", 1, "contacts", aged["old"], "h", body, json.dumps(body))
    with Store.open(db_path) as s, s.write() as tx:
        quarantine.put(tx.conn, "store1", change, "invalid", "a test")
        tx.conn.execute(
            "INSERT INTO sync_held (store_id, seq, reason, body) VALUES (?, ?, ?, ?)",
            ["store1", 8, "waiting", json.dumps({"row_id": aged["old"], "body": body})],
        )
    cli("purge", "--older-than", "2y", "--yes")
    assert q(db_path, "SELECT count(*) FROM sync_quarantine") == [(0,)]
    assert q(db_path, "SELECT count(*) FROM sync_held") == [(0,)]
