"""Checking the rows of an import before anything is written: the plan of what to write.

Rows are checked in batches as the file is read (cells parsed, the record's rules applied,
its parent present in the log or earlier in the files, stamps not in the future), and each
batch's good rows are written at once inside the import's one transaction, so memory does not
grow with the file; a bad row without ``--skip-bad`` rolls the whole import back at the end,
so an import writes all of its good rows or nothing. This module checks the tables of
``fieldlog export``; :mod:`fieldlog.importer.sheet` the officer sheet.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from fieldlog import dates, ids, models, records
from fieldlog.errors import ValidationError
from fieldlog.importer.read import Sheet
from fieldlog.importer.result import ImportResult
from fieldlog.merge import MAX_SKEW_MS
from fieldlog.models import FORMULA_PREFIXES

if TYPE_CHECKING:
    from fieldlog.db.store import Store

DATETIME_FIELDS = tuple(sorted(records.TIME_FIELDS))  # second precision, like dates.to_storage
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
MAX_LISTED = 1000  # bad rows kept for the message and --json; the rest are counted


@dataclass
class Plan:
    """What the import found so far (bounded: counts, the first bad rows) and the checked
    writes of the batch being checked (``writes``, ``conflicts``; the writer empties them)."""

    result: ImportResult = field(default_factory=ImportResult)
    errors: list[str] = field(default_factory=list)
    bad: int = 0  # every bad row, listed or not
    writes: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    conflicts: list[dict[str, Any]] = field(default_factory=list)

    def add(self, action: str, table: str, row: dict[str, Any]) -> None:
        self.writes.append((action, table, row))
        if action == "update":
            self.result.updated += 1
        else:
            setattr(self.result, table, getattr(self.result, table) + 1)

    def error(self, message: str) -> None:
        self.bad += 1
        if len(self.errors) < MAX_LISTED:
            self.errors.append(message)


class Writer(Protocol):
    """What checking needs of the import's transaction (:class:`fieldlog.db.repos.imports.
    ImportWriter`): the log as this import has written it so far."""

    def present(self, table: str, rids: Sequence[str]) -> dict[str, dict[str, Any]]: ...
    def imported(self, table: str, rids: Sequence[str]) -> set[str]: ...
    def exists(self, table: str, rids: Sequence[str]) -> set[str]: ...


@dataclass
class Batch:
    """One batch of a file's lines to check, with what checking it needs: the log, the
    import's transaction (``writer``), the file, the plan the checks fill, and whether the
    import reads this one file (messages then name no file)."""

    store: Store
    writer: Writer
    sheet: Sheet
    rows: Sequence[tuple[int, list[str]]]
    plan: Plan
    single: bool

    def lines(self, width: int) -> Iterator[tuple[str, list[str]]]:
        """``(where, cells)`` for each line of ``width`` cells (``where``: what a message
        about it names); a line of another width is a bad row of the plan."""
        for line, cells in self.rows:
            where = f"line {line}" if self.single else f"{self.sheet.name} line {line}"
            if len(cells) != width:
                self.plan.error(f"{where} has {len(cells)} cells, the header has {width}.")
                continue
            yield where, cells


def check_export_batch(job: Batch) -> None:
    """Check a batch of one exported table's rows into its plan. The log as this import has
    written it so far answers "is it here already" and "is its parent here", so memory does
    not grow with the file. A record already in the log with the same ``updated_at`` is
    skipped; one that differs is a conflict (:func:`collide`)."""
    store, writer, sheet, plan = job.store, job.writer, job.sheet, job.plan
    table, header = sheet.kind, sheet.header
    limit = future_limit()
    parsed: list[tuple[str, dict[str, Any]]] = []
    for where, cells in job.lines(len(header)):
        raw = {h: unneutralise(c) for h, c in zip(header, cells, strict=True)}
        try:
            parsed.append((where, _export_row(table, raw, limit)))
        except ValidationError as exc:
            plan.error(f"{where}: {exc}")
    if not parsed:
        return
    rids = [r["id"] for _, r in parsed]
    present = writer.present(table, rids)
    imported = writer.imported(table, list(present)) if present else set()
    # A child record (a concern, a referral) needs its parent in the log or in the files.
    parent = records.get(table).parent
    parents: set[str] = set()
    if parent is not None:
        parents = writer.exists(parent[0], [r[parent[1]] for _, r in parsed])
    seen: set[str] = set()
    names: dict[str, str] = {}  # partners of this batch: name (casefold) -> id
    close = _CloseNames(store) if table == "organizations" else None
    for where, row in parsed:
        rid = row["id"]
        if rid in seen or rid in imported:
            plan.result.skipped += 1  # the same record twice in the files
            continue
        try:
            if parent is not None and row[parent[1]] not in parents:
                raise ValidationError(
                    parent[1],
                    f"{records.NOUN[parent[0]]} {row[parent[1]]} is not in the log: import "
                    f"{parent[0]} first (or the folder or zip that 'fieldlog export all' "
                    "makes).",
                )
            if close is not None:
                _check_org_name(store, names, row)
                if rid not in present:
                    close.check(row)
            elif table == "referrals" and row.get("concern_id"):
                _check_concern_link(store, row)
        except ValidationError as exc:
            plan.error(f"{where}: {exc}")
            continue
        seen.add(rid)
        if rid in present:
            collide(plan, table, row, present[rid], limit)
        else:
            plan.add("insert", table, row)


def collide(
    plan: Plan, table: str, row: dict[str, Any], local: dict[str, Any], limit: datetime
) -> None:
    """A record of the file whose id is in the log already. Same ``updated_at``, or the same
    fields: skipped. Otherwise the newer of the two by ``updated_at`` wins (a stored stamp
    beyond the clock's allowance never wins: it cannot be real); each field where they differ
    is kept in ``conflicts`` with the losing value, for the officer to review (``fieldlog
    conflicts``). A record deleted in this log stays deleted."""
    if local.get("deleted"):
        plan.result.skipped += 1
        return
    theirs, mine = row["updated_at"], local.get("updated_at") or ""
    differ = [f for f in records.TABLE_FIELDS[table] if f in row and enc(f, row[f]) != local.get(f)]
    if theirs == mine or not differ:
        plan.result.skipped += 1
        return
    file_wins = _stamp(theirs) > _stamp(mine) or _stamp(mine) > limit
    if file_wins:
        plan.add("update", table, row)
    else:
        plan.result.older += 1
    clocks = json.loads(local.get("clocks") or "{}")
    for f in differ:
        plan.conflicts.append(
            {
                "tbl": table,
                "row_id": row["id"],
                "field": f,
                "mine": json.dumps(local.get(f)),
                "theirs": json.dumps(enc(f, row[f])),
                "kept": "theirs" if file_wins else "mine",
                "mine_hlc": clocks.get(f) or clocks.get("*"),
                "theirs_officer": row["officer"],
            }
        )


def enc(f: str, value: Any) -> Any:
    """A value as its column stores it (lists as JSON text), to compare with a stored row."""
    if f in records.LIST_FIELDS:
        return json.dumps(value or [])
    return value


def _stamp(text: str) -> datetime:
    try:
        dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return dt if dt.tzinfo else dt.replace(tzinfo=UTC)
    except (ValueError, AttributeError):
        return datetime.min.replace(tzinfo=UTC)


def future_limit() -> datetime:
    """The latest stamp a record may carry: now plus the clock skew sync allows."""
    return datetime.now(UTC) + timedelta(milliseconds=MAX_SKEW_MS)


def _check_concern_link(store: Store, row: dict[str, Any]) -> None:
    """A referral answers a concern of its own contact only (as ``refer --concern``); the
    concern is in the log, or was written by this import from concerns.csv."""
    owner = store.scalar("SELECT contact_id FROM concerns WHERE id = ?", [row["concern_id"]])
    if owner is not None and owner != row["contact_id"]:
        raise ValidationError(
            "concern_id",
            f"referral {row['id']} answers concern {row['concern_id']}, raised at contact "
            f"{owner}, not at its contact {row['contact_id']}: fix the concern_id column or "
            "leave it empty.",
        )


def _check_org_name(store: Store, names: dict[str, str], row: dict[str, Any]) -> None:
    key = row["name"].casefold()
    other = names.get(key)
    if other is None:
        found = store.orgs.find(row["name"])
        other = found["id"] if found else None
    if other is not None and other != row["id"]:
        raise ValidationError(
            "name",
            f"a different partner named '{row['name']}' is already in the directory "
            f"({other[:10]}): rename one of them.",
        )
    names[key] = row["id"]


class _CloseNames:
    """A new partner of the file whose name is close to one in the directory, or to an
    earlier new partner of the file (``Parks Department`` for ``Parks Dept``: issue 14) is
    refused like a duplicate name: the partner it means is named, with the fixes. The
    directory is read and folded once, on the first new partner (rapidfuzz only then)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.index: Any = None

    def check(self, row: dict[str, Any]) -> None:
        from fieldlog import partners

        if self.index is None:
            self.index = partners.directory(self.store)
        found = self.index.closest(row["name"], limit=1, exclude=row["id"])
        if found:
            m = found[0]
            raise ValidationError(
                "name",
                f"'{row['name']}' is close to the partner '{m.name}' ({m.id[:10]}) already in "
                f"the directory: if it is that partner, put {m.id} in its id column; if it "
                "is another one, give it a name that tells them apart (or leave it out with "
                "--skip-bad).",
            )
        self.index.add(row["id"], row["name"])


def _export_row(table: str, raw: dict[str, str], limit: datetime) -> dict[str, Any]:
    """One exported row, checked, as the values to store (UTC times, lists, ids)."""
    values: dict[str, Any] = {}
    # A file an older fieldlog exported has no review columns: those fields are left as the
    # log has them (a new record gets the defaults), never emptied.
    absent = [f for f in records.ADDED_FIELDS.get(table, ()) if f not in raw]
    for f in records.TABLE_FIELDS[table]:
        if f in absent:
            continue
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
    if "occurred_at" in values and not values["occurred_at"]:
        noun = records.NOUN[table]
        raise ValidationError("occurred_at", f"occurred_at is empty: every {noun} has a time.")
    if table == "problems" and values.get("phase") == "closed" and not values.get("closed_at"):
        raise ValidationError("closed_at", "closed_at is empty: a closed problem has its time.")
    parent = records.get(table).parent
    if parent is not None and not values[parent[1]]:
        raise ValidationError(
            parent[1], f"{parent[1]} is empty: every record has its {records.NOUN[parent[0]]}."
        )
    cleaned = records.clean(table, values)
    for f in absent:
        cleaned.pop(f, None)
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
        if _stamp(row[f]) > limit:
            raise ValidationError(
                f,
                f"{f} '{raw[f].strip()}' is in the future (more than "
                f"{MAX_SKEW_MS // 60000} minutes ahead of this laptop's clock): a stamp from a "
                "wrong clock would win over every later edit, so it is not stored; fix the "
                "date, or this laptop's clock.",
            )
    return row
