"""The contact list and search results at 80x24: who and what each row is, the summary and
the match taking the free width, ranked results with the matched words highlighted and the
field that matched, every record type opening its own screen, rows that stay live, empty
states that say which key to press, and the list's keys."""

from __future__ import annotations

from rich.text import Text
from textual import events

from fieldlog.db.store import Store
from fieldlog.tui.app import make_app
from fieldlog.tui.screens.contacts import ContactsScreen
from fieldlog.tui.screens.detail import DetailScreen
from fieldlog.tui.screens.search import HIGHLIGHT
from fieldlog.tui.widgets.table import ListTable
from tests.lib.tui import SIZE, run, settle, static_text, table_text, until

BARBECUES = ("the school gate", "the park", "the church hall")


def build(path) -> dict[str, str]:
    """Three barbecues told apart only by who and where; "lantern" in a summary twice, in a
    summary once, in notes, in a concern and in a partner's name."""
    ids: dict[str, str] = {}
    with Store.open(path) as store:
        org = store.orgs.add(name="Harbor Lantern Trust")
        ids["org"] = org
        for i, where in enumerate(BARBECUES):
            values = {"summary": f"Community barbecue at {where}", "kind": "event",
                      "neighborhood": "Eastside", "occurred_at": f"{i + 2}h ago"}  # fmt: skip
            if i == 0:
                values["person_name"] = "Pastor Reyes"
            elif i == 1:
                values["organization"] = org
            ids[f"bbq{i}"] = store.contacts.add(values)
        ids["notes"] = store.contacts.add(
            {
                "summary": "Shop owners on Main Street about the weekend market",
                "notes": "they asked about a lantern for the alley",
                "occurred_at": "10m ago",
            }  # fmt: skip
        )
        ids["once"] = store.contacts.add({"summary": "Lantern walk with residents",
                                          "occurred_at": "20m ago"})  # fmt: skip
        ids["twice"] = store.contacts.add(
            {"summary": "Lantern walk: lantern repairs", "occurred_at": "30m ago"}
        )
        cid = store.contacts.add(
            {"summary": "Door-knock on 5th", "person_name": "Bo Kim", "occurred_at": "1h ago"},
            [{"category": "infrastructure", "description": "broken lantern by the bus stop"}],
        )
        ids["concern_contact"] = cid
        ids["concern"] = store.contacts.get(cid)["concerns"][0]["id"]
    return ids


async def open_list(app, pilot) -> ListTable:
    await settle(app, pilot)
    await pilot.press("l")
    await settle(app, pilot)
    assert isinstance(app.screen, ContactsScreen)
    return app.screen.query_one("#contacts", ListTable)


async def search(app, pilot, words: str) -> ListTable:
    """Type ``words`` into the search box (from the list) and wait for the results."""
    await pilot.press("slash")
    await pilot.press(*words)
    await searched(app, pilot, words)
    return app.screen.query_one("#contacts", ListTable)


async def searched(app, pilot, words: str) -> None:
    """Wait for the search for ``words`` to run (it waits for typing to pause) and show."""
    await until(
        pilot,
        lambda: getattr(app.screen, "query_text", None) == words.strip(),
        f"the search {words!r}",
    )
    await settle(app, pilot)


async def filtered(app, pilot) -> None:
    """Wait for the filter bar's values to be applied (they wait for typing to pause)."""
    screen = app.screen
    await until(pilot, lambda: screen.filters == screen.filter_values(), "the filters")
    await settle(app, pilot)


def labels(table: ListTable) -> list[str]:
    return [str(c.label) for c in table.ordered_columns]


def column(table: ListTable, key: str) -> list[Text]:
    return [table.get_row_at(i)[labels(table).index(key)] for i in range(table.row_count)]


def test_who_column_tells_the_barbecues_apart(tmp_path):
    path = tmp_path / "log.db"
    build(path)

    async def flow():
        app = make_app(path)
        async with app.run_test(size=SIZE) as pilot:
            table = await open_list(app, pilot)
            assert labels(table) == ["When", "Who", "Hood", "Summary", "C/R"]
            who = {str(c) for c in column(table, "Who")}
            assert "Pastor Reyes" in who  # the person, else the organization
            assert any(w.startswith("Harbor Lanter") for w in who)
            bbq = [r for r in table_text(table) if "barbecue" in r]
            assert len(bbq) == 3 and len(set(bbq)) == 3  # told apart at 80 columns
            # and in search results, where the match shows what tells them apart
            table = await search(app, pilot, "barbecue")
            matches = [str(c) for c in column(table, "Match")]
            for where in BARBECUES:
                assert any(m.endswith(f"barbecue at {where}") for m in matches), where

    run(flow)


