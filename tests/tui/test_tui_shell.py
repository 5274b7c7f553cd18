"""The app shell (issue 10, "Fits 80x24"): the status line, footers that fit 80 columns, the
theme kept, every screen action in the command palette, empty states that name the key,
list tables with vim and Home/End keys, live dashboard figures, Help, and ``open_org``."""

from __future__ import annotations

import datetime as dt

from textual.binding import Binding
from textual.command import CommandPalette
from textual.screen import ModalScreen
from textual.widgets import Input
from textual.widgets._footer import FooterKey

from fieldlog import dates
from fieldlog.db.remotes.factory import open_remote
from fieldlog.db.store import Store
from fieldlog.sync import sync_with
from fieldlog.tui.app import make_app
from fieldlog.tui.dialogs.org_form import OrgForm
from fieldlog.tui.screens.conflicts import ConflictsScreen
from fieldlog.tui.screens.dashboard import DashboardScreen
from fieldlog.tui.screens.detail import DetailScreen
from fieldlog.tui.screens.help import HelpScreen
from fieldlog.tui.screens.orgs import OrgsScreen, open_org
from fieldlog.tui.screens.report import ReportScreen
from fieldlog.tui.widgets.status import StatusLine
from fieldlog.tui.widgets.table import ListTable
from tests.lib.tui import (
    SIZE,
    build_conflicts,
    build_log,
    palette_highlighted,
    palette_offers,
    run,
    settle,
    static_text,
    until,
)

LIVE = 0.7  # a little more than the app's poll of PRAGMA data_version


def status_of(screen) -> str:
    return str(screen.query_one(StatusLine).render())


async def go(app, pilot, key: str, screen_type: type):
    await pilot.press(key)
    await settle(app, pilot)
    assert isinstance(app.screen, screen_type)
    return app.screen


def past(days: int) -> str:
    return (dt.date.fromisoformat(dates.today_local()) - dt.timedelta(days=days)).isoformat()


# ---------------------------------------------------------------------- status line
def test_pending_count_walks_the_outbox_from_the_push_cursor(tmp_path):
    with Store.open(tmp_path / "log.db") as store:
        assert store.sync.pending() == 0
        for n in range(5):
            store.contacts.add({"summary": f"Contact {n}"})
        assert store.sync.pending() == 5
        assert store.sync.pending(cap=3) == 3  # "3 or more": the count stops there
        seq = store.scalar("SELECT max(seq) FROM changes")
        store.sync.set_pushed("one-remote", seq - 2)
        store.sync.set_pushed("an-older-one", 1)  # the latest push counts
        assert store.sync.pending() == 2
        plan = store.query(
            "EXPLAIN QUERY PLAN SELECT count(*) FROM (SELECT 1 FROM changes WHERE seq > ? LIMIT ?)",
            [0, 10],
        )
        assert any("INTEGER PRIMARY KEY" in r["detail"] for r in plan)  # no scan


def test_status_line_follows_own_writes_other_processes_and_sync(tmp_path):
    path = tmp_path / "my-log.db"
    with Store.open(path) as store:
        store.set_officer("Ofc. [b]Ana[/b] Lee")  # markup in a name is shown as data
    build_log(path)
    with Store.open(path) as store:
        pending = store.sync.pending()

    async def flow():
        app = make_app(path)
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            line = status_of(app.screen)
            assert line == f"my-log.db · Ofc. [b]Ana[/b] Lee · never synced · {pending} to sync"
            for key, screen_type in (("o", OrgsScreen), ("R", ReportScreen)):
                screen = await go(app, pilot, key, screen_type)
                assert status_of(screen) == line  # the same figures on every main screen

            # the TUI's own write (a partner added through the form)
            await go(app, pilot, "o", OrgsScreen)
            await pilot.press("a")
            await pilot.pause()
            assert isinstance(app.screen, OrgForm)
            await pilot.press(*"Harbor Food Bank", "ctrl+s")
            await settle(app, pilot)
            await pilot.pause(LIVE)
            await settle(app, pilot)
            assert f"· {pending + 1} to sync" in status_of(app.screen)

            # another process writes: the status line follows it too
            with Store.open(path) as other:
                other.contacts.add({"summary": "Logged from the CLI"})
            await pilot.pause(LIVE)
            await settle(app, pilot)
            assert f"· {pending + 2} to sync" in status_of(app.screen)

            # a sync from the CLI: the last sync's local time, nothing left to sync
            with Store.open(path) as other:
                remote = open_remote(str(tmp_path / "remote.fieldlog"))
                sync_with(other, remote)
                remote.close()
                synced = dates.show_local(other.meta()["last_sync"])
            await pilot.pause(LIVE)
            await settle(app, pilot)
            assert status_of(app.screen).endswith(f"· last sync {synced} · nothing to sync")
            screen = await go(app, pilot, "d", DashboardScreen)
            assert status_of(screen).endswith("nothing to sync")  # shown again: up to date

    run(flow)


