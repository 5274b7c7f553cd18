"""Nothing lost: a process SIGKILLed at a random moment of a write leaves a log that opens,
verifies, and holds every write acknowledged before the kill (tests/lib/crash.py is the harness;
the sync tests use it for kills mid-sync)."""

from __future__ import annotations

import random
import shutil
import sqlite3
import statistics
import sys

import pytest

from fieldlog.db import migrations
from fieldlog.db.connect import connect
from fieldlog.db.store import Store
from tests.lib.crash import kill_after, open_and_verify
from tests.lib.run import RUN_COUNTS, run_fieldlog

pytestmark = pytest.mark.slow  # SIGKILL loops: many real processes killed at random points

SEED = random.randrange(1 << 30)


@pytest.fixture
def rng():
    print(f"crash seed {SEED}")  # shown with a failure: rerun the same delays
    return random.Random(SEED)


def _count(name: str, run) -> None:
    RUN_COUNTS[f"crash: {name} runs"] = RUN_COUNTS.get(f"crash: {name} runs", 0) + 1
    if run.killed:
        key = f"crash: {name} killed mid-run"
        RUN_COUNTS[key] = RUN_COUNTS.get(key, 0) + 1


def _time(args: list[str], db, n: int = 2) -> float:
    """How long an undisturbed run takes here (this machine, its load), on a scratch copy."""
    times = []
    for i in range(n):
        scratch = db.with_name(f"timing{i}.db")
        shutil.copy(db, scratch)
        run = kill_after(["--db", str(scratch), *args], delay=120)
        assert run.returncode == 0, run.stderr
        times.append(run.elapsed)
    return statistics.median(times)


def _fresh(template, path) -> None:
    for suffix in ("", "-wal", "-shm"):
        p = path.with_name(path.name + suffix)
        if p.exists():
            p.unlink()
    shutil.copy(template, path)


def test_kill_add_at_random_moments(tmp_path, rng):
    db = tmp_path / "log.db"
    assert run_fieldlog("--db", str(db), "init", "--officer", "Ofc Crash").returncode == 0
    args = ["add", "Crash visit", "--concern", "noise:loud", "--refer", "Parks:lights"]
    full = _time(args, db)
    acked: list[str] = []
    kills = 0
    for _ in range(16):
        # most of an add is starting Python: aim the kills at its last half, the writing part
        run = kill_after(["--db", str(db), *args], delay=rng.uniform(0.45, 1.1) * full)
        _count("add", run)
        kills += run.killed
        if not run.killed:
            assert run.returncode == 0, run.stderr
        state = open_and_verify(db)
        if run.stdout.endswith("\n"):
            acked.append(run.stdout.strip())
        contacts = state.ids["contacts"]
        for short in acked:
            assert any(c.startswith(short) for c in contacts), f"acknowledged {short} lost"
        assert len(acked) <= len(contacts) <= len(acked) + kills
        # each contact arrived whole, with its concern and referral, or not at all
        assert len(state.ids["concerns"]) == len(state.ids["referrals"]) == len(contacts)


DRIVER = r"""
import sys
from fieldlog.db.store import Store


s = Store.open(sys.argv[1])
i = 0
while True:
    cid = s.contacts.add(
        {"summary": f"Loop {i}"},
        [{"category": "noise", "description": "late music"}],
        [{"agency": "Parks", "reason": "lights"}],
    )
    print("add", cid)
    s.contacts.update(cid, {"summary": f"Loop {i} edited", "notes": "x" * (i % 50)})
    print("edit", cid)
    if i % 3 == 0:
        s.contacts.delete(cid)
        print("delete", cid)
    i += 1
"""


