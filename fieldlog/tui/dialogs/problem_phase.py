"""A problem's new phase, with an optional note (``s`` on the Problems screens)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from fieldlog import models
from fieldlog.tui.base import run_store
from fieldlog.tui.widgets.cells import one_line

# How each phase is drawn in the Problems list and a problem's screen.
PHASE_STYLES = {
    "scanning": "cyan",
    "analysis": "magenta",
    "response": "bold yellow",
    "assessment": "green",
    "closed": "dim",
}

HINT = "Enter picks the phase, Enter again saves · Esc cancels"


def next_phase(current: str | None) -> str:
    """The phase a problem usually moves to next (closed stays closed)."""
    phases = models.PROBLEM_PHASES
    if current not in phases:
        return phases[0]
    return phases[min(phases.index(current) + 1, len(phases) - 1)]


class PhaseDialog(ModalScreen[tuple[str, str] | None]):
    """The phases with the next one highlighted, and a note for the log; dismisses with
    ``(phase, note)`` or None (Escape: nothing is written)."""

    CSS_PATH = "../styles/problems.tcss"
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", priority=True),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, title: str, current: str | None) -> None:
        super().__init__(classes="dialog-screen")
        self.title_text = title
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog pr-phase-dialog"):
            yield Label(self.title_text, markup=False, classes="dialog-question")
            yield OptionList(
                *[
                    Option(f"{p}  (now)" if p == self.current else p, id=p)
                    for p in models.PROBLEM_PHASES
                ],
                id="phases",
            )
            yield Input(
                placeholder="Note for the log (optional)",
                max_length=models.MAX_TEXT,
                compact=True,
                id="note",
            )
            yield Label(HINT, markup=False, classes="dialog-hint")

    def on_mount(self) -> None:
        options = self.query_one("#phases", OptionList)
        options.highlighted = models.PROBLEM_PHASES.index(next_phase(self.current))
        options.focus()

    def chosen(self) -> str:
        options = self.query_one("#phases", OptionList)
        index = options.highlighted if options.highlighted is not None else 0
        return models.PROBLEM_PHASES[index]

    @on(OptionList.OptionSelected, "#phases")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.set_focus(self.query_one("#note", Input))

    @on(Input.Submitted, "#note")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_save()

    def action_save(self) -> None:
        self.dismiss((self.chosen(), self.query_one("#note", Input).value.strip()))

    def action_cancel(self) -> None:
        self.dismiss(None)


def ask_phase(screen: Any, problem: dict[str, Any], then: Callable[[dict[str, Any]], None]) -> None:
    """The whole ``s`` action of a Problems screen: the dialog for ``problem`` (a row with
    ``id``, ``title``, ``phase``), then ``store.problems.phase`` in a worker, a notification,
    and ``then(the problem as written)``. Escape writes nothing."""
    pid, title = problem["id"], one_line(problem["title"])

    def written(row: dict[str, Any]) -> None:
        screen.notify(f"{title}: now in {row['phase']}.", markup=False)
        then(row)

    def chosen(answer: tuple[str, str] | None) -> None:
        if answer is None:
            return
        phase, note = answer
        run_store(
            screen,
            lambda s: s.problems.phase(pid, phase, note=note or None),
            written,
            group="write",
        )

    screen.app.push_screen(PhaseDialog(f"Phase of {title}", problem.get("phase")), chosen)
