"""Full-text search (``store.search``) over every record type with a search index.

What an officer types becomes an FTS5 query that cannot be a syntax error
(:func:`fts_query`), and one UNION over the indexes the record registry names
(:func:`hits_sql`) finds the hits. The contact list reuses the same SQL to filter by text.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fieldlog import records

if TYPE_CHECKING:
    from fieldlog.db.repos.base import Rows
    from fieldlog.db.store import Store


def fts_query(text: str) -> str | None:
    """What an officer typed, as an FTS5 query that cannot be a syntax error.

    Every word becomes a quoted string (so ``after-school``, ``"``, ``*``, ``NOT`` are data),
    all words must match, and the last one matches as a prefix (search as you type).
    """
    words = [w for w in text.replace('"', " ").split() if w.strip()]
    if not words:
        return None
    quoted = [f'"{w}"' for w in words]
    quoted[-1] += "*"
    return " ".join(quoted)


def hits_sql(*, snippets: bool = False) -> str:
    """A UNION over the FTS tables of the registry: type, id, contact_id, rank (and snippets).
    Takes the match text once per index (``len(records.FTS_COLUMNS)`` parameters)."""

    def part(table: str, typ: str, contact: str, title: str, fts: str) -> str:
        extra = ""
        if snippets:
            extra = (
                f", {title} AS title, snippet({fts}, -1, char(2), char(3), ' … ', 12) AS snippet"
            )
        return (
            f"SELECT '{typ}' AS type, t.id, {contact} AS contact_id, {fts}.rank AS rank{extra} "
            f"FROM {fts} JOIN {table} t ON t.rowid = {fts}.rowid "
            f"WHERE {fts} MATCH ? AND t.deleted = 0"
        )

    def contact_of(r: records.RecordType) -> str:
        if r.table == "contacts":
            return "t.id"
        if r.parent and r.parent[0] == "contacts":
            return f"t.{r.parent[1]}"
        return "NULL"

    return " UNION ALL ".join(
        part(r.table, r.noun, contact_of(r), f"t.{r.title}", f"{r.table}_fts")
        for r in records.iter_types()
        if r.fts
    )


class Search:
    def __init__(self, store: Store) -> None:
        self.store = store

    def hits(self, text: str, *, limit: int = 20) -> Rows:
        """Ranked full-text hits over every record type; ``snippet`` marks matches
        with the characters \\x02 and \\x03."""
        match = fts_query(text)
        if match is None:
            return []
        sql = f"{hits_sql(snippets=True)} ORDER BY rank LIMIT {int(limit)}"
        rows = self.store.query(sql, [match] * len(records.FTS_COLUMNS))
        for r in rows:
            r["short_id"] = self.store.records.short_id(records.by_noun(r["type"]).table, r["id"])
        return rows
