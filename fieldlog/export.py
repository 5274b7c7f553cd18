"""CSV exports (RFC 4180, UTF-8, header row), streamed from the store in constant memory.

Tables: contacts, concerns, referrals, organizations, and ``flat`` (one row per concern and per
referral with its contact's date, officer, neighborhood, kind and summary). See docs/export.md.

Spreadsheets run a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
as a formula (CSV injection, OWASP), and a field log holds text that strangers said. So such
cells get a leading ``'`` unless ``raw=True`` asks for the stored text unchanged.

The quoting, that neutralisation and the local-time conversion run in SQL (see the export
section of :class:`~fieldlog.db.store.Store`): Python only joins lines and writes them. With
``--redact`` the cells come back unquoted and Python redacts, neutralises and quotes them.

Writers take ``out`` opened with ``newline=""`` (line ends are written as given).
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import os
import re
import secrets
import zipfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from fieldlog import dates
from fieldlog.errors import FieldlogError

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
) -> int:
    """Write one table as CSV to ``out``; return the number of data rows.

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
    if redactor is None:
        for rows in store.export_rows(
            table, columns, filters, form="line", raw=raw, eol=eol, strict=strict, batch=batch
        ):
            out.write("".join([r[0] for r in rows]))
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
