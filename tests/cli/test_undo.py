"""``fieldlog undo``: the last write of this officer on this laptop, taken back through the
write path (outbox and audit), a stack like Taskwarrior's, and never over someone's edit."""

from __future__ import annotations

import json
from functools import cache

import pytest
import typer
from typer.testing import CliRunner

from fieldlog.db import undo as undo_mod
from fieldlog.db.remotes.factory import open_remote
from fieldlog.db.store import Store
from tests.lib.sync_helpers import enroll


@cache
def _app() -> typer.Typer:
    """The CLI with ``undo`` (registered by fieldlog.cli.build_app once the lead adds it)."""
    from fieldlog.cli import app, build_app

    if "undo" in typer.main.get_command(app).commands:  # type: ignore[attr-defined]
        return app
    from fieldlog.cli import undo

    full = build_app()
    full.add_typer(undo.app)
    return full


class Run:
    def __init__(self) -> None:
        self.runner = CliRunner()

    def __call__(self, *args: str, input: str | None = None, code: int = 0):
        result = self.runner.invoke(_app(), list(args), input=input)
        assert result.exit_code == code, (
            f"fieldlog {' '.join(args)} exited {result.exit_code}, expected {code}\n"
            f"stdout: {result.stdout}\nstderr: {result.stderr}\n{result.exception!r}"
        )
        return result

    def json(self, *args: str):
        return json.loads(self(*args, "--json").stdout)


@pytest.fixture
def run() -> Run:
    r = Run()
    r("init", "--officer", "Dana Ruiz")
    return r


def live(store_path, table: str = "contacts") -> int:
    with Store.open(store_path) as s:
        return int(s.scalar(f"SELECT count(*) FROM {table} WHERE deleted = 0"))


def verify_ok(run: Run) -> None:
    out = run("verify").stdout
    assert out.startswith("OK"), out


def test_undo_an_add_removes_the_contact_and_its_concern(run, db_path):
    cid = run.json("add", "Met the owner of the corner store", "--concern", "noise:late music")[
        "id"
    ]
    with Store.open(db_path) as s:
        outbox = s.scalar("SELECT count(*) FROM changes")
    out = run("undo", "--yes").stdout
    assert out.startswith(f"Undid add of contact {cid[:8]}")
    assert "'Met the owner of the corner store' (and 1 concern)." in out
    assert live(db_path) == 0 and live(db_path, "concerns") == 0
    with Store.open(db_path) as s:  # the undo is a write like any other: it syncs
        assert s.scalar("SELECT count(*) FROM changes") == outbox + 2
        actions = [r["action"] for r in s.query("SELECT action FROM audit ORDER BY seq")]
    assert actions[-2:] == ["delete", "delete"]
    run("show", cid, code=1)
    verify_ok(run)


def test_undo_an_edit_puts_the_old_values_back_then_goes_further_back(run, db_path):
    cid = run.json("add", "Walked the block", "--hood", "Eastside", "--tag", "foot")["id"]
    run("edit", cid, "--summary", "Walked the whole block", "--tag", "a", "--tag", "b")
    run("edit", cid, "--hood", "Westside", "--follow-up", "friday")
    out = run("undo", "-y").stdout
    assert "Undid edit of contact" in out and "(neighborhood, follow-up)" in out
    c = run.json("show", cid)
    assert c["neighborhood"] == "Eastside" and c["follow_up_on"] is None
    assert c["summary"] == "Walked the whole block"  # only the last write
    out = run("undo", "-y").stdout  # the write before, not the undo
    assert "(summary, tags)" in out
    c = run.json("show", cid)
    assert c["summary"] == "Walked the block" and c["tags"] == ["foot"]
    assert run("undo", "-y").stdout.startswith("Undid add of contact")
    err = run("undo", "-y", code=1).stderr
    assert "Nothing to undo: Dana Ruiz has made no change on this laptop" in err
    verify_ok(run)


def test_a_new_write_after_an_undo_is_the_next_undone(run):
    cid = run.json("add", "First visit")["id"]
    run("edit", cid, "--summary", "Second")
    run("undo", "-y")  # back to "First visit"
    run("edit", cid, "--notes", "Some notes")
    assert "(notes)" in run("undo", "-y").stdout
    c = run.json("show", cid)
    assert c["summary"] == "First visit" and c["notes"] is None
    assert "Undid add" in run("undo", "-y").stdout  # the undone edit is skipped


