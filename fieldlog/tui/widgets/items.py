"""Concerns and referrals typed with a contact: checked before they join the form, shown as
rows with a Remove button. The contact form and the item dialogs both use them."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button, Static

from fieldlog import records
from fieldlog.tui.widgets.cells import one_line, text


def clean_concern(values: dict[str, str]) -> dict[str, Any]:
    """Check a concern before it joins the form (the store checks it again on save)."""
    concern = {k: v for k, v in values.items() if v}
    records.clean("concerns", concern)
    return concern


def clean_referral(values: dict[str, str]) -> dict[str, Any]:
    referral = {k: v for k, v in values.items() if v}
    records.clean("referrals", referral)
    return referral


def concern_label(c: dict[str, Any]) -> Text:
    t = Text(f"• {c['category']} ({c.get('priority') or 'normal'}): ", style="bold")
    t.append_text(text(c.get("description")))
    return t


def referral_label(r: dict[str, Any]) -> Text:
    t = Text(f"• {one_line(r['agency'])}", style="bold")
    if r.get("service"):
        t.append(f" [{r['service']}]", style="bold")
    if r.get("reason"):
        t.append(": ")
        t.append_text(text(r["reason"]))
    return t


class ItemRow(Horizontal):
    """One concern or referral added in the form, with a button that takes it out again."""

    def __init__(self, kind: str, item: dict[str, Any], label: Text) -> None:
        super().__init__(classes="item")
        self.kind = kind
        self.item = item
        self.label = label

    def compose(self) -> ComposeResult:
        yield Static(self.label, classes="item-text")
        yield Button("Remove", classes="remove", compact=True)