def test_summary_takes_the_free_width(tmp_path):
    path = tmp_path / "log.db"
    build(path)

    async def flow():
        app = make_app(path)
        async with app.run_test(size=SIZE) as pilot:
            table = await open_list(app, pilot)
            at_80 = table.columns["summary"].width
            assert at_80 > 24  # what it was before the Who column, at 80 columns
            assert sum(c.get_render_width(table) for c in table.ordered_columns) <= 78
            await pilot.resize_terminal(120, 30)
            await settle(app, pilot)
            at_120 = table.columns["summary"].width
            assert at_120 >= at_80 + 15
            assert "Id" in labels(table)  # room for the short id too
            assert sum(c.get_render_width(table) for c in table.ordered_columns) <= 118
            rows = table_text(table)
            assert any("Community barbecue at the church hall" in r for r in rows)

    run(flow)


def test_search_is_ranked_highlighted_and_says_the_field(tmp_path):
    path = tmp_path / "log.db"
    ids = build(path)

    async def flow():
        app = make_app(path)
        async with app.run_test(size=SIZE) as pilot:
            await open_list(app, pilot)
            table = await search(app, pilot, "lantern")
            assert labels(table) == ["What", "When", "Who", "Field", "Match"]
            keys = [str(k.value) for k in table.rows]
            order = [k.split(":", 1)[1] for k in keys]
            # twice in the summary > once in the summary > in the notes
            assert order.index(ids["twice"]) < order.index(ids["once"]) < order.index(ids["notes"])
            what = [str(c) for c in column(table, "What")]
            assert "concern" in what and "partner" in what
            fields = dict(zip(order, (str(c) for c in column(table, "Field")), strict=True))
            assert fields[ids["notes"]] == "notes"
            assert fields[ids["once"]] == "summary"
            assert fields[ids["concern"]] == "concern"
            assert fields[ids["org"]] == "name"
            # the matched word carries the highlight style, in the cell and on the screen
            match = column(table, "Match")[order.index(ids["notes"])]
            hit = [match.plain[s.start : s.end] for s in match.spans if s.style == HIGHLIGHT]
            assert [h.lower() for h in hit] == ["lantern"]
            line = table.render_line(1 + order.index(ids["notes"]))  # under the header
            styled = "".join(s.text for s in line if s.style and s.style.bold and s.style.underline)
            assert styled.lower() == "lantern"
            # a concern's words (its category before them when there is room)
            concern = column(table, "Match")[order.index(ids["concern"])]
            assert "broken lantern by the bus stop" in concern.plain
            assert "best first" in app.screen.sub_title

    run(flow)


def test_enter_opens_each_kind_of_hit(tmp_path):
    path = tmp_path / "log.db"
    ids = build(path)

    async def flow():
        from fieldlog.tui.screens.record import ConcernScreen

        app = make_app(path)
        async with app.run_test(size=SIZE) as pilot:
            await open_list(app, pilot)
            table = await search(app, pilot, "lantern")
            await pilot.press("enter")  # from the box to the results
            assert app.focused is table
            order = [str(k.value).split(":", 1)[1] for k in table.rows]

            async def open_row(rid: str):
                table.move_cursor(row=order.index(rid))
                await pilot.press("enter")
                await settle(app, pilot)
                return app.screen

            screen = await open_row(ids["twice"])
            assert isinstance(screen, DetailScreen) and screen.contact_id == ids["twice"]
            assert "Lantern walk: lantern repairs" in static_text(screen, "#fields")
            await pilot.press("escape")
            await settle(app, pilot)
            screen = await open_row(ids["concern"])
            assert isinstance(screen, ConcernScreen) and screen.record_id == ids["concern"]
            await pilot.press("escape")
            await settle(app, pilot)
            assert isinstance(app.screen, ContactsScreen)
            screen = await open_row(ids["org"])
            assert type(screen).__name__ == "OrgForm"

    run(flow)


def test_filters_narrow_the_results_and_escape_clears_the_search(tmp_path):
    path = tmp_path / "log.db"
    ids = build(path)

    async def flow():
        app = make_app(path)
        async with app.run_test(size=SIZE) as pilot:
            await open_list(app, pilot)
            table = await search(app, pilot, "barbecue")
            assert table.row_count == 3
            screen = app.screen
            screen.query_one("#f-hood").value = "westside"
            await filtered(app, pilot)
            assert table.row_count == 0
            empty = static_text(screen, "#empty")
            assert "Nothing matches “barbecue” with the filters (hood westside)" in empty
            assert "Esc clears the search" in empty
            screen.query_one("#f-hood").value = ""
            await filtered(app, pilot)
            assert table.row_count == 3
            await pilot.press("enter")  # to the results
            await pilot.press("escape")  # clears the search: the list again
            await settle(app, pilot)
            assert isinstance(app.screen, ContactsScreen)
            assert screen.query_one("#search").value == ""
            assert labels(table)[:2] == ["When", "Who"] and table.row_count == len(ids) - 2
            await pilot.press("escape")  # and from the list, back
            await settle(app, pilot)
            assert not isinstance(app.screen, ContactsScreen)

    run(flow)


