"""The Report screen: ``fieldlog report`` in the TUI, with a period and grouping to pick."""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Header, Static

from fieldlog import render, report
from fieldlog.tui.base import StoreScreen
from fieldlog.tui.widgets.footer import KeysFooter
from fieldlog.tui.widgets.status import StatusLine


class ReportScreen(StoreScreen):
    """The period report; 7 / 3 / 9 pick the last 7, 30 or 90 days, b the grouping."""

    # Short labels: the footer fits 80 columns (the tooltip and Help say it in full).
    BINDINGS = [
        Binding("7", "period(7)", "7d", tooltip="The last 7 days, today included"),
        Binding("3", "period(30)", "30d", tooltip="The last 30 days"),
        Binding("9", "period(90)", "90d", tooltip="The last 90 days"),
        Binding("b", "cycle_by", "Group by", tooltip="Summary by neighborhood/officer/category"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.days = 7
        self.by = "hood"
        self.data: dict[str, Any] | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="rep-title", classes="section-title fl-title", markup=False)
        with VerticalScroll(id="rep-body"):
            yield Static(id="rep-figures")
        yield StatusLine()
        yield KeysFooter()

    def on_mount(self) -> None:
        self.sub_title = "Report"
        self.query_one("#rep-title", Static).update("Loading the report…")
        self.query_one("#rep-body", VerticalScroll).focus()

    def on_screen_resume(self) -> None:
        self.reload()

    def reload(self) -> None:
        days, by = self.days, self.by
        self.db(lambda s: report.build(s, by=by, days=days), self.show)

    def action_period(self, days: int) -> None:
        self.days = days
        self.reload()

    def action_cycle_by(self) -> None:
        groups = report.GROUPS
        self.by = groups[(groups.index(self.by) + 1) % len(groups)]
        self.reload()

    def show(self, data: dict[str, Any]) -> None:
        self.data = data
        self.loaded = True
        t = data["totals"]
        title = Text()
        title.append(f"Last {self.days} days", style="bold")
        title.append(f" · by {data['by']} · {data['period']['label'].split(' (')[0]}\n")
        title.append(", ".join(report.totals_phrases(t, short=True)), style="dim")
        self.query_one("#rep-title", Static).update(title)
        wide = self.size.width >= 100
        parts: list[Any] = []
        note = report.spellings_note(data)
        if note:
            parts.append(Text(note, style="dim"))
        for sec in report.screen_sections(data, wide=wide):
            if parts:
                parts.append(Text(""))
            parts.append(render.report_table(sec, wide=wide))
        self.query_one("#rep-figures", Static).update(Group(*parts))
