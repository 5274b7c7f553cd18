"""Edit a concern's status, priority and resolution (``e`` on the concern's screen)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Select, TextArea

from fieldlog import models
from fieldlog.tui.widgets.cells import one_line
from fieldlog.tui.widgets.selects import select_value


def vocab_select(wid: str, words: tuple[str, ...], value: str) -> Select[str]:
    """A compact Select of a vocabulary, on the stored value."""
    return Select(
        [(w.replace("_", " "), w) for w in words],
        allow_blank=False,
        value=value if value in words else words[0],
        id=wid,
        compact=True,
    )


class EditDialog(ModalScreen[dict[str, Any] | None]):
    """A record's few editable fields; Ctrl+S dismisses with only the fields that changed
    (None when nothing did), Escape with None. Subclasses say which fields and read them."""

    BINDINGS = [
        Binding("ctrl+s", "save", "Save", priority=True),
        Binding("escape", "cancel", "Cancel"),
    ]
    TITLE_TEXT = ""

    def __init__(self, record: Mapping[str, Any]) -> None:
        super().__init__(classes="dialog-screen")
        self.record = dict(record)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog rec-edit"):
            title = Text(
                f"{self.TITLE_TEXT} {self.record['short_id']}",
                style="bold",
                no_wrap=True,
                overflow="ellipsis",  # one line: the record's screen has its whole text
            )
            title.append(" — ")
            title.append(one_line(self.subject()), style="not bold")
            yield Label(title, markup=False, classes="dialog-question")
            yield from self.inputs()
            yield Label("", id="edit-error", classes="error rec-error", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Save (ctrl+s)", id="save", variant="primary")
                yield Button("Cancel (esc)", id="cancel")

    def subject(self) -> str:
        raise NotImplementedError

    def inputs(self) -> ComposeResult:
        raise NotImplementedError

    def values(self) -> dict[str, Any]:
        """Every editable field as typed (raises ValidationError with the field named)."""
        raise NotImplementedError

    def row(self, label: str, widget: Any) -> Horizontal:
        return Horizontal(Label(label, classes="rec-label"), widget, classes="rec-row")

    def note(self, fid: str, label: str, placeholder: str) -> ComposeResult:
        """A free-text field of the record (resolution, outcome) under its label."""
        yield Label(label, classes="rec-label-wide")
        yield TextArea(
            self.record.get(fid) or "",
            id=fid,
            soft_wrap=True,
            compact=True,
            placeholder=placeholder,
        )

    def note_value(self, fid: str) -> str:
        """What the field holds, checked (too long: said here, beside the field)."""
        value = self.query_one(f"#{fid}", TextArea).text.strip()
        models.text(fid, value)
        return value

    @on(Button.Pressed, "#save")
    def action_save(self) -> None:
        from fieldlog.errors import ValidationError

        try:
            values = self.values()
        except ValidationError as err:
            error = self.query_one("#edit-error", Label)
            error.update(str(err))
            error.add_class("-shown")
            return
        changed = {k: v for k, v in values.items() if v != (self.record.get(k) or "")}
        self.dismiss(changed or None)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


class ConcernEditDialog(EditDialog):
    TITLE_TEXT = "Concern"
    AUTO_FOCUS = "#status"

    def subject(self) -> str:
        return f"{self.record['category']}: {self.record.get('description') or ''}"

    def inputs(self) -> ComposeResult:
        k = self.record
        yield self.row("Status", vocab_select("status", models.CONCERN_STATUSES, k["status"]))
        yield self.row("Priority", vocab_select("priority", models.PRIORITIES, k["priority"]))
        yield from self.note(
            "resolution",
            "Resolution (resolves the concern): what was done",
            "e.g. Parks fixed the court lights on May 3",
        )

    def values(self) -> dict[str, Any]:
        resolution = self.note_value("resolution")
        return {
            "status": select_value(self.query_one("#status", Select)),
            "priority": select_value(self.query_one("#priority", Select)),
            "resolution": resolution,
        }
