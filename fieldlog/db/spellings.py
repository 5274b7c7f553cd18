"""One place, many spellings: "Eastside", "eastside", "EASTSIDE" and "East  side " typed by
different officers (or imported, or synced) are one neighborhood to a supervisor.

:func:`fold` is the key the spellings of one name share (Unicode case folded, spaces trimmed
and collapsed). Reports count by that key and show the FIRST spelling: the one of the
earliest-created live record (then the first stored, for records made in the same
millisecond), so every laptop of a synced team, and every week's report, shows the same name.

Why not SQL: SQLite's ``lower()`` and ``COLLATE NOCASE`` fold ASCII letters only ("ÉST" and
"ést" stay apart) and leave spaces alone, and a Python function called per row in a GROUP BY
costs a call per contact. Instead SQL groups by the stored value (on its index, at C speed;
a report's groups are a few dozen rows), Python merges the groups by :func:`fold`, and the
first spellings are found in the stored values' index (:class:`Names`): the distinct values
by a skip-scan (one index seek per value, not a read of every contact), and the earliest
record only for names that have more than one spelling.

New input could keep to the log's spelling as well (``--hood EASTSIDE`` stored as the
"Eastside" the log has): :func:`stored_spelling` says which; the write path does not call it
yet (a decision for the store's owner: it changes what officers' typing stores).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fieldlog.db.store import Store


def fold(value: str | None) -> str:
    """The key every spelling of one name shares: ``"  East  Side "`` -> ``"east side"``.

    NFKC first (a composed and a decomposed "é" are one letter), then Unicode case folding
    ("Straße" / "STRASSE"), then spaces trimmed and collapsed. None and blanks -> ``""``."""
    if not value:
        return ""
    return " ".join(unicodedata.normalize("NFKC", value).casefold().split())


def tidy(value: str | None) -> str:
    """A stored spelling as shown: spaces trimmed and collapsed, case kept."""
    return " ".join((value or "").split())


def distinct_values(
    store: Store, table: str = "contacts", column: str = "neighborhood"
) -> list[str]:
    """Every value stored in ``column`` (deleted records' too), in index order.

    On contacts' neighborhood (indexed: ``contacts_hood``) a recursive skip-scan: one index
    seek per distinct value, 0.05 ms for 10 names in 100,000 contacts where a ``SELECT
    DISTINCT`` walks all 100,000 index entries (7 ms). Other columns (a partner's
    neighborhood: a small table) by a plain DISTINCT."""
    if (table, column) == ("contacts", "neighborhood"):
        sql = (
            "WITH RECURSIVE d(v) AS (SELECT min(neighborhood) FROM contacts UNION ALL "
            "SELECT (SELECT min(neighborhood) FROM contacts WHERE neighborhood > d.v) "
            "FROM d WHERE d.v IS NOT NULL) SELECT v FROM d WHERE v IS NOT NULL"
        )
    else:
        sql = f"SELECT DISTINCT {column} AS v FROM {table} WHERE {column} IS NOT NULL ORDER BY 1"
    return [r["v"] for r in store.query(sql)]


def matching(
    store: Store, typed: str, table: str = "contacts", column: str = "neighborhood"
) -> list[str]:
    """The stored spellings a filter value stands for (``--hood eastside`` -> ``["EASTSIDE",
    "Eastside", "eastside"]``), for an ``IN (...)`` that keeps the column's index; empty when
    no record has that name."""
    key = fold(typed)
    return [v for v in distinct_values(store, table, column) if key and fold(v) == key]


@dataclass
class Names:
    """How the names of one column are shown: ``show(stored)`` is the first spelling of its
    name; ``variants`` the names that have other spellings, each with those spellings."""

    first: dict[str, str] = field(default_factory=dict)  # fold key -> the name shown
    variants: dict[str, list[str]] = field(default_factory=dict)  # name -> other spellings

    def key(self, stored: str | None) -> str:
        return fold(stored)

    def show(self, stored: str | None) -> str:
        """The name to show for a stored spelling ("" for none)."""
        return self.first.get(fold(stored)) or tidy(stored)

    @classmethod
    def of(cls, store: Store) -> Names:
        """The first spellings of contacts' neighborhoods (only names with variants need a
        lookup: each spelling's first live record, in stored order, on the index; then its
        rows older than the earliest of those, which are few unless the first spelling is
        not the common one)."""
        groups: dict[str, list[str]] = {}
        for v in distinct_values(store):
            groups.setdefault(fold(v), []).append(v)
        out = cls()
        for key, spellings in groups.items():
            if len(spellings) < 2 or not key:
                continue
            heads = _heads(store, spellings)
            if not heads:
                continue  # every record of that name deleted
            first = _earliest(store, heads)
            name = tidy(first)
            out.first[key] = name
            others = sorted({tidy(s) for s in heads if s != first} - {name})
            if others:
                out.variants[name] = others
        return out


def first_spelling(store: Store, spellings: Iterable[str]) -> str | None:
    """Of ``spellings`` (of one name), the one of the earliest-created live contact (ties,
    e.g. records made in one millisecond, by stored order); None if none is live.

    Exact, and cheap in the usual case: each spelling's first live row in stored order
    (one index seek each) gives a candidate; a spelling only needs all its rows read when
    one of them is older than the candidate's (records synced from another laptop are
    stored after ones they predate), and the candidate's own only then."""
    heads = _heads(store, spellings)
    return _earliest(store, heads) if heads else None


