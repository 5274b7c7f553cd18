"""Terminal escapes in stored text never reach the terminal from the TUI: a summary that came
in by sync (written below the record rules, as a sync writes) shows ``\\x1b`` and ``\\x07``
as visible escapes in the contact list, on the contact's screen and on its concern's."""

from __future__ import annotations

from textual.widgets import DataTable

from fieldlog.db.store import Store
from fieldlog.tui.app import make_app
from fieldlog.tui.screens.contacts import ContactsScreen
from fieldlog.tui.screens.detail import DetailScreen
from fieldlog.tui.screens.record import ConcernScreen
from fieldlog.tui.widgets import cells
from tests.lib.tui import SIZE, build_log, run, settle, static_text, table_text

TITLE = "\x1b]0;pwned\x07"  # sets the terminal's window title
CLEAR = "\x1b[2J"  # clears the screen


def plant(path) -> str:
    """A contact whose summary, notes and concern hold terminal escapes, written straight
    through the write transaction (no record rules), as a sync from another laptop would."""
    cid = build_log(path)
    with Store.open(path) as store:
        kid = store.contacts.get(cid)["concerns"][0]["id"]
        with store.write() as tx:
            tx.update("contacts", cid, {"summary": f"Met {TITLE}Reyes", "notes": f"a{CLEAR}\nb"})
            tx.update("concerns", kid, {"description": f"music {TITLE}late"})
    return cid


def no_raw_escapes(text: str) -> None:
    assert "\x1b" not in text and "\x07" not in text, repr(text)


def test_cells_show_escapes_not_send_them():
    assert cells.one_line(f"a{TITLE}\nb") == "a\\x1b]0;pwned\\x07 b"
    assert cells.text(f"x{CLEAR}").plain == "x\\x1b[2J"
    assert cells.clip(TITLE * 3, 8).plain.startswith("\\x1b]0;")
    assert cells.wrapped(f"a{CLEAR}\nb").plain == "a\\x1b[2J\nb"  # notes keep their lines
    assert cells.text("[b]bold?[/b]").plain == "[b]bold?[/b]"  # data, never markup
    assert cells.text(0).plain == "0"


def test_list_and_detail_show_stored_escapes_visibly(tmp_path):
    path = tmp_path / "log.db"
    cid = plant(path)

    async def flow():
        app = make_app(path)
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            await pilot.press("l")
            await settle(app, pilot)
            assert isinstance(app.screen, ContactsScreen)
            rows = table_text(app.screen.query_one("#contacts", DataTable))
            row = next(r for r in rows if "Reyes" in r)
            no_raw_escapes(row)
            assert "\\x1b]0;" in row

            app.push_screen(DetailScreen(cid))
            await settle(app, pilot)
            fields = static_text(app.screen, "#fields")
            no_raw_escapes(fields)
            assert "Met \\x1b]0;pwned\\x07Reyes" in fields
            assert "a\\x1b[2J" in fields
            concerns = table_text(app.screen.query_one("#concerns", DataTable))
            no_raw_escapes(concerns[0])
            assert "\\x1b" in concerns[0]

            kid = app.screen.contact["concerns"][0]["id"]
            app.push_screen(ConcernScreen(kid))
            await settle(app, pilot)
            shown = static_text(app.screen, "#rec-fields")
            no_raw_escapes(shown)
            assert "music \\x1b]0;pwned\\x07late" in shown
            links = table_text(app.screen.query_one("#rec-links", DataTable))
            no_raw_escapes(" ".join(links))

    run(flow)
