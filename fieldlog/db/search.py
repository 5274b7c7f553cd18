"""Full-text search (``store.search``) over every record type with a search index.

What an officer types becomes an FTS5 query that cannot be a syntax error
(:func:`fts_query`), and one UNION over the indexes the record registry names
(:func:`hits_sql`) finds the hits. The contact list reuses the same SQL to filter by text.

:meth:`Search.ranked` is the search of the TUI and of ``fieldlog search`` (:meth:`Search.hits`):
weighted relevance, the field that matched, who and when, the list's filters, and pages. Its
cost is bounded whatever the word (docs/storage.md, "Search"): an index where the words match
at most :data:`CANDIDATES` records is ranked by FTS5's bm25 over every hit, as it always was;
in one where they match more, the newest :data:`CANDIDATES` hits (read newest first, the
index's own rowid order, so FTS5 stops after them) are ranked by the same bm25 formula in
Python (:func:`bm25`), from what one pass over those hits gives: the matches in each column
(``highlight``), the row's length (the index's ``docsize``) and the word's frequency
(estimated from how densely the newest hits lie). FTS5's own ``ORDER BY rank LIMIT n`` cannot
do this: bm25 scores every hit (and counts each word's hits over the whole index) before the
LIMIT, 3 s for "the" in a 1,000,000-contact log.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from fieldlog import records
from fieldlog.db import spellings

if TYPE_CHECKING:
    from fieldlog.db.repos.base import Rows
    from fieldlog.db.store import Store

# The last word typed matches as a prefix (search as you type) from this many characters: a
# shorter one is a word of its own ("st" finds "St", not every "street", "staff", "stairs").
PREFIX_MIN = 3
# An index where the words match more records than this ranks only its newest CANDIDATES hits
# (the bound on a search's cost: ~10 us of CPU per candidate). ``fieldlog search`` asking for
# more results than this (``--json`` without --limit) ranks every hit, as before.
CANDIDATES = 500
K1, B = 1.2, 0.75  # FTS5's bm25 constants (fts5_aux.c)
ELLIPSIS = " … "


def phrases(text: str, *, min_prefix: int | None = None) -> list[str]:
    """What an officer typed as FTS5 phrases, one per word, each a quoted string (so
    ``after-school``, ``"``, ``*``, ``NOT`` are data); the last one matches as a prefix (search
    as you type) when it has ``min_prefix`` (default :data:`PREFIX_MIN`) characters or more."""
    words = [w for w in text.replace('"', " ").split() if w.strip()]
    quoted = [f'"{w}"' for w in words]
    if words and len(words[-1]) >= (PREFIX_MIN if min_prefix is None else min_prefix):
        quoted[-1] += "*"
    return quoted


def fts_query(text: str, *, min_prefix: int | None = None) -> str | None:
    """What an officer typed, as an FTS5 query that cannot be a syntax error: every word must
    match (:func:`phrases`), the last one as a prefix from ``min_prefix`` characters (a
    one- or two-letter prefix matches nearly every record and costs a pass over all of them)."""
    return " ".join(phrases(text, min_prefix=min_prefix)) or None


def varints(blob: bytes) -> list[int]:
    """The SQLite varints of an FTS5 record (``docsize``: tokens per column; the averages
    record: rows, then tokens per column)."""
    out: list[int] = []
    i, n = 0, len(blob)
    while i < n:
        v = 0
        for j in range(9):
            c = blob[i]
            i += 1
            if j == 8:
                v = (v << 8) | c
                break
            v = (v << 7) | (c & 0x7F)
            if c < 0x80:
                break
        out.append(v)
    return out


def idf(rows: int, hits: float) -> float:
    """FTS5's bm25 IDF of a word in ``hits`` of ``rows`` records (at least 1e-6)."""
    v = math.log((rows - hits + 0.5) / (hits + 0.5))
    return v if v > 0.0 else 1e-6


def bm25(freq: float, length: float, avgdl: float, idfs: Sequence[float]) -> float:
    """FTS5's bm25 (``fts5Bm25Function``) of a row: ``freq`` its weighted matches of each
    phrase (the column weights times the matches in each column), ``length`` its tokens,
    ``avgdl`` the index's mean tokens per row, ``idfs`` one per phrase. Lower is better."""
    score = 0.0
    for w in idfs:
        score += w * ((freq * (K1 + 1.0)) / (freq + K1 * (1 - B + B * length / avgdl)))
    return -1.0 * score


