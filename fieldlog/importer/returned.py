"""A partner's returned referral sheet (``fieldlog referral sheet PARTNER``, filled in and sent
back), recognised by ``fieldlog import FILE`` (docs/referrals.md).

The sheet is recognised by its marker (:class:`fieldlog.export.sheet.Marker`): the first row
of a .csv, the first row of the ``about`` sheet of an .xlsx (read with openpyxl, read-only).
Only the partner's two columns are read, ``status`` and ``outcome``, and only where the
partner wrote something (an empty cell changes nothing). Every row is checked before anything
is written, as every import is (all or nothing; ``--skip-bad`` writes the good rows):

- a status not in the vocabulary, an outcome the referral's own rules refuse (too long,
  control characters);
- a referral id that is not in the log, fits several, was deleted since, or names a referral
  of another partner (only the sheet's partner may report on its referrals), or a referral
  on two lines;
- a value the log changed after the sheet was made (the field's clock is newer than the
  sheet's): the officer's later update is not overwritten by an older sheet, the row is named.

Any other cell that differs from the log (a reason, a name, a date the partner edited) is
ignored and said so. Each change is written through the store's one write path (stamped,
synced like any edit) in one transaction, its audit entry saying where it came from
(``partner sheet: <partner> (<file>)``, :data:`fieldlog.db.audit.SOURCE`). A value the
referral already holds writes nothing, so importing the same sheet again is a no-op, and
says so.
"""

from __future__ import annotations

import csv
import itertools
import json
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fieldlog import records
from fieldlog.errors import FieldlogError, NotFoundError, ValidationError
from fieldlog.export import sheet as layout
from fieldlog.importer.plan import MAX_LISTED, unneutralise
from fieldlog.importer.read import SAVE_AS, iter_lines, norm_header
from fieldlog.importer.result import ImportRejected, ImportResult
from fieldlog.importer.unzip import ZipLimits, human
from fieldlog.text import plural, printable

if TYPE_CHECKING:
    from fieldlog.db.store import Store

TABLE = "referrals"
MAX_ROWS = 50_000  # a partner's open referrals are tens, not millions
MAX_IGNORED = 20  # edited cells named one by one in the result; the rest are counted
WORKBOOK_MEMBER = "xl/workbook.xml"
# The columns an import compares with the log (to say an edit was ignored): header -> field,
# and whether the field is the contact's.
_COMPARED = {
    "date made": ("created_at", False),
    "service": ("service", False),
    "reason": ("reason", False),
    "resident": ("person_name", True),
    "neighborhood": ("neighborhood", True),
    "current status": ("status", False),
    "follow up by": ("follow_up_on", False),
}
_REDACTED = frozenset({"reason", "resident"})  # a redacted sheet's: not the log's text
_DATES = frozenset({"date made", "follow up by"})


@dataclass
class ReturnedResult(ImportResult):
    """What importing a returned sheet did (or, with ``dry_run``, would do)."""

    partner: str = ""
    partner_id: str = ""
    made_at: str = ""  # when the sheet was made (UTC)
    statuses: int = 0  # referrals whose status the sheet changed
    outcomes: int = 0  # referrals whose outcome the sheet changed
    unchanged: int = 0  # rows the partner filled in with what the log already holds
    ignored: list[str] = field(default_factory=list)  # "line 4: reason" (the first ones)
    ignored_count: int = 0

    def summary(self) -> str:
        would = "would update" if self.dry_run else "updated"
        n = self.referrals
        if n:
            what = []
            if self.statuses:
                what.append(plural(self.statuses, "status", "statuses"))
            if self.outcomes:
                what.append(plural(self.outcomes, "outcome"))
            text = (
                f"partner sheet from {self.partner}: {would} {plural(n, 'referral')} "
                f"({', '.join(what)})"
            )
            if self.unchanged:
                text += f"; {self.unchanged} already up to date"
        elif self.unchanged:
            text = (
                f"partner sheet from {self.partner}: nothing new, the log already holds what "
                f"it says ({plural(self.unchanged, 'referral')}; imported before?)"
            )
        else:
            text = f"partner sheet from {self.partner}: no status or outcome filled in"
        if self.ignored_count:
            shown = "; ".join(self.ignored)
            more = f" and {self.ignored_count - len(self.ignored)} more" if (
                self.ignored_count > len(self.ignored)
            ) else ""  # fmt: skip
            text += (
                f"; {plural(self.ignored_count, 'other edited cell')} ignored (only status "
                f"and outcome are read): {shown}{more}"
            )
        bad = max(self.bad_count, len(self.bad))
        if bad:
            text += f"; {bad} bad rows left out"
        return printable(text)

    def as_dict(self) -> dict[str, Any]:
        return {
            **super().as_dict(),
            "partner": self.partner,
            "partner_id": self.partner_id,
            "made_at": self.made_at,
            "statuses": self.statuses,
            "outcomes": self.outcomes,
            "unchanged": self.unchanged,
            "ignored": self.ignored,
            "ignored_count": self.ignored_count,
            "summary": self.summary(),
        }


