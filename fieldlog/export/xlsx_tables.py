"""The export tables as Excel workbooks: ``fieldlog export TABLE --out FILE.xlsx`` (one sheet)
and ``fieldlog export all --out FILE.xlsx`` (one sheet per table), see docs/export.md.

The CSV export's columns (:data:`~fieldlog.export.columns.COLUMNS`), row stream
(:meth:`~fieldlog.db.export_sql.Exports.raw_rows`), filters and redaction
(:meth:`~fieldlog.export.redact.Redactor.column`, a batch's column at a time), written by
:func:`fieldlog.export.xlsx.write_workbook`: only the last step, a cell, differs from the CSV.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fieldlog import records
from fieldlog.export import xlsx
from fieldlog.export.columns import COLUMNS, TABLES, check_table
from fieldlog.export.redact import Redactor
from fieldlog.export.table import PROGRESS_EVERY
from fieldlog.export.xlsx import Column, SheetSpec, scratch_for, write_workbook

if TYPE_CHECKING:
    from fieldlog.db.store import Store

# Stored days (``YYYY-MM-DD``, local): date cells.
DAY_FIELDS = frozenset({"follow_up_on", "last_verified"})
TIME_COLUMNS = frozenset({*records.TIME_FIELDS, "created_at", "updated_at"})
# A time as stored (UTC); any other text goes through the CSV's own conversion first.
_STORED_TIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-5][0-9]:[0-5][0-9](\.[0-9]{3})?Z\Z"
)
BATCH = 5000


def table_columns(table: str) -> tuple[Column, ...]:
    """The columns of an export table (the CSV's, in its order) with their cell kinds."""
    check_table(table)
    return tuple(
        Column(c, "datetime" if c in TIME_COLUMNS else "date" if c in DAY_FIELDS else "text")
        for c in COLUMNS[table]
    )


def _usual_time(v: object) -> bool:
    """An empty cell, or a time as fieldlog stores it that a spreadsheet can hold."""
    return v is None or (type(v) is str and v >= "1900-01-02" and bool(_STORED_TIME.match(v)))


def _list_cell(store: Store, v: object) -> str | None:
    """A stored JSON list as its export text, ``a;b`` (the CSV's ``sql_list``)."""
    if v is None or v in ("", "[]"):
        return None
    if isinstance(v, str):
        try:
            items = json.loads(v)
        except ValueError:
            items = None
        if isinstance(items, list) and all(isinstance(t, str) for t in items):
            return ";".join(items) or None
    return store.exports.value("list", v) or None


def table_rows(
    store: Store,
    table: str,
    *,
    filters: Mapping[str, str | None] | None = None,
    redactor: Redactor | None = None,
    strict: bool = True,
    progress: Callable[[int], None] | None = None,
) -> Iterator[Sequence[object]]:
    """The rows of an export table as stored (times UTC text, days ``YYYY-MM-DD``), with the
    redaction applied a batch's column at a time and lists joined (``a;b``), as the CSV
    export gets them: the same stream (:meth:`Exports.raw_rows`)."""
    check_table(table)
    columns = COLUMNS[table]
    ops = [(i, redactor.column(c)) for i, c in enumerate(columns)] if redactor else []
    redact = [(i, op) for i, op in ops if op is not None]
    lists = [i for i, c in enumerate(columns) if c in records.LIST_FIELDS]
    texts = [
        i for i, c in enumerate(columns) if c not in records.LIST_FIELDS and c not in TIME_COLUMNS
    ]
    times = [(i, c in ("created_at", "updated_at")) for i, c in enumerate(columns)
             if c in TIME_COLUMNS]  # fmt: skip

    def odd_time(v: object, ms: bool) -> str | None:
        """A time not stored in the usual form, as the CSV's SQL converts it (local ISO with
        the offset, or '' for what is no time at all)."""
        return store.exports.value("time_ms" if ms else "time", v) or None

    def text(v: object) -> str:
        return store.exports.value("text", v)

    n = 0
    size = PROGRESS_EVERY if progress is not None else BATCH  # a bar moves as the CSV's does
    for batch in store.exports.raw_rows(table, columns, filters or {}, strict=strict,
                                        batch=size):  # fmt: skip
        cols: list[Sequence[Any]] = list(zip(*batch, strict=True))
        for i, op in redact:
            cols[i] = op(cols[i], text)
        for i in lists:
            cols[i] = [_list_cell(store, v) for v in cols[i]]
        for i, ms in times:
            col = cols[i]
            if not all(map(_usual_time, col)):
                cols[i] = [v if _usual_time(v) else odd_time(v, ms) for v in col]
        for i in texts:  # a value that is not text (a number, a blob): SQLite's text of it
            col = cols[i]
            if not all(type(v) is str or v is None for v in col):
                cols[i] = [v if type(v) is str or v is None else text(v) for v in col]
        yield from zip(*cols, strict=True)
        n += len(batch)
        if progress is not None:
            progress(n)


def _properties(title: str) -> dict[str, str]:
    import time

    from fieldlog import __version__

    zone = os.environ.get("TZ") or "/".join(time.tzname)
    return {
        "title": title,
        "comments": f"Exported by fieldlog {__version__}. Times are local ({zone}), "
        "without their UTC offset; the CSV export carries it.",
    }


def _fits(store: Store, table: str, filters: Mapping[str, str | None], *, strict: bool) -> None:
    """Refuse, before writing anything, a table with more rows than a sheet holds."""
    if store.exports.count(table, filters, strict=strict) >= xlsx.EXCEL_MAX_ROWS:
        raise xlsx.too_many(table)


def write_table_xlsx(
    store: Store,
    table: str,
    path: Path,
    *,
    filters: Mapping[str, str | None] | None = None,
    redactor: Redactor | None = None,
    progress: Callable[[int], None] | None = None,
    force: bool = False,
) -> int:
    """One export table as a workbook of one sheet named after it; returns the rows."""
    _fits(store, table, filters or {}, strict=True)
    tmpdir, in_memory = scratch_for(store)
    sheet = SheetSpec(
        table,
        table_columns(table),
        table_rows(store, table, filters=filters, redactor=redactor, progress=progress),
    )
    return write_workbook(
        path, [sheet], force=force, properties=_properties(f"fieldlog export: {table}"),
        tmpdir=tmpdir, in_memory=in_memory,
    )  # fmt: skip


def export_all_xlsx(
    store: Store,
    path: Path,
    *,
    filters: Mapping[str, str | None] | None = None,
    redact: bool = False,
    progress: Callable[[str, int], None] | None = None,
    force: bool = False,
) -> dict[str, int]:
    """Every table (``contacts`` ... ``flat``) as one sheet each of one workbook, the filters
    applied where they mean something (as ``export all`` to CSV), one redaction key for all
    the sheets. Returns the rows per table."""
    filters = dict(filters or {})
    store.exports.check("all", filters)
    for t in TABLES:
        _fits(store, t, filters, strict=False)
    redactor = Redactor.for_store(store) if redact else None
    tmpdir, in_memory = scratch_for(store)

    def tick(table: str) -> Callable[[int], None] | None:
        if progress is None:
            return None
        return lambda n: progress(table, n)

    specs = [
        SheetSpec(
            t, table_columns(t),
            table_rows(store, t, filters=filters, redactor=redactor, strict=False,
                       progress=tick(t)),
        )
        for t in TABLES
    ]  # fmt: skip
    write_workbook(
        path, specs, force=force, properties=_properties("fieldlog export: all"),
        tmpdir=tmpdir, in_memory=in_memory,
    )  # fmt: skip
    return {s.name: s.written for s in specs}
