"""Sync conflicts in the TUI: the dashboard's count and the screen that resolves them."""

from __future__ import annotations

import pytest
from textual.widgets import DataTable, Input, Static

from fieldlog.db.store import Store
from fieldlog.errors import ValidationError
from fieldlog.tui.app import make_app
from fieldlog.tui.dialogs.choice import ChoiceDialog
from fieldlog.tui.dialogs.text import TextDialog
from fieldlog.tui.screens.conflicts import ConflictsScreen, show_value, typed_value
from fieldlog.tui.screens.dashboard import DashboardScreen
from fieldlog.tui.screens.help import HelpScreen
from tests.lib.tui import SIZE, build_conflicts, run, settle, static_text, table_text


async def open_conflicts(app, pilot) -> DataTable:
    await settle(app, pilot)
    await pilot.press("C")
    await settle(app, pilot)
    assert isinstance(app.screen, ConflictsScreen)
    return app.screen.query_one("#cf-table", DataTable)


def test_store_values_as_the_screen_reads_them(tmp_path):
    path, cid = build_conflicts(tmp_path)
    with Store.open(path) as store:
        summary, tags = store.conflicts.list()
    assert (summary["field"], summary["kept"]) == ("summary", "mine")
    assert summary["mine"] == "Pastor wants a league"
    assert summary["theirs"] == "Pastor asked for lights"
    assert summary["theirs_officer"] == "Ofc. Ana Lee"
    assert tags["mine"] == '["youth", "sports"]'  # raw stored JSON text
    assert show_value("tags", tags["mine"]) == "youth, sports"
    assert show_value("tags", "[]") == "(empty)"
    assert show_value("deleted", 1) == "deleted"
    assert show_value("notes", None) == "(empty)"


def test_typed_values_take_the_forms_date_words(monkeypatch):
    monkeypatch.setenv("FIELDLOG_NOW", "2026-11-25T10:00:00-06:00")
    assert typed_value("follow_up_on", "2026-12-01") == "2026-12-01"
    assert typed_value("follow_up_on", "none") is None
    assert typed_value("occurred_at", "2026-11-20 14:30") == "2026-11-20T20:30:00Z"
    assert typed_value("summary", "new words") == "new words"
    assert typed_value("tags", "a, b") == ["a, b"]  # the store splits the commas
    for field in ("deleted", "organization_id"):
        with pytest.raises(ValidationError, match="press m or t"):
            typed_value(field, "x")


@pytest.mark.slow
def test_dashboard_shows_the_count_and_c_opens_the_screen(tmp_path):
    path, _ = build_conflicts(tmp_path)

    async def flow():
        app = make_app(path)
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            assert isinstance(app.screen, DashboardScreen)
            stats = static_text(app.screen, "#stats")
            assert "Last sync" in stats
            assert "Conflicts   2 to resolve" in stats and "press C" in stats
            table = await open_conflicts(app, pilot)
            await pilot.press("d")
            await settle(app, pilot)
            lines = stats.splitlines()
            y = next(i for i, line in enumerate(lines) if "to resolve" in line)
            x = lines[y].index("2 to resolve")  # Console text has no padding: +1 below
            await pilot.click("#stats", offset=(x + 1, y))  # the figure opens the screen
            await settle(app, pilot)
            assert isinstance(app.screen, ConflictsScreen)
            assert table.row_count == 2
            rows = table_text(table)
            assert rows[0].startswith("contact ") and "summary" in rows[0]
            assert "Pastor wa" in rows[0] and "Pastor as" in rows[0]
            assert rows[0].split()[-3:] == ["mine", "Ofc.", "Ana…"]
            assert "youth, sp" in rows[1]
            title = str(app.screen.query_one("#cf-title", Static).render())
            assert "2 sync conflicts to resolve" in title
            detail = static_text(app.screen, "#cf-detail")
            assert "from Ofc. Ana Lee" in detail
            assert "Mine   Pastor wants a league  (kept by sync)" in detail
            assert "Theirs Pastor asked for lights" in detail

    run(flow)


