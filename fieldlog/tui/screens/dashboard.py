"""The start screen: today's figures and the follow-ups that are due."""

from __future__ import annotations

from typing import Any

from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import DataTable, Footer, Header, Static

from fieldlog import dates
from fieldlog.tui.base import StoreScreen
from fieldlog.tui.widgets.cells import add_columns, clip

EMPTY = (
    'Your log is empty. Log a contact with  fieldlog add "Met ..." --hood NAME,\n'
    "or try the interface on practice data:  fieldlog --db demo.db demo  "
    "then  fieldlog --db demo.db tui"
)


class DashboardScreen(StoreScreen):
    """Figures from ``store.reports.dashboard()`` and due follow-ups; Enter opens the contact."""

    def __init__(self) -> None:
        super().__init__()
        self.contact_of: dict[str, str] = {}  # follow-up row key -> contact id

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="stats")
        yield Static("Follow-ups due", id="followups-title", classes="section-title")
        yield DataTable(id="followups", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "Dashboard"
        table = self.query_one("#followups", DataTable)
        add_columns(
            table,
            [("Due", "due", 10), ("What", "type", 8), ("Subject", "subject", 26),
             ("Who", "who", 13), ("Hood", "hood", 10)],
        )  # fmt: skip
        table.focus()

    def on_screen_resume(self) -> None:
        self.reload()

    def reload(self) -> None:
        self.db(
            lambda s: (
                {**s.reports.dashboard(), "conflicts": s.conflicts.count()},
                s.followups.due(limit=50),
            ),
            self.show,
        )

    def focus_followups(self) -> None:
        self.query_one("#followups", DataTable).focus()

    def show(self, result: tuple[dict[str, Any], list[dict[str, Any]]]) -> None:
        figures, followups = result
        self.loaded = True  # the figures are on screen (bench/bench_tui.py waits for this)
        self.query_one("#stats", Static).update(self.stats_text(figures))
        table = self.query_one("#followups", DataTable)
        title = self.query_one("#followups-title", Static)
        due, overdue = figures["followups_due"], figures["followups_overdue"]
        title.update(f"Follow-ups: {due} due today, {overdue} overdue")
        keep = table.cursor_row
        table.clear()
        self.contact_of.clear()
        for r in followups:
            key = f"{r['type']}:{r['id']}"
            self.contact_of[key] = r["contact_id"]
            style = "bold red" if r["overdue"] else ""
            table.add_row(
                Text(r["follow_up_on"] or "", style=style),
                Text(r["type"]),
                clip(r["subject"], 26),
                clip(r["person_name"], 13),
                clip(r["neighborhood"], 10),
                key=key,
            )
        if followups:
            table.move_cursor(row=min(keep, len(followups) - 1))

    @staticmethod
    def stats_text(f: dict[str, Any]) -> Text:
        if not f["contacts_total"]:
            out = Text(EMPTY)
            if f.get("conflicts"):
                out.append("\n")
                DashboardScreen.conflicts_text(out, f["conflicts"])
            return out
        out = Text()
        out.append("Contacts  ", style="bold")
        out.append(f"today {f['contacts_today']}   this week {f['contacts_week']}   ")
        out.append(f"total {f['contacts_total']}\n")
        out.append("Open concerns  ", style="bold")
        concerns = f["open_concerns"]
        out.append(
            "  ".join(f"{k} {n}" for k, n in concerns.items()) if concerns else "none", style=""
        )
        out.append("\nReferrals  ", style="bold")
        refs = f["referrals"]
        out.append("  ".join(f"{k} {n}" for k, n in refs.items()) if refs else "none")
        out.append("\nLast sync  ", style="bold")
        out.append(dates.show_local(f["last_sync"]) if f["last_sync"] else "never")
        out.append("   ")
        DashboardScreen.conflicts_text(out, f.get("conflicts", 0))
        return out

    @staticmethod
    def conflicts_text(out: Text, n: int) -> None:
        """Sync conflicts left to resolve; when there are some, a red figure that opens them
        (so does C anywhere)."""
        out.append("Conflicts  ", style="bold")
        if not n:
            out.append("0")
            return
        click = {"@click": "app.conflicts"}
        out.append(f" {n} to resolve ", Style(bold=True, color="white", bgcolor="red", meta=click))
        out.append(" press C", Style(meta=click))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        contact_id = self.contact_of.get(str(event.row_key.value))
        if contact_id:
            from fieldlog.tui.screens.detail import DetailScreen

            self.app.push_screen(DetailScreen(contact_id))
