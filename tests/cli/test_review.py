"""Supervisor review of contacts on the laptop (``fieldlog review``; docs/review.md): the four
review fields in JSON, show, export and import, the edit rule, who may review, returned
contacts in ``followups``, and the upgrade of an older log."""

from __future__ import annotations

import csv
import io
import shutil
import sqlite3
from pathlib import Path

import pytest

from fieldlog import review
from fieldlog.db.store import Store

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
REVIEW_FIELDS = ("review_status", "review_comment", "reviewed_by", "reviewed_at")


def supervisor(cli, tmp_path: Path, officer: str = "Sgt Ruiz") -> str:
    """This laptop founds a department store at its first sync: its supervisor."""
    cli("init", "--officer", officer)
    url = str(tmp_path / "dept.fieldlog")
    cli("sync", url)
    return url


def add(cli, summary: str, *more: str) -> str:
    return cli.new("add", summary, "--hood", "Eastside", *more)


def review_of(cli, cid: str) -> dict:
    c = cli.json("show", cid)
    return {k: c[k] for k in REVIEW_FIELDS}


def test_a_saved_contact_is_submitted_and_show_says_so(cli):
    cid = add(cli, "Met the pastor")
    assert review_of(cli, cid) == dict.fromkeys(REVIEW_FIELDS) | {"review_status": "submitted"}
    listed = cli.json("list")[0]
    assert {k: listed[k] for k in REVIEW_FIELDS} == review_of(cli, cid)
    assert "Review        submitted" in cli("show", cid).stdout


def test_approve_and_return_on_a_supervisors_laptop(cli, tmp_path, monkeypatch):
    supervisor(cli, tmp_path)
    monkeypatch.setenv("FIELDLOG_NOW", "2026-11-24T14:30:00-06:00")
    a, b, c = (add(cli, f"Contact {n}") for n in "abc")
    out = cli("review", "approve", a[:12], b[:12]).stdout
    assert out.startswith("Approved 2 contacts (")
    for cid in (a, b):
        assert review_of(cli, cid) == {
            "review_status": "approved",
            "review_comment": None,
            "reviewed_by": "Sgt Ruiz",
            "reviewed_at": "2026-11-24T20:30:00Z",
        }
    out = cli("review", "return", c[:12], "--comment", "Add the address, please").stdout
    assert "Returned contact" in out and "Sgt Ruiz" in out
    assert review_of(cli, c)["review_comment"] == "Add the address, please"
    shown = cli("show", c).stdout
    assert "returned by Sgt Ruiz, 2026-11-24 14:30" in shown and "Add the address" in shown

    # the list: waiting for review by default, or by status, or all
    assert cli.json("review", "list") == []
    assert "No contacts wait for review." in cli("review", "list").stdout
    approved = cli.json("review", "list", "--status", "approved")
    assert [r["id"] for r in approved] == [a, b]
    assert set(approved[0]) == {"id", "short_id", "occurred_at", "officer", "summary",
                                "neighborhood", *REVIEW_FIELDS}  # fmt: skip
    assert [r["id"] for r in cli.json("review", "list", "--status", "RETURNED")] == [c]
    assert len(cli.json("review", "list", "--status", "all")) == 3
    out = cli("review", "list", "--status", "returned").stdout
    assert "Add the" in out and "returned" in out

    # approving a returned contact keeps the comment of the return (what was asked)
    cli("review", "approve", c)
    assert review_of(cli, c)["review_status"] == "approved"
    assert review_of(cli, c)["review_comment"] == "Add the address, please"

    # the audit chain holds each review write
    trail = cli.json("history", c)
    assert [e["action"] for e in trail["entries"]] == ["insert", "update", "update"]
    assert trail["entries"][1]["changes"]["review_status"] == "returned"
    assert cli("verify").stdout.startswith("OK: ")


def test_list_by_officer(cli, tmp_path, db_path):
    supervisor(cli, tmp_path)
    mine = add(cli, "Mine")
    store = Store.open(db_path)
    try:
        store.set_officer("Sam Lee")
        theirs = store.contacts.add({"summary": "Sam's"})
    finally:
        store.close()
    assert [r["id"] for r in cli.json("review", "list", "--officer", "sam lee")] == [theirs]
    assert [r["id"] for r in cli.json("review", "list", "--officer", "Sgt Ruiz")] == [mine]


