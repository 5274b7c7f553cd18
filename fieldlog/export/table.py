"""One table as CSV (RFC 4180, UTF-8, header row), streamed from the store in constant memory.

Writers take ``out`` opened with ``newline=""`` (line ends are written as given). The rows
come packed by SQLite (or as stored) and :class:`~fieldlog.export.lines.Lines` writes them
(:func:`~fieldlog.export.lines.csv_batches`; in two processes when asked,
:mod:`fieldlog.export.split`); with ``--redact`` a
:class:`~fieldlog.export.redact.Redactor` changes each batch's columns before they are
written, so quoting, neutralising and times are the same code as for any export.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, TextIO

from fieldlog.export.columns import COLUMNS, check_table
from fieldlog.export.lines import Lines, csv_batches
from fieldlog.export.redact import Redactor
from fieldlog.export.split import can_split, write_split

if TYPE_CHECKING:
    from fieldlog.db.store import Store

PROGRESS_EVERY = 1000  # rows between progress calls (at most once per fetched batch)
EXPORT_CHUNKS = 48  # rowid ranges of a split export, taken one at a time by 2 processes
BOM = "\ufeff"


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

    ``processes=2`` (on a big table) shares the rows with a forked process, a rowid range at
    a time (see :func:`~fieldlog.export.split.write_split`): the same bytes in about half the
    wall time on two free cores, for some 20% more CPU (the CLI writes in one process). Only
    for single-threaded callers (fork).

    ``excel=True`` adds a UTF-8 byte-order mark and CRLF row ends, which Excel needs to read
    accents and line breaks right. ``progress`` gets the number of rows written so far after
    each batch (and at least every ``PROGRESS_EVERY`` rows); it may raise to stop.
    """
    check_table(table)
    columns = COLUMNS[table]
    filters = dict(filters or {})
    eol = "\r\n" if excel else "\n"
    if excel:
        out.write(BOM)
    out.write(",".join(columns) + eol)
    n = 0
    batch = PROGRESS_EVERY if progress is not None else 5000
    chunks = (
        store.exports.rowid_chunks(table, EXPORT_CHUNKS)
        if processes > 1 and redactor is None and can_split()
        else None
    )
    if chunks is not None:
        n = write_split(store, table, columns, filters, out, chunks, raw=raw, eol=eol,
                        strict=strict, batch=batch, progress=progress)  # fmt: skip
    else:
        lines = Lines(store, columns, raw=raw, eol=eol, redactor=redactor)
        for text, rows in csv_batches(store, lines, table, columns, filters, strict=strict,
                                 batch=batch):  # fmt: skip
            out.write(text)
            n += rows
            if progress is not None:
                progress(n)
    if progress is not None:
        progress(n)
    return n


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
