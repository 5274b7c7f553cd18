"""Follow-ups due today or this week, oldest (overdue) first, with the work done in place.

The title counts every follow-up the way the dashboard does (``store.followups.counts``), not
the rows loaded: a backlog of 8,400 says 8,400 though the table holds the oldest 500. Each
one-key change (status, done, a new date) can be undone with ``ctrl+z`` (``u`` is the new
date here).
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Header, Static

from fieldlog import models
from fieldlog.text import printable
from fieldlog.tui.base import StoreScreen
from fieldlog.tui.dialogs.choice import ChoiceDialog
from fieldlog.tui.dialogs.date import DateDialog
from fieldlog.tui.screens.record import (
    CLOSING_STATUSES,
    close_referral,
    write_undoable,
)
from fieldlog.tui.widgets.cells import add_columns, clip, text
from fieldlog.tui.widgets.footer import KeysFooter
from fieldlog.tui.widgets.status import StatusLine
from fieldlog.tui.widgets.table import ListTable

LIMIT = 500  # a week of follow-ups fits; more is a backlog to work through, not to scroll
RANGES = {"week": ("in 7d", "due within 7 days"), "today": (None, "due today")}


class FollowupsScreen(StoreScreen):
    """``store.followups.due()`` as a table; status, mark done and a new date keep the cursor."""

    BINDINGS = [
        Binding("s", "status", "Status", tooltip="Change the referral's status"),
        Binding("m,space", "done", "Done", tooltip="Mark it done (a referral: its outcome)"),
        Binding("u", "reschedule", "New date", tooltip="Set a new follow-up date"),
        Binding("w", "toggle_range", "Today/week", tooltip="Due today or within 7 days"),
        Binding("ctrl+z", "app.undo", "Undo", tooltip="Undo the last change here"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.range = "week"
        self.rows: dict[str, dict[str, Any]] = {}  # row key -> follow-up row

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="fu-title", classes="section-title fl-title", markup=False)
        yield ListTable(id="fu-table")
        yield Static(id="fu-detail", classes="fl-detail", markup=False)
        yield StatusLine()
        yield KeysFooter()

    def on_mount(self) -> None:
        self.sub_title = "Follow-ups"
        add_columns(
            self.query_one("#fu-table", DataTable),
            [("Due", "due", 11), ("What", "type", 8), ("Status", "status", 11),
             ("Subject", "subject", 16), ("Who", "who", 11), ("Hood", "hood", 9)],
        )  # fmt: skip
        self.query_one("#fu-table", DataTable).focus()

    def on_screen_resume(self) -> None:
        self.refresh_data()

    # ------------------------------------------------------------------ loading
    def refresh_data(self) -> None:
        """Another process wrote (or an undo ran): the rows again, the cursor on the same
        follow-up if it is still due, else on the same line."""
        self.stale = False
        self.reload()

    def reload(self) -> None:
        until = RANGES[self.range][0]
        self.db(
            lambda s: (
                s.followups.due(until=until, limit=LIMIT, outcomes=True),
                s.followups.counts(until=until),
            ),
            self.show,
        )

    def show(self, result: tuple[list[dict[str, Any]], dict[str, int]]) -> None:
        rows, counts = result
        table = self.query_one("#fu-table", ListTable)
        self.rows = {f"{r['type']}:{r['id']}": r for r in rows}
        table.replace_rows(
            (
                key,
                [
                    Text(
                        ("!" if r["overdue"] else " ") + (r["follow_up_on"] or ""),
                        style="bold red" if r["overdue"] else "",
                    ),
                    Text(r["type"]),
                    text(r["status"] or ""),
                    clip(r["subject"], 16),
                    clip(r["person_name"], 11),
                    clip(r["neighborhood"], 9),
                ],
            )
            for key, r in self.rows.items()
        )
        self.query_one("#fu-title", Static).update(self.title_text(len(rows), counts))
        self.show_detail()

    def title_text(self, shown: int, counts: dict[str, int]) -> str:
        """The counts as the dashboard gives them ("N due today, M overdue"), and how many of
        them the table holds when that is not all."""
        what = RANGES[self.range][1]
        overdue, due = counts["overdue"], counts["due"] - counts["overdue"]
        if not counts["due"]:
            if self.range == "today":
                return "Nothing due today or overdue. Press w for the next 7 days."
            return "Nothing due within 7 days: no follow-ups to work. n logs a contact."
        title = f"Follow-ups: {due:,} {what}, {overdue:,} overdue (!)"
        if shown < counts["due"]:
            title += f"; the oldest {shown:,} shown"
        return title

    def current_key(self) -> str | None:
        return self.query_one("#fu-table", ListTable).cursor_key

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
        elif self.rows == {}:
            out.append("d goes home, l lists contacts, n logs a new one.", style="dim")
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

        def chosen(status: str | None) -> None:
            if not status or status == r["status"]:
                return
            said = f"Referral {r['short_id']} ({r['subject']}) is now {status}. ctrl+z undoes."
            if status in CLOSING_STATUSES:  # its outcome, then both written at once
                close_referral(self, self.as_referral(r), status, lambda _: self.done(said))
            else:
                label = f"status of referral {r['short_id']}"
                write_undoable(
                    self, "referrals", r["id"], {"status": status}, label, lambda _: self.done(said)
                )

        title = printable(f"Status of the referral to {r['subject']}", newlines=False)
        self.app.push_screen(ChoiceDialog(title, models.REFERRAL_STATUSES, r["status"]), chosen)

    @staticmethod
    def as_referral(r: dict[str, Any]) -> dict[str, Any]:
        """A follow-up row as the outcome dialog reads a referral (its agency)."""
        return {**r, "agency": r["subject"]}

    def action_done(self) -> None:
        r = self.current()
        if r is None:
            return
        if r["type"] == "referral":  # done when its outcome is known: asked, Escape for none
            said = f"Referral {r['short_id']} ({r['subject']}) completed. ctrl+z undoes."
            close_referral(self, self.as_referral(r), "completed", lambda _: self.done(said))
            return
        write_undoable(
            self,
            "contacts",
            r["id"],
            {"follow_up_on": "none"},
            f"follow-up of contact {r['short_id']} done",
            lambda _: self.done(f"Follow-up on contact {r['short_id']} done. ctrl+z undoes."),
        )

    def action_reschedule(self) -> None:
        r = self.current()
        if r is None:
            return

        def chosen(day: str | None) -> None:
            if day is None:
                return
            table = "referrals" if r["type"] == "referral" else "contacts"
            said = "cleared" if day == "none" else f"set to {day}"
            write_undoable(
                self,
                table,
                r["id"],
                {"follow_up_on": day},
                f"new follow-up date of {r['type']} {r['short_id']}",
                lambda _: self.done(
                    f"Follow-up date of {r['type']} {r['short_id']} {said}. ctrl+z undoes."
                ),
            )

        title = f"New follow-up date for the {r['type']} {r['short_id']}"
        self.app.push_screen(DateDialog(title, r["follow_up_on"]), chosen)

    def done(self, message: str) -> None:
        """After a change: say it, then a fresh table (the row may leave it); the cursor stays
        on the same line."""
        self.notify(message, markup=False)
        self.reload()

    @on(DataTable.RowSelected, "#fu-table")
    def _selected(self, event: DataTable.RowSelected) -> None:
        """Enter: a referral opens on its own screen, a contact's follow-up on the contact."""
        r = self.rows.get(str(event.row_key.value))
        if r is None:
            return
        if r["type"] == "referral":
            self.fl_app.open_record("referral", r["id"])
        else:
            self.fl_app.open_record("contact", r["contact_id"])
