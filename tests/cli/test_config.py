"""``fieldlog config`` and the defaults the settings file gives (issue 11): the neighborhood,
the officer, the remote, the follow-up days, the TUI's lock and theme.

Precedence (docs/config.md): an option beats the log's own value, which beats the file's."""

from __future__ import annotations

import asyncio
import os
import tomllib
from datetime import date, timedelta
from pathlib import Path

import pytest

from fieldlog import config
from fieldlog.errors import SettingError, ValidationError


def config_file() -> Path:
    return Path(os.environ["FIELDLOG_CONFIG"])


def test_set_get_unset_list_and_path(cli):
    assert cli("config", "path").stdout.strip() == str(config_file())
    assert not config_file().exists()
    r = cli("config", "set", "hood", "  Eastside ")
    assert r.stdout.strip() == f"Set hood = Eastside in {config_file()}"
    cli("config", "set", "follow_up_days", "10")
    assert tomllib.loads(config_file().read_text()) == {"hood": "Eastside", "follow_up_days": 10}
    assert cli("config", "get", "hood").stdout == "Eastside\n"
    assert cli("config", "get", "HOOD").stdout == "Eastside\n"
    assert cli.json("config", "get", "follow_up_days") == {"follow_up_days": 10}
    everything = cli.json("config", "get")
    assert everything == cli.json("config", "list")
    assert list(everything) == list(config.KEYS)
    assert everything["hood"] == "Eastside" and everything["officer"] is None
    listed = cli("config", "list").stdout
    assert "hood" in listed and "Eastside" in listed and "(not set)" in listed
    r = cli("config", "get", "officer", code=1)
    assert r.stdout == "" and "officer is not set: fieldlog config set officer" in r.stderr
    cli("config", "unset", "hood")
    cli("config", "get", "hood", code=1)
    assert tomllib.loads(config_file().read_text()) == {"follow_up_days": 10}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["set", "hod", "x"], "There is no setting 'hod' (did you mean hood?)"),
        (["get", "colour"], "There is no setting 'colour'"),
        (["set", "follow_up_days", "soon"], "follow_up_days must be a whole number, not 'soon'"),
        (["set", "follow_up_days", "400"], "between 0 and 365, not 400"),
        (["set", "lock_minutes", "-1"], "between 0 and 1440"),
        (["set", "date_order", "ymd"], "date_order must be one of auto, mdy, dmy"),
        (["set", "theme", "nrod"], "There is no theme 'nrod' (did you mean nord?)"),
        (["set", "hood", "  "], "hood must be a non-empty text"),
        (["set", "hood", "East\x1b[2Jside"], "without control characters"),
        (["set", "remote", "https://dept.example/sync"], "neither a remote's name"),
    ],
)
def test_a_bad_key_or_value_is_one_line_and_nothing_is_written(cli, args, message):
    r = cli("config", *args, code=1)
    assert r.stderr.startswith("Error: ") and r.stderr.count("\n") == 1
    assert message in r.stderr
    assert not config_file().exists()


def test_a_theme_textual_has_is_accepted(cli):
    cli("config", "set", "theme", "nord")
    assert config.get("theme") == "nord"


def test_a_hand_edited_file_with_a_bad_value_or_bad_toml_is_one_line(cli):
    config_file().write_text('follow_up_days = "soon"\n', encoding="utf-8")
    r = cli("config", "list", code=1)
    assert r.stderr == (
        f"Error: In {config_file()}: follow_up_days must be a whole number, not 'soon'\n"
    )
    config_file().write_text("hood = Eastside\n", encoding="utf-8")  # unquoted
    r = cli("config", "get", "hood", code=1)
    assert f"The settings file {config_file()} is not valid TOML" in r.stderr
    assert "fix it or remove it" in r.stderr


def test_unknown_names_in_the_file_are_kept_and_warned_about(cli):
    config_file().write_text('hod = "Eastside"\n', encoding="utf-8")
    r = cli("config", "list")
    assert "'hod' in the file is not a setting" in r.stderr
    cli("config", "set", "hood", "Westside")
    assert tomllib.loads(config_file().read_text()) == {"hod": "Eastside", "hood": "Westside"}


def test_the_default_path_is_the_user_config_folder(cli, tmp_path, monkeypatch):
    import platformdirs

    monkeypatch.delenv("FIELDLOG_CONFIG")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    expected = Path(platformdirs.user_config_dir("fieldlog", appauthor=False)) / "config.toml"
    assert cli("config", "path").stdout.strip() == str(expected)
    cli("config", "set", "hood", "Eastside")
    assert expected.is_file()


def test_config_commands_never_touch_the_log(cli):
    cli("config", "set", "hood", "Eastside")
    cli("config", "list")
    assert not Path(os.environ["FIELDLOG_DB"]).exists()