@dataclass
class _Read:
    """A returned sheet as read: its marker, its header, and its rows with where each is."""

    marker: layout.Marker
    header: list[str]
    rows: list[tuple[str, list[Any]]]  # ("line 4" / "row 4", cells)
    csv: bool


# ---------------------------------------------------------------------- recognising
def is_returned_sheet(path: Path) -> bool:
    """Whether ``path`` is a file this module reads: a workbook (an .xlsx: a zip holding
    ``xl/workbook.xml``) with the sheets a referral sheet has, or a CSV whose first cell is the
    marker (or whose first row is the sheet's header: said what is missing). Any other
    workbook is the importer's to refuse. Never raises for a file it cannot read."""
    try:
        if not path.is_file():
            return False
        with open(path, "rb") as fh:
            head = fh.read(1 << 12)
        if head.startswith(b"PK\x03\x04"):
            with zipfile.ZipFile(path) as zf:
                if WORKBOOK_MEMBER not in zf.namelist():
                    return False
                with zf.open(WORKBOOK_MEMBER) as member:
                    book = member.read(1 << 20)
            return all(_has_sheet(book, n) for n in (layout.SHEET_NAME, layout.ABOUT_NAME))
        text = head.decode("utf-8", "replace").lstrip(layout.BOM)
        return text.startswith((layout.MARK, f'"{layout.MARK}"')) or _bare_header(text)
    except (OSError, zipfile.BadZipFile, ValueError, RuntimeError, EOFError, csv.Error):
        return False


def _has_sheet(book: bytes, name: str) -> bool:
    """Whether ``xl/workbook.xml`` (``book``) lists a sheet called ``name``."""
    pattern = rb"<(?:\w+:)?sheet\b[^>]*\bname=[\"']" + re.escape(name.encode()) + rb"[\"']"
    return re.search(pattern, book) is not None


def _bare_header(text: str) -> bool:
    """A sheet's header without its marker row (the referrals sheet of a workbook, saved as
    CSV): recognised, to say what is missing."""
    first = next(csv.reader([next(iter(text.splitlines()), "")]), [])
    return [norm_header(c) for c in first] == list(layout.HEADER)


