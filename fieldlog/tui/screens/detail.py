"""One contact with its concerns and referrals; change a referral, resolve a concern, delete."""

from __future__ import annotations

from typing import Any

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Footer, Header, Static

from fieldlog import dates, models
from fieldlog.tui.base import StoreScreen
from fieldlog.tui.dialogs.choice import ChoiceDialog
from fieldlog.tui.dialogs.confirm import ConfirmDialog
from fieldlog.tui.dialogs.text import TextDialog
from fieldlog.tui.widgets.cells import add_columns, clip, text

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

# Choosing one of these with ``s`` offers the outcome dialog next (Escape skips it).
CLOSING_STATUSES = ("completed", "declined", "unreachable")


def reason_outcome(ref: dict[str, Any]) -> str:
    """The Reason column: "reason — outcome", either part alone when the other is empty."""
    return " — ".join(p for p in (ref.get("reason"), ref.get("outcome")) if p)


class DetailScreen(StoreScreen):
    """Dismisses with ``("deleted", id)``, ``("changed", id)`` or None, so lists can update."""

    BINDINGS = [
        Binding("s", "referral_status", "Status", tooltip="Change the referral's status"),
        Binding("u", "referral_outcome", "Outcome", tooltip="Set the referral's outcome"),
        Binding("r", "resolve_concern", "Resolve", tooltip="Resolve the concern"),
        Binding("x,delete", "delete_contact", "Delete"),
        Binding("e", "edit_contact", "Edit", tooltip="Edit this contact"),
        Binding("c", "add_concern", "+Concern", tooltip="Add a concern"),
        Binding("a", "add_referral", "+Referral", tooltip="Add a referral"),
        Binding("escape", "close", "Back"),
    ]

    def __init__(self, contact_id: str) -> None:
        super().__init__()
        self.contact_id = contact_id
        self.contact: dict[str, Any] | None = None
        self.changed = False

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="detail"):
            yield Static(id="fields")
            yield Static("Concerns", classes="section-title", id="concerns-title")
            yield DataTable(id="concerns", cursor_type="row")
            yield Static("Referrals", classes="section-title", id="referrals-title")
            yield DataTable(id="referrals", cursor_type="row")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "Contact"
        add_columns(
            self.query_one("#concerns", DataTable),
            [("Id", "id", None), ("Category", "category", 14), ("Priority", "priority", 8),
             ("Status", "status", 11), ("Description", "description", 24)],
        )  # fmt: skip
        add_columns(
            self.query_one("#referrals", DataTable),
            [("Id", "id", None), ("Agency", "agency", 16), ("Status", "status", 11),
             ("Follow up", "follow_up_on", 10), ("Reason — outcome", "reason", 20)],
        )  # fmt: skip
        self.reload()

    def reload(self) -> None:
        cid = self.contact_id
        self.db(lambda s: s.contacts.get(cid), self.show)

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
            if isinstance(value, list):
                value = ", ".join(str(v) for v in value)
            grid.add_row(label, Text(str(value)))  # user text as data, wrapped
        self.query_one("#fields", Static).update(grid)

        concerns = self.query_one("#concerns", DataTable)
        keep = concerns.cursor_row
        concerns.clear()
        for k in c["concerns"]:
            concerns.add_row(
                text(k["short_id"]),
                text(k["category"]),
                text(k["priority"]),
                text(k["status"], "green" if k["status"] == "resolved" else ""),
                clip(k["description"], 24),
                key=k["id"],
            )
        self.query_one("#concerns-title", Static).update(f"Concerns ({len(c['concerns'])})")
        if c["concerns"]:
            concerns.move_cursor(row=min(keep, len(c["concerns"]) - 1))

        referrals = self.query_one("#referrals", DataTable)
        keep = referrals.cursor_row
        referrals.clear()
        for r in c["referrals"]:
            referrals.add_row(
                text(r["short_id"]),
                clip(r["agency"], 16),
                text(r["status"]),
                text(r["follow_up_on"]),
                clip(reason_outcome(r), 20),
                key=r["id"],
            )
        self.query_one("#referrals-title", Static).update(f"Referrals ({len(c['referrals'])})")
        if c["referrals"]:
            referrals.move_cursor(row=min(keep, len(c["referrals"]) - 1))

    # ------------------------------------------------------------------ selection
    def _selected(self, kind: str) -> dict[str, Any] | None:
        """The row under the cursor of the concerns or referrals table."""
        if self.contact is None:
            return None
        rows = self.contact[kind]
        if not rows:
            self.notify(f"This contact has no {kind}.", severity="warning")
            return None
        table = self.query_one(f"#{kind}", DataTable)
        return rows[min(table.cursor_row, len(rows) - 1)]

    def action_referral_status(self) -> None:
        ref = self._selected("referrals")
        if ref is None:
            return
        rid = ref["id"]

        def status_saved(row: dict[str, Any]) -> None:
            self.saved(row)
            if row["status"] in CLOSING_STATUSES:
                self._ask_outcome({**ref, **row})

        def chosen(status: str | None) -> None:
            if status and status != ref["status"]:
                self.db(
                    lambda s: s.referrals.update(rid, status=status), status_saved, group="write"
                )

        title = f"Status of referral {ref['short_id']} to {ref['agency']}"
        self.app.push_screen(ChoiceDialog(title, models.REFERRAL_STATUSES, ref["status"]), chosen)

    def action_referral_outcome(self) -> None:
        ref = self._selected("referrals")
        if ref is not None:
            self._ask_outcome(ref)

    def _ask_outcome(self, ref: dict[str, Any]) -> None:
        """Edit a referral's outcome in a TextDialog; Escape (None) or no change writes nothing."""
        rid, old = ref["id"], ref.get("outcome") or ""

        def written(row: dict[str, Any]) -> None:
            self.changed = True
            self.notify(f"Saved: outcome of {row['short_id']}.", markup=False)
            self.reload()

        def typed(outcome: str | None) -> None:
            if outcome is not None and outcome != old:
                self.db(lambda s: s.referrals.update(rid, outcome=outcome), written, group="write")

        title = f"Outcome of referral {ref['short_id']} to {ref['agency']} ({ref['status']})"
        dialog = TextDialog(title, old, "What came of it?", max_length=models.MAX_TEXT)
        self.app.push_screen(dialog, typed)

    def action_resolve_concern(self) -> None:
        concern = self._selected("concerns")
        if concern is None:
            return
        if concern["status"] == "resolved":
            self.notify(f"Concern {concern['short_id']} is already resolved.")
            return
        kid = concern["id"]
        self.db(lambda s: s.concerns.update(kid, status="resolved"), self.saved, group="write")

    def saved(self, row: dict[str, Any]) -> None:
        self.changed = True
        self.notify(f"Saved: {row['short_id']} is now {row['status']}.", markup=False)
        self.reload()

    def action_delete_contact(self) -> None:
        if self.contact is None:
            return
        c = self.contact
        question = Text(f"Delete contact {c['short_id']}?\n", style="bold")
        question.append(" ".join(str(c.get("summary") or "").split())[:120], style="")
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
