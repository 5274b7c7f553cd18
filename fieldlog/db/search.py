"""Full-text search (``store.search``) over every record type with a search index.

What an officer types becomes an FTS5 query that cannot be a syntax error
(:func:`fts_query`), and one UNION over the indexes the record registry names
(:func:`hits_sql`) finds the hits. The contact list reuses the same SQL to filter by text.

:meth:`Search.ranked` is the TUI's search: weighted relevance, the field that matched, who
and when, the list's filters, and pages; it ranks first and reads snippets only for the page.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from fieldlog import records
from fieldlog.db import spellings

if TYPE_CHECKING:
    from fieldlog.db.repos.base import Rows
    from fieldlog.db.store import Store


def fts_query(text: str, *, min_prefix: int = 1) -> str | None:
    """What an officer typed, as an FTS5 query that cannot be a syntax error.

    Every word becomes a quoted string (so ``after-school``, ``"``, ``*``, ``NOT`` are data),
    all words must match, and the last one matches as a prefix (search as you type) when it
    has ``min_prefix`` characters or more (a one-letter prefix matches nearly every record:
    the TUI's search as you type asks for two).
    """
    words = [w for w in text.replace('"', " ").split() if w.strip()]
    if not words:
        return None
    quoted = [f'"{w}"' for w in words]
    if len(words[-1]) >= min_prefix:
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


# How much a match in each indexed column counts in :meth:`Search.ranked` (FTS5 bm25 column
# weights): a word in a contact's summary or a person's name says more about the record than
# the same word deep in its notes. Columns not named weigh 1.
WEIGHTS: dict[str, dict[str, float]] = {
    "contacts": {"summary": 4.0, "person_name": 3.0, "location": 2.0, "notes": 1.0},
    "concerns": {"description": 2.0, "resolution": 1.0},
    "referrals": {"agency": 3.0, "reason": 2.0, "outcome": 1.0},
    "organizations": {"name": 4.0, "contact_person": 3.0, "services": 2.0, "notes": 1.0},
}
SNIPPET_TOKENS = 16  # words around the match in a result's snippet (FTS5 allows up to 64)
# The filters a partner can be narrowed by (its own neighborhood). The others (kind, tag,
# dates, officer) are about contacts: while one is set, partners leave the results.
ORG_FILTERS = frozenset({"hood"})


def _weights(table: str) -> str:
    w = WEIGHTS.get(table, {})
    return ", ".join(repr(float(w.get(col, 1.0))) for col in records.FTS_COLUMNS[table])


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

    def ranked(
        self,
        text: str,
        *,
        limit: int = 100,
        offset: int = 0,
        filters: Mapping[str, str] | None = None,
    ) -> Rows:
        """The best hits first over every record type (weighted bm25, :data:`WEIGHTS`), a
        page at a time, each with what a results list shows: ``type`` (the noun), ``id``,
        ``short_id``, ``contact_id``, ``when`` (its contact's time), ``who`` (its contact's
        person, else organization; a partner's own name), ``place`` (its contact's
        location), ``title``, ``status``, ``field``
        (the indexed column that matched best), ``fields`` (every column that matched),
        ``snippet`` (that column's words around the match, marked with \\x02 and \\x03)
        and ``score`` (lower is better).

        ``filters`` are the contact list's (``hood``, ``kind``, ``tag``, ``since``,
        ``until``, ``officer``): they narrow contacts and the concerns and referrals of
        those contacts; partners only by ``hood``. Each index ranks its own matches and
        only its best ``offset + limit`` rows get snippets and joins (SQLite evaluates
        those after the ORDER BY ... LIMIT), so a word in 30,000 contacts costs one ranked
        pass over its postings, not 30,000 snippets.
        """
        match = fts_query(text, min_prefix=2)
        if match is None:
            return []
        given = {k: v for k, v in (filters or {}).items() if v}
        want = int(limit) + int(offset)
        rows: Rows = []
        for r in records.iter_types():
            if r.fts:
                rows += self._ranked_in(r, match, want, given)
        rows.sort(key=lambda d: (d["score"], d["type"], d["id"]))
        page = rows[int(offset) : want]
        for d in page:
            d["short_id"] = self.store.records.short_id(records.by_noun(d["type"]).table, d["id"])
        return page

    def _ranked_in(
        self, r: records.RecordType, match: str, want: int, filters: Mapping[str, str]
    ) -> Rows:
        """The best ``want`` hits of one index, ranked, with a snippet of each indexed
        column: the column whose snippet marks the most matched words is the field that
        matched (a tie goes to the heavier column)."""
        fts, cols = f"{r.table}_fts", records.FTS_COLUMNS[r.table]
        where, args = [f"{fts} MATCH ?"], [match]
        join = ""  # the join the filters need before the LIMIT
        if r.table == "contacts" or r.parent_table == "contacts":
            if filters:
                alias = "t"
                join = f" JOIN {r.table} t ON t.rowid = {fts}.rowid"
                if r.table != "contacts":
                    join += f" JOIN contacts c ON c.id = t.{r.parent[1]}"  # type: ignore[index]
                    alias = "c"
                terms, params = self.store.contacts.filters(alias=alias, **filters)
                where += terms
                args += params
        elif filters:
            if set(filters) - ORG_FILTERS or "neighborhood" not in r.fields:
                return []
            join = f" JOIN {r.table} t ON t.rowid = {fts}.rowid"
            # Every stored spelling of the name typed ("eastside" finds "East  Side"):
            # partners are a few hundred rows at most, their names read in one DISTINCT.
            typed = filters["hood"].strip()
            hoods = spellings.matching(self.store, typed, r.table, "neighborhood") or [typed]
            where.append(f"t.neighborhood IN ({', '.join('?' * len(hoods))})")
            args += hoods
        snips = ", ".join(
            f"snippet({fts}, {i}, char(2), char(3), ' … ', {SNIPPET_TOKENS}) AS s{i}"
            for i in range(len(cols))
        )
        # ``rank MATCH 'bm25(...)'`` with ORDER BY rank lets FTS5 sort by itself: SQLite then
        # makes the snippets of the rows the LIMIT keeps only (a bm25() in ORDER BY would
        # make them for every match before sorting: 4x slower on a common word).
        where.append(f"{fts}.rank MATCH 'bm25({_weights(r.table)})'")
        hits = (
            f"SELECT {fts}.rowid AS rid, {fts}.rank AS score, {snips} "
            f"FROM {fts}{join} WHERE {' AND '.join(where)} ORDER BY {fts}.rank LIMIT {int(want)}"
        )
        if r.table == "contacts":
            joins = " LEFT JOIN organizations o ON o.id = t.organization_id"
            contact_id, when, who = "t.id", "t.occurred_at", "coalesce(t.person_name, o.name)"
            place = "t.location"
        elif r.parent_table == "contacts":
            contact_id = f"t.{r.parent[1]}"  # type: ignore[index]
            joins = (
                f" JOIN contacts c ON c.id = {contact_id}"
                " LEFT JOIN organizations o ON o.id = c.organization_id"
            )
            when, who, place = "c.occurred_at", "coalesce(c.person_name, o.name)", "c.location"
        else:
            joins, contact_id, when, who, place = "", "NULL", "NULL", f"t.{r.title}", "NULL"
        status = "t.status" if "status" in r.fields else "NULL"
        rows = self.store.query(
            f"SELECT '{r.noun}' AS type, t.id, {contact_id} AS contact_id, {when} AS \"when\", "
            f"{who} AS who, {place} AS place, t.{r.title} AS title, {status} AS status, h.* "
            f"FROM ({hits}) h JOIN {r.table} t ON t.rowid = h.rid{joins} WHERE t.deleted = 0",
            args,
        )
        weight = WEIGHTS.get(r.table, {})
        for row in rows:
            row.pop("rid")
            found = [(row.pop(f"s{i}") or "", col) for i, col in enumerate(cols)]
            matched = [(s.count("\x02"), weight.get(col, 1.0), -i, s, col)
                       for i, (s, col) in enumerate(found) if "\x02" in s]  # fmt: skip
            row["fields"] = [m[4] for m in matched]
            if matched:
                best = max(matched)
                row["field"], row["snippet"] = best[4], best[3]
            else:  # cannot happen for a row the MATCH found; say what there is
                row["field"], row["snippet"] = cols[0], found[0][0]
        return rows
