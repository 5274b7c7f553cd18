"""Encryption at rest: creating, opening, converting and re-keying an encrypted log, the
passphrase prompt, the errors, the TUI's login and idle lock, and a grep of every file
fieldlog wrote for a person's name."""

from __future__ import annotations

import asyncio
import os
import select
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import pytest

from fieldlog.db import migrations
from fieldlog.db.connect import (
    SQLITE_HEADER,
    PassphraseNeeded,
    WrongPassphrase,
    connect,
    is_encrypted,
)
from fieldlog.db.scratch import ram_dir
from fieldlog.db.store import Store
from tests.lib.crypto import PASS, digest, files, hold_open, one_error_line, release
from tests.lib.portable import needs_pty
from tests.lib.run import run_fieldlog

NAME = "Zebediah Quackenbush"
SECRETS = (b"zebediah", b"quackenbush")


def keys(text: str) -> list[str]:
    """Characters as pilot key names."""
    return ["space" if c == " " else c for c in text]


def make_encrypted(path: Path, *summaries: str, name: str = NAME) -> list[str]:
    with Store.open(path, passphrase=PASS, encrypt=True) as store:
        return [
            store.contacts.add({"summary": s, "person_name": name, "neighborhood": "Eastside"})
            for s in summaries or ("Met at the bakery",)
        ]


# ---------------------------------------------------------------------- create and open
@pytest.mark.slow
def test_init_encrypt_creates_an_encrypted_log(cli, db_path, monkeypatch):
    monkeypatch.setenv("FIELDLOG_PASSPHRASE", PASS)
    out = cli("init", "--officer", "Ofc Diaz", "--encrypt").stdout
    assert "(encrypted)" in out
    assert is_encrypted(db_path)
    assert db_path.read_bytes()[:16] != SQLITE_HEADER
    cli("add", "Met the shop owner", "--name", NAME, "--hood", "Eastside")
    assert "Met the shop owner" in cli("list").stdout
    monkeypatch.delenv("FIELDLOG_PASSPHRASE")
    with pytest.raises(PassphraseNeeded):
        Store.open(db_path)
    with Store.open(db_path, passphrase=PASS) as store:
        assert store.encrypted and store.contacts.count() == 1
        assert len(store.search.hits("quackenbush")) == 1


def test_a_passphrase_in_the_environment_encrypts_a_new_log(cli, db_path, monkeypatch):
    monkeypatch.setenv("FIELDLOG_PASSPHRASE", PASS)
    cli("add", "First one")
    assert is_encrypted(db_path)


def test_init_encrypt_refuses_an_existing_plain_log(cli, db_path, monkeypatch):
    cli("add", "Plain one")
    before = digest(db_path)
    monkeypatch.setenv("FIELDLOG_PASSPHRASE", PASS)
    err = cli("init", "--officer", "X", "--encrypt", code=1).stderr
    assert "fieldlog encrypt" in err
    assert digest(db_path) == before


@pytest.mark.slow
def test_encrypted_log_errors_in_a_real_process(tmp_path):
    db = tmp_path / "log.db"
    env = {"FIELDLOG_DB": str(db), "FIELDLOG_PASSPHRASE": ""}
    # no passphrase, no terminal: nothing is created
    r = run_fieldlog("init", "--officer", "X", "--encrypt", env=env, stdin=subprocess_devnull())
    assert r.returncode == 1
    assert "needs a passphrase" in one_error_line(r.stderr)
    assert not db.exists()

    make_encrypted(db)
    before = files(tmp_path)
    for args, expect in (
        (["list"], "is encrypted: set FIELDLOG_PASSPHRASE"),
        (["add", "x"], "is encrypted: set FIELDLOG_PASSPHRASE"),
        ([], "is encrypted: set FIELDLOG_PASSPHRASE"),  # bare fieldlog off a terminal
    ):
        r = run_fieldlog(*args, env=env, stdin=subprocess_devnull())
        assert r.returncode == 1, r.stderr
        assert expect in one_error_line(r.stderr)
    for args in (["list"], ["add", "x"], ["backup", str(tmp_path / "b.db")], ["decrypt", "-y"]):
        r = run_fieldlog(*args, env={**env, "FIELDLOG_PASSPHRASE": "wrong"})
        assert r.returncode == 1, r.stderr
        assert "does not open the log" in one_error_line(r.stderr)
    assert files(tmp_path) == before  # the file untouched, no -wal, -shm or copy left


