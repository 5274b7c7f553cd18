"""Supervisor review in the TUI at 80x24: the Review screen (V) lists the queue, approves with
one key, returns with a required comment (Escape writes nothing), steps through the statuses;
a laptop that is no supervisor's sees why instead of the actions; the contact's detail shows
its review; the officer's dashboard leads with the contacts returned for changes."""

from __future__ import annotations

from fieldlog.db.store import Store
from fieldlog.tui.app import make_app
from fieldlog.tui.dialogs.text import TextDialog
from fieldlog.tui.screens.dashboard import DashboardScreen
from fieldlog.tui.screens.detail import DetailScreen
from fieldlog.tui.screens.help import HelpScreen
from fieldlog.tui.screens.review import ReviewScreen
from fieldlog.tui.widgets.footer import KeysFooter
from fieldlog.tui.widgets.table import ListTable
from tests.lib.tui import SIZE, run, settle, static_text, table_text, until

OFFICER = "Ofc. Ana Lee"
SUPERVISOR = "Sgt. Kim Park"
SUMMARIES = ("Met Pastor Reyes about the youth league", "Door-knock on 5th", "Block party")


def build(path, *, supervisor: bool = True) -> list[str]:
    """Three contacts by an officer, all submitted (oldest first); with ``supervisor`` the
    log is a supervisor's laptop as its last sync left it (meta ``dept_role``)."""
    with Store.open(path) as store:
        store.set_officer(OFFICER, "1201")
        ids = [
            store.contacts.add(
                {"summary": s, "neighborhood": "Eastside", "occurred_at": f"{3 - i}h ago"}
            )
            for i, s in enumerate(SUMMARIES)
        ]
        if supervisor:
            with store.write() as tx:
                tx.set_meta("dept_role", "supervisor")
                tx.set_meta("officer", SUPERVISOR)
    return ids


def reviewed(path, cid: str) -> dict:
    """The contact's review fields as the log holds them now."""
    with Store.open(path) as store:
        c = store.contacts.get(cid)
    return {f: c.get(f) for f in ("review_status", "review_comment", "reviewed_by", "reviewed_at")}


def set_review(path, cid: str, status: str, comment: str | None = None) -> None:
    from fieldlog import review

    with Store.open(path) as store:
        now = "2026-11-25T16:02:00Z"
        if status == "approved":
            values = review.approve_values(SUPERVISOR, now)
        else:
            values = review.return_values(SUPERVISOR, comment or "", now)
        store.contacts.review(cid, values)


async def open_review(app, pilot) -> ReviewScreen:
    await settle(app, pilot)
    await pilot.press("V")
    await settle(app, pilot)
    screen = app.screen
    assert isinstance(screen, ReviewScreen), screen
    await until(pilot, lambda: screen.loaded, "the review list")
    return screen


def footer_keys(screen) -> list[str]:
    footer = screen.query_one(KeysFooter)
    return [b.description for b, _, _ in footer.shown(SIZE[0])]


def test_review_screen_lists_the_queue_with_its_keys(tmp_path):
    path = tmp_path / "log.db"
    ids = build(path)

    async def flow():
        app = make_app(path)
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_review(app, pilot)
            table = screen.query_one("#rv-table", ListTable)
            assert table.row_count == 3
            rows = table_text(table)
            assert any(OFFICER in r and "Block party" in r for r in rows), rows
            assert static_text(screen, "#rv-title").startswith("Waiting for review (3)")
            assert "a approves" in static_text(screen, "#rv-note")
            keys = footer_keys(screen)
            assert keys[:3] == ["Approve", "Return", "Status"], keys
            assert "Help" in keys
            # the detail line: the whole summary and the review so far
            detail = static_text(screen, "#rv-detail")
            assert "not reviewed yet" in detail
            # Enter opens the contact
            await pilot.press("enter")
            await settle(app, pilot)
            assert isinstance(app.screen, DetailScreen)
            assert app.screen.contact_id in ids
            await pilot.press("escape")
            await settle(app, pilot)
            assert isinstance(app.screen, ReviewScreen)
            # Help lists the screen's keys and V among the keys that work everywhere
            await pilot.press("question_mark")
            await settle(app, pilot)
            assert isinstance(app.screen, HelpScreen)
            shown = static_text(app.screen)
            assert "Approve" in shown and "Return" in shown
            assert "Supervisor review of contacts" in shown

    run(flow)


