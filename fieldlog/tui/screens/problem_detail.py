"""One problem (Enter on the Problems screen): its fields, action plan and partners, then its
timeline, oldest first: the contacts, concerns and referrals linked to it (at their contact's
time) and its log entries (notes, phase changes, plans), from ``store.problems.get``.

``s`` moves it to another phase (with a note for the log), ``a`` adds a log entry, ``e``
replaces the action plan (the log keeps each plan). Enter on a linked record opens it; on a
log entry, its whole text.
"""

from __future__ import annotations

from typing import Any

from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Header, Static
from textual.widgets.data_table import ColumnKey

from fieldlog import dates, models
from fieldlog.text import plural
from fieldlog.tui.base import StoreScreen
from fieldlog.tui.dialogs.problem_phase import PHASE_STYLES, ask_phase
from fieldlog.tui.dialogs.text import TextDialog
from fieldlog.tui.widgets.cells import clip, one_line, text, wrapped
from fieldlog.tui.widgets.footer import KeysFooter
from fieldlog.tui.widgets.status import StatusLine
from fieldlog.tui.widgets.table import ListTable

# (label, key, width); the text takes the width the others leave (0 here).
TIMELINE_COLUMNS = [("When", "when", 16), ("What", "kind", 8), ("", "text", 0)]
KIND_STYLES = {"phase": "bold", "plan": "italic", "note": ""}
RECORD_KINDS = ("contact", "concern", "referral")  # timeline kinds that open a record


def phase_line(p: dict[str, Any]) -> Text:
    """The phase and its dates: started, response started, closed."""
    line = Text(p["phase"], style=PHASE_STYLES.get(p["phase"], "bold"))
    for label, field in (("started", "started_at"), ("response since", "response_started_at"),
                         ("closed", "closed_at")):  # fmt: skip
        if p.get(field):
            line.append(f" · {label} {dates.show_local(p[field])[:10]}", style="")
    return line


