"""The SQL of exports (``store.exports``): which rows a filter keeps, and how a cell is written.

:meth:`Exports.raw_rows` streams the cells as stored; fieldlog's export package quotes,
neutralises and converts them. The SQL expressions here (:meth:`Exports.rows`: one CSV line
per row, or ``form="cells"`` converted but unquoted) define the exact output,
and :meth:`Exports.value` applies them to the odd values the export's fast path leaves.
"""

from __future__ import annotations

import calendar
import os
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from fieldlog import dates, models, records
from fieldlog.db.connect import explain
from fieldlog.errors import ValidationError

if TYPE_CHECKING:
    from fieldlog.db.store import Store

# The formula prefixes (models.FORMULA_PREFIXES, the one copy) as an SQL list.
_RISKY_SQL = ", ".join("'" + p.replace("'", "''") + "'" for p in models.FORMULA_PREFIXES)

# Separate the parts of a packed row (Exports.packed_rows), and the cells of a part: control
# characters, which no typed or imported text holds (a cell that does makes the export fetch
# its batch unpacked).
PACK_PART = "\x1e"
PACK_SEP = "\x1f"
# Below this many rows an export runs in one process (a fork costs more than it saves).
EXPORT_SPLIT_MIN_ROWS = 50_000
TABLES = (*records.TABLES, "flat")  # "flat": one row per concern or referral, with its contact
FILTERS = ("since", "until", "officer", "hood", "tag", "category", "status")
_CONTACT_FILTERS = {"since", "until", "officer", "hood", "tag", "category"}


def _of_contact(table: str) -> bool:
    """A contact or a record of one: the contact-level filters (period, tag...) apply."""
    return table == "contacts" or records.get(table).parent_table == "contacts"


def _applies(table: str) -> set[str]:
    if table == "flat":
        return set(FILTERS)
    fields = records.get(table).fields
    out = set(_CONTACT_FILTERS) if _of_contact(table) else {"officer"}
    return out | {f for f, col in (("hood", "neighborhood"), ("status", "status")) if col in fields}


# Which filters each table understands; the others are refused (or skipped by ``all``).
APPLIES = {t: _applies(t) for t in TABLES}
FLAT_ARMS = {
    "concern": (
        "SELECT 'concern' AS record_type, k.id AS record_id, k.contact_id AS contact_id, "
        "c.occurred_at AS occurred_at, c.officer AS officer, c.neighborhood AS neighborhood, "
        "c.kind AS kind, c.summary AS summary, k.category AS category, "
        "k.priority AS priority, k.status AS status, k.description AS description, "
        "NULL AS agency, NULL AS service, NULL AS reason, NULL AS follow_up_on, "
        "NULL AS outcome, k.resolved_at AS resolved_at "
        "FROM concerns k JOIN contacts c ON c.id = k.contact_id"
    ),
    "referral": (
        "SELECT 'referral', r.id, r.contact_id, c.occurred_at, c.officer, c.neighborhood, "
        "c.kind, c.summary, (SELECT x.category FROM concerns x WHERE x.id = r.concern_id), "
        "NULL, r.status, NULL, r.agency, r.service, r.reason, r.follow_up_on, r.outcome, "
        "NULL FROM referrals r JOIN contacts c ON c.id = r.contact_id"
    ),
}
_STATUSES = {
    "concerns": models.CONCERN_STATUSES,
    "referrals": models.REFERRAL_STATUSES,
    "organizations": models.ORG_STATUSES,
    "flat": models.CONCERN_STATUSES
    + tuple(s for s in models.REFERRAL_STATUSES if s not in models.CONCERN_STATUSES),
}
_TZ_CACHE: dict[tuple, list[tuple[str, int]]] = {}


