"""Contacts as CSV (RFC 4180), streamed from the store: the first slice of the export feature.

Spreadsheets run a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
as a formula (CSV injection, OWASP), and a field log holds text that strangers said. So such
cells get a leading ``'`` unless ``raw=True`` asks for the stored text unchanged.

The caller opens ``out`` with ``newline=""`` (the csv module writes the line ends itself).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TextIO

from fieldlog import dates

if TYPE_CHECKING:
    from fieldlog.db.store import Store

# Stable column names: scripts and spreadsheets downstream depend on them.
CONTACT_COLUMNS = (
    "id", "occurred_at", "officer", "kind", "person_name", "organization_id", "neighborhood",
    "beat", "location", "summary", "notes", "tags", "follow_up_on", "created_at", "updated_at",
)  # fmt: skip
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
PROGRESS_EVERY = 1000  # rows read between progress calls
BOM = "\ufeff"


def neutralise(value: str) -> str:
    """A cell a spreadsheet would run as a formula, made plain text with a leading quote."""
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def _cell(column: str, value: Any) -> str:
    if value is None:
        return ""
    if column == "occurred_at":
        # ISO 8601 in local time with its offset: what the officer saw, still unambiguous.
        return dates.to_local(dates.from_storage(value)).isoformat(timespec="seconds")
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    return str(value)


def export_contacts_csv(
    store: Store,
    out: TextIO,
    *,
    since: str | None = None,
    excel: bool = False,
    raw: bool = False,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write every live contact (occurred at or after ``since``, a WHEN) to ``out``.

    Returns the number of contacts written. ``excel=True`` adds a UTF-8 byte-order mark and
    CRLF line ends, which Excel needs to read accents and line breaks right. ``progress`` is
    called with the number of rows read so far, every ``PROGRESS_EVERY`` rows; it may raise to
    stop the export.
    """
    cutoff = dates.to_storage(dates.parse_when(since, field="since").at) if since else None
    if excel:
        out.write(BOM)
    # The csv module writes each line to a buffer with CRLF: with a bare "\n" terminator,
    # Python 3.11's writer leaves a lone "\r" inside a cell unquoted, which breaks the row.
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\r\n")

    def emit(cells: list[str] | tuple[str, ...]) -> None:
        writer.writerow(cells)
        line = buf.getvalue()
        buf.seek(0)
        buf.truncate()
        out.write(line if excel else line[:-2] + "\n")

    emit(CONTACT_COLUMNS)
    written = read = 0
    for row in store.iter_rows("contacts"):
        read += 1
        if progress is not None and read % PROGRESS_EVERY == 0:
            progress(read)
        if cutoff is not None and (row["occurred_at"] or "") < cutoff:
            continue
        cells = [_cell(c, row.get(c)) for c in CONTACT_COLUMNS]
        emit(cells if raw else [neutralise(c) for c in cells])
        written += 1
    if progress is not None:
        progress(read)
    return written