def subprocess_devnull():
    import subprocess

    return subprocess.DEVNULL


def test_wrong_passphrase_in_process(db_path):
    make_encrypted(db_path)
    before = digest(db_path)
    with pytest.raises(WrongPassphrase, match="does not open the log"):
        Store.open(db_path, passphrase="nope")
    assert digest(db_path) == before
    assert sorted(p.name for p in db_path.parent.iterdir()) == ["log.db"]


def test_text_file_is_still_refused_without_a_passphrase(cli, tmp_path):
    junk = tmp_path / "notes.db"
    junk.write_bytes(os.urandom(4096))  # page-sized random bytes: could be an encrypted log
    err = cli("--db", str(junk), "list", code=1).stderr
    assert "is encrypted: set FIELDLOG_PASSPHRASE" in err


def _echo_off(fd: int) -> bool:
    """The terminal no longer echoes: a hidden prompt has started reading (typing before
    that is flushed by getpass)."""
    import termios

    return not termios.tcgetattr(fd)[3] & termios.ECHO


def _pty_run(args: list[str], env: dict[str, str], answers: list[tuple[bytes, bytes]]) -> bytes:
    """Run fieldlog on a pseudo-terminal, typing each answer when its prompt shows (POSIX
    only: the tests that use it are marked ``needs_pty``)."""
    import pty

    pid, fd = pty.fork()
    if pid == 0:  # the child: fieldlog with the pty as its terminal
        os.execve(sys.executable, [sys.executable, "-m", "fieldlog", *args], env)
    seen = b""
    deadline = time.monotonic() + 60
    pending = list(answers)
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
        if pending and pending[0][0] in seen and _echo_off(fd):  # getpass is reading
            prompt, answer = pending.pop(0)
            seen = seen.replace(prompt, b"<" + prompt[1:] + b">", 1)
            os.write(fd, answer)
    if time.monotonic() >= deadline:
        os.kill(pid, 9)  # SIGKILL: there is a pty, so this is POSIX
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    assert os.waitstatus_to_exitcode(status) == 0, seen.decode(errors="replace")
    return seen


@pytest.mark.slow
@needs_pty
def test_hidden_prompt_on_a_terminal(tmp_path):
    db = tmp_path / "log.db"
    make_encrypted(db, "Met at the bakery")
    env = {k: v for k, v in os.environ.items() if k != "FIELDLOG_PASSPHRASE"}
    env["FIELDLOG_DB"] = str(db)
    out = _pty_run(
        ["list"],
        env,
        [(b"Passphrase for", b"not it\n"), (b"Wrong passphrase", PASS.encode() + b"\n")],
    )
    assert b"Met at the bakery" in out.replace(b"\r\n", b" ")
    assert PASS.encode() not in out  # never echoed


@pytest.mark.slow
@needs_pty
def test_init_encrypt_asks_twice_on_a_terminal(tmp_path):
    db = tmp_path / "new.db"
    env = {k: v for k, v in os.environ.items() if k != "FIELDLOG_PASSPHRASE"}
    env["FIELDLOG_DB"] = str(db)
    _pty_run(
        ["init", "--officer", "Ofc Diaz", "--encrypt"],
        env,
        [(b"New passphrase", b"s3cret words\n"), (b"Repeat it", b"s3cret words\n")],
    )
    assert is_encrypted(db)
    Store.open(db, passphrase="s3cret words").close()