# ---------------------------------------------------------------------- SQL expressions
def tz_spans(lo: int = 1990, hi: int = 2050) -> list[tuple[str, int]]:
    """The local zone's UTC offsets (minutes) from ``lo`` to ``hi``: (UTC start as
    ``YYYY-MM-DDTHH:MM:SS``, offset) per span, from ``time.localtime`` (what Python's
    ``astimezone()`` uses). Cached per zone."""
    key = (os.environ.get("TZ"), time.tzname, lo, hi)
    cached = _TZ_CACHE.get(key)
    if cached is not None:
        return cached

    def off(ts: int) -> int:
        return time.localtime(ts).tm_gmtoff

    start = calendar.timegm((lo, 1, 1, 0, 0, 0))
    end = calendar.timegm((hi, 1, 1, 0, 0, 0))
    spans = [(time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(start)), off(start))]
    step = 6 * 3600
    t, cur = start, off(start)
    while t < end:
        nxt = min(t + step, end)
        if off(nxt) != cur:
            a, b = t, nxt  # off(a) == cur != off(b): find the first second of the change
            while b - a > 1:
                m = (a + b) // 2
                a, b = (m, b) if off(m) == cur else (a, m)
            cur = off(b)
            spans.append((time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(b)), cur))
        t = nxt
    result = [(at, o // 60) for at, o in spans]
    if any(o % 60 for _, o in spans):
        result = []  # offsets with seconds (old local mean times): SQLite's own way
    _TZ_CACHE[key] = result
    return result


def sql_local_iso(x: str, *, ms: bool = False) -> str:
    """SQL for a stored UTC text ``x`` as local ISO 8601 with the offset in force at that
    instant (NULL stays NULL); ``ms`` keeps the stored milliseconds, if any.

    Between 1990 and 2050 the offsets come from a table of the zone's transitions (a binary
    search of CASEs on the text, then a fixed shift), 10x faster than SQLite's
    ``localtime``, which the years outside use."""
    frac = f" || rtrim(substr({x}, 20, 4), 'Z')" if ms else ""

    def text(m: int) -> str:
        return f"{'-' if m < 0 else '+'}{abs(m) // 60:02d}:{abs(m) % 60:02d}"

    m = f"CAST(round((julianday({x}, 'localtime') - julianday({x})) * 1440) AS INTEGER)"
    generic = (
        f"strftime('%Y-%m-%dT%H:%M:%S', {x}, 'localtime'){frac} || CASE WHEN {m} < 0 "
        f"THEN '-' ELSE '+' END || printf('%02d:%02d', abs({m}) / 60, abs({m}) % 60)"
    )
    spans = tz_spans()
    if not spans:
        return generic

    def node(a: int, b: int) -> str:
        if b - a == 1:
            shift = spans[a][1]
            return (
                f"replace(datetime({x}, '{shift:+d} minutes'), ' ', 'T'){frac} || '{text(shift)}'"
            )
        mid = (a + b) // 2
        return f"CASE WHEN {x} < '{spans[mid][0]}' THEN {node(a, mid)} ELSE {node(mid, b)} END"

    return (
        f"CASE WHEN {x} < '1990-01-01' OR {x} >= '2050-01-01' THEN {generic} "
        f"ELSE {node(0, len(spans))} END"
    )


def sql_csv_cell(x: str, *, raw: bool = False) -> str:
    """SQL for ``x`` as one RFC 4180 cell ('' for NULL), with a leading ``'`` when it would
    run as a spreadsheet formula unless ``raw``. (Control characters are literal in the
    SQL text: a ``char(10)`` call per cell costs 10% of an export.)"""
    need = f"instr({x}, '\"') OR instr({x}, ',') OR instr({x}, '\n') OR instr({x}, '\r')"
    quoted = f"replace({x}, '\"', '\"\"')"
    if raw:
        return f"CASE WHEN {need} THEN '\"' || {quoted} || '\"' ELSE ifnull({x}, '') END"
    risky = f"substr({x}, 1, 1) IN ({_RISKY_SQL})"
    # Cheap comparisons first: only text from '\t' to '-' or from '=' to '@' can be risky.
    maybe = f"{x} < '.' OR ({x} >= '=' AND {x} < 'A')"
    return (
        f"CASE WHEN {need} THEN '\"' || CASE WHEN {risky} THEN '''' ELSE '' END || {quoted} "
        f"|| '\"' WHEN {maybe} THEN CASE WHEN {risky} THEN '''' || {x} ELSE {x} END "
        f"ELSE ifnull({x}, '') END"
    )


def sql_list(x: str) -> str:
    """SQL for a JSON list as "a;b" (string surgery for the usual '["a", "b"]', else json_each)."""
    return (
        f"CASE WHEN {x} IS NULL OR {x} = '[]' THEN '' "
        f"WHEN instr({x}, '\\') = 0 AND instr({x}, '\",\"') = 0 "
        f"THEN replace(substr({x}, 3, length({x}) - 4), '\", \"', ';') "
        f"ELSE (SELECT group_concat(j.value, ';') FROM json_each({x}) j) END"
    )


def _statuses(vocab: tuple[str, ...], *, strict: bool) -> tuple[str, ...]:
    # ``all`` takes any status word of any table (a table without it exports no rows).
    every = models.CONCERN_STATUSES + models.REFERRAL_STATUSES + models.ORG_STATUSES
    return vocab if strict else tuple(dict.fromkeys(every))


def _referral_category(term: str) -> str:
    # A referral's category: its concern's, or (no concern linked) any of its contact's.
    return (
        "CASE WHEN r.concern_id IS NOT NULL THEN EXISTS (SELECT 1 FROM concerns x "
        f"WHERE x.id = r.concern_id AND x.{term}) ELSE EXISTS (SELECT 1 FROM concerns x "
        f"WHERE x.contact_id = r.contact_id AND x.deleted = 0 AND x.{term}) END"
    )


def where_terms(
    table: str, filters: Mapping[str, str | None], *, strict: bool
) -> tuple[list[str], list[str], list[Any]]:
    """WHERE terms for ``table``: (contact-level terms, own-row terms, their parameters)."""
    given = {k: v for k, v in filters.items() if v not in (None, "")}
    unknown = set(given) - set(FILTERS)
    if unknown:
        raise ValueError(f"unknown export filters {sorted(unknown)}")
    skipped = set(given) - APPLIES[table]
    if skipped and strict:
        f = sorted(skipped)[0]
        raise ValidationError(
            f,
            f"--{f} does not apply to {table}: it applies to "
            + ", ".join(t for t, a in APPLIES.items() if f in a)
            + ".",
        )
    given = {k: v for k, v in given.items() if k not in skipped}
    of_its_own = table != "flat" and not _of_contact(table)  # (partners: no contact)
    a = records.get(table).alias if of_its_own else records.CONTACTS.alias
    c_where: list[str] = []
    c_params: list[Any] = []
    if "since" in given:
        c_where.append("c.occurred_at >= ?")
        c_params.append(dates.to_storage(dates.parse_when(given["since"], field="since").at))
    if "until" in given:
        c_where.append("c.occurred_at < ?")
        c_params.append(dates.to_storage(dates.parse_when(given["until"], field="until").end()))
    if "officer" in given:
        c_where.append(f"{a}.officer = ? COLLATE NOCASE")
        c_params.append(str(given["officer"]).strip())
    if "hood" in given:
        c_where.append(f"{a}.neighborhood = ? COLLATE NOCASE")
        c_params.append(str(given["hood"]).strip())
    if "tag" in given:
        c_where.append("EXISTS (SELECT 1 FROM json_each(c.tags) WHERE value = ?)")
        c_params.append(next(iter(models.tag_list([given["tag"]])), given["tag"]))
    if of_its_own:
        if "status" in given:
            c_where.append(f"{a}.status = ?")
            vocab = _statuses(_STATUSES[table], strict=strict)
            c_params.append(models.choice("status", given["status"], vocab))
        return c_where, [], c_params
    own: list[str] = []
    if "category" in given:
        cat = models.choice("category", given["category"], models.CONCERN_CATEGORIES)
        if table == "contacts":
            c_where.append(
                "EXISTS (SELECT 1 FROM concerns x WHERE x.contact_id = c.id "
                "AND x.deleted = 0 AND x.category = ?)"
            )
            c_params.append(cat)
        else:
            own.append(f"category = {cat!r}")  # a vocabulary word: safe to inline
    if "status" in given:
        vocab = _statuses(_STATUSES.get(table) or (), strict=strict)
        own.append(f"status = {models.choice('status', given['status'], vocab)!r}")
    return c_where, own, c_params


def inner_sql(
    table: str,
    filters: Mapping[str, str | None],
    *,
    strict: bool,
    columns: Sequence[str] = (),
    with_lists: bool = True,
    rowids: tuple[int | None, int | None] = (None, None),
    packed: Sequence[int] = (),
    ranged: bool = False,
) -> tuple[str, list[Any]]:
    """The SELECT of an export's rows (before the cells are written) and its parameters
    (``packed``: one text a row instead, these sizes of runs of columns its parts, see
    :meth:`Exports.packed_rows`, as ``_packed``; ``ranged``: and the rowid as ``_rowid``, from
    the rowid given as the last parameter on; neither for the flat view)."""
    c_where, own, params = where_terms(table, filters, strict=strict)
    if table == "flat":
        arms = []
        all_params: list[Any] = []
        for name, arm in FLAT_ARMS.items():
            a = "k" if name == "concern" else "r"
            where = [f"{a}.deleted = 0", "c.deleted = 0", *c_where]
            for term in own:
                if term.startswith("category"):
                    where.append(f"k.{term}" if name == "concern" else _referral_category(term))
                else:
                    where.append(f"{a}.{term}")
            arms.append(f"{arm} WHERE {' AND '.join(where)}")
            all_params += params
        sql = (
            f"SELECT * FROM ({' UNION ALL '.join(arms)}) "
            "ORDER BY occurred_at, contact_id, record_type, record_id"
        )
        return sql, all_params
    a = records.get(table).alias
    parent = records.get(table).parent
    src = f"{table} {a}"
    where = [f"{a}.deleted = 0"]
    if parent is not None and parent[0] == "contacts":
        src += f" JOIN contacts c ON c.id = {a}.{parent[1]}"
        where.append("c.deleted = 0")
    where += c_where
    lo, hi = rowids  # a slice of the table, for an export split across processes
    if lo is not None:
        where.append(f"{a}.rowid >= {int(lo)}")
    if hi is not None:
        where.append(f"{a}.rowid < {int(hi)}")
    if ranged:
        where.append(f"{a}.rowid >= ?")
    for term in own:
        if table == "referrals" and term.startswith("category"):
            where.append(_referral_category(term))
        else:
            where.append(f"{a}.{term}")
    # Lists are joined here, once per row: the outer query reads the result (the ORDER BY
    # keeps this a co-routine) where inlining would repeat it in every test of the cell.
    lists = "".join(
        f", {sql_list(f'{a}.{f}')} AS _list_{f}"
        for f in sorted(records.LIST_FIELDS)
        if with_lists and f in records.TABLE_FIELDS[table]
    )
    # Only the exported columns: ``*`` would also decode the (large) per-field clocks.
    cols = ", ".join(f"{a}.{c}" for c in columns) if columns else f"{a}.*"
    if packed:  # in this SELECT: a subquery around it would copy every cell once more
        if sum(packed) != len(columns) or min(packed) < 1:
            raise ValueError(f"parts {packed} do not cover the {len(columns)} columns")
        head = [] if ranged else ["%d"]  # the rowid, unless the range says which rows
        form = PACK_PART.join([*head, *(PACK_SEP.join(["%s"] * size) for size in packed)])
        rowid = "" if ranged else f"{a}.rowid, "
        cols = f"printf('{form}', {rowid}{cols}) AS _packed"
        if ranged:
            cols += f", {a}.rowid AS _rowid"
    sql = f"SELECT {cols}{lists} FROM {src} WHERE {' AND '.join(where)} ORDER BY {a}.rowid"
    return sql, params


class Exports:
    """The export queries of one log (``store.exports``)."""

    sql_local_iso = staticmethod(sql_local_iso)
    sql_csv_cell = staticmethod(sql_csv_cell)
    tz_spans = staticmethod(tz_spans)

    def __init__(self, store: Store) -> None:
        self.store = store

    def check(self, table: str, filters: Mapping[str, str | None]) -> None:
        """Validate filters for ``table`` (or ``"all"``) without reading: raises ValidationError."""
        for t in TABLES if table == "all" else (table,):
            where_terms(t, filters, strict=table != "all")

    def count(self, table: str, filters: Mapping[str, str | None], *, strict: bool = True) -> int:
        inner, params = inner_sql(table, filters, strict=strict)
        return int(self.store.scalar(f"SELECT count(*) FROM ({inner})", params) or 0)

    def rows(
        self,
        table: str,
        columns: Sequence[str],
        filters: Mapping[str, str | None],
        *,
        form: str = "line",
        raw: bool = False,
        eol: str = "\n",
        strict: bool = True,
        batch: int = 5000,
    ) -> Iterator[list[tuple]]:
        """Batches of rows of an export, streamed with ``fetchmany`` (constant memory).

        ``form="line"``: 1-tuples, each a whole CSV line ending in ``eol``. ``form="cells"``:
        one converted but unquoted text (or None) per column, local times and lists done.
        ``strict=False`` (``all``) skips filters that do not apply to ``table``.
        """
        if table not in TABLES:
            raise ValueError(table)
        inner, params = inner_sql(table, filters, strict=strict, columns=columns)
        cells = []
        for col in columns:
            if col in ("created_at", "updated_at"):
                e = sql_local_iso(col, ms=True)
            elif col in records.TIME_FIELDS:
                e = sql_local_iso(col)
            elif col in records.LIST_FIELDS:
                e = f"_list_{col}"
                if form == "line":
                    e = sql_csv_cell(e, raw=raw)
            elif form == "line":
                e = sql_csv_cell(col, raw=raw)
            else:
                e = col
            cells.append(e)
        if form == "line":  # one printf: a single allocation per line
            select = f"printf('{','.join(['%s'] * len(cells))}{eol}', {', '.join(cells)})"
        else:
            select = ", ".join(cells)
        yield from self._stream(f"SELECT {select} FROM ({inner})", params, batch)

    def raw_rows(
        self,
        table: str,
        columns: Sequence[str],
        filters: Mapping[str, str | None],
        *,
        strict: bool = True,
        batch: int = 5000,
        rowids: tuple[int | None, int | None] = (None, None),
    ) -> Iterator[list[tuple]]:
        """Batches of an export's rows as stored (fetchmany, constant memory): NULL comes back
        as None (the export makes it ``''`` where a column holds one: cheaper than an
        ``ifnull`` per cell), times as stored UTC text and lists as stored JSON. The export
        converts and quotes them, byte for byte as :meth:`rows` with ``form="line"`` would
        (values it cannot convert exactly go through :meth:`value`)."""
        if table not in TABLES:
            raise ValueError(table)
        inner, params = inner_sql(
            table, filters, strict=strict, columns=columns, with_lists=False, rowids=rowids
        )
        yield from self._stream(f"SELECT {', '.join(columns)} FROM ({inner})", params, batch)

    def packed_rows(
        self,
        table: str,
        columns: Sequence[str],
        filters: Mapping[str, str | None],
        *,
        parts: Sequence[int] | None = None,
        strict: bool = True,
        batch: int = 5000,
        rowids: tuple[int | None, int | None] = (None, None),
    ) -> Iterator[list[tuple]]:
        """Batches of an export's rows each packed by SQLite into one text (fetchmany,
        constant memory): the rowid, then the columns in ``parts`` (sizes of consecutive
        runs of columns; default one a part), the parts separated by :data:`PACK_PART` and
        the cells of a part by :data:`PACK_SEP`. Each cell is ``printf('%s')`` of the stored
        value: NULL as ``''``, a number or a blob as SQLite's text of it (what :meth:`value`
        gives for ``text``), a text up to a NUL (as :meth:`rows` writes it).

        One text a row costs SQLite a printf and Python one string, where :meth:`raw_rows`
        costs a Python object a cell (with the transposition of the rows, about half of an
        export's CPU). Tables of the registry only: the rowid lets the export fetch a batch
        again as :meth:`raw_rows` when a value does not fit the packing."""
        if table not in records.TABLES:
            raise ValueError(table)
        sql, params = inner_sql(
            table, filters, strict=strict, columns=columns, with_lists=False, rowids=rowids,
            packed=tuple(parts or [1] * len(columns)),
        )  # fmt: skip
        yield from self._stream(sql, params, batch)

    def packed_chunks(
        self,
        table: str,
        columns: Sequence[str],
        *,
        parts: Sequence[int],
        rows: int = 5000,
        rowids: tuple[int | None, int | None] = (None, None),
    ) -> Iterator[tuple[int, str, tuple[int, int]]]:
        """A whole table's rows (no filter) packed as :meth:`packed_rows` packs them, but
        without the rowid and up to ``rows`` rows to a text: (rows, their texts joined by
        :data:`PACK_PART`, their rowid range ``[from, below)``), in rowid order, each batch
        from the rowid after the last one (a seek on the rowid, however sparse the rowids).
        SQLite joins the rows (``group_concat`` over the batch's rows in order): Python
        makes one object a batch instead of one a row."""
        if table not in records.TABLES:
            raise ValueError(table)
        s = self.store
        lo = s.scalar(f"SELECT min(rowid) FROM {table}") if rowids[0] is None else rowids[0]
        if lo is None:
            return
        # The first rowid and the batch size as the last two parameters: one statement.
        inner, params = inner_sql(
            table, {}, strict=True, columns=columns, with_lists=False, packed=tuple(parts),
            rowids=(None, rowids[1]), ranged=True,
        )  # fmt: skip
        sql = (
            f"SELECT count(*), group_concat(_packed, '{PACK_PART}'), max(_rowid) "
            f"FROM ({inner} LIMIT ?)"
        )
        start = int(lo)
        try:
            while True:
                n, text, last = s.conn.execute(sql, [*params, start, max(int(rows), 1)]).fetchone()
                if not n:
                    return
                yield int(n), text, (start, int(last) + 1)
                start = int(last) + 1
        except s.db_error as exc:
            raise explain(exc, s.path) from None

    def _stream(self, sql: str, params: list[Any], batch: int) -> Iterator[list[tuple]]:
        s = self.store
        try:
            cur = s.conn.execute(sql, params)
            while rows := cur.fetchmany(batch):
                yield rows
        except s.db_error as exc:
            raise explain(exc, s.path) from None

    def split_rowid(self, table: str, *, min_rows: int | None = None) -> int | None:
        """The rowid that splits a table in two (None for a small table or the flat view): the
        middle of its rowid range (see :meth:`rowid_chunks`)."""
        chunks = self.rowid_chunks(table, 2, min_rows=min_rows)
        return None if chunks is None else chunks[-1][0]

    def rowid_chunks(
        self, table: str, parts: int, *, min_rows: int | None = None
    ) -> list[tuple[int | None, int | None]] | None:
        """Consecutive rowid ranges ``(from, below)`` (None: open) that cover a table, about
        ``parts`` of them, for an export shared between processes; None for the flat view or a
        table whose rowids span fewer than ``min_rows`` (:data:`EXPORT_SPLIT_MIN_ROWS`). Two
        index lookups, no count: deleted or filtered-out rows make the ranges uneven, which the
        processes even out by taking ranges one at a time."""
        if table not in records.TABLES:
            return None
        s = self.store
        if s.encrypted and s.scratch_dir() is None:
            return None  # the forked part goes through a temp file: only in memory, or not at all
        lo = s.scalar(f"SELECT min(rowid) FROM {table}")
        hi = s.scalar(f"SELECT max(rowid) FROM {table}")
        least = EXPORT_SPLIT_MIN_ROWS if min_rows is None else min_rows
        if lo is None or hi is None or hi - lo + 1 < least:
            return None
        step = (hi - lo + 1) / max(parts, 2)
        cuts = sorted({lo + round(step * i) for i in range(1, max(parts, 2))})
        bounds: list[int | None] = [None, *cuts, None]
        return list(zip(bounds[:-1], bounds[1:], strict=True))

    def value(self, kind: str, value: Any) -> str:
        """One stored value as :meth:`rows` converts it, before quoting: ``kind`` is
        ``time``, ``time_ms``, ``list`` or ``text``. For the rare values the export's fast
        path does not handle (odd time texts, lists needing JSON decoding, non-text values)."""
        expr = {
            "time": sql_local_iso(":x"),
            "time_ms": sql_local_iso(":x", ms=True),
            "list": sql_list(":x"),
            "text": ":x",
        }[kind]
        got = self.store.conn.execute(f"SELECT printf('%s', {expr})", {"x": value}).fetchone()[0]
        return str(got)

    def private_values(self) -> tuple[set[str], set[str]]:
        """For ``--redact``: every distinct person name (contacts, partners' contact people,
        deleted records' too: they are still people), and every other personal value
        (partners' phones, e-mails, addresses, contacts' and problems' locations: every
        column :mod:`fieldlog.privacy` blanks), as stored (non-empty)."""
        from fieldlog import privacy

        conn = self.store.conn

        def distinct(fields: frozenset[str]) -> set[str]:
            # every table's columns of that kind (a problem's location too), by the registry
            parts = [
                f"SELECT {f} FROM {t} WHERE {f} IS NOT NULL AND {f} != ''"
                for t in records.TABLES
                for f in records.TABLE_FIELDS[t]
                if f in fields
            ]
            found = conn.execute(" UNION ".join(parts)) if parts else ()
            return {r[0] for r in found if r[0] and isinstance(r[0], str)}

        names = distinct(privacy.NAME_FIELDS)
        other = distinct(privacy.BLANKED_FIELDS)
        return names, other

    def public_names(self) -> set[str]:
        """For ``--redact``: the names of partners and neighborhoods, which are not personal
        (the common words in them stay: "Grace Community Church" when someone is Grace).
        Deleted records' too: the contacts' neighborhoods then come from their index alone."""
        conn = self.store.conn
        rows = [
            *conn.execute(
                "SELECT name FROM organizations UNION SELECT neighborhood FROM organizations"
            ),
            *conn.execute("SELECT DISTINCT neighborhood FROM contacts"),
        ]
        return {r[0] for r in rows if r[0] and isinstance(r[0], str)}
