"""One concern or one referral on a screen of its own: the whole text, wrapped, with its
contact and the records linked to it; edit, resolve or complete, and undo.

Also what the contact detail and the follow-ups share with these screens: the one-key writes
that can be undone (:func:`write_undoable`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Header, Static
from textual.widgets.data_table import ColumnKey

from fieldlog import dates, models
from fieldlog.errors import NotFoundError
from fieldlog.tui.base import StoreScreen
from fieldlog.tui.dialogs.choice import ChoiceDialog
from fieldlog.tui.dialogs.text import TextDialog
from fieldlog.tui.widgets.cells import clip, one_line, shown, text, wrapped
from fieldlog.tui.widgets.footer import KeysFooter
from fieldlog.tui.widgets.status import StatusLine
from fieldlog.tui.widgets.table import ListTable

if TYPE_CHECKING:
    from fieldlog.db.store import Store

Row = dict[str, Any]

LINK_ROWS = 6  # linked records shown at once; more scroll (the text above keeps the room)

# Choosing one of these asks the referral's outcome next (Escape: none).
CLOSING_STATUSES = ("completed", "declined", "unreachable")


# ---------------------------------------------------------------------- undoable writes
# What a one-key action can change on each table, so its undo puts all of it back.
STATE = {
    "concerns": ("status", "resolution", "resolved_at"),
    "referrals": ("status", "outcome", "follow_up_on"),
    "contacts": ("follow_up_on",),
}


def update(store: Store, table: str, rid: str, values: Mapping[str, Any]) -> Row:
    """The store's own update method of ``table`` (its rules apply, undo included)."""
    if table == "concerns":
        return store.concerns.update(rid, **values)
    if table == "referrals":
        return store.referrals.update(rid, **values)
    if table == "contacts":
        return store.contacts.update(rid, values)
    raise ValueError(table)


def write_undoable(
    screen: StoreScreen,
    table: str,
    rid: str,
    values: Mapping[str, Any],
    label: str,
    then: Callable[[Row], None],
) -> None:
    """Write ``values`` to record ``rid``, then offer its undo (``u`` / ``ctrl+z``): the
    record as it was is read in the same store call, and the undo writes its old values back
    through the same update method (``label`` says what it undoes, e.g. "resolve concern
    01a05d")."""
    values = dict(values)

    def call(s: Store) -> tuple[Row, Row]:
        before = s.records.get(table, rid)
        return before, update(s, table, rid, values)

    def done(result: tuple[Row, Row]) -> None:
        before, after = result
        old = {f: before.get(f) for f in (*STATE[table], *values)}
        screen.remember_undo(label, lambda s: update(s, table, rid, old))
        then(after)

    screen.db(call, done, group="write")


def ask_outcome(
    screen: StoreScreen, ref: Mapping[str, Any], status: str, then: Callable[[str | None], None]
) -> None:
    """The outcome of a referral that is being closed with ``status``; ``then`` gets the text
    (None: Escape, or nothing typed)."""
    agency = one_line(ref.get("agency") or ref.get("subject"))
    title = f"Referral {ref['short_id']} to {agency}: {status}. What came of it?"
    old = ref.get("outcome") or ""
    hint = f"Enter saves · Esc: {status}, outcome unchanged"

    def typed(outcome: str | None) -> None:
        then(outcome or None)

    dialog = TextDialog(title, old, "The outcome", max_length=models.MAX_TEXT, hint=hint)
    screen.app.push_screen(dialog, typed)


def close_referral(
    screen: StoreScreen,
    ref: Mapping[str, Any],
    status: str,
    then: Callable[[Row], None],
) -> None:
    """Close a referral with ``status`` and ask its outcome: one write of both once the
    outcome dialog is answered (Escape closes it without one), so one undo reopens it."""

    def answered(outcome: str | None) -> None:
        values: dict[str, Any] = {"status": status}
        if outcome is not None and outcome != (ref.get("outcome") or ""):
            values["outcome"] = outcome
        label = f"close referral {ref['short_id']} as {status}"
        write_undoable(screen, "referrals", ref["id"], values, label, then)

    ask_outcome(screen, ref, status, answered)


# ---------------------------------------------------------------------- the screens
def field_grid(rows: Iterable[tuple[str, Any]]) -> Table:
    """Label / value lines; values are user text shown as data and wrapped, never cut,
    control characters as visible escapes (a Text given is built with :func:`wrapped`)."""
    grid = Table.grid(padding=(0, 1), expand=True)
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(ratio=1, overflow="fold")
    for label, value in rows:
        shown = value.plain if isinstance(value, Text) else str(value or "")
        if not shown:
            continue  # an empty field takes no line
        grid.add_row(label, value if isinstance(value, Text) else wrapped(value))
    return grid


