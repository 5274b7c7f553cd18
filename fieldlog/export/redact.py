"""``--redact``: person names become a pseudonym, other personal fields are emptied, and free
text is scrubbed of every known name, phone, e-mail and address (see docs/export.md).

A redacted export is meant to leave the office (a partner, a council report), so what makes
a person findable goes; what makes the work countable (categories, neighborhoods, dates) stays.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fieldlog.db.store import Store

# Person names become a pseudonym; these other personal fields are emptied.
NAME_FIELDS = frozenset({"person_name", "contact_person"})
BLANKED_FIELDS = frozenset({"phone", "email", "address", "location"})
FREE_TEXT_FIELDS = frozenset({"summary", "notes", "description", "reason", "outcome", "resolution"})
REDACTED = "[redacted]"


class Redactor:
    """Pseudonyms and scrubbing for ``--redact``, with one random key per export: the same
    person gets the same pseudonym throughout one export and an unrelated one in the next.

    It holds the log's distinct names and other personal values (to scrub them out of free
    text), so its memory grows with the number of distinct people, not of rows.
    """

    EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
    PHONE = re.compile(r"(?<!\w)\+?\d[\d\s().-]{6,}\d(?!\w)")
    WORD = re.compile(r"\w+")

    def __init__(self, names: set[str], other: set[str], key: bytes | None = None) -> None:
        self.key = key or secrets.token_bytes(32)
        self._cache: dict[str, str] = {}
        # Values indexed by their first word, longest first, so "Ana Díaz" wins over "Ana".
        self._index: dict[str, list[tuple[str, int, str]]] = {}
        for value in names:
            self._add(value, self.pseudonym(value))
        for value in other:
            self._add(value, REDACTED)
        for entries in self._index.values():
            entries.sort(key=lambda e: -len(e[0]))

    @classmethod
    def for_store(cls, store: Store) -> Redactor:
        names, other = store.exports.private_values()
        return cls(names, other)

    def _add(self, value: str, replacement: str) -> None:
        low = value.strip().lower()
        m = self.WORD.search(low)
        if m is None or len(low) < 2:
            return
        self._index.setdefault(m.group(), []).append((low, m.start(), replacement))

    def pseudonym(self, name: str) -> str:
        low = " ".join(name.lower().split())
        p = self._cache.get(low)
        if p is None:
            digest = hmac.new(self.key, low.encode(), hashlib.sha256).hexdigest()
            p = self._cache[low] = f"Person-{digest[:8]}"
        return p

    def scrub(self, text: str) -> str:
        """Free text with every known name, phone, e-mail and address replaced."""
        if not text:
            return text
        low = text.lower()
        out: list[str] = []
        done = 0
        for m in self.WORD.finditer(low):
            if m.start() < done:
                continue
            for value, offset, replacement in self._index.get(m.group(), ()):
                begin = m.start() - offset
                end = begin + len(value)
                if begin < done or not low.startswith(value, begin):
                    continue
                if end < len(low) and (low[end].isalnum() or low[end] == "_"):
                    continue  # "Ana" inside "Anabel"
                out.append(text[done:begin])
                out.append(replacement)
                done = end
                break
        out.append(text[done:])
        text = "".join(out)
        text = self.EMAIL.sub(REDACTED, text)
        return self.PHONE.sub(REDACTED, text)

    def cell(self, column: str, value: str | None) -> str:
        if not value:
            return ""
        if column in NAME_FIELDS:
            return self.pseudonym(value)
        if column in BLANKED_FIELDS:
            return ""
        if column in FREE_TEXT_FIELDS:
            return self.scrub(value)
        return value