_FIRST_ROW = "SELECT created_at, rowid AS r FROM contacts WHERE neighborhood = ? AND deleted = 0 "


def _heads(store: Store, spellings: Iterable[str]) -> dict[str, tuple[str, int]]:
    """Each spelling that has a live contact: (created_at, rowid) of its first in stored
    order (the index holds a value's rows in rowid order: one seek)."""
    heads: dict[str, tuple[str, int]] = {}
    for s in spellings:
        rows = store.query(_FIRST_ROW + "ORDER BY rowid LIMIT 1", [s])
        if rows:
            heads[s] = (rows[0]["created_at"], rows[0]["r"])
    return heads


def _earliest(store: Store, heads: dict[str, tuple[str, int]]) -> str:
    cand = min(heads, key=lambda s: heads[s])
    t = heads[cand]
    earliest = _FIRST_ROW + "AND created_at <= ? ORDER BY created_at, rowid LIMIT 1"
    older: dict[str, tuple[str, int]] = {}
    for s in heads:
        if s == cand:
            continue
        rows = store.query(earliest, [s, t[0]])
        if rows and (rows[0]["created_at"], rows[0]["r"]) < t:
            older[s] = (rows[0]["created_at"], rows[0]["r"])
    if not older:
        return cand
    rows = store.query(earliest, [cand, t[0]])  # the candidate's own oldest row
    older[cand] = min(t, (rows[0]["created_at"], rows[0]["r"])) if rows else t
    return min(older, key=lambda s: older[s])


def stored_spelling(store: Store, typed: str) -> str:
    """The spelling a new record should store for a name typed: the log's own spelling of
    that name when it has one ("EASTSIDE" typed, "Eastside" stored -> "Eastside"), else the
    name as typed. For the write path, and cheap on
    ``fieldlog add``: the skip-scan and one index seek per stored spelling of the name (the
    first-stored record of each stands for its age, an approximation the reports do not
    make). Not called yet: see the module's docstring."""
    key = fold(typed)
    same = [v for v in distinct_values(store) if key and fold(v) == key]
    heads = _heads(store, same) if len(same) > 1 else dict.fromkeys(same, ("", 0))
    if not heads:
        return typed
    return min(heads, key=lambda s: heads[s])


def merge(
    rows: Iterable[dict[str, Any]],
    column: str,
    measures: Iterable[str],
    names: Names,
    *,
    also: tuple[str, ...] = (),
) -> list[dict[str, Any]]:
    """Grouped rows with ``column`` a stored spelling -> one row per name (and per value of
    the ``also`` columns), its ``measures`` added up, ``column`` the name shown. In the
    order first met (callers sort)."""
    measures = tuple(measures)
    out: dict[tuple[Any, ...], dict[str, Any]] = {}
    for r in rows:
        k = (names.key(r[column]), *(r[a] for a in also))
        have = out.get(k)
        if have is None:
            out[k] = {**r, column: names.show(r[column])}
        else:
            for m in measures:
                have[m] = (have[m] or 0) + (r[m] or 0)
    return list(out.values())
