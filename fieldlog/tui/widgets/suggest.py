"""Suggesters for the form's inputs: words typed in earlier entries, tags one at a time."""

from __future__ import annotations

from textual.suggester import Suggester, SuggestFromList


class TagSuggester(Suggester):
    """Completes the last comma-separated tag from the tags used before."""

    def __init__(self, tags: list[str]) -> None:
        super().__init__(use_cache=False, case_sensitive=True)
        self.tags = tags

    async def get_suggestion(self, value: str) -> str | None:
        stem = value.rpartition(",")[2].lstrip().casefold()
        if not stem:
            return None
        for tag in self.tags:
            if tag.casefold().startswith(stem) and len(tag) > len(stem):
                return value + tag[len(stem) :]
        return None


def suggester_for(fid: str, words: list[str]) -> Suggester:
    """A tag field completes its last tag; any other field the whole value."""
    if fid == "tags":
        return TagSuggester(words)
    return SuggestFromList(words, case_sensitive=False)
