"""Add a concern to a saved contact (``c`` on the contact's detail)."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Input, Select

from fieldlog.tui.dialogs.item import ItemDialog
from fieldlog.tui.widgets.items import clean_concern
from fieldlog.tui.widgets.selects import category_select, priority_select, select_value


class ConcernDialog(ItemDialog):
    TITLE_TEXT = "Add a concern"
    AUTO_FOCUS = "#category"

    def inputs(self) -> ComposeResult:
        with Horizontal(classes="dialog-row"):
            yield category_select("category")
            yield priority_select("priority")
        yield Input(placeholder="What is the concern?", id="description", compact=True)

    def values(self) -> dict[str, Any]:
        return clean_concern(
            {
                "category": select_value(self.query_one("#category", Select)),
                "priority": select_value(self.query_one("#priority", Select)),
                "description": self.query_one("#description", Input).value,
            }
        )