class ProblemDetailScreen(StoreScreen):
    """Dismisses with True when something was written here (the list reloads anyway)."""

    CSS_PATH = "../styles/problems.tcss"
    BINDINGS = [
        Binding("s", "phase", "Phase", tooltip="Move the problem to another phase"),
        Binding("a", "log_entry", "+Entry", tooltip="Add an entry to the activity log"),
        Binding("e", "plan", "Plan", tooltip="Write the action plan (replaces it)"),
        Binding("escape", "close", "Back", show=False, tooltip="Back to the problems"),
    ]

    def __init__(self, problem_id: str) -> None:
        super().__init__()
        self.problem_id = problem_id
        self.problem: dict[str, Any] | None = None
        self.changed = False
        self.loaded = False  # the problem is on screen (the tests wait on it)
        self.to_end = False  # put the cursor on the last event once the timeline is shown

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="pd-top"):
            yield Static(id="pd-fields")
        yield Static("Timeline", classes="section-title fl-title", id="pd-timeline-title")
        yield ListTable(id="pd-timeline", zebra_stripes=False)
        yield StatusLine()
        yield KeysFooter()

    def on_mount(self) -> None:
        self.sub_title = "Problem"
        table = self.query_one("#pd-timeline", ListTable)
        for label, key, width in TIMELINE_COLUMNS:
            table.add_column(label, key=key, width=width or 20)
        table.focus()
        self.reload()

    def reload(self) -> None:
        pid = self.problem_id
        self.db(lambda s: s.problems.get(pid), self.show)

    def on_resize(self) -> None:
        if self.problem is not None:
            self.fill_timeline()

    def show(self, p: dict[str, Any]) -> None:
        self.problem = p
        self.sub_title = f"Problem {p['short_id']}"
        grid = Table.grid(padding=(0, 1), expand=True)
        grid.add_column(style="bold", no_wrap=True)
        grid.add_column(ratio=1)
        grid.add_row("Title", wrapped(p["title"], "bold"))
        grid.add_row("Phase", phase_line(p))
        where = " · ".join(one_line(p[f]) for f in ("neighborhood", "location") if p.get(f))
        rows = [
            ("Where", where),
            ("Category", (p.get("category") or "").replace("_", " ")),
            ("Coordinator", p.get("coordinator")),
            ("Partners", ", ".join(one_line(o["name"]) for o in p["partners"])),
            ("Description", p.get("description")),
        ]
        for label, value in rows:
            if value:
                grid.add_row(label, wrapped(value))
        if p.get("plan"):
            grid.add_row("Plan", wrapped(p["plan"], "italic"))
        else:
            grid.add_row("Plan", Text("none yet: e writes it", style="dim"))
        self.query_one("#pd-fields", Static).update(grid)
        counts = ", ".join(
            plural(len(p[k]), k[:-1]) for k in ("contacts", "concerns", "referrals") if p[k]
        )
        title = f"Timeline ({len(p['timeline'])})" + (f": {counts} linked" if counts else "")
        self.query_one("#pd-timeline-title", Static).update(title)
        self.fill_timeline()
        self.call_after_refresh(self.fill_timeline)  # once laid out: the real free width
        self.loaded = True

    def fill_timeline(self) -> None:
        """The timeline, oldest first, the text in the free width; the cursor stays on its
        event (a new entry goes to the end: the cursor follows it)."""
        p = self.problem
        if p is None:
            return
        table = self.query_one("#pd-timeline", ListTable)
        fixed = sum(w for _, _, w in TIMELINE_COLUMNS) + 2 * table.cell_padding * 3
        width = table.size.width or self.size.width or self.app.size.width
        wide = max(12, width - fixed - 2)
        table.columns[ColumnKey("text")].width = wide
        table.replace_rows(
            (
                f"{e['kind']}:{e['id']}",
                [
                    text(dates.show_local(e["at"])),
                    text(e["kind"], KIND_STYLES.get(e["kind"], "cyan")),
                    clip(e["text"], wide),
                ],
            )
            for e in p["timeline"]
        )
        if self.to_end and table.row_count:
            self.to_end = False
            table.move_cursor(row=table.row_count - 1, animate=False)
        if not p["timeline"]:
            table.display = False
            self.query_one("#pd-timeline-title", Static).update(
                "Timeline: nothing yet. a logs an entry; P on a contact links it here."
            )
        else:
            table.display = True

    # ------------------------------------------------------------------ actions
    def written(self, message: str, *, last: bool = False) -> None:
        self.changed = True
        self.notify(message, markup=False)
        self.to_end = self.to_end or last  # a new entry is the newest: the cursor goes to it
        self.reload()

    def action_phase(self) -> None:
        if self.problem is not None:
            ask_phase(self, self.problem, lambda row: self.written_phase())

    def written_phase(self) -> None:
        self.changed = True
        self.to_end = True  # its log entry is the newest
        self.reload()

    def action_log_entry(self) -> None:
        p = self.problem
        if p is None:
            return
        pid = p["id"]

        def typed(value: str | None) -> None:
            if value:
                self.db(
                    lambda s: s.problems.log(pid, value),
                    lambda _: self.written("Logged.", last=True),
                    group="write",
                )

        dialog = TextDialog(
            f"Log entry for {one_line(p['title'])}",
            placeholder="What was done, seen or agreed (dated now)",
            max_length=models.MAX_TEXT,
        )
        self.app.push_screen(dialog, typed)

    def action_plan(self) -> None:
        p = self.problem
        if p is None:
            return
        pid, old = p["id"], p.get("plan") or ""

        def typed(value: str | None) -> None:
            if value and value != old:
                self.db(
                    lambda s: s.problems.plan(pid, value),
                    lambda _: self.written("Plan saved (the log keeps the old one).", last=True),
                    group="write",
                )

        dialog = TextDialog(
            f"Action plan for {one_line(p['title'])}",
            old,
            "What will be done, by whom, by when",
            max_length=models.MAX_TEXT,
        )
        self.app.push_screen(dialog, typed)

    @on(DataTable.RowSelected, "#pd-timeline")
    def _selected(self, event: DataTable.RowSelected) -> None:
        kind, _, rid = str(event.row_key.value).partition(":")
        if kind in RECORD_KINDS:
            self.fl_app.open_record(kind, rid, lambda result: self.reload() if result else None)
            return
        entry = next((e for e in (self.problem or {}).get("timeline", []) if e["id"] == rid), None)
        if entry is not None:
            self.notify(one_line(entry["text"]), title=entry["kind"], markup=False, timeout=10)

    def action_close(self) -> None:
        self.dismiss(self.changed)
