"""CSV exports (RFC 4180, UTF-8, header row), streamed from the store in constant memory.

Tables: contacts, concerns, referrals, organizations, and ``flat`` (one row per concern and per
referral with its contact's date, officer, neighborhood, kind and summary). See docs/export.md.

Spreadsheets run a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
as a formula (CSV injection, OWASP), and a field log holds text that strangers said. So such
cells get a leading ``'`` unless ``raw=True`` asks for the stored text unchanged.

The store returns the cells as stored (:meth:`~fieldlog.db.store.Store.export_raw_rows`) and
:class:`_Lines` quotes, neutralises and converts times column by column, byte for byte what the
SQL expressions of :meth:`~fieldlog.db.store.Store.export_rows` write. With
``--redact`` the cells come back converted but unquoted and Python redacts, neutralises and
quotes them.

Writers take ``out`` opened with ``newline=""`` (line ends are written as given).
"""

from __future__ import annotations

import bisect
import csv
import hashlib
import hmac
import io
import os
import re
import secrets
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from fieldlog import dates, records
from fieldlog.errors import FieldlogError

if TYPE_CHECKING:
    from fieldlog.db.store import Store

# Stable column names, per table: scripts, spreadsheets and ``fieldlog import`` depend on them.
FLAT_COLUMNS = (
    "record_type", "record_id", "contact_id", "occurred_at", "officer", "neighborhood",
    "kind", "summary", "category", "priority", "status", "description", "agency", "service",
    "reason", "follow_up_on", "outcome", "resolved_at",
)  # fmt: skip
COLUMNS: dict[str, tuple[str, ...]] = {
    **{t: r.export_columns for t, r in records.REGISTRY.items()},
    "flat": FLAT_COLUMNS,  # one row per concern or referral with its contact: a view, not a table
}
CONTACT_COLUMNS = COLUMNS["contacts"]
TABLES = tuple(COLUMNS)  # what ``fieldlog export TABLE`` accepts, besides "all"
FILTERS = ("since", "until", "officer", "hood", "category", "status", "tag")
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
PROGRESS_EVERY = 1000  # rows between progress calls (at most once per fetched batch)
EXPORT_CHUNKS = 48  # rowid ranges of a split export, taken one at a time by 2 processes
BOM = "\ufeff"
# --redact: person names become a pseudonym; these other personal fields are emptied.
NAME_FIELDS = frozenset({"person_name", "contact_person"})
BLANKED_FIELDS = frozenset({"phone", "email", "address", "location"})
FREE_TEXT_FIELDS = frozenset({"summary", "notes", "description", "reason", "outcome", "resolution"})
REDACTED = "[redacted]"


def neutralise(value: str) -> str:
    """A cell a spreadsheet would run as a formula, made plain text with a leading quote."""
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def local_iso(stored_utc_text: str) -> str:
    """A stored UTC time (``2026-11-25T22:11:15.975Z``) as exported: local ISO 8601 with the
    offset in force at that instant (``2026-11-25T16:11:15.975-06:00``); milliseconds are kept
    when the stored text has a fraction. Inverse: :func:`stored_utc`."""
    dt = dates.from_storage(stored_utc_text).astimezone()
    return dt.isoformat(timespec="milliseconds" if "." in stored_utc_text else "seconds")


def stored_utc(local_iso_text: str) -> str:
    """The inverse of :func:`local_iso`: an exported time back to the stored UTC text."""
    dt = datetime.fromisoformat(local_iso_text)
    if dt.tzinfo is None:
        dt = dates.localize(dt)
    dt = dt.astimezone(UTC)
    if "." in local_iso_text:
        return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


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
        names, other = store.export_private_values()
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


class _Slow(Exception):  # noqa: N818 (control flow: this batch's column takes the exact path)
    pass


_SEP = "\x1f"  # joins a batch's column to check it in one C-speed scan (false hits only slow it)
_RISKY = frozenset(FORMULA_PREFIXES)
_RISKY_AFTER_SEP = re.compile("\x1f[=+\\-@\t\r]")
_TIME_RE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-5][0-9]:[0-5][0-9](?:\.[0-9]{3})?Z"
_TIME = re.compile(_TIME_RE)
_TIME_COLUMNS = {"created_at": True, "updated_at": True, "occurred_at": False, "resolved_at": False}
_HOUR_KEY = re.compile("[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}")
_SECONDS = re.compile(r"[0-5][0-9](?:\.[0-9]{3})?")
_MINUTES = {f"{m:02d}": f"{m:02d}:" for m in range(60)}  # "MM" -> its piece "MM:"
_NO_TIME = "!"  # stands for an empty time cell in the split (only when no cell holds a "!")
_CELL_END = "\x1e"  # marks each time cell's end in the split (only when no cell holds one)


