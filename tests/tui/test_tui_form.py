"""The contact form: keys only, errors beside fields, drafts that survive closing the app."""

from __future__ import annotations

import asyncio
import json

import pytest
from textual.widgets import Input, Label, TextArea

from fieldlog.db.store import Store
from fieldlog.tui.app import make_app
from fieldlog.tui.dialogs.concern import ConcernDialog
from fieldlog.tui.dialogs.confirm import ConfirmDialog
from fieldlog.tui.dialogs.referral import ReferralDialog
from fieldlog.tui.screens.detail import DetailScreen
from fieldlog.tui.screens.form import ContactFormScreen
from tests.lib.tui import SIZE, build_log, read_draft, run, settle, until


async def press_text(pilot, value: str) -> None:
    await pilot.press(*[{" ": "space", ",": "comma"}.get(ch, ch) for ch in value])


async def focus_on(app, pilot, wid: str, limit: int = 40) -> None:
    """Tab until the widget ``#wid`` has focus (keys only, the way an officer would)."""
    for _ in range(limit):
        if app.focused is not None and app.focused.id == wid:
            return
        await pilot.press("tab")
    raise AssertionError(f"tab never reached #{wid}; focus is on {app.focused!r}")


def error_text(screen, fid: str) -> str:
    label = screen.query_one(f"#{fid}-error", Label)
    return str(label.content) if label.has_class("-shown") else ""


@pytest.mark.slow
def test_new_contact_with_concern_and_referral_by_keys(tmp_path):
    path = tmp_path / "log.db"
    build_log(path)  # earlier entries to suggest from

    async def flow():
        app = make_app(path)
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            await pilot.press("n")
            await settle(app, pilot)
            form = app.screen
            assert isinstance(form, ContactFormScreen)
            assert app.focused is form.query_one("#summary", Input)
            await press_text(pilot, "Walked the [b]market")
            await focus_on(app, pilot, "when")
            await press_text(pilot, "yesterday 14:30")
            await pilot.press("tab", "enter", "down", "enter")  # kind: business
            await focus_on(app, pilot, "neighborhood")
            await press_text(pilot, "Ea")
            hood = form.query_one("#neighborhood", Input)
            await until(pilot, lambda: hood._suggestion == "Eastside", "the suggestion")
            await pilot.press("right")  # take the suggestion
            assert form.query_one("#neighborhood", Input).value == "Eastside"
            await focus_on(app, pilot, "tags")
            await press_text(pilot, "market, night")
            await focus_on(app, pilot, "notes")
            await press_text(pilot, "quiet evening")

            await focus_on(app, pilot, "concern-category")
            await press_text(pilot, "noi")  # typed ahead: noise
            await focus_on(app, pilot, "concern-description")
            assert form.query_one("#concern-category", Input).value == "noise"
            await press_text(pilot, "stalls open late")
            await focus_on(app, pilot, "referral-agency")
            await press_text(pilot, "Parks")
            await focus_on(app, pilot, "referral-reason")
            await press_text(pilot, "lighting")
            await pilot.pause()
            assert form.concerns and form.referrals
            await pilot.press("ctrl+s")
            await settle(app, pilot)
            assert not isinstance(app.screen, ContactFormScreen)

        with Store.open(path) as store:
            rows = [c for c in store.contacts.list() if "market" in c["summary"]]
            assert len(rows) == 1
            c = store.contacts.get(rows[0]["id"])
            assert c["summary"] == "Walked the [b]market"
            assert c["kind"] == "business"
            assert c["neighborhood"] == "Eastside"
            assert c["tags"] == ["market", "night"]
            assert c["notes"] == "quiet evening"
            assert [(k["category"], k["description"]) for k in c["concerns"]] == [
                ("noise", "stalls open late")
            ]
            assert [(r["agency"], r["reason"]) for r in c["referrals"]] == [("Parks", "lighting")]
            assert store.drafts.names() == []

    run(flow)


