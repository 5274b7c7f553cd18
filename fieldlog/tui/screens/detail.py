"""One contact with its concerns and referrals; change a referral, resolve a concern, delete.

Enter on a concern or referral opens its own screen (``screens/record.py``), where its whole
text is. The one-key changes here (``s``, ``u``, ``r``) can be undone with ``ctrl+z``. A
contact a supervisor has reviewed shows how (approved or returned, by whom, when, the
comment); one never reviewed shows nothing of it.
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
from fieldlog.tui.base import StoreScreen
from fieldlog.tui.dialogs.choice import ChoiceDialog
from fieldlog.tui.dialogs.confirm import ConfirmDialog
from fieldlog.tui.dialogs.text import TextDialog
from fieldlog.tui.screens.record import (
    CLOSING_STATUSES,
    close_referral,
    write_undoable,
)
from fieldlog.tui.widgets.cells import clip, one_line, text, wrapped
from fieldlog.tui.widgets.footer import KeysFooter
from fieldlog.tui.widgets.status import StatusLine
from fieldlog.tui.widgets.table import ListTable

FIELDS = (
    ("When", "occurred_at"),
    ("Kind", "kind"),
    ("Person", "person_name"),
    ("Organization", "organization_name"),
    ("Neighborhood", "neighborhood"),
    ("Beat", "beat"),
    ("Location", "location"),
    ("Summary", "summary"),
    ("Notes", "notes"),
    ("Tags", "tags"),
    ("Follow up on", "follow_up_on"),
    ("Officer", "officer"),
    ("Id", "id"),
    ("Updated", "updated_at"),
)

REVIEW_STYLES = {"returned": "bold yellow", "approved": "bold green"}

# The tables' columns: (label, key, width); the last one takes the width the others leave.
CONCERN_COLUMNS = [
    ("Id", "id", 10), ("Category", "category", 14), ("Priority", "priority", 8),
    ("Status", "status", 11), ("Description", "description", 0),
]  # fmt: skip
REFERRAL_COLUMNS = [
    ("Id", "id", 10), ("Agency", "agency", 16), ("Status", "status", 11),
    ("Follow up", "follow_up_on", 10), ("Reason — outcome", "reason", 0),
]  # fmt: skip


def review_rows(c: dict[str, Any]) -> list[tuple[str, Text]]:
    """The contact's supervisor review as the grid's rows: its status, who and when, then
    the comment. None for a contact never reviewed (every contact starts "submitted", and a
    log without a supervisor never has anything else: no line of noise on each contact)."""
    status = c.get("review_status") or "submitted"
    by, when, comment = c.get("reviewed_by"), c.get("reviewed_at"), c.get("review_comment")
    if status == "submitted" and not (by or comment):
        return []
    line = Text(status, style=REVIEW_STYLES.get(status, "bold"))
    if status == "submitted":
        line.append(" again after a review", style="")
    if by:
        line.append(f" by {one_line(by)}", style="")
    if when:
        line.append(f", {dates.show_local(when)}", style="")
    rows = [("Review", line)]
    if comment:
        rows.append(("Comment", wrapped(comment, "italic")))
    return rows


def reason_outcome(ref: dict[str, Any]) -> str:
    """The Reason column: "reason — outcome", either part alone when the other is empty."""
    return " — ".join(p for p in (ref.get("reason"), ref.get("outcome")) if p)


class DetailScreen(StoreScreen):
    """Dismisses with ``("deleted", id)``, ``("changed", id)`` or None, so lists can update."""

    # Shown: the everyday keys, short enough for 80 columns; Help (?) lists them all.
    BINDINGS = [
        Binding("s", "referral_status", "Status", tooltip="Change the referral's status"),
        Binding("u", "referral_outcome", "Outcome", tooltip="Set the referral's outcome"),
        Binding("r", "resolve_concern", "Resolve", tooltip="Resolve the concern"),
        Binding("x,delete", "delete_contact", "Delete", show=False),
        Binding("e", "edit_contact", "Edit", tooltip="Edit this contact"),
        Binding("c", "add_concern", "+Concern", tooltip="Add a concern"),
        Binding("a", "add_referral", "+Referral", tooltip="Add a referral"),
        # No room left in the footer at 80 columns: Help (?) and the palette list it.
        Binding(
            "P", "link_problem", "+Problem", show=False, tooltip="Link this contact to a problem"
        ),
        Binding("escape", "close", "Back", show=False, tooltip="Back to the screen before"),
    ]

    def __init__(self, contact_id: str) -> None:
        super().__init__()
        self.contact_id = contact_id
        self.contact: dict[str, Any] | None = None
        self.problems: list[dict[str, Any]] = []  # the problems it is linked to
        self.changed = False
        self.focused_once = False

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="detail"):
            yield Static(id="fields")
            yield Static("Concerns", classes="section-title", id="concerns-title")
            yield ListTable(id="concerns", zebra_stripes=False)
            yield Static("Referrals", classes="section-title", id="referrals-title")
            yield ListTable(id="referrals", zebra_stripes=False)
        yield StatusLine()
        yield KeysFooter()

    def on_mount(self) -> None:
        self.sub_title = "Contact"
        for table_id, columns in (("#concerns", CONCERN_COLUMNS), ("#referrals", REFERRAL_COLUMNS)):
            table = self.query_one(table_id, ListTable)
            for label, key, width in columns:
                table.add_column(label, key=key, width=width or 20)
        self.reload()

    def reload(self) -> None:
        cid = self.contact_id

        def load(s: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
            c = s.contacts.get(cid)
            return c, s.problems.of_record("contacts", c["id"])

        self.db(load, self._loaded)

    def _loaded(self, result: tuple[dict[str, Any], list[dict[str, Any]]]) -> None:
        self.problems = result[1]
        self.show(result[0])

    def refresh_data(self) -> None:
        """Another process wrote (or an undo ran): the same contact again, the cursors on
        the same concern and referral (the tables keep their rows by id)."""
        self.stale = False
        self.reload()

    def on_screen_resume(self) -> None:
        if self.stale:
            self.refresh_data()

    def on_resize(self) -> None:
        if self.contact is not None:
            self.fill_tables()

    def show(self, c: dict[str, Any]) -> None:
        self.contact = c
        self.sub_title = f"Contact {c['short_id']}"
        grid = Table.grid(padding=(0, 1), expand=True)
        grid.add_column(style="bold", no_wrap=True)
        grid.add_column(ratio=1)
        for label, field in FIELDS:
            value = c.get(field)
            if field in ("occurred_at", "updated_at"):
                value = dates.show_local(value)
            if value in (None, "", []):
                continue
            # user text as data (never markup), wrapped, control characters as escapes
            grid.add_row(label, wrapped(value))
        for label, value in review_rows(c):
            grid.add_row(label, value)
        if self.problems:  # the SARA problems it belongs to (P links one more)
            names = "; ".join(f"{one_line(p['title'])} ({p['phase']})" for p in self.problems)
            grid.add_row("Problems", Text(names))
        self.query_one("#fields", Static).update(grid)

        n, m = len(c["concerns"]), len(c["referrals"])
        self.query_one("#concerns-title", Static).update(f"Concerns ({n})")
        self.query_one("#referrals-title", Static).update(f"Referrals ({m})")
        self.fill_tables()
        self.call_after_refresh(self.fill_tables)  # once laid out: the real free width
        if not self.focused_once:
            self.focused_once = True
            self.focus_first_table()

    def focus_first_table(self) -> None:
        """Start on the concerns (or referrals) so Enter opens one, leaving the contact's
        fields in view; not if the officer has already moved the focus."""
        if self.focused is not None and not isinstance(self.focused, VerticalScroll):
            return
        c = self.contact or {}
        for kind in ("concerns", "referrals"):
            if c.get(kind):
                self.query_one(f"#{kind}", ListTable).focus(scroll_visible=False)
                return

    def free_width(self, table: ListTable, columns: list[tuple[str, str, int]], ids: int) -> int:
        """What the last column gets: the table's width less the other columns (the Id
        column as wide as the longest short id, ``ids``)."""
        table.columns[ColumnKey("id")].width = ids
        # the box the tables sit in (a table's own width follows its content)
        width = self.query_one("#detail", VerticalScroll).scrollable_content_region.width
        width = width or (self.size.width or self.app.size.width) - 4
        fixed = ids + sum(w for _, _, w in columns[1:-1]) + 2 * table.cell_padding * len(columns)
        return max(12, width - fixed - 1)

    def fill_tables(self) -> None:
        """Both tables from the loaded contact, each keeping its cursor on the same record;
        the description and reason take the free width (wider terminal, more text)."""
        c = self.contact
        if c is None:
            return
        ids_width = len("Id")
        concerns = self.query_one("#concerns", ListTable)
        ids = max([ids_width, *(len(k["short_id"]) for k in c["concerns"])])
        wide = self.free_width(concerns, CONCERN_COLUMNS, ids)
        concerns.columns[ColumnKey("description")].width = wide
        concerns.replace_rows(
            (
                k["id"],
                [
                    text(k["short_id"]),
                    text(k["category"]),
                    text(k["priority"]),
                    text(k["status"], "green" if k["status"] == "resolved" else ""),
                    clip(k["description"], wide),
                ],
            )
            for k in c["concerns"]
        )
        referrals = self.query_one("#referrals", ListTable)
        ids = max([ids_width, *(len(r["short_id"]) for r in c["referrals"])])
        wide = self.free_width(referrals, REFERRAL_COLUMNS, ids)
        referrals.columns[ColumnKey("reason")].width = wide
        referrals.replace_rows(
            (
                r["id"],
                [
                    text(r["short_id"]),
                    clip(r["agency"], 16),
                    text(r["status"]),
                    text(r["follow_up_on"]),
                    clip(reason_outcome(r), wide),
                ],
            )
            for r in c["referrals"]
        )

    # ------------------------------------------------------------------ selection
    def _selected(self, kind: str) -> dict[str, Any] | None:
        """The row under the cursor of the concerns or referrals table."""
        if self.contact is None:
            return None
        rows = self.contact[kind]
        if not rows:
            self.notify(f"This contact has no {kind}.", severity="warning")
            return None
        key = self.query_one(f"#{kind}", ListTable).cursor_key
        return next((r for r in rows if r["id"] == key), rows[0])

    @on(DataTable.RowSelected, "#concerns")
    def _open_concern(self, event: DataTable.RowSelected) -> None:
        from fieldlog.tui.screens.record import ConcernScreen

        self.app.push_screen(ConcernScreen(str(event.row_key.value)), self._came_back)

    @on(DataTable.RowSelected, "#referrals")
    def _open_referral(self, event: DataTable.RowSelected) -> None:
        from fieldlog.tui.screens.record import ReferralScreen

        self.app.push_screen(ReferralScreen(str(event.row_key.value)), self._came_back)

    def _came_back(self, result: Any) -> None:
        """Back from a concern or referral: what it changed shows here (the contact too)."""
        if result:
            self.changed = True
            self.reload()

    def action_referral_status(self) -> None:
        ref = self._selected("referrals")
        if ref is None:
            return

        def chosen(status: str | None) -> None:
            if not status or status == ref["status"]:
                return
            if status in CLOSING_STATUSES:  # asks the outcome, then writes both at once
                close_referral(self, ref, status, self.saved)
            else:
                label = f"status of referral {ref['short_id']}"
                write_undoable(self, "referrals", ref["id"], {"status": status}, label, self.saved)

        title = f"Status of referral {ref['short_id']} to {one_line(ref['agency'])}"
        self.app.push_screen(ChoiceDialog(title, models.REFERRAL_STATUSES, ref["status"]), chosen)

    def action_referral_outcome(self) -> None:
        ref = self._selected("referrals")
        if ref is not None:
            self._ask_outcome(ref)

    def _ask_outcome(self, ref: dict[str, Any]) -> None:
        """Edit a referral's outcome in a TextDialog; Escape (None) or no change writes nothing."""
        old = ref.get("outcome") or ""

        def written(row: dict[str, Any]) -> None:
            self.changed = True
            self.notify(f"Saved: outcome of {row['short_id']}. ctrl+z undoes.", markup=False)
            self.reload()

        def typed(outcome: str | None) -> None:
            if outcome is not None and outcome != old:
                label = f"outcome of referral {ref['short_id']}"
                write_undoable(self, "referrals", ref["id"], {"outcome": outcome}, label, written)

        title = (
            f"Outcome of referral {ref['short_id']} to {one_line(ref['agency'])} "
            f"({one_line(ref['status'])})"
        )
        dialog = TextDialog(title, old, "What came of it?", max_length=models.MAX_TEXT)
        self.app.push_screen(dialog, typed)

    def action_resolve_concern(self) -> None:
        concern = self._selected("concerns")
        if concern is None:
            return
        if concern["status"] == "resolved":
            self.notify(f"Concern {concern['short_id']} is already resolved.")
            return
        label = f"resolve concern {concern['short_id']}"
        write_undoable(self, "concerns", concern["id"], {"status": "resolved"}, label, self.saved)

    def saved(self, row: dict[str, Any]) -> None:
        self.changed = True
        self.notify(
            f"Saved: {row['short_id']} is now {one_line(row['status'])}. ctrl+z undoes.",
            markup=False,
        )
        self.reload()

    def action_delete_contact(self) -> None:
        if self.contact is None:
            return
        c = self.contact
        question = Text(f"Delete contact {c['short_id']}?\n", style="bold")
        question.append(one_line(c.get("summary"))[:120], style="")
        question.append("\nIts concerns and referrals go too.")

        def answered(yes: bool | None) -> None:
            if yes:
                cid = c["id"]
                self.db(lambda s: s.contacts.delete(cid), self.deleted, group="write")

        self.app.push_screen(ConfirmDialog(question), answered)

    def deleted(self, rid: str) -> None:
        self.notify("Contact deleted.")
        self.dismiss(("deleted", rid))

    def action_close(self) -> None:
        self.dismiss(("changed", self.contact_id) if self.changed else None)

    # ------------------------------------------------------------------ edit, add (form, dialogs)
    def action_edit_contact(self) -> None:
        from fieldlog.tui.screens.form import ContactFormScreen

        if self.contact is not None:
            self.app.push_screen(ContactFormScreen(self.contact), self._edited)

    def action_link_problem(self) -> None:
        from fieldlog.tui.dialogs.problem_pick import link_to_problem

        c = self.contact
        if c is not None:
            link_to_problem(self, "contacts", c["id"], f"contact {c['short_id']}",
                            lambda _: self.reload())  # fmt: skip

    def _edited(self, cid: str | None) -> None:
        if cid:
            self.changed = True
            self.reload()

    def action_add_concern(self) -> None:
        from fieldlog.tui.dialogs.concern import ConcernDialog

        self._add_item(ConcernDialog, lambda s, cid, v: s.concerns.add(cid, **v), "Concern")

    def action_add_referral(self) -> None:
        from fieldlog.tui.dialogs.referral import ReferralDialog

        def add(s: Any, cid: str, v: dict[str, Any]) -> str:
            return s.referrals.add(cid, v.pop("agency"), **v)

        self._add_item(ReferralDialog, add, "Referral")

    def _add_item(self, dialog: Any, add: Any, noun: str) -> None:
        if self.contact is None:
            return
        cid = self.contact["id"]

        def added(new_id: str) -> None:
            self.changed = True
            self.notify(f"{noun} added.")
            self.reload()

        def chosen(values: dict[str, Any] | None) -> None:
            if values:
                self.db(lambda s: add(s, cid, values), added, group="write")

        self.app.push_screen(dialog(self.contact), chosen)
