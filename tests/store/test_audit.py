"""The audit chain: every write appends an entry; verify finds tampering; history shows it."""

from __future__ import annotations

import csv
import json
import sqlite3
from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fieldlog.db import audit, migrations
from fieldlog.db.audit import chain as audit_chain
from fieldlog.db.connect import connect
from fieldlog.db.store import Store


@pytest.fixture
def logged(cli):
    """A contact with a concern and a referral, edited once; a partner; one deleted contact."""
    cli("init", "--officer", "Ofc Reyes")
    cli("org", "add", "Parks Dept")
    cid = cli.new("add", "Met Pastor Reyes", "--concern", "youth:no lit court", "--refer",
                  "Parks Dept:court lighting")  # fmt: skip
    cli("edit", cid, "--summary", "Met Pastor Reyes and his wife", "--notes", "Call back")
    gone = cli.new("add", "Wrong entry")
    cli("delete", gone, "--yes")
    return {"contact": cid, "deleted": gone}


def tamper(db_path, *sql: str) -> None:
    conn = sqlite3.connect(db_path)
    for s in sql:
        conn.execute(s)
    conn.commit()
    conn.close()


def entries(db_path) -> list[dict]:
    conn = sqlite3.connect(db_path)
    conn.row_factory = sqlite3.Row
    rows = [dict(r) for r in conn.execute("SELECT * FROM audit ORDER BY seq")]
    conn.close()
    return rows


def problems(cli) -> str:
    result = cli("verify", code=1)
    assert "Traceback" not in result.output
    return result.stdout


def test_every_write_appends_a_chained_entry(cli, db_path, logged):
    rows = entries(db_path)
    actions = [(r["tbl"], r["action"]) for r in rows]
    assert actions == [
        ("organizations", "insert"),
        ("contacts", "insert"),
        ("concerns", "insert"),
        ("referrals", "insert"),
        ("contacts", "update"),
        ("contacts", "insert"),
        ("contacts", "delete"),
    ]
    prev = audit.FIRST_PREV
    for r in rows:
        assert r["prev"] == prev
        assert r["hash"] == audit.entry_hash(r)
        assert r["changes_hash"] == audit.sha256(r["changes"])
        assert r["officer"] == "Ofc Reyes" and r["origin"] and r["at"].endswith("Z")
        prev = r["hash"]
    update = rows[4]
    assert json.loads(update["changes"]) == {
        "summary": "Met Pastor Reyes and his wife",
        "notes": "Call back",
    }
    assert json.loads(rows[1]["changes"])["summary"] == "Met Pastor Reyes"
    assert json.loads(rows[6]["changes"]) == {"deleted": 1}


def test_meta_writes_are_not_audited(cli, db_path):
    cli("init", "--officer", "A")
    cli("init", "--officer", "B", "--badge", "42")
    with Store.open(db_path) as s:
        s.drafts.save("add", {"summary": "half typed"})
        s.drafts.drop("add")
    assert entries(db_path) == []


def test_verify_sound_log_exits_0_with_one_line(cli, logged):
    out = cli("verify").stdout
    assert out.count("\n") == 1
    assert out.startswith("OK: ") and "7 audit entries chained" in out
    assert "5 records match their last entry" in out
    data = cli.json("verify")
    assert data["ok"] is True and data["problems"] == [] and data["entries"] == 7


def test_row_changed_outside_fieldlog_is_named(cli, db_path, logged):
    cid = logged["contact"]
    tamper(db_path, f"UPDATE contacts SET summary = 'x' WHERE id = '{cid}'")
    out = problems(cli)
    assert f"The contact {cid} was changed outside fieldlog: summary differs" in out
    assert "1 problem found" in out
    data = json.loads(cli("verify", "--json", code=1).stdout)
    assert data["ok"] is False and len(data["problems"]) == 1


def test_bookkeeping_and_tombstone_tampering_is_caught(cli, db_path, logged):
    cid, gone = logged["contact"], logged["deleted"]
    tamper(
        db_path,
        f"UPDATE contacts SET hlc = 'x' WHERE id = '{cid}'",
        f"UPDATE contacts SET deleted = 0 WHERE id = '{gone}'",  # an undelete by hand
    )
    out = problems(cli)
    assert f"The contact {cid} was changed outside fieldlog: its sync bookkeeping" in out
    assert f"The contact {gone} was changed outside fieldlog: deleted differs" in out