@pytest.mark.slow
def test_bad_date_shows_error_beside_field_and_writes_nothing(tmp_path):
    path = tmp_path / "log.db"

    async def flow():
        app = make_app(path)
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            await pilot.press("n")
            await settle(app, pilot)
            form = app.screen
            await press_text(pilot, "Bad date")
            await focus_on(app, pilot, "when")
            await press_text(pilot, "blursday")
            await pilot.press("ctrl+s")
            await settle(app, pilot)
            assert app.screen is form
            assert "blursday" in error_text(form, "when")
            assert app.focused is form.query_one("#when", Input)
            assert error_text(form, "summary") == ""
            # Typing in the field clears its message.
            await pilot.press("backspace")
            await pilot.pause()
            assert error_text(form, "when") == ""

        with Store.open(path) as store:
            assert store.contacts.count() == 0

    run(flow)


@pytest.mark.slow
def test_empty_summary_error_and_escape_asks(tmp_path):
    async def flow():
        app = make_app(tmp_path / "log.db")
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            await pilot.press("n")
            await settle(app, pilot)
            await pilot.press("escape")  # nothing typed: closes at once
            await pilot.pause()
            assert not isinstance(app.screen, (ContactFormScreen, ConfirmDialog))

            await pilot.press("n")
            await settle(app, pilot)
            form = app.screen
            await pilot.press("ctrl+s")
            await settle(app, pilot)
            assert "summary" in error_text(form, "summary")

            await press_text(pilot, "Something")
            await pilot.press("escape")
            await pilot.pause()
            assert isinstance(app.screen, ConfirmDialog)
            await pilot.press("n")  # keep the form
            await pilot.pause()
            assert app.screen is form
            assert form.query_one("#summary", Input).value == "Something"
            await pilot.press("escape")
            await pilot.pause()
            await pilot.press("y")  # discard
            await settle(app, pilot)
            assert not isinstance(app.screen, ContactFormScreen)
            assert app.store.drafts.names() == []
            assert app.is_running  # "n"/"y" never reached the app's keys

    run(flow)


@pytest.mark.slow
def test_edit_from_detail_changes_summary(tmp_path):
    path = tmp_path / "log.db"
    cid = build_log(path)

    async def flow():
        app = make_app(path)
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            app.push_screen(DetailScreen(cid))
            await settle(app, pilot)
            await pilot.press("e")
            await settle(app, pilot)
            form = app.screen
            assert isinstance(form, ContactFormScreen)
            summary = form.query_one("#summary", Input)
            assert summary.value == "Met Pastor Reyes about the youth league"
            assert form.query_one("#neighborhood", Input).value == "Eastside"
            # the summary opens as it was, the cursor at its end (typing adds, never replaces)
            assert summary.cursor_position == len(summary.value)
            await pilot.press("ctrl+u")  # delete to the start
            await press_text(pilot, "Pastor Reyes again")
            await pilot.press("ctrl+s")
            await settle(app, pilot)
            assert isinstance(app.screen, DetailScreen)
            assert app.screen.contact["summary"] == "Pastor Reyes again"

        with Store.open(path) as store:
            c = store.contacts.get(cid)
            assert c["summary"] == "Pastor Reyes again"
            assert c["neighborhood"] == "Eastside"
            assert len(c["concerns"]) == 1 and len(c["referrals"]) == 1
            assert store.drafts.names() == []

    run(flow)


