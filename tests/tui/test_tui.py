"""TUI flows through Textual's pilot: the app on a log built with Store methods."""

from __future__ import annotations

import pytest
from textual import events
from textual.binding import Binding
from textual.keys import format_key
from textual.widgets import DataTable, Input, Select

from fieldlog.db.store import Store
from fieldlog.tui.app import FieldlogApp, make_app
from fieldlog.tui.dialogs.choice import ChoiceDialog
from fieldlog.tui.dialogs.confirm import ConfirmDialog
from fieldlog.tui.screens.contacts import ContactsScreen
from fieldlog.tui.screens.detail import DetailScreen
from fieldlog.tui.screens.help import HelpScreen
from tests.lib.tui import (
    SIZE,
    build_conflicts,
    build_log,
    run,
    settle,
    static_text,
    table_text,
    until,
)


async def open_list(app: FieldlogApp, pilot) -> DataTable:
    """From start-up, ``l`` to the contact list; returns its table once loaded."""
    await settle(app, pilot)
    await pilot.press("l")
    await settle(app, pilot)
    assert isinstance(app.screen, ContactsScreen)
    return app.screen.query_one("#contacts", DataTable)


def test_dashboard_shows_counts(tmp_path):
    path = tmp_path / "log.db"
    build_log(path, "Second contact")

    async def flow():
        app = make_app(path)
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            stats = static_text(app.screen, "#stats")
            assert "today 2" in stats
            assert "total 2" in stats
            assert "noise 1" in stats  # referred concerns are still open
            assert "made 1" in stats

    run(flow)


def test_empty_log_says_how_to_get_demo_data(tmp_path):
    async def flow():
        app = make_app(tmp_path / "log.db")
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            assert "fieldlog --db demo.db demo" in static_text(app.screen, "#stats")

    run(flow)


@pytest.mark.slow
def test_list_search_and_detail(tmp_path):
    path = tmp_path / "log.db"
    build_log(path, "Talked to the bakery owner", "Block party planning")

    async def flow():
        app = make_app(path)
        async with app.run_test(size=SIZE) as pilot:
            table = await open_list(app, pilot)
            assert table.row_count == 3
            assert any("Pastor Reyes" in r for r in table_text(table))

            await pilot.press("slash")
            await pilot.pause()
            assert isinstance(app.focused, Input)
            await pilot.press(*"bakery")
            # the search waits for typing to pause
            await until(
                pilot, lambda: getattr(app.screen, "query_text", None) == "bakery", "the search"
            )
            await settle(app, pilot)
            rows = table_text(table)
            assert len(rows) == 1 and "bakery" in rows[0]

            await pilot.press("enter")  # from the search box to the table
            await pilot.press("enter")  # open the contact
            await settle(app, pilot)
            assert isinstance(app.screen, DetailScreen)
            assert "bakery owner" in static_text(app.screen, "#fields")

            await pilot.press("escape")
            await pilot.pause()
            assert isinstance(app.screen, ContactsScreen)

    run(flow)


@pytest.mark.slow
def test_referral_status_and_concern_resolve_persist(tmp_path):
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
            await pilot.press("escape")  # a closed referral offers its outcome: skip it
            await settle(app, pilot)
            await pilot.press("r")
            await settle(app, pilot)
            refs = app.screen.query_one("#referrals", DataTable)
            assert "completed" in table_text(refs)[0]
        with Store.open(path) as store:
            c = store.contacts.get(cid)
            assert c["referrals"][0]["status"] == "completed"
            assert c["concerns"][0]["status"] == "resolved"

    run(flow)


@pytest.mark.slow
def test_delete_needs_confirmation(tmp_path):
    path = tmp_path / "log.db"
    cid = build_log(path, "Keep me")

    async def flow():
        app = make_app(path)
        async with app.run_test(size=SIZE) as pilot:
            table = await open_list(app, pilot)
            table.move_cursor(row=table.get_row_index(cid))
            await pilot.press("enter")
            await settle(app, pilot)
            await pilot.press("x")
            await pilot.pause()
            assert isinstance(app.screen, ConfirmDialog)
            await pilot.press("n")  # no: nothing happens
            await settle(app, pilot)
            assert isinstance(app.screen, DetailScreen)
            await pilot.press("x")
            await pilot.pause()
            await pilot.press("y")
            await settle(app, pilot)
            assert isinstance(app.screen, ContactsScreen)
            assert cid not in table.rows and table.row_count == 1
        with Store.open(path) as store:
            assert store.contacts.count() == 1
            assert store.query("SELECT deleted FROM contacts WHERE id = ?", [cid])[0]["deleted"]

    run(flow)


