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

from fieldlog import dates
from fieldlog.errors import FieldlogError
from fieldlog.models import LIST_FIELDS

if TYPE_CHECKING:
    from fieldlog.db.store import Store

# Stable column names, per table: scripts, spreadsheets and ``fieldlog import`` depend on them.
COLUMNS: dict[str, tuple[str, ...]] = {
    "contacts": (
        "id", "occurred_at", "officer", "kind", "person_name", "organization_id", "neighborhood",
        "beat", "location", "summary", "notes", "tags", "follow_up_on", "created_at",
        "updated_at",
    ),
    "concerns": (
        "id", "contact_id", "category", "description", "priority", "status", "resolved_at",
        "resolution", "officer", "created_at", "updated_at",
    ),
    "referrals": (
        "id", "contact_id", "concern_id", "organization_id", "agency", "service", "reason",
        "status", "follow_up_on", "outcome", "officer", "created_at", "updated_at",
    ),
    "organizations": (
        "id", "name", "kind", "contact_person", "phone", "email", "address", "neighborhood",
        "services", "status", "last_verified", "notes", "officer", "created_at", "updated_at",
    ),
    "flat": (
        "record_type", "record_id", "contact_id", "occurred_at", "officer", "neighborhood",
        "kind", "summary", "category", "priority", "status", "description", "agency", "service",
        "reason", "follow_up_on", "outcome", "resolved_at",
    ),
}  # fmt: skip
CONTACT_COLUMNS = COLUMNS["contacts"]
TABLES = tuple(COLUMNS)  # what ``fieldlog export TABLE`` accepts, besides "all"
FILTERS = ("since", "until", "officer", "hood", "category", "status", "tag")
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
PROGRESS_EVERY = 1000  # rows between progress calls (at most once per fetched batch)
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
_NEEDS_QUOTES = re.compile('[",\n\r]')
_RISKY_AFTER_SEP = re.compile("\x1f[=+\\-@\t\r]")
_TIME_RE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-5][0-9]:[0-5][0-9](?:\.[0-9]{3})?Z"
_TIME = re.compile(_TIME_RE)
_TIMES = re.compile(f"(?:(?:{_TIME_RE})?\x1f)*")  # a joined column of stored times (or '')
_TIME_COLUMNS = {"created_at": True, "updated_at": True, "occurred_at": False, "resolved_at": False}


def _offset_text(minutes: int) -> str:
    return f"{'-' if minutes < 0 else '+'}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