@pytest.mark.slow
def test_draft_comes_back_after_the_app_closed(tmp_path):
    path = tmp_path / "log.db"

    async def flow_type():
        app = make_app(path)
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            await pilot.press("n")
            await settle(app, pilot)
            await press_text(pilot, "Unfinished note")
            await focus_on(app, pilot, "when")
            await press_text(pilot, "yesterday 9:00")
            await focus_on(app, pilot, "concern-category")
            await press_text(pilot, "y")  # youth, typed ahead
            await focus_on(app, pilot, "concern-description")
            await press_text(pilot, "kids on roofs")
            # the draft is written after typing pauses
            await until(pilot, lambda: "kids on roofs" in json.dumps(read_draft(path)), "draft")
            await settle(app, pilot)
        # the app closed mid-form (as a closed terminal would)

    async def flow_restore():
        app = make_app(path)
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            assert isinstance(app.screen, ConfirmDialog)
            await pilot.press("y")
            await settle(app, pilot)
            form = app.screen
            assert isinstance(form, ContactFormScreen)
            assert form.query_one("#summary", Input).value == "Unfinished note"
            assert form.query_one("#when", Input).value == "yesterday 9:00"
            assert [c["description"] for c in form.concerns] == ["kids on roofs"]
            await pilot.press("ctrl+s")
            await settle(app, pilot)
            assert not isinstance(app.screen, ContactFormScreen)

    run(flow_type)
    with Store.open(path) as store:
        assert store.drafts.names() == ["contact-new"]
        assert store.contacts.count() == 0
    run(flow_restore)
    with Store.open(path) as store:
        assert store.drafts.names() == []
        (row,) = store.contacts.list()
        c = store.contacts.get(row["id"])
        assert c["summary"] == "Unfinished note"
        assert [k["category"] for k in c["concerns"]] == ["youth"]


def test_declined_draft_is_dropped(tmp_path):
    path = tmp_path / "log.db"
    with Store.open(path) as store:
        store.drafts.save("contact-new", {"fields": {"summary": "old"}, "summary": "old"})

    async def flow():
        app = make_app(path)
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            assert isinstance(app.screen, ConfirmDialog)
            await pilot.press("n")
            await settle(app, pilot)
            assert app.store.drafts.names() == []

    run(flow)


@pytest.mark.slow
def test_concern_and_referral_from_detail(tmp_path):
    path = tmp_path / "log.db"
    cid = build_log(path)

    async def flow():
        app = make_app(path)
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            app.push_screen(DetailScreen(cid))
            await settle(app, pilot)

            await pilot.press("c")
            await settle(app, pilot)
            assert isinstance(app.screen, ConcernDialog)
            await pilot.press("enter", "t", "enter")  # traffic
            await pilot.press("tab", "tab")
            assert isinstance(app.focused, Input)
            await press_text(pilot, "speeding [on] 5th")
            await pilot.press("enter")
            await settle(app, pilot)
            assert isinstance(app.screen, DetailScreen)

            await pilot.press("a")
            await settle(app, pilot)
            assert isinstance(app.screen, ReferralDialog)
            await pilot.press("ctrl+s")  # no agency: stays, says why
            await pilot.pause()
            assert isinstance(app.screen, ReferralDialog)
            assert "agency" in error_text(app.screen, "item")
            await press_text(pilot, "Housing Authority")
            await pilot.press("tab", "tab")
            await press_text(pilot, "rent help")
            await pilot.press("ctrl+s")
            await settle(app, pilot)
            assert isinstance(app.screen, DetailScreen)
            assert len(app.screen.contact["concerns"]) == 2

        with Store.open(path) as store:
            c = store.contacts.get(cid)
            assert ("traffic", "speeding [on] 5th") in [
                (k["category"], k["description"]) for k in c["concerns"]
            ]
            assert ("Housing Authority", "rent help") in [
                (r["agency"], r["reason"]) for r in c["referrals"]
            ]

    run(flow)


@pytest.mark.slow
def test_form_widgets_and_markup_safe_items(tmp_path):
    """A filled line is part of the save, its text kept as data; an emptied line is not."""

    async def flow():
        app = make_app(tmp_path / "log.db")
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            await pilot.press("n")
            await settle(app, pilot)
            form = app.screen
            form.query_one("#concern-category", Input).value = "noise"
            form.query_one("#concern-description", Input).value = "[bold]x[/] [link=y"
            await pilot.pause()
            assert form.concerns == [
                {"category": "noise", "description": "[bold]x[/] [link=y", "priority": "normal"}
            ]
            form.query_one("#concern-category", Input).value = ""
            form.query_one("#concern-description", Input).value = ""
            await pilot.pause()
            assert form.concerns == []
            assert isinstance(form.query_one("#notes"), TextArea)

    asyncio.run(flow())