@pytest.mark.slow
def test_markup_in_user_text_is_shown_as_data(tmp_path):
    path = tmp_path / "log.db"
    with Store.open(path) as store:
        cid = store.contacts.add(
            {"summary": "Sign said [bold red]KEEP OUT[/] and [link=x]", "neighborhood": "[b"},
            [{"category": "noise", "description": "[/i] unbalanced [bold"}],
            [{"agency": "[Parks", "reason": "[red]x", "follow_up_on": "today"}],
        )

    async def flow():
        app = make_app(path)
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)  # the dashboard lists the follow-up
            followups = app.screen.query_one("#followups", DataTable)
            assert followups.row_count == 1
            await pilot.press("enter")
            await settle(app, pilot)
            assert isinstance(app.screen, DetailScreen)
            assert "[bold red]KEEP OUT[/]" in static_text(app.screen, "#fields")
            await pilot.press("x")
            await pilot.pause()
            await pilot.press("escape")
            await pilot.press("l")
            await settle(app, pilot)
            assert any("[bold red]" in r for r in table_text(app.screen.query_one(DataTable)))
        assert cid

    run(flow)


def test_help_lists_every_binding_and_unbuilt_screens_do_not_crash(tmp_path):
    build_log(tmp_path / "log.db")

    async def flow():
        app = make_app(tmp_path / "log.db")
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            await pilot.press("question_mark")
            await pilot.pause()
            assert isinstance(app.screen, HelpScreen)
            shown = static_text(app.screen)
            for b in FieldlogApp.BINDINGS:
                assert b.tooltip in shown
            await pilot.press("escape")
            await pilot.press("n", "o", "f")
            await pilot.pause()
            assert app.is_running
            titles = [c.title for c in app.get_system_commands(app.screen)]
            for title in ("Dashboard", "Contacts", "Search contacts", "Follow-ups", "Help"):
                assert title in titles

    run(flow)
    # Every screen: the help over it names each of its keys (its own and inherited ones) and
    # every app key. The expected list comes from the BINDINGS, so a key added to a screen,
    # or to a base class, that the help does not show fails here; a new screen without a way
    # to open it below fails too.
    (tmp_path / "conflicts").mkdir()
    path, cid = build_conflicts(tmp_path / "conflicts")
    with Store.open(path) as store:  # a concern and a referral to open on their screens
        kid = store.concerns.add(cid, category="noise", description="late music")
        store.referrals.add(cid, "Parks", concern=kid)
        store.problems.add("Late music on 5th")  # a problem to open on its screen
    screens = _screen_classes()
    missing = sorted(set(screens) - set(OPEN_SCREEN))
    assert not missing, f"add how to open {missing} to OPEN_SCREEN (or to NO_HELP)"

    async def each_screen():
        app = make_app(path)
        async with app.run_test(size=SIZE) as pilot:
            for name, keys in OPEN_SCREEN.items():
                await settle(app, pilot)
                for key in keys:  # from the screen before (the app keys work anywhere)
                    await pilot.press(key)
                    await settle(app, pilot)
                assert type(app.screen) is screens[name], (name, app.screen)
                await pilot.press("question_mark")
                await pilot.pause()
                assert isinstance(app.screen, HelpScreen), name
                lines = static_text(app.screen).splitlines()
                for b in FieldlogApp.BINDINGS:
                    assert any(b.tooltip in line for line in lines), (name, b.key)
                for b in _shown_bindings(screens[name]):
                    label = format_key(b.key.split(",")[0].strip())
                    assert any(label in ln and b.description in ln for ln in lines), (name, b)
                await pilot.press("escape")

    run(each_screen)


# How to reach each screen from start-up (on build_conflicts' log: it has conflicts).
OPEN_SCREEN = {
    "DashboardScreen": [],
    "ContactsScreen": ["l"],
    "DetailScreen": ["l", "enter"],
    "FollowupsScreen": ["f"],
    "OrgsScreen": ["o"],
    "ReportScreen": ["R"],
    "ConflictsScreen": ["C"],
    "ReviewScreen": ["V"],
    "ConcernScreen": ["l", "enter", "enter"],
    "ReferralScreen": ["l", "enter", "tab", "enter"],
    "ProblemsScreen": ["p"],
    "ProblemDetailScreen": ["p", "enter"],
}
NO_HELP = {"LoginScreen"}  # before the log is open: "?" is typed into the passphrase


