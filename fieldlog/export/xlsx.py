"""Excel workbooks that stay typed (``fieldlog export --out X.xlsx``, referral sheets).

A CSV leaves every cell's type to the program that opens it, and spreadsheets guess: a phone
``0123 555`` loses its leading zero, ``+1 555`` becomes a number or a formula, an id of
digits becomes ``1.23E+31`` and a time stays text. A workbook says what each cell is, so it
opens the same everywhere (docs/export.md, "Excel workbooks"):

- text (ids, phones, names, notes...) is a **string cell**, formatted as Text (``@``) so an
  edit in Excel keeps it text too. Nothing is ever a formula: strings are written as
  strings (XlsxWriter's ``strings_to_formulas``, ``strings_to_numbers`` and
  ``strings_to_urls`` are off), so ``=HYPERLINK(...)`` typed in a summary stays that text.
  The CSV export's leading ``'`` (its guard against formula injection) is therefore not
  added: a string cell is never evaluated, and the apostrophe would be part of the text;
- a time (stored as UTC text, ``2026-11-25T22:11:15.975Z``) is a **date cell** holding the
  local time of the computer that exports, the same zone rules as the CSV
  (:mod:`fieldlog.export.lines`) minus the offset, which a spreadsheet cell cannot hold;
  a day (``2026-12-01``) is a date cell. A value that does not fit its kind is its text (the
  export tables first give a time stored in another form the CSV's own conversion,
  :func:`fieldlog.export.xlsx_tables.table_rows`);
- the header row is bold, frozen and has an autofilter; columns get widths from the header,
  the kind and the first rows.

The rows are written as they come in XlsxWriter's ``constant_memory`` mode (each row goes to
a temporary file of the worksheet, 0600 in a private folder: for an encrypted log only in a
memory-backed one, :meth:`~fieldlog.db.store.Store.scratch_dir`), so memory stays flat
however big the export; the file is written whole or not at all
(:func:`~fieldlog.export.files.atomic_binary`: temporary name, 0600, ``--force`` rules).

The export tables (``fieldlog export TABLE --out X.xlsx``) are
:mod:`fieldlog.export.xlsx_tables`: the CSV export's columns, rows and redaction, written
here; the referral sheets use :func:`write_workbook` directly.

xlsxwriter is imported only inside :func:`write_workbook` (never on ``fieldlog add``'s path).
"""

from __future__ import annotations

import itertools
import os
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext, suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fieldlog.errors import FieldlogError
from fieldlog.export.files import atomic_binary, check_out
from fieldlog.export.split import SCRATCH_PREFIX, sweep_scratch

if TYPE_CHECKING:
    from fieldlog.db.store import Store

KINDS = ("text", "datetime", "date", "int", "number", "bool")
EXCEL_MAX_ROWS = 1_048_576  # the header included
SAMPLE_ROWS = 200  # rows looked at for the column widths
MAX_WIDTH = 60
# Formats (Excel's codes): the text one also keeps an edited cell text.
TEXT_FORMAT = "@"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
DATETIME_MS_FORMAT = "yyyy-mm-dd hh:mm:ss.000"
DATE_FORMAT = "yyyy-mm-dd"
EDITABLE_FILL = "#FFF2CC"  # a light yellow: the cells someone is asked to fill in
# Document properties XlsxWriter knows; any other key becomes a custom property.
STANDARD_PROPERTIES = frozenset(
    {"title", "subject", "author", "manager", "company", "category", "keywords", "comments",
     "status", "hyperlink_base"}
)  # fmt: skip