# ---------------------------------------------------------------------- footers at 80 columns
def footer_problems(screen) -> list[str]:
    """Every key of the screen's own shows in the footer, whole, left of the palette key (the
    app's keys may give way: Help and the palette list them)."""
    keys = list(screen.query(FooterKey))
    palette = [k for k in keys if k.has_class("-command-palette")]
    right = palette[0].region.x if palette else SIZE[0]
    own = {
        b.description
        for node, b, _e, _t in screen.active_bindings.values()
        if b.show and node is not screen.app
    }
    problems = [d for d in own if d not in {k.description for k in keys}]
    for key in keys:
        if key in palette:
            continue
        r = key.region
        whole = len(key.key_display) + 1 + len(key.description)
        if not r.width or r.right > right or r.width < whole:
            problems.append(f"{key.description!r} cut at {r}")
    return problems


def test_every_footer_label_is_whole_at_80_columns(tmp_path):
    path, _ = build_conflicts(tmp_path)

    async def flow():
        app = make_app(path)
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            for key, screen_type in (
                ("d", DashboardScreen),
                ("o", OrgsScreen),
                ("R", ReportScreen),
                ("C", ConflictsScreen),
            ):
                screen = await go(app, pilot, key, screen_type)
                await pilot.pause()
                assert screen.query(FooterKey), screen_type
                assert not footer_problems(screen), (screen_type, footer_problems(screen))
            # the dashboard shows the way to the lists; q and ? are on every footer
            screen = await go(app, pilot, "d", DashboardScreen)
            labels = [k.description for k in screen.query(FooterKey)]
            for label in ("List", "Follow-ups", "Orgs", "New", "Search", "Help", "Quit"):
                assert label in labels

    run(flow)


# ---------------------------------------------------------------------- theme
def test_the_theme_chosen_is_there_at_the_next_start(tmp_path):
    path = tmp_path / "log.db"
    build_log(path)
    themes: list[str] = []

    async def choose():
        app = make_app(path)
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            themes.append(app.theme)
            assert app.theme != "nord"
            await pilot.press("ctrl+p")
            await pilot.pause()
            assert isinstance(app.screen, CommandPalette)
            await pilot.press(*"theme")
            await until(pilot, lambda: palette_offers(app, "theme"), "Theme in the palette")
            await pilot.press("enter")  # "Theme": the list of themes
            await until(
                pilot, lambda: palette_highlighted(app) in app.available_themes, "the themes"
            )
            await pilot.press(*"nord")
            await until(pilot, lambda: palette_offers(app, "nord"), "nord in the palette")
            await pilot.press("enter")
            await settle(app, pilot)
            assert app.theme == "nord"

    async def restart():
        app = make_app(path)
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            themes.append(app.theme)

    run(choose)
    with Store.open(path) as store:
        assert store.meta()["tui_theme"] == "nord"
    run(restart)
    assert themes[-1] == "nord"
    with Store.open(path) as store:  # a theme this Textual does not have: the default
        store.set_setting("tui_theme", "no-such-theme")
    run(restart)
    assert themes[-1] == themes[0]