def contact_line(r: Mapping[str, Any]) -> str:
    """A record's contact in one line: summary, person or organization, neighborhood."""
    who = ", ".join(
        one_line(v)
        for v in (r.get("person_name") or r.get("contact_organization"), r.get("neighborhood"))
        if v
    )
    return one_line(r.get("contact_summary")) + (f" — {who}" if who else "")


class RecordScreen(StoreScreen):
    """What the concern and referral screens share: the record's fields over a table of the
    records it links to (its contact first); Enter opens the row under the cursor.

    Dismisses with ``("changed", id)`` when something was written, else None. The keys are
    each screen's own (Help lists a screen's own BINDINGS)."""

    TABLE = ""
    NOUN = ""
    AUTO_FOCUS = "#rec-links"

    def __init__(self, record_id: str) -> None:
        super().__init__()
        self.record_id = record_id
        self.record: Row | None = None
        self.links: dict[str, tuple[str, str]] = {}  # row key -> (noun, id)
        self.links_shown: list[tuple[str, str, str, list[Any]]] = []
        self.changed = False

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="rec-body"):
            yield Static(id="rec-fields")
        yield Static("Linked", id="rec-links-title", classes="section-title rec-title")
        yield ListTable(id="rec-links")
        yield StatusLine()
        yield KeysFooter()

    def on_mount(self) -> None:
        self.sub_title = self.NOUN.capitalize()
        table = self.query_one("#rec-links", ListTable)
        table.add_column("What", key="what", width=8)
        table.add_column("Id", key="id", width=10)
        table.add_column("Status/day", key="status", width=11)
        table.add_column("About", key="about", width=40)

    def on_screen_resume(self) -> None:
        self.refresh_data()  # first shown, or back from the contact (it may have changed)

    def refresh_data(self) -> None:
        self.stale = False
        self.reload()

    def reload(self) -> None:
        rid, table = self.record_id, self.TABLE

        def call(s: Store) -> Row | None:
            try:
                return s.concerns.get(rid) if table == "concerns" else s.referrals.get(rid)
            except NotFoundError:
                return None  # deleted meanwhile (the CLI, a sync)

        self.db(call, self.show)

    def show(self, record: Row | None) -> None:
        if record is None:
            if not self.is_active:  # a dialog is open over it: when it is shown again
                self.stale = True
                return
            self.notify(f"This {self.NOUN} was deleted.", severity="warning")
            self.dismiss(("changed", self.record_id))
            return
        self.record = record
        self.sub_title = f"{self.NOUN.capitalize()} {record['short_id']}"
        self.query_one("#rec-fields", Static).update(self.fields(record))
        self.links_shown = list(self.link_rows(record))
        self.links = {key: (noun, rid) for key, noun, rid, _ in self.links_shown}
        self.fill_links()

    def on_resize(self) -> None:
        if self.record is not None:
            self.fill_links()

    def fill_links(self) -> None:
        """The linked records, the About column taking the width the others leave."""
        table = self.query_one("#rec-links", ListTable)
        links = self.links_shown
        id_width = max([2, *(len(cells[1]) for _, _, _, cells in links)])
        visible = min(len(links), LINK_ROWS)
        scrollbar = 2 if len(links) > visible else 0
        fixed = 8 + id_width + 11 + 2 * table.cell_padding * 4 + scrollbar
        about = max(10, (self.size.width or self.app.size.width) - fixed)
        table.columns[ColumnKey("id")].width = id_width
        table.columns[ColumnKey("about")].width = about
        table.replace_rows(
            (key, [cells[0], cells[1], cells[2], clip(cells[3], about)])
            for key, _, _, cells in links
        )
        table.styles.height = visible + 1

    def fields(self, record: Row) -> Group:
        raise NotImplementedError

    def link_rows(self, record: Row) -> Iterable[tuple[str, str, str, list[Any]]]:
        """(row key, noun, id, cells) for the linked records, the contact first."""
        yield (
            f"contact:{record['contact_id']}",
            "contact",
            record["contact_id"],
            [
                Text("contact"),
                text(record["contact_short_id"]),
                Text(dates.show_local(record.get("contact_occurred_at"))[:10]),  # its day
                contact_line(record),
            ],
        )

    def when(self, record: Row, label: str) -> list[tuple[str, Any]]:
        """When it was raised or made (its contact's time) and, if another day, when it was
        written down (added to the contact later)."""
        at = dates.show_local(record.get("contact_occurred_at"))
        logged = dates.show_local(record.get("created_at"))
        return [(label, at), ("Logged", logged if logged[:10] != at[:10] else "")]

    def stamp(self, record: Row) -> list[tuple[str, Any]]:
        return [
            ("Officer", record.get("officer")),
            ("Id", record["id"]),
            ("Updated", dates.show_local(record.get("updated_at"))),
        ]

    # ------------------------------------------------------------------ actions
    @on(DataTable.RowSelected, "#rec-links")
    def _selected(self, event: DataTable.RowSelected) -> None:
        self.open_link(str(event.row_key.value))

    def action_open(self) -> None:
        key = self.query_one("#rec-links", ListTable).cursor_key
        if key is not None:
            self.open_link(key)

    def open_link(self, key: str) -> None:
        link = self.links.get(key)
        if link is None:
            return
        self.fl_app.open_record(link[0], link[1], self._came_back)

    def _came_back(self, result: Any) -> None:
        if result:  # the contact was edited or deleted: resuming reloads (or closes) this
            self.changed = True

    def action_close(self) -> None:
        self.dismiss(("changed", self.record_id) if self.changed else None)

    def saved(self, row: Row, message: str) -> None:
        self.changed = True
        self.notify(message, markup=False)
        self.reload()

    def ask_status(self, choices: tuple[str, ...], then: Callable[[str], None]) -> None:
        r = self.record
        if r is None:
            return

        def chosen(status: str | None) -> None:
            if status and status != r["status"]:
                then(status)

        title = f"Status of {self.NOUN} {r['short_id']}"
        self.app.push_screen(ChoiceDialog(title, choices, r["status"]), chosen)