@dataclass(frozen=True)
class Column:
    """One column of a sheet: its header and what its cells are.

    ``kind``: ``text`` (a string cell, Text format), ``datetime`` (a stored UTC time text, or a
    ``datetime``: a date cell in local time), ``date`` (``YYYY-MM-DD`` or a ``date``: a date
    cell), ``int``, ``number``, ``bool``. A value that does not fit its kind is written as
    its text. ``width`` in characters (None: from the header and the first rows).
    ``choices``: a drop-down list (data validation) on the column's data cells.
    ``editable``: the column's cells are left unlocked and highlighted; a sheet with an
    editable column is protected (no password) so only those cells take typing.
    """

    name: str
    kind: str = "text"
    width: int | None = None
    choices: tuple[str, ...] = ()
    editable: bool = False

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown column kind {self.kind!r}: one of {', '.join(KINDS)}")


@dataclass
class SheetSpec:
    """A worksheet: its name (at most 31 characters, none of ``[]:*?/\\``), its columns and
    its rows, values as stored (ISO UTC stamps, ``YYYY-MM-DD`` days; None is an empty
    cell). ``rows`` is consumed once, as it comes (a generator keeps memory flat)."""

    name: str
    columns: Sequence[Column]
    rows: Iterable[Sequence[object]]
    # Filled in by write_workbook: the data rows written.
    written: int = field(default=0, init=False)


# ---------------------------------------------------------------------- cells
def local_time(value: object) -> datetime | None:
    """A stored UTC time text (``2026-11-25T22:11:15.975Z``; without an offset it is UTC too;
    with one, that instant) or a datetime (naive: already local) as a naive local datetime
    (the exporting computer's zone, as the CSV export converts it); None when it is not a
    time a spreadsheet can hold (then the cell keeps its text)."""
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, str) and len(value) >= 19 and value[4:5] == "-" and value[10:11] == "T":
        try:
            dt = datetime.fromisoformat(value)
        except ValueError:
            return None
        if dt.tzinfo is None:  # stored text without an offset is UTC (as the CSV reads it)
            dt = dt.replace(tzinfo=UTC)
    else:
        return None
    if dt.tzinfo is not None:
        try:
            dt = dt.astimezone().replace(tzinfo=None)
        except (OverflowError, OSError, ValueError):
            return None
    return dt if 1900 <= dt.year <= 9999 else None


def local_day(value: object) -> date | None:
    """A stored day (``YYYY-MM-DD``) or a date as a date; None when it is not one."""
    if isinstance(value, datetime):
        return None
    if isinstance(value, date):
        return value if value.year >= 1900 else None
    if isinstance(value, str) and len(value) == 10:
        try:
            d = date.fromisoformat(value)
        except ValueError:
            return None
        return d if d.year >= 1900 else None
    return None