# ---------------------------------------------------------------------- palette
def fieldlog_bindings(cls: type) -> list[Binding]:
    return [
        b
        for c in cls.__mro__
        if c.__module__.startswith("fieldlog.")
        for b in c.__dict__.get("BINDINGS", [])
        if isinstance(b, Binding) and b.description and not b.action.startswith("app.")
    ]


def test_every_action_of_the_detail_screen_is_in_the_palette(tmp_path):
    path = tmp_path / "log.db"
    cid = build_log(path)

    async def flow():
        app = make_app(path)
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            app.open_record("contact", cid)
            await settle(app, pilot)
            screen = app.screen
            assert isinstance(screen, DetailScreen)
            titles = {c.title for c in app.get_system_commands(screen)}
            enabled = {b.action for _n, b, on, _t in screen.active_bindings.values() if on}
            expected = [b for b in fieldlog_bindings(DetailScreen) if b.action in enabled]
            assert expected
            for b in expected:  # generated from the bindings: each one is there by name
                title = b.tooltip or b.description
                assert title[:1].upper() + title[1:] in titles, b
            assert "Dashboard" in titles and "Theme" in titles  # and the global ones
            assert "Down" not in titles  # table movement is Help's, not the palette's

            # run one through the palette: the same as pressing its key
            edit = next(b for b in expected if b.action == "edit_contact")
            await pilot.press("ctrl+p")
            await pilot.pause()
            words = edit.tooltip or edit.description
            await pilot.press(*words)
            await until(pilot, lambda: palette_offers(app, words), f"{words!r} in the palette")
            await pilot.press("enter")
            await settle(app, pilot)
            assert isinstance(app.screen, ModalScreen)
            assert not isinstance(app.screen, CommandPalette)
            assert app.screen.query(Input) or app.screen.query("TextArea")  # the form

    run(flow)


def test_a_key_hidden_from_the_footer_is_in_the_palette(tmp_path):
    path, _ = build_conflicts(tmp_path)

    async def flow():
        app = make_app(path)
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            screen = await go(app, pilot, "C", ConflictsScreen)
            commands = {c.title: c for c in app.get_system_commands(screen)}
            assert "Keep the other laptop's value" in commands
            assert commands["Keep the other laptop's value"].help == "Press t on this screen"
            screen = await go(app, pilot, "o", OrgsScreen)
            commands = {c.title: c for c in app.get_system_commands(screen)}
            assert "Add a partner organization" in commands

    run(flow)


# ---------------------------------------------------------------------- empty states
def test_empty_states_name_the_key_to_press(tmp_path):
    async def flow():
        app = make_app(tmp_path / "log.db")
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            stats = static_text(app.screen, "#stats")
            assert "press n to log your first contact" in stats
            assert "fieldlog add" not in stats  # a key, not a command to type elsewhere
            screen = await go(app, pilot, "o", OrgsScreen)
            assert "press a to add a partner" in static_text(screen, "#orgs-title")
            await pilot.press("a")  # the key it names does what it says
            await pilot.pause()
            assert isinstance(app.screen, OrgForm)
            await pilot.press(*"Legal Aid", "ctrl+s")
            await settle(app, pilot)
            table = screen.query_one("#orgs-table", ListTable)
            assert table.display and table.row_count == 1 and app.focused is table
            screen = await go(app, pilot, "C", ConflictsScreen)
            assert static_text(screen, "#cf-title").startswith("Nothing to resolve")

    run(flow)


