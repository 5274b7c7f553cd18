"""Concern and referral screens, the contact detail and the follow-ups at 80x24: whole text,
edits, ``m`` asking the outcome, undo, counts that agree with the dashboard, live refresh and
footers that fit."""

from __future__ import annotations

import pytest
from textual.binding import Binding
from textual.widgets import Input, TextArea
from textual.widgets._footer import FooterKey

from fieldlog.db.store import Store
from fieldlog.tui.app import make_app
from fieldlog.tui.dialogs.concern_edit import ConcernEditDialog
from fieldlog.tui.dialogs.referral_edit import ReferralEditDialog
from fieldlog.tui.dialogs.text import TextDialog
from fieldlog.tui.screens import followups
from fieldlog.tui.screens.detail import DetailScreen
from fieldlog.tui.screens.followups import FollowupsScreen
from fieldlog.tui.screens.record import ConcernScreen, ReferralScreen
from fieldlog.tui.widgets.footer import KeysFooter
from fieldlog.tui.widgets.table import ListTable
from tests.lib.tui import SIZE, run, settle, table_text, until

pytestmark = pytest.mark.slow

LONG = " ".join(f"w{i:03d}" for i in range(60))[:300]  # 300 characters, every word different


def build(path, *, description: str = "late music on 5th") -> dict[str, str]:
    """A contact with one concern and one referral answering it (due in the past)."""
    with Store.open(path) as store:
        cid = store.contacts.add(
            {"summary": "Met Pastor Reyes", "person_name": "Reyes", "neighborhood": "Eastside"},
            [{"category": "noise", "description": description}],
        )
        kid = store.contacts.get(cid)["concerns"][0]["id"]
        rid = store.referrals.add(
            cid, "Parks", reason="court lighting", concern=kid, follow_up_on="2020-01-01"
        )
        store.concerns.update(kid, status="open")  # the referral made it referred
    return {"cid": cid, "kid": kid, "rid": rid}


def concern(path, kid: str) -> dict:
    with Store.open(path) as store:
        return store.records.get("concerns", kid)


def referral(path, rid: str) -> dict:
    with Store.open(path) as store:
        return store.records.get("referrals", rid)


def screen_lines(app) -> list[str]:
    """The screen shown, as its 24 lines of text (what the officer sees)."""
    return [strip.text for strip in app.screen._compositor.render_strips()]


def flat(lines: list[str]) -> str:
    return " ".join(" ".join(lines).split())


async def open_screen(app, pilot, screen) -> None:
    await settle(app, pilot)
    app.push_screen(screen)
    await settle(app, pilot)
    assert app.screen is screen


def test_concern_screen_shows_the_whole_text_and_opens_its_links(tmp_path):
    path = tmp_path / "log.db"
    ids = build(path, description=LONG)
    with Store.open(path) as store:
        store.concerns.update(
            ids["kid"], status="in_progress", resolution="Talked to the owner; " + LONG[:150]
        )

    async def flow():
        app = make_app(path)
        async with app.run_test(size=SIZE) as pilot:
            await open_screen(app, pilot, DetailScreen(ids["cid"]))
            await pilot.press("enter")  # the detail starts on its concerns: opens the first
            await settle(app, pilot)
            assert isinstance(app.screen, ConcernScreen)
            shown = flat(screen_lines(app))
            assert LONG in shown  # all 300 characters, wrapped, none cut
            assert "Talked to the owner; " + LONG[:150] in shown
            assert "Category noise" in shown and "Status in_progress" in shown
            assert "Met Pastor Reyes — Reyes, Eastside" in shown  # its contact
            links = app.screen.query_one("#rec-links", ListTable)
            assert [r.split()[0] for r in table_text(links)] == ["contact", "referral"]
            assert "Parks: court lighting" in table_text(links)[1]

            await pilot.press("j", "enter")  # the referral made for it
            await settle(app, pilot)
            assert isinstance(app.screen, ReferralScreen)
            assert app.screen.record_id == ids["rid"]
            shown = flat(screen_lines(app))
            assert "Agency Parks" in shown and "Reason court lighting" in shown
            assert "2020-01-01 overdue" in shown
            await pilot.press("escape")
            await settle(app, pilot)
            await pilot.press("k", "enter")  # the contact line
            await settle(app, pilot)
            assert isinstance(app.screen, DetailScreen) and app.screen.contact_id == ids["cid"]

    run(flow)