def test_return_needs_a_comment(cli, tmp_path):
    supervisor(cli, tmp_path)
    cid = add(cli, "Met the pastor")
    for args in ([], ["--comment", "   "]):
        r = cli("review", "return", cid, *args, code=1)
        assert "--comment TEXT" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert review_of(cli, cid)["review_status"] == "submitted"
    with pytest.raises(Exception, match="comment"):
        review.return_values("Sgt Ruiz", "", "2026-11-24T20:30:00Z")


def test_a_bad_status_or_id_is_one_line(cli, tmp_path):
    supervisor(cli, tmp_path)
    cid = add(cli, "Met the pastor")
    r = cli("review", "list", "--status", "aproved", code=1)
    assert "did you mean approved" in r.stderr
    r = cli("review", "approve", cid, "ffffffffff", code=1)
    assert len(r.stderr.strip().splitlines()) == 1
    assert review_of(cli, cid)["review_status"] == "submitted"  # a wrong id writes nothing


def test_only_a_supervisor_reviews(cli, tmp_path, db_path):
    cid = add(cli, "Met the pastor")
    for args in (["approve", cid], ["return", cid, "--comment", "x"]):
        r = cli("review", *args, code=1)
        assert "fieldlog dept trust DEVICE --role supervisor" in r.stderr
        assert len(r.stderr.strip().splitlines()) == 1
    assert review_of(cli, cid)["review_status"] == "submitted"
    # listing is anyone's
    assert [r["id"] for r in cli.json("review", "list")] == [cid]

    # an enrolled officer (the store's trust list says so at each sync) is refused too
    url = str(tmp_path / "dept.fieldlog")
    boss = Store.open(tmp_path / "boss.db")
    try:
        boss.set_officer("Sgt Ruiz")
        from tests.lib.sync_helpers import do_sync, enroll

        officer = Store.open(db_path)
        try:
            enroll(url, boss, officer)
            do_sync(officer, url)
            assert officer.meta()["dept_role"] == "officer"
        finally:
            officer.close()
        assert boss.meta()["dept_role"] == "supervisor"
        assert review.may_review(boss) is None
    finally:
        boss.close()
    r = cli("review", "approve", cid, code=1)
    assert "Only a supervisor reviews contacts" in r.stderr


def test_an_edit_sends_a_returned_contact_back_for_review(cli, tmp_path, db_path):
    supervisor(cli, tmp_path)
    cid = add(cli, "Met the pastor")
    cli("review", "return", cid, "--comment", "Which church?")
    cli("edit", cid, "--notes", "St Mark's on 5th")
    got = review_of(cli, cid)
    assert got["review_status"] == "submitted"
    assert got["review_comment"] == "Which church?"  # kept: what the supervisor asked
    assert got["reviewed_by"] == "Sgt Ruiz"
    assert "submitted (last reviewed by Sgt Ruiz)" in cli("show", cid).stdout
    # an approved contact edited goes back too; an edit changing nothing does not
    cli("review", "approve", cid)
    cli("edit", cid, "--notes", "St Mark's on 5th")
    assert review_of(cli, cid)["review_status"] == "approved"
    cli("edit", cid, "--summary", "Met the pastor of St Mark's")
    assert review_of(cli, cid)["review_status"] == "submitted"
    # undo of that edit puts the status back with the summary
    cli("undo", "--yes")
    c = cli.json("show", cid)
    assert (c["summary"], c["review_status"]) == ("Met the pastor", "approved")


def test_followups_show_my_returned_contacts_with_the_comment(cli, tmp_path, db_path):
    supervisor(cli, tmp_path)
    due = add(cli, "Call back the landlord", "--follow-up", "today")
    cid = add(cli, "Met the pastor")
    before = cli("followups").stdout
    before_json = cli.json("followups")
    cli("review", "return", cid, "--comment", "Which church?")
    out = cli("followups").stdout
    assert out.startswith(before.rstrip("\n"))  # the follow-ups due print as before
    assert "Returned to you by a supervisor" in out and "Which church?" in out
    rows = cli.json("followups")
    assert rows[: len(before_json)] == before_json and rows[0]["id"] == due
    (extra,) = rows[len(before_json) :]
    assert extra["type"] == "returned" and extra["id"] == cid
    assert extra["detail"] == extra["review_comment"] == "Which church?"
    assert extra["reviewed_by"] == "Sgt Ruiz"
    # another officer's returned contact is theirs to fix, not this officer's
    store = Store.open(db_path)
    try:
        assert [r["id"] for r in store.contacts.returned()] == [cid]
        store.set_officer("Sam Lee")
        assert store.contacts.returned() == []
        assert [r["id"] for r in store.contacts.returned(everyone=True)] == [cid]
    finally:
        store.close()
    # fixed: it leaves the list
    cli("init", "--officer", "Sgt Ruiz")
    cli("edit", cid, "--notes", "St Mark's")
    assert "Returned to you" not in cli("followups").stdout