# ---------------------------------------------------------------------- convert and re-key
def _snapshot(store: Store) -> dict:
    return {
        "contacts": store.query("SELECT * FROM contacts ORDER BY id"),
        "concerns": store.query("SELECT * FROM concerns ORDER BY id"),
        # encrypt adds the audit key (keyed chain from then on): compared apart
        "meta": store.query(
            "SELECT * FROM meta WHERE key NOT IN ('hlc', 'audit_key', 'audit_keyed_from') "
            "ORDER BY key"
        ),
        "changes": store.query("SELECT * FROM changes ORDER BY seq"),
        "search": [h["id"] for h in store.search.hits("bakery")],
        "version": store.scalar("PRAGMA user_version"),
    }


@pytest.mark.slow
def test_encrypt_then_decrypt_keeps_every_row(cli, db_path, monkeypatch):
    cli("init", "--officer", "Ofc Diaz")
    cli("add", "Met at the bakery", "--name", NAME, "--concern", "noise:late music")
    cli("add", "Bakery follow-up", "--refer", "Parks")
    with Store.open(db_path) as store:
        before = _snapshot(store)
        seq = store.scalar("SELECT max(seq) FROM changes")
    monkeypatch.setenv("FIELDLOG_PASSPHRASE", PASS)
    out = cli("encrypt").stdout
    assert "Encrypted the log" in out
    assert is_encrypted(db_path)
    assert not any(s in db_path.read_bytes().lower() for s in SECRETS)
    assert cli("encrypt", code=1).stderr.count("already encrypted") == 1
    with Store.open(db_path) as store:
        assert store.encrypted
        assert _snapshot(store) == before
        assert store.meta().get("audit_key") and store.meta().get("audit_keyed_from")
    cli("add", "After encryption")
    with Store.open(db_path) as store:  # AUTOINCREMENT went on from where it was
        assert store.scalar("SELECT max(seq) FROM changes") > seq

    err = cli("decrypt", code=1).stderr  # no terminal to confirm on
    assert "--yes" in err
    cli("decrypt", "--yes")
    assert db_path.read_bytes()[:16] == SQLITE_HEADER
    monkeypatch.delenv("FIELDLOG_PASSPHRASE")
    with Store.open(db_path) as store:
        assert not store.encrypted
        assert store.contacts.count() == 3
        assert store.scalar("PRAGMA journal_mode") == "wal"
    leftovers = [p.name for p in db_path.parent.iterdir() if p.name.startswith(".")]
    assert leftovers == []


@pytest.mark.slow
def test_encrypt_warns_about_plain_copies_beside_the_log(cli, tmp_path, monkeypatch):
    path = tmp_path / "old.db"
    conn = connect(path)
    migrations.ensure_schema(conn, path, stop_before="0002_search")
    conn.close()
    Store.open(path).close()  # upgraded: a plain .bak copy beside it
    assert list(tmp_path.glob("old.db.v1-*.bak"))
    monkeypatch.setenv("FIELDLOG_PASSPHRASE", PASS)
    result = cli("--db", str(path), "encrypt")
    assert "not encrypted" in result.stderr and "old.db.v1-" in result.stderr


@pytest.mark.slow
def test_conversions_refused_while_another_fieldlog_has_the_log_open(cli, db_path, monkeypatch):
    cli("add", "Open elsewhere")
    other = hold_open(db_path)
    before = digest(db_path)
    monkeypatch.setenv("FIELDLOG_PASSPHRASE", PASS)
    err = cli("encrypt", code=1).stderr
    assert "open in another fieldlog" in err
    assert digest(db_path) == before
    assert not is_encrypted(db_path)
    assert release(other) == "1"  # and the other one carried on
    cli("encrypt")
    other = hold_open(db_path, PASS)
    monkeypatch.setenv("FIELDLOG_NEW_PASSPHRASE", "another")
    assert "open in another fieldlog" in cli("passphrase", code=1).stderr
    assert "open in another fieldlog" in cli("decrypt", "--yes", code=1).stderr
    assert release(other) == "1"


