"""Problems are records like the others: exported (redacted too), imported back without loss,
audited, purged by the retention rule (issue 15)."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta


def _problem(store):
    cid = store.contacts.add(
        {"summary": "Met Maria Lopez about the court", "person_name": "Maria Lopez",
         "neighborhood": "Eastside", "location": "12 Elm St"},
        concerns=[{"category": "youth", "description": "Maria Lopez says no lights"}],
    )  # fmt: skip
    pid = store.problems.add(
        "Dark court (Maria Lopez)",
        neighborhood="Eastside",
        category="youth",
        coordinator="Dana Ruiz",
        links=[f"contact:{cid}"],
    )
    store.problems.log(pid, "Maria Lopez called again")
    store.problems.plan(pid, "Ask Parks for lights")
    return pid, cid


def test_export_and_import_round_trip(cli, store, tmp_path):
    pid, _ = _problem(store)
    out = tmp_path / "all"
    cli("export", "all", "--out", str(out))
    assert {"problems.csv", "problem_links.csv", "problem_entries.csv"} <= {
        p.name for p in out.iterdir()
    }
    other = tmp_path / "other.db"
    res = json.loads(cli("--db", str(other), "import", str(out), "--json").stdout)
    assert (res["problems"], res["problem_links"], res["problem_entries"]) == (1, 1, 2)
    again = json.loads(cli("--db", str(other), "import", str(out), "--json").stdout)
    assert again["problems"] == 0 and again["skipped"] > 0  # idempotent
    from fieldlog.db.store import Store

    with Store.open(other) as o:
        got = o.problems.get(pid)
        mine = store.problems.get(pid)
        assert got["plan"] == mine["plan"] and got["phase"] == mine["phase"]
        assert [e["text"] for e in got["entries"]] == [e["text"] for e in mine["entries"]]
        assert [c["id"] for c in got["contacts"]] == [c["id"] for c in mine["contacts"]]
    cli("--db", str(other), "verify")


def test_redacted_export_leaves_no_name(cli, store, tmp_path):
    _problem(store)
    for table in ("problems", "problem_entries", "problem_links"):
        path = tmp_path / f"{table}.csv"
        cli("export", table, "--redact", "--out", str(path))
        text = path.read_text(encoding="utf-8")
        assert "Maria" not in text and "Lopez" not in text, table
        assert "12 Elm" not in text
    rows = list(csv.DictReader((tmp_path / "problems.csv").open(encoding="utf-8")))
    assert rows[0]["phase"] == "scanning" and rows[0]["coordinator"] == "Dana Ruiz"


def test_problem_writes_are_audited(cli, store):
    pid, _ = _problem(store)
    store.problems.phase(pid, "analysis", note="two calls")
    out = cli("history", pid).stdout
    assert "phase" in out
    cli("verify")


def test_purge_takes_a_closed_problem_and_links_to_old_contacts(cli, store, monkeypatch):
    old = datetime.now(UTC) - timedelta(days=3 * 365)
    cid = store.contacts.add(
        {"summary": "Old contact", "neighborhood": "Eastside", "occurred_at": old},
        concerns=[{"category": "noise", "description": "old noise"}],
    )  # fmt: skip
    kept = store.problems.add("Open problem", links=[f"contact:{cid}"])
    closed = store.problems.add("Closed long ago", started_at=old)
    store.problems.log(closed, "done")
    store.problems.update(closed, closed_at=old + timedelta(days=30))
    store.problems.phase(closed, "closed")  # keeps its closing time, 2.5 years ago
    data = json.loads(cli("purge", "--older-than", "2y", "--yes", "--json").stdout)
    assert data["tombstoned"]["problems"] == 1
    assert data["tombstoned"]["problem_entries"] == 2  # "done" and the phase change
    assert data["tombstoned"]["problem_links"] == 1  # the open problem's link to the old contact
    assert [p["id"] for p in store.problems.list()] == [kept]
    assert store.problems.get(kept)["contacts"] == []
    cli("verify")