def test_status_key_steps_through_the_filters(tmp_path):
    path = tmp_path / "log.db"
    ids = build(path)
    set_review(path, ids[0], "approved")
    set_review(path, ids[1], "returned", "Add the block number")

    async def flow():
        app = make_app(path)
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_review(app, pilot)
            table = screen.query_one("#rv-table", ListTable)
            assert [table.get_row_at(0)[4].plain] == ["Block party"]
            seen = {}
            for _ in range(3):
                screen.loaded = False
                await pilot.press("s")
                await until(pilot, lambda: screen.loaded, "the list again")
                seen[screen.status] = (table.row_count, static_text(screen, "#rv-title"))
            assert seen["returned"][0] == 1 and seen["returned"][1].startswith("Returned")
            assert seen["approved"][0] == 1 and seen["approved"][1].startswith("Approved")
            assert seen["submitted"][0] == 1
            await pilot.press("s")  # returned: the comment under the table
            await until(pilot, lambda: screen.status == "returned" and screen.loaded)
            await settle(app, pilot)
            detail = static_text(screen, "#rv-detail")
            assert "returned by Sgt. Kim Park" in detail and "Add the block number" in detail

    run(flow)


def test_approve_is_one_key_and_writes_the_review(tmp_path):
    path = tmp_path / "log.db"
    ids = build(path)

    async def flow():
        app = make_app(path)
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_review(app, pilot)
            table = screen.query_one("#rv-table", ListTable)
            first = table.cursor_key
            assert first in ids
            screen.loaded = False
            await pilot.press("a")  # the one key
            await until(pilot, lambda: screen.loaded, "the list after the approve")
            await settle(app, pilot)
            assert table.row_count == 2 and first not in table.rows
            got = reviewed(path, first)
            assert got["review_status"] == "approved"
            assert got["reviewed_by"] == SUPERVISOR and got["reviewed_at"]
            assert table.cursor_key is not None  # on the next of the queue: a again approves it
            await pilot.press("ctrl+z")  # undone: back in the queue
            await settle(app, pilot)
            await until(pilot, lambda: table.row_count == 3, "the undone approve")
            assert reviewed(path, first)["review_status"] == "submitted"

    run(flow)


def test_return_requires_a_comment_and_writes_it(tmp_path):
    path = tmp_path / "log.db"
    ids = build(path)

    async def flow():
        app = make_app(path)
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_review(app, pilot)
            rid = screen.query_one("#rv-table", ListTable).cursor_key
            await pilot.press("r")
            await settle(app, pilot)
            dialog = app.screen
            assert isinstance(dialog, TextDialog)
            await pilot.press("enter")  # no comment: refused, the dialog stays
            await settle(app, pilot)
            assert app.screen is dialog
            assert "comment is required" in str(dialog.query_one(".dialog-hint").render())
            assert reviewed(path, rid)["review_status"] == "submitted"
            screen.loaded = False
            await pilot.press(*"Add the block", "enter")
            await until(pilot, lambda: screen.loaded, "the list after the return")
            await settle(app, pilot)
            assert app.screen is screen
            got = reviewed(path, rid)
            assert got["review_status"] == "returned"
            assert got["review_comment"] == "Add the block"
            assert got["reviewed_by"] == SUPERVISOR and got["reviewed_at"]
            assert screen.query_one("#rv-table", ListTable).row_count == 2
        assert rid in ids

    run(flow)


def test_escape_in_the_return_dialog_writes_nothing(tmp_path):
    path = tmp_path / "log.db"
    ids = build(path)
    before = {cid: reviewed(path, cid) for cid in ids}
    with Store.open(path) as store:
        changes = store.query("SELECT count(*) AS n FROM changes")[0]["n"]

    async def flow():
        app = make_app(path)
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_review(app, pilot)
            await pilot.press("r")
            await settle(app, pilot)
            assert isinstance(app.screen, TextDialog)
            await pilot.press(*"Add the", "escape")
            await settle(app, pilot)
            assert app.screen is screen
            assert screen.query_one("#rv-table", ListTable).row_count == 3

    run(flow)
    assert {cid: reviewed(path, cid) for cid in ids} == before
    with Store.open(path) as store:
        assert store.query("SELECT count(*) AS n FROM changes")[0]["n"] == changes


