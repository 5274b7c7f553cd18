"""Reading CSV files back into the log: our own export, and the sheet an officer types.

Two formats, told apart by the header (see docs/import.md):

- a table of ``fieldlog export`` (contacts, concerns, referrals, organizations), or a folder /
  zip made by ``fieldlog export all``. Records keep their id, officer, created_at and
  updated_at, so export -> import into an empty log -> export gives the same file;
- the officer sheet (date, name, neighborhood, summary, concern category, concern text,
  referral agency, referral reason), one contact per line, with ids derived from the line's
  content so the same sheet imported twice adds nothing.

Every row is checked before anything is written; the writing itself is one transaction in
:meth:`Store.import_records`. This module never imports Typer, Rich or Textual.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fieldlog import dates, ids, models, records
from fieldlog.errors import FieldlogError, ValidationError

if TYPE_CHECKING:
    from fieldlog.db.store import Store

# The export's column names (fieldlog/export.py COLUMNS is the source; this is the fallback).
# A folder or zip from ``fieldlog export all`` is read in this order (parents first).
TABLE_ORDER = records.in_sync_order()
SHEET_COLUMNS = (
    "date", "name", "neighborhood", "summary", "concern category", "concern text",
    "referral agency", "referral reason",
)  # fmt: skip
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
DATETIME_FIELDS = ("occurred_at", "resolved_at")  # second precision, like dates.to_storage
STAMP_FIELDS = ("created_at", "updated_at")  # millisecond precision, like dates.stamp_now
DAY_FIELDS = ("follow_up_on", "last_verified")
ID_FIELDS = ("contact_id", "concern_id", "organization_id")
SAVE_AS = "save it from your spreadsheet as 'CSV UTF-8 (comma delimited)'"


def export_columns() -> dict[str, tuple[str, ...]]:
    """The column names of each table ``fieldlog export`` writes (the flat view excepted):
    one definition, in fieldlog.export, for both directions."""
    from fieldlog.export import COLUMNS

    return {t: COLUMNS[t] for t in TABLE_ORDER}


class ImportRejected(FieldlogError):
    """Rows failed the checks and nothing was written; the message lists every one."""

    def __init__(self, message: str, bad: list[str]) -> None:
        super().__init__(message)
        self.bad = bad


@dataclass
class ImportResult:
    """What an import wrote (or, with ``dry_run``, would write)."""

    contacts: int = 0
    concerns: int = 0
    referrals: int = 0
    organizations: int = 0
    skipped: int = 0  # already present (same id), left as they are
    updated: int = 0  # already present, replaced because the file's updated_at is newer
    bad: list[str] = field(default_factory=list)  # "line N: reason", left out (--skip-bad)
    dry_run: bool = False
    format: str = ""  # "export" or "sheet"

    def summary(self) -> str:
        verb = "would import" if self.dry_run else "imported"
        text = (
            f"{verb} {self.contacts} contacts, {self.concerns} concerns, {self.referrals} referrals"
        )
        if self.organizations:
            text += f", {self.organizations} organizations"
        extra = f"{self.skipped} skipped as already present"
        if self.updated:
            extra += f", {self.updated} {'would be ' if self.dry_run else ''}updated as newer"
        text += f" ({extra})"
        if self.bad:
            text += f"; {len(self.bad)} bad rows left out"
        return text

    def as_dict(self) -> dict[str, Any]:
        return {
            "contacts": self.contacts,
            "concerns": self.concerns,
            "referrals": self.referrals,
            "organizations": self.organizations,
            "skipped": self.skipped,
            "updated": self.updated,
            "bad": self.bad,
            "dry_run": self.dry_run,
            "format": self.format,
            "summary": self.summary(),
        }


# ---------------------------------------------------------------------- reading files
@dataclass
class _Sheet:
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


def _parse(text: str, name: str) -> _Sheet:
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
    return _Sheet(name, header, rows)


def _norm_header(name: str) -> str:
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
    norm = [_norm_header(h) for h in names]
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


def read_sources(path: Path) -> list[tuple[str, _Sheet]]:
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


def _table_source(name: str, data: bytes, table: str) -> tuple[str, _Sheet]:
    sheet = _parse(_decode(data, name), name)
    kind = detect(sheet.header)
    if kind != table:
        raise FieldlogError(f"{name} does not have the columns of exported {table}.")
    return kind, sheet


def _zip_sources(path: Path, data: bytes) -> list[tuple[str, _Sheet]]:
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


# ---------------------------------------------------------------------- cells
def unneutralise(value: str) -> str:
    """Undo the export's formula guard: ``'=SUM(A1)`` -> ``=SUM(A1)``."""
    if value.startswith("'") and value[1:2] and value[1] in "=+-@\t\r":
        return value[1:]
    return value


def _utc(value: str, column: str, *, millis: bool) -> str:
    try:
        dt = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValidationError(
            column,
            f"{column} '{value}' is not an ISO 8601 date-time like 2026-11-24T14:30:00-06:00.",
        ) from None
    try:
        if dt.tzinfo is None:
            dt = dates.localize(dt)
        dt = dt.astimezone(UTC)
    except (ValueError, OverflowError):  # year 1 minus an offset: before datetime's range
        dt = datetime.min.replace(tzinfo=UTC)
    if not dates.MIN_YEAR <= dt.year <= dates.MAX_YEAR:
        raise ValidationError(
            column,
            f"{column} '{value}' is out of range: use a date between {dates.MIN_YEAR} and "
            f"{dates.MAX_YEAR}.",
        )
    if millis:
        return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"
    if dt.microsecond:  # keep what was stored (sync may carry finer times)
        return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"
    return dates.to_storage(dt)


def _day(value: str, column: str) -> str:
    try:
        return date.fromisoformat(value.strip()).isoformat()
    except ValueError:
        raise ValidationError(
            column, f"{column} '{value}' is not a date like 2026-11-24 (YYYY-MM-DD)."
        ) from None


def _id(value: str, column: str) -> str:
    v = value.strip().lower().replace("-", "")
    if len(v) != 32 or not ids.is_hex(v):
        raise ValidationError(column, f"{column} '{value}' is not a fieldlog id (32 hex digits).")
    return v


# ---------------------------------------------------------------------- checking rows
@dataclass
class _Plan:
    """Checked records to write, and what the checks found."""

    writes: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    result: ImportResult = field(default_factory=ImportResult)
    seen: dict[str, set[str]] = field(default_factory=lambda: {t: set() for t in TABLE_ORDER})
    errors: list[str] = field(default_factory=list)
    planned_orgs: dict[str, str] = field(default_factory=dict)  # name (casefold) -> id

    def add(self, action: str, table: str, row: dict[str, Any]) -> None:
        self.writes.append((action, table, row))
        self.seen[table].add(row["id"])
        if action == "update":
            self.result.updated += 1
        else:
            setattr(self.result, table, getattr(self.result, table) + 1)


def _where(sheet: _Sheet, line: int, single: bool) -> str:
    return f"line {line}" if single else f"{sheet.name} line {line}"


def _check_export_table(
    store: Store, table: str, sheet: _Sheet, plan: _Plan, single: bool, tick: Callable[[], None]
) -> None:
    header = sheet.header
    width = len(header)
    present = store.import_present(
        table, [r[header.index("id")].strip().lower() for _, r in sheet.rows if len(r) == width]
    )
    contacts_present: dict[str, tuple[str, bool]] = {}
    if table in ("concerns", "referrals"):
        contacts_present = store.import_present(
            "contacts",
            [
                r[header.index("contact_id")].strip().lower()
                for _, r in sheet.rows
                if len(r) == width
            ],
        )
    for line, cells in sheet.rows:
        tick()
        where = _where(sheet, line, single)
        if len(cells) != width:
            plan.errors.append(f"{where} has {len(cells)} cells, the header has {width}.")
            continue
        raw = {h: unneutralise(c) for h, c in zip(header, cells, strict=True)}
        try:
            row = _export_row(table, raw)
            rid = row["id"]
            if rid in plan.seen[table]:
                plan.result.skipped += 1  # the same record twice in the file
                continue
            if table in ("concerns", "referrals"):
                cid = row["contact_id"]
                if cid not in plan.seen["contacts"] and cid not in contacts_present:
                    raise ValidationError(
                        "contact_id",
                        f"contact {cid} is not in the log: import contacts first (or the "
                        "folder or zip that 'fieldlog export all' makes).",
                    )
            if table == "organizations":
                _check_org_name(store, plan, row)
        except ValidationError as exc:
            plan.errors.append(f"{where}: {exc}")
            continue
        if rid in present:
            stored_at, deleted = present[rid]
            if not deleted and row["updated_at"] > (stored_at or ""):
                plan.add("update", table, row)
            else:
                plan.seen[table].add(rid)
                plan.result.skipped += 1
            continue
        plan.add("insert", table, row)


def _check_org_name(store: Store, plan: _Plan, row: dict[str, Any]) -> None:
    key = row["name"].casefold()
    other = plan.planned_orgs.get(key)
    if other is None:
        found = store.find_org(row["name"])
        other = found["id"] if found else None
    if other is not None and other != row["id"]:
        raise ValidationError(
            "name",
            f"a different partner named '{row['name']}' is already in the directory "
            f"({other[:10]}): rename one of them.",
        )
    plan.planned_orgs[key] = row["id"]


def _export_row(table: str, raw: dict[str, str]) -> dict[str, Any]:
    """One exported row, checked, as the values to store (UTC times, lists, ids)."""
    values: dict[str, Any] = {}
    for f in records.TABLE_FIELDS[table]:
        v = raw.get(f, "")
        if f in records.LIST_FIELDS:
            values[f] = [p for p in v.split(";") if p.strip()]
        elif not v.strip():
            values[f] = None
        elif f in DATETIME_FIELDS:
            values[f] = _utc(v, f, millis=False)
        elif f in DAY_FIELDS:
            values[f] = _day(v, f)
        elif f in ID_FIELDS:
            values[f] = _id(v, f)
        else:
            values[f] = v
    if table == "contacts" and not values["occurred_at"]:
        raise ValidationError("occurred_at", "occurred_at is empty: every contact has a time.")
    if table in ("concerns", "referrals") and not values["contact_id"]:
        raise ValidationError("contact_id", "contact_id is empty: every record has its contact.")
    cleaned = records.clean(table, values)
    # Text is stored as the file has it once it passes (a synced record may hold spaces
    # that the forms would have trimmed); export -> import -> export must give the same file.
    for f, v in values.items():
        if isinstance(v, str) and isinstance(cleaned.get(f), str) and v.strip() == cleaned[f]:
            cleaned[f] = v
    row: dict[str, Any] = {"id": _id(raw.get("id", ""), "id"), **cleaned}
    officer = raw.get("officer", "").strip()
    if not officer:
        raise ValidationError("officer", "officer is empty: every record names its officer.")
    models.text("officer", officer, limit=models.MAX_SHORT)  # raises when too long
    row["officer"] = raw["officer"]
    for f in STAMP_FIELDS:
        if not raw.get(f, "").strip():
            raise ValidationError(f, f"{f} is empty: it is needed to tell newer from older.")
        row[f] = _utc(raw[f], f, millis=True)
    return row


def _sheet_ids(occurred_at: str, content: list[str]) -> tuple[str, str, str]:
    """Stable ids for a sheet line: UUIDv7-shaped, timestamp = the line's date, random bits
    from a hash of the line, so the same line always gets the same ids."""
    ms = int(dates.from_storage(occurred_at).timestamp() * 1000)
    key = json.dumps([occurred_at, *content], ensure_ascii=False)

    def one(salt: str) -> str:
        digest = hashlib.sha256(f"{salt}\x00{key}".encode()).digest()
        return ids.uuid7_hex(ms, int.from_bytes(digest[:10], "big"))

    return one("contact"), one("concern"), one("referral")


def _check_sheet(
    store: Store, sheet: _Sheet, plan: _Plan, single: bool, tick: Callable[[], None]
) -> None:
    cols = [_norm_header(h) for h in sheet.header]
    width = len(cols)
    checked: list[tuple[str, str, str, dict, list, list]] = []
    for line, cells in sheet.rows:
        tick()
        where = _where(sheet, line, single)
        if len(cells) != width:
            plan.errors.append(f"{where} has {len(cells)} cells, the header has {width}.")
            continue
        cell = {c: unneutralise(v).strip() for c, v in zip(cols, cells, strict=True)}

        def get(name: str, cell: dict[str, str] = cell) -> str:
            return cell.get(name, "")

        try:
            when = dates.parse_when(get("date"), field="date")
            occurred_at = dates.to_storage(when.at)
            values: dict[str, Any] = {"occurred_at": occurred_at, "summary": get("summary")}
            if get("name"):
                values["person_name"] = get("name")
            if get("neighborhood"):
                values["neighborhood"] = get("neighborhood")
            concerns = []
            if get("concern category") or get("concern text"):
                if not get("concern category"):
                    raise ValidationError(
                        "category",
                        "concern text without a concern category: use one of "
                        f"{', '.join(models.CONCERN_CATEGORIES)}.",
                    )
                concerns.append(
                    {"category": get("concern category"), "description": get("concern text")}
                )
            referrals = []
            if get("referral agency") or get("referral reason"):
                if not get("referral agency"):
                    raise ValidationError(
                        "agency", "referral reason without a referral agency: name the agency."
                    )
                referrals.append(
                    {"agency": get("referral agency"), "reason": get("referral reason") or None}
                )
            contact, clean_concerns, clean_refs = store.clean_contact_entry(
                values, concerns, referrals
            )
        except FieldlogError as exc:
            plan.errors.append(f"{where}: {exc}")
            continue
        content = [get(c) for c in SHEET_COLUMNS[1:]]
        cid, kid, rid = _sheet_ids(occurred_at, content)
        checked.append((cid, kid, rid, contact, clean_concerns, clean_refs))

    present = {
        t: store.import_present(t, [r[i] for r in checked])
        for i, t in enumerate(("contacts", "concerns", "referrals"))
    }
    for cid, kid, rid, contact, clean_concerns, clean_refs in checked:
        for table, rec_id, recs in (
            ("contacts", cid, [contact]),
            ("concerns", kid, clean_concerns),
            ("referrals", rid, clean_refs),
        ):
            for rec in recs:
                if rec_id in present[table] or rec_id in plan.seen[table]:
                    plan.result.skipped += 1
                    plan.seen[table].add(rec_id)
                    continue
                row = {**rec, "id": rec_id}
                if table != "contacts":
                    row["contact_id"] = cid
                if table == "referrals" and clean_concerns and not row.get("concern_id"):
                    row["concern_id"] = kid
                plan.add("insert", table, row)


# ---------------------------------------------------------------------- the entry point
def import_path(
    store: Store,
    path: Path | str,
    *,
    dry_run: bool = False,
    skip_bad: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> ImportResult:
    """Import a CSV file, or a folder / zip from ``fieldlog export all``.

    Every row is checked first. Any bad row and not ``skip_bad``: raise :class:`ImportRejected`
    listing each (``line N: reason``) and write nothing. ``dry_run``: check and count only.
    ``progress(done, total)`` is called as rows are checked and written (total = 2 x rows).
    """
    sources = read_sources(Path(path))
    total_rows = sum(len(s.rows) for _, s in sources)
    total = 2 * total_rows
    done = 0

    def tick() -> None:
        nonlocal done
        done += 1
        if progress is not None and done % 500 == 0:
            progress(done, total)

    plan = _Plan()
    single = len(sources) == 1
    kinds = {k for k, _ in sources}
    plan.result.format = "sheet" if kinds == {"sheet"} else "export"
    plan.result.dry_run = dry_run
    for kind, sheet in sources:
        if kind == "sheet":
            _check_sheet(store, sheet, plan, single, tick)
        else:
            _check_export_table(store, kind, sheet, plan, single, tick)
    plan.result.bad = list(plan.errors)
    if plan.errors and not skip_bad:
        n = len(plan.errors)
        head = (
            f"{n} bad row{'s' if n != 1 else ''}; nothing was written"
            f"{' (dry run)' if dry_run else ''}. Fix them, or use --skip-bad to import the "
            "other rows:"
        )
        raise ImportRejected("\n".join([head, *(f"  {e}" for e in plan.errors)]), plan.errors)
    if progress is not None:
        progress(total_rows, total)
    if not dry_run and plan.writes:
        store.import_records(
            plan.writes,
            progress=(lambda n: progress(total_rows + n, total)) if progress else None,
        )
    if progress is not None:
        progress(total, total)
    return plan.result