@pytest.mark.slow
def test_change_passphrase(cli, db_path, monkeypatch):
    make_encrypted(db_path, "Met at the bakery")
    monkeypatch.setenv("FIELDLOG_PASSPHRASE", PASS)
    err = cli("passphrase", code=1).stderr  # no new passphrase, no terminal
    assert "FIELDLOG_NEW_PASSPHRASE" in err
    monkeypatch.setenv("FIELDLOG_NEW_PASSPHRASE", PASS)
    assert "same as the current" in cli("passphrase", code=1).stderr
    monkeypatch.setenv("FIELDLOG_NEW_PASSPHRASE", "a new one")
    result = cli("passphrase")
    assert "Changed the passphrase" in result.stdout
    assert "Update FIELDLOG_PASSPHRASE" in result.stderr
    with pytest.raises(WrongPassphrase):
        Store.open(db_path, passphrase=PASS)
    with Store.open(db_path, passphrase="a new one") as store:
        assert store.contacts.count() == 1
        assert store.scalar("PRAGMA journal_mode") == "wal"
    monkeypatch.setenv("FIELDLOG_PASSPHRASE", "wrong")
    assert "does not open the log" in cli("passphrase", code=1).stderr


def test_plain_log_commands_say_what_to_do(cli, db_path):
    cli("add", "Plain")
    assert "not encrypted" in cli("decrypt", "--yes", code=1).stderr
    assert "not encrypted" in cli("passphrase", code=1).stderr
    assert "fieldlog init --encrypt" in cli("--db", str(db_path) + "x", "encrypt", code=1).stderr


# ---------------------------------------------------------------------- nothing in clear
@pytest.mark.slow
def test_no_plaintext_of_the_log_reaches_the_disk(tmp_path, monkeypatch):
    """Every file fieldlog writes for an encrypted log: the log, its -wal/-shm (while open and
    after), drafts, backups, a migration's copy, a restore's kept copy."""
    home = tmp_path / "home"
    db = tmp_path / "log.db"
    env = {"FIELDLOG_DB": str(db), "FIELDLOG_PASSPHRASE": PASS, "FIELDLOG_HOME": str(home)}

    def fl(*args: str) -> str:
        r = run_fieldlog(*args, env=env)
        assert r.returncode == 0, r.stderr
        return r.stdout

    fl("init", "--officer", "Ofc Diaz", "--encrypt")
    cid = fl("add", f"Met {NAME} at the bakery", "--name", NAME, "--concern", "noise:Zebediah")
    cid = cid.strip()
    fl("edit", cid, "--notes", f"{NAME} asked about the lights")
    fl("concern", "add", cid, "infrastructure", f"{NAME} says the alley is dark")
    fl("refer", cid, "Parks", "--reason", f"lights for {NAME}")
    fl("backup", str(tmp_path / "backup.db"))
    fl("restore", str(tmp_path / "backup.db"), "--yes")  # keeps a pre-restore copy

    store = Store.open(db, passphrase=PASS)
    store.drafts.save("new", {"summary": f"Unsaved note about {NAME}", "person_name": NAME})
    store.contacts.add({"summary": f"Open connection: {NAME}", "person_name": NAME})
    # while open: the new pages sit in the -wal, not yet in the log
    assert Path(str(db) + "-wal").stat().st_size > 0
    _assert_no_secrets(tmp_path)
    store.close()

    # an older encrypted log upgraded on open: its backup copy is encrypted too
    old = tmp_path / "old.db"
    conn = connect(old, passphrase=PASS)
    migrations.ensure_schema(conn, old, stop_before="0002_search")
    conn.execute(
        "INSERT INTO contacts (id, created_at, updated_at, officer, origin, hlc, occurred_at, "
        f"summary, person_name) VALUES ('0190aaaaaaaa7aaa8aaaaaaaaaaaaaaa', 'x', 'x', 'o', 'd', "
        f"'0000000000001-00000-d', '2026-01-01T00:00:00Z', 'Lantern', '{NAME}')"
    )
    conn.close()
    Store.open(old, passphrase=PASS).close()
    assert list(tmp_path.glob("old.db.v1-*.bak"))
    assert list(tmp_path.glob("log.db.pre-restore-*.bak"))

    written = _assert_no_secrets(tmp_path)
    assert {"log.db", "backup.db", "old.db"} <= {p.name for p in written}
    # and the name is really in there: the same files decrypted show it
    with Store.open(db, passphrase=PASS) as s:
        assert s.drafts.load("new")["person_name"] == NAME
        assert len(s.search.hits("quackenbush")) >= 2


