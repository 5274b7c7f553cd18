"""One line of text (a referral's outcome, a conflict's typed value)."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label


class TextDialog(ModalScreen[str | None]):
    """One line of text; Enter or Ctrl+S returns it (stripped), Escape cancels (None)."""

    DEFAULT_CSS = """
    TextDialog .dialog-hint {
        color: $text-muted;
        margin-top: 1;
    }
    """

    BINDINGS = [
        Binding("ctrl+s", "save", "Save"),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(
        self,
        title: str,
        value: str = "",
        placeholder: str = "",
        max_length: int = 0,
        hint: str = "Enter saves · Esc cancels",
    ) -> None:
        """``hint``: what the keys do, when Escape means more than cancel (e.g. "the referral
        stays completed, with no outcome")."""
        super().__init__(classes="dialog-screen")
        self.title_text = title
        self.hint = hint
        self.value = value
        self.placeholder = placeholder
        self.max_length = max_length

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.title_text, markup=False, classes="dialog-question")
            yield Input(
                self.value,
                placeholder=self.placeholder,
                max_length=self.max_length,
                compact=True,
                id="text",
            )
            yield Label(self.hint, markup=False, classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one("#text", Input).focus()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_save()

    def action_save(self) -> None:
        self.dismiss(self.query_one("#text", Input).value.strip())

    def action_cancel(self) -> None:
        self.dismiss(None)