def test_removed_and_added_rows_are_named(cli, db_path, logged):
    cid = logged["contact"]
    conn = sqlite3.connect(db_path)
    ref = conn.execute("SELECT id FROM referrals").fetchone()[0]
    conn.close()
    tamper(
        db_path,
        f"DELETE FROM referrals WHERE id = '{ref}'",
        "INSERT INTO contacts (id, created_at, updated_at, officer, origin, hlc, occurred_at, "
        "summary) VALUES ('0190aaaaaaaa7aaa8aaaaaaaaaaaaaaa', 'x', 'x', 'o', 'd', 'h', "
        "'2026-01-01T00:00:00Z', 'ghost')",
    )
    out = problems(cli)
    assert f"The referral {ref} is missing from the log" in out
    assert "deleted outside fieldlog" in out
    assert "The contact 0190aaaaaaaa7aaa8aaaaaaaaaaaaaaa has no audit entry" in out
    assert cid not in out


def test_foreign_key_damage_is_reported(cli, db_path, logged):
    cid = logged["contact"]
    conn = sqlite3.connect(db_path)
    conn.execute("PRAGMA foreign_keys = OFF")
    conn.execute(f"DELETE FROM contacts WHERE id = '{cid}'")
    conn.commit()
    conn.close()
    out = problems(cli)
    assert "names a contact that is not in the log" in out
    assert f"The contact {cid} is missing from the log" in out


def test_altered_entry_is_named(cli, db_path, logged):
    tamper(db_path, "UPDATE audit SET officer = 'Mallory' WHERE seq = 3")
    out = problems(cli)
    assert "audit entry #3 (insert of concern" in out and "was altered" in out


def test_altered_changes_are_named(cli, db_path, logged):
    tamper(db_path, 'UPDATE audit SET changes = \'{"summary": "other"}\' WHERE seq = 2')
    assert "The changes recorded in audit entry #2 (insert of contact" in problems(cli)


def test_erased_changes_without_a_purge_are_named(cli, db_path, logged):
    tamper(db_path, "UPDATE audit SET changes = NULL WHERE seq = 5")
    assert "were erased, but that record was never purged" in problems(cli)


def test_removed_entry_is_named(cli, db_path, logged):
    tamper(db_path, "DELETE FROM audit WHERE seq IN (4, 5)")
    out = problems(cli)
    assert "Audit entries #4–#5 are missing: removed from the chain." in out
    # the rows those entries covered no longer match (the referral has no entry at all)
    assert "has no audit entry" in out


def test_removed_last_entry_is_named(cli, db_path, logged):
    tamper(db_path, "DELETE FROM audit WHERE seq = 7")
    assert (
        "SQLite's counter says the audit chain reached entry #7, but it ends at #6: entries "
        "after #6 were removed from the end of the chain."
    ) in problems(cli)


def test_rewritten_entry_with_a_fresh_hash_breaks_the_next_link(cli, db_path, logged):
    """A forger who recomputes the altered entry's own hash still breaks the chain."""
    rows = entries(db_path)
    e = dict(rows[3])
    e["officer"] = "Mallory"
    forged = audit.entry_hash(e)
    tamper(db_path, f"UPDATE audit SET officer = 'Mallory', hash = '{forged}' WHERE seq = 4")
    out = problems(cli)
    assert "The chain is broken at audit entry #5" in out
    assert "#4" not in out.split("The chain is broken")[0]


def test_every_problem_is_listed(cli, db_path, logged):
    cid = logged["contact"]
    tamper(
        db_path,
        f"UPDATE contacts SET notes = 'edited by hand' WHERE id = '{cid}'",
        "UPDATE audit SET at = '2020-01-01T00:00:00.000Z' WHERE seq = 1",
        "DELETE FROM audit WHERE seq = 6",
    )
    out = problems(cli)
    assert "notes differs" in out
    assert "audit entry #1" in out and "Audit entry #6 is missing" in out
    assert "3 problems found" in out or "4 problems found" in out


