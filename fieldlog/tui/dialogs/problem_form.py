"""A new problem (``a`` on the Problems screen): title, neighborhood, location, category and
coordinator (empty: the log's officer); it starts in the scanning phase, as ``fieldlog
problem add`` does."""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Select, Static

from fieldlog import models
from fieldlog.errors import FieldlogError, ValidationError
from fieldlog.tui.base import run_store
from fieldlog.tui.widgets.selects import select_value

# (field, label, placeholder) in form order; category is a Select, the rest Inputs.
FORM_FIELDS = (
    ("title", "Title", "e.g. Graffiti on the Elm St underpass"),
    ("neighborhood", "Neighborhood", ""),
    ("location", "Location", "a block, a corner, a park"),
    ("category", "Category", ""),
    ("coordinator", "Coordinator", "the officer leading it (empty: you)"),
)
HINT = "Enter or Ctrl+S adds it (in scanning) · Escape cancels"


class ProblemForm(ModalScreen[str | None]):
    """Dismisses with the new problem's id, or None on Escape. The store checks the values
    (the same rules as the CLI); a ValidationError shows under its field, nothing written."""

    CSS_PATH = "../styles/problems.tcss"
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", priority=True),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self) -> None:
        super().__init__(classes="dialog-screen")
        self.saving = False

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog fl-form pr-form"):
            yield Label("New problem", classes="dialog-question fl-form-title")
            for field, label, placeholder in FORM_FIELDS:
                with Horizontal(classes="fl-row"):
                    yield Label(label, classes="fl-label")
                    if field == "category":
                        yield Select(
                            [(c.replace("_", " "), c) for c in models.CONCERN_CATEGORIES],
                            prompt="none",
                            compact=True,
                            id=field,
                        )
                    else:
                        yield Input(placeholder=placeholder, compact=True, id=field)
                yield Static("", id=f"{field}-error", classes="fl-error", markup=False)
            yield Label(HINT, classes="fl-hint")

    def on_mount(self) -> None:
        self.query_one("#title", Input).focus()

    def values(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for field, _, _ in FORM_FIELDS:
            widget = self.query_one(f"#{field}")
            if isinstance(widget, Select):
                value = select_value(widget)
            else:
                value = widget.value.strip()  # type: ignore[attr-defined]
            out[field] = value or None
        return out

    def clear_errors(self) -> None:
        for field, _, _ in FORM_FIELDS:
            error = self.query_one(f"#{field}-error", Static)
            error.update("")
            error.remove_class("-shown")

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_save()

    def action_save(self) -> None:
        if self.saving:
            return
        self.clear_errors()
        values = self.values()
        title = values.pop("title") or ""

        def add(s: Any) -> str:  # the coordinator left empty: the log's officer (as the CLI)
            return str(
                s.problems.add(title, **{**values, "coordinator": coordinator or s.officer()})
            )

        coordinator = values.pop("coordinator")
        self.saving = True
        run_store(
            self, add, self.saved, group="save",
            failed=lambda: self.saved(None), on_error=self.shown_beside_field,
        )  # fmt: skip

    def saved(self, problem_id: str | None) -> None:
        self.saving = False
        if problem_id is not None:
            self.dismiss(problem_id)

    def shown_beside_field(self, err: FieldlogError) -> bool:
        if not isinstance(err, ValidationError) or err.field not in dict.fromkeys(
            f for f, _, _ in FORM_FIELDS
        ):
            return False
        error = self.query_one(f"#{err.field}-error", Static)
        error.update(str(err))
        error.add_class("-shown")
        self.query_one(f"#{err.field}").focus()
        return True

    def action_cancel(self) -> None:
        self.dismiss(None)
