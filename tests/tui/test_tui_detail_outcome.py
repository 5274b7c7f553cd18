"""The referral outcome on the contact detail screen: ``u``, and after ``s`` closes a referral."""

from __future__ import annotations

import pytest
from textual.widgets import DataTable, Input

from fieldlog.db.store import Store
from fieldlog.tui.app import make_app
from fieldlog.tui.dialogs.choice import ChoiceDialog
from fieldlog.tui.dialogs.text import TextDialog
from fieldlog.tui.screens.detail import DetailScreen
from tests.lib.tui import SIZE, build_log, run, settle, table_text


def referral(path, cid: str) -> dict:
    with Store.open(path) as store:
        return store.contacts.get(cid)["referrals"][0]


@pytest.mark.slow
def test_outcome_key_saves_and_shows_outcome(tmp_path):
    path = tmp_path / "log.db"
    cid = build_log(path)

    async def flow():
        app = make_app(path)
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            app.push_screen(DetailScreen(cid))
            await settle(app, pilot)
            await pilot.press("u")
            await pilot.pause()
            assert isinstance(app.screen, TextDialog)
            assert isinstance(app.focused, Input)
            await pilot.press(*"[b]", "enter")
            await settle(app, pilot)
            assert isinstance(app.screen, DetailScreen)
            refs = app.screen.query_one("#referrals", DataTable)
            assert "court lighting — [b]" in table_text(refs)[0]
            assert app.screen.changed

            await pilot.press("u")  # the dialog starts from the saved outcome
            await pilot.pause()
            assert app.screen.query_one(Input).value == "[b]"
            await pilot.press("escape")
            await settle(app, pilot)
        assert referral(path, cid)["outcome"] == "[b]"

    run(flow)


@pytest.mark.slow
def test_closing_status_then_outcome_both_persist(tmp_path):
    path = tmp_path / "log.db"
    cid = build_log(path)

    async def flow():
        app = make_app(path)
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            app.push_screen(DetailScreen(cid))
            await settle(app, pilot)
            await pilot.press("s")
            await pilot.pause()
            assert isinstance(app.screen, ChoiceDialog)
            # made -> accepted -> declined -> unreachable -> completed
            await pilot.press("down", "down", "down", "down", "enter")
            await settle(app, pilot)
            assert isinstance(app.screen, TextDialog)
            await pilot.press(*"lights fixed", "ctrl+s")
            await settle(app, pilot)
            assert isinstance(app.screen, DetailScreen)
        ref = referral(path, cid)
        assert ref["status"] == "completed"
        assert ref["outcome"] == "lights fixed"

    run(flow)


@pytest.mark.slow
def test_escape_in_outcome_dialog_writes_nothing(tmp_path):
    path = tmp_path / "log.db"
    cid = build_log(path)
    before = referral(path, cid)

    async def flow():
        app = make_app(path)
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            app.push_screen(DetailScreen(cid))
            await settle(app, pilot)
            await pilot.press("u")
            await pilot.pause()
            await pilot.press(*"never saved", "escape")
            await settle(app, pilot)
            assert isinstance(app.screen, DetailScreen)
            assert not app.screen.changed

    run(flow)
    assert referral(path, cid) == before  # not even updated_at moved


@pytest.mark.slow
def test_escape_after_closing_status_keeps_status_only(tmp_path):
    path = tmp_path / "log.db"
    cid = build_log(path)

    async def flow():
        app = make_app(path)
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            app.push_screen(DetailScreen(cid))
            await settle(app, pilot)
            await pilot.press("s")
            await pilot.pause()
            await pilot.press("down", "down", "enter")  # declined
            await settle(app, pilot)
            assert isinstance(app.screen, TextDialog)
            await pilot.press(*"nope", "escape")
            await settle(app, pilot)
            assert isinstance(app.screen, DetailScreen)

    run(flow)
    ref = referral(path, cid)
    assert ref["status"] == "declined"
    assert ref["outcome"] is None


@pytest.mark.slow
def test_non_closing_status_asks_no_outcome(tmp_path):
    path = tmp_path / "log.db"
    cid = build_log(path)

    async def flow():
        app = make_app(path)
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            app.push_screen(DetailScreen(cid))
            await settle(app, pilot)
            await pilot.press("s")
            await pilot.pause()
            await pilot.press("down", "enter")  # accepted
            await settle(app, pilot)
            assert isinstance(app.screen, DetailScreen)
        assert referral(path, cid)["status"] == "accepted"

    run(flow)
