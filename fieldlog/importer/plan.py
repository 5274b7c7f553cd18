"""Checking the rows of an import before anything is written: the plan of what to write.

Every row of every file is checked first (cells parsed, the record's rules applied, its
parent present in the log or in the files), so an import writes all of its good rows in one
transaction or, with a bad row and no ``--skip-bad``, nothing. This module checks the tables
of ``fieldlog export``; :mod:`fieldlog.importer.sheet` the officer sheet.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from fieldlog import dates, ids, models, records
from fieldlog.errors import ValidationError
from fieldlog.importer.read import TABLE_ORDER, Sheet
from fieldlog.importer.result import ImportResult
from fieldlog.models import FORMULA_PREFIXES

if TYPE_CHECKING:
    from fieldlog.db.store import Store

DATETIME_FIELDS = ("occurred_at", "resolved_at")  # second precision, like dates.to_storage
STAMP_FIELDS = ("created_at", "updated_at")  # millisecond precision, like dates.stamp_now
DAY_FIELDS = ("follow_up_on", "last_verified")
# Columns holding a record's id: each table's parent column and the records it points to.
ID_FIELDS = tuple(
    dict.fromkeys(
        [r.parent[1] for r in records.iter_types() if r.parent]
        + [f for r in records.iter_types() for f in r.refs]
    )
)


# ---------------------------------------------------------------------- cells
def unneutralise(value: str) -> str:
    """Undo the export's formula guard: ``'=SUM(A1)`` -> ``=SUM(A1)``."""
    if value.startswith("'") and value[1:2] and value[1] in FORMULA_PREFIXES:
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
class Plan:
    """Checked records to write, and what the checks found."""

    writes: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    result: ImportResult = field(default_factory=ImportResult)
    seen: dict[str, set[str]] = field(default_factory=lambda: {t: set() for t in TABLE_ORDER})
    errors: list[str] = field(default_factory=list)
    planned_orgs: dict[str, str] = field(default_factory=dict)  # name (casefold) -> id
    concern_contacts: dict[str, str] = field(default_factory=dict)  # concern id -> contact id

    def add(self, action: str, table: str, row: dict[str, Any]) -> None:
        self.writes.append((action, table, row))
        self.seen[table].add(row["id"])
        if action == "update":
            self.result.updated += 1
        else:
            setattr(self.result, table, getattr(self.result, table) + 1)


def line_ref(sheet: Sheet, line: int, single: bool) -> str:
    """Where a message points: ``line N``, with the file's name when the import has several."""
    return f"line {line}" if single else f"{sheet.name} line {line}"


def check_export_table(
    store: Store, table: str, sheet: Sheet, plan: Plan, single: bool, tick: Callable[[], None]
) -> None:
    """Check one exported table's rows into ``plan``: a record already in the log is skipped,
    or updated when the file's ``updated_at`` is newer (export -> import is idempotent)."""
    header = sheet.header
    width = len(header)
    present = store.imports.present(
        table, [r[header.index("id")].strip().lower() for _, r in sheet.rows if len(r) == width]
    )
    # A child record (a concern, a referral) needs its parent in the log or in the files.
    parent = records.get(table).parent
    parents_present: dict[str, tuple[str, bool]] = {}
    if parent is not None:
        parent_table, parent_column = parent
        parents_present = store.imports.present(
            parent_table,
            [
                r[header.index(parent_column)].strip().lower()
                for _, r in sheet.rows
                if len(r) == width
            ],
        )
    for line, cells in sheet.rows:
        tick()
        where = line_ref(sheet, line, single)
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
            if parent is not None:
                pid = row[parent_column]
                if pid not in plan.seen[parent_table] and pid not in parents_present:
                    raise ValidationError(
                        parent_column,
                        f"{records.NOUN[parent_table]} {pid} is not in the log: import "
                        f"{parent_table} first (or the folder or zip that 'fieldlog export all' "
                        "makes).",
                    )
            if table == "organizations":
                _check_org_name(store, plan, row)
            elif table == "concerns":
                plan.concern_contacts[rid] = row["contact_id"]
            elif table == "referrals" and row.get("concern_id"):
                _check_concern_link(store, plan, row)
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


def _check_concern_link(store: Store, plan: Plan, row: dict[str, Any]) -> None:
    """A referral answers a concern of its own contact only (as ``refer --concern``)."""
    owner = plan.concern_contacts.get(row["concern_id"])
    if owner is None:
        store.referrals.check_concern(row["contact_id"], row["concern_id"])  # a stored concern
    elif owner != row["contact_id"]:
        raise ValidationError(
            "concern_id",
            f"referral {row['id']} answers concern {row['concern_id']}, raised at contact "
            f"{owner}, not at its contact {row['contact_id']}: fix the concern_id column or "
            "leave it empty.",
        )


def _check_org_name(store: Store, plan: Plan, row: dict[str, Any]) -> None:
    key = row["name"].casefold()
    other = plan.planned_orgs.get(key)
    if other is None:
        found = store.orgs.find(row["name"])
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
    parent = records.get(table).parent
    if parent is not None and not values[parent[1]]:
        raise ValidationError(
            parent[1], f"{parent[1]} is empty: every record has its {records.NOUN[parent[0]]}."
        )
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