def test_kill_a_writing_loop_loses_no_acknowledged_write(tmp_path, rng):
    """One process writing as fast as it can (adds, edits, deletes, each acknowledged on
    stdout after its commit), killed at random: every acknowledged write is in the log."""
    db = tmp_path / "log.db"
    Store.open(db).close()
    for _ in range(5):
        run = kill_after([], cmd=[sys.executable, "-c", DRIVER, str(db)], delay=rng.uniform(0.6, 2))
        _count("writing loop", run)
        assert run.killed, run.stderr
        open_and_verify(db)
        lines = run.stdout.splitlines(keepends=True)
        acked = [line.split() for line in lines if line.endswith("\n")]
        assert acked, "the driver acknowledged nothing before the kill"
        RUN_COUNTS["crash: writing loop acknowledged writes"] = RUN_COUNTS.get(
            "crash: writing loop acknowledged writes", 0
        ) + len(acked)
        conn = sqlite3.connect(db)
        for op, cid in acked:
            row = conn.execute(
                "SELECT summary, deleted FROM contacts WHERE id = ?", [cid]
            ).fetchone()
            assert row is not None, f"acknowledged {op} of {cid} lost"
            if op == "edit":
                assert row[0].endswith("edited")
            if op == "delete":
                assert row[1] == 1
        conn.close()


def _sheet(path, n: int) -> None:
    lines = [
        "date,name,neighborhood,summary,concern category,concern text,referral agency,"
        "referral reason"
    ]
    for i in range(n):
        lines.append(
            f"2026-0{1 + i % 9}-{1 + i % 28:02d},Resident {i},Eastside,Sheet visit {i},noise,"
            f"late music {i},Parks Dept,lights {i}"
        )
    path.write_text("\n".join(lines) + "\n")


def test_kill_import_is_all_or_nothing(tmp_path, rng):
    template = tmp_path / "empty.db"
    assert run_fieldlog("--db", str(template), "init", "--officer", "Ofc Crash").returncode == 0
    sheet = tmp_path / "sheet.csv"
    n = 2000
    _sheet(sheet, n)
    full = _time(["import", str(sheet)], template)
    db = tmp_path / "log.db"
    for _ in range(5):
        _fresh(template, db)
        run = kill_after(
            ["--db", str(db), "import", str(sheet)], delay=rng.uniform(0.3, 1.1) * full
        )
        _count("import", run)
        state = open_and_verify(db)
        got = len(state.ids["contacts"])
        if not run.killed:
            assert run.returncode == 0 and got == n, run.stderr
        assert got in (0, n), f"a killed import left {got} of {n} contacts"
        assert len(state.ids["concerns"]) == got


def test_kill_demo_is_all_or_nothing(tmp_path, rng):
    template = tmp_path / "empty.db"
    assert run_fieldlog("--db", str(template), "init", "--officer", "Ofc Crash").returncode == 0
    n = 2000
    args = ["demo", "--contacts", str(n)]
    full = _time(args, template)
    db = tmp_path / "log.db"
    for _ in range(5):
        _fresh(template, db)
        run = kill_after(["--db", str(db), *args], delay=rng.uniform(0.3, 1.1) * full)
        _count("demo", run)
        state = open_and_verify(db)
        got = len(state.ids["contacts"])
        if not run.killed:
            assert run.returncode == 0 and got == n, run.stderr
        assert got in (0, n), f"a killed demo left {got} of {n} contacts"
        assert state.entries == sum(len(v) for v in state.ids.values())


def test_kill_during_the_audit_upgrade(tmp_path, rng):
    """An older log upgraded by the first command (backup, migration 0006 and its genesis
    entries): killed at any moment, it opens as before or as upgraded."""
    template = tmp_path / "v5.db"
    conn = connect(template)
    migrations.ensure_schema(conn, template, stop_before="0006_audit")
    conn.execute("BEGIN")  # the connection autocommits: one transaction, not 10,000
    conn.executemany(
        "INSERT INTO contacts (id, created_at, updated_at, officer, origin, hlc, occurred_at, "
        "summary) VALUES (?, 'x', 'x', 'Ofc Old', 'dev', 'h', '2026-01-01T00:00:00Z', ?)",
        [(f"0190{i:028x}", f"Old contact {i}") for i in range(10000)],
    )
    conn.execute("COMMIT")
    conn.close()
    full = _time(["list", "-n", "1"], template)
    db = tmp_path / "log.db"
    for _ in range(4):
        _fresh(template, db)
        for old in tmp_path.glob("log.db.v*.bak"):
            old.unlink()
        run = kill_after(["--db", str(db), "list", "-n", "1"], delay=rng.uniform(0.3, 1.1) * full)
        _count("upgrade", run)
        state = open_and_verify(db)
        assert len(state.ids["contacts"]) == 10000 and state.entries == 10000