def test_a_laptop_that_is_no_supervisors_sees_why_not(tmp_path):
    path = tmp_path / "log.db"
    ids = build(path, supervisor=False)
    from fieldlog import review

    with Store.open(path) as store:
        line = review.may_review(store)
    assert line  # this laptop may not review: the line the screen must show

    async def flow():
        app = make_app(path)
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_review(app, pilot)
            assert static_text(screen, "#rv-note").strip() == line
            assert screen.query_one("#rv-table", ListTable).row_count == 3
            keys = footer_keys(screen)
            assert "Approve" not in keys and "Return" not in keys, keys
            await pilot.press("a", "r")
            await settle(app, pilot)
            assert app.screen is screen  # no dialog, no traceback
            said = [n.message for n in app._notifications]
            assert said.count(line) == 2, said  # each key says why, nothing else
        assert all(reviewed(path, cid)["review_status"] == "submitted" for cid in ids)

    run(flow)


def test_detail_shows_the_review(tmp_path):
    path = tmp_path / "log.db"
    ids = build(path)
    set_review(path, ids[1], "returned", "Add the block number")

    async def flow():
        app = make_app(path)
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            app.push_screen(DetailScreen(ids[1]))
            await settle(app, pilot)
            fields = static_text(app.screen, "#fields")
            assert "Review" in fields and "returned by Sgt. Kim Park" in fields, fields
            assert "Comment" in fields and "Add the block number" in fields
            await pilot.press("escape")
            await settle(app, pilot)
            app.push_screen(DetailScreen(ids[0]))  # never reviewed: nothing of it shown
            await settle(app, pilot)
            fields = static_text(app.screen, "#fields")
            assert "Review" not in fields and "Comment" not in fields, fields

    run(flow)


def test_dashboard_leads_with_the_returned_contacts(tmp_path):
    path = tmp_path / "log.db"
    ids = build(path, supervisor=False)
    set_review(path, ids[1], "returned", "Add the block number")

    async def flow():
        app = make_app(path)
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            dash = app.screen
            assert isinstance(dash, DashboardScreen)
            await until(pilot, lambda: dash.followups_loaded, "the dashboard's table")
            title = static_text(dash, "#followups-title")
            assert title.startswith("1 returned for changes"), title
            table = dash.query_one("#followups", ListTable)
            first = table_text(table)[0]
            assert "returned" in first and "Add the block number" in first, first
            await pilot.press("enter")  # opens the contact, to change what the comment asks
            await settle(app, pilot)
            assert isinstance(app.screen, DetailScreen) and app.screen.contact_id == ids[1]

    run(flow)


SNAP_NOW = "2026-11-25T10:00:00-06:00"


def test_review_screen_picture(snap_compare, tmp_path, monkeypatch):
    """The queue at 80x24 on a supervisor's laptop: 20 demo contacts (seed 7, a fixed clock),
    the oldest returned (so 19 wait); the cursor's contact in full under the table.
    Refresh: ``pytest tests/tui/test_review_screen.py -n 0 --snapshot-update``."""
    from fieldlog import demo

    monkeypatch.setenv("FIELDLOG_NOW", SNAP_NOW)
    path = tmp_path / "snap.db"
    with Store.open(path) as store:
        store.set_officer(OFFICER, "1201")
        demo.fill(store, 20, seed=7)
        first = store.contacts.reviews()[0]["id"]
        with store.write() as tx:
            tx.set_meta("dept_role", "supervisor")
            tx.set_meta("officer", SUPERVISOR)
    set_review(path, first, "returned", "Add the block number")

    async def run_before(pilot) -> None:
        await settle(pilot.app, pilot)
        await pilot.press("V")
        await until(pilot, lambda: getattr(pilot.app.screen, "loaded", False), "the queue")
        await settle(pilot.app, pilot)

    assert snap_compare(make_app(path), terminal_size=SIZE, run_before=run_before)