@pytest.mark.slow
def test_writes_by_every_path_verify(cli, db_path, tmp_path):
    """The store's paths: typed adds and edits, concerns, referrals, partners, import (insert
    and update), demo data (the bulk insert), deletes."""
    cli("demo", "--contacts", "30")
    cid = cli.new("add", "Porch chat", "--concern", "noise:music")
    kid = cli.new("concern", "add", cid, "traffic", "speeding")
    cli("concern", "update", kid, "--status", "resolved", "--resolution", "Speed bump")
    rid = cli.new("refer", cid, "Harbor Food Bank", "--reason", "groceries")
    cli("referral", "update", rid, "--status", "completed", "--outcome", "fed")
    cli("org", "edit", "Harbor Food Bank", "--phone", "555-0199")
    out = tmp_path / "contacts.csv"
    cli("export", "contacts", "--out", str(out))
    with out.open(newline="", encoding="utf-8") as fh:
        table = list(csv.DictReader(fh))
    for row in table:
        if row["id"] == cid:  # an edit made elsewhere, later: the import updates the record
            row["summary"] = "Porch chat (imported edit)"
            later = datetime.fromisoformat(row["updated_at"]) + timedelta(minutes=1)
            row["updated_at"] = later.isoformat(timespec="milliseconds")
    with out.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(table[0]))
        w.writeheader()
        w.writerows(table)
    cli("import", str(out))
    sheet = tmp_path / "sheet.csv"
    sheet.write_text(
        "date,name,neighborhood,summary,concern category,concern text,referral agency,"
        "referral reason\n2026-11-01,Ana Diaz,Eastside,Walk and talk,noise,late music,"
        "Parks Dept,lights\n"
    )
    cli("import", str(sheet))
    assert "Porch chat → Porch chat (imported edit)" in cli("history", cid).stdout
    assert cli("verify").stdout.startswith("OK: ")
    cli("delete", cid, "--yes")
    assert cli("verify").stdout.startswith("OK: ")
    conn = sqlite3.connect(db_path)
    n_rows = sum(
        conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in audit.RECORD_TABLES
    )
    n_ids = conn.execute("SELECT count(DISTINCT row_id) FROM audit").fetchone()[0]
    conn.close()
    assert n_rows == n_ids


def test_sync_api_append(db_path):
    """What sync calls after applying a pulled change with its own SQL."""
    with Store.open(db_path) as s:
        cid = s.contacts.add({"summary": "Local"})
        with s.write():
            s.conn.execute("UPDATE contacts SET summary = 'Pulled', hlc = 'z' WHERE id = ?", [cid])
            h = audit.append(
                s.conn,
                table="contacts",
                row_id=cid,
                action="sync",
                changes={"summary": "Pulled"},
                officer="Ofc Chen",
                origin="remote-laptop",
                at="2026-11-25T10:00:00.000Z",
            )
        rep = audit.verify(s.conn)
        assert rep.ok, rep.problems
        assert rep.head == h
        trail = audit.history(s.conn, "contacts", cid)
        assert [e["action"] for e in trail["entries"]] == ["insert", "sync"]
        assert trail["entries"][1]["before"] == {"summary": "Local"}
        assert trail["current"] == "matches"


def test_upgrade_gives_existing_rows_a_genesis_entry(tmp_path, cli):
    path = tmp_path / "old.db"
    conn = connect(path)
    migrations.ensure_schema(conn, path, stop_before="0006_audit")
    conn.execute(
        "INSERT INTO contacts (id, created_at, updated_at, officer, origin, hlc, occurred_at, "
        "summary, tags) VALUES ('0190aaaaaaaa7aaa8aaaaaaaaaaaaaaa', '2025-01-01T00:00:00.000Z', "
        "'2025-01-01T00:00:00.000Z', 'Ofc Old', 'dev1', '0000000000001-00000-dev1', "
        "'2025-01-01T00:00:00Z', 'Before the audit', '[\"legacy\"]')"
    )
    conn.execute(
        "INSERT INTO concerns (id, created_at, updated_at, officer, origin, hlc, deleted, "
        "contact_id, category, description) VALUES ('0190aaaaaaab7aaa8aaaaaaaaaaaaaaa', "
        "'x', 'x', 'Ofc Old', 'dev1', 'h', 1, '0190aaaaaaaa7aaa8aaaaaaaaaaaaaaa', 'noise', "
        "'gone')"
    )
    conn.commit()
    conn.close()
    out = cli("--db", str(path), "verify").stdout
    assert out.startswith("OK: ") and "3 audit entries" in out
    rows = entries(path)
    assert [(r["tbl"], r["action"], r["officer"], r["origin"]) for r in rows] == [
        ("contacts", "genesis", "Ofc Old", "dev1"),
        ("concerns", "genesis", "Ofc Old", "dev1"),
        ("contacts", "upgrade", "Ofc Old", "dev1"),  # 0008: its review status
    ]
    hist = cli("--db", str(path), "history", "0190aaaaaaaa").stdout
    assert "in the log when the audit began" in hist and "Before the audit" in hist
    cli("--db", str(path), "edit", "0190aaaaaaaa", "--summary", "After the audit")
    assert cli("--db", str(path), "verify").stdout.startswith("OK: ")
    hist = cli("--db", str(path), "history", "0190aaaaaaaa").stdout
    assert "Before the audit → After the audit" in hist


def test_history_shows_the_trail(cli, logged):
    cid = logged["contact"]
    out = cli("history", cid[:12]).stdout
    lines = out.splitlines()
    assert lines[0].startswith(f"contact {cid}: 2 audit entries; the record matches")
    assert "added  by Ofc Reyes on device" in out
    assert "summary: Met Pastor Reyes → Met Pastor Reyes and his wife" in out
    assert "notes: (empty) → Call back" in out
    data = cli.json("history", cid)
    assert data["table"] == "contacts" and data["id"] == cid and data["current"] == "matches"
    assert [e["action"] for e in data["entries"]] == ["insert", "update"]
    assert data["entries"][1]["before"] == {"summary": "Met Pastor Reyes", "notes": None}
    assert set(data["entries"][0]) >= {"seq", "at", "officer", "device", "action", "hash"}