# ---------------------------------------------------------------------- reading
def _read_csv(path: Path) -> _Read:
    with open(path, "rb") as fh:
        lines = iter_lines(fh, path.name)
        first = next(lines, "")
        # a spreadsheet set to a European locale saves "CSV" with semicolons (or tabs)
        after = first.lstrip(layout.BOM).replace('"', "")[len(layout.MARK) :][:1]
        delimiter = after if after in (";", "\t") else ","
        reader = csv.reader(itertools.chain([first], lines), delimiter=delimiter, strict=False)
        got: list[tuple[int, list[str]]] = []  # (the line a row starts on, its cells)
        try:
            while True:
                start = reader.line_num + 1
                cells = next(reader, None)
                if cells is None:
                    break
                if len(got) > MAX_ROWS + 2:
                    raise FieldlogError(
                        f"{path.name} has more than {MAX_ROWS:,} rows: it is not a referral "
                        "sheet fieldlog made."
                    )
                got.append((start, cells))
        except csv.Error as exc:
            raise FieldlogError(
                f"{path.name} line {reader.line_num}: cannot read it as CSV ({exc}): {SAVE_AS}."
            ) from None
    marker = layout.Marker.parse(got[0][1]) if got else None
    if marker is None:
        raise _no_marker(path)
    body = [(n, c) for n, c in got[1:] if any(x.strip() for x in c)]
    if not body:
        raise FieldlogError(f"{path.name} has no header row under its fieldlog-sheet row.")
    return _Read(marker, body[0][1], [(f"line {n}", list(c)) for n, c in body[1:]], csv=True)


def _check_size(path: Path, limits: ZipLimits) -> None:
    """A workbook is a zip: refuse one that claims to unzip past the import's caps."""
    with zipfile.ZipFile(path) as zf:
        total = sum(i.file_size for i in zf.infolist())
    if total > limits.max_bytes or total > limits.max_ratio * max(path.stat().st_size, 1 << 20):
        raise FieldlogError(
            f"{path.name} unzips to {human(total)}, more than a referral sheet ever holds: it "
            "is not one fieldlog made."
        )


