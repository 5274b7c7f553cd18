"""Checking an HSDS dataset against the official HSDS 3.0 schema with frictionless
(https://framework.frictionlessdata.io): every cell's type and format (UUIDs, e-mails, URLs,
dates), required cells, the vocabularies (a service's status), unique ids and the foreign keys
between the files. Each problem is named by file, row, field and what is wrong.

frictionless is imported inside :func:`check_folder` only: nothing on ``fieldlog add``'s path
imports this module's dependencies.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fieldlog.errors import FieldlogError
from fieldlog.hsds import spec


@dataclass(frozen=True)
class Problem:
    """One bad row of a dataset (``row`` as a spreadsheet numbers it: the header is row 1)."""

    file: str
    row: int
    field: str | None
    problem: str

    def __str__(self) -> str:
        where = f"{self.file} row {self.row}"
        if self.field:
            where += f", field {self.field}"
        return f"{where}: {self.problem}"


_TYPES = {
    "string/uuid": "a UUID (like d9d5e0f5-d3ce-4f73-9a2f-4dd0ecc6c610)",
    "string/email": "an e-mail address",
    "string/uri": "a URL with its scheme (like https://example.org)",
    "date/default": "a date like 2026-11-24",
    "datetime/default": "a date and time like 2026-11-24T14:30:00Z",
    "time/default": "a time like 14:30:00",
    "number/default": "a number",
    "integer/default": "a whole number",
}


def _message(err: Any) -> str:
    kind = err.type
    note = str(getattr(err, "note", "") or "")
    cell = getattr(err, "cell", None)
    shown = f"'{cell}'" if cell not in (None, "") else "the cell"
    if kind == "type-error":
        m = re.search(r'type is "([^"]+)"', note)
        what = _TYPES.get(m[1], m[1]) if m else "what HSDS 3.0 allows"
        return f"{shown} is not {what}"
    if kind == "constraint-error":
        if '"required"' in note:
            return "is empty: HSDS 3.0 requires it"
        m = re.search(r'constraint "enum" is "\[(.*)\]"', note)
        if m:
            words = ", ".join(w.strip(" '\"") for w in m[1].split(","))
            return f"{shown} is not one of {words}"
        return f"{shown} breaks a rule of HSDS 3.0 ({note})"
    if kind == "primary-key":
        return "its id is already on an earlier row of the file (ids are unique)"
    if kind == "unique-error":
        return f"{shown} is already on an earlier row of the file (it must be unique)"
    if kind == "foreign-key":
        m = re.search(
            r'for "([^"]+)": values "([^"]+)" not found in the lookup table "([^"]+)"', note
        )
        if m:
            target = spec.path_of(m[3]) if m[3] in spec.resource_names() else m[3]
            return f"{m[1]} {m[2]} is not an id in {target}"
        return f"points at a row that is not there ({note})"
    if kind in ("missing-cell", "extra-cell"):
        return "has a different number of cells than the header"
    return str(getattr(err, "message", "") or note or kind)


EXTRA_CELLS = 50  # cells past a row's header before frictionless is not asked (it is slow)


def _row_widths(path: Path) -> None:
    """One fast pass over a CSV file: a row with far more cells than its header (a file
    spoiled by a spreadsheet or on purpose) is one line here, not minutes of frictionless
    checking each extra cell."""
    import csv

    try:
        with open(path, encoding="utf-8-sig", errors="replace", newline="") as fh:
            rows = csv.reader(fh, strict=False)
            header = next(rows, [])
            for n, row in enumerate(rows, start=2):
                if len(row) > len(header) + EXTRA_CELLS:
                    raise FieldlogError(
                        f"{path.name} row {n} has {len(row):,} cells, its header "
                        f"{len(header)}: save the file again as UTF-8 CSV from its spreadsheet."
                    )
    except (OSError, csv.Error):
        return  # frictionless says what is wrong with the file


def check_folder(folder: Path, files: dict[str, str]) -> list[Problem]:
    """Validate the CSV files of an HSDS dataset (``files``: resource -> file name in
    ``folder``) against the official schema of those tables, columns matched by name (a
    dataset may leave out optional columns, or order them its own way). Returns the bad rows;
    a problem with a whole file (a required column missing, not CSV) is a FieldlogError."""
    from frictionless import Package

    for name in files.values():
        _row_widths(folder / name)
    descriptor = spec.package(list(files))
    for r in descriptor["resources"]:
        r["path"] = files[r["name"]]
        r["encoding"] = "utf-8"
        # Columns matched by name, in any order, optional ones may be left out, a
        # directory's own extra columns ignored; a required one missing is still an error.
        r["schema"]["fieldsMatch"] = "partial"
    try:
        package = Package(descriptor, basepath=str(folder))
        report = package.validate(limit_errors=100_000)
    except Exception as exc:  # frictionless' own errors carry a note; anything else too
        raise FieldlogError(f"Cannot read the HSDS dataset in {folder}: {exc}") from None
    problems: list[Problem] = []
    whole: list[str] = []
    seen: set[tuple[str, int, str | None]] = set()
    for task in report.tasks:
        name = files.get(task.name, task.name)
        for err in task.errors:
            row = getattr(err, "row_number", None)
            field_name = getattr(err, "field_name", None)
            if err.type == "blank-row":
                continue  # blank lines, as spreadsheets write them: nothing to import
            if row is None:
                if err.type == "missing-label":
                    whole.append(f"{name} has no column '{field_name}', which HSDS 3.0 requires")
                else:
                    whole.append(f"{name}: {_message(err)}")
                continue
            if err.type == "primary-key" and "None" in str(getattr(err, "note", "")):
                continue  # an empty or malformed id: said already by that cell's error
            key = (name, int(row), field_name)
            if key in seen and err.type != "foreign-key":
                continue
            seen.add(key)
            problems.append(Problem(name, int(row), field_name, _message(err)))
    for err in report.errors:  # the package as a whole (a descriptor problem)
        whole.append(str(getattr(err, "message", err)))
    if whole:
        raise FieldlogError(
            "This HSDS dataset cannot be imported: " + "; ".join(dict.fromkeys(whole)) + "."
        )
    return problems
