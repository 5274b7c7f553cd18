"""Nothing lost: a process SIGKILLed at a random moment of a write leaves a log that opens,
verifies, and holds every write acknowledged before the kill (tests/lib/crash.py is the harness;
the sync tests use it for kills mid-sync)."""

from __future__ import annotations

import os
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
        # each contact: its genesis entry (0006) and its upgrade entry (0008, review status)
        assert len(state.ids["contacts"]) == 10000 and state.entries == 20000


# ---------------------------------------------------------------------- no leftovers
# A conversion, a passphrase change or a restore killed at a random moment: the log opens
# (with the old or the new passphrase), verifies and holds every contact; the next command
# removes and reports the temporary copies the kill left; and no file beside the log holds a
# resident's name in clear unless the log itself is in clear.
RESIDENT = "Quackenbush"
PASS1, PASS2 = "correct horse battery", "another staple"


def _conversion_template(tmp_path, encrypted: bool):
    """A log of 1,500 demo contacts and one resident (encrypted with PASS1 if asked)."""
    db = tmp_path / ("enc.db" if encrypted else "plain.db")
    env = {"FIELDLOG_PASSPHRASE": PASS1} if encrypted else {}
    args = ["init", "--officer", "Ofc Crash", *(["--encrypt"] if encrypted else [])]
    for cmd in (args, ["demo", "--contacts", "1500"],
                ["add", f"Met Ada {RESIDENT}", "--name", f"Ada {RESIDENT}"]):  # fmt: skip
        r = run_fieldlog("--db", str(db), *cmd, env=env)
        assert r.returncode == 0, r.stderr
    return db


def _open_any(db):
    """The log's passphrase after the kill: none, the old or the new one."""
    from fieldlog.db.connect import WrongPassphrase, connect, log_kind

    if log_kind(db) == "plain":
        return None
    for key in (PASS1, PASS2):
        try:
            connect(db, passphrase=key).close()
            return key
        except WrongPassphrase:
            continue
    raise AssertionError(f"neither passphrase opens {db} after the kill")


def _no_plaintext_leftover(db, n_contacts: int) -> None:
    folder = db.parent
    key = _open_any(db)
    hidden = [p for p in folder.iterdir() if p.name.startswith(f".{db.name}.")]
    foreign = [p for p in hidden if not (p.exists() and os.path.samefile(p, db))]
    env = {"FIELDLOG_PASSPHRASE": key} if key else {"FIELDLOG_PASSPHRASE": ""}
    r = run_fieldlog("--db", str(db), "list", "--limit", "1", "--json", env=env)
    assert r.returncode == 0, r.stderr
    said = [line for line in r.stderr.splitlines() if line.startswith("Removed ")]
    assert len(said) == len({p.name.split(".tmp")[0] for p in foreign}), (r.stderr, hidden)
    assert "Traceback" not in r.stderr
    left = [p.name for p in folder.iterdir() if p.name.startswith(f".{db.name}.")]
    assert left == [], f"not swept: {left}"
    for p in folder.iterdir():
        if not p.is_file() or (key is None and p.name.startswith(db.name)):
            continue  # the log in clear (and its -wal), by the officer's choice
        assert RESIDENT.encode() not in p.read_bytes(), f"{RESIDENT} in clear in {p.name}"
    with Store.open(db, passphrase=key) as store:
        from fieldlog.db import audit

        rep = audit.verify(store.conn)
        assert rep.ok, "\n".join(rep.problems)
        assert store.contacts.count() == n_contacts
    if said:
        RUN_COUNTS["crash: leftovers swept and said"] = RUN_COUNTS.get(
            "crash: leftovers swept and said", 0
        ) + len(said)


def _kill_loop(name, tmp_path, rng, template, args, env, n_contacts, runs=4, aim=(0.3, 1.05)):
    work = tmp_path / name
    work.mkdir()
    db = work / "log.db"
    _fresh(template, db)
    scratch = work / "timing.db"
    _fresh(template, scratch)
    t = kill_after(["--db", str(scratch), *args], delay=120, env=env)
    assert t.returncode == 0, t.stderr
    full = t.elapsed
    for p in work.iterdir():
        if p.name.startswith("timing") or p.name.startswith(".timing"):
            p.unlink()
    for _ in range(runs):
        _fresh(template, db)
        for p in work.glob("log.db.*"):
            p.unlink()  # kept copies of an earlier round
        run = kill_after(["--db", str(db), *args], delay=rng.uniform(*aim) * full, env=env)
        _count(name, run)
        if not run.killed:
            assert run.returncode == 0, run.stderr
        _no_plaintext_leftover(db, n_contacts)


def test_kill_encrypt_leaves_no_plaintext_copy(tmp_path, rng):
    template = _conversion_template(tmp_path, encrypted=False)
    _kill_loop("encrypt", tmp_path, rng, template, ["encrypt"],
               {"FIELDLOG_PASSPHRASE": PASS1}, 1501)  # fmt: skip


def test_kill_decrypt_leaves_no_plaintext_copy(tmp_path, rng):
    template = _conversion_template(tmp_path, encrypted=True)
    _kill_loop("decrypt", tmp_path, rng, template, ["decrypt", "--yes"],
               {"FIELDLOG_PASSPHRASE": PASS1}, 1501)  # fmt: skip


def test_kill_passphrase_change_leaves_a_log_one_passphrase_opens(tmp_path, rng):
    template = _conversion_template(tmp_path, encrypted=True)
    env = {"FIELDLOG_PASSPHRASE": PASS1, "FIELDLOG_NEW_PASSPHRASE": PASS2}
    # the rekey is the last part of the run (most of it is starting Python): aim there
    _kill_loop("passphrase", tmp_path, rng, template, ["passphrase"], env, 1501, aim=(0.7, 1.0))


def test_kill_restore_leaves_no_plaintext_copy(tmp_path, rng):
    template = _conversion_template(tmp_path, encrypted=True)
    backups = tmp_path / "backups"
    backups.mkdir()
    backup = backups / "b.db"
    r = run_fieldlog("--db", str(template), "backup", str(backup),
                     env={"FIELDLOG_PASSPHRASE": PASS1})  # fmt: skip
    assert r.returncode == 0, r.stderr
    _kill_loop("restore", tmp_path, rng, template, ["restore", str(backup), "--yes"],
               {"FIELDLOG_PASSPHRASE": PASS1}, 1501)  # fmt: skip
