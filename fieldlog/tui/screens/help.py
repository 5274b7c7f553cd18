"""Every key: the app's own, the screen underneath's, and table movement."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.keys import format_key
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

MOVEMENT = (
    ("↑ ↓  PgUp PgDn  Home End", "Move in a table"),
    ("Enter", "Open the contact under the cursor"),
    ("Tab / Shift+Tab", "Next / previous box"),
    ("Ctrl+P", "Command palette"),
)


def _bindings(owner: type) -> list[Binding]:
    return [b for b in getattr(owner, "BINDINGS", []) if isinstance(b, Binding)]


def _keys(binding: Binding) -> str:
    return " / ".join(format_key(k.strip()) for k in binding.key.split(","))


class HelpScreen(ModalScreen[None]):
    """Built from the BINDINGS themselves, so it cannot drift from the real keys."""

    BINDINGS = [Binding("escape,question_mark,q", "close", "Close")]

    def __init__(self, under: Screen) -> None:
        super().__init__(classes="dialog-screen")
        self.under = under

    def compose(self) -> ComposeResult:
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold cyan", no_wrap=True)
        grid.add_column()
        grid.add_row(Text("Everywhere", style="bold underline"), "")
        for b in _bindings(type(self.app)):  # the app's own keys (no import of tui.app)
            grid.add_row(_keys(b), b.tooltip or b.description)
        own = [b for b in type(self.under).__dict__.get("BINDINGS", []) if isinstance(b, Binding)]
        if own:
            grid.add_row("", "")
            grid.add_row(Text("On this screen", style="bold underline"), "")
            for b in own:
                grid.add_row(_keys(b), b.description)
        grid.add_row("", "")
        for keys, what in MOVEMENT:
            grid.add_row(keys, what)
        grid.add_row("", "")
        grid.add_row("", Text("Escape, ? or q closes this help.", style="dim"))
        with VerticalScroll(classes="dialog help"):
            yield Static(grid)

    def action_close(self) -> None:
        self.dismiss(None)
