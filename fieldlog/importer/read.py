"""Reading the files of an import: a CSV, a folder or a zip of ``fieldlog export all``,
decoded (UTF-8, with or without a BOM) and split into rows, and told apart by the header.

Files are **streamed**: a chunk of :data:`CHUNK` bytes at a time, cut at a line break, checked
(no NUL byte anywhere, valid UTF-8) and handed to :mod:`csv` line by line, so memory does not
grow with the file. The checks are done on every chunk, so a NUL or a stray Latin-1 byte at
the 10 millionth line is found, and the message names its line.

Officers save sheets from whatever spreadsheet is at hand, so every way a file can be wrong
(empty, a workbook, another encoding, broken quoting, an unknown header) gets a message that
says what to do: usually :data:`SAVE_AS`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from fieldlog import records
from fieldlog.errors import FieldlogError

# The export's column names (fieldlog.export.columns COLUMNS is the source).
# A folder or zip from ``fieldlog export all`` is read in this order (parents first).
TABLE_ORDER = records.in_sync_order()
SHEET_COLUMNS = (
    "date", "name", "neighborhood", "summary", "concern category", "concern text",
    "referral agency", "referral reason",
)  # fmt: skip
SAVE_AS = "save it from your spreadsheet as 'CSV UTF-8 (comma delimited)'"
CHUNK = 1 << 20  # bytes read at a time
MAX_LINE = 16 << 20  # a physical line longer than this is not a CSV anyone typed
BOM = b"\xef\xbb\xbf"


def export_columns() -> dict[str, tuple[str, ...]]:
    """The column names of each table ``fieldlog export`` writes (the flat view excepted):
    one definition, in fieldlog.export, for both directions."""
    from fieldlog.export.columns import COLUMNS

    return {t: COLUMNS[t] for t in TABLE_ORDER}


@dataclass
class Sheet:
    """One CSV file being read: its header, and its rows (with the line each row starts
    on) as an iterator that reads the file as it goes; ``size`` its bytes (for progress)."""

    name: str  # what messages call it
    header: list[str]
    rows: Iterator[tuple[int, list[str]]]
    kind: str = ""  # a table of the export, or "sheet"
    size: int = 0
    stream: CountingStream | None = None  # how far the reading is (progress)


class CountingStream:
    """A binary stream that counts the bytes read through it (progress, zip caps)."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.done = 0

    def read(self, n: int) -> bytes:
        data = self.raw.read(n)
        self.done += len(data)
        return data

    def close(self) -> None:
        self.raw.close()


def _breaks(data: bytes) -> int:
    """Line breaks in ``data`` as the CSV reader counts them (LF, CR LF or a lone CR)."""
    return data.count(b"\n") + data.count(b"\r") - data.count(b"\r\n")


def iter_lines(stream: CountingStream | BinaryIO, name: str) -> Iterator[str]:
    """The decoded lines of a file (line ends kept, as ``newline=""`` reads them), checked
    chunk by chunk: a NUL byte or a byte that is not UTF-8 anywhere is an error naming its
    line."""
    buf = b""
    first = True
    lines_before = 0
    while True:
        data = stream.read(CHUNK)
        eof = not data
        buf += data
        if eof:
            piece, buf = buf, b""
        else:
            cut = buf.rfind(b"\n") + 1
            if cut == 0:  # a lone CR ends a line too; keep a final CR, an LF may follow
                cut = buf.rfind(b"\r", 0, len(buf) - 1) + 1
            if cut == 0:
                if len(buf) > MAX_LINE:
                    raise FieldlogError(
                        f"{name} line {lines_before + 1} is longer than "
                        f"{MAX_LINE >> 20} MB without a line break: it is not a CSV file "
                        f"fieldlog can read; {SAVE_AS}."
                    )
                continue
            piece, buf = buf[:cut], buf[cut:]
        if first:
            first = False
            if piece.startswith(BOM):
                piece = piece[len(BOM) :]
        nul = piece.find(b"\x00")
        if nul >= 0:
            line = lines_before + _breaks(piece[:nul]) + 1
            raise FieldlogError(
                f"{name} is not a CSV file (it holds binary data: a NUL byte on line {line}, "
                f"as in a workbook or a picture): {SAVE_AS}."
            )
        try:
            text = piece.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = lines_before + _breaks(piece[: exc.start]) + 1
            raise FieldlogError(
                f"{name} is not UTF-8 text (byte 0x{piece[exc.start]:02x} on line {line}): "
                f"{SAVE_AS}."
            ) from None
        lines = io.StringIO(text, newline="").readlines()
        del piece, text  # only the lines are held while the reader takes them
        lines_before += len(lines)
        yield from lines
        if eof:
            return