def test_detail_description_takes_the_free_width(tmp_path):
    path = tmp_path / "log.db"
    ids = build(path, description=LONG)

    async def width(size) -> int:
        app = make_app(path)
        async with app.run_test(size=size) as pilot:
            await open_screen(app, pilot, DetailScreen(ids["cid"]))
            table = app.screen.query_one("#concerns", ListTable)
            cell = table.get_row_at(0)[-1]
            assert LONG.startswith(cell.plain.rstrip("…"))
            assert table.virtual_size.width <= table.size.width  # no sideways scrolling
            return len(cell.plain)

    found: list[int] = []

    async def both():
        found.append(await width(SIZE))
        found.append(await width((120, 30)))

    run(both)
    narrow, wide = found
    assert narrow >= 20 and wide >= narrow + 35


def test_detail_enter_on_a_referral_opens_it(tmp_path):
    path = tmp_path / "log.db"
    ids = build(path)

    async def flow():
        app = make_app(path)
        async with app.run_test(size=SIZE) as pilot:
            await open_screen(app, pilot, DetailScreen(ids["cid"]))
            await pilot.press("tab")  # concerns -> referrals
            assert app.focused is app.screen.query_one("#referrals")
            await pilot.press("enter")
            await settle(app, pilot)
            assert isinstance(app.screen, ReferralScreen)
            assert app.screen.record_id == ids["rid"]

    run(flow)


def test_concern_edit_dialog_persists_and_undoes(tmp_path):
    path = tmp_path / "log.db"
    ids = build(path)

    async def flow():
        app = make_app(path)
        async with app.run_test(size=SIZE) as pilot:
            await open_screen(app, pilot, ConcernScreen(ids["kid"]))
            await pilot.press("e")
            await pilot.pause()
            assert isinstance(app.screen, ConcernEditDialog)
            await pilot.press("enter", "down", "enter")  # status open -> in_progress
            await pilot.press("tab", "enter", "down", "down", "enter")  # normal -> urgent
            await pilot.press("tab")
            assert isinstance(app.focused, TextArea)
            await pilot.press(*"called [the] landlord", "ctrl+s")
            await settle(app, pilot)
            assert isinstance(app.screen, ConcernScreen)
            k = concern(path, ids["kid"])
            assert (k["status"], k["priority"]) == ("in_progress", "urgent")
            assert k["resolution"] == "called [the] landlord"
            assert "Resolution called [the] landlord" in flat(screen_lines(app))

            await pilot.press("u")  # undo: the edit goes, all of it
            await settle(app, pilot)
            k = concern(path, ids["kid"])
            assert (k["status"], k["priority"], k["resolution"]) == ("open", "normal", None)
            assert "Priority normal" in flat(screen_lines(app))

            await pilot.press("e")  # Escape writes nothing
            await pilot.pause()
            await pilot.press("escape")
            await settle(app, pilot)
            assert concern(path, ids["kid"])["updated_at"] == k["updated_at"]

    run(flow)


def test_resolve_then_undo_reopens_on_both_screens(tmp_path):
    path = tmp_path / "log.db"
    ids = build(path)

    async def flow():
        app = make_app(path)
        async with app.run_test(size=SIZE) as pilot:
            await open_screen(app, pilot, ConcernScreen(ids["kid"]))
            await pilot.press("r")
            await settle(app, pilot)
            k = concern(path, ids["kid"])
            assert k["status"] == "resolved" and k["resolved_at"]
            assert "Status resolved on" in flat(screen_lines(app))
            await pilot.press("ctrl+z")
            await settle(app, pilot)
            k = concern(path, ids["kid"])
            assert (k["status"], k["resolved_at"]) == ("open", None)
            assert "Status open" in flat(screen_lines(app))

            await pilot.press("escape")
            await settle(app, pilot)
            await open_screen(app, pilot, DetailScreen(ids["cid"]))
            await pilot.press("r")  # u is the outcome here: ctrl+z undoes
            await settle(app, pilot)
            assert concern(path, ids["kid"])["status"] == "resolved"
            await pilot.press("ctrl+z")
            await settle(app, pilot)
            assert concern(path, ids["kid"])["status"] == "open"
            assert "open" in table_text(app.screen.query_one("#concerns", ListTable))[0]

    run(flow)