def window(marked: str, tokens: int) -> str:
    """A snippet of a highlighted column (matches between \\x02 and \\x03): the ``tokens``
    words holding the most matches, with :data:`ELLIPSIS` where words were left out."""
    spans = [m.span() for m in re.finditer(r"\S+", marked)]
    if len(spans) <= tokens:
        return marked
    marks = [marked[a:b].count("\x02") for a, b in spans]
    best, start, inside = -1, 0, sum(marks[:tokens])
    for i in range(len(spans) - tokens + 1):
        if i:
            inside += marks[i + tokens - 1] - marks[i - 1]
        if inside > best:
            best, start = inside, i
    end = start + tokens - 1
    text = marked[spans[start][0] : spans[end][1]]
    head = ELLIPSIS.lstrip() if start else ""
    tail = ELLIPSIS.rstrip() if end < len(spans) - 1 else ""
    return head + text + tail


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
        """``fieldlog search``: the :meth:`ranked` hits over every record type as ``type``,
        ``id``, ``contact_id``, ``rank`` (lower is better), ``title``, ``snippet`` (matches
        marked with the characters \\x02 and \\x03) and ``short_id``."""
        keys = ("type", "id", "contact_id", "rank", "title", "snippet", "short_id")
        rows = self.ranked(text, limit=limit, every=limit > CANDIDATES)
        for r in rows:
            r["rank"] = r["score"]
        return [{k: r[k] for k in keys} for r in rows]

    def count(self, text: str) -> int:
        """How many records :meth:`hits` matches in all: one count per index, no join (an
        index holds live records only)."""
        match = fts_query(text)
        if match is None:
            return 0
        return sum(
            int(self.store.scalar(f"SELECT count(*) FROM {t}_fts WHERE {t}_fts MATCH ?", [match]))
            for t in records.FTS_COLUMNS
        )

    def ranked(
        self,
        text: str,
        *,
        limit: int = 100,
        offset: int = 0,
        filters: Mapping[str, str] | None = None,
        every: bool = False,
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
        those contacts; partners only by ``hood``.

        Each index ranks its own matches. Where the words match more than :data:`CANDIDATES`
        records of an index, only its newest :data:`CANDIDATES` hits are ranked (pages stop
        there), unless ``every`` is set. Else every hit is, by FTS5, and only the best
        ``offset + limit`` rows get snippets and joins.
        """
        words = phrases(text)
        if not words:
            return []
        given = {k: v for k, v in (filters or {}).items() if v}
        want = int(limit) + int(offset)
        rows: Rows = []
        for r in records.iter_types():
            if r.fts:
                rows += self._ranked_in(r, words, want, given, every)
        rows.sort(key=lambda d: (d["score"], d["type"], d["id"]))
        page = rows[int(offset) : want]
        for d in page:
            d["short_id"] = self.store.records.short_id(records.by_noun(d["type"]).table, d["id"])
        return page

    # ------------------------------------------------------------------ one index
    def _ranked_in(
        self,
        r: records.RecordType,
        words: Sequence[str],
        want: int,
        filters: Mapping[str, str],
        every: bool,
    ) -> Rows:
        """The best ``want`` hits of one index with the field that matched and its snippet:
        ranked by FTS5 over every hit when they are few (or ``every``), else the newest
        :data:`CANDIDATES` ranked here (:meth:`_bounded`)."""
        match = " ".join(words)
        scope = self._scope(r, match, filters)
        if scope is None:
            return []
        join, where, args = scope
        if len(words) > 1 and not all(self._any(r, w) for w in words if not w.endswith("*")):
            return []  # a word this index lacks: skip the pass over a prefix word's hits
        if not every:
            newest = self._newest(r, join, where, args)
            if not newest:
                return []
            if len(newest) > CANDIDATES or not self._few(r, words):
                return self._bounded(r, words, newest[:CANDIDATES], want, bool(filters))
        return self._exact(r, join, where, args, want)

    def _scope(
        self, r: records.RecordType, match: str, filters: Mapping[str, str]
    ) -> tuple[str, list[str], list[Any]] | None:
        """The join, WHERE terms and parameters that find the hits of one index under the
        filters (None: the filters leave this record type out)."""
        fts = f"{r.table}_fts"
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
                return None
            join = f" JOIN {r.table} t ON t.rowid = {fts}.rowid"
            # Every stored spelling of the name typed ("eastside" finds "East  Side"):
            # partners are a few hundred rows at most, their names read in one DISTINCT.
            typed = filters["hood"].strip()
            hoods = spellings.matching(self.store, typed, r.table, "neighborhood") or [typed]
            where.append(f"t.neighborhood IN ({', '.join('?' * len(hoods))})")
            args += hoods
        return join, where, args

    def _newest(
        self, r: records.RecordType, join: str, where: Sequence[str], args: Sequence[Any]
    ) -> list[tuple[Any, ...]]:
        """The newest ``CANDIDATES + 1`` hits (rowid order, which FTS5 reads backwards and
        stops): rowid, the docsize record, each indexed column highlighted."""
        fts, cols = f"{r.table}_fts", records.FTS_COLUMNS[r.table]
        marked = ", ".join(f"highlight({fts}, {i}, char(2), char(3))" for i in range(len(cols)))
        return self._raw(
            f"SELECT {fts}.rowid, (SELECT sz FROM {fts}_docsize WHERE id = {fts}.rowid), "
            f"{marked} FROM {fts}{join} WHERE {' AND '.join(where)} "
            f"ORDER BY {fts}.rowid DESC LIMIT {CANDIDATES + 1}",
            args,
        )

    def _few(self, r: records.RecordType, words: Sequence[str]) -> bool:
        """Whether FTS5's bm25 over every hit stays bounded: it counts each word's hits over
        the whole index, so each must match at most :data:`CANDIDATES` records. One word is
        the query itself (its hits were just read); of several, a prefix one is not counted
        (that would cost a pass over all its hits), so they go to :meth:`_bounded`."""
        if len(words) == 1:
            return True
        if words[-1].endswith("*"):
            return False
        fts = f"{r.table}_fts"
        return all(self._kth(fts, w) is None for w in words)

    def _any(self, r: records.RecordType, phrase: str) -> bool:
        fts = f"{r.table}_fts"
        return bool(self.store.scalar(f"SELECT 1 FROM {fts} WHERE {fts} MATCH ? LIMIT 1", [phrase]))

    def _kth(self, fts: str, phrase: str) -> int | None:
        """The rowid of the ``CANDIDATES``-th newest hit of ``phrase`` (None: fewer hits)."""
        return self.store.scalar(
            f"SELECT rowid FROM {fts} WHERE {fts} MATCH ? ORDER BY rowid DESC "
            f"LIMIT 1 OFFSET {CANDIDATES - 1}",
            [phrase],
        )

    def _frequency(self, fts: str, rows: int, newest: int, hits: int) -> float:
        """How many of the index's ``rows`` records a word is in, from its ``hits`` newest
        hits, the oldest of them ``newest``: the share of the records from there on that it
        matches, over the whole index."""
        since = int(
            self.store.scalar(f"SELECT count(*) FROM {fts}_docsize WHERE id >= ?", [newest])
        )
        return min(float(rows), hits * rows / max(since, 1))

    def _bounded(
        self,
        r: records.RecordType,
        words: Sequence[str],
        newest: Sequence[tuple[Any, ...]],
        want: int,
        filtered: bool,
    ) -> Rows:
        """Rank ``newest`` (rows of :meth:`_newest`) by :func:`bm25` here: the column weights
        times each column's matches (its highlighted words), shared equally by the words when
        there are several; the row's tokens from ``docsize``; each word's IDF from its
        frequency (:meth:`_frequency`: the query's own newest hits for one word or a prefix
        word; a non-prefix word's own newest hits else)."""
        fts, cols = f"{r.table}_fts", records.FTS_COLUMNS[r.table]
        total, avgdl = self._averages(fts)
        if len(newest) < CANDIDATES:  # all the hits there are (of several words)
            own = float(len(newest))
        else:
            own = self._frequency(fts, total, newest[-1][0], len(newest))
        idfs = []
        for w in words:
            n = own
            if not w.endswith("*") and (len(words) > 1 or filtered):
                kth = self._kth(fts, w)
                if kth is None:
                    n = float(self.store.scalar(
                        f"SELECT count(*) FROM {fts} WHERE {fts} MATCH ?", [w]))  # fmt: skip
                else:
                    n = self._frequency(fts, total, kth, CANDIDATES)
            idfs.append(idf(total, n))
        weight = WEIGHTS.get(r.table, {})
        wcol = [float(weight.get(c, 1.0)) for c in cols]
        share = 1.0 / len(words)
        scored = []
        for rowid, sz, *marked in newest:
            freq = (
                sum(w * (m.count("\x02") if m else 0) for w, m in zip(wcol, marked, strict=True))
                * share
            )
            length = float(sum(sz) if sz and max(sz) < 0x80 else sum(varints(sz or b"")))
            scored.append((bm25(freq, length, avgdl, idfs), -rowid, rowid, marked))
        scored.sort()
        best = {s[2]: s for s in scored[:want]}
        shown, joins = self._shown(r)
        rows = self.store.query(
            f"SELECT {shown}, t.rowid AS rid FROM {r.table} t{joins} "
            "WHERE t.rowid IN (SELECT value FROM json_each(?)) AND t.deleted = 0",
            [f"[{','.join(str(k) for k in best)}]"],
        )
        for row in rows:
            score, _, _, marked = best[row.pop("rid")]
            row["score"] = score
            self._matched(r, row, [window(m or "", SNIPPET_TOKENS) for m in marked])
        return rows

    def _averages(self, fts: str) -> tuple[int, float]:
        """The index's record count and mean tokens per record (FTS5's averages record)."""
        blob = self.store.scalar(f"SELECT block FROM {fts}_data WHERE id = 1")
        values = varints(blob or b"")
        rows = values[0] if values else 0
        return rows, (sum(values[1:]) / rows if rows else 1.0) or 1.0

    def _exact(
        self,
        r: records.RecordType,
        join: str,
        where: Sequence[str],
        args: Sequence[Any],
        want: int,
    ) -> Rows:
        """The best ``want`` hits of one index, ranked by FTS5 over all of them, with a
        snippet of each indexed column."""
        fts, cols = f"{r.table}_fts", records.FTS_COLUMNS[r.table]
        snips = ", ".join(
            f"snippet({fts}, {i}, char(2), char(3), '{ELLIPSIS}', {SNIPPET_TOKENS}) AS s{i}"
            for i in range(len(cols))
        )
        # ``rank MATCH 'bm25(...)'`` with ORDER BY rank lets FTS5 sort by itself: SQLite then
        # makes the snippets of the rows the LIMIT keeps only (a bm25() in ORDER BY would
        # make them for every match before sorting: 4x slower on a common word).
        terms = [*where, f"{fts}.rank MATCH 'bm25({_weights(r.table)})'"]
        hits = (
            f"SELECT {fts}.rowid AS rid, {fts}.rank AS score, {snips} "
            f"FROM {fts}{join} WHERE {' AND '.join(terms)} ORDER BY {fts}.rank LIMIT {int(want)}"
        )
        shown, joins = self._shown(r)
        rows = self.store.query(
            f"SELECT {shown}, h.* FROM ({hits}) h JOIN {r.table} t ON t.rowid = h.rid{joins} "
            "WHERE t.deleted = 0",
            list(args),
        )
        for row in rows:
            row.pop("rid")
            self._matched(r, row, [row.pop(f"s{i}") or "" for i in range(len(cols))])
        return rows

    @staticmethod
    def _shown(r: records.RecordType) -> tuple[str, str]:
        """The columns a result shows (over the record as ``t``) and the joins they need."""
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
        shown = (
            f"'{r.noun}' AS type, t.id, {contact_id} AS contact_id, {when} AS \"when\", "
            f"{who} AS who, {place} AS place, t.{r.title} AS title, {status} AS status"
        )
        return shown, joins

    @staticmethod
    def _matched(r: records.RecordType, row: dict[str, Any], snippets: Sequence[str]) -> None:
        """Set ``field``, ``fields`` and ``snippet`` of a hit from each indexed column's
        snippet: the column whose snippet marks the most matched words is the field that
        matched (a tie goes to the heavier column)."""
        cols = records.FTS_COLUMNS[r.table]
        weight = WEIGHTS.get(r.table, {})
        pairs = enumerate(zip(snippets, cols, strict=True))
        matched = [(s.count("\x02"), weight.get(col, 1.0), -i, s, col)
                   for i, (s, col) in pairs if "\x02" in s]  # fmt: skip
        row["fields"] = [m[4] for m in matched]
        if matched:
            best = max(matched)
            row["field"], row["snippet"] = best[4], best[3]
        else:  # cannot happen for a row the MATCH found; say what there is
            row["field"], row["snippet"] = cols[0], snippets[0]

    def _raw(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        """Rows as tuples (the candidates: no dict per row)."""
        try:
            return self.store.conn.execute(sql, params).fetchall()
        except self.store.db_error as exc:
            from fieldlog.db.connect import explain

            raise explain(exc, self.store.path) from None
