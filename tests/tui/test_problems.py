"""The Problems screen (issue 15) through Textual's pilot at 80x24: ``p`` opens it, the list
is by phase, Enter shows the timeline, ``s`` changes the phase, ``a`` logs an entry, ``a`` on
the list adds a problem, and ``P`` on the contact list or a contact's detail links the
contact to the problem picked (one key, then Enter)."""

from __future__ import annotations

import sqlite3

from fieldlog.db.store import Store
from fieldlog.tui.app import make_app
from fieldlog.tui.dialogs.problem_form import ProblemForm
from fieldlog.tui.dialogs.problem_phase import PhaseDialog
from fieldlog.tui.dialogs.problem_pick import ProblemPicker
from fieldlog.tui.dialogs.text import TextDialog
from fieldlog.tui.screens.detail import DetailScreen
from fieldlog.tui.screens.problem_detail import ProblemDetailScreen
from fieldlog.tui.screens.problems import ProblemsScreen
from fieldlog.tui.widgets.footer import KeysFooter
from tests.lib.tui import SIZE, run, settle, static_text, table_text, until

TITLES = ("Graffiti on the Elm St underpass", "Late music at Harbor Park", "Speeding on 5th Ave")


def build(path) -> dict[str, str]:
    """Three problems, one per phase scanning / analysis / response, the second with a
    linked contact and a log entry; two contacts not linked (the newest first in the list)."""
    with Store.open(path) as store:
        ids = {}
        linked = store.contacts.add(
            {"summary": "Neighbours about the music", "neighborhood": "Eastside",
             "occurred_at": "3h ago"}
        )  # fmt: skip
        ids["plain"] = store.contacts.add(
            {"summary": "Met the owner of the corner store", "occurred_at": "2h ago"}
        )
        ids["newest"] = store.contacts.add(
            {"summary": "Asked about the pool hours", "occurred_at": "1h ago"}
        )
        ids["graffiti"] = store.problems.add(TITLES[0], neighborhood="Northside")
        ids["music"] = store.problems.add(
            TITLES[1], neighborhood="Eastside", coordinator="Ofc. Lee"
        )
        store.problems.phase(ids["music"], "analysis", note="three weekends in a row")
        store.problems.link_record(ids["music"], "contacts", linked)
        store.problems.log(ids["music"], "Talked to the park manager")
        ids["speeding"] = store.problems.add(TITLES[2], neighborhood="Westside")
        store.problems.phase(ids["speeding"], "response")
        ids["linked"] = linked
    return ids