def test_history_of_a_deleted_record_and_other_types(cli, db_path, logged):
    out = cli("history", logged["deleted"]).stdout
    assert "2 audit entries" in out and "deleted  by Ofc Reyes" in out
    conn = sqlite3.connect(db_path)
    kid = conn.execute("SELECT id FROM concerns").fetchone()[0]
    org = conn.execute("SELECT id FROM organizations").fetchone()[0]
    conn.close()
    assert cli.json("history", kid, "--type", "concern")["table"] == "concerns"
    assert cli.json("history", org[:12])["table"] == "organizations"


def test_history_reports_tampering(cli, db_path, logged):
    cid = logged["contact"]
    tamper(db_path, f"UPDATE contacts SET summary = 'x' WHERE id = '{cid}'")
    assert "does NOT match its last entry" in cli("history", cid).stdout
    assert cli.json("history", cid)["current"] == "changed"


def test_history_prefix_shared_across_types_prefers_the_contact(cli, db_path, logged):
    cid = logged["contact"]
    conn = sqlite3.connect(db_path)
    kid = conn.execute("SELECT id FROM concerns").fetchone()[0]
    conn.close()
    common = 0
    while cid[common] == kid[common]:
        common += 1
    if common < 6:
        pytest.skip("the contact and its concern were made in different milliseconds")
    result = cli("history", cid[:common])
    assert result.stdout.startswith(f"contact {cid}")
    assert "also fits the concern" in result.stderr and "--type" in result.stderr
    assert cli.json("history", cid[:common], "--type", "concern")["id"] == kid


@pytest.mark.slow
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["history", "abc"], "too short: give at least 6 characters"),
        (["history", "ffffffffff"], "No record has an id starting with 'ffffffffff'"),
        (["history", "not-an-id!"], "No record has an id starting with"),
        (["history", "019", "--type", "person"], "too short"),
        (["history", "0190aaaaaa", "--type", "person"], "Unknown type 'person'"),
    ],
)
def test_history_errors_are_one_line(cli, logged, args, message):
    err = cli(*args, code=1).stderr
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.slow
def test_history_ambiguous_prefix(cli, db_path):
    ids = [cli.new("add", f"Visit {i}") for i in range(40)]
    by_prefix: dict[str, list[str]] = {}
    for i in ids:
        by_prefix.setdefault(i[:6], []).append(i)
    prefix, same = max(by_prefix.items(), key=lambda kv: len(kv[1]))
    assert len(same) > 1  # 40 adds in well under a day share 6 characters
    err = cli("history", prefix, code=1).stderr
    assert f"The id '{prefix}' matches" in err and "type more characters" in err


@settings(max_examples=200, deadline=None)
@given(
    e=st.fixed_dictionaries(
        {
            "seq": st.integers(1, 1 << 62),
            "at": st.text(),
            "officer": st.text(),
            "origin": st.text(),
            "tbl": st.sampled_from(audit.RECORD_TABLES),
            "row_id": st.text(),
            "action": st.text(),
            "changes_hash": st.text(),
            "row_hash": st.none() | st.text(),
            "prev": st.text(),
        }
    )
)
def test_entry_text_is_the_canonical_json(e):
    """The hand-written entry text (the bulk path's speed-up) is exactly canonical JSON."""
    assert audit.entry_text(e) == audit.canonical(e)
    assert json.loads(audit.entry_text(e)) == e


VALUE = st.none() | st.text() | st.integers(-(1 << 63), (1 << 63) - 1) | st.binary(max_size=8)


@settings(max_examples=200, deadline=None)
@given(
    row=st.dictionaries(st.sampled_from(["id", "hlc", "deleted", "summary", "tags", "x"]), VALUE)
)
def test_row_state_is_the_canonical_json_of_both_parts(row):
    book = {k: v for k, v in row.items() if k in audit.BOOKKEEPING and v is not None}
    fields = {k: v for k, v in row.items() if k not in audit.BOOKKEEPING and v is not None}
    text = audit.state_text(*audit.row_texts(row))
    assert text == audit.canonical({"b": book, "f": fields})
    assert audit.row_hash(row) == audit.sha256(text)
    if "id" in row:  # the bulk path's version, from a query's tuples
        assert audit_chain._raw_texts(list(row))(tuple(row.values())) == (
            row["id"],
            *audit.row_texts(row),
        )