def _assert_no_secrets(folder: Path) -> list[Path]:
    written = [p for p in folder.rglob("*") if p.is_file()]
    for p in written:
        data = p.read_bytes().lower()
        for secret in SECRETS:
            assert secret not in data, f"{secret!r} in clear in {p}"
    return written


def test_export_of_an_encrypted_log_in_two_processes(cli, db_path, monkeypatch, tmp_path):
    """An export in two processes (``write_table(processes=2)``; the CLI writes in one) forks
    a second process for a big table: it opens the log with the same key, and its temporary
    half-file goes to a memory-backed folder."""
    from fieldlog.db import export_sql as store_mod

    monkeypatch.setattr(store_mod, "EXPORT_SPLIT_MIN_ROWS", 10)
    with Store.open(db_path, passphrase=PASS, encrypt=True) as store:
        for i in range(40):
            store.contacts.add({"summary": f"Visit {i}", "person_name": NAME})
        scratch = store.scratch_dir()
    used: list[str | None] = []
    real = tempfile.TemporaryDirectory

    def spy(*args, **kw):
        used.append(kw.get("dir"))
        return real(*args, **kw)

    monkeypatch.setattr(tempfile, "TemporaryDirectory", spy)
    monkeypatch.setenv("FIELDLOG_PASSPHRASE", PASS)
    out = tmp_path / "contacts.csv"
    from fieldlog import export

    with Store.open(db_path, passphrase=PASS) as store, export.atomic_text(out) as fh:
        export.write_table(store, "contacts", fh, processes=2)
    lines = out.read_text().splitlines()
    assert len(lines) == 41 and all(NAME in line for line in lines[1:])
    if scratch is None:
        assert used == []  # no memory-backed folder: no split, no temp file
    else:
        assert used == [scratch]
        assert scratch == ram_dir()


def test_plain_log_keeps_the_system_temp_folder(store):
    assert store.scratch_dir() is None and not store.encrypted


# ---------------------------------------------------------------------- TUI
def _tui_log(path: Path) -> None:
    with Store.open(path, passphrase=PASS, encrypt=True) as store:
        store.contacts.add({"summary": "Met at the bakery", "neighborhood": "Eastside"})


async def _wait_for(pilot, test, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not test():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)
        await pilot.pause()


def test_tui_login_then_idle_lock(db_path, monkeypatch):
    from textual.widgets import Input, Static

    from fieldlog.tui.app import make_app
    from fieldlog.tui.screens.dashboard import DashboardScreen
    from fieldlog.tui.screens.login import LoginScreen

    _tui_log(db_path)
    monkeypatch.delenv("FIELDLOG_PASSPHRASE", raising=False)

    async def flow():
        app = make_app(db_path, lock_minutes=1)
        now = [0.0]
        app.locker.clock = lambda: now[0]  # a fake clock: no real timer to wait for
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            assert isinstance(app.screen, LoginScreen)
            assert app.store is None
            await pilot.press("l", "d")  # letters go to the field, not to the app's keys
            assert app.current_mode == "login"
            await pilot.press("enter")
            await _wait_for(
                pilot, lambda: "Wrong" in str(app.screen.query_one("#login-error", Static).content)
            )
            await _wait_for(pilot, lambda: not app.screen.query_one("#passphrase", Input).disabled)
            await pilot.press(*keys(PASS), "enter")
            await _wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen))
            assert app.store.encrypted and not app.locker.locked
            # quiet for longer than the lock time: the lock screen covers the app
            app.locker.touch()
            now[0] += 61
            app.locker.check()
            await _wait_for(pilot, lambda: app.locker.locked, seconds=5)
            assert isinstance(app.screen, LoginScreen) and app.screen.relock
            await pilot.press("l")  # no navigation under the lock
            assert app.current_mode == "dashboard"
            await pilot.press("backspace", *"wrong", "enter")
            await pilot.pause()
            assert app.locker.locked
            await _wait_for(pilot, lambda: not app.screen.query_one("#passphrase", Input).disabled)
            await pilot.press(*keys(PASS), "enter")
            await pilot.pause()
            assert not app.locker.locked
            assert isinstance(app.screen, DashboardScreen)

    asyncio.run(flow())