class _Lines:
    """Stored rows (from :meth:`Store.export_raw_rows`) to CSV text, byte for byte what the
    SQL of :meth:`Store.export_rows` (``form="line"``) writes, a batch at a time.

    The work goes column by column: a column of a batch is joined and scanned once (C speed)
    and only a column holding a cell to quote or neutralise is done cell by cell. Times go
    through a cache keyed on the UTC hour (``2026-11-25T22``) when the zone's offset is a
    whole number of hours throughout that hour; other values take exact, slower paths.
    """

    def __init__(self, store: Store, columns: Sequence[str], *, raw: bool, eol: str) -> None:
        self.store = store
        self.raw = raw
        self.eol = eol
        self.kinds = [
            ("time_ms" if _TIME_COLUMNS[c] else "time")
            if c in _TIME_COLUMNS
            else "list"
            if c in LIST_FIELDS
            else "text"
            for c in columns
        ]
        self.spans = store._tz_spans()
        self.starts = [at for at, _ in self.spans]
        self.hours: dict[str, tuple[str, str]] = {"": ("", "")}
        self.lists: dict[str, str] = {}

    def batch(self, rows: list[tuple]) -> str:
        cols = list(zip(*rows, strict=True))
        for i, kind in enumerate(self.kinds):
            col = cols[i]
            if kind == "list":
                col = self._lists(col)
            if kind in ("time", "time_ms"):
                cols[i] = self._times(col, kind == "time_ms")
            else:
                cols[i] = self._texts(col)
        eol = self.eol
        return eol.join(map(",".join, zip(*cols, strict=True))) + eol

    # -- text cells: quoting (RFC 4180) and formula neutralisation
    def _texts(self, col: Sequence) -> Sequence[str]:
        try:
            s = _SEP.join(col)
        except TypeError:  # a value that is not text (a blob): SQLite's own text for it
            col = [v if type(v) is str else self.store.export_value("text", v) for v in col]
            s = _SEP.join(col)
        if not self.raw and (s[:1] in _RISKY or _RISKY_AFTER_SEP.search(s)):
            return [self._cell(v) for v in col]
        if _NEEDS_QUOTES.search(s):  # no risky cell: quote where needed, inline
            return [
                '"' + v.replace('"', '""') + '"'
                if ("," in v or '"' in v or "\n" in v or "\r" in v)
                else v
                for v in col
            ]
        return col

    def _cell(self, v: str) -> str:
        risky = not self.raw and v[:1] in _RISKY
        if '"' in v or "," in v or "\n" in v or "\r" in v:
            return '"' + ("'" if risky else "") + v.replace('"', '""') + '"'
        return "'" + v if risky else v

    # -- lists: JSON text -> "a;b"
    def _lists(self, col: Sequence) -> list[str]:
        cache = self.lists
        if len(cache) > 10_000:
            cache.clear()
        out = []
        for v in col:
            got = cache.get(v)
            if got is None:
                if type(v) is not str:
                    got = self.store.export_value("list", v)
                elif v in ("", "[]"):
                    got = ""
                elif "\\" not in v and '","' not in v and len(v) >= 4:
                    got = v[2:-2].replace('", "', ";")
                else:
                    got = self.store.export_value("list", v)
                cache[v] = got
            out.append(got)
        return out

    # -- times: stored UTC -> local ISO 8601 with the offset
    def _times(self, col: Sequence, ms: bool) -> Sequence[str]:
        try:
            s = _SEP.join(col)
            if s.count(_SEP) != len(col) - 1 or not _TIMES.fullmatch(s + _SEP):
                raise _Slow
            hours = self.hours
            for key in {t[:13] for t in col}:
                if key not in hours:
                    hours[key] = self._hour(key)
            if ms:
                return [(e := hours[t[:13]])[0] + t[13:-1] + e[1] for t in col]
            return [(e := hours[t[:13]])[0] + t[13:19] + e[1] for t in col]
        except (_Slow, TypeError):
            return [self._time(v, ms) for v in col]

    def _in_table(self, key: str) -> bool:
        return bool(self.spans) and "1990-01-01" <= key < "2050-01-01"

    def _hour(self, key: str) -> tuple[str, str]:
        """(local ``YYYY-MM-DDTHH``, offset text) for a UTC hour ``YYYY-MM-DDTHH`` with one
        whole-hour offset throughout; else raise _Slow."""
        if not self._in_table(key):
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
        if v == "":
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

    ``processes=2`` (the CLI, on a big table) lets a forked process convert the second half of
    the rows into a temporary file while this one writes the first half, then appends it: the
    same bytes in about half the time on two cores. Only for single-threaded callers (fork).

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
    split = store.export_split_rowid(table) if processes > 1 and redactor is None else None
    if split is not None:
        n = _write_split(store, table, columns, filters, out, split, raw=raw, eol=eol,
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
    split: int,
    *,
    raw: bool,
    eol: str,
    strict: bool,
    batch: int,
    progress: Callable[[int], None] | None,
) -> int:
    """Rows below ``split`` here, the rest in a forked child writing a temporary file."""
    import multiprocessing
    import shutil
    import tempfile

    from fieldlog.db.store import Store

    def convert(s: Store, rowids: tuple[int | None, int | None], dest: TextIO) -> int:
        lines = _Lines(s, columns, raw=raw, eol=eol)
        count = 0
        for rows in s.export_raw_rows(table, columns, filters, strict=strict, batch=batch,
                                      rowids=rowids):  # fmt: skip
            dest.write(lines.batch(rows))
            count += len(rows)
            if progress is not None and dest is out:
                progress(count)
        return count

    with tempfile.TemporaryDirectory(prefix="fieldlog-export-") as tmp:
        part = Path(tmp) / "second-half.csv"
        counted = Path(tmp) / "rows"

        def child() -> None:
            with Store.open(store.path) as own, open(part, "w", encoding="utf-8", newline="") as fh:
                counted.write_text(str(convert(own, (split, None), fh)))

        proc = multiprocessing.get_context("fork").Process(target=child, daemon=True)
        proc.start()
        try:
            n = convert(store, (None, split), out)
        finally:
            proc.join()
        if proc.exitcode != 0 or not counted.exists():
            raise FieldlogError(
                f"The export of {table} failed in its second process (exit {proc.exitcode}): "
                "try again."
            )
        raw_out = getattr(out, "buffer", None)
        if raw_out is not None:  # a real file: append the bytes, no decoding and encoding
            out.flush()
            with open(part, "rb") as fh:
                shutil.copyfileobj(fh, raw_out, 1 << 20)
            raw_out.flush()
        else:
            with open(part, encoding="utf-8", newline="") as fh:
                shutil.copyfileobj(fh, out, 1 << 20)
        n += int(counted.read_text())
    if progress is not None:
        progress(n)
    return n


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
