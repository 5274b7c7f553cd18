"""Supervisor review: the contacts waiting for review, approved with one key or returned to
the officer with a comment.

The list comes from ``store.contacts.reviews(status)``; ``s`` steps through the statuses
(submitted first: the queue). ``a`` approves the contact under the cursor at once (``ctrl+z``
undoes it), ``r`` asks what the officer should change and returns it: the comment is
required, and Escape writes nothing. Both write through ``store.contacts.review``, so the
review is audited and synced like any edit.

Only a supervisor reviews (``fieldlog.review.may_review``: this laptop's role in the store's
trust log as last synced). Anyone else sees the list with that one line in place of the
actions, and ``a`` / ``r`` say it again instead of writing; the check runs again in the
same store call as each write, so a role lost at the last sync is honoured at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Header, Input, Label, Static
from textual.widgets.data_table import ColumnKey

from fieldlog import dates, models, review
from fieldlog.tui.base import StoreScreen
from fieldlog.tui.dialogs.text import TextDialog
from fieldlog.tui.widgets.cells import add_columns, clip, one_line, text
from fieldlog.tui.widgets.footer import KeysFooter
from fieldlog.tui.widgets.status import StatusLine
from fieldlog.tui.widgets.table import ListTable

if TYPE_CHECKING:
    from fieldlog.db.store import Store

LIMIT = 500  # a supervisor's queue fits; the CLI (``fieldlog review list``) lists them all
ACTIONS = "a approves · r returns it with a comment · Enter opens · s: {next}"
EMPTY = {
    "submitted": "Nothing waiting for review. s shows the returned and the approved.",
    "returned": "No contact is returned for changes.",
    "approved": "No contact is approved yet.",
}
TITLES = {
    "submitted": "Waiting for review",
    "returned": "Returned for changes",
    "approved": "Approved",
}
STYLES = {"submitted": "", "returned": "bold yellow", "approved": "green"}
REVIEW_ACTIONS = {"approve", "return_contact"}
# What ``s`` steps through: the queue, then what waits on the officers, then what is done.
FILTERS = ("submitted", "returned", "approved")
# The table's columns: (label, key, width); the summary takes the width the others leave.
COLUMNS = [("Id", "id", 10), ("When", "when", 10), ("Officer", "officer", 13),
           ("Hood", "hood", 10), ("Summary", "summary", 0)]  # fmt: skip


def load(store: Store, status: str) -> tuple[list[dict[str, Any]], str | None]:
    """The contacts of ``status`` (each with its ``short_id``, oldest first: the order a
    supervisor works through them) and why this laptop may not review (None: it may): one
    store call."""
    rows = store.contacts.reviews(status=status)[:LIMIT]
    return rows, review.may_review(store)


def write_review(store: Store, rid: str, make: Any) -> tuple[str, dict[str, Any]]:
    """Write the review values ``make(reviewer, now)`` to contact ``rid``, unless this laptop
    may not review: ``("refused", {"line": ...})``, else ``("done", the values before)`` (for
    the undo). The check and the write are one store call: nothing runs between them."""
    refusal = review.may_review(store)
    if refusal is not None:
        return "refused", {"line": refusal}
    before = store.contacts.get(rid)
    old = {f: before.get(f) for f in review.REVIEW_FIELDS}
    store.contacts.review(rid, make(store.officer(), dates.to_storage(dates.now())))
    return "done", old


class ReturnDialog(TextDialog):
    """The comment a returned contact goes back with: required (an empty one says so and
    stays open); Escape cancels (None: nothing is written)."""

    DEFAULT_CSS = """
    ReturnDialog .dialog-hint.-error { color: $error; }
    """

    def action_save(self) -> None:
        comment = self.query_one("#text", Input).value.strip()
        if not comment:
            hint = self.query_one(".dialog-hint", Label)
            hint.update("A comment is required: say what to change. Esc cancels.")
            hint.add_class("-error")
            return
        self.dismiss(comment)


class ReviewScreen(StoreScreen):
    """``store.contacts.reviews(status)`` as a table; approve and return keep the cursor on
    the same line (the next contact of the queue, once the reviewed one leaves it)."""

    DEFAULT_CSS = """
    ReviewScreen #rv-table { height: 1fr; }
    ReviewScreen #rv-note { padding: 0 1; height: 1; color: $text-muted; }
    ReviewScreen #rv-note.-refused { color: $warning; text-style: bold; height: auto; }
    """

    BINDINGS = [
        Binding("a", "approve", "Approve", tooltip="Approve the contact (one key)"),
        Binding(
            "r", "return_contact", "Return", tooltip="Send it back to its officer with a comment"
        ),
        Binding("s", "next_status", "Status", tooltip="Show submitted / returned / approved"),
        # On a laptop that may not review, a and r say why (the two above are off then).
        Binding("a,r", "refused", "", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.status = FILTERS[0]
        self.rows: dict[str, dict[str, Any]] = {}  # contact id -> review row
        self.refusal: str | None = None  # may_review's line, once the list is loaded
        self.loaded = False

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="rv-title", classes="section-title fl-title", markup=False)
        yield Static(id="rv-note", markup=False)
        yield ListTable(id="rv-table")
        yield Static(id="rv-detail", classes="fl-detail", markup=False)
        yield StatusLine()
        yield KeysFooter()

    def on_mount(self) -> None:
        self.sub_title = "Review"
        add_columns(
            self.query_one("#rv-table", DataTable),
            [(label, key, width or 20) for label, key, width in COLUMNS],
        )
        self.query_one("#rv-table", DataTable).focus()

    def on_screen_resume(self) -> None:
        self.refresh_data()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Approve and return leave the footer when this laptop may not review; their keys
        then say why (``action_refused``)."""
        if action in REVIEW_ACTIONS and self.refusal is not None:
            return False
        if action == "refused":
            return self.refusal is not None
        return True

    # ------------------------------------------------------------------ loading
    def refresh_data(self) -> None:
        self.stale = False
        self.reload()

    def reload(self) -> None:
        status = self.status
        self.db(lambda s: load(s, status), self.show)

    def show(self, result: tuple[list[dict[str, Any]], str | None]) -> None:
        rows, refusal = result
        self.refusal = refusal
        self.rows = {r["id"]: r for r in rows}
        self.fill_table()
        title = f"{TITLES[self.status]} ({len(rows):,}{'+' if len(rows) >= LIMIT else ''})"
        self.query_one("#rv-title", Static).update(title if rows else EMPTY[self.status])
        note = self.query_one("#rv-note", Static)
        note.set_class(refusal is not None, "-refused")
        note.update(refusal if refusal is not None else ACTIONS.format(next=self.next_status()))
        self.refresh_bindings()
        self.show_detail()
        self.loaded = True

    def on_resize(self) -> None:
        self.fill_table()

    def fill_table(self) -> None:
        """The rows, the summary taking the free width (a wider terminal shows more)."""
        table = self.query_one("#rv-table", ListTable)
        fixed = sum(w for _, _, w in COLUMNS) + 2 * table.cell_padding * len(COLUMNS)
        wide = max(12, (table.size.width or self.app.size.width) - fixed - 2)
        table.columns[ColumnKey("summary")].width = wide
        table.replace_rows(
            (
                r["id"],
                [
                    text(r["short_id"]),
                    text(dates.show_local(r["occurred_at"])[:10] if r["occurred_at"] else ""),
                    clip(r["officer"], 13),
                    clip(r["neighborhood"], 10),
                    clip(r["summary"], wide),
                ],
            )
            for r in self.rows.values()
        )

    def next_status(self) -> str:
        return FILTERS[(FILTERS.index(self.status) + 1) % len(FILTERS)]

    def current(self) -> dict[str, Any] | None:
        key = self.query_one("#rv-table", ListTable).cursor_key
        return self.rows.get(key) if key else None

    @on(DataTable.RowHighlighted, "#rv-table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.show_detail()

    def show_detail(self) -> None:
        """The contact under the cursor: its whole summary, then its review (who, when, the
        comment), each one line."""
        r = self.current()
        out = Text(no_wrap=True, overflow="ellipsis")
        if r is not None:
            out.append(f"{r['short_id']}  ", style="dim")
            out.append_text(text(r["summary"]))
            out.append("\n")
            out.append_text(review_line(r))
        self.query_one("#rv-detail", Static).update(out)

    # ------------------------------------------------------------------ actions
    def action_refused(self) -> None:
        self.notify(self.refusal or "", severity="warning", markup=False)

    def action_next_status(self) -> None:
        self.status = self.next_status()
        self.reload()

    def action_approve(self) -> None:
        r = self.current()
        if r is None:
            self.notify("No contact to approve here.", severity="warning")
            return
        self._write(r, review.approve_values, f"Approved contact {r['short_id']}.", "approve")

    def action_return_contact(self) -> None:
        r = self.current()
        if r is None:
            self.notify("No contact to return here.", severity="warning")
            return

        def typed(comment: str | None) -> None:
            if not comment:
                return  # Escape: nothing written

            def make(reviewer: str, now: str) -> dict[str, Any]:
                return review.return_values(reviewer, comment, now)

            said = f"Returned contact {r['short_id']} to {one_line(r['officer'])}."
            self._write(r, make, said, "return")

        title = f"Return contact {r['short_id']} to {one_line(r['officer'])}: what should change?"
        dialog = ReturnDialog(
            title,
            r.get("review_comment") or "",
            "What the officer should change",
            max_length=models.MAX_TEXT,
            hint="Enter returns it · Esc cancels, nothing written",
        )
        self.app.push_screen(dialog, typed)

    def _write(self, r: dict[str, Any], make: Any, said: str, verb: str) -> None:
        """One review write in a worker, then its undo offered (the review fields as they
        were) and the list again (the contact leaves the queue; the cursor stays)."""
        rid, short = r["id"], r["short_id"]

        def done(result: tuple[str, dict[str, Any]]) -> None:
            outcome, old = result
            if outcome == "refused":
                self.notify(old["line"], severity="warning", markup=False)
                self.reload()
                return
            self.remember_undo(f"{verb} contact {short}", lambda s: s.contacts.review(rid, old))
            self.notify(f"{said} ctrl+z undoes.", markup=False)
            self.reload()

        self.db(lambda s: write_review(s, rid, make), done, group="write")

    @on(DataTable.RowSelected, "#rv-table")
    def _selected(self, event: DataTable.RowSelected) -> None:
        self.fl_app.open_record("contact", str(event.row_key.value))


def review_line(r: dict[str, Any]) -> Text:
    """A contact's review in one line: "returned by Sgt. Kim 2026-11-25 10:02: comment",
    "not reviewed yet", or "submitted again after: comment" (an edited returned contact)."""
    out = Text()
    status = r.get("review_status") or review.STATUSES[0]
    by, when, comment = r.get("reviewed_by"), r.get("reviewed_at"), r.get("review_comment")
    if status == "submitted" and not by:
        out.append("not reviewed yet", style="dim")
        return out
    if status == "submitted":
        out.append("submitted again", style="bold")
        out.append(f" (was reviewed by {one_line(by)} {dates.show_local(when)})" if when else "")
    else:
        out.append(status, style=STYLES.get(status, ""))
        if by:
            out.append(f" by {one_line(by)}")
        if when:
            out.append(f" {dates.show_local(when)}")
    if comment:
        out.append(": ")
        out.append_text(text(comment, "italic"))
    return out
