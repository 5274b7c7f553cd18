"""Every environment setting is checked (issue 11): a bad value is one line naming the
variable, what it must be and the fix, exit 1, before any command runs; never a traceback
(``FIELDLOG_NOW=garbage``) nor silently the default (``FIELDLOG_BUSY_TIMEOUT_MS=soon``)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from fieldlog import settings
from fieldlog.errors import SettingError
from tests.lib.run import run_fieldlog

ONE_LINE = re.compile(
    r"^Error: (FIELDLOG_[A-Z_]+|PG[A-Z_]+)='[^\n]*' is not [^\n]+: set it to [^\n]+ or unset it\n$"
)

BAD = [
    ("FIELDLOG_NOW", "garbage"),
    ("FIELDLOG_NOW", "0001-01-01T00:00"),
    ("FIELDLOG_NOW", "2026-13-40"),
    ("FIELDLOG_BUSY_TIMEOUT_MS", "soon"),
    ("FIELDLOG_BUSY_TIMEOUT_MS", "-5"),
    ("FIELDLOG_BUSY_TIMEOUT_MS", "2.5"),
    ("FIELDLOG_SYNC_PAGE", "0"),
    ("FIELDLOG_SYNC_PAGE", "lots"),
    ("FIELDLOG_LOCK_MINUTES", "soon"),
    ("FIELDLOG_LOCK_MINUTES", "-1"),
    ("FIELDLOG_LOCK_MINUTES", "nan"),
    ("FIELDLOG_PG_CONNECT_TIMEOUT", "0"),
    ("FIELDLOG_PG_CONNECT_TIMEOUT", "ten"),
]


@pytest.mark.parametrize(("name", "value"), BAD, ids=[f"{n}={v}" for n, v in BAD])
def test_a_bad_value_is_one_line_before_any_command(cli, monkeypatch, name, value):
    cli("add", "Before the setting")
    monkeypatch.setenv(name, value)
    r = cli("list", code=1)
    assert ONE_LINE.match(r.stderr), r.stderr
    assert r.stderr.startswith(f"Error: {name}={value!r} is not ")
    assert r.stdout == ""


@pytest.mark.parametrize(
    ("name", "make", "what"),
    [
        ("FIELDLOG_DB", lambda p: p.mkdir(), "a file (it is a folder)"),
        ("FIELDLOG_CONFIG", lambda p: p.mkdir(), "a file (it is a folder)"),
        ("FIELDLOG_HOME", lambda p: p.write_text("x"), "a folder (it is a file)"),
    ],
)
def test_a_path_of_the_wrong_kind_is_one_line(cli, tmp_path, monkeypatch, name, make, what):
    target = tmp_path / "thing"
    make(target)
    monkeypatch.setenv(name, str(target))
    r = cli("config", "get", code=1)
    assert ONE_LINE.match(r.stderr), r.stderr
    assert f"is not {what}" in r.stderr


def test_fieldlog_now_garbage_in_a_real_process_is_no_traceback(tmp_path):
    r = run_fieldlog(
        "--db", str(tmp_path / "x.db"), "add", "hello", env={"FIELDLOG_NOW": "garbage"}
    )
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert ONE_LINE.match(r.stderr), r.stderr
    assert not (tmp_path / "x.db").exists()


def test_blank_means_unset(monkeypatch):
    for name in ("FIELDLOG_NOW", "FIELDLOG_BUSY_TIMEOUT_MS", "FIELDLOG_LOCK_MINUTES"):
        monkeypatch.setenv(name, "  ")
    settings.check()
    assert settings.fixed_now() is None
    assert settings.busy_timeout_ms() == 10_000
    assert settings.lock_minutes() is None


def test_good_values_are_read(monkeypatch):
    monkeypatch.setenv("FIELDLOG_NOW", "2026-11-24T14:30")  # local: America/Chicago (UTC-6)
    assert settings.fixed_now() == datetime(2026, 11, 24, 20, 30, tzinfo=UTC)
    monkeypatch.setenv("FIELDLOG_NOW", "2026-11-24T14:30Z")
    assert settings.fixed_now() == datetime(2026, 11, 24, 14, 30, tzinfo=UTC)
    monkeypatch.setenv("FIELDLOG_BUSY_TIMEOUT_MS", "200")
    assert settings.busy_timeout_ms() == 200
    monkeypatch.setenv("FIELDLOG_SYNC_PAGE", "100")
    assert settings.sync_page(2000) == 100
    monkeypatch.setenv("FIELDLOG_LOCK_MINUTES", "2.5")
    assert settings.lock_minutes() == 2.5
    monkeypatch.setenv("FIELDLOG_PG_CONNECT_TIMEOUT", "2.5")  # whole seconds for libpq
    assert settings.pg_connect_timeout() == 2
    settings.check()


def test_fieldlog_now_is_the_time_add_stamps(cli, monkeypatch):
    monkeypatch.setenv("FIELDLOG_NOW", "2026-11-24T14:30")
    cid = cli.new("add", "At a fixed time")
    assert cli.json("show", cid)["occurred_at"].startswith("2026-11-24T20:30")


def test_the_busy_timeout_reaches_the_connection(cli, db_path, monkeypatch):
    from fieldlog.db.connect import busy_timeout_ms, connect

    monkeypatch.setenv("FIELDLOG_BUSY_TIMEOUT_MS", "1234")
    assert busy_timeout_ms() == 1234
    conn = connect(db_path)
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 1234
    conn.close()
    monkeypatch.setenv("FIELDLOG_BUSY_TIMEOUT_MS", "soon")
    with pytest.raises(SettingError, match="FIELDLOG_BUSY_TIMEOUT_MS='soon'"):
        connect(db_path)


def test_the_sync_page_is_checked_by_the_sync_itself(pair, remote_url, monkeypatch):
    from fieldlog import sync

    a, _ = pair
    monkeypatch.setenv("FIELDLOG_SYNC_PAGE", "none")
    with pytest.raises(SettingError, match="FIELDLOG_SYNC_PAGE='none'"):
        sync.run(a, [("dept", remote_url)])


def test_the_tui_lock_is_checked_by_the_tui_itself(monkeypatch):
    from fieldlog.tui.screens.login import lock_minutes

    monkeypatch.setenv("FIELDLOG_LOCK_MINUTES", "soon")
    with pytest.raises(SettingError, match="FIELDLOG_LOCK_MINUTES='soon'"):
        lock_minutes()
    assert lock_minutes(1) == 1  # a value given by the caller needs no variable


def test_dates_now_uses_the_checked_setting(monkeypatch):
    """``fieldlog.dates.now`` reads FIELDLOG_NOW through fieldlog.settings (the TUI and the
    library get the one-line error too, not only the CLI's check before a command)."""
    from fieldlog import dates

    monkeypatch.setenv("FIELDLOG_NOW", "2026-11-24T14:30Z")
    assert dates.now() == datetime(2026, 11, 24, 14, 30, tzinfo=UTC)
    monkeypatch.setenv("FIELDLOG_NOW", "garbage")
    with pytest.raises(SettingError, match="FIELDLOG_NOW='garbage'"):
        dates.now()


@pytest.mark.parametrize(
    ("name", "value"), [("PGPORT", "fivefour"), ("PGPORT", "70000"), ("PGCONNECT_TIMEOUT", "x")]
)
def test_libpq_variables_fieldlog_relies_on_are_checked_before_connecting(
    cli, monkeypatch, name, value
):
    cli("add", "hello")
    monkeypatch.setenv(name, value)
    r = cli("sync", "postgresql://fl@db.invalid/fieldlog", code=1)
    assert ONE_LINE.match(r.stderr), r.stderr
    assert r.stderr.startswith(f"Error: {name}=")


def test_a_bad_pg_connect_timeout_is_checked_before_connecting(monkeypatch):
    """Checked by the CLI before the command, and by the remote factory for the library."""
    from fieldlog.db.remotes.factory import open_remote

    monkeypatch.setenv("FIELDLOG_PG_CONNECT_TIMEOUT", "-3")

    with pytest.raises(SettingError, match="FIELDLOG_PG_CONNECT_TIMEOUT='-3'"):
        open_remote("postgresql://fl@db.invalid/fieldlog")


def test_check_covers_every_fieldlog_variable_read_in_the_package():
    """Each FIELDLOG_* name read anywhere in fieldlog/ is either checked here or holds any
    text (a passphrase): a new variable must be added to fieldlog/settings.py."""
    from pathlib import Path

    root = Path(settings.__file__).parent
    names = set()
    for path in root.rglob("*.py"):
        names |= set(re.findall(r"\bFIELDLOG_[A-Z_]+\b", path.read_text(encoding="utf-8")))
    known = {
        settings.HOME, settings.DB, settings.CONFIG, settings.NOW, settings.BUSY_TIMEOUT_MS,
        settings.SYNC_PAGE, settings.LOCK_MINUTES, settings.PG_CONNECT_TIMEOUT,
        *settings.PASSPHRASES,
    }  # fmt: skip
    assert names - known == set(), "new FIELDLOG_* variables: check them in fieldlog/settings.py"