class ConcernScreen(RecordScreen):
    """A concern in full: category, priority, status, its dates, description and resolution
    wrapped, its contact and the referrals made for it."""

    TABLE = "concerns"
    NOUN = "concern"
    BINDINGS = [
        Binding("e", "edit", "Edit", tooltip="Edit status, priority, resolution"),
        Binding("r", "resolve", "Resolve", tooltip="Resolve the concern (u undoes)"),
        Binding("s", "status", "Status", tooltip="Change the concern's status"),
        Binding("enter", "open", "Open", show=False, tooltip="Open the contact or referral"),
        Binding("escape", "close", "Back", show=False, tooltip="Back to the screen before"),
    ]

    def fields(self, k: Row) -> Group:
        status = wrapped(k["status"], style="green" if k["status"] == "resolved" else "")
        if k.get("resolved_at") and k["status"] == "resolved":
            status.append(f" on {dates.show_local(k['resolved_at'])}")
        priority = wrapped(k["priority"], style="bold red" if k["priority"] == "urgent" else "")
        grid = field_grid(
            [
                ("Category", shown(k["category"]).replace("_", " ")),
                ("Priority", priority),
                ("Status", status),
                *self.when(k, "Opened"),
                ("Description", wrapped(k.get("description"))),
                ("Resolution", wrapped(k.get("resolution"))),
                *self.stamp(k),
            ]
        )
        return Group(grid)

    def link_rows(self, record: Row) -> Iterable[tuple[str, str, str, list[Any]]]:
        yield from super().link_rows(record)
        for r in record["referrals"]:
            about = f"{one_line(r['agency'])}: {one_line(r.get('reason'))}".rstrip(": ")
            yield (
                f"referral:{r['id']}",
                "referral",
                r["id"],
                [Text("referral"), text(r["short_id"]), text(r["status"]), about],
            )

    def show(self, record: Row | None) -> None:
        super().show(record)
        if record is not None:
            n = len(record["referrals"])
            self.query_one("#rec-links-title", Static).update(
                f"Its contact and {n} referral{'s' if n != 1 else ''} (Enter opens)"
            )

    def action_edit(self) -> None:
        from fieldlog.tui.dialogs.concern_edit import ConcernEditDialog

        k = self.record
        if k is None:
            return

        def edited(values: dict[str, Any] | None) -> None:
            if values:
                write_undoable(
                    self,
                    "concerns",
                    k["id"],
                    values,
                    f"edit concern {k['short_id']}",
                    lambda row: self.saved(row, f"Saved concern {row['short_id']}."),
                )

        self.app.push_screen(ConcernEditDialog(k), edited)

    def action_resolve(self) -> None:
        k = self.record
        if k is None:
            return
        if k["status"] == "resolved":
            self.notify(f"Concern {k['short_id']} is already resolved.")
            return
        write_undoable(
            self,
            "concerns",
            k["id"],
            {"status": "resolved"},
            f"resolve concern {k['short_id']}",
            lambda row: self.saved(
                row, f"Resolved concern {row['short_id']}. e adds how; u undoes."
            ),
        )

    def action_status(self) -> None:
        k = self.record
        if k is None:
            return

        def chosen(status: str) -> None:
            write_undoable(
                self,
                "concerns",
                k["id"],
                {"status": status},
                f"status of concern {k['short_id']}",
                lambda row: self.saved(row, f"Concern {row['short_id']} is now {status}."),
            )

        self.ask_status(models.CONCERN_STATUSES, chosen)