def _screen_classes() -> dict[str, type]:
    """Every full screen of the TUI (dialogs and forms are modal: "?" is text there)."""
    import importlib
    import pkgutil

    from textual.screen import ModalScreen, Screen

    package = importlib.import_module(HelpScreen.__module__.rsplit(".", 1)[0])
    for info in pkgutil.iter_modules(package.__path__, package.__name__ + "."):
        importlib.import_module(info.name)
    found, todo = {}, [Screen]
    while todo:
        cls = todo.pop()
        subs = cls.__subclasses__()
        todo.extend(subs)
        concrete = not subs  # a base class (StoreScreen) is not a screen of its own
        if cls.__module__.startswith("fieldlog") and concrete and cls.__name__ not in NO_HELP:
            if not issubclass(cls, ModalScreen):
                found[cls.__name__] = cls
    return found


def _shown_bindings(cls: type) -> list[Binding]:
    """The keys a screen really has (Textual merges BINDINGS along the class hierarchy) that
    the footer would show, from fieldlog's own classes."""
    own = [c for c in cls.__mro__ if c.__module__.startswith("fieldlog")]
    return [
        b
        for c in own
        for b in c.__dict__.get("BINDINGS", [])
        if isinstance(b, Binding) and b.show and b.description
    ]


@pytest.mark.slow
def test_list_loads_pages_lazily(tmp_path):
    path = tmp_path / "log.db"
    build_log(path, *[f"Contact number {i}" for i in range(249)])

    async def flow():
        app = make_app(path)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("l")
            await settle(app, pilot)
            table = app.screen.query_one("#contacts", DataTable)
            assert table.row_count == 100  # one page, not the whole log
            table.move_cursor(row=99)
            await settle(app, pilot)
            assert table.row_count == 200
            table.move_cursor(row=199)
            await settle(app, pilot)
            assert table.row_count == 250
            assert len(set(table.rows)) == 250

    run(flow)


@pytest.mark.slow
def test_slash_from_the_dashboard_types_into_search(tmp_path):
    """The contact list mounts on first use; letters right after / must land in the box."""
    path = tmp_path / "log.db"
    build_log(path, "Talked to the bakery owner")

    async def flow():
        app = make_app(path)
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            app.post_message(events.Key("slash", "/"))
            await settle(app, pilot)
            assert isinstance(app.focused, Input)  # the list's mount did not take focus back
            await pilot.press(*"bakery")
            await until(
                pilot, lambda: getattr(app.screen, "query_text", None) == "bakery", "the search"
            )
            await settle(app, pilot)
            assert isinstance(app.screen, ContactsScreen)
            assert app.screen.query_one("#search", Input).value == "bakery"
            rows = table_text(app.screen.query_one("#contacts", DataTable))
            assert len(rows) == 1 and "bakery" in rows[0]

    run(flow)


@pytest.mark.slow
def test_filter_bar_narrows_the_list(tmp_path):
    path = tmp_path / "log.db"
    build_log(path, "Westside walk", "Westside meeting")
    with Store.open(path) as store:
        store.contacts.add({"summary": "Old call", "kind": "phone", "occurred_at": "30d ago",
                           "neighborhood": "Westside", "tags": ["night"]})  # fmt: skip

    async def flow():
        app = make_app(path)
        async with app.run_test(size=SIZE) as pilot:
            table = await open_list(app, pilot)
            assert table.row_count == 4
            screen = app.screen

            async def set_filter(wid: str, value: str) -> list[str]:
                widget = screen.query_one(f"#{wid}")
                widget.value = value
                # filters wait for typing to pause
                await until(pilot, lambda: screen.filters == screen.filter_values(), "filters")
                await settle(app, pilot)
                return table_text(table)

            assert len(await set_filter("f-hood", "westside")) == 3
            assert [r for r in await set_filter("f-since", "7d") if "Old call" in r] == []
            assert len(table_text(table)) == 2
            await set_filter("f-since", "")
            rows = await set_filter("f-kind", "phone")
            assert len(rows) == 1 and "Old call" in rows[0]
            await set_filter("f-kind", Select.NULL)
            rows = await set_filter("f-tag", "night")
            assert len(rows) == 1 and "Old call" in rows[0]
            assert "tag night" in screen.sub_title
            # a date the store cannot read is a notification, not a crash
            await set_filter("f-until", "whenever")
            assert any("Cannot read the date" in n.message for n in app._notifications)

    run(flow)


@pytest.mark.slow
def test_summary_column_uses_a_wide_terminal(tmp_path):
    path = tmp_path / "log.db"
    build_log(path, "Long enough to be cut at eighty columns but not at one forty")

    async def flow():
        app = make_app(path)
        async with app.run_test(size=(140, 30)) as pilot:
            table = await open_list(app, pilot)
            assert table.columns["summary"].width > 60  # the free width, not 24
            assert any("not at one forty" in r for r in table_text(table))

    run(flow)
