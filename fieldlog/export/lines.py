"""Stored rows to CSV text at C speed: RFC 4180 quoting, formula neutralisation, local times.

The store returns the cells as stored (:meth:`~fieldlog.db.export_sql.Exports.raw_rows`) and
:class:`Lines` quotes, neutralises and converts times column by column, byte for byte what the
SQL expressions of :meth:`~fieldlog.db.export_sql.Exports.rows` write (tests compare the two).
The SQL stays the reference for the odd values (:meth:`Exports.value`); this is the path
that makes an export of a million contacts take seconds, not minutes (bench/bench_export.py).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from fieldlog import records
from fieldlog.models import FORMULA_PREFIXES

if TYPE_CHECKING:
    from fieldlog.db.store import Store
    from fieldlog.export.redact import Redactor


def neutralise(value: str) -> str:
    """A cell a spreadsheet would run as a formula, made plain text with a leading quote."""
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


class _Slow(Exception):  # noqa: N818 (control flow: this batch's column takes the exact path)
    pass


_SEP = "\x1f"  # joins a batch's column to check it in one C-speed scan (false hits only slow it)
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
_SECONDS = re.compile(r"[0-5][0-9](?:\.[0-9]{3})?")
_MINUTES = {f"{m:02d}": f"{m:02d}:" for m in range(60)}  # "MM" -> its piece "MM:"
_NO_TIME = "!"  # stands for an empty time cell in the split (only when no cell holds a "!")
_CELL_END = "\x1e"  # marks each time cell's end in the split (only when no cell holds one)


def _offset_text(minutes: int) -> str:
    return f"{'-' if minutes < 0 else '+'}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


class Lines:
    """Stored rows (from :meth:`Exports.raw_rows`) to CSV text, byte for byte what the
    SQL of :meth:`Exports.rows` (``form="line"``) writes, a batch at a time.

    The work goes column by column and mostly at C speed. A batch's lines are one
    ``"".join`` of a flat list of pieces (cells, and the commas and line ends of a row
    template), filled a column at a time by slice assignment. A text column is joined and
    scanned once and only a column holding a cell to quote or neutralise is done cell by cell.
    A time column is joined, split at its ``:`` and each part mapped through a dict: the UTC
    hour (``2026-11-25T22``) to the local one and to the offset (when the zone's offset is a
    whole number of hours throughout that hour), the minutes and the seconds (which validates
    them). Lists go through a cache of their cells. Other values take exact, slower paths.

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
        # The row template: constant pieces ("," and the line end) and a slot per text cell;
        # a time cell has four: ",YYYY-MM-DDTHH:" (local), "MM:", "SS[.mmm]", offset.
        template: list[str] = []
        self.plan: list[tuple[int, str, int, dict[str, str], dict[str, str]]] = []
        for i, kind in enumerate(self.kinds):
            lead = "," if i else ""
            if kind in ("time", "time_ms"):
                slot = len(template)
                template += [lead, "", "", ""]
                # Per column: the UTC hour to its first piece (with the lead) and to its offset.
                firsts, offsets = {_NO_TIME: lead}, {_NO_TIME: ""}
                self.plan.append((i, kind, slot, firsts, offsets))
            else:
                if lead:
                    template.append(lead)
                self.plan.append((i, kind, len(template), {}, {}))
                template.append("")
        template.append(eol)
        self.template = template
        self.hours: dict[str, tuple[str, str] | None] = {}  # UTC hour -> (local, offset)
        # Seconds ("SS" or "SS.mmm") to their piece, kept with milliseconds or without.
        self.seconds: dict[bool, dict[str, str]] = {True: {_NO_TIME: ""}, False: {_NO_TIME: ""}}
        self.minutes = {**_MINUTES, _NO_TIME: ""}
        self.lists: dict[str | None, str] = {None: ""}  # stored JSON text -> finished cell
        # Per time column, stored text -> whole cell, for times that repeat (records made
        # together: an import, a sync, a demo log), which then cost one lookup a cell.
        self.whole: list[dict[str, str]] = [{} for _ in columns]

    def batch(self, rows: list[tuple]) -> str:
        n = len(rows)
        cols: list[Sequence] = list(zip(*rows, strict=True))
        for i, op in self.redact:
            cols[i] = op(cols[i], self._text)
        width = len(self.template)
        flat = self.template * n
        for i, kind, slot, firsts, offsets in self.plan:
            col = cols[i]
            if kind == "text":
                flat[slot::width] = self._texts(col)
            elif kind == "list":
                flat[slot::width] = self._lists(col)
            else:
                ms = kind == "time_ms"
                cells = self._repeated_times(col, ms, firsts, offsets, self.whole[i])
                if cells is not None:  # each whole cell (with its lead) in the first slot
                    flat[slot::width] = cells
                    continue
                parts = self._times(col, ms, firsts, offsets)
                if parts is None:  # the exact path, a cell at a time (the lead stays)
                    flat[slot + 1 :: width] = [self._time(v, ms) for v in col]
                else:
                    for k in range(4):
                        flat[slot + k :: width] = parts[k]
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

    def _text(self, v: object) -> str:
        """A stored value that is not text (a number, a blob) as SQLite's text of it."""
        return self.store.exports.value("text", v)

    def _cell(self, v: str) -> str:
        risky = not self.raw and v[:1] in _RISKY
        if '"' in v or "," in v or "\n" in v or "\r" in v:
            return '"' + ("'" if risky else "") + v.replace('"', '""') + '"'
        return "'" + v if risky else v

    # -- lists: JSON text -> "a;b", quoted and neutralised like any text cell
    def _lists(self, col: Sequence) -> list[str]:
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
                else:
                    got = self._cell(self.store.exports.value("list", v))
                cache[v] = got
            out.append(got)
        return out

    # -- times: stored UTC -> local ISO 8601 with the offset
    def _times(
        self, col: Sequence, ms: bool, firsts: dict[str, str], offsets: dict[str, str]
    ) -> tuple[list[str], ...] | None:
        """The four pieces of each cell of a time column, or None (take the exact path).

        Each cell must be ``HOUR:MM:SS[.mmm]Z`` (or empty): the column is joined with
        ``:\x1e:`` after each cell in place of its ``Z`` and split at ``:``, so every cell
        gives four parts (hour, minutes, seconds, the mark), each checked by a dict lookup."""
        n = len(col)
        try:
            s = _SEP.join(col) + _SEP
        except TypeError:  # NULL is ''; other values that are not text take the exact path
            col = ["" if v is None else v for v in col]
            try:
                s = _SEP.join(col) + _SEP
            except TypeError:
                return None
        if _NO_TIME in s or _CELL_END in s or s.count(_SEP) != n:
            return None
        if s.count("Z" + _SEP) != n:
            if s[0] == _SEP:
                s = _NO_TIME + ":" + _NO_TIME + ":" + _NO_TIME + "Z" + s
            empty = _SEP + _NO_TIME + ":" + _NO_TIME + ":" + _NO_TIME + "Z" + _SEP
            s = s.replace(_SEP + _SEP, empty).replace(_SEP + _SEP, empty)
            if s.count("Z" + _SEP) != n:
                return None
        parts = s.replace("Z" + _SEP, ":" + _CELL_END + ":").split(":")
        if len(parts) != 4 * n + 1 or parts[3::4].count(_CELL_END) != n:
            return None
        keys = parts[0 : 4 * n : 4]
        try:
            try:
                first = list(map(firsts.__getitem__, keys))
            except KeyError:
                if len(firsts) > 100_000:  # some 11 years of hours: start over
                    lead = firsts[_NO_TIME]
                    firsts.clear()
                    offsets.clear()
                    firsts[_NO_TIME], offsets[_NO_TIME] = lead, ""
                self._add_hours(set(keys).difference(firsts), firsts, offsets)
                first = list(map(firsts.__getitem__, keys))
            offset = list(map(offsets.__getitem__, keys))
            minutes = list(map(self.minutes.__getitem__, parts[1::4]))
            seconds = self.seconds[ms]
            try:
                second = list(map(seconds.__getitem__, parts[2::4]))
            except KeyError:
                for v in set(parts[2::4]).difference(seconds):
                    if not _SECONDS.fullmatch(v):
                        raise _Slow from None
                    seconds[v] = v if ms else v[:2]
                second = list(map(seconds.__getitem__, parts[2::4]))
        except (_Slow, KeyError):
            return None
        return first, minutes, second, offset

    def _repeated_times(
        self,
        col: Sequence,
        ms: bool,
        firsts: dict[str, str],
        offsets: dict[str, str],
        whole: dict[str, str],
    ) -> list[str] | None:
        """The whole cells of a time column whose values repeat (a few distinct ones), from a
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
        parts = self._times(new, ms, firsts, offsets)
        if parts is None:
            return None
        if len(whole) + len(new) > 4096:
            whole.clear()
        for v, *cell in zip(new, *parts, strict=True):
            whole[v] = "".join(cell)
        return list(map(whole.__getitem__, col))

    def _add_hours(self, keys: set[str], firsts: dict[str, str], offsets: dict[str, str]) -> None:
        lead = firsts[_NO_TIME]
        for key in keys:
            if key not in self.hours:
                try:
                    self.hours[key] = self._hour(key)
                except _Slow:
                    self.hours[key] = None
            got = self.hours[key]
            if got is None:
                raise _Slow
            firsts[key] = lead + got[0] + ":"
            offsets[key] = got[1]

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
