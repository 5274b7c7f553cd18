"""SARA problems (issue 15, docs/problems.md): every problem by phase, scanning first and
closed last (``store.problems.list``), with what each links and its last activity.

``1``-``5`` show one phase (scanning, analysis, response, assessment, closed), ``0`` all
again; ``a`` adds a problem (it starts in scanning), ``s`` moves the one under the cursor to
another phase, Enter opens it (:mod:`fieldlog.tui.screens.problem_detail`: its fields, plan,
partners and timeline, where log entries and the plan are written).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Header, Static
from textual.widgets.data_table import ColumnKey

from fieldlog import dates, models
from fieldlog.text import plural
from fieldlog.tui.base import StoreScreen
from fieldlog.tui.dialogs.problem_phase import PHASE_STYLES
from fieldlog.tui.widgets.cells import add_columns, clip, one_line, text
from fieldlog.tui.widgets.footer import KeysFooter
from fieldlog.tui.widgets.status import StatusLine
from fieldlog.tui.widgets.table import ListTable

LIMIT = 500  # problems are tens, not thousands; ``fieldlog problem list`` lists them all
PHASES = models.PROBLEM_PHASES
EMPTY = "No problems yet: press a to start one (it begins in scanning)."
FILTER_HINT = "1-5 one phase, 0 all"
# (label, key, width): 76 cells with the padding at 80 columns, a scrollbar beside them; the
# title takes what a wider terminal adds (``title_width``).
COLUMNS = [("Phase", "phase", 10), ("Title", "title", 18), ("Hood", "hood", 9),
           ("Coord.", "coordinator", 10), ("C/K/R", "links", 7),
           ("Last", "last", 10)]  # fmt: skip


def last_activity(p: dict[str, Any]) -> str | None:
    """When something last happened to a problem: its last log entry or its start, the
    later (as ``fieldlog problem list`` says it)."""
    return max(p.get("last_entry_at") or "", p.get("started_at") or "") or None


def short_day(stored: str | None) -> str:
    """A stored time as the local day (``2026-11-25``)."""
    return dates.show_local(stored)[:10] if stored else ""


def links_cell(p: dict[str, Any]) -> Text:
    """Contacts / concerns / referrals linked."""
    counts = [p.get(f"{t}_linked") or 0 for t in ("contacts", "concerns", "referrals")]
    return Text("/".join(str(n) for n in counts), justify="right")


class ProblemsScreen(StoreScreen):
    """The problems table, a phase filter and the problem under the cursor below it."""

    CSS_PATH = "../styles/problems.tcss"
    BINDINGS = [
        Binding("a", "add", "Add problem", tooltip="Start a new problem (in scanning)"),
        Binding("s", "phase", "Phase", tooltip="Move the problem to another phase"),
        # 1-5 in the footer as one key; Help lists each phase's own.
        Binding(
            "1",
            "only(1)",
            "By phase",
            key_display="1-5",
            tooltip="Only scanning problems (2-5 the others)",
        ),
        *(
            Binding(str(i), f"only({i})", p.title(), show=False, tooltip=f"Only {p} problems")
            for i, p in enumerate(PHASES[1:], start=2)
        ),
        Binding("0", "only(0)", "All", show=False, tooltip="Every problem, by phase"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.phase: str | None = None  # the phase shown, None for all
        self.problems: dict[str, dict[str, Any]] = {}
        self.select_next: str | None = None  # a problem just added: the cursor goes to it
        self.loaded = False  # the first rows are on screen (the tests wait on it)

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="pr-title", classes="section-title fl-title", markup=False)
        yield ListTable(id="pr-table")
        yield Static(id="pr-empty", markup=False)
        yield Static(id="pr-detail", classes="fl-detail", markup=False)
        yield StatusLine()
        yield KeysFooter()

    @property
    def table(self) -> ListTable:
        return self.query_one("#pr-table", ListTable)

    def on_mount(self) -> None:
        self.sub_title = "Problems"
        add_columns(self.table, COLUMNS)  # type: ignore[arg-type]
        self.query_one("#pr-empty", Static).display = False
        self.table.focus()

    def on_screen_resume(self) -> None:
        self.refresh_data()

    def on_resize(self) -> None:
        self.call_after_refresh(self.fit_width)

    def title_width(self) -> int:
        """The Title column's width: what the other columns leave (18 at 80 columns)."""
        width = self.table.outer_size.width or self.app.size.width
        fixed = sum(w for _, k, w in COLUMNS if k != "title") + 2 * len(COLUMNS) + 2
        return max(18, width - fixed - 2)

    def fit_width(self) -> None:
        wide = self.title_width()
        column = self.table.columns.get(ColumnKey("title"))
        if column is None or column.width == wide:
            return
        column.width = wide
        if self.problems:
            self.table.replace_rows((k, self.cells(r)) for k, r in self.problems.items())

    def refresh_data(self) -> None:
        self.stale = False
        self.reload()

    def reload(self) -> None:
        phase = self.phase
        self.db(lambda s: (s.problems.list(phase=phase, limit=LIMIT), s.problems.count()),
                self.show)  # fmt: skip

    def show(self, result: tuple[list[dict[str, Any]], int]) -> None:
        rows, total = result
        table = self.table
        self.problems = {r["id"]: r for r in rows}
        table.replace_rows((r["id"], self.cells(r)) for r in rows)
        if self.select_next in self.problems:
            table.move_cursor(row=table.get_row_index(self.select_next), animate=False)
        self.select_next = None
        self.query_one("#pr-title", Static).update(self.title_text(rows, total))
        empty = self.query_one("#pr-empty", Static)
        empty.display = not rows
        table.set_class(not rows, "-empty")
        if not rows:
            empty.update(EMPTY if not total else f"No problem in {self.phase}: 0 shows all.")
        self.show_detail()
        self.loaded = True

    def title_text(self, rows: list[dict[str, Any]], total: int) -> Text:
        out = Text()
        if self.phase is None:
            by = Counter(r["phase"] for r in rows)
            out.append(f"Problems: {total}")
            if rows:
                out.append("  " + " · ".join(f"{by[p]} {p}" for p in PHASES if by[p]))
        else:
            out.append(f"Problems in {self.phase}: {len(rows)} of {total}")
        width = max(20, (self.size.width or self.app.size.width) - 2)
        if len(out) + 3 + len(FILTER_HINT) <= width:  # the hint whole, or not at all
            out.append(f"   {FILTER_HINT}", style="dim not bold")
        out.truncate(width, overflow="ellipsis")
        return out

    def cells(self, p: dict[str, Any]) -> list[Text]:
        phase = Text(p["phase"], style=PHASE_STYLES.get(p["phase"], ""))
        cells = [
            phase,
            clip(p["title"], self.title_width()),
            clip(p.get("neighborhood"), 9),
            clip(p.get("coordinator"), 10),
            links_cell(p),
            text(short_day(last_activity(p))),
        ]
        if p["phase"] == "closed":
            for cell in cells[1:]:
                cell.stylize("dim")
        return cells

    def current(self) -> dict[str, Any] | None:
        key = self.table.cursor_key
        return self.problems.get(key) if key else None

    @on(DataTable.RowHighlighted, "#pr-table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.show_detail()

    def show_detail(self) -> None:
        """Two lines on the problem under the cursor: what and where, then its plan."""
        p = self.current()
        panel = self.query_one("#pr-detail", Static)
        panel.display = p is not None
        if p is None:
            panel.update(Text())
            return
        width = max(20, panel.content_region.width or (self.size.width - 2))
        head = Text()
        head.append(f"{p['short_id']}  ", style="dim")
        head.append_text(text(p["title"], style="bold"))
        where = [one_line(p.get(f)) for f in ("neighborhood", "location", "category") if p.get(f)]
        if where:
            head.append("  " + " · ".join(where), style="")
        partners = p.get("organizations_linked") or 0
        if partners:
            head.append(f"  · {plural(partners, 'partner')}", style="dim")
        plan = Text()
        if p.get("plan"):
            plan.append("Plan: ", style="bold")
            plan.append_text(text(p["plan"], style="italic"))
        elif p.get("description"):
            plan.append_text(text(p["description"], style="italic"))
        else:
            plan.append("Enter opens it: the timeline, the log, the plan.", style="dim")
        for line in (head, plan):
            line.truncate(width, overflow="ellipsis")
        panel.update(Text("\n").join([head, plan]))

    # ------------------------------------------------------------------ actions
    def action_only(self, number: int) -> None:
        phase = PHASES[number - 1] if 1 <= number <= len(PHASES) else None
        if phase != self.phase:
            self.phase = phase
            self.sub_title = f"Problems in {phase}" if phase else "Problems"
            self.reload()

    def action_add(self) -> None:
        from fieldlog.tui.dialogs.problem_form import ProblemForm

        self.app.push_screen(ProblemForm(), self.added)

    def added(self, problem_id: str | None) -> None:
        if problem_id is None:
            return
        self.notify("Problem added (scanning). Enter opens it.")
        self.select_next = problem_id
        if self.phase not in (None, "scanning"):
            self.phase = None
            self.sub_title = "Problems"
        self.reload()

    def action_phase(self) -> None:
        from fieldlog.tui.dialogs.problem_phase import ask_phase

        p = self.current()
        if p is not None:
            ask_phase(self, p, lambda row: self.reload())

    @on(DataTable.RowSelected, "#pr-table")
    def _selected(self, event: DataTable.RowSelected) -> None:
        from fieldlog.tui.screens.problem_detail import ProblemDetailScreen

        p = self.problems.get(str(event.row_key.value))
        if p is not None:
            self.app.push_screen(ProblemDetailScreen(p["id"]))  # reloaded on resume