def _rows(lines: Iterator[str], name: str) -> Iterator[tuple[int, list[str]]]:
    """``(line, cells)`` of every row that is not blank, the header first."""
    reader = csv.reader(lines, strict=False)
    try:
        while True:
            start = reader.line_num + 1
            try:
                cells = next(reader)
            except StopIteration:
                return
            if not any(c.strip() for c in cells):
                continue  # blank lines and rows of empty cells (spreadsheets write those)
            yield start, cells
    except csv.Error as exc:
        raise FieldlogError(
            f"{name} line {reader.line_num}: cannot read it as CSV ({exc}): {SAVE_AS}."
        ) from None


def open_sheet(stream: CountingStream, name: str, size: int, table: str | None = None) -> Sheet:
    """Start reading one CSV: its header is read and told apart (``table``: the header must
    be that exported table's), its rows are read as the caller iterates."""
    rows = _rows(iter_lines(stream, name), name)
    first = next(rows, None)
    if first is None:
        raise FieldlogError(f"{name} is empty: there is nothing to import.")
    header = [c.strip() for c in first[1]]
    kind = detect(header)
    if table is not None and kind != table:
        raise FieldlogError(f"{name} does not have the columns of exported {table}.")
    return Sheet(name, header, rows, kind, size, stream)


def norm_header(name: str) -> str:
    """A header cell as the sheet columns are spelled: ``Concern_Category`` and
    ``concern-category`` are ``concern category`` (spreadsheets and people vary)."""
    return " ".join(name.strip().lower().replace("_", " ").replace("-", " ").split())


def detect(header: list[str]) -> str:
    """``contacts``/``concerns``/``referrals``/``organizations`` or ``sheet``; raises
    a FieldlogError listing the accepted headers otherwise."""
    names = [h.strip() for h in header]
    columns = export_columns()
    for table, cols in columns.items():
        if set(names) == set(cols) and len(names) == len(cols):
            return table
        older = set(cols) - set(records.ADDED_FIELDS.get(table, ()))
        if older != set(cols) and set(names) == older and len(names) == len(older):
            return table  # exported by a fieldlog from before those fields
    if names and names[0] == "record_type":
        raise FieldlogError(
            "This is the flat view of an export (one row per concern or referral), which is for "
            "reading, not importing: import contacts.csv, concerns.csv and referrals.csv, or the "
            "folder or zip that 'fieldlog export all' makes."
        )
    norm = [norm_header(h) for h in names]
    if "summary" in norm and all(n in SHEET_COLUMNS for n in norm):
        if len(set(norm)) != len(norm):
            dup = next(n for n in norm if norm.count(n) > 1)
            raise FieldlogError(f"The header names the column '{dup}' twice: keep one.")
        if "date" not in norm:
            raise FieldlogError(
                "The officer sheet has no 'date' column: add one (e.g. 2026-11-24 or "
                "'yesterday 14:30') so each line has its day."
            )
        return "sheet"
    accepted = "; ".join(f"{t}: {', '.join(c)}" for t, c in columns.items())
    unknown = [h for h, n in zip(names, norm, strict=True) if n not in SHEET_COLUMNS]
    hint = f" (not recognised: {', '.join(unknown[:5])})" if unknown else ""
    raise FieldlogError(
        f"The header is not one fieldlog knows{hint}. Accepted: an officer sheet with the "
        f"columns {', '.join(SHEET_COLUMNS)} (any case; summary and date required), or a table "
        f"of 'fieldlog export' — {accepted}."
    )