def _offset_text(minutes: int) -> str:
    return f"{'-' if minutes < 0 else '+'}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


class _Lines:
    """Stored rows (from :meth:`Store.export_raw_rows`) to CSV text, byte for byte what the
    SQL of :meth:`Store.export_rows` (``form="line"``) writes, a batch at a time.

    The work goes column by column and mostly at C speed. A batch's lines are one
    ``"".join`` of a flat list of pieces (cells, and the commas and line ends of a row
    template), filled a column at a time by slice assignment. A text column is joined and
    scanned once and only a column holding a cell to quote or neutralise is done cell by cell.
    A time column is joined, split at its ``:`` and each part mapped through a dict: the UTC
    hour (``2026-11-25T22``) to the local one and to the offset (when the zone's offset is a
    whole number of hours throughout that hour), the minutes and the seconds (which validates
    them). Lists go through a cache of their cells. Other values take exact, slower paths.
    """

    def __init__(self, store: Store, columns: Sequence[str], *, raw: bool, eol: str) -> None:
        self.store = store
        self.raw = raw
        self.eol = eol
        self.kinds = [
            ("time_ms" if _TIME_COLUMNS[c] else "time")
            if c in _TIME_COLUMNS
            else "list"
            if c in records.LIST_FIELDS
            else "text"
            for c in columns
        ]
        self.spans = store._tz_spans()
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
        cols = list(zip(*rows, strict=True))
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
                v if type(v) is str else "" if v is None else self.store.export_value("text", v)
                for v in col
            ]
            s = _SEP.join(col)
        # One-character searches run at memchr speed: the regex only when one may be risky.
        if (
            not self.raw
            and ("=" in s or "+" in s or "-" in s or "@" in s or "\t" in s or "\r" in s)
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
                    out.append(self._cell(self.store.export_value("list", v)))
                    continue
                if v in ("", "[]"):
                    got = ""
                elif "\\" not in v and '","' not in v and len(v) >= 4:
                    got = self._cell(v[2:-2].replace('", "', ";"))
                else:
                    got = self._cell(self.store.export_value("list", v))
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
        """One time cell, exactly as the SQL of :meth:`Store.sql_local_iso` converts it."""
        if v == "" or v is None:
            return ""
        if type(v) is not str or not _TIME.fullmatch(v) or not self._in_table(v):
            return self.store.export_value("time_ms" if ms else "time", v)
        try:
            dt = datetime.fromisoformat(v[:19])
        except ValueError:
            return self.store.export_value("time_ms" if ms else "time", v)
        minutes = self.spans[bisect.bisect_right(self.starts, v) - 1][1]
        local = dt + timedelta(minutes=minutes)
        frac = v[19:-1] if ms else ""
        return local.strftime("%Y-%m-%dT%H:%M:%S") + frac + _offset_text(minutes)


def _check(table: str) -> None:
    if table not in COLUMNS and table != "all":
        raise FieldlogError(f"Unknown table '{table}': use one of {', '.join((*TABLES, 'all'))}.")


def write_table(
    store: Store,
    table: str,
    out: TextIO,
    *,
    filters: Mapping[str, str | None] | None = None,
    excel: bool = False,
    raw: bool = False,
    redactor: Redactor | None = None,
    progress: Callable[[int], None] | None = None,
    strict: bool = True,
    processes: int = 1,
) -> int:
    """Write one table as CSV to ``out``; return the number of data rows.

    ``processes=2`` (the CLI, on a big table) shares the rows with a forked process, a rowid
    range at a time (see :func:`_write_split`): the same bytes in about half the time on two
    free cores. Only for single-threaded callers (fork).

    ``excel=True`` adds a UTF-8 byte-order mark and CRLF row ends, which Excel needs to read
    accents and line breaks right. ``progress`` gets the number of rows written so far after
    each batch (and at least every ``PROGRESS_EVERY`` rows); it may raise to stop.
    """
    _check(table)
    columns = COLUMNS[table]
    filters = dict(filters or {})
    eol = "\r\n" if excel else "\n"
    if excel:
        out.write(BOM)
    out.write(",".join(columns) + eol)
    n = 0
    batch = PROGRESS_EVERY if progress is not None else 5000
    chunks = (
        store.export_rowid_chunks(table, EXPORT_CHUNKS)
        if processes > 1 and redactor is None
        else None
    )
    if chunks is not None:
        n = _write_split(store, table, columns, filters, out, chunks, raw=raw, eol=eol,
                         strict=strict, batch=batch, progress=progress)  # fmt: skip
    elif redactor is None:
        lines = _Lines(store, columns, raw=raw, eol=eol)
        for rows in store.export_raw_rows(table, columns, filters, strict=strict, batch=batch):
            out.write(lines.batch(rows))
            n += len(rows)
            if progress is not None:
                progress(n)
    else:
        buf = io.StringIO(newline="")
        # The csv module writes CRLF; with a bare "\n" terminator, Python 3.11's writer
        # leaves a lone "\r" inside a cell unquoted, which breaks the row.
        writer = csv.writer(buf, lineterminator="\r\n")
        for rows in store.export_rows(
            table, columns, filters, form="cells", strict=strict, batch=batch
        ):
            lines = []
            for row in rows:
                cells = [redactor.cell(c, v) for c, v in zip(columns, row, strict=True)]
                writer.writerow(cells if raw else [neutralise(c) for c in cells])
                lines.append(buf.getvalue()[:-2] + eol)
                buf.seek(0)
                buf.truncate()
            out.write("".join(lines))
            n += len(rows)
            if progress is not None:
                progress(n)
    if progress is not None:
        progress(n)
    return n


def _write_split(
    store: Store,
    table: str,
    columns: tuple[str, ...],
    filters: dict[str, str | None],
    out: TextIO,
    chunks: list[tuple[int | None, int | None]],
    *,
    raw: bool,
    eol: str,
    strict: bool,
    batch: int,
    progress: Callable[[int], None] | None,
) -> int:
    """The rowid ranges ``chunks`` shared with a forked child, one range at a time: this
    process takes them from the first on and writes them to ``out``, the child from the last
    back into a temporary file, until they meet; then the child's parts are appended in order.
    Taking ranges as they go keeps both busy to the end whatever the rows filtered out."""
    import json
    import multiprocessing
    import sys
    import tempfile

    ctx = multiprocessing.get_context("fork")
    shared = ctx.RawArray("q", 3)  # the next range from the front, from the back; child's rows
    shared[0], shared[1] = 0, len(chunks) - 1
    lock = ctx.Lock()
    encoding = getattr(out, "encoding", None) or "utf-8"
    errors = getattr(out, "errors", None) or "strict"

    def take(front: bool) -> int | None:
        with lock:
            if shared[0] > shared[1]:
                return None
            i = shared[0] if front else shared[1]
            shared[0 if front else 1] += 1 if front else -1
            return i

    lines = _Lines(store, columns, raw=raw, eol=eol)  # the zone's table, inherited by the child
    # An encrypted log's rows in clear go to a memory-backed folder only (Store.scratch_dir).
    with tempfile.TemporaryDirectory(prefix="fieldlog-export-", dir=store.scratch_dir()) as tmp:
        part = Path(tmp) / "parts.csv"
        index = Path(tmp) / "parts.json"

        def child() -> None:
            done = []
            with store.reopen() as own, open(part, "wb") as fh:
                mine = _Lines(own, columns, raw=raw, eol=eol)
                while (i := take(front=False)) is not None:
                    start, count = fh.tell(), 0
                    for rows in own.export_raw_rows(table, columns, filters, strict=strict,
                                                    batch=batch, rowids=chunks[i]):  # fmt: skip
                        fh.write(mine.batch(rows).encode(encoding, errors))
                        count += len(rows)
                        shared[2] += len(rows)
                    done.append((i, start, fh.tell(), count))
            index.write_text(json.dumps(done))

        for stream in (out, sys.stdout, sys.stderr):  # else the child would flush them too
            if stream is not None:
                stream.flush()
        proc = ctx.Process(target=child, daemon=True)
        proc.start()
        n = 0
        try:
            while (i := take(front=True)) is not None:
                for rows in store.export_raw_rows(table, columns, filters, strict=strict,
                                                  batch=batch, rowids=chunks[i]):  # fmt: skip
                    out.write(lines.batch(rows))
                    n += len(rows)
                    if progress is not None:
                        progress(n + shared[2])
        except BaseException:
            proc.kill()
            proc.join()
            raise
        proc.join()
        if proc.exitcode != 0 or not index.exists():
            raise FieldlogError(
                f"The export of {table} failed in its second process (exit {proc.exitcode}): "
                "try again."
            )
        parts = sorted(json.loads(index.read_text()))
        _append(out, part, [(start, end) for _, start, end, _ in parts], encoding, errors)
        n += sum(count for *_, count in parts)
    if progress is not None:
        progress(n)
    return n


def _append(
    out: TextIO, path: Path, spans: list[tuple[int, int]], encoding: str, errors: str
) -> None:
    """The byte ranges ``spans`` of the file ``path``, in that order, written at the end of
    ``out``: by the kernel (``sendfile``) when ``out`` is a file or a pipe."""
    out.flush()
    raw_out = getattr(out, "buffer", None)
    fd = -1
    if raw_out is not None:
        raw_out.flush()
        try:
            fd = raw_out.fileno()
        except (OSError, ValueError, AttributeError):  # io.UnsupportedOperation is an OSError
            fd = -1
    with open(path, "rb") as fh:
        for start, end in spans:
            at = start
            while fd >= 0 and at < end:
                try:
                    sent = os.sendfile(fd, fh.fileno(), at, min(end - at, 1 << 30))
                except OSError:  # e.g. an O_APPEND file: copy below
                    fd = -1
                    break
                if sent == 0:
                    break
                at += sent
            fh.seek(at)
            while at < end:
                data = fh.read(min(end - at, 1 << 22))
                if not data:
                    break
                if raw_out is not None:
                    raw_out.write(data)
                else:
                    out.write(data.decode(encoding, errors))
                at += len(data)
    if raw_out is not None:
        raw_out.flush()


@contextmanager
def atomic_text(path: Path) -> Iterator[TextIO]:
    """A text file written as ``PATH.part`` and renamed onto ``path`` only when complete:
    any error (or Ctrl+C) leaves no partial file behind."""
    part = path.with_name(path.name + ".part")
    try:
        out = open(part, "w", encoding="utf-8", newline="")  # noqa: SIM115
    except OSError as exc:
        raise FieldlogError(f"Cannot write {path}: {exc.strerror or exc}.") from None
    try:
        with out:
            yield out
        os.replace(part, path)
    except OSError as exc:
        part.unlink(missing_ok=True)
        raise FieldlogError(f"Cannot write {path}: {exc.strerror or exc}.") from None
    except BaseException:
        part.unlink(missing_ok=True)
        raise


def export_all(
    store: Store,
    dest: Path,
    *,
    filters: Mapping[str, str | None] | None = None,
    excel: bool = False,
    raw: bool = False,
    redact: bool = False,
    progress: Callable[[str, int], None] | None = None,
) -> dict[str, int]:
    """Every table into the folder ``dest`` (made if missing) or, when it ends with ``.zip``,
    into that zip file: ``contacts.csv`` ... ``flat.csv``. Filters apply where they mean
    something (see docs/export.md). Returns the rows per table. One redaction key for all
    the files, so a person keeps one pseudonym across them."""
    filters = dict(filters or {})
    store.export_check("all", filters)
    redactor = Redactor.for_store(store) if redact else None
    counts: dict[str, int] = {}

    def one(table: str, out: TextIO) -> None:
        def tick(n: int) -> None:
            if progress is not None:
                progress(table, n)

        counts[table] = write_table(
            store, table, out, filters=filters, excel=excel, raw=raw, redactor=redactor,
            progress=tick if progress is not None else None, strict=False,
        )  # fmt: skip

    if dest.suffix.lower() == ".zip":
        part = dest.with_name(dest.name + ".part")
        try:
            with zipfile.ZipFile(part, "w", compression=zipfile.ZIP_DEFLATED) as zf:
                for table in TABLES:
                    with zf.open(f"{table}.csv", "w", force_zip64=True) as raw_out:
                        text = io.TextIOWrapper(raw_out, encoding="utf-8", newline="")
                        one(table, text)
                        text.flush()
                        text.detach()
            os.replace(part, dest)
        except OSError as exc:
            part.unlink(missing_ok=True)
            raise FieldlogError(f"Cannot write {dest}: {exc.strerror or exc}.") from None
        except BaseException:
            part.unlink(missing_ok=True)
            raise
        return counts
    if dest.exists() and not dest.is_dir():
        raise FieldlogError(f"{dest} is a file: give a folder (or a name ending in .zip).")
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FieldlogError(f"Cannot make the folder {dest}: {exc.strerror or exc}.") from None
    for table in TABLES:
        with atomic_text(dest / f"{table}.csv") as out:
            one(table, out)
    return counts


def export_contacts_csv(
    store: Store,
    out: TextIO,
    *,
    since: str | None = None,
    excel: bool = False,
    raw: bool = False,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write every live contact (occurred at or after ``since``, a WHEN) to ``out`` (the TUI
    export dialog). Returns the number of contacts written."""
    return write_table(
        store, "contacts", out, filters={"since": since}, excel=excel, raw=raw, progress=progress
    )
