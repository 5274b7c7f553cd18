"""Drafts (``store.drafts``): an unsaved TUI form, kept in the log itself.

A draft lives under the meta key ``draft:NAME``, so it is as safe as the log (and encrypted
with it); drafts never sync. Saving the entry drops its draft in the same transaction
(``store.entries.save(..., draft=NAME)``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from fieldlog import dates

if TYPE_CHECKING:
    from fieldlog.db.store import Store

PREFIX = "draft:"


class Drafts:
    def __init__(self, store: Store) -> None:
        self.store = store

    @staticmethod
    def key(name: str) -> str:
        """The meta key of the draft ``name``."""
        return f"{PREFIX}{name}"

    def save(self, name: str, body: Mapping[str, Any]) -> None:
        with self.store.write() as tx:
            tx.set_meta(self.key(name), json.dumps({"saved_at": dates.stamp_now(), **body}))

    def load(self, name: str) -> dict[str, Any] | None:
        raw = self.store.scalar("SELECT value FROM meta WHERE key = ?", [self.key(name)])
        return json.loads(raw) if raw else None

    def drop(self, name: str) -> None:
        with self.store.write() as tx:
            tx.delete_meta(self.key(name))

    def names(self) -> list[str]:
        """The names of the saved drafts, in order."""
        return [
            r["key"].removeprefix(PREFIX)
            for r in self.store.query("SELECT key FROM meta WHERE key LIKE 'draft:%' ORDER BY key")
        ]
