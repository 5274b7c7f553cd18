"""Follow-ups due today or this week, oldest (overdue) first, with the work done in place."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Header, Static

from fieldlog import models
from fieldlog.tui.base import StoreScreen
from fieldlog.tui.dialogs.choice import ChoiceDialog
from fieldlog.tui.dialogs.date import DateDialog
from fieldlog.tui.widgets.cells import add_columns, clip, cursor_key, text

LIMIT = 500  # a week of follow-ups fits; more is a backlog to work through, not to scroll
RANGES = {"week": ("in 7d", "due within 7 days"), "today": (None, "due today")}


class FollowupsScreen(StoreScreen):
    """``store.followups.due()`` as a table; status, mark done and a new date keep the cursor."""

    BINDINGS = [
        Binding("s", "status", "Status", tooltip="Change the referral's status"),
        Binding("m,space", "done", "Done", tooltip="Mark the follow-up done"),
        Binding("u", "reschedule", "New date", tooltip="Set a new follow-up date"),
        Binding("w", "toggle_range", "Today/week", tooltip="Due today or within 7 days"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.range = "week"
        self.rows: dict[str, dict[str, Any]] = {}  # row key -> follow-up row

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="fu-title", classes="section-title fl-title", markup=False)
        yield DataTable(id="fu-table", cursor_type="row", zebra_stripes=True)
        yield Static(id="fu-detail", classes="fl-detail", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "Follow-ups"
        add_columns(
            self.query_one("#fu-table", DataTable),
            [("Due", "due", 11), ("What", "type", 8), ("Status", "status", 11),
             ("Subject", "subject", 16), ("Who", "who", 11), ("Hood", "hood", 9)],
        )  # fmt: skip
        self.query_one("#fu-table", DataTable).focus()

    def on_screen_resume(self) -> None:
        self.reload()

    # ------------------------------------------------------------------ loading
    def reload(self) -> None:
        until = RANGES[self.range][0]
        self.db(lambda s: s.followups.due(until=until, limit=LIMIT), self.show)

    def show(self, rows: list[dict[str, Any]]) -> None:
        table = self.query_one("#fu-table", DataTable)
        keep_key = self.current_key()
        keep_row = table.cursor_row
        table.clear()
        self.rows.clear()
        for r in rows:
            key = f"{r['type']}:{r['id']}"
            self.rows[key] = r
            late = "bold red" if r["overdue"] else ""
            table.add_row(
                Text(("!" if r["overdue"] else " ") + (r["follow_up_on"] or ""), style=late),
                Text(r["type"]),
                text(r["status"] or ""),
                clip(r["subject"], 16),
                clip(r["person_name"], 11),
                clip(r["neighborhood"], 9),
                key=key,
            )
        overdue = sum(1 for r in rows if r["overdue"])
        what = RANGES[self.range][1]
        if not rows:
            other = "today only" if self.range == "week" else "the next 7 days"
            title = f"No follow-ups {what}. Press w for {other}."
        elif len(rows) >= LIMIT:
            title = f"Follow-ups {what}: the oldest {LIMIT} shown, {overdue} overdue (!)"
        else:
            title = f"Follow-ups {what}: {len(rows)}, {overdue} overdue (!)"
        self.query_one("#fu-title", Static).update(title)
        if rows:
            if keep_key in self.rows:
                table.move_cursor(row=table.get_row_index(keep_key))
            else:
                table.move_cursor(row=min(keep_row, len(rows) - 1))
        self.show_detail()

    def current_key(self) -> str | None:
        return cursor_key(self.query_one("#fu-table", DataTable))

    def current(self) -> dict[str, Any] | None:
        key = self.current_key()
        return self.rows.get(key) if key else None

    @on(DataTable.RowHighlighted, "#fu-table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.show_detail()

    def show_detail(self) -> None:
        r = self.current()
        out = Text(no_wrap=True, overflow="ellipsis")
        if r is not None:
            out.append(f"{r['type']} {r['short_id']}  ", style="dim")
            out.append_text(text(r["subject"]))
            if r["detail"]:
                out.append("\n")
                out.append_text(text(r["detail"], style="italic"))
        self.query_one("#fu-detail", Static).update(out)

    # ------------------------------------------------------------------ actions
    def action_toggle_range(self) -> None:
        self.range = "today" if self.range == "week" else "week"
        self.reload()

    def action_status(self) -> None:
        r = self.current()
        if r is None:
            return
        if r["type"] != "referral":
            self.notify("Only referrals have a status: press m to mark this follow-up done.")
            return
        self.ask_status(r, r["status"])

    def ask_status(self, r: dict[str, Any], current: str) -> None:
        def chosen(status: str | None) -> None:
            if status and status != r["status"]:
                self.write(
                    lambda s: s.referrals.update(r["id"], status=status),
                    f"Referral {r['short_id']} ({r['subject']}) is now {status}.",
                )

        title = f"Status of the referral to {r['subject']}"
        self.app.push_screen(ChoiceDialog(title, models.REFERRAL_STATUSES, current), chosen)

    def action_done(self) -> None:
        r = self.current()
        if r is None:
            return
        if r["type"] == "referral":
            # A referral is done when its outcome is known: ask which one.
            self.ask_status(r, "completed")
            return
        self.write(
            lambda s: s.contacts.update(r["id"], {"follow_up_on": "none"}),
            f"Follow-up on contact {r['short_id']} marked done.",
        )

    def action_reschedule(self) -> None:
        r = self.current()
        if r is None:
            return

        def chosen(day: str | None) -> None:
            if day is None:
                return
            if r["type"] == "referral":
                call = lambda s: s.referrals.update(r["id"], follow_up_on=day)  # noqa: E731
            else:
                call = lambda s: s.contacts.update(r["id"], {"follow_up_on": day})  # noqa: E731
            said = "cleared" if day == "none" else f"set to {day}"
            self.write(call, f"Follow-up date of {r['type']} {r['short_id']} {said}.")

        title = f"New follow-up date for the {r['type']} {r['short_id']}"
        self.app.push_screen(DateDialog(title, r["follow_up_on"]), chosen)

    def write(self, call: Any, message: str) -> None:
        """A change, then a fresh table (the row may leave it); the cursor stays put."""

        def then(_: Any) -> None:
            self.notify(message, markup=False)
            self.reload()

        self.db(call, then, group="write")

    @on(DataTable.RowSelected, "#fu-table")
    def _selected(self, event: DataTable.RowSelected) -> None:
        r = self.rows.get(str(event.row_key.value))
        if r is not None:
            from fieldlog.tui.screens.detail import DetailScreen

            self.app.push_screen(DetailScreen(r["contact_id"]))
