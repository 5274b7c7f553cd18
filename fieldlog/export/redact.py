"""``--redact``: person names become a pseudonym, other personal fields are emptied, every
text column is scrubbed of every known name, phone, e-mail and address, and ids are re-keyed
(see docs/export.md, "--redact").

A redacted export is meant to leave the office (a partner, a council report), so what makes
a person findable goes; what makes the work countable (categories, neighborhoods, dates, how
records join) stays. The matching is :class:`~fieldlog.export.scrub.Scrubber`'s; this module
says what each column becomes and holds the export's one random key.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from fieldlog import records
from fieldlog.export.scrub import NAME_MARK, REDACTED, Scrubber
from fieldlog.privacy import (
    BLANKED_FIELDS,
    FREE_TEXT_FIELDS,
    ID_FIELDS,
    KEPT_FIELDS,
    NAME_FIELDS,
)

if TYPE_CHECKING:
    from fieldlog.db.store import Store

__all__ = [
    "BLANKED_FIELDS",
    "FREE_TEXT_FIELDS",
    "ID_FIELDS",
    "KEPT_FIELDS",
    "NAME_FIELDS",
    "NAME_MARK",
    "REDACTED",
    "Redactor",
]

# What each field is: one classification for exports and the department store's views.
_CACHE_MAX = 20_000  # distinct cells remembered per column (notes that repeat, tag lists)

Column = Callable[[Sequence[Any], Callable[[Any], str]], list[Any]]


class Redactor:
    """Pseudonyms, scrubbing and re-keyed ids for ``--redact``, with one random key per
    export: the same person (or record) gets the same pseudonym (or id) throughout one
    export and an unrelated one in the next; the key is never stored.

    It holds the log's distinct names and other personal values (to find them in text), so
    its memory grows with the number of distinct people, not of rows.
    """

    def __init__(
        self,
        names: Iterable[str],
        other: Iterable[str],
        key: bytes | None = None,
        *,
        keep: Iterable[str] = (),
    ) -> None:
        self.key = key or secrets.token_bytes(32)
        # Keyed BLAKE2s, copied per id (cheaper than keying it again each time).
        self._ids = hashlib.blake2s(
            key=hmac.new(self.key, b"record ids", hashlib.sha256).digest(), digest_size=16
        )
        self._pseudonyms: dict[str, str] = {}
        self.scrubber = Scrubber(names, other, keep, pseudonym=self._pseudonym_of)
        self._names: dict[str, str] = {}

    @classmethod
    def for_store(cls, store: Store) -> Redactor:
        names, other = store.exports.private_values()
        return cls(names, other, keep=store.exports.public_names())

    # ------------------------------------------------------------------ single values
    def pseudonym(self, name: str) -> str:
        """``Person-`` and 8 hex digits of an HMAC of the name's parts, folded: "Siobhán
        O'Brien", "siobhan  obrien" and "Siobhan O’Brien" are one person."""
        got = self._names.get(name)
        if got is None:
            if len(self._names) > _CACHE_MAX:
                self._names.clear()
            got = self._names[name] = self._pseudonym_of(self.scrubber.person_key(name))
        return got

    def _pseudonym_of(self, key: str) -> str:
        p = self._pseudonyms.get(key)
        if p is None:
            digest = hmac.new(self.key, key.encode(), hashlib.sha256).hexdigest()
            p = self._pseudonyms[key] = f"Person-{digest[:8]}"
        return p

    def rekey(self, rid: object) -> str | None:
        """An id's stand-in for this export: 32 hex digits of a keyed BLAKE2s (a MAC, like an
        HMAC, and faster) of the id. The same id gives the same stand-in in every column and
        file of one export, so joins hold; a new export gives new ones. No id stays none."""
        if rid is None or rid == "":
            return None if rid is None else ""
        h = self._ids.copy()
        h.update(str(rid).encode())
        return h.hexdigest()

    def scrub(self, text: str, *, tag: bool = False) -> str:
        """Free text with every known name, phone, e-mail and address replaced."""
        return self.scrubber.scrub(text, tag=tag)

    def scrub_list(self, stored: str) -> str:
        """A stored JSON list (tags) with each item scrubbed, as JSON again."""
        try:
            items = json.loads(stored)
        except ValueError:
            items = None
        if not isinstance(items, list):
            return self.scrub(stored, tag=True)
        return json.dumps([self.scrub(str(t), tag=True) for t in items], ensure_ascii=False)

    def cell(self, column: str, value: str | None) -> str:
        """One cell as a redacted export writes it (converted text in, text out)."""
        if not value:
            return ""
        if column in NAME_FIELDS:
            return self.pseudonym(value)
        if column in BLANKED_FIELDS:
            return ""
        if column in ID_FIELDS:
            return self.rekey(value) or ""
        if column in KEPT_FIELDS:
            return value
        return self.scrub(value, tag=column in records.LIST_FIELDS)

    # ------------------------------------------------------------------ whole columns
    def column(self, column: str) -> Column | None:
        """What a batch's stored cells of ``column`` become (None: kept as they are), for
        :class:`~fieldlog.export.lines.Lines`. Lists stay stored JSON, times stored text:
        the writer converts them as for any export."""
        if column in KEPT_FIELDS:
            return None
        if column in BLANKED_FIELDS:
            return lambda col, text: [None] * len(col)
        if column in ID_FIELDS:
            rekey = self.rekey
            return lambda col, text: list(map(rekey, col))
        if column in NAME_FIELDS:
            return self._cached(self.pseudonym)
        if column in records.LIST_FIELDS:
            return self._cached(self.scrub_list)
        return self._cached(self.scrub)

    @staticmethod
    def _cached(fn: Callable[[str], str]) -> Column:
        """``fn`` over a column, once per distinct cell: notes, tag lists and names repeat,
        and a column whose cells are all known maps at C speed."""
        cache: dict[Any, Any] = {None: None, "": ""}

        def run(col: Sequence[Any], text: Callable[[Any], str]) -> list[Any]:
            try:
                return list(map(cache.__getitem__, col))
            except (KeyError, TypeError):
                pass
            new = [v for v in dict.fromkeys(col) if v not in cache]
            if len(cache) + len(new) > _CACHE_MAX:
                cache.clear()
                cache[None], cache[""] = None, ""
            for v in new:
                cache[v] = fn(v if type(v) is str else text(v))
            return list(map(cache.__getitem__, col))

        return run
