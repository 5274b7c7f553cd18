"""Snapshots of each screen at 80x24 on fixed demo data and a fixed clock.

Refresh only after looking at the new pictures: ``pytest tests/tui/test_tui_snapshots.py -n 0
--snapshot-update`` (``-n 0``: in one process, so syrupy also deletes the pictures of tests
that are gone), then open the report pytest-textual-snapshot writes.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from fieldlog import demo
from fieldlog.db.store import Store
from fieldlog.tui.app import make_app
from tests.lib.portable import tzset

pytestmark = pytest.mark.slow  # each snapshot builds a 300-contact demo log

SIZE = (80, 24)


NOW = "2026-11-25T10:00:00-06:00"


@pytest.fixture(scope="module")
def built_log(tmp_path_factory) -> Path:
    """300 demo contacts made on Wednesday 2026-11-25 at 10:00 in Chicago, seed 7: built once
    for the module (a second each), in a folder of its own as the root conftest's
    ``isolated`` would set up (that one is per test, not here yet)."""
    folder = tmp_path_factory.mktemp("snap")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FIELDLOG_HOME", str(folder / "home"))
        mp.setenv("FIELDLOG_CONFIG", str(folder / "config.toml"))
        mp.setenv("TZ", "America/Chicago")
        mp.setenv("FIELDLOG_NOW", NOW)
        for name in ("FIELDLOG_PASSPHRASE", "FIELDLOG_NEW_PASSPHRASE", "FIELDLOG_LOCK_MINUTES"):
            mp.delenv(name, raising=False)
        tzset()
        path = folder / "snap.db"
        with Store.open(path) as store:
            store.set_officer("Ofc. Dana Ruiz", "4471")
            demo.fill(store, 300, seed=7)
    tzset()
    return path


@pytest.fixture
def snap_log(built_log, tmp_path, monkeypatch):
    """A copy of the module's demo log for this test (a test may write to it), at its clock."""
    monkeypatch.setenv("FIELDLOG_NOW", NOW)
    path = tmp_path / "snap.db"
    src, dst = sqlite3.connect(built_log), sqlite3.connect(path)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()
    return path


async def settled(pilot) -> None:
    for _ in range(4):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    # A blinking cursor is drawn or not depending on how long the run took: a loaded
    # CI machine caught it "off". A steady cursor makes the picture the same every time.
    for widget in pilot.app.screen.query("Input, TextArea"):
        widget.cursor_blink = False
    await pilot.pause()


def keys(*presses: str):
    async def run_before(pilot) -> None:
        await settled(pilot)
        for key in presses:
            await pilot.press(key)
            await settled(pilot)

    return run_before


def test_dashboard(snap_compare, snap_log):
    assert snap_compare(make_app(snap_log), terminal_size=SIZE, run_before=keys())


def test_contact_list(snap_compare, snap_log):
    assert snap_compare(make_app(snap_log), terminal_size=SIZE, run_before=keys("l"))


def test_contact_detail(snap_compare, snap_log):
    assert snap_compare(
        make_app(snap_log), terminal_size=SIZE, run_before=keys("l", "down", "down", "enter")
    )


def test_help(snap_compare, snap_log):
    assert snap_compare(make_app(snap_log), terminal_size=SIZE, run_before=keys("question_mark"))


def test_new_contact_form(snap_compare, snap_log):
    assert snap_compare(make_app(snap_log), terminal_size=SIZE, run_before=keys("n"))


def test_follow_ups(snap_compare, snap_log):
    assert snap_compare(make_app(snap_log), terminal_size=SIZE, run_before=keys("f"))


def test_organizations(snap_compare, snap_log):
    assert snap_compare(make_app(snap_log), terminal_size=SIZE, run_before=keys("o"))


def test_export_dialog(snap_compare, snap_log):
    assert snap_compare(make_app(snap_log), terminal_size=SIZE, run_before=keys("ctrl+e"))


def test_dashboard_light_theme(snap_compare, snap_log):
    app = make_app(snap_log)
    app.theme = "textual-light"
    assert snap_compare(app, terminal_size=SIZE, run_before=keys())


def test_report(snap_compare, snap_log):
    assert snap_compare(make_app(snap_log), terminal_size=SIZE, run_before=keys("R"))


@pytest.fixture
def snap_conflicts(tmp_path, monkeypatch):
    """Two sync conflicts on the first contact of a 30-contact demo log (seed 7): the same
    ids, officers, values and times on every run."""
    from tests.lib.tui import build_conflicts

    monkeypatch.setenv("FIELDLOG_NOW", NOW)
    path, _ = build_conflicts(tmp_path, demo_contacts=30)
    return path


def test_conflicts(snap_compare, snap_conflicts):
    assert snap_compare(make_app(snap_conflicts), terminal_size=SIZE, run_before=keys("C"))


def test_search_results(snap_compare, snap_log):
    """Ranked hits of every type, the matched words marked, the field that matched."""
    assert snap_compare(
        make_app(snap_log),
        terminal_size=SIZE,
        run_before=keys("l", "slash", "y", "o", "u", "t", "h", "wait:500", "enter"),
    )


def test_concern_screen(snap_compare, snap_log):
    """A concern in full from its contact's detail (Enter on the concern row)."""
    assert snap_compare(
        make_app(snap_log),
        terminal_size=SIZE,
        run_before=keys("l", "down", "down", "enter", "enter"),
    )


def test_filled_contact_form(snap_compare, snap_log):
    """The form with a concern line and a referral line filled, no Add step."""
    typed = ["n", *"Block party", "tab", *"Rosa", "tab", "tab", *"noi", "tab", *"late music"]
    typed += ["tab", "tab", *"Parks", "tab", *"flyer"]
    typed = [{" ": "space"}.get(k, k) for k in typed]
    assert snap_compare(make_app(snap_log), terminal_size=SIZE, run_before=keys(*typed))


def test_every_stored_picture_has_its_test():
    """syrupy fails a run on a stored picture no test uses, but not when the run is split
    over workers (pytest-xdist: each sees only its share), so it is checked here."""
    here = Path(__file__)
    stored = {p.stem for p in (here.parent / "__snapshots__" / here.stem).glob("*.svg")}
    assert stored and stored <= {name for name in globals() if name.startswith("test_")}
