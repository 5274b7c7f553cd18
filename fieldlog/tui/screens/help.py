"""Every key: the screen underneath's, the app's own, the lists' and the contact form's.

Built from the BINDINGS themselves (each key with its footer label and what it does), so it
cannot drift from the real keys: a key added to a screen, to the app, to the list table or to
the form shows up here without an edit.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.keys import format_key
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from fieldlog.tui.widgets.table import ListTable

# Keys no fieldlog BINDINGS declares (Textual's own table and focus keys).
TABLE_KEYS = (
    ("↑ ↓  PgUp PgDn", "Move", "One row or one page"),
    ("Enter", "Open", "The record under the cursor"),
)
FORM_KEYS = (("Tab / Shift+Tab", "Next", "Next / previous box"),)
# What the list table's movement keys do, for those whose binding carries no tooltip.
MOVES = {
    "cursor_down": "Next row",
    "cursor_up": "Previous row",
    "first_row": "First row",
    "last_row": "Last row",
}
KEYS_WIDTH = 15  # "Tab / Shift+Tab"
LABEL_WIDTH = 11  # the longest footer label ("Repeat last")


def _bindings(owner: type) -> list[Binding]:
    """The Bindings ``owner`` really has from fieldlog's classes (Textual merges BINDINGS
    along the class hierarchy), nearest class first."""
    out: list[Binding] = []
    for cls in owner.__mro__:
        if cls.__module__.startswith("fieldlog."):
            out.extend(b for b in cls.__dict__.get("BINDINGS", []) if isinstance(b, Binding))
    return out


def _keys(binding: Binding) -> str:
    return " / ".join(format_key(k.strip()) for k in binding.key.split(","))


def _section(
    title: str, bindings: Iterable[Binding], extra: Iterable[tuple[str, str, str]] = ()
) -> list[RenderableType]:
    """A title and a grid of key, footer label and what it does (fixed column widths, so
    every section lines up); nothing for a section without keys."""
    rows = [
        (_keys(b), b.description, b.tooltip or MOVES.get(b.action, ""))
        for b in bindings
        if b.description  # a key with no name of its own (a refusal) is listed under its name
    ]
    rows.extend(extra)
    if not rows:
        return []
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold cyan", no_wrap=True, width=KEYS_WIDTH)
    grid.add_column(style="bold", no_wrap=True, width=LABEL_WIDTH)
    grid.add_column()
    for keys, label, what in rows:
        grid.add_row(keys, label, what)
    return [Text(title, style="bold underline"), grid, Text("")]


class HelpScreen(ModalScreen[None]):
    """The keys of the screen it opened over first, then those that work everywhere."""

    BINDINGS = [Binding("escape,question_mark,q", "close", "Close")]

    def __init__(self, under: Screen) -> None:
        super().__init__(classes="dialog-screen")
        self.under = under

    def sections(self) -> Iterator[tuple[str, list[Binding], tuple[tuple[str, str, str], ...]]]:
        from fieldlog.tui.screens.form import ContactFormScreen  # lazy: the form is big

        # The app's keys a screen repeats to show them in its footer are listed once, below.
        own = [b for b in _bindings(type(self.under)) if not b.action.startswith("app.")]
        yield "On this screen", own, ()
        yield "Everywhere", _bindings(type(self.app)), ()
        yield "In every list", _bindings(ListTable), TABLE_KEYS
        yield "In the contact form", _bindings(ContactFormScreen), FORM_KEYS

    def compose(self) -> ComposeResult:
        parts: list[RenderableType] = []
        for title, bindings, extra in self.sections():
            parts.extend(_section(title, bindings, extra))
        parts.append(Text("Escape, ? or q closes this help; ↓ and PgDn scroll it.", style="dim"))
        with VerticalScroll(classes="dialog help"):
            yield Static(Group(*parts))

    def action_close(self) -> None:
        self.dismiss(None)
