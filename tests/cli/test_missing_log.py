"""A log that does not exist is never made by accident (issue 11), and ``--db`` may come after
the command.

Reading commands (and those that change a record, which needs a log holding it) say "No log at
PATH" and create nothing: no file, no folder, no -wal. Commands that bring records of their own
may create the log and say so on stderr; if they fail before writing, the new log goes again.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

from tests.lib.run import run_fieldlog

READING = [
    ["list"],
    ["show", "abcdef12"],
    ["edit", "abcdef12", "--summary", "x"],
    ["delete", "abcdef12", "--yes"],
    ["search", "court"],
    ["followups"],
    ["refer", "abcdef12", "Parks Dept:court lights"],
    ["verify"],
    ["report"],
    ["export", "contacts"],
    ["backup", "copy.db"],
    ["concern", "add", "abcdef12", "noise", "late music"],
    ["concern", "list"],
    ["referral", "list"],
    ["org", "list"],
    ["remote", "list"],
    ["conflicts"],
]


def nothing_made(folder: Path) -> bool:
    return not folder.exists()


@pytest.mark.parametrize("args", READING, ids=lambda a: " ".join(a[:2]))
def test_a_reading_command_on_a_missing_log_says_so_and_makes_nothing(cli, tmp_path, args):
    folder = tmp_path / "typo"
    db = folder / "log.db"
    r = cli("--db", str(db), *args, code=1)
    assert r.stderr == f"Error: No log at {db}: run `fieldlog init` or check --db\n"
    assert nothing_made(folder)


def test_the_same_with_fieldlog_db_and_with_the_default_path(cli, tmp_path, monkeypatch):
    folder = tmp_path / "typo"
    monkeypatch.setenv("FIELDLOG_DB", str(folder / "log.db"))
    r = cli("list", code=1)
    assert "run `fieldlog init` or check FIELDLOG_DB" in r.stderr
    assert nothing_made(folder)
    monkeypatch.delenv("FIELDLOG_DB")
    home = Path(os.environ["FIELDLOG_HOME"])
    r = cli("list", code=1)
    assert r.stderr.startswith(f"Error: No log at {home / 'fieldlog.db'}: run `fieldlog init`")
    assert "--db PATH" in r.stderr
    assert nothing_made(home)


def test_an_empty_file_is_no_log_either(cli, tmp_path):
    db = tmp_path / "empty.db"
    db.touch()
    r = cli("--db", str(db), "list", code=1)
    assert "(the file is empty)" in r.stderr
    assert db.stat().st_size == 0 and not Path(f"{db}-wal").exists()


def test_a_real_process_makes_no_wal_and_no_traceback(tmp_path):
    db = tmp_path / "typo.db"
    r = run_fieldlog("--db", str(db), "list")
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert r.stderr.startswith("Error: No log at")
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def write_sheet(path: Path) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["date", "name", "neighborhood", "summary"])
        w.writerow(["2026-11-20", "Ana", "Eastside", "Met at the market"])
    return path


@pytest.mark.parametrize(
    "args",
    [
        ["init", "--officer", "Dana Ruiz"],
        ["add", "Met the pastor"],
        ["demo", "--contacts", "3"],
        ["import", "SHEET"],
        ["org", "add", "Parks Dept"],
        ["remote", "add", "dept", "REMOTE"],
        ["sync", "REMOTE"],
    ],
    ids=lambda a: " ".join(a[:2]),
)
def test_a_writing_command_makes_the_log_and_says_so(cli, tmp_path, args):
    sheet = write_sheet(tmp_path / "sheet.csv")
    remote = tmp_path / "dept.fieldlog"
    args = [{"SHEET": str(sheet), "REMOTE": str(remote)}.get(a, a) for a in args]
    db = tmp_path / "new" / "log.db"
    r = cli("--db", str(db), *args)
    assert f"Created a new log at {db}" in r.stderr
    assert db.is_file()
    assert "Created a new log" not in cli("--db", str(db), "list").stderr


def test_a_writing_command_that_fails_leaves_nothing_behind(cli, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("foo,bar\n1,2\n", encoding="utf-8")
    folder = tmp_path / "new"
    db = folder / "deeper" / "log.db"
    r = cli("--db", str(db), "import", str(bad), code=1)
    assert r.stderr.startswith("Error: ") and "Created" not in r.stderr
    assert nothing_made(folder)
    r = cli("--db", str(db), "init", "--officer", " ", code=1)
    assert "Created" not in r.stderr and nothing_made(folder)


def test_sync_on_a_missing_log_with_nowhere_to_go_makes_nothing(cli, tmp_path):
    db = tmp_path / "new.db"
    assert "fieldlog remote add" in cli("--db", str(db), "sync", code=1).stderr
    assert "no saved remote" in cli("--db", str(db), "sync", "dept2", code=1).stderr
    assert not db.exists()


def test_bare_fieldlog_in_a_script_on_a_missing_log_only_says_where(cli, tmp_path):
    db = tmp_path / "typo.db"
    r = cli("--db", str(db))
    assert f"there is no log at {db} yet" in r.stdout and "fieldlog add" in r.stdout
    assert not db.exists()


def test_the_tui_on_a_fresh_machine_makes_the_log_and_says_so(tmp_path, monkeypatch):
    """The README's promise: install, run ``fieldlog``. The app is replaced by one that opens
    the log the way the real one does (Store.open), without drawing a screen."""
    from fieldlog.cli.common import State, run_tui
    from fieldlog.db.store import Store
    from fieldlog.tui import app as tui_app

    opened: list[Path] = []

    class FakeApp:
        def __init__(self, path: Path) -> None:
            self.path = path

        def run(self) -> None:
            Store.open(self.path).close()
            opened.append(self.path)

    monkeypatch.setattr(tui_app, "make_app", FakeApp)
    messages: list[str] = []
    monkeypatch.setattr("fieldlog.cli.common.echo", lambda msg, err=False: messages.append(msg))
    db = tmp_path / "fresh" / "log.db"
    run_tui(State(str(db)))
    assert opened == [db] and messages == [f"Created a new log at {db}"]
    run_tui(State(str(db)))
    assert len(messages) == 1


# ---------------------------------------------------------------------- --db after the command
def test_db_may_come_after_the_command(cli, tmp_path):
    db = tmp_path / "x.db"
    cli("--db", str(db), "add", "First")
    assert len(cli.json("list", "--db", str(db))) == 1
    assert len(cli.json("list", f"--db={db}")) == 1
    cli("add", "Second", "--db", str(db), "--hood", "Eastside")
    assert len(cli.json("--db", str(db), "list")) == 2
    assert cli.json("concern", "list", "--db", str(db)) == []
    assert cli.json("remote", "list", "--db", str(db)) == []
    assert not Path(os.environ["FIELDLOG_DB"]).exists()  # the default log was never used


def test_db_after_a_command_that_takes_a_value_is_that_value(cli, tmp_path):
    db = tmp_path / "x.db"
    cli("add", "Odd notes", "--notes", "--db")  # --notes takes "--db" as its text
    rows = cli.json("list")
    assert rows[0]["summary"] == "Odd notes" and not db.exists()
    shown = cli.json("show", rows[0]["id"])
    assert shown["notes"] == "--db"


def test_db_given_twice_or_empty_is_refused(cli, tmp_path):
    a, b = tmp_path / "a.db", tmp_path / "b.db"
    cli("--db", str(a), "add", "x")
    r = cli("--db", str(a), "list", "--db", str(b), code=1)
    assert "--db is given twice" in r.stderr
    cli("--db", str(a), "list", "--db", str(a))  # the same path twice is fine
    assert "--db is empty" in cli("--db", "", "list", code=1).stderr
    assert "--db is empty" in cli("list", "--db", "", code=1).stderr


def test_db_after_add_works_on_the_quick_path(tmp_path):
    db = tmp_path / "quick.db"
    r = run_fieldlog("add", "Quick one", "--db", str(db))
    assert r.returncode == 0, r.stderr
    assert f"Created a new log at {db}" in r.stderr
    r = run_fieldlog("list", "--db", str(db), "--json")
    assert r.returncode == 0 and "Quick one" in r.stdout


def test_db_shows_in_each_commands_help_and_the_roots(cli):
    assert "--db" in cli("list", "--help").stdout
    assert "--db" in cli("concern", "list", "--help").stdout
    words = " ".join(cli("--help").stdout.replace("│", " ").split())
    assert "May also come after the command" in words
