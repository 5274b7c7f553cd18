"""Every contact, newest first, a page at a time.

A search box filters through the full-text index; a filter bar below it narrows by
neighborhood, kind, tag and date range (the same filters as ``fieldlog list``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import DataTable, Footer, Header, Input, Select

from fieldlog import dates, models
from fieldlog.tui.base import StoreScreen
from fieldlog.tui.widgets.cells import add_columns, clip, text

if TYPE_CHECKING:
    from textual.timer import Timer

PAGE = 100
PREFETCH = 20  # load the next page when the cursor is this close to the last loaded row
SEARCH_DELAY = 0.25  # seconds of no typing before a search runs


class ContactsScreen(StoreScreen):
    """A DataTable that grows page by page as the cursor nears its end (never all rows)."""

    BINDINGS = [Binding("escape", "escape", "Back", show=False)]

    def __init__(self) -> None:
        super().__init__()
        self.query_text = ""
        self.filters: dict[str, str] = {}  # list_contacts keyword -> what was typed
        self.loaded = 0
        self.exhausted = False
        self.fetching = False
        self.want_search = False
        self.generation = 0  # bumps on each new query, so a late page of an old one is dropped
        self._search_timer: Timer | None = None
        self._filter_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Input(placeholder="Search contacts (/) — any word", id="search")
        with Horizontal(id="filters"):
            yield Input(placeholder="hood", id="f-hood", compact=True)
            yield Select(
                [(k, k) for k in models.CONTACT_KINDS], prompt="any kind", id="f-kind",
                compact=True,
            )  # fmt: skip
            yield Input(placeholder="tag", id="f-tag", compact=True)
            yield Input(placeholder="since (7d)", id="f-since", compact=True)
            yield Input(placeholder="until", id="f-until", compact=True)
        yield DataTable(id="contacts", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "Contacts"
        table = self.query_one("#contacts", DataTable)
        add_columns(
            table,
            [("When", "when", 16), ("Id", "id", None), ("Hood", "hood", 10),
             ("Summary", "summary", self.summary_width()), ("C/R", "counts", 5)],
        )  # fmt: skip
        (self.query_one("#search", Input) if self.want_search else table).focus()
        self.restart()
        self.db(
            lambda store: store.records.suggestions("neighborhood"),
            self._suggest_hoods,
            group="hoods",
        )

    def _suggest_hoods(self, hoods: list[str]) -> None:
        from textual.suggester import SuggestFromList

        self.query_one("#f-hood", Input).suggester = SuggestFromList(hoods, case_sensitive=False)

    def summary_width(self) -> int:
        """What the other columns (When, Id, Hood, C/R, gaps, scrollbar) leave to the summary:
        24 at 80 columns, more on a wide terminal."""
        return max(24, self.app.size.width - 56)

    def on_resize(self) -> None:
        table = self.query_one("#contacts", DataTable)
        column = table.columns.get("summary")  # type: ignore[call-overload]
        if column is not None and column.width != self.summary_width():
            column.width = self.summary_width()
            self.restart()  # rows are clipped to the width: load them again

    def action_escape(self) -> None:
        """Escape in the search box or a filter returns to the table; in the table, back."""
        if not isinstance(self.focused, DataTable):
            self.query_one("#contacts", DataTable).focus()
        else:
            self.fl_app.action_back()

    def focus_search(self) -> None:
        """Put the cursor in the search box, now or, on a screen still mounting, at mount
        (so the first letters typed after ``/`` are not taken as keys)."""
        self.want_search = True
        if self.is_mounted:
            self.query_one("#search", Input).focus()

    # ------------------------------------------------------------------ loading
    def restart(self) -> None:
        self.generation += 1
        self.loaded = 0
        self.exhausted = False
        self.fetching = False
        self.load_page(clear=True)

    def load_page(self, *, clear: bool = False) -> None:
        if self.fetching or self.exhausted:
            return
        self.fetching = True
        if clear and (self.query_text or self.filters):
            # a search can take a moment on a big log: show it is working (the cursor is in
            # the search box, so the table's indicator takes no focus away)
            self.query_one("#contacts", DataTable).loading = True
        q, offset, gen = self.query_text or None, self.loaded, self.generation
        filters = dict(self.filters)

        def call(store: Any) -> list[dict[str, Any]]:
            return store.contacts.list(query=q, limit=PAGE, offset=offset, **filters)

        def then(rows: list[dict[str, Any]]) -> None:
            if gen == self.generation:
                self.add_page(rows, clear=clear)

        def failed() -> None:
            self.fetching = False
            self.query_one("#contacts", DataTable).loading = False

        self.db(call, then, group="page", failed=failed)

    def add_page(self, rows: list[dict[str, Any]], *, clear: bool) -> None:
        table = self.query_one("#contacts", DataTable)
        if clear:
            table.clear()
            table.loading = False
        for r in rows:
            if r["id"] in table.rows:
                continue
            table.add_row(
                text(dates.show_local(r["occurred_at"])),
                text(r["short_id"]),
                clip(r["neighborhood"], 10),
                clip(r["summary"] or r.get("person_name"), self.summary_width()),
                text(f"{r['concern_count']}/{r['referral_count']}"),
                key=r["id"],
            )
        self.loaded += len(rows)
        self.exhausted = len(rows) < PAGE
        self.fetching = False
        if clear:
            what = f"matching “{self.query_text}”" if self.query_text else "newest first"
            if self.filters:
                what += " · " + ", ".join(f"{k} {v}" for k, v in self.filters.items())
            self.sub_title = f"Contacts {what}" + ("" if rows else " — none")
        self.maybe_more(table.cursor_row)

    def maybe_more(self, cursor_row: int) -> None:
        if cursor_row >= self.loaded - PREFETCH:
            self.load_page()

    @on(DataTable.RowHighlighted, "#contacts")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.maybe_more(event.cursor_row)

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
        self.query_one("#contacts", DataTable).focus()

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
        self.query_one("#contacts", DataTable).focus()

    # ------------------------------------------------------------------ detail
    @on(DataTable.RowSelected, "#contacts")
    def _selected(self, event: DataTable.RowSelected) -> None:
        self.open_detail(str(event.row_key.value))

    def open_detail(self, contact_id: str) -> None:
        from fieldlog.tui.screens.detail import DetailScreen

        self.app.push_screen(DetailScreen(contact_id), self.after_detail)

    def after_detail(self, result: Any) -> None:
        if result and result[0] == "deleted":
            table = self.query_one("#contacts", DataTable)
            if result[1] in table.rows:
                table.remove_row(result[1])
                self.loaded -= 1