def _read_xlsx(path: Path, limits: ZipLimits) -> _Read:
    _check_size(path, limits)
    from openpyxl import load_workbook

    fh = open(path, "rb")  # a file, not a name: openpyxl would refuse one not ending in .xlsx
    try:
        wb = load_workbook(fh, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged or odd file
        fh.close()
        raise FieldlogError(
            f"Cannot read {path.name} as an Excel workbook ({type(exc).__name__}: {exc}): save "
            "it again from the spreadsheet as .xlsx, or send the CSV form."
        ) from None
    try:
        names = wb.sheetnames
        marker = None
        if layout.ABOUT_NAME in names:
            first = next(wb[layout.ABOUT_NAME].iter_rows(max_row=1, values_only=True), ())
            marker = layout.Marker.parse(list(first))
        if marker is None or layout.SHEET_NAME not in names:
            raise _no_marker(path, workbook=True)
        ws = wb[layout.SHEET_NAME]
        rows: list[tuple[str, list[Any]]] = []
        header: list[Any] | None = None
        for n, cells in enumerate(ws.iter_rows(values_only=True), start=1):
            if n > MAX_ROWS + 1:
                raise FieldlogError(
                    f"{path.name} has more than {MAX_ROWS:,} rows: it is not a referral sheet "
                    "fieldlog made."
                )
            values = list(cells)
            if not any(_text(v) for v in values):
                continue
            if header is None:
                header = values
            else:
                rows.append((f"row {n}", values))
    except FieldlogError:
        raise
    except Exception as exc:  # damaged XML inside the zip, an odd cell: one line, never a trace
        raise FieldlogError(
            f"Cannot read {path.name} as an Excel workbook ({type(exc).__name__}: {exc}): save "
            "it again from the spreadsheet as .xlsx, or send the CSV form."
        ) from None
    finally:
        wb.close()
        fh.close()
    if header is None:
        raise FieldlogError(f"The referrals sheet of {path.name} is empty: it has no header.")
    return _Read(marker, [_text(h) for h in header], rows, csv=False)


def _no_marker(path: Path, *, workbook: bool = False) -> FieldlogError:
    if workbook:
        return FieldlogError(
            f"{path.name} is an Excel workbook but not a referral sheet fieldlog made (it has "
            "no 'about' sheet starting with fieldlog-sheet). To import rows typed in a "
            f"spreadsheet, {SAVE_AS}; for a partner's sheet, import the file fieldlog referral "
            "sheet wrote, as they sent it back."
        )
    return FieldlogError(
        f"{path.name} has the columns of a referral sheet but not its first row "
        "(fieldlog-sheet ...), which says which partner it is for and when it was made: import "
        "the .xlsx the partner sent back (not its referrals sheet saved as CSV), or put the "
        "row back."
    )


def _text(v: Any) -> str:
    """A cell as text: None empty, dates as ``YYYY-MM-DD`` (a time of day kept), numbers
    without a trailing ``.0``."""
    if v is None:
        return ""
    if isinstance(v, datetime):
        return v.date().isoformat() if v.time() == datetime.min.time() else v.isoformat(" ")
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


# ---------------------------------------------------------------------- checking
@dataclass
class _Check:
    """The rows checked so far: the writes, the bad rows, the ignored edits."""

    changes: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    bad: int = 0
    ignored: list[str] = field(default_factory=list)
    ignored_count: int = 0
    unchanged: int = 0
    seen: dict[str, str] = field(default_factory=dict)  # referral id -> where

    def fail(self, where: str, reason: str) -> None:
        self.bad += 1
        if len(self.errors) < MAX_LISTED:
            self.errors.append(printable(f"{where}: {reason}"))

    def ignore(self, where: str, header: str) -> None:
        self.ignored_count += 1
        if len(self.ignored) < MAX_IGNORED:
            self.ignored.append(f"{where} ({header})")


def _columns(header: Sequence[str], name: str) -> dict[str, int]:
    """Where each of the sheet's columns is (the partner may have moved or added some); the
    referral id, status and outcome columns must be there."""
    at: dict[str, int] = {}
    for i, h in enumerate(header):
        key = norm_header(str(h or "").lstrip(layout.BOM))
        if key in layout.HEADER and key not in at:
            at[key] = i
    missing = [h for h in ("referral id", *layout.EDITABLE) if h not in at]
    if missing:
        raise FieldlogError(
            f"{name} has no column {', '.join(repr(m) for m in missing)}: the partner's sheet "
            f"must keep the header fieldlog wrote ({', '.join(layout.HEADER)})."
        )
    return at


def _cell(cells: Sequence[Any], at: dict[str, int], header: str, from_csv: bool) -> str:
    i = at.get(header)
    if i is None or i >= len(cells):
        return ""
    text = _text(cells[i])
    return unneutralise(text) if from_csv else text


def _newer(clocks_json: Any, name: str, clock: str) -> bool:
    """Whether the log changed field ``name`` after the sheet was made (its clock is newer
    than the sheet's)."""
    try:
        clocks = json.loads(clocks_json or "{}")
    except ValueError:
        return False
    stamp = clocks.get(name) or clocks.get("*") or ""
    return isinstance(stamp, str) and stamp > clock


def _shown(row: dict[str, Any], header: str) -> str:
    """A referral's value as the sheet showed it, for the comparison."""
    fname, _ = _COMPARED[header]
    value = row.get(fname)
    if fname == "created_at":
        return layout.local_day(value) or ""
    return _text(value)


def _same(header: str, cell: str, logged: str) -> bool:
    if header in _DATES and not cell[:4].isdigit():  # a spreadsheet's own date format
        return True
    return " ".join(cell.split()).casefold() == " ".join(logged.split()).casefold()


def _check_row(
    check: _Check, read: _Read, at: dict[str, int], where: str, cells: Sequence[Any],
    found: dict[str, list[dict[str, Any]]], partner: str, store: Store,
) -> None:  # fmt: skip
    ref = _cell(cells, at, "referral id", read.csv)
    typed = {h: _cell(cells, at, h, read.csv) for h in layout.EDITABLE}
    if not ref:
        if any(typed.values()):
            check.fail(where, "no referral id: only the referrals the sheet listed can be updated.")
        return
    hits = found.get(ref, [])
    if not hits:
        check.fail(
            where,
            f"no referral has the id '{ref}' (a row added to the sheet, or the id was "
            "changed?): only the referrals the sheet listed can be updated.",
        )
        return
    if len(hits) > 1:
        check.fail(where, f"the id '{ref}' fits several referrals: give the whole id.")
        return
    row = hits[0]
    rid = str(row["id"])
    short = store.records.short_id(TABLE, rid)
    if rid in check.seen:
        check.fail(where, f"referral {short} is on {check.seen[rid]} too: keep one line.")
        return
    check.seen[rid] = where
    if row["deleted"]:
        check.fail(where, f"referral {short} was deleted from the log since the sheet was made.")
        return
    if row["organization_id"] != read.marker.partner_id:
        check.fail(
            where,
            f"referral {short} was made to {row['agency']}, not to {partner}: a partner's sheet "
            "updates only its own referrals.",
        )
        return
    given = {k: v for k, v in typed.items() if v}
    try:
        clean = records.clean(TABLE, given, partial=True)
    except ValidationError as exc:
        check.fail(where, str(exc))
        return
    new = {k: v for k, v in clean.items() if v != row.get(k)}
    late = [k for k in new if _newer(row["field_clocks"], k, read.marker.clock)]
    if late:
        k = late[0]
        check.fail(
            where,
            f"referral {short} had its {k} changed in the log after the sheet was made (now "
            f"'{row.get(k) or ''}'), so the sheet's '{new[k]}' is not applied: check with the "
            f"partner, then fieldlog referral update {short} --{k} ...",
        )
        return
    for header, (fname, of_contact) in _COMPARED.items():
        if header not in at or (read.marker.redacted and header in _REDACTED):
            continue
        clocks = row["contact_clocks"] if of_contact else row["field_clocks"]
        if _newer(clocks, fname, read.marker.clock):
            continue  # the log changed since: the sheet shows the older value
        cell = _cell(cells, at, header, read.csv)
        if not _same(header, cell, _shown(row, header)):
            check.ignore(where, header)
    if new:
        check.changes.append((rid, new))
    elif given:
        check.unchanged += 1


# ---------------------------------------------------------------------- importing
def import_sheet(
    store: Store,
    path: Path,
    *,
    dry_run: bool = False,
    skip_bad: bool = False,
    limits: ZipLimits | None = None,
) -> ReturnedResult:
    """Check a returned sheet and apply its status and outcome updates (see the module's
    docstring). Bad rows and not ``skip_bad``: :class:`ImportRejected`, nothing written."""
    with open(path, "rb") as fh:
        is_workbook = fh.read(4) == b"PK\x03\x04"
    read = _read_xlsx(path, limits or ZipLimits()) if is_workbook else _read_csv(path)
    marker = read.marker
    try:
        org = store.orgs.get(marker.partner_id)
    except NotFoundError:
        raise FieldlogError(
            f"{path.name} is the referral sheet of {marker.partner or 'a partner'} (id "
            f"{marker.partner_id[:10]}), who is no longer in the log (deleted, or merged into "
            "another partner): update those referrals by hand (fieldlog referral update)."
        ) from None
    partner = str(org["name"])
    at = _columns(read.header, path.name)
    refs = [_cell(c, at, "referral id", read.csv) for _, c in read.rows]
    found = store.referrals.returned([r for r in refs if r])
    check = _Check()
    for where, cells in read.rows:
        _check_row(check, read, at, where, cells, found, partner, store)
    result = ReturnedResult(
        dry_run=dry_run, format="partner sheet", partner=partner, partner_id=str(org["id"]),
        made_at=marker.exported_at, unchanged=check.unchanged, ignored=check.ignored,
        ignored_count=check.ignored_count, bad=check.errors, bad_count=check.bad,
    )  # fmt: skip
    if check.bad and not skip_bad:
        raise ImportRejected.of(check.errors, check.bad, dry_run=dry_run)
    result.referrals = len(check.changes)
    result.statuses = sum("status" in v for _, v in check.changes)
    result.outcomes = sum("outcome" in v for _, v in check.changes)
    if check.changes and not dry_run:
        store.referrals.apply_returned(check.changes, f"partner sheet: {partner} ({path.name})")
    return result
