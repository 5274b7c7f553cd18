"""The contact form's concern and referral lines.

A line is part of the contact as soon as it is filled: there is no "Add" button to forget.
Saving takes every filled line (or refuses, naming the line and field); an empty line is
ignored. Enter on a filled line opens the next one below it. The first line's inputs keep the
ids the form has always had (``concern-category``, ``concern-description``,
``referral-agency``...); line *n* > 1 appends ``-n``.
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual import events
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Label

from fieldlog import models
from fieldlog.errors import ValidationError
from fieldlog.tui.widgets.choice import ChoiceInput
from fieldlog.tui.widgets.items import clean_concern, clean_referral


class ItemLine(Vertical):
    """One concern or referral being typed: a label, its inputs in a row, an error below."""

    KIND: ClassVar[str] = ""
    LABEL: ClassVar[str] = ""
    # (key, placeholder, vocabulary or None, css class) in Tab order
    PARTS: ClassVar[tuple[tuple[str, str, tuple[str, ...] | None, str], ...]] = ()
    DEFAULTS: ClassVar[dict[str, str]] = {}

    def __init__(self, number: int, values: dict[str, str] | None = None) -> None:
        self.number = number
        self.suffix = "" if number == 1 else f"-{number}"
        super().__init__(classes=f"line {self.KIND}-line", id=f"{self.KIND}-line{self.suffix}")
        self.start = {**self.DEFAULTS, **(values or {})}

    def wid(self, key: str) -> str:
        return f"{self.KIND}-{key}{self.suffix}"

    def compose(self) -> ComposeResult:
        label = self.LABEL if self.number == 1 else f"{self.LABEL} {self.number}"
        with Horizontal(classes="field"):
            yield Label(label, classes="field-label")
            with Horizontal(classes="line-box"):
                for key, placeholder, choices, css in self.PARTS:
                    value = self.start.get(key, "")
                    if choices is not None:
                        yield ChoiceInput(
                            choices, value, placeholder=placeholder, id=self.wid(key),
                            classes=css, compact=True,
                        )  # fmt: skip
                    else:
                        yield Input(
                            value, placeholder=placeholder, id=self.wid(key), classes=css,
                            compact=True,
                        )  # fmt: skip
        yield Label("", id=f"{self.KIND}{self.suffix}-error", classes="error line-error",
                    markup=False)  # fmt: skip

    def on_descendant_blur(self, event: events.DescendantBlur) -> None:
        """A field left shows its text from the start (an agency longer than its box stayed
        scrolled to its end: "thgate Youth League")."""
        if isinstance(event.widget, Input):
            event.widget.cursor_position = 0

    @property
    def first(self) -> Input:
        return self.query_one(f"#{self.wid(self.PARTS[0][0])}", Input)

    def values(self) -> dict[str, str]:
        """What is typed, as typed (drafts keep it so)."""
        return {key: self.query_one(f"#{self.wid(key)}", Input).value for key, *_ in self.PARTS}

    error_values: dict[str, str] | None = None

    def changed(self) -> None:
        """Something in the line changed: hide its error once the line differs from when
        the error was shown."""
        if self.error_values is None or self.values() != self.error_values:
            self.show_error("")

    def filled(self) -> bool:
        """Anything typed beyond the defaults the line starts with."""
        return any(v.strip() and v != self.DEFAULTS.get(k) for k, v in self.values().items())

    def item(self) -> dict[str, Any]:
        """The line as a concern or referral, checked; raises ValidationError naming the field."""
        raise NotImplementedError

    def error_field(self, err: ValidationError) -> Input:
        """The input the message is about (the first one when it cannot tell)."""
        for key, *_ in self.PARTS:
            if err.field == key:
                return self.query_one(f"#{self.wid(key)}", Input)
        return self.first

    def show_error(self, message: str) -> None:
        """Show ``message`` under the line ("" hides it). A change message still on its way
        from before the error (the line as it was) does not hide it: see :meth:`changed`."""
        self.error_values = self.values() if message else None
        label = self.query_one(f"#{self.KIND}{self.suffix}-error", Label)
        label.update(message)
        label.set_class(bool(message), "-shown")


def _word(widget: Input) -> str:
    return widget.choice if isinstance(widget, ChoiceInput) else widget.value


class ConcernLine(ItemLine):
    KIND = "concern"
    LABEL = "Concern"
    PARTS = (
        ("category", "category: you→youth", models.CONCERN_CATEGORIES, "line-choice"),
        ("description", "What is the concern?", None, "line-text"),
        ("priority", "priority", models.PRIORITIES, "line-small"),
    )
    DEFAULTS = {"priority": "normal"}

    def item(self) -> dict[str, Any]:
        parts = {key: self.query_one(f"#{self.wid(key)}", Input) for key, *_ in self.PARTS}
        return clean_concern({key: _word(w) for key, w in parts.items()})


class ReferralLine(ItemLine):
    KIND = "referral"
    LABEL = "Referral"
    PARTS = (
        ("agency", "Agency or partner", None, "line-choice"),
        ("reason", "Reason", None, "line-text"),
        ("service", "service", models.REFERRAL_SERVICES, "line-small"),
    )

    def item(self) -> dict[str, Any]:
        parts = {key: self.query_one(f"#{self.wid(key)}", Input) for key, *_ in self.PARTS}
        return clean_referral({key: _word(w) for key, w in parts.items()})
