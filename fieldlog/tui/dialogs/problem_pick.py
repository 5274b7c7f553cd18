"""Pick an open problem to link a record to (``P`` on the contact list and a contact's
detail): type to narrow the list, Enter links the highlighted problem.

:func:`link_to_problem` is the whole action for a screen: it loads the open problems, opens
the picker, links the record (``store.problems.link_record``) and says "Linked to <title>".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from fieldlog import records
from fieldlog.tui.base import run_store
from fieldlog.tui.widgets.cells import one_line

HINT = "Type to narrow · ↑ ↓ choose · Enter links · Esc cancels"
NO_PROBLEMS = "No open problem to link to: press p for the Problems screen, then a to add one."
SEARCHED = ("title", "neighborhood", "category", "coordinator", "short_id", "phase")
LIMIT = 500  # open problems are a handful; a department's worth still fits


def problem_label(p: dict[str, Any]) -> str:
    """One line naming a problem: title, phase, neighborhood."""
    hood = f" · {one_line(p['neighborhood'])}" if p.get("neighborhood") else ""
    return f"{one_line(p['title'])}  ({p['phase']}{hood})"


class ProblemPicker(ModalScreen[dict[str, Any] | None]):
    """The open problems, narrowed as one types (any word of the title, neighborhood,
    category or coordinator); dismisses with the chosen problem row, or None."""

    CSS_PATH = "../styles/problems.tcss"
    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("down", "move(1)", "Next", show=False, priority=True),
        Binding("up", "move(-1)", "Previous", show=False, priority=True),
    ]

    def __init__(self, title: str, problems: list[dict[str, Any]]) -> None:
        super().__init__(classes="dialog-screen")
        self.title_text = title
        self.problems = problems
        self.shown: list[dict[str, Any]] = list(problems)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog pr-picker"):
            yield Label(self.title_text, markup=False, classes="dialog-question")
            yield Input(placeholder="Type part of the title", compact=True, id="pick-filter")
            yield OptionList(id="pick-list")
            yield Label(HINT, markup=False, classes="dialog-hint")

    def on_mount(self) -> None:
        self.fill("")
        self.query_one("#pick-filter", Input).focus()

    @staticmethod
    def haystack(p: dict[str, Any]) -> str:
        return " ".join(str(p.get(f) or "") for f in SEARCHED).lower()

    def fill(self, typed: str) -> None:
        words = typed.lower().split()
        self.shown = [p for p in self.problems if all(w in self.haystack(p) for w in words)]
        options = self.query_one("#pick-list", OptionList)
        options.clear_options()
        if self.shown:
            options.add_options(Option(Text(problem_label(p)), id=p["id"]) for p in self.shown)
            options.highlighted = 0
        else:
            options.add_option(Option(Text("No open problem matches.", style="dim"), disabled=True))

    @on(Input.Changed, "#pick-filter")
    def _typed(self, event: Input.Changed) -> None:
        self.fill(event.value)

    def action_move(self, step: int) -> None:
        options = self.query_one("#pick-list", OptionList)
        if not self.shown:
            return
        now = options.highlighted if options.highlighted is not None else 0
        options.highlighted = max(0, min(len(self.shown) - 1, now + step))

    @on(Input.Submitted, "#pick-filter")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        options = self.query_one("#pick-list", OptionList)
        if self.shown and options.highlighted is not None:
            self.dismiss(self.shown[options.highlighted])

    @on(OptionList.OptionSelected, "#pick-list")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        chosen = next((p for p in self.shown if p["id"] == event.option.id), None)
        if chosen is not None:
            self.dismiss(chosen)

    def action_cancel(self) -> None:
        self.dismiss(None)


def link_to_problem(
    screen: Any,
    table: str,
    rid: str,
    what: str,
    then: Callable[[dict[str, Any]], None] | None = None,
) -> None:
    """Link record ``rid`` of ``table`` to an open problem the officer picks: the open
    problems are read in a worker, the picker opens (``what`` names the record in its
    title), the link is written and a notification says where it went. ``then(problem)``
    runs after a new link (the screen shows it)."""
    if table not in records.TABLES:
        raise ValueError(f"not a record table: {table!r}")

    def linked(result: tuple[bool, dict[str, Any]]) -> None:
        new, problem = result
        title = one_line(problem["title"])
        if new:
            screen.notify(f"Linked to {title}", markup=False)
            if then is not None:
                then(problem)
        else:
            screen.notify(f"Already linked to {title}", markup=False)

    def picked(problem: dict[str, Any] | None) -> None:
        if problem is None:
            return
        pid = problem["id"]
        run_store(
            screen,
            lambda s: (s.problems.link_record(pid, table, rid), problem),
            linked,
            group="link-problem",
        )

    def loaded(problems: list[dict[str, Any]]) -> None:
        if not problems:
            screen.notify(NO_PROBLEMS, markup=False)
            return
        screen.app.push_screen(ProblemPicker(f"Link {what} to a problem", problems), picked)

    run_store(
        screen,
        lambda s: s.problems.list(phase="open", limit=LIMIT),
        loaded,
        group="open-problems",
    )
