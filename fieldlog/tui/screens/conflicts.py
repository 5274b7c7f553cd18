"""Sync conflicts: a field changed on this laptop and elsewhere; the officer picks what stays.

``fieldlog sync`` keeps one value by itself (the later edit) and files the other here.
Keeping mine or theirs, or a typed value, marks the conflict resolved; a value other than the
one sync kept is saved as a new edit, so the next sync sends it everywhere.
"""

from __future__ import annotations

import json
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Header, Static

from fieldlog import dates, records
from fieldlog.db.store import NO_DATE
from fieldlog.errors import NotFoundError, ValidationError
from fieldlog.text import printable
from fieldlog.tui.base import StoreScreen
from fieldlog.tui.dialogs.choice import ChoiceDialog
from fieldlog.tui.dialogs.text import TextDialog
from fieldlog.tui.widgets.cells import add_columns, clip, text
from fieldlog.tui.widgets.footer import KeysFooter
from fieldlog.tui.widgets.status import StatusLine
from fieldlog.tui.widgets.table import ListTable

EMPTY = (
    "Nothing to resolve: no sync conflicts.\n\n"
    "When fieldlog sync finds a field changed both on this laptop and on another one, it keeps "
    "the later edit and lists the field here: press m to keep mine, t theirs, e to type "
    "the value."
)
RECORD = {  # what the table calls each record type (the TUI says "partner" for organizations)
    "contacts": "contact",
    "concerns": "concern",
    "referrals": "referral",
    "organizations": "partner",
}
WHEN_FIELDS = {"occurred_at", "resolved_at"}  # stored as UTC date-times
DAY_FIELDS = {"follow_up_on", "last_verified"}  # stored as local days
LINK_FIELDS = {"contact_id", "concern_id", "organization_id"}  # ids of other records
KEEP_MINE, KEEP_THEIRS, TYPE_VALUE, OPEN = (
    "keep mine",
    "keep theirs",
    "type a value",
    "open the contact",
)


def show_value(field: str, value: Any) -> str:
    """A stored value as an officer reads it: lists joined, times local, deletes in words."""
    if field == "deleted":
        return "deleted" if value else "not deleted"
    if field in records.LIST_FIELDS and isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            pass
    if isinstance(value, list):
        value = ", ".join(str(v) for v in value)
    if value is None or value == "":
        return "(empty)"
    if field in WHEN_FIELDS and isinstance(value, str):
        try:
            return dates.show_local(value)
        except ValueError:
            return value
    return str(value)


def edit_value(field: str, value: Any) -> str:
    """The value to start typing from (``show_value`` without the words for empty)."""
    shown = show_value(field, value)
    return "" if shown == "(empty)" else shown


def typed_value(field: str, typed: str) -> Any:
    """What the officer typed, as ``resolve_conflict`` takes it: dates parsed as the forms
    parse them, a list field as a list (``a, b`` splits). Raises ValidationError for a field
    that cannot be typed."""
    if field == "deleted":
        raise ValidationError(
            field, "A record deleted on one side and edited on the other: press m or t."
        )
    if field in LINK_FIELDS:
        raise ValidationError(field, "A link to another record is not typed: press m or t.")
    if field in WHEN_FIELDS:
        if field == "resolved_at" and typed.lower() in NO_DATE:
            return None
        return dates.to_storage(dates.parse_when(typed, field=field.replace("_", " ")).at)
    if field in DAY_FIELDS:
        if typed.lower() in NO_DATE:
            return None
        return dates.parse_day(typed, future=field == "follow_up_on", field="date")
    if field in records.LIST_FIELDS:
        return [typed]
    return typed


def short(value: str, width: int = 48) -> str:
    """One line of at most ``width`` characters, for a dialog's title."""
    value = " ".join(value.split())
    return value if len(value) <= width else value[: width - 1] + "…"


def record_label(c: dict[str, Any]) -> str:
    return f"{RECORD.get(c['tbl'], c['tbl'])} {c.get('short_id') or c['row_id'][:10]}"