def test_undo_a_delete_restores_the_contact_with_its_records(run, db_path):
    cid = run.json(
        "add", "Met Pastor Reyes", "--concern", "youth:no lit court", "--refer", "Parks Dept:lights"
    )["id"]
    run("delete", cid, "--yes")
    out = run("undo", "--yes").stdout
    assert out.startswith(f"Undid delete of contact {cid[:8]}")
    assert "(and 1 concern, 1 referral)" in out
    c = run.json("show", cid)
    assert len(c["concerns"]) == 1 and len(c["referrals"]) == 1
    hits = run.json("search", "Pastor")  # back in the search index
    assert any(h["id"] == cid for h in hits)
    verify_ok(run)
    with Store.open(db_path) as s:
        restore = s.query("SELECT action, changes FROM audit ORDER BY seq DESC LIMIT 1")[0]
    # A restore is an update setting deleted back to 0 (not a second "delete").
    assert json.loads(restore["changes"]).get("deleted") == 0
    assert restore["action"] == "update"


def test_asks_on_a_terminal_and_no_keeps_everything(run, db_path):
    run("add", "Met the owner")
    result = run("undo", input="n\n", code=1)
    assert "Undo add of contact" in result.stderr and "written" in result.stderr
    assert live(db_path) == 1
    assert "Undid add" in run("undo", input="y\n").stdout
    assert live(db_path) == 0


def test_dry_run_and_json(run, db_path):
    cid = run.json("add", "Met the owner", "--concern", "noise:music")["id"]
    assert run("undo", "--dry-run").stdout.startswith("Would undo add of contact")
    assert live(db_path) == 1
    out = run.json("undo", "--yes")
    assert out["action"] == "add" and out["id"] == cid and out["table"] == "contacts"
    assert {(r["table"], r["undo"]) for r in out["records"]} == {
        ("contacts", "tombstone"),
        ("concerns", "tombstone"),
    }
    assert out["message"].startswith("Undid add of contact")


def test_only_this_officers_writes(run):
    run("add", "Dana's contact")
    run("init", "--officer", "Sam Lee")
    sam = run.json("add", "Sam's contact")["id"]
    assert f"contact {sam[:8]}" in run("undo", "-y").stdout
    err = run("undo", "-y", code=1).stderr
    assert "Nothing to undo: Sam Lee" in err
    run("init", "--officer", "Dana Ruiz")
    assert "Dana's contact" in run("undo", "-y").stdout


def test_undo_of_a_concern_update_reopens_it(run):
    cid = run.json("add", "Noise complaint", "--concern", "noise:late music")["id"]
    kid = run.json("show", cid)["concerns"][0]["id"]
    run("concern", "update", kid, "--status", "resolved")
    out = run("undo", "-y").stdout
    assert out.startswith(f"Undid edit of concern {kid[:8]}") and ": 'late music'" in out
    assert run.json("show", cid)["concerns"][0]["status"] == "open"


def sync(store: Store, url: str) -> None:
    from fieldlog import sync as sync_mod

    remote = open_remote(url)
    try:
        sync_mod.sync_with(store, remote)
    finally:
        remote.close()


def test_refuses_when_a_synced_edit_changed_the_record_since(tmp_path, remote_url):
    a_path, b_path = tmp_path / "a.db", tmp_path / "b.db"
    run = Run()
    run("--db", str(a_path), "init", "--officer", "Dana Ruiz")
    cid = run.json("--db", str(a_path), "add", "Met the owner")["id"]
    run("--db", str(a_path), "edit", cid, "--summary", "Met the owner again")
    with Store.open(a_path) as a, Store.open(b_path) as b:
        b.set_officer("Sam Lee")
        enroll(remote_url, a, b)  # b's changes apply on a only once the store enrolled b
        sync(a, remote_url)
        sync(b, remote_url)
        b.contacts.update(cid, {"summary": "Sam's wording"})
        b_device = b.device_id()
        sync(b, remote_url)
        sync(a, remote_url)
    err = run("--db", str(a_path), "undo", "-y", code=1).stderr
    assert f"Cannot undo: contact {cid[:8]}" in err and "had its summary changed" in err
    assert f"on device {b_device} (pulled by a sync)" in err and "Nothing was changed" in err
    assert run.json("--db", str(a_path), "show", cid)["summary"] == "Sam's wording"