class ReferralScreen(RecordScreen):
    """A referral in full: agency, service, status, follow-up date, reason and outcome
    wrapped, its contact and the concern it answers."""

    TABLE = "referrals"
    NOUN = "referral"
    BINDINGS = [
        Binding("e", "edit", "Edit", tooltip="Edit status, outcome, follow-up date"),
        Binding("m", "done", "Done", tooltip="Mark it completed and give its outcome"),
        Binding("s", "status", "Status", tooltip="Change the referral's status"),
        Binding("enter", "open", "Open", show=False, tooltip="Open the contact or concern"),
        Binding("escape", "close", "Back", show=False, tooltip="Back to the screen before"),
    ]

    def fields(self, r: Row) -> Group:
        status = wrapped(r["status"], style="green" if r["status"] == "completed" else "")
        follow = wrapped(r.get("follow_up_on"))
        if r.get("follow_up_on") and r["status"] in models.REFERRAL_OPEN_STATUSES:
            if r["follow_up_on"] < dates.today_local():
                follow.append("  overdue", style="bold red")
        grid = field_grid(
            [
                ("Agency", r["agency"]),
                ("Service", shown(r.get("service")).replace("_", " ")),
                ("Status", status),
                ("Follow up on", follow),
                *self.when(r, "Made"),
                ("Reason", wrapped(r.get("reason"))),
                ("Outcome", wrapped(r.get("outcome"))),
                *self.stamp(r),
            ]
        )
        return Group(grid)

    def link_rows(self, record: Row) -> Iterable[tuple[str, str, str, list[Any]]]:
        yield from super().link_rows(record)
        k = record.get("concern")
        if k:
            about = f"{one_line(k['category']).replace('_', ' ')}: {one_line(k['description'])}"
            yield (
                f"concern:{k['id']}",
                "concern",
                k["id"],
                [Text("concern"), text(k["short_id"]), text(k["status"]), about],
            )

    def show(self, record: Row | None) -> None:
        super().show(record)
        if record is not None:
            what = (
                "its contact and the concern it answers"
                if record.get("concern")
                else ("its contact")
            )
            self.query_one("#rec-links-title", Static).update(
                f"{what[0].upper()}{what[1:]} (Enter opens)"
            )

    def action_edit(self) -> None:
        from fieldlog.tui.dialogs.referral_edit import ReferralEditDialog

        r = self.record
        if r is None:
            return

        def edited(values: dict[str, Any] | None) -> None:
            if values:
                write_undoable(
                    self,
                    "referrals",
                    r["id"],
                    values,
                    f"edit referral {r['short_id']}",
                    lambda row: self.saved(row, f"Saved referral {row['short_id']}."),
                )

        self.app.push_screen(ReferralEditDialog(r), edited)

    def action_done(self) -> None:
        r = self.record
        if r is None:
            return
        if r["status"] == "completed":
            self.notify(f"Referral {r['short_id']} is already completed: e edits its outcome.")
            return
        close_referral(
            self,
            r,
            "completed",
            lambda row: self.saved(row, f"Referral {row['short_id']} completed; u undoes."),
        )

    def action_status(self) -> None:
        r = self.record
        if r is None:
            return

        def chosen(status: str) -> None:
            said = lambda row: self.saved(  # noqa: E731
                row, f"Referral {row['short_id']} is now {row['status']}."
            )
            if status in CLOSING_STATUSES:
                close_referral(self, r, status, said)
            else:
                label = f"status of referral {r['short_id']}"
                write_undoable(self, "referrals", r["id"], {"status": status}, label, said)

        self.ask_status(models.REFERRAL_STATUSES, chosen)