def _csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_export_import_round_trip_and_redact(cli, tmp_path, monkeypatch):
    supervisor(cli, tmp_path)
    monkeypatch.setenv("FIELDLOG_NOW", "2026-11-24T14:30:00-06:00")
    cid = add(cli, "Met Ana Díaz", "--name", "Ana Díaz")
    other = add(cli, "Walked the block")
    cli("review", "return", cid, "--comment", "Did Ana Díaz ask for a call back?")
    cli("review", "approve", other)
    out = tmp_path / "contacts.csv"
    cli("export", "contacts", "--out", str(out))
    rows = {r["id"]: r for r in _csv(out.read_text(encoding="utf-8"))}
    assert list(rows[cid])[-4:] == list(REVIEW_FIELDS)
    assert rows[cid]["review_status"] == "returned"
    assert rows[cid]["reviewed_at"] == "2026-11-24T14:30:00-06:00"  # local time, as occurred_at
    assert rows[other]["review_status"] == "approved" and rows[other]["review_comment"] == ""

    # redacted: the comment is free text (scrubbed), the reviewer and status are kept
    red = _csv(cli("export", "contacts", "--redact").stdout)
    returned = next(r for r in red if r["review_status"] == "returned")
    assert "Ana" not in returned["review_comment"] and "Person-" in returned["review_comment"]
    assert returned["reviewed_by"] == "Sgt Ruiz"
    assert returned["reviewed_at"] == "2026-11-24T14:30:00-06:00"

    # into another log: the same review state
    other_db = str(tmp_path / "other.db")
    cli("--db", other_db, "import", str(out))
    for rid in (cid, other):
        a, b = cli.json("show", rid), cli.json("--db", other_db, "show", rid)
        assert {k: a[k] for k in REVIEW_FIELDS} == {k: b[k] for k in REVIEW_FIELDS}
    again = tmp_path / "again.csv"
    cli("--db", other_db, "export", "contacts", "--out", str(again))
    assert _csv(again.read_text(encoding="utf-8")) == list(rows.values())


def test_a_file_exported_before_review_still_imports(cli, tmp_path):
    cid = add(cli, "Met the pastor")
    out = cli("export", "contacts").stdout
    old = [{k: v for k, v in r.items() if k not in REVIEW_FIELDS} for r in _csv(out)]
    path = tmp_path / "old.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(old[0]))
        w.writeheader()
        w.writerows(old)
    other_db = str(tmp_path / "other.db")
    cli("--db", other_db, "import", str(path))
    got = cli.json("--db", other_db, "show", cid)
    assert got["review_status"] == "submitted" and got["summary"] == "Met the pastor"


def test_an_older_log_upgrades_with_every_contact_submitted(cli, tmp_path):
    path = tmp_path / "v7.db"
    shutil.copyfile(FIXTURES / "schema_v7.db", path)
    conn = sqlite3.connect(path)
    before = conn.execute("SELECT id, summary, deleted FROM contacts ORDER BY id").fetchall()
    conn.close()
    assert before
    store = Store.open(path)
    try:
        rows = store.query("SELECT id, summary, deleted, review_status, review_comment, "
                           "reviewed_by, reviewed_at FROM contacts ORDER BY id")  # fmt: skip
    finally:
        store.close()
    assert [(r["id"], r["summary"], r["deleted"]) for r in rows] == before
    assert {(r["review_status"], r["review_comment"], r["reviewed_by"], r["reviewed_at"])
            for r in rows} == {("submitted", None, None, None)}  # fmt: skip
    assert cli("--db", str(path), "verify").stdout.startswith("OK: ")
    live = next(r["id"] for r in rows if not r["deleted"])
    trail = cli.json("--db", str(path), "history", live)
    assert trail["entries"][-1]["action"] == "upgrade"
    assert trail["entries"][-1]["changes"] == {"review_status": "submitted"}