def test_referral_m_asks_the_outcome_and_undo_restores(tmp_path):
    path = tmp_path / "log.db"
    ids = build(path)

    async def flow():
        app = make_app(path)
        async with app.run_test(size=SIZE) as pilot:
            await open_screen(app, pilot, ReferralScreen(ids["rid"]))
            await pilot.press("m", *"lights fixed [May]", "enter")  # no pause: nothing lost
            await settle(app, pilot)
            assert isinstance(app.screen, ReferralScreen)
            r = referral(path, ids["rid"])
            assert (r["status"], r["outcome"]) == ("completed", "lights fixed [May]")
            assert "Outcome lights fixed [May]" in flat(screen_lines(app))
            await pilot.press("u")
            await settle(app, pilot)
            r = referral(path, ids["rid"])
            assert (r["status"], r["outcome"]) == ("made", None)

            await pilot.press("e")  # status, follow-up date, outcome in one dialog
            await pilot.pause()
            assert isinstance(app.screen, ReferralEditDialog)
            await pilot.press("tab")
            app.screen.query_one("#follow_up_on", Input).value = "2031-05-06"
            await pilot.press("tab", *"left a message", "ctrl+s")
            await settle(app, pilot)
            r = referral(path, ids["rid"])
            assert (r["status"], r["follow_up_on"], r["outcome"]) == (
                "made",
                "2031-05-06",
                "left a message",
            )

    run(flow)


def test_followups_m_asks_the_outcome_escape_keeps_it_completed(tmp_path):
    path = tmp_path / "log.db"
    ids = build(path)

    async def flow():
        app = make_app(path)
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            await pilot.press("f")
            await settle(app, pilot)
            assert isinstance(app.screen, FollowupsScreen)
            table = app.screen.query_one("#fu-table", ListTable)
            assert table.row_count == 1
            await pilot.press("m")
            await pilot.pause()
            assert isinstance(app.screen, TextDialog)
            await pilot.press("escape")
            await settle(app, pilot)
            r = referral(path, ids["rid"])
            assert (r["status"], r["outcome"]) == ("completed", None)
            assert table.row_count == 0
            assert "Nothing due" in str(app.screen.query_one("#fu-title").render())

            await pilot.press("ctrl+z")  # u is the new date here
            await settle(app, pilot)
            assert referral(path, ids["rid"])["status"] == "made"
            assert table.row_count == 1

            await pilot.press("space", *"placed", "enter")
            await settle(app, pilot)
            r = referral(path, ids["rid"])
            assert (r["status"], r["outcome"]) == ("completed", "placed")

    run(flow)


def test_reschedule_and_status_on_followups_undo(tmp_path):
    path = tmp_path / "log.db"
    ids = build(path)

    async def flow():
        app = make_app(path)
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            await pilot.press("f")
            await settle(app, pilot)
            await pilot.press("u", *"2031-05-06", "enter")
            await settle(app, pilot)
            assert referral(path, ids["rid"])["follow_up_on"] == "2031-05-06"
            await pilot.press("ctrl+z")
            await settle(app, pilot)
            assert referral(path, ids["rid"])["follow_up_on"] == "2020-01-01"
            await pilot.press("s", "down", "enter")  # made -> accepted
            await settle(app, pilot)
            assert referral(path, ids["rid"])["status"] == "accepted"
            await pilot.press("ctrl+z")
            await settle(app, pilot)
            assert referral(path, ids["rid"])["status"] == "made"

    run(flow)


def test_followups_title_counts_agree_with_the_dashboard_past_the_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(followups, "LIMIT", 20)  # the table holds 20; the log has more
    path = tmp_path / "log.db"
    with Store.open(path) as store:
        cid = store.contacts.add({"summary": "Block party", "follow_up_on": "today"})
        for i in range(30):
            store.referrals.add(cid, f"Agency {i}", follow_up_on="2020-01-01")
        store.referrals.add(cid, "Soon", follow_up_on="in 2d")
        figures = store.reports.dashboard()
    assert (figures["followups_overdue"], figures["followups_due"]) == (30, 1)

    async def flow():
        app = make_app(path)
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            await pilot.press("f")
            await settle(app, pilot)
            assert app.screen.query_one("#fu-table", ListTable).row_count == 20
            title = str(app.screen.query_one("#fu-title").render())
            assert title == "Follow-ups: 2 due within 7 days, 30 overdue (!); the oldest 20 shown"
            await pilot.press("w")
            await settle(app, pilot)
            title = str(app.screen.query_one("#fu-title").render())
            assert title == "Follow-ups: 1 due today, 30 overdue (!); the oldest 20 shown"

    run(flow)