def test_empty_states_say_which_key_to_press(tmp_path):
    path = tmp_path / "log.db"
    Store.open(path).close()

    async def flow():
        app = make_app(path)
        async with app.run_test(size=SIZE) as pilot:
            await open_list(app, pilot)
            screen = app.screen
            assert "No contacts yet — press n to log one." in static_text(screen, "#empty")
            await search(app, pilot, "zebra")
            assert "Nothing matches “zebra” — Esc clears the search." in static_text(
                screen, "#empty"
            )
            await pilot.press("escape")  # in the box, with nothing found: clears it
            await settle(app, pilot)
            assert screen.query_one("#search").value == ""
            assert "press n" in static_text(screen, "#empty")

    run(flow)


def test_a_contact_added_elsewhere_appears_with_the_cursor_kept(tmp_path):
    path = tmp_path / "log.db"
    ids = build(path)

    async def flow():
        app = make_app(path)
        async with app.run_test(size=SIZE) as pilot:
            table = await open_list(app, pilot)
            table.move_cursor(row=2)
            await pilot.pause()
            kept = table.cursor_key
            before = table.row_count
            with Store.open(path) as other:  # the CLI, a sync: another connection
                new = other.contacts.add({"summary": "Walked the market with the manager"})
            # the app looks every 0.5 s
            await until(pilot, lambda: table.row_count == before + 1, "the new row")
            await settle(app, pilot)
            assert table.row_count == before + 1
            assert str(table.get_row_at(0)[3]).startswith("Walked the market")
            assert new in table.rows
            assert table.cursor_key == kept and table.cursor_row == 3
            # in search results too
            await search(app, pilot, "lantern")
            await pilot.press("enter")
            table.move_cursor(row=1)
            await pilot.pause()
            kept = table.cursor_key
            with Store.open(path) as other:
                other.contacts.add({"summary": "Lantern lantern lantern night"})
            await until(
                pilot,
                lambda: table.row_count and str(table.get_row_at(0)[4]).startswith("Lantern lan"),
                "the new hit",
            )
            await settle(app, pilot)
            assert str(table.get_row_at(0)[4]).startswith("Lantern lantern")
            assert table.cursor_key == kept
        assert ids

    run(flow)


def test_an_edited_contact_updates_its_row_in_place(tmp_path):
    path = tmp_path / "log.db"
    ids = build(path)

    async def flow():
        app = make_app(path)
        async with app.run_test(size=SIZE) as pilot:
            table = await open_list(app, pilot)
            screen = app.screen
            row = table.get_row_index(ids["once"])
            table.move_cursor(row=row)
            gen = screen.generation
            with app.db_lock:  # an edit through the app's own store, as the form makes it
                app.store.contacts.update(ids["once"], {"summary": "Lantern walk, moved"})
            screen.after_detail(("changed", ids["once"]))  # what DetailScreen dismisses with
            await settle(app, pilot)
            assert str(table.get_row_at(row)[3]) == "Lantern walk, moved"
            assert table.get_row_index(ids["once"]) == row and table.cursor_row == row
            assert screen.generation == gen  # one row re-read, not the list reloaded
            screen.after_detail(("deleted", ids["once"]))
            await settle(app, pilot)
            assert ids["once"] not in table.rows

    run(flow)


def test_vim_keys_move_in_the_list(tmp_path):
    path = tmp_path / "log.db"
    build(path)

    async def flow():
        app = make_app(path)
        async with app.run_test(size=SIZE) as pilot:
            table = await open_list(app, pilot)
            assert app.focused is table
            await pilot.press("j", "j")
            assert table.cursor_row == 2
            await pilot.press("k")
            assert table.cursor_row == 1
            await pilot.press("G")
            assert table.cursor_row == table.row_count - 1
            await pilot.press("g")
            assert table.cursor_row == 0

    run(flow)


def test_keys_right_after_enter_go_to_the_results(tmp_path):
    """Enter in the box moves the cursor to the results while the key is handled: the next
    key, typed with no pause, moves in them and is not typed into the box."""
    path = tmp_path / "log.db"
    build(path)

    async def flow():
        app = make_app(path)
        async with app.run_test(size=SIZE) as pilot:
            table = await open_list(app, pilot)
            await search(app, pilot, "lantern")  # the results are shown, the cursor in the box
            assert app.focused is not table
            for key in ("enter", "G"):  # both queued at once, as a fast typist sends them
                app.post_message(events.Key(key, "\r" if key == "enter" else key))
            await until(
                pilot, lambda: app.focused is table and table.cursor_row == table.row_count - 1, "G"
            )
            await settle(app, pilot)
            assert app.screen.query_one("#search").value == "lantern"
            assert app.focused is table
            assert labels(table)[0] == "What"
            assert table.row_count > 3 and table.cursor_row == table.row_count - 1

    run(flow)
