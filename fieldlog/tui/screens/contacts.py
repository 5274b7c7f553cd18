"""Every contact, newest first, a page at a time; and search over the whole log.

With the search box empty the table lists contacts (When, Who, Hood, Summary, C/R); with
words in it, the same table shows ranked search results over contacts, concerns, referrals
and partners (What, When, Who, Field, Match), best first. A filter bar narrows either by
neighborhood, kind, tag and date range (the same filters as ``fieldlog list``).

The rows stay live: a write by another process reloads the loaded rows keeping the cursor
on its record (``refresh_data``), and a contact edited from here is re-read and its row
updated in place.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import DataTable, Header, Input, Select, Static

from fieldlog import models
from fieldlog.tui.base import StoreScreen
from fieldlog.tui.screens import search as view
from fieldlog.tui.widgets.footer import KeysFooter
from fieldlog.tui.widgets.status import StatusLine
from fieldlog.tui.widgets.table import ListTable

if TYPE_CHECKING:
    from textual.timer import Timer

    from fieldlog.db.store import Store

PAGE = 100
PREFETCH = 20  # load the next page when the cursor is this close to the last loaded row
SEARCH_DELAY = 0.25  # seconds of no typing before a search runs

Row = dict[str, Any]


class ToTable(Input):
    """The search box and the filter inputs: Enter moves the cursor to the table at once,
    while the key is handled (a focus() would move it a moment later: the next key typed
    fast, a ``j`` or a ``G``, would still go into the box)."""

    async def action_submit(self) -> None:
        await super().action_submit()
        screen = self.screen
        if isinstance(screen, ContactsScreen):
            screen.set_focus(screen.table)


class ContactsScreen(StoreScreen):
    """A ListTable that grows page by page as the cursor nears its end (never all rows)."""

    BINDINGS = [
        Binding("escape", "escape", "Back", show=False),
        Binding("P", "link_problem", "+Problem", tooltip="Link the record to a problem"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.query_text = ""
        self.filters: dict[str, str] = {}  # list_contacts keyword -> what was typed
        self.loaded = 0
        self.exhausted = False
        self.fetching = False
        self.want_search = False
        self.generation = 0  # bumps on each new query, so a late page of an old one is dropped
        self.data: dict[str, Row] = {}  # row key -> the row as the store gave it
        self.mode = ""  # "list" or "search": which columns the table has
        self.columns: view.Columns = []
        self._search_timer: Timer | None = None
        self._filter_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield ToTable(
            placeholder="Search (/): contacts, concerns, referrals, partners", id="search"
        )
        with Horizontal(id="filters"):
            yield ToTable(placeholder="hood", id="f-hood", compact=True)
            yield Select(
                [(k, k) for k in models.CONTACT_KINDS], prompt="any kind", id="f-kind",
                compact=True,
            )  # fmt: skip
            yield ToTable(placeholder="tag", id="f-tag", compact=True)
            yield ToTable(placeholder="since (7d)", id="f-since", compact=True)
            yield ToTable(placeholder="until", id="f-until", compact=True)
        yield ListTable(id="contacts")
        yield Static(id="empty", markup=False)
        yield StatusLine()
        yield KeysFooter()

    @property
    def table(self) -> ListTable:
        return self.query_one("#contacts", ListTable)

    def on_mount(self) -> None:
        self.sub_title = "Contacts"
        self.query_one("#empty", Static).display = False
        self.set_columns()
        (self.query_one("#search", Input) if self.want_search else self.table).focus()
        self.restart()
        self.db(
            lambda store: store.records.suggestions("neighborhood"),
            self._suggest_hoods,
            group="hoods",
        )

    def _suggest_hoods(self, hoods: list[str]) -> None:
        from textual.suggester import SuggestFromList

        self.query_one("#f-hood", Input).suggester = SuggestFromList(hoods, case_sensitive=False)

    # ------------------------------------------------------------------ columns
    def table_width(self) -> int:
        """The table's real width once laid out (the screen's before the first layout),
        its scrollbar included: the layout always leaves room for one, so the columns do
        not change when a scrollbar comes or goes."""
        return self.table.outer_size.width or self.app.size.width

    def layout_for(self, mode: str) -> view.Columns:
        width = self.table_width()
        return view.result_columns(width) if mode == "search" else view.list_columns(width)

    def set_columns(self) -> bool:
        """Give the table the columns of the current mode at its current width; True when
        they changed (the rows, clipped to the old widths, must be drawn again)."""
        mode = "search" if self.query_text else "list"
        cols = self.layout_for(mode)
        if mode == self.mode and cols == self.columns:
            return False
        self.mode, self.columns = mode, cols
        table = self.table
        table.clear(columns=True)
        for label, key, width in cols:
            table.add_column(label, key=key, width=width)
        return True

    def cells(self, row: Row) -> list[Any]:
        if self.mode == "search":
            return view.result_cells(row, self.columns)
        return view.list_cells(row, self.columns)

    def key_of(self, row: Row) -> str:
        return view.result_key(row) if self.mode == "search" else str(row["id"])

    def on_resize(self) -> None:
        self.call_after_refresh(self.fit_width)

    def fit_width(self) -> None:
        """The terminal (or the table) changed width: new column widths, the same rows
        drawn again from what was loaded, the cursor kept on its record."""
        table = self.table
        key, line = table.cursor_key, table.cursor_row
        order = [str(k.value) for k in table.rows]
        if not self.set_columns():
            return
        table.replace_rows((k, self.cells(self.data[k])) for k in order if k in self.data)
        self.put_cursor(key, line)

    def put_cursor(self, key: str | None, line: int) -> None:
        table = self.table
        if not table.row_count:
            return
        if key is not None and key in table.rows:
            table.move_cursor(row=table.get_row_index(key), animate=False)
        else:
            table.move_cursor(row=min(line, table.row_count - 1), animate=False)

    # ------------------------------------------------------------------ keys
    def action_escape(self) -> None:
        """Escape in the search box or a filter returns to the table (in the box with
        nothing found, it clears the search); in search results it clears the search and
        shows the list again; in the list, back."""
        search = self.query_one("#search", Input)
        if self.focused is search and search.value.strip() and self.table.row_count:
            self.set_focus(self.table)
        elif self.focused is search and search.value:
            self.clear_search()
        elif not isinstance(self.focused, DataTable):
            self.set_focus(self.table)
        elif self.query_text or search.value:
            self.clear_search()
        else:
            self.fl_app.action_back()

    def clear_search(self) -> None:
        self.query_one("#search", Input).value = ""
        self.set_focus(self.table)
        self.run_search("")

    def focus_search(self) -> None:
        """Put the cursor in the search box, now or, on a screen still mounting, at mount
        (so the first letters typed after ``/`` are not taken as keys)."""
        self.want_search = True
        if self.is_mounted:
            self.query_one("#search", Input).focus()

    # ------------------------------------------------------------------ loading
    def fetch(self, offset: int, limit: int) -> Callable[[Store], list[Row]]:
        """The store call for rows ``offset`` .. ``offset + limit`` of what is asked now:
        ranked search results when words are typed, else the contacts, newest first."""
        q, filters = self.query_text, dict(self.filters)
        if q:
            return lambda store: store.search.ranked(q, limit=limit, offset=offset, filters=filters)
        return lambda store: store.contacts.list(limit=limit, offset=offset, **filters)

    def restart(self) -> None:
        """Load the first page of what is asked now (a new search, new filters, a new
        contact saved from the form), the cursor at the top."""
        self.generation += 1
        self.loaded = 0
        self.exhausted = False
        self.fetching = False
        self.load_page(clear=True)

    def load_page(self, *, clear: bool = False) -> None:
        if self.fetching or self.exhausted:
            return
        self.fetching = True
        if clear and self.query_text:
            # a search can take a moment on a big log: say it is working. Not the table's
            # loading indicator: a loading table cannot take the focus, so Enter in the box
            # would leave the cursor there and the next keys would be typed into it.
            self.sub_title = f"Searching “{self.query_text}”…"
        gen = self.generation

        def then(rows: list[Row]) -> None:
            if gen == self.generation:
                self.add_page(rows, clear=clear)

        self.db(self.fetch(self.loaded, PAGE), then, group="page", failed=self._failed)

    def _failed(self) -> None:
        self.fetching = False
        self.show_title(bool(self.table.row_count))

    def add_page(self, rows: list[Row], *, clear: bool) -> None:
        table = self.table
        if clear:
            self.set_columns()
            table.clear()
            self.data.clear()
        for r in rows:
            key = self.key_of(r)
            if key in table.rows:
                continue
            self.data[key] = r
            table.add_row(*self.cells(r), key=key)
        self.loaded += len(rows)
        self.exhausted = len(rows) < PAGE
        self.fetching = False
        if clear:
            self.show_title(bool(rows))
        self.show_empty()
        self.maybe_more(table.cursor_row)

    def show_title(self, found: bool) -> None:
        if self.query_text:
            what = f"Search “{self.query_text}” best first"
        else:
            what = "Contacts newest first"
        if self.filters:
            what += " · " + ", ".join(f"{k} {v}" for k, v in self.filters.items())
        self.sub_title = what + ("" if found else " — none")

    def show_empty(self) -> None:
        """Under an empty table, say why and which key to press."""
        empty = self.query_one("#empty", Static)
        empty.display = not self.table.row_count
        self.table.set_class(not self.table.row_count, "-empty")
        if self.table.row_count:
            return
        filters = ", ".join(f"{k} {v}" for k, v in self.filters.items())
        if self.query_text:
            where = f" with the filters ({filters})" if filters else ""
            empty.update(f"Nothing matches “{self.query_text}”{where} — Esc clears the search.")
        elif filters:
            empty.update(f"No contacts match the filters ({filters}) — change them above.")
        else:
            empty.update("No contacts yet — press n to log one.")

    def maybe_more(self, cursor_row: int) -> None:
        if cursor_row >= self.loaded - PREFETCH:
            self.load_page()

    @on(DataTable.RowHighlighted, "#contacts")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.maybe_more(event.cursor_row)

    # ------------------------------------------------------------------ live
    def refresh_data(self) -> None:
        """Another process (the CLI, a sync) or an undo changed the log: read the loaded
        rows again (at least a page), the cursor staying on its record."""
        self.stale = False
        if not self.is_mounted:
            return
        self.generation += 1
        gen, count = self.generation, max(self.loaded, PAGE)
        self.fetching = True

        def then(rows: list[Row]) -> None:
            if gen == self.generation:
                self.reloaded(rows, count)

        self.db(self.fetch(0, count), then, group="page", failed=self._failed)

    def reloaded(self, rows: list[Row], asked: int) -> None:
        table = self.table
        key, line = table.cursor_key, table.cursor_row
        self.set_columns()
        self.data = {self.key_of(r): r for r in rows}
        table.replace_rows((k, self.cells(r)) for k, r in self.data.items())
        self.put_cursor(key, line)
        self.loaded = len(rows)
        self.exhausted = len(rows) < asked
        self.fetching = False
        self.show_title(bool(rows))
        self.show_empty()

    def update_contact(self, contact_id: str) -> None:
        """Re-read one contact of the list and redraw its row where it is (an edit from
        its detail screen); it leaves the list if it no longer passes the filters."""
        filters, gen = dict(self.filters), self.generation

        def then(rows: list[Row]) -> None:
            if gen != self.generation or self.mode != "list":
                return
            table = self.table
            if rows:
                self.data[contact_id] = rows[0]
                table.update_row(contact_id, self.cells(rows[0]))
            elif contact_id in table.rows:
                self.drop_row(contact_id)

        self.db(
            lambda store: store.contacts.list(ids=[contact_id], limit=None, offset=0, **filters),
            then,
            group="row",
        )

    def drop_row(self, key: str) -> None:
        self.table.remove_row(key)
        self.data.pop(key, None)
        self.loaded -= 1
        self.show_empty()

    # ------------------------------------------------------------------ search
    @on(Input.Changed, "#search")
    def _search_changed(self, event: Input.Changed) -> None:
        self.set_timer_for_search(event.value)

    def set_timer_for_search(self, value: str) -> None:
        if self._search_timer is not None:
            self._search_timer.stop()
        self._search_timer = self.set_timer(SEARCH_DELAY, lambda: self.run_search(value))

    def run_search(self, value: str) -> None:
        value = value.strip()
        if value != self.query_text:
            self.query_text = value
            self.restart()

    @on(Input.Submitted, "#search")
    def _search_submitted(self, event: Input.Submitted) -> None:
        self.run_search(event.value)
        self.set_focus(self.table)

    # ------------------------------------------------------------------ filter bar
    FILTER_IDS = {"f-hood": "hood", "f-kind": "kind", "f-tag": "tag", "f-since": "since",
                  "f-until": "until"}  # fmt: skip

    def filter_values(self) -> dict[str, str]:
        out = {}
        for wid, key in self.FILTER_IDS.items():
            widget = self.query_one(f"#{wid}")
            if isinstance(widget, Select):
                value = "" if widget.value is Select.NULL else str(widget.value)
            else:
                value = widget.value.strip()  # type: ignore[attr-defined]
            if value:
                out[key] = value
        return out

    @on(Input.Changed, "#filters Input")
    @on(Select.Changed, "#filters Select")
    def _filter_changed(self, event: Any) -> None:
        if self._filter_timer is not None:
            self._filter_timer.stop()
        self._filter_timer = self.set_timer(SEARCH_DELAY, self.apply_filters)

    def apply_filters(self) -> None:
        values = self.filter_values()
        if values != self.filters:
            self.filters = values
            self.restart()

    @on(Input.Submitted, "#filters Input")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        self.apply_filters()
        self.set_focus(self.table)

    # ------------------------------------------------------------------ opening a row
    @on(DataTable.RowSelected, "#contacts")
    def _selected(self, event: DataTable.RowSelected) -> None:
        key = str(event.row_key.value)
        if self.mode == "search":
            noun, rid = view.split_key(key)
            self.open_hit(noun, rid)
        else:
            self.open_detail(key)

    def action_link_problem(self) -> None:
        """``P``: link the contact under the cursor (in search results, the record: a
        contact, concern, referral or partner) to an open problem the officer picks."""
        from fieldlog import records
        from fieldlog.tui.dialogs.problem_pick import link_to_problem

        key = self.table.cursor_key
        if key is None:
            self.notify("No contact under the cursor to link to a problem.")
            return
        noun, rid = view.split_key(key) if self.mode == "search" else ("contact", key)
        table = next((t for t, n in records.NOUN.items() if n == noun), None)
        if table not in models.PROBLEM_LINK_COLUMNS:
            self.notify(f"A {noun} is not linked to a problem.")
            return
        row = self.data.get(key, {})
        short = row.get("short_id") or rid[:8]
        link_to_problem(self, table, rid, f"{noun} {short}")

    def open_detail(self, contact_id: str) -> None:
        from fieldlog.tui.screens.detail import DetailScreen

        self.app.push_screen(DetailScreen(contact_id), self.after_detail)

    def open_hit(self, noun: str, rid: str) -> None:
        """A search result opens its own record: a contact's detail, a concern, a
        referral, a partner."""
        self.fl_app.open_record(noun, rid, self.after_hit)

    def after_hit(self, result: Any) -> None:
        """Back from a record opened from the results: what was changed there may change
        what matches, so the results are read again (the cursor kept on its record)."""
        if result:
            self.refresh_data()

    def after_detail(self, result: Any) -> None:
        """Back from a contact's detail: a deleted contact leaves the list, an edited one
        is re-read and its row updated in place."""
        if not result:
            return
        what, contact_id = result[0], result[1]
        if what == "deleted" and contact_id in self.table.rows:
            self.drop_row(contact_id)
        elif what == "changed":
            self.update_contact(contact_id)