def test_screens_refresh_live_keeping_the_cursor(tmp_path):
    path = tmp_path / "log.db"
    ids = build(path)
    with Store.open(path) as store:
        first = store.referrals.add(ids["cid"], "Food Bank", follow_up_on="2019-06-01")
        third = store.referrals.add(ids["cid"], "Legal Aid", follow_up_on="2021-01-01")

    async def flow():
        app = make_app(path)
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            await pilot.press("f")
            await settle(app, pilot)
            table = app.screen.query_one("#fu-table", ListTable)
            await pilot.press("j")  # on Parks (2020-01-01), the second row
            assert table.cursor_key == f"referral:{ids['rid']}"
            with Store.open(path) as other:  # the CLI completes the first one meanwhile
                other.referrals.update(first, status="completed", outcome="fed")
            await until(pilot, lambda: table.row_count == 2, "the completed one gone")  # polled
            await settle(app, pilot)
            assert table.row_count == 2
            assert table.cursor_key == f"referral:{ids['rid']}"  # the same follow-up

            await pilot.press("enter")
            await settle(app, pilot)
            assert isinstance(app.screen, ReferralScreen)
            with Store.open(path) as other:
                other.referrals.update(ids["rid"], status="completed", outcome="lit")
            await until(pilot, lambda: "Outcome lit" in flat(screen_lines(app)), "the outcome")
            await settle(app, pilot)
            assert "Status completed" in flat(screen_lines(app))
            assert "Outcome lit" in flat(screen_lines(app))

            await pilot.press("escape")
            await settle(app, pilot)
            await open_screen(app, pilot, DetailScreen(ids["cid"]))
            refs = app.screen.query_one("#referrals", ListTable)
            refs.move_cursor(row=refs.get_row_index(third))
            with Store.open(path) as other:
                other.referrals.update(third, status="declined")
            await until(
                pilot, lambda: "declined" in table_text(refs)[refs.cursor_row], "the new status"
            )
            await settle(app, pilot)
            assert refs.cursor_key == third
            assert "declined" in table_text(refs)[refs.cursor_row]

    run(flow)


def footer_labels(app) -> list[str]:
    return [f"{k.key_display} {k.description}" for k in app.screen.query(FooterKey)]


def own_shown(screen) -> list[Binding]:
    return [b for b in type(screen).BINDINGS if isinstance(b, Binding) and b.show]


def test_footers_fit_80_columns(tmp_path):
    path = tmp_path / "log.db"
    ids = build(path)
    with Store.open(path) as store:
        store.contacts.add({"summary": "Call back", "follow_up_on": "today"})

    async def flow():
        app = make_app(path)
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            await pilot.press("f")
            await settle(app, pilot)
            for screen in (
                app.screen,
                DetailScreen(ids["cid"]),
                ConcernScreen(ids["kid"]),
                ReferralScreen(ids["rid"]),
            ):
                if not screen.is_mounted:
                    await open_screen(app, pilot, screen)
                await pilot.pause()
                footer = app.screen.query_one(KeysFooter)
                bottom = screen_lines(app)[-1]
                keys = list(app.screen.query(FooterKey))
                assert sum(k.outer_size.width for k in keys) <= 80
                labels = footer_labels(app)
                for b in own_shown(screen):  # each of the screen's own keys, whole
                    first = Binding(b.key.split(",")[0], b.action)
                    label = f"{app.get_key_display(first)} {b.description}"
                    assert label in labels and label in bottom, (type(screen).__name__, label)
                assert "? Help" in bottom, type(screen).__name__
                assert "StatusLine" in [type(w).__name__ for w in app.screen.children]
                assert footer.region.bottom == 24

    run(flow)