@pytest.mark.slow
def test_keep_theirs_writes_the_value_and_resolves(tmp_path):
    path, cid = build_conflicts(tmp_path)

    async def flow():
        app = make_app(path)
        async with app.run_test(size=SIZE) as pilot:
            table = await open_conflicts(app, pilot)
            await pilot.press("t")  # the summary row
            await settle(app, pilot)
            assert table.row_count == 1
            assert "tags" in table_text(table)[0]
            await pilot.press("d")  # the dashboard's figure follows
            await settle(app, pilot)
            assert "Conflicts   1 to resolve" in static_text(app.screen, "#stats")

    run(flow)
    with Store.open(path) as store:
        assert store.contacts.get(cid)["summary"] == "Pastor asked for lights"
        assert store.conflicts.count() == 1
        done = [c for c in store.conflicts.list(all_=True) if c["resolved_at"]]
        assert [(c["field"], c["resolution"]) for c in done] == [("summary", "kept theirs")]


@pytest.mark.slow
def test_keep_mine_and_a_typed_value(tmp_path):
    path, cid = build_conflicts(tmp_path)

    async def flow():
        app = make_app(path)
        async with app.run_test(size=SIZE) as pilot:
            table = await open_conflicts(app, pilot)
            await pilot.press("down", "e")  # the tags row
            await settle(app, pilot)
            assert isinstance(app.screen, TextDialog)
            box = app.screen.query_one("#text", Input)
            assert box.value == "youth, sports"  # starts from the value sync kept
            box.value = "youth, lights"
            await pilot.press("enter")
            await settle(app, pilot)
            assert isinstance(app.screen, ConflictsScreen)
            assert table.row_count == 1
            await pilot.press("enter")  # Enter asks what to keep
            await settle(app, pilot)
            assert isinstance(app.screen, ChoiceDialog)
            assert app.screen.choices[:3] == ["keep mine", "keep theirs", "type a value"]
            await pilot.press("enter")  # keep mine (highlighted first)
            await settle(app, pilot)
            assert table.row_count == 0 and not table.display
            text = static_text(app.screen, "#cf-title")
            assert "Nothing to resolve" in text and "fieldlog sync" in text

    run(flow)
    with Store.open(path) as store:
        contact = store.contacts.get(cid)
        assert contact["tags"] == ["youth", "lights"]
        assert contact["summary"] == "Pastor wants a league"
        assert store.conflicts.count() == 0
        kinds = sorted(c["resolution"] for c in store.conflicts.list(all_=True))
        assert kinds == ["kept mine", "typed value"]


@pytest.mark.slow
def test_bad_typed_value_is_a_notification_not_a_crash(tmp_path):
    path, _ = build_conflicts(tmp_path)

    async def flow():
        app = make_app(path)
        async with app.run_test(size=SIZE) as pilot:
            table = await open_conflicts(app, pilot)
            await pilot.press("e")  # the summary: required
            await settle(app, pilot)
            app.screen.query_one("#text", Input).value = ""
            await pilot.press("enter")
            await settle(app, pilot)
            assert isinstance(app.screen, ConflictsScreen)
            assert table.row_count == 2  # nothing resolved
            errors = [n for n in app._notifications if n.severity == "error"]
            assert errors and "summary" in errors[-1].message.lower()

    run(flow)


@pytest.mark.slow
def test_empty_state_and_help_lists_the_key(tmp_path):
    path = tmp_path / "log.db"
    with Store.open(path) as store:
        store.contacts.add({"summary": "No sync here"})

    async def flow():
        app = make_app(path)
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            assert "Conflicts  0" in static_text(app.screen, "#stats")
            table = await open_conflicts(app, pilot)
            assert table.row_count == 0 and not table.display
            text = static_text(app.screen, "#cf-title")
            assert text.startswith("Nothing to resolve: no sync conflicts.")
            for key in ("m", "t", "e", "enter"):  # nothing under the cursor: no-ops
                await pilot.press(key)
                await settle(app, pilot)
            assert isinstance(app.screen, ConflictsScreen)
            await pilot.press("question_mark")
            await settle(app, pilot)
            assert isinstance(app.screen, HelpScreen)
            shown = static_text(app.screen)
            assert "Resolve sync conflicts" in shown
            assert "Theirs" in shown and "Keep the other laptop's value" in shown

    run(flow)
