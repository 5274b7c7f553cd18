"""The partner directory: community organizations, what they offer, and their upkeep (last
contact, contacts and referrals of the last 90 days, open referrals, verified within a year:
:mod:`fieldlog.partners`, docs/partners.md)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.text import Text
from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Header, Static

from fieldlog import partners
from fieldlog.text import plural
from fieldlog.tui.base import StoreScreen, run_store
from fieldlog.tui.dialogs.org_form import OrgForm
from fieldlog.tui.widgets.cells import add_columns, clip, text
from fieldlog.tui.widgets.footer import KeysFooter
from fieldlog.tui.widgets.status import StatusLine
from fieldlog.tui.widgets.table import ListTable

EMPTY = "No partners yet: press a to add a partner."


def open_org(app: App[Any], org_id: str, then: Callable[[Any], None] | None = None) -> None:
    """Open partner ``org_id`` (an id or short id) in its form, where every field shows and
    can be edited: what a search hit or a palette command opens. ``then`` gets the saved id,
    or None when the officer closed it unchanged. A partner gone since is a notification."""

    def opened(org: dict[str, Any]) -> None:
        def closed(saved: str | None) -> None:
            if saved is not None:
                app.notify("Partner saved.")
            if then is not None:
                then(saved)

        app.push_screen(OrgForm(org), closed)

    run_store(app, lambda s: s.orgs.get(org_id), opened, group="open-org")


class OrgsScreen(StoreScreen):
    """``store.orgs.list()`` with each partner's upkeep figures; ``a`` adds, ``e``/Enter edit."""

    BINDINGS = [
        Binding("a", "add", "Add partner", tooltip="Add a partner organization"),
        Binding("e", "edit", "Edit", tooltip="Edit the partner under the cursor"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.orgs: dict[str, dict[str, Any]] = {}
        self.select_next: str | None = None  # a partner just saved: put the cursor on it

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="orgs-title", classes="section-title fl-title", markup=False)
        yield ListTable(id="orgs-table")
        yield Static(id="orgs-detail", classes="fl-detail", markup=False)
        yield StatusLine()
        yield KeysFooter()

    def on_mount(self) -> None:
        self.sub_title = "Partners"
        add_columns(
            self.query_one("#orgs-table", ListTable),
            [("Name", "name", 22), ("Hood", "hood", 10), ("Last contact", "last", 12),
             ("C90", "c90", 3), ("R90", "r90", 3), ("Open", "open", 4), ("Verif.", "verified", 6)],
        )  # fmt: skip
        self.query_one("#orgs-table", ListTable).focus()

    def on_screen_resume(self) -> None:
        self.reload()

    def reload(self) -> None:
        self.db(lambda s: partners.upkeep(s), self.show)

    def show(self, rows: list[dict[str, Any]]) -> None:
        """The partners, the cursor staying on its partner (or going to one just saved)."""
        table = self.query_one("#orgs-table", ListTable)
        self.orgs = {r["id"]: r for r in rows}
        table.replace_rows((r["id"], self.cells(r)) for r in rows)
        if self.select_next in self.orgs:
            table.move_cursor(row=table.get_row_index(self.select_next), animate=False)
        self.select_next = None
        active = sum(1 for r in rows if r["status"] == "active")
        self.query_one("#orgs-title", Static).update(
            f"Partner directory: {plural(len(rows), 'organization')}, {active} active"
            if rows
            else EMPTY
        )
        table.display = bool(rows)
        if rows and self.focused is None:
            table.focus()  # shown again (the first partner was just added)
        self.query_one("#orgs-detail", Static).display = bool(rows)
        self.set_class(not rows, "-empty")
        self.show_detail()

    @staticmethod
    def cells(r: dict[str, Any]) -> list[Text]:
        shown = partners.display(r)
        cells = [
            clip(r["name"], 22),
            clip(r["neighborhood"], 10),
            Text(shown["last_contact"], style="" if r.get("last_contact_at") else "dim"),
            Text(str(r["contacts_90d"]), justify="right"),
            Text(str(r["referrals_90d"]), justify="right"),
            Text(str(r["open_referrals"]), justify="right"),
            Text(shown["verified"], style="" if r["verified_within_year"] else "yellow"),
        ]
        if r["status"] != "active":  # inactive and defunct partners recede
            for cell in cells:
                cell.stylize("dim")
        return cells

    def current_id(self) -> str | None:
        return self.query_one("#orgs-table", ListTable).cursor_key

    @on(DataTable.RowHighlighted, "#orgs-table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.show_detail()

    def show_detail(self) -> None:
        org = self.orgs.get(self.current_id() or "")
        panel = self.query_one("#orgs-detail", Static)
        if org is None:
            panel.update(Text())
            return
        width = max(20, panel.content_region.width or (self.size.width - 2))
        who = Text()
        who.append_text(text(org["name"], style="bold"))
        who.append(f"  {org['status']}", style="dim")
        contact = [str(org[f]) for f in ("contact_person", "phone", "email") if org.get(f)]
        if contact:
            who.append("  ")
            who.append_text(text(" · ".join(contact)))
        upkeep = Text(
            f"Last contact {partners.last_contact_text(org)} · 90 days: "
            f"{plural(org['contacts_90d'], 'contact')}, "
            f"{plural(org['referrals_90d'], 'referral')}"
        )
        verified = org.get("last_verified")
        more = Text(f"Open referrals {org['open_referrals']} of {org['referral_count']} · ")
        if org["verified_within_year"]:
            more.append(f"Verified {verified}", style="dim")
        else:
            more.append(
                f"Verified {verified}: over a year ago" if verified else "Never verified",
                style="yellow",
            )
        rest = [
            x
            for x in (
                (org.get("kind") or "").replace("_", " "),
                ", ".join(org.get("services") or []),
                org.get("address") or org.get("notes"),
            )
            if x
        ]
        if rest:
            more.append(" · ")
            more.append_text(text(" · ".join(rest), style="italic"))
        for line in (who, upkeep, more):  # one line each, whatever the width
            line.truncate(width, overflow="ellipsis")
        panel.update(Text("\n").join([who, upkeep, more]))

    def action_add(self) -> None:
        self.app.push_screen(OrgForm(), self.after_form)

    def action_edit(self) -> None:
        org = self.orgs.get(self.current_id() or "")
        if org is not None:
            self.app.push_screen(OrgForm(org), self.after_form)

    @on(DataTable.RowSelected, "#orgs-table")
    def _selected(self, event: DataTable.RowSelected) -> None:
        self.action_edit()

    def after_form(self, org_id: str | None) -> None:
        if org_id is not None:
            self.notify("Partner saved.")
            self.select_next = org_id
            self.reload()
