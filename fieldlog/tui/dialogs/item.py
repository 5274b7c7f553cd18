"""What the add-a-concern and add-a-referral dialogs of a saved contact share."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label

from fieldlog.errors import ValidationError
from fieldlog.tui.base import StoreScreen
from fieldlog.tui.widgets.cells import one_line


class ItemDialog(StoreScreen, ModalScreen[dict[str, Any] | None]):
    """A concern or referral for a saved contact; dismisses with its values or None."""

    BINDINGS = [
        Binding("ctrl+s", "add", "Add", priority=True),
        Binding("escape", "cancel", "Cancel"),
    ]
    TITLE_TEXT = ""

    def __init__(self, contact: dict[str, Any] | None = None) -> None:
        super().__init__(classes="dialog-screen")
        self.contact = contact

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog item-dialog"):
            title = Text(self.TITLE_TEXT, style="bold")
            if self.contact:
                title.append(" — ")
                title.append(one_line(self.contact.get("summary"))[:50])
            yield Label(title, markup=False, classes="dialog-question")
            yield from self.inputs()
            yield Label("", id="item-error", classes="error", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Add (ctrl+s)", id="add", variant="primary")
                yield Button("Cancel (esc)", id="cancel")

    def inputs(self) -> ComposeResult:
        raise NotImplementedError

    def values(self) -> dict[str, Any]:
        raise NotImplementedError

    @on(Button.Pressed, "#add")
    def action_add(self) -> None:
        try:
            values = self.values()
        except ValidationError as err:
            label = self.query_one("#item-error", Label)
            label.update(str(err))
            label.add_class("-shown")
            return
        self.dismiss(values)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_add()
