"""Reading the files of an import: a CSV, a folder or a zip of ``fieldlog export all``,
decoded (UTF-8, with or without a BOM) and split into rows, and told apart by the header.

Officers save sheets from whatever spreadsheet is at hand, so every way a file can be wrong
(empty, a workbook, another encoding, broken quoting, an unknown header) gets a message that
says what to do: usually :data:`SAVE_AS`.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

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


def export_columns() -> dict[str, tuple[str, ...]]:
    """The column names of each table ``fieldlog export`` writes (the flat view excepted):
    one definition, in fieldlog.export, for both directions."""
    from fieldlog.export.columns import COLUMNS

    return {t: COLUMNS[t] for t in TABLE_ORDER}


@dataclass
class Sheet:
    """One CSV file, decoded and split into rows (with the line each row starts on)."""

    name: str  # what messages call it
    header: list[str]
    rows: list[tuple[int, list[str]]]


def _decode(data: bytes, name: str) -> str:
    if not data.strip(b" \t\r\n\xef\xbb\xbf"):
        raise FieldlogError(f"{name} is empty: there is nothing to import.")
    if b"\x00" in data[:65536]:
        raise FieldlogError(
            f"{name} is not a CSV file (it holds binary data, e.g. a workbook or a picture): "
            f"{SAVE_AS}."
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise FieldlogError(
            f"{name} is not UTF-8 text (byte 0x{data[exc.start]:02x} on line {line}): {SAVE_AS}."
        ) from None


def _parse(text: str, name: str) -> Sheet:
    reader = csv.reader(io.StringIO(text, newline=""), strict=False)
    rows: list[tuple[int, list[str]]] = []
    header: list[str] | None = None
    try:
        while True:
            start = reader.line_num + 1
            try:
                cells = next(reader)
            except StopIteration:
                break
            if header is None:
                if not any(c.strip() for c in cells):
                    continue  # blank lines before the header
                header = [c.strip() for c in cells]
                continue
            if not any(c.strip() for c in cells):
                continue  # blank lines and rows of empty cells (spreadsheets write those)
            rows.append((start, cells))
    except csv.Error as exc:
        raise FieldlogError(
            f"{name} line {reader.line_num}: cannot read it as CSV ({exc}): {SAVE_AS}."
        ) from None
    if header is None:
        raise FieldlogError(f"{name} is empty: there is nothing to import.")
    return Sheet(name, header, rows)


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


def read_sources(path: Path) -> list[tuple[str, Sheet]]:
    """The CSV files a path stands for, as ``(kind, sheet)`` in import order."""
    if not path.exists():
        raise FieldlogError(f"There is no file or folder '{path}': check the path.")
    if path.is_dir():
        found = {t: path / f"{t}.csv" for t in TABLE_ORDER if (path / f"{t}.csv").is_file()}
        if not found:
            raise FieldlogError(
                f"The folder {path} holds none of {', '.join(f'{t}.csv' for t in TABLE_ORDER)} "
                "(what 'fieldlog export all' writes)."
            )
        return [_table_source(f"{t}.csv", p.read_bytes(), t) for t, p in found.items()]
    data = path.read_bytes()
    if data[:4] == b"PK\x03\x04":
        return _zip_sources(path, data)
    sheet = _parse(_decode(data, path.name), path.name)
    return [(detect(sheet.header), sheet)]


def _table_source(name: str, data: bytes, table: str) -> tuple[str, Sheet]:
    sheet = _parse(_decode(data, name), name)
    kind = detect(sheet.header)
    if kind != table:
        raise FieldlogError(f"{name} does not have the columns of exported {table}.")
    return kind, sheet


def _zip_sources(path: Path, data: bytes) -> list[tuple[str, Sheet]]:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        members = {Path(n).name: n for n in zf.namelist() if not n.endswith("/")}
        if "[Content_Types].xml" in members and not any(n.endswith(".csv") for n in members):
            raise FieldlogError(f"{path.name} is a spreadsheet workbook, not CSV: {SAVE_AS}.")
        out = [
            _table_source(f"{t}.csv", zf.read(members[f"{t}.csv"]), t)
            for t in TABLE_ORDER
            if f"{t}.csv" in members
        ]
    except (zipfile.BadZipFile, OSError, RuntimeError, ValueError) as exc:
        raise FieldlogError(f"{path.name} is a damaged zip file ({exc}).") from None
    if not out:
        raise FieldlogError(
            f"The zip {path.name} holds none of {', '.join(f'{t}.csv' for t in TABLE_ORDER)} "
            "(what 'fieldlog export all' writes)."
        )
    return out