# ---------------------------------------------------------------------- tables
def test_lists_take_vim_and_home_end_keys(tmp_path):
    path, _ = build_conflicts(tmp_path)
    with Store.open(path) as store:
        for n in range(4):
            store.orgs.add(name=f"Partner {n}")
            store.contacts.add({"summary": f"Due {n}", "follow_up_on": past(n + 1)})

    async def flow():
        app = make_app(path)
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            for key, screen_type, table_id in (
                ("d", DashboardScreen, "#followups"),
                ("o", OrgsScreen, "#orgs-table"),
                ("C", ConflictsScreen, "#cf-table"),
            ):
                screen = await go(app, pilot, key, screen_type)
                table = screen.query_one(table_id, ListTable)
                last = table.row_count - 1
                assert last >= 1 and app.focused is table
                for keys, row in (("end", last), ("home", 0), ("G", last), ("g", 0)):
                    await pilot.press(keys)
                    await pilot.pause()
                    assert table.cursor_row == row, (screen_type, keys)
                await pilot.press("j")
                await pilot.pause()
                assert table.cursor_row == 1
                await pilot.press("k")
                await pilot.pause()
                assert table.cursor_row == 0

    run(flow)


def test_dashboard_follows_a_contact_added_from_the_cli(tmp_path):
    path = tmp_path / "log.db"
    build_log(path)
    with Store.open(path) as store:
        for n in range(3):
            store.contacts.add({"summary": f"Due {n}", "follow_up_on": past(n + 2)})

    async def flow():
        app = make_app(path)
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            table = app.screen.query_one("#followups", ListTable)
            assert "total 4" in static_text(app.screen, "#stats")
            await pilot.press("j")
            await pilot.pause()
            kept = table.cursor_key
            with Store.open(path) as other:  # oldest first: the new one goes on top
                other.contacts.add({"summary": "From the CLI", "follow_up_on": past(30)})
            await pilot.pause(LIVE)
            await settle(app, pilot)
            assert "total 5" in static_text(app.screen, "#stats")
            assert table.row_count == 4
            assert table.cursor_key == kept and table.cursor_row == 2  # same follow-up
            app.data_changed()  # the hook the poll calls: refreshes just the same
            await settle(app, pilot)
            assert table.cursor_key == kept

    run(flow)


# ---------------------------------------------------------------------- help, open_org
def test_help_lists_list_keys_undo_and_repeat_last(tmp_path):
    build_log(tmp_path / "log.db")

    async def flow():
        app = make_app(tmp_path / "log.db")
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            await pilot.press("question_mark")
            await pilot.pause()
            assert isinstance(app.screen, HelpScreen)
            lines = static_text(app.screen).splitlines()

            def line(keys: str) -> str:
                return next(ln for ln in lines if ln.startswith(keys + " "))

            assert "Next row" in line("j") and "Previous row" in line("k")
            assert "First row" in line("g / home") and "Last row" in line("G / end")
            assert "Undo" in line("u / ctrl+z")
            assert "Repeat last" in line("ctrl+r")
            assert "Command palette" in line("ctrl+p")
            # the app's keys the dashboard repeats in its footer are listed once
            assert sum(ln.startswith("l ") for ln in lines) == 1

    run(flow)


def test_open_org_opens_the_partner_and_reports_what_was_saved(tmp_path):
    path = tmp_path / "log.db"
    with Store.open(path) as store:
        oid = store.orgs.add(name="Harbor Food Bank", kind="nonprofit")
    got: list[object] = []

    async def flow():
        app = make_app(path)
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            open_org(app, oid, got.append)
            await settle(app, pilot)
            form = app.screen
            assert isinstance(form, OrgForm)
            assert form.query_one("#name", Input).value == "Harbor Food Bank"
            form.query_one("#phone", Input).value = "555-0105"
            await pilot.press("ctrl+s")
            await settle(app, pilot)
            assert got == [oid]
            app.open_record("organization", oid, got.append)  # a search hit's way in
            await settle(app, pilot)
            assert isinstance(app.screen, OrgForm)
            await pilot.press("escape")
            await settle(app, pilot)
            assert got == [oid, None]
            open_org(app, "no-such-partner")  # gone since: a notification, not a crash
            await settle(app, pilot)
            assert isinstance(app.screen, DashboardScreen)
            assert any("no-such-partner" in str(n.message) for n in app._notifications)
        with Store.open(path) as store:
            assert store.orgs.get(oid)["phone"] == "555-0105"

    run(flow)
