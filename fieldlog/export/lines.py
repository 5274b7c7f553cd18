"""Stored rows to CSV text at C speed: RFC 4180 quoting, formula neutralisation, local times.

The store returns the rows packed by SQLite, one text a row or a batch
(:meth:`~fieldlog.db.export_sql.Exports.packed_rows`, ``packed_chunks``), or the cells as
stored (:meth:`~fieldlog.db.export_sql.Exports.raw_rows`: the exact path, for what the packing
cannot carry, the flat view and ``--redact``), and :class:`Lines` quotes, neutralises and
converts times column by column, byte for byte what the SQL expressions of
:meth:`~fieldlog.db.export_sql.Exports.rows` write (tests compare the paths).
The SQL stays the reference for the odd values (:meth:`Exports.value`); this is the path
that makes an export of a million contacts take seconds, not minutes (bench/bench_export.py).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from fieldlog import records
from fieldlog.db.export_sql import PACK_PART, PACK_SEP
from fieldlog.models import FORMULA_PREFIXES

if TYPE_CHECKING:
    from fieldlog.db.store import Store
    from fieldlog.export.redact import Redactor


def neutralise(value: str) -> str:
    """A cell a spreadsheet would run as a formula, made plain text with a leading quote."""
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


class _Slow(Exception):  # noqa: N818 (control flow: this batch's column takes the exact path)
    pass


_SEP = PACK_SEP  # joins a batch's column to check it in one C-speed scan (false hits only slow it)
_RISKY = frozenset(FORMULA_PREFIXES)
# A risky first character of any cell but the first of a joined column.
_RISKY_AFTER_SEP = re.compile(f"{re.escape(_SEP)}[{''.join(map(re.escape, FORMULA_PREFIXES))}]")
_TIME_RE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-5][0-9]:[0-5][0-9](?:\.[0-9]{3})?Z"
_TIME = re.compile(_TIME_RE)
# Time columns: True when stored to the millisecond (the stamps), False to the second.
_TIME_COLUMNS = {
    "created_at": True,
    "updated_at": True,
    **dict.fromkeys(records.TIME_FIELDS, False),
}
_HOUR_KEY = re.compile("[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}")
# What follows the UTC hour in a stored time: ":MM:SS", maybe milliseconds, and the "Z".
_REST = re.compile(r":[0-5][0-9]:[0-5][0-9](?:\.[0-9]{3})?Z")


def _offset_text(minutes: int) -> str:
    return f"{'-' if minutes < 0 else '+'}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


class Lines:
    """Stored rows (from :meth:`Exports.raw_rows`) to CSV text, byte for byte what the
    SQL of :meth:`Exports.rows` (``form="line"``) writes, a batch at a time.

    The work goes column by column and mostly at C speed. A batch's lines are one
    ``"".join`` of a flat list of pieces (cells, and the commas and line ends of a row
    template), filled a column at a time by slice assignment. A text column is joined and
    scanned once and only a column holding a cell to quote or neutralise is done cell by cell.
    A time cell is one ``join`` of two dict lookups: its UTC hour (``2026-11-25T22``) to the
    local one and the offset (when the zone's offset is a whole number of hours throughout
    that hour), and the rest (``:MM:SS.mmmZ``) to its piece, which validates it. Lists and
    times that repeat go through caches of their cells. Other values take exact, slower
    paths.

    With a ``redactor`` (``--redact``) each batch's columns first go through it, a column at
    a time (:meth:`Redactor.column`): the same writer, so a redacted export is quoted,
    neutralised and converted exactly as any other.
    """

    def __init__(
        self,
        store: Store,
        columns: Sequence[str],
        *,
        raw: bool,
        eol: str,
        redactor: Redactor | None = None,
    ) -> None:
        self.store = store
        self.raw = raw
        self.eol = eol
        ops = [(i, redactor.column(c)) for i, c in enumerate(columns)] if redactor else []
        self.redact = [(i, op) for i, op in ops if op is not None]
        self.kinds = [
            ("time_ms" if _TIME_COLUMNS[c] else "time")
            if c in _TIME_COLUMNS
            else "list"
            if c in records.LIST_FIELDS
            else "text"
            for c in columns
        ]
        self.spans = store.exports.tz_spans()
        self.starts = [at for at, _ in self.spans]
        # The row template: constant pieces ("," and the line end) and a slot per cell.
        template: list[str] = []
        self.plan: list[tuple[int, str, int]] = []
        for i, kind in enumerate(self.kinds):
            if i:
                template.append(",")
            self.plan.append((i, kind, len(template)))
            template.append("")
        template.append(eol)
        self.template = template
        # A UTC hour ("2026-11-25T22") to its local hour and offset ("2026-11-25T16",
        # "-06:00"); what follows it in a stored time (":MM:SS.mmmZ") to its piece, with the
        # milliseconds (True) or without.
        self.hours: dict[str, tuple[str, str]] = {}
        self.rests: dict[bool, dict[str, str]] = {True: {}, False: {}}
        self.lists: dict[str | None, str] = {None: ""}  # stored JSON text -> finished cell
        # Per time column, stored text -> whole cell, for times that repeat (records made
        # together: an import, a sync, a demo log), which then cost one lookup a cell.
        self.whole: list[dict[str, str]] = [{} for _ in columns]

    def batch(self, rows: list[tuple]) -> str:
        """The CSV lines of a batch of stored rows (from :meth:`Exports.raw_rows`)."""
        n = len(rows)
        cols: list[Sequence] = list(zip(*rows, strict=True))
        for i, op in self.redact:
            cols[i] = op(cols[i], self._text)
        return self._write(cols, n, exact=True)

    def parts(self, sample: Sequence[tuple]) -> list[int]:
        """How to pack this export's rows (:meth:`Exports.packed_rows`), from a sample of
        stored rows: each run of text columns none of whose sampled cells needs quoting or
        neutralising is one part (its cells are written as one piece while a batch keeps
        them so), every other column a part of its own. Only speed depends on it."""
        cols = list(zip(*sample, strict=True)) if sample else [()] * len(self.kinds)
        parts: list[int] = []
        run = False  # the last part is a run of plain text columns
        for kind, col in zip(self.kinds, cols, strict=True):
            plain = kind == "text" and all(v is None or type(v) is str for v in col)
            plain = plain and self._plain(_SEP.join(v or "" for v in col))
            if plain and run:
                parts[-1] += 1
            else:
                parts.append(1)
            run = plain
        return parts

    def packed(self, rows: list[tuple], parts: Sequence[int]) -> str | None:
        """The CSV lines of a batch of packed rows (from :meth:`Exports.packed_rows` with
        these ``parts``), or None when a value does not fit the packing (a cell holding a
        separator; a time or a list the fast paths do not take, which may not be stored
        text): then fetch the batch as stored (:func:`csv_batches`).

        The batch's texts are joined and split at the part separator in one C call each,
        and the parts taken by slicing: no Python object a cell from SQLite, no
        transposition of the rows. A run of text columns with nothing to quote or
        neutralise in this batch (checked on its joined text) is written as one piece a
        row, its separators made commas by one ``replace``; else it is split into cells."""
        return self._unpack(PACK_PART.join([r[0] for r in rows]), len(rows), parts, 1)

    def chunk(self, n: int, text: str, parts: Sequence[int]) -> str | None:
        """As :meth:`packed`, for ``n`` rows packed without their rowid and joined by SQLite
        (:meth:`Exports.packed_chunks`)."""
        return self._unpack(text, n, parts, 0)

    def _unpack(self, text: str, n: int, parts: Sequence[int], head: int) -> str | None:
        if self.redact:
            raise ValueError("a redacted export takes stored rows (Lines.batch)")
        g = len(parts) + head  # (the rowid,) then the parts
        pieces = text.split(PACK_PART)
        if len(pieces) != n * g:  # a cell holds the separator
            return None
        cols: list[Sequence] = []
        whole: dict[int, list[str]] = {}  # first column of a run -> its lines' piece
        for j, size in enumerate(parts, head):
            part = pieces[j::g]
            if size == 1:
                cols.append(part)
                continue
            s = PACK_SEP.join(part)
            if s.count(PACK_SEP) != n * size - 1:
                return None
            if self._plain(s):  # nothing to quote or neutralise: one piece a row
                whole[len(cols)] = PACK_PART.join(part).replace(PACK_SEP, ",").split(PACK_PART)
                cols += [()] * size
            else:
                cells = s.split(PACK_SEP)
                cols += [cells[k::size] for k in range(size)]
        try:
            return self._write(cols, n, exact=False, whole=whole, parts=parts)
        except _Slow:
            return None

    def _write(
        self,
        cols: list[Sequence],
        n: int,
        *,
        exact: bool,
        whole: dict[int, list[str]] | None = None,
        parts: Sequence[int] = (),
    ) -> str:
        """The lines of ``n`` rows given as columns. ``exact=False`` (packed cells: text
        whatever the stored type) raises _Slow where a value would take an exact path.
        ``whole``: runs of text columns (of ``parts``) given as one piece a row, in the
        slot of their first column (the others' slots and leads are left empty)."""
        template = self.template
        skip: set[int] = set()
        if whole:
            template = list(template)
            first = 0
            for size in parts:
                if first in whole:
                    for i in range(first + 1, first + size):
                        skip.add(i)
                        template[self.plan[i][2] - 1] = ""  # its lead ","
                first += size
        width = len(template)
        flat = template * n
        for i, kind, slot in self.plan:
            col = cols[i]
            if kind == "text":
                if i in skip:
                    continue
                flat[slot::width] = whole[i] if whole and i in whole else self._texts(col)
            elif kind == "list":
                flat[slot::width] = self._lists(col, exact)
            else:
                ms = kind == "time_ms"
                cells = self._repeated_times(col, ms, self.whole[i])
                if cells is None:
                    cells = self._times(col, ms)
                if cells is None:  # the exact path, a cell at a time
                    if not exact:
                        raise _Slow
                    cells = [self._time(v, ms) for v in col]
                flat[slot::width] = cells
        return "".join(flat)

    # -- text cells: quoting (RFC 4180) and formula neutralisation
    def _texts(self, col: Sequence) -> Sequence[str]:
        try:
            s = _SEP.join(col)
        except TypeError:  # NULL is '', a value that is not text (a blob) SQLite's own text
            col = [
                v if type(v) is str else "" if v is None else self.store.exports.value("text", v)
                for v in col
            ]
            s = _SEP.join(col)
        # One-character searches run at memchr speed: the regex only when one may be risky.
        if (
            not self.raw
            and any(map(s.__contains__, FORMULA_PREFIXES))
            and (s[:1] in _RISKY or _RISKY_AFTER_SEP.search(s))
        ):
            return [self._cell(v) for v in col]
        if '"' in s or "\n" in s or "\r" in s:  # no risky cell: quote where needed, inline
            return [
                '"' + v.replace('"', '""') + '"'
                if ("," in v or '"' in v or "\n" in v or "\r" in v)
                else v
                for v in col
            ]
        if "," in s:
            return ['"' + v + '"' if "," in v else v for v in col]
        return col

    def _plain(self, s: str) -> bool:
        """Whether no cell of ``s`` (cells joined by ``_SEP``) needs quoting or neutralising:
        one-character searches at memchr speed, the regex only when a cell may be risky."""
        if '"' in s or "," in s or "\n" in s or "\r" in s:
            return False
        return (
            self.raw
            or not any(map(s.__contains__, FORMULA_PREFIXES))
            or not (s[:1] in _RISKY or _RISKY_AFTER_SEP.search(s))
        )

    def _text(self, v: object) -> str:
        """A stored value that is not text (a number, a blob) as SQLite's text of it."""
        return self.store.exports.value("text", v)

    def _cell(self, v: str) -> str:
        risky = not self.raw and v[:1] in _RISKY
        if '"' in v or "," in v or "\n" in v or "\r" in v:
            return '"' + ("'" if risky else "") + v.replace('"', '""') + '"'
        return "'" + v if risky else v

    # -- lists: JSON text -> "a;b", quoted and neutralised like any text cell
    def _lists(self, col: Sequence, exact: bool = True) -> list[str]:
        cache = self.lists
        try:
            return list(map(cache.__getitem__, col))
        except (KeyError, TypeError):
            pass
        if len(cache) > 10_000:
            cache.clear()
            cache[None] = ""  # NULL
        out = []
        for v in col:
            got = cache.get(v) if type(v) is str else "" if v is None else None
            if got is None:
                if type(v) is not str:  # not text: SQLite's own conversion, not cached
                    out.append(self._cell(self.store.exports.value("list", v)))
                    continue
                if v in ("", "[]"):
                    got = ""
                elif "\\" not in v and '","' not in v and len(v) >= 4:
                    got = self._cell(v[2:-2].replace('", "', ";"))
                elif not exact:  # may not be stored text: the batch as stored
                    raise _Slow
                else:
                    got = self._cell(self.store.exports.value("list", v))
                cache[v] = got
            out.append(got)
        return out

    # -- times: stored UTC -> local ISO 8601 with the offset
    def _times(self, col: Sequence, ms: bool) -> list[str] | None:
        """The cells of a time column, or None (take the exact path).

        Each cell must be ``YYYY-MM-DDTHH:MM:SS[.mmm]Z`` (or empty): its UTC hour maps to the
        local hour and the offset (when the zone's offset is a whole number of hours
        throughout that hour) and the rest to ``:MM:SS[.mmm]`` (which validates it), and
        the cell is one ``join`` of the three."""
        hours, rests = self.hours, self.rests[ms]
        try:
            return [rests[v[13:]].join(hours[v[:13]]) if v else "" for v in col]
        except KeyError:
            pass
        except TypeError:  # NULL is ''; other values that are not text take the exact path
            if any(v is not None and type(v) is not str for v in col):
                return None
            col = ["" if v is None else v for v in col]
        if len(hours) > 100_000 or len(rests) > 100_000:  # some 11 years of hours: start over
            hours.clear()
            rests.clear()
        try:
            for key in {v[:13] for v in col if v}.difference(hours):
                hours[key] = self._hour(key)
        except _Slow:
            return None
        for rest in {v[13:] for v in col if v}.difference(rests):
            if not _REST.fullmatch(rest):
                return None
            rests[rest] = rest[:-1] if ms else rest[:6]
        return [rests[v[13:]].join(hours[v[:13]]) if v else "" for v in col]

    def _repeated_times(self, col: Sequence, ms: bool, whole: dict[str, str]) -> list[str] | None:
        """The cells of a time column whose values repeat (a few distinct ones), from a
        cache of their cells; None when they do not repeat (or take the exact path)."""
        try:
            return list(map(whole.__getitem__, col))
        except (KeyError, TypeError):
            pass
        if len(set(col[:256])) > 16:
            return None
        new = list(set(col).difference(whole))
        if len(new) > len(col) // 16:
            return None
        cells = self._times(new, ms)
        if cells is None:
            return None
        if len(whole) + len(new) > 4096:
            whole.clear()
        whole.update(zip(new, cells, strict=True))
        return list(map(whole.__getitem__, col))

    def _in_table(self, key: str) -> bool:
        return bool(self.spans) and "1990-01-01" <= key < "2050-01-01"

    def _hour(self, key: str) -> tuple[str, str]:
        """(local ``YYYY-MM-DDTHH``, offset text) for a UTC hour ``YYYY-MM-DDTHH`` with one
        whole-hour offset throughout; else raise _Slow."""
        if not _HOUR_KEY.fullmatch(key) or not self._in_table(key):
            raise _Slow
        try:
            dt = datetime(int(key[:4]), int(key[5:7]), int(key[8:10]), int(key[11:13]))
        except ValueError:
            raise _Slow from None
        i = bisect.bisect_right(self.starts, key + ":00:00") - 1
        if i != bisect.bisect_right(self.starts, key + ":59:59~") - 1:
            raise _Slow  # the offset changes within the hour
        minutes = self.spans[i][1]
        if minutes % 60:
            raise _Slow
        local = dt + timedelta(minutes=minutes)
        return local.isoformat()[:13], _offset_text(minutes)

    def _time(self, v: object, ms: bool) -> str:
        """One time cell, exactly as the SQL of :meth:`Exports.sql_local_iso` converts it."""
        if v == "" or v is None:
            return ""
        if type(v) is not str or not _TIME.fullmatch(v) or not self._in_table(v):
            return self.store.exports.value("time_ms" if ms else "time", v)
        try:
            dt = datetime.fromisoformat(v[:19])
        except ValueError:
            return self.store.exports.value("time_ms" if ms else "time", v)
        minutes = self.spans[bisect.bisect_right(self.starts, v) - 1][1]
        local = dt + timedelta(minutes=minutes)
        frac = v[19:-1] if ms else ""
        return local.strftime("%Y-%m-%dT%H:%M:%S") + frac + _offset_text(minutes)


def csv_batches(
    store: Store,
    lines: Lines,
    table: str,
    columns: Sequence[str],
    filters: Mapping[str, str | None],
    *,
    strict: bool,
    batch: int,
    rowids: tuple[int | None, int | None] = (None, None),
) -> Iterator[tuple[str, int]]:
    """An export's CSV text, a batch at a time with its number of rows, written by
    ``lines``: fetched packed (:meth:`Exports.packed_rows`, :meth:`Lines.packed`) from a
    table of the registry; a batch that does not fit the packing is fetched again as stored
    (its rowid range), and the flat view or a redacted export always are. The same bytes
    either way: packing is only cheaper (bench/bench_export.py)."""
    exports = store.exports
    if lines.redact or table not in records.TABLES:
        for rows in exports.raw_rows(
            table, columns, filters, strict=strict, batch=batch, rowids=rowids
        ):
            yield lines.batch(rows), len(rows)
        return
    first = next(exports.raw_rows(table, columns, filters, strict=strict, batch=256,
                                  rowids=rowids), [])  # fmt: skip
    parts = lines.parts(first)

    def as_stored(span: tuple[int, int]) -> str:
        return "".join(
            lines.batch(stored)
            for stored in exports.raw_rows(
                table, columns, filters, strict=strict, batch=batch, rowids=span
            )
        )

    if not any(filters.values()):  # the whole table: many rows to a text (no index to fear)
        for n, text, span in exports.packed_chunks(table, columns, parts=parts, rows=batch,
                                                   rowids=rowids):  # fmt: skip
            got = lines.chunk(n, text, parts)
            yield (got if got is not None else as_stored(span)), n
        return

    for rows in exports.packed_rows(table, columns, filters, parts=parts, strict=strict,
                                    batch=batch, rowids=rowids):  # fmt: skip
        got = lines.packed(rows, parts)
        if got is None:
            lo = int(rows[0][0].split(PACK_PART, 1)[0])
            hi = int(rows[-1][0].split(PACK_PART, 1)[0])
            got = as_stored((lo, hi + 1))
        yield got, len(rows)