def test_an_edit_of_another_field_does_not_block_the_undo(tmp_path, remote_url):
    a_path, b_path = tmp_path / "a.db", tmp_path / "b.db"
    run = Run()
    run("--db", str(a_path), "init", "--officer", "Dana Ruiz")
    cid = run.json("--db", str(a_path), "add", "Met the owner", "--hood", "Eastside")["id"]
    run("--db", str(a_path), "edit", cid, "--summary", "Met the owner again")
    with Store.open(a_path) as a, Store.open(b_path) as b:
        b.set_officer("Sam Lee")
        enroll(remote_url, a, b)  # b's changes apply on a only once the store enrolled b
        sync(a, remote_url)
        sync(b, remote_url)
        b.contacts.update(cid, {"neighborhood": "Westside"})
        sync(b, remote_url)
        sync(a, remote_url)
        run("--db", str(a_path), "undo", "-y")
        sync(a, remote_url)
        sync(b, remote_url)
        row = b.contacts.get(cid)  # the undo travelled; Sam's edit stands
        assert row["summary"] == "Met the owner" and row["neighborhood"] == "Westside"


def test_refuses_to_delete_a_contact_that_gained_a_concern_from_someone_else(tmp_path, remote_url):
    a_path, b_path = tmp_path / "a.db", tmp_path / "b.db"
    run = Run()
    run("--db", str(a_path), "init", "--officer", "Dana Ruiz")
    cid = run.json("--db", str(a_path), "add", "Met the owner")["id"]
    with Store.open(a_path) as a, Store.open(b_path) as b:
        b.set_officer("Sam Lee")
        enroll(remote_url, a, b)  # b's changes apply on a only once the store enrolled b
        sync(a, remote_url)
        sync(b, remote_url)
        b.concerns.add(cid, category="noise", description="late music")
        sync(b, remote_url)
        sync(a, remote_url)
    err = run("--db", str(a_path), "undo", "-y", code=1).stderr
    assert "Cannot undo: concern" in err and f"was added to contact {cid[:8]}" in err
    assert live(a_path) == 1


def test_a_pulled_change_is_never_undone(tmp_path, remote_url):
    a_path, b_path = tmp_path / "a.db", tmp_path / "b.db"
    with Store.open(a_path) as a, Store.open(b_path) as b:
        a.set_officer("Dana Ruiz")
        b.set_officer("Dana Ruiz")  # the same officer, on another laptop
        b.contacts.add({"summary": "Logged on the other laptop"})
        sync(b, remote_url)
        sync(a, remote_url)
        assert undo_mod.last_write(a) is None
    err = Run()("--db", str(a_path), "undo", "-y", code=1).stderr
    assert "Nothing to undo" in err


def test_a_write_in_the_same_millisecond_as_an_undo_is_its_own(store, monkeypatch):
    """The range an undo notes keeps it apart from the next write even when the clock cannot
    (the same time to the millisecond: a fixed clock here)."""
    monkeypatch.setenv("FIELDLOG_NOW", "2026-03-02T15:00:00Z")
    store.set_officer("Dana Ruiz")
    cid = store.contacts.add({"summary": "First"})
    monkeypatch.setenv("FIELDLOG_NOW", "2026-03-02T15:01:00Z")
    store.contacts.update(cid, {"summary": "Second"})
    monkeypatch.setenv("FIELDLOG_NOW", "2026-03-02T15:02:00Z")
    undo_mod.undo(store)
    assert store.contacts.get(cid)["summary"] == "First"
    store.contacts.update(cid, {"notes": "later"})  # the undo's time to the millisecond
    done = undo_mod.undo(store)
    assert done.action == "edit" and set(done.main.fields) == {"notes"}
    assert store.contacts.get(cid)["summary"] == "First"
    assert undo_mod.undo(store).action == "add"
    assert undo_mod.last_write(store) is None
