"""A new follow-up day: any WHEN word, in the future by default, or ``none`` to clear it."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from fieldlog import dates
from fieldlog.db.store import NO_DATE
from fieldlog.errors import ValidationError


class DateDialog(ModalScreen[str | None]):
    """Ask for a follow-up day (any WHEN, future by default) or ``none``; Escape cancels."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, current: str | None = None) -> None:
        super().__init__(classes="dialog-screen")
        self.title_text = title
        self.current = current or ""

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog fl-date-dialog"):
            yield Label(self.title_text, markup=False, classes="dialog-question")
            yield Input(self.current, placeholder="e.g. friday, in 3d, 2026-05-01, none", id="day")
            yield Static("", id="day-error", classes="fl-error", markup=False)
            yield Label("Enter saves, Escape cancels; 'none' clears the date.", classes="fl-hint")

    def on_mount(self) -> None:
        self.query_one("#day", Input).focus()

    @on(Input.Submitted, "#day")
    def _submitted(self, event: Input.Submitted) -> None:
        value = event.value.strip()
        if value.lower() in NO_DATE:
            self.dismiss("none")
            return
        try:
            self.dismiss(dates.parse_day(value, future=True))
        except ValidationError as err:
            error = self.query_one("#day-error", Static)
            error.update(str(err))
            error.add_class("-shown")

    def action_cancel(self) -> None:
        self.dismiss(None)