def _text(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8", "replace")
    return str(value)


class _Formats:
    """The workbook's cell formats, made once each (XlsxWriter keeps one per add_format)."""

    def __init__(self, wb: Any) -> None:
        self.wb = wb
        self.cache: dict[tuple[str, bool], Any] = {}

    def get(self, what: str, editable: bool = False) -> Any:
        key = (what, editable)
        got = self.cache.get(key)
        if got is None:
            table: dict[str, dict[str, Any]] = {
                "text": {"num_format": TEXT_FORMAT},
                "datetime": {"num_format": DATETIME_FORMAT},
                "datetime_ms": {"num_format": DATETIME_MS_FORMAT},
                "date": {"num_format": DATE_FORMAT},
                "int": {"num_format": "0"},
                "number": {},
                "bool": {},
                "header": {"bold": True, "bottom": 1, "num_format": TEXT_FORMAT},
            }
            props = table[what]
            if editable:
                props = {**props, "locked": False, "bg_color": EDITABLE_FILL}
                if what == "header":
                    props["locked"] = True
            got = self.cache[key] = self.wb.add_format(props)
        return got


def _width(col: Column, sample: list[Sequence[object]], i: int) -> float:
    if col.width is not None:
        return col.width
    base = len(col.name) + 3  # room for the autofilter's button
    if col.kind == "datetime":
        ms = any("." in v for r in sample if i < len(r) and isinstance(v := r[i], str))
        widest = 23 if ms else 19
    elif col.kind == "date":
        widest = 10
    elif col.kind in ("int", "number", "bool"):
        widest = 8
    else:
        widest = 0
        for r in sample:
            v = r[i] if i < len(r) else None
            if v is not None:
                text = _text(v)
                widest = max(widest, len(text.split("\n", 1)[0]))
    return min(max(base, widest + 2, 6), MAX_WIDTH)


def _write_sheet(wb: Any, fmt: _Formats, spec: SheetSpec, lists: list[str]) -> int:
    ws = wb.add_worksheet(spec.name)
    cols = list(spec.columns)
    ncols = len(cols)
    rows = iter(spec.rows)
    sample = list(itertools.islice(rows, SAMPLE_ROWS))
    protect = any(c.editable for c in cols)
    for i, col in enumerate(cols):
        ws.set_column(i, i, _width(col, sample, i))
        ws.write_string(0, i, col.name, fmt.get("header", col.editable))
    ws.freeze_panes(1, 0)
    writers = [_cell_writer(ws, fmt, col) for col in cols]
    r = 0
    for row in itertools.chain(sample, rows):
        r += 1
        if r >= EXCEL_MAX_ROWS:
            raise too_many(spec.name)
        for c, value in enumerate(row[:ncols]):
            writers[c](r, c, value)
    ws.autofilter(0, 0, r, max(ncols - 1, 0))
    for i, col in enumerate(cols):
        if col.choices and r:
            source: list[str] | str = list(col.choices)
            if len(",".join(col.choices)) > 255 or any("," in c for c in col.choices):
                start = len(lists)
                lists.extend(col.choices)
                source = f"=_choices!$A${start + 1}:$A${len(lists)}"
            ws.data_validation(
                1, i, r, i,
                {"validate": "list", "source": source, "error_type": "stop",
                 "error_title": col.name, "error_message": "Pick one of the list."},
            )  # fmt: skip
    if protect:
        ws.protect(
            "",
            {"autofilter": True, "sort": True, "format_columns": True, "format_rows": True,
             "select_locked_cells": True, "select_unlocked_cells": True},
        )  # fmt: skip
    spec.written = r
    return r


def _cell_writer(ws: Any, fmt: _Formats, col: Column) -> Callable[[int, int, object], None]:
    """One function per column that writes a value as that column's kind."""
    ed = col.editable
    text_fmt = fmt.get("text", ed)
    blank_fmt = fmt.get(col.kind, ed)
    write_string = ws.write_string

    def blank(r: int, c: int) -> None:
        if ed:  # an empty cell to fill in: unlocked and highlighted
            ws.write_blank(r, c, None, blank_fmt)

    def as_text(r: int, c: int, v: object) -> None:
        if v is None or v == "":
            blank(r, c)
        else:
            write_string(r, c, _text(v), text_fmt)

    if col.kind == "text":
        return as_text
    if col.kind == "datetime":
        f_s, f_ms = fmt.get("datetime", ed), fmt.get("datetime_ms", ed)

        def as_time(r: int, c: int, v: object) -> None:
            dt = local_time(v)
            if dt is None:
                as_text(r, c, v)
            else:
                frac = dt.microsecond or (isinstance(v, str) and "." in v)
                ws.write_datetime(r, c, dt, f_ms if frac else f_s)

        return as_time
    if col.kind == "date":
        f_d = fmt.get("date", ed)

        def as_day(r: int, c: int, v: object) -> None:
            d = local_day(v)
            if d is None:
                as_text(r, c, v)
            else:
                ws.write_datetime(r, c, d, f_d)

        return as_day
    if col.kind in ("int", "number"):
        f_n = fmt.get(col.kind, ed)
        whole = col.kind == "int"

        def as_number(r: int, c: int, v: object) -> None:
            if isinstance(v, bool) or not isinstance(v, int | float):
                try:
                    v = int(v) if whole else float(v)  # type: ignore[call-overload,arg-type]
                except (TypeError, ValueError):
                    as_text(r, c, v)
                    return
            ws.write_number(r, c, v, f_n)

        return as_number
    f_b = fmt.get("bool", ed)

    def as_bool(r: int, c: int, v: object) -> None:
        if isinstance(v, bool | int):
            ws.write_boolean(r, c, bool(v), f_b)
        else:
            as_text(r, c, v)

    return as_bool


# ---------------------------------------------------------------------- workbook
def write_workbook(
    path: Path,
    sheets: Iterable[SheetSpec],
    *,
    force: bool = False,
    properties: Mapping[str, str] | None = None,
    tmpdir: str | None = None,
    in_memory: bool = False,
) -> int:
    """Write ``sheets`` as one .xlsx workbook at ``path``; return the data rows written (all
    sheets). Written whole or not at all (:func:`~fieldlog.export.files.atomic_binary`:
    owner-only, an existing file replaced only with ``force``).

    Each sheet's rows are consumed as they come and written in XlsxWriter's constant-memory
    mode through temporary files in a private folder under ``tmpdir`` (None: the system's
    temp folder); ``in_memory=True`` keeps them in memory instead (no temporary file: for an
    encrypted log where no memory-backed folder exists). ``properties``: the document's
    title, subject, author, company, comments... (XlsxWriter's names); other keys become
    custom properties (openpyxl reads them as ``wb.custom_doc_props``)."""
    import xlsxwriter
    from xlsxwriter.exceptions import FileCreateError

    check_out(path, force=force)

    def scratch() -> AbstractContextManager[str | None]:
        """The private folder (0700) of the worksheets' temporary files, removed at the end
        whatever happens; one a killed export left is removed by the next (its process id)."""
        if in_memory:
            return nullcontext(None)
        sweep_scratch(tmpdir)
        return tempfile.TemporaryDirectory(prefix=f"{SCRATCH_PREFIX}{os.getpid()}-", dir=tmpdir)

    total = 0
    with atomic_binary(path, force=force) as fh, scratch() as tmp:
        wb = xlsxwriter.Workbook(
            fh,
            {
                "constant_memory": not in_memory,
                "in_memory": in_memory,
                "tmpdir": tmp,
                "strings_to_formulas": False,
                "strings_to_numbers": False,
                "strings_to_urls": False,
                "use_zip64": True,
            },
        )
        try:
            props = dict(properties or {})
            wb.set_properties({k: v for k, v in props.items() if k in STANDARD_PROPERTIES})
            for k, v in props.items():
                if k not in STANDARD_PROPERTIES:
                    wb.set_custom_property(k, v)
            fmt = _Formats(wb)
            lists: list[str] = []
            for spec in sheets:
                total += _write_sheet(wb, fmt, spec, lists)
            if lists:
                extra = wb.add_worksheet("_choices")
                for i, v in enumerate(lists):
                    extra.write_string(i, 0, v)
                extra.hide()
            try:
                wb.close()
            except FileCreateError as exc:  # an OSError inside (a full disk): one line
                inner = exc.args[0] if exc.args else None
                raise (inner if isinstance(inner, OSError) else OSError(str(exc))) from None
        finally:
            wb.fileclosed = True  # after an error: no second close (nor a warning) at exit
            for ws in wb.worksheets():
                handle = getattr(ws, "row_data_fh", None)
                if handle is not None:
                    with suppress(Exception):
                        handle.close()
    return total


def too_many(sheet: str) -> FieldlogError:
    """The one line for a sheet with more rows than Excel holds."""
    return FieldlogError(
        f"The sheet {sheet} would need more than {EXCEL_MAX_ROWS - 1:,} rows, Excel's limit: "
        "export it as CSV, or narrow it with --since/--until."
    )


def scratch_for(store: Store) -> tuple[str | None, bool]:
    """(tmpdir, in_memory) for a workbook of this log's rows: the system's temp folder for a
    plain log; for an encrypted one a memory-backed folder, else no temporary file at all."""
    if not store.encrypted:
        return None, False
    ram = store.scratch_dir()
    return (ram, False) if ram is not None else (None, True)