# ---------------------------------------------------------------------- the defaults it gives
def test_hood_the_option_beats_the_log_which_beats_the_file(cli, store):
    cli("config", "set", "hood", "Eastside")
    assert store.default_hood() == "Eastside"
    assert cli.json("show", cli.new("add", "No hood typed"))["neighborhood"] == "Eastside"
    assert cli.json("show", cli.new("add", "Typed", "--hood", "Northside"))["neighborhood"] == (
        "Northside"
    )
    cli("init", "--officer", "Dana Ruiz", "--hood", "Westside")
    store._meta_cache = None
    assert store.default_hood() == "Westside"
    assert cli.json("show", cli.new("add", "After init"))["neighborhood"] == "Westside"


def test_config_set_hood_says_when_the_log_has_its_own(cli):
    cli("init", "--officer", "Dana Ruiz", "--hood", "Westside")
    r = cli("config", "set", "hood", "Eastside")
    assert "has its own neighborhood (Westside), which comes first" in r.stderr
    assert "fieldlog init --officer 'Dana Ruiz' --hood NAME" in r.stderr


def test_officer_from_the_file_for_init_and_for_a_log_never_initialised(cli, store):
    cli("config", "set", "officer", "Dana Ruiz")
    assert store.officer() == "Dana Ruiz"  # a log without `init` writes under it
    cid = cli.new("add", "Before init")
    assert cli.json("show", cid)["officer"] == "Dana Ruiz"
    store.set_officer(None, hood="Eastside")  # what `init` without --officer does
    store._meta_cache = None
    assert store.meta()["officer"] == "Dana Ruiz" and store.officer() == "Dana Ruiz"
    store.set_officer("Sam Lee")  # the option beats the file
    assert store.officer() == "Sam Lee"


def test_init_without_officer_needs_the_file(cli):
    r = cli("init", code=1)
    assert "fieldlog config set officer NAME" in r.stderr
    cli("config", "set", "officer", "Dana Ruiz")
    assert "Logging as Dana Ruiz" in cli("init").stdout


def test_a_new_referral_follows_up_in_the_files_days(cli, store, monkeypatch):
    monkeypatch.setenv("FIELDLOG_NOW", "2026-11-24T10:00")
    week = (date(2026, 11, 24) + timedelta(days=7)).isoformat()
    assert store.follow_up_days() == 7
    cid = cli.new("add", "Met Ana", "--refer", "Food bank:groceries")
    assert cli.json("show", cid)["referrals"][0]["follow_up_on"] == week
    cli("config", "set", "follow_up_days", "3")
    assert store.follow_up_days() == 3
    cid = cli.new("add", "Met Ben", "--refer", "Food bank:groceries")
    assert cli.json("show", cid)["referrals"][0]["follow_up_on"] == "2026-11-27"
    cid = cli.new("add", "Met Cy", "--refer", "Food bank:x", "--follow-up", "2026-12-01")
    assert cli.json("show", cid)["referrals"][0]["follow_up_on"] == "2026-12-01"


def test_sync_with_no_argument_uses_the_files_remote(cli, tmp_path):
    cli("add", "hello")
    cli("remote", "add", "dept", str(tmp_path / "dept.fieldlog"))
    cli("remote", "add", "county", str(tmp_path / "county.fieldlog"))
    assert [r["remote"] for r in cli.json("sync")] == ["county", "dept"]
    cli("config", "set", "remote", "dept")
    assert [r["remote"] for r in cli.json("sync")] == ["dept"]
    assert [r["remote"] for r in cli.json("sync", "county")] == ["county"]
    cli("config", "set", "remote", "dept2")
    r = cli("sync", code=1)
    assert f"'dept2' (the remote set in {config_file()}) (did you mean dept?)" in r.stderr


def test_lock_minutes_the_variable_beats_the_file_which_beats_15(monkeypatch):
    from fieldlog.tui.screens.login import lock_minutes

    assert lock_minutes() == 15
    config.set_value("lock_minutes", "5")
    assert lock_minutes() == 5
    monkeypatch.setenv("FIELDLOG_LOCK_MINUTES", "2.5")
    assert lock_minutes() == 2.5
    assert lock_minutes(1) == 1


def test_the_tui_starts_in_the_files_theme_until_one_is_chosen(db_path):
    from fieldlog.db.store import Store
    from fieldlog.tui.app import THEME_SETTING, make_app

    Store.open(db_path).close()
    config.set_value("theme", "nord")

    async def flow(expected: str) -> None:
        app = make_app(db_path)
        async with app.run_test() as pilot:
            await pilot.pause()
            assert app.theme == expected
            if expected == "nord":
                app.theme = "gruvbox"  # the officer's choice, kept in the log
                await pilot.pause()

    asyncio.run(flow("nord"))
    with Store.open(db_path) as s:
        assert s.meta().get(THEME_SETTING) == "gruvbox"
    asyncio.run(flow("gruvbox"))  # the log's choice beats the file's default


def test_the_store_and_library_raise_setting_errors():
    with pytest.raises(SettingError, match="There is no setting 'x'"):
        config.set_value("x", "1")
    with pytest.raises(SettingError, match="follow_up_days must be between 0 and 365"):
        config.set_value("follow_up_days", "-1")


def test_init_without_officer_and_without_the_file_is_a_validation_error(store):
    with pytest.raises(ValidationError, match="fieldlog config set officer NAME"):
        store.set_officer(None)