@pytest.mark.slow
def test_tui_with_the_passphrase_set_opens_at_once_and_plain_logs_never_lock(db_path, tmp_path):
    from fieldlog.tui.app import make_app
    from fieldlog.tui.screens.dashboard import DashboardScreen

    _tui_log(db_path)
    plain = tmp_path / "plain.db"
    Store.open(plain).close()

    async def flow():
        app = make_app(db_path, passphrase=PASS, lock_minutes=0.02)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            assert isinstance(app.screen, DashboardScreen)
            await _wait_for(pilot, lambda: app.locker.locked, seconds=5)
        app = make_app(plain, lock_minutes=0.005)
        async with app.run_test(size=(80, 24)) as pilot:
            await asyncio.sleep(0.6)
            await pilot.pause()
            assert not app.locker.locked and isinstance(app.screen, DashboardScreen)

    asyncio.run(flow())


def test_lock_minutes_setting(monkeypatch):
    from fieldlog.errors import SettingError
    from fieldlog.tui.screens.login import lock_minutes

    monkeypatch.delenv("FIELDLOG_LOCK_MINUTES", raising=False)
    assert lock_minutes() == 15
    monkeypatch.setenv("FIELDLOG_LOCK_MINUTES", "2.5")
    assert lock_minutes() == 2.5
    monkeypatch.setenv("FIELDLOG_LOCK_MINUTES", "0")
    assert lock_minutes() == 0
    monkeypatch.setenv("FIELDLOG_LOCK_MINUTES", "soon")  # a bad value is an error (issue 11)
    with pytest.raises(SettingError, match="FIELDLOG_LOCK_MINUTES"):
        lock_minutes()
    monkeypatch.delenv("FIELDLOG_LOCK_MINUTES")
    assert lock_minutes(1) == 1


def test_plain_sqlite3_cannot_read_an_encrypted_log(db_path):
    make_encrypted(db_path)
    conn = sqlite3.connect(db_path)
    with pytest.raises(sqlite3.DatabaseError):
        conn.execute("SELECT count(*) FROM contacts").fetchone()
    conn.close()


@pytest.mark.slow
def test_plain_add_path_does_not_load_sqlcipher(tmp_path):
    """sqlcipher3 costs ~4 ms to import: only an encrypted log loads it."""
    import subprocess

    code = (
        "import sys\nfrom fieldlog.cli import main\n"
        "sys.argv = ['fieldlog', '--db', sys.argv[1], 'add', 'Quick one']\n"
        "try:\n    main()\nexcept SystemExit as e:\n    assert not e.code\n"
        "print('sqlcipher3' in sys.modules)"
    )
    for db, env, loaded in (
        (tmp_path / "plain.db", {}, "False"),
        (tmp_path / "enc.db", {"FIELDLOG_PASSPHRASE": PASS}, "True"),
    ):
        out = subprocess.run(
            [sys.executable, "-c", code, str(db)],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, **env},
        ).stdout.split()
        assert out[-1] == loaded
