"""The retention rule: ``fieldlog purge --older-than 2y``.

Two steps, each one transaction of the store:

1. **Tombstone.** Every contact that occurred before the cutoff, with its concerns and
   referrals, is deleted through the normal write path (``tx.tombstone``): the tombstones get
   audit entries and go to the ``changes`` outbox, so sync carries the deletion to the remotes
   and the other laptops.
2. **Remove.** Tombstoned rows older than the cutoff (contacts by ``occurred_at``, their
   concerns and referrals by their contact's, partners by the time they were deleted) whose
   changes every remote has received are deleted for good: a remote has received a change
   when its push cursor (meta ``sync:<store>:pushed``, the last ``changes.seq`` pushed) is at
   or past it; with no cursor there is no remote and a tombstone goes at once. Their
   ``changes`` rows and sync conflicts go with them, their ids go to the ``purged`` table (sync
   never brings them back), and the audit gets a ``purge`` entry each while the content of
   their earlier entries (names, summaries) is erased: the entries' hashes stay, so the chain
   still verifies (see fieldlog/db/audit/).

Which tables are a contact's and in which order rows go come from the record registry
(:mod:`fieldlog.records`: each table's parent and the sync order), so a new record type that
belongs to a contact (or to a problem) is purged with it without a change here.

A tombstone not yet pushed everywhere is held back: run ``fieldlog sync``, then purge again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from fieldlog import dates, records
from fieldlog.db import audit
from fieldlog.errors import ValidationError

if TYPE_CHECKING:
    from fieldlog.db.store import Store

AGE_HELP = (
    "give a number of years, months, weeks or days, like 2y, 18mo, 26w or 730d, or a date "
    "like 2023-01-01"
)
_AGE = re.compile(r"^(?P<n>\d{1,4})\s*(?P<unit>[a-z]+)$")
_UNITS = {
    "y": "y", "yr": "y", "yrs": "y", "year": "y", "years": "y",
    "mo": "mo", "mon": "mo", "month": "mo", "months": "mo",
    "w": "w", "wk": "w", "wks": "w", "week": "w", "weeks": "w",
    "d": "d", "day": "d", "days": "d",
}  # fmt: skip
TABLES = records.TABLES
# The records the rule is about: a contact older than the cutoff goes, with the records that
# belong to it (the registry's children of a contact, and theirs); so does a problem closed
# before the cutoff, with its links and log entries. A link to a record that goes (a problem's
# link to an old contact) goes with it. Any other record (a partner) goes once it has been
# deleted for as long.
ROOT, ROOT_DATE = "contacts", "occurred_at"
ROOTS = {
    ROOT: f"{ROOT_DATE} < :cut",
    # (a closed problem that came without its closing time: the time it last changed)
    "problems": "phase = 'closed' AND coalesce(closed_at, updated_at) < :cut",
}


def _family(table: str) -> tuple[str, ...]:
    """The tables whose records belong to a ``table`` record, at any depth, parents first."""
    out: list[str] = []
    for child in records.children(table):
        out += [child, *_family(child)]
    return tuple(out)


def _children_first() -> tuple[str, ...]:
    """Every record table after the tables that point at it: a row is removed before the row
    it names (a contact once no concern or referral names it)."""
    return tuple(reversed(records.in_sync_order()))


def cutoff_day(text: str, *, today: date | None = None) -> date:
    """The first local day that is kept: ``2y`` is the same day two years ago."""
    raw = (text or "").strip()
    s = raw.lower()
    today = today or dates.now_local().date()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", s):
        try:
            day = date.fromisoformat(s)
        except ValueError:
            raise ValidationError(
                "older-than", f"Cannot read the date '{raw}': {AGE_HELP}."
            ) from None
        if day > today:
            raise ValidationError(
                "older-than",
                f"The date {day} is in the future: give a past date, or an age like 2y.",
            )
        return _not_too_old(day, raw)
    m = _AGE.match(s)
    if not m or m["unit"] not in _UNITS:
        hint = " ('m' could be minutes: write 18mo for months)" if m and m["unit"] == "m" else ""
        raise ValidationError("older-than", f"Cannot read the age '{raw}'{hint}: {AGE_HELP}.")
    n, unit = int(m["n"]), _UNITS[m["unit"]]
    if n == 0:
        raise ValidationError(
            "older-than", f"The age '{raw}' would purge everything: {AGE_HELP} (more than 0)."
        )
    if unit in ("d", "w"):
        days = n * (7 if unit == "w" else 1)
        return _not_too_old(date.fromordinal(max(1, today.toordinal() - days)), raw)
    months = n * 12 if unit == "y" else n
    y, mo = divmod(today.year * 12 + today.month - 1 - months, 12)
    if y < 1:
        y = 1
    for d in (today.day, 30, 29, 28):  # 29 February two years on is 28 February
        try:
            return _not_too_old(date(y, mo + 1, d), raw)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def _not_too_old(day: date, raw: str) -> date:
    if day.year < 1970:  # before any log: surely a typo (and before SQLite's usual range)
        raise ValidationError(
            "older-than", f"The age '{raw}' reaches back before 1970: {AGE_HELP}."
        )
    return day


@dataclass
class PurgeResult:
    """What a purge did (or, ``dry_run``, would do)."""

    cutoff: str  # the first kept local day, YYYY-MM-DD
    dry_run: bool
    remotes: int
    tombstoned: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TABLES, 0))
    removed: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TABLES, 0))
    held_back: int = 0  # old tombstones some remote has not received yet

    @property
    def nothing(self) -> bool:
        return not any(self.tombstoned.values()) and not any(self.removed.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "cutoff": self.cutoff,
            "dry_run": self.dry_run,
            "remotes": self.remotes,
            "tombstoned": self.tombstoned,
            "removed": self.removed,
            "held_back": self.held_back,
        }


def _pushed_cursor(store: Store) -> tuple[int, int | None]:
    """(number of remotes, the lowest push cursor); None when there is no remote."""
    values = [
        r["value"]
        for r in store.query("SELECT value FROM meta WHERE key LIKE 'sync:%:pushed' ESCAPE '\\'")
    ]
    cursors = []
    for v in values:
        try:
            cursors.append(int(v or 0))
        except ValueError:
            cursors.append(0)  # unreadable: treat as "nothing pushed", the safe side
    return len(cursors), (min(cursors) if cursors else None)


def _root_of(table: str) -> str | None:
    """The ``ROOTS`` table a ``table`` record belongs to (itself, or through its parents)."""
    while table not in ROOTS:
        parent = records.get(table).parent
        if parent is None:
            return None
        table = parent[0]
    return table


def _old_sql(table: str) -> str:
    """SELECT id of the ``ROOTS`` rows older than the cutoff, or of the ``table`` rows that
    belong to one (through their parent column, at any depth)."""
    if table in ROOTS:
        return f"SELECT id FROM {table} WHERE {ROOTS[table]}"
    parent = records.get(table).parent
    assert parent is not None, f"{table} does not belong to one of {', '.join(ROOTS)}"
    return f"SELECT id FROM {table} WHERE {parent[1]} IN ({_old_sql(parent[0])})"


def _aged(table: str) -> str:
    """The condition on a ``table`` row (alias ``t``) that makes it old enough to purge."""
    if table in ROOTS:
        return f"t.{ROOTS[table]}"
    parent = records.get(table).parent
    if parent is None:  # not a contact's: as old as the time it was deleted
        return "t.updated_at < :cut"
    own = [f"t.{parent[1]} IN ({_old_sql(parent[0])})"]
    # A child that names a record of another root's family (a problem's link to a contact, a
    # concern or a referral) goes with that record.
    mine = _root_of(table)
    for col, target in records.get(table).refs.items():
        if _root_of(target) not in (None, mine):
            own.append(f"t.{col} IN ({_old_sql(target)})")
    return "(" + " OR ".join(own) + ")"


def _removable_sql(table: str, pushed: int | None) -> str:
    """SELECT id of the ``table`` rows a purge may delete for good (``:cut`` is the cutoff)."""
    sent = (
        ""
        if pushed is None
        else f" AND NOT EXISTS (SELECT 1 FROM changes x WHERE x.row_id = t.id "
        f"AND x.seq > {int(pushed)})"
    )
    return f"SELECT t.id FROM {table} t WHERE t.deleted = 1 AND {_aged(table)}{sent}"


def _unnamed_sql(table: str) -> str:
    """The condition that no row of a child table names the ``table`` row ``t`` (empty for a
    table without children): a parent goes only after its children."""
    out = ""
    for i, child in enumerate(records.children(table)):
        parent = records.get(child).parent
        assert parent is not None  # children() are the tables whose parent is ``table``
        out += f" AND NOT EXISTS (SELECT 1 FROM {child} c{i} WHERE c{i}.{parent[1]} = t.id)"
    return out


def purge(store: Store, older_than: str, *, dry_run: bool = False) -> PurgeResult:
    """Apply the retention rule (see the module docstring); ``dry_run`` writes nothing."""
    day = cutoff_day(older_than)
    cut = dates.to_storage(dates.parse_when(day.isoformat(), field="older-than").at)
    remotes, pushed = _pushed_cursor(store)
    result = PurgeResult(cutoff=day.isoformat(), dry_run=dry_run, remotes=remotes)
    params = {"cut": cut}

    # 1. tombstones, through the normal write path (audited, in the sync outbox)
    live = {
        t: f"SELECT t.id FROM {t} t WHERE t.deleted = 0 AND {_aged(t)} ORDER BY t.rowid"
        for root in ROOTS
        for t in (*_family(root), root)  # children first
    }
    doomed = {t: [r["id"] for r in store.query(sql, params)] for t, sql in live.items()}
    for t, rids in doomed.items():
        result.tombstoned[t] = len(rids)
    if not dry_run and any(doomed.values()):
        with store.write() as tx:
            for t, rids in doomed.items():
                for rid in rids:
                    tx.tombstone(t, rid)

    # 2. removal of tombstones every remote has
    if dry_run:
        # What step 1 would tombstone is removable now only when there is no remote.
        for t in TABLES:
            now_removable = {r["id"] for r in store.query(_removable_sql(t, pushed), params)}
            every_old = {r["id"] for r in store.query(_removable_sql(t, None), params)}
            new = set(doomed.get(t, []))
            result.removed[t] = len(now_removable) + (len(new) if pushed is None else 0)
            result.held_back += len(every_old - now_removable) + (
                len(new) if pushed is not None else 0
            )
        return result
    gone: list[tuple[str, str]] = []
    with store.write() as tx:
        conn = tx.conn
        for t in _children_first():
            sql = _removable_sql(t, pushed) + _unnamed_sql(t)
            rids = [r[0] for r in conn.execute(sql, params).fetchall()]
            old = conn.execute(f"SELECT count(*) FROM ({_removable_sql(t, None)})", params)
            result.held_back += old.fetchone()[0] - len(rids)
            for i in range(0, len(rids), 500):
                chunk = rids[i : i + 500]
                marks = ", ".join("?" * len(chunk))
                conn.execute(f"DELETE FROM {t} WHERE id IN ({marks})", chunk)
                conn.execute(f"DELETE FROM changes WHERE row_id IN ({marks})", chunk)
            result.removed[t] = len(rids)
            gone += [(t, rid) for rid in rids]
        if gone:
            if conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'conflicts'"
            ).fetchone():
                conn.executemany("DELETE FROM conflicts WHERE row_id = ?", [(r,) for _, r in gone])
            # Held and quarantined copies of these records keep their text: personal data too.
            from fieldlog.db import quarantine

            quarantine.forget(conn, [r for _, r in gone])
            audit.purge_entries(
                conn,
                gone,
                officer=tx.officer,
                origin=tx.origin,
                at=tx.now,
                note={"older_than": result.cutoff},
            )
    return result