def load_conflicts(store: Any) -> list[dict[str, Any]]:
    """Unresolved conflicts with the short id of their record and, for concerns and
    referrals, the contact they belong to (None when it is gone)."""
    rows = store.conflicts.list()
    for c in rows:
        c["short_id"] = store.records.short_id(c["tbl"], c["row_id"])
        c["contact_id"] = c["row_id"] if c["tbl"] == "contacts" else None
        parent = records.get(c["tbl"]).parent
        if parent is not None and parent[0] == "contacts":
            try:
                c["contact_id"] = store.records.get(c["tbl"], c["row_id"])[parent[1]]
            except NotFoundError:  # purged since: the conflict is still listed
                c["contact_id"] = None
    return rows


class ConflictsScreen(StoreScreen):
    """``store.conflicts.list()`` as a table; m, t, e or Enter resolve the row under the cursor."""

    BINDINGS = [
        # Short labels: the footer fits 80 columns (the tooltip and Help say it in full).
        Binding("m", "keep('mine')", "Mine", tooltip="Keep this laptop's value"),
        Binding("t", "keep('theirs')", "Theirs", tooltip="Keep the other laptop's value"),
        Binding("e", "type_value", "Type value", tooltip="Type the value to keep"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, dict[str, Any]] = {}  # row key (conflict id) -> conflict

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="cf-title", classes="section-title fl-title", markup=False)
        yield ListTable(id="cf-table")
        yield Static(id="cf-detail", markup=False)
        yield StatusLine()
        yield KeysFooter()

    def on_mount(self) -> None:
        self.sub_title = "Sync conflicts"
        add_columns(
            self.query_one("#cf-table", ListTable),
            [("Record", "record", 19), ("Field", "field", 10), ("Mine", "mine", 11),
             ("Theirs", "theirs", 11), ("Kept", "kept", 6), ("From", "from", 9)],
        )  # fmt: skip
        self.query_one("#cf-table", ListTable).focus()

    def on_screen_resume(self) -> None:
        self.reload()

    # ------------------------------------------------------------------ loading
    def reload(self) -> None:
        self.db(load_conflicts, self.show)

    def show(self, rows: list[dict[str, Any]]) -> None:
        """The conflicts, the cursor staying on its conflict (the next one once resolved)."""
        table = self.query_one("#cf-table", ListTable)
        self.rows = {str(c["id"]): c for c in rows}
        table.replace_rows(
            (
                str(c["id"]),
                (
                    clip(record_label(c), 19),
                    clip(c["field"].replace("_", " "), 10),
                    self.value_cell(c, "mine", 11),
                    self.value_cell(c, "theirs", 11),
                    Text(printable(str(c["kept"]), newlines=False)),
                    clip(c["theirs_officer"], 9),
                ),
            )
            for c in rows
        )
        table.display = bool(rows)
        if rows and self.focused is None:
            table.focus()
        self.query_one("#cf-detail", Static).display = bool(rows)
        if not rows:
            title = EMPTY
        else:
            n = len(rows)
            title = (
                f"{n} sync conflict{'s' if n != 1 else ''} to resolve: "
                "m keeps mine, t theirs, e types a value"
            )
        self.query_one("#cf-title", Static).update(title)
        self.set_class(not rows, "-empty")
        self.show_detail()

    @staticmethod
    def value_cell(c: dict[str, Any], side: str, width: int) -> Text:
        cell = clip(show_value(c["field"], c[side]), width)
        if c["kept"] == side:
            cell.stylize("bold")
        return cell

    def current_key(self) -> str | None:
        return self.query_one("#cf-table", ListTable).cursor_key

    def current(self) -> dict[str, Any] | None:
        key = self.current_key()
        return self.rows.get(key) if key else None

    @on(DataTable.RowHighlighted, "#cf-table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.show_detail()

    def show_detail(self) -> None:
        c = self.current()
        out = Text(no_wrap=True, overflow="ellipsis")
        if c is not None:
            out.append(f"{printable(record_label(c), newlines=False)}  ", style="bold")
            out.append(f"{printable(c['field'], newlines=False)}  ")
            out.append("from ", style="dim")
            out.append_text(text(c["theirs_officer"] or "another laptop"))
            out.append(f", found {dates.show_local(c['found_at'])}", style="dim")
            for side, label in (("mine", "Mine   "), ("theirs", "Theirs ")):
                out.append(f"\n{label}", style="dim")
                out.append_text(text(show_value(c["field"], c[side])))
                if c["kept"] == side:
                    out.append("  (kept by sync)", style="dim")
        self.query_one("#cf-detail", Static).update(out)

    # ------------------------------------------------------------------ actions
    def action_keep(self, side: str) -> None:
        c = self.current()
        if c is not None:
            self.resolve(c, side)

    def action_type_value(self) -> None:
        c = self.current()
        if c is not None:
            self.ask_value(c)

    def ask_value(self, c: dict[str, Any]) -> None:
        if c["field"] == "deleted" or c["field"] in LINK_FIELDS:
            try:
                typed_value(c["field"], "")
            except ValidationError as err:
                self.notify(str(err), severity="warning", markup=False)
            return

        def typed(value: str | None) -> None:
            if value is None:
                return
            try:
                typed_value(c["field"], value)  # checked here for a quick message
            except ValidationError as err:
                self.notify(str(err), severity="error", markup=False)
                return
            self.resolve(c, value, shown=value)  # the store reads it as the edit commands do

        current = c[c["kept"]] if c["kept"] in ("mine", "theirs") else None
        hint = "comma-separated" if c["field"] in records.LIST_FIELDS else ""
        if c["field"] in WHEN_FIELDS | DAY_FIELDS:
            hint = "e.g. friday, 2026-05-01, none"
        title = printable(f"Value to keep for {c['field']} of the {record_label(c)}")
        self.app.push_screen(
            TextDialog(title, edit_value(c["field"], current), placeholder=hint), typed
        )

    def resolve(self, c: dict[str, Any], keep: Any, *, shown: str | None = None) -> None:
        """``keep``: ``mine``, ``theirs`` or a typed value (``shown``: as it was typed)."""
        if keep in ("mine", "theirs") and shown is None:
            value = show_value(c["field"], c[keep])
            how = "already in place" if keep == c["kept"] else "saved, sent with your next sync"
            message = f"{record_label(c)} {c['field']}: kept {keep} ({value}), {how}."
        else:
            message = (
                f"{record_label(c)} {c['field']}: set to {shown or '(empty)'}, "
                "saved, sent with your next sync."
            )

        def then(_: Any) -> None:
            self.notify(message, markup=False)
            self.reload()

        self.db(lambda s: s.conflicts.resolve(c["id"], keep), then, group="write")

    @on(DataTable.RowSelected, "#cf-table")
    def _selected(self, event: DataTable.RowSelected) -> None:
        c = self.rows.get(str(event.row_key.value))
        if c is None:
            return
        choices = [KEEP_MINE, KEEP_THEIRS]
        if c["field"] != "deleted" and c["field"] not in LINK_FIELDS:
            choices.append(TYPE_VALUE)
        if c["contact_id"]:
            choices.append(OPEN)
        mine, theirs = (short(show_value(c["field"], c[side])) for side in ("mine", "theirs"))
        title = printable(f"{record_label(c)}, {c['field']}:\nmine   {mine}\ntheirs {theirs}")

        def chosen(choice: str | None) -> None:
            if choice == KEEP_MINE:
                self.resolve(c, "mine")
            elif choice == KEEP_THEIRS:
                self.resolve(c, "theirs")
            elif choice == TYPE_VALUE:
                self.ask_value(c)
            elif choice == OPEN:
                from fieldlog.tui.screens.detail import DetailScreen

                self.app.push_screen(DetailScreen(c["contact_id"]))

        self.app.push_screen(ChoiceDialog(title, choices, KEEP_MINE), chosen)