def rows(path, sql: str, *params) -> list[tuple]:
    """Read the log beside the app (never through its store, which a worker may hold)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def links_of(path, contact_id: str) -> list[str]:
    return [
        r[0]
        for r in rows(
            path,
            "SELECT p.title FROM problem_links l JOIN problems p ON p.id = l.problem_id "
            "WHERE l.contact_id = ? AND l.deleted = 0 ORDER BY p.title",
            contact_id,
        )
    ]


async def open_problems(app, pilot) -> ProblemsScreen:
    await settle(app, pilot)
    await pilot.press("p")
    await settle(app, pilot)
    screen = app.screen
    assert isinstance(screen, ProblemsScreen), screen
    await until(pilot, lambda: screen.loaded, "the problems list")
    return screen


async def open_music(app, pilot) -> ProblemDetailScreen:
    screen = await open_problems(app, pilot)
    screen.table.move_cursor(row=1)  # scanning, analysis (the music), response
    await pilot.press("enter")
    await settle(app, pilot)
    detail = app.screen
    assert isinstance(detail, ProblemDetailScreen), detail
    await until(pilot, lambda: detail.loaded, "the problem")
    return detail


def test_p_lists_the_problems_by_phase_and_filters(tmp_path):
    path = tmp_path / "log.db"
    build(path)

    async def flow():
        app = make_app(path)
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_problems(app, pilot)
            lines = table_text(screen.table)
            assert [line.split()[0] for line in lines] == ["scanning", "analysis", "response"]
            assert "Late music at Har…" in lines[1] and "Ofc. Lee" in lines[1]
            assert "1/0/0" in lines[1]  # one contact linked
            title = static_text(screen, "#pr-title")
            assert "Problems: 3" in title and "1 analysis" in title
            keys = [b.description for b, _, _ in screen.query_one(KeysFooter).shown(SIZE[0])]
            assert keys[:3] == ["Add problem", "Phase", "By phase"]
            await pilot.press("3")  # response only
            await settle(app, pilot)
            assert [line.split()[0] for line in table_text(screen.table)] == ["response"]
            assert "Problems in response: 1 of 3" in static_text(screen, "#pr-title")
            await pilot.press("0")
            await settle(app, pilot)
            assert screen.table.row_count == 3

    run(flow)


def test_enter_shows_the_timeline(tmp_path):
    path = tmp_path / "log.db"
    build(path)

    async def flow():
        app = make_app(path)
        async with app.run_test(size=SIZE) as pilot:
            detail = await open_music(app, pilot)
            fields = static_text(detail, "#pd-fields")
            assert "Late music at Harbor Park" in fields and "analysis" in fields
            assert "Ofc. Lee" in fields
            timeline = table_text(detail.query_one("#pd-timeline"))
            kinds = [line.split()[2] for line in timeline]
            assert kinds == ["contact", "phase", "note"]
            assert "scanning -> analysis: three weekends in a row" in timeline[1]
            assert "Talked to the park manager" in timeline[2]
            assert "Timeline (3): 1 contact linked" in static_text(detail, "#pd-timeline-title")
            await pilot.press("escape")
            await settle(app, pilot)
            assert isinstance(app.screen, ProblemsScreen)

    run(flow)


def test_phase_change_writes(tmp_path):
    path = tmp_path / "log.db"
    ids = build(path)

    async def flow():
        app = make_app(path)
        async with app.run_test(size=SIZE) as pilot:
            detail = await open_music(app, pilot)
            await pilot.press("s")
            await settle(app, pilot)
            dialog = app.screen
            assert isinstance(dialog, PhaseDialog)
            assert dialog.chosen() == "response"  # the next phase is offered
            await pilot.press("enter")  # picks it; the cursor goes to the note
            await pilot.press(*"DJ agreed to stop at 10pm", "enter")
            await settle(app, pilot)
            assert app.screen is detail
            await until(pilot, lambda: detail.problem["phase"] == "response", "the new phase")
            timeline = table_text(detail.query_one("#pd-timeline"))
            assert "analysis -> response: DJ agreed to stop at 10pm" in timeline[-1]
        phase, started = rows(
            path, "SELECT phase, response_started_at FROM problems WHERE id = ?", ids["music"]
        )[0]
        assert phase == "response" and started

    run(flow)


def test_escape_in_the_phase_dialog_writes_nothing(tmp_path):
    path = tmp_path / "log.db"
    ids = build(path)

    async def flow():
        app = make_app(path)
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_problems(app, pilot)  # s works on the list too
            await pilot.press("s")
            await settle(app, pilot)
            assert isinstance(app.screen, PhaseDialog)
            await pilot.press("escape")
            await settle(app, pilot)
            assert app.screen is screen
        assert rows(path, "SELECT phase FROM problems WHERE id = ?", ids["graffiti"]) == [
            ("scanning",)
        ]

    run(flow)


def test_log_entry_and_plan_write(tmp_path):
    path = tmp_path / "log.db"
    ids = build(path)

    async def flow():
        app = make_app(path)
        async with app.run_test(size=SIZE) as pilot:
            detail = await open_music(app, pilot)
            await pilot.press("a")
            await settle(app, pilot)
            assert isinstance(app.screen, TextDialog)
            await pilot.press(*"Met the DJ", "enter")
            await settle(app, pilot)
            await until(pilot, lambda: len(detail.problem["timeline"]) == 4, "the new entry")
            assert "Met the DJ" in table_text(detail.query_one("#pd-timeline"))[-1]
            assert detail.query_one("#pd-timeline").cursor_row == 3  # on the new entry
            await pilot.press("e")
            await settle(app, pilot)
            await pilot.press(*"Quiet hours flyer", "enter")
            await settle(app, pilot)
            await until(pilot, lambda: detail.problem.get("plan"), "the plan")
            assert "Quiet hours flyer" in static_text(detail, "#pd-fields")
        entries = rows(
            path,
            "SELECT kind, text FROM problem_entries WHERE problem_id = ? AND deleted = 0 "
            "ORDER BY occurred_at, id",
            ids["music"],
        )
        assert ("note", "Met the DJ") in entries and ("plan", "Quiet hours flyer") in entries
        assert rows(path, "SELECT plan FROM problems WHERE id = ?", ids["music"]) == [
            ("Quiet hours flyer",)
        ]

    run(flow)


def test_link_the_contact_under_the_cursor_from_the_list(tmp_path):
    path = tmp_path / "log.db"
    ids = build(path)

    async def flow():
        app = make_app(path)
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            await pilot.press("l")
            await settle(app, pilot)
            await pilot.press("down")  # the second newest: the corner store
            await pilot.press("P")
            await settle(app, pilot)
            picker = app.screen
            assert isinstance(picker, ProblemPicker), picker
            assert len(picker.shown) == 3  # the open problems
            await pilot.press(*"speed")  # type to narrow
            assert [p["title"] for p in picker.shown] == [TITLES[2]]
            await pilot.press("enter")
            await settle(app, pilot)
            assert not isinstance(app.screen, ProblemPicker)
            await until(pilot, lambda: links_of(path, ids["plain"]), "the link")
            assert any(f"Linked to {TITLES[2]}" in n.message for n in app._notifications)
        assert links_of(path, ids["plain"]) == [TITLES[2]]
        assert links_of(path, ids["newest"]) == []

    run(flow)


def test_link_from_the_contact_detail_shows_its_problems(tmp_path):
    path = tmp_path / "log.db"
    ids = build(path)

    async def flow():
        app = make_app(path)
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            await pilot.press("l")
            await settle(app, pilot)
            await pilot.press("down", "down", "enter")  # the oldest: linked to the music
            await settle(app, pilot)
            detail = app.screen
            assert isinstance(detail, DetailScreen), detail
            await until(pilot, lambda: detail.contact is not None, "the contact")
            assert "Late music at Harbor Park (analysis)" in static_text(detail, "#fields")
            await pilot.press("P", "enter")  # the first open problem: the graffiti
            await settle(app, pilot)
            await until(pilot, lambda: len(detail.problems) == 2, "the new link shown")
            assert "Graffiti on the Elm St" in static_text(detail, "#fields")
            await pilot.press("P", "enter")  # again: already linked, nothing written
            await settle(app, pilot)
            assert any("Already linked" in n.message for n in app._notifications)
        assert links_of(path, ids["linked"]) == [TITLES[0], TITLES[1]]
        assert rows(path, "SELECT count(*) FROM problem_links WHERE deleted = 0") == [(2,)]

    run(flow)


def test_a_new_problem_from_the_screen(tmp_path):
    path = tmp_path / "log.db"
    build(path)

    async def flow():
        app = make_app(path)
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_problems(app, pilot)
            await pilot.press("a")
            await settle(app, pilot)
            assert isinstance(app.screen, ProblemForm)
            await pilot.press("enter")  # no title: said beside it, nothing written
            await settle(app, pilot)
            assert isinstance(app.screen, ProblemForm)
            assert static_text(app.screen, "#title-error")
            await pilot.press(*"Cars racing on Lake Dr", "tab", *"Lakeshore", "enter")
            await settle(app, pilot)
            assert app.screen is screen
            await until(pilot, lambda: screen.table.row_count == 4, "the new problem")
            current = screen.current()
            assert current is not None and current["title"] == "Cars racing on Lake Dr"
        assert rows(
            path,
            "SELECT phase, neighborhood, coordinator IS NOT NULL FROM problems "
            "WHERE title = 'Cars racing on Lake Dr'",
        ) == [("scanning", "Lakeshore", 1)]  # the coordinator left empty: the officer

    run(flow)


def test_no_open_problem_says_so(tmp_path):
    path = tmp_path / "log.db"
    with Store.open(path) as store:
        store.contacts.add({"summary": "Asked about the pool hours"})

    async def flow():
        app = make_app(path)
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            await pilot.press("l")
            await settle(app, pilot)
            await pilot.press("P")
            await settle(app, pilot)
            assert not isinstance(app.screen, ProblemPicker)
            assert any("No open problem" in n.message for n in app._notifications)
            await pilot.press("p")
            await settle(app, pilot)
            assert "No problems yet" in static_text(app.screen, "#pr-empty")

    run(flow)


SNAP_NOW = "2026-11-25T16:00:00Z"


def build_fixed(path, monkeypatch) -> None:
    """Four problems, one per phase but assessment, with the same ids, times and officer on
    every run (ids from a counter, the clock held at ``SNAP_NOW``)."""
    from fieldlog import ids

    monkeypatch.setenv("FIELDLOG_NOW", SNAP_NOW)
    made = iter(range(1, 10_000))

    def fixed_id(unix_ms=None, rand=None) -> str:
        n = next(made)
        return f"{1_795_000_000_000 + n * 1000:012x}7{n:019x}"

    monkeypatch.setattr(ids, "uuid7_hex", fixed_id)
    with Store.open(path) as store:
        store.set_officer("Ofc. Dana Ruiz", "4471")
        first = store.contacts.add(
            {"summary": "Neighbours about the music", "neighborhood": "Eastside"}
        )
        music = store.problems.add(TITLES[1], neighborhood="Eastside", coordinator="Ofc. Lee")
        store.problems.phase(music, "analysis", note="three weekends in a row")
        store.problems.link_record(music, "contacts", first)
        store.problems.plan(music, "Quiet hours flyer; meet the DJ with Parks Dept")
        store.problems.add(TITLES[0], neighborhood="Northside", category="property_crime")
        speeding = store.problems.add(TITLES[2], neighborhood="Westside", coordinator="Ofc. Kim")
        store.problems.phase(speeding, "response")
        done = store.problems.add("Shopping carts in the creek", neighborhood="Riverside")
        store.problems.phase(done, "closed", note="the store fitted wheel locks")


def test_problems_screen_picture(snap_compare, tmp_path, monkeypatch):
    """The Problems screen at 80x24: by phase, the counts, the problem under the cursor."""
    path = tmp_path / "log.db"
    build_fixed(path, monkeypatch)

    async def run_before(pilot) -> None:
        await settle(pilot.app, pilot)
        await pilot.press("p")
        await until(pilot, lambda: getattr(pilot.app.screen, "loaded", False), "the list")
        await pilot.press("down")
        await settle(pilot.app, pilot)

    assert snap_compare(make_app(path), terminal_size=SIZE, run_before=run_before)


def test_a_problem_found_by_search_opens_its_screen(tmp_path):
    path = tmp_path / "log.db"
    build(path)

    async def flow():
        app = make_app(path)
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            await pilot.press("slash", *"speeding", "enter")
            await settle(app, pilot)
            table = app.screen.query_one("#contacts")
            await until(pilot, lambda: table.row_count == 1, "the problem found")
            await pilot.press("enter")
            await settle(app, pilot)
            detail = app.screen
            assert isinstance(detail, ProblemDetailScreen), detail
            await until(pilot, lambda: detail.loaded, "the problem")
            assert TITLES[2] in static_text(detail, "#pd-fields")

    run(flow)
