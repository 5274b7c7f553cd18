"""A vocabulary field typed ahead instead of picked from a dropdown: type ``you`` and it
reads *youth*, with no Enter-letter-Enter. Used for a concern's category and priority and a
referral's service in the contact form's lines."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from textual import events
from textual.suggester import Suggester
from textual.widgets import Input


def normal(value: str) -> str:
    """How typed text compares with a vocabulary word: case and spaces do not matter."""
    return "_".join(value.casefold().replace("-", " ").split())


def resolve(value: str, choices: Sequence[str]) -> str:
    """The vocabulary word ``value`` stands for: the word itself, else the one word it
    starts (``you`` → youth), else the one word with a part it starts (``health`` →
    mental_health); anything else comes back as typed, for the store to refuse by name."""
    key = normal(value)
    if not key:
        return ""
    if key in choices:
        return key
    starts = [c for c in choices if c.startswith(key)]
    if len(starts) == 1:
        return starts[0]
    parts = [c for c in choices if any(p.startswith(key) for p in c.split("_"))]
    if len(parts) == 1:
        return parts[0]
    return value.strip()


class ChoiceSuggester(Suggester):
    """Shows the rest of the one word the typed text starts, greyed, as the officer types."""

    def __init__(self, choices: Sequence[str]) -> None:
        super().__init__(use_cache=False, case_sensitive=True)
        self.choices = tuple(choices)

    async def get_suggestion(self, value: str) -> str | None:
        key = normal(value)
        if not key:
            return None
        starts = [c for c in self.choices if c.startswith(key)]
        if len(starts) == 1 and len(starts[0]) > len(key):
            return value + starts[0][len(key) :]
        return None


class ChoiceInput(Input):
    """An Input over a vocabulary: leaving it completes what was typed to the word it stands
    for, so the officer sees *youth* as soon as the cursor moves on."""

    def __init__(self, choices: Sequence[str], value: str = "", **kwargs: Any) -> None:
        super().__init__(value, suggester=ChoiceSuggester(choices), **kwargs)
        self.choices = tuple(choices)

    @property
    def choice(self) -> str:
        """The vocabulary word for what is typed ("" for nothing)."""
        return resolve(self.value, self.choices)

    def complete(self) -> None:
        word = self.choice
        if word and word != self.value:
            self.value = word

    def _on_blur(self, event: events.Blur) -> None:
        self.complete()
        super()._on_blur(event)
