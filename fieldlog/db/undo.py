"""Undo (``fieldlog undo``): take back the last write of this officer on this laptop.

The history comes from the audit chain, which already says, for every write of a record, who
made it (``officer``), on which device (``origin``), when, and the values it wrote; the values
a write replaced are the record's earlier entries replayed (the way ``fieldlog history`` shows
``before``). So undo needs no journal of its own, sees every write whatever made it (the CLI,
the TUI, an import) and works on a log written before it existed.

- **A write** is one transaction of the store: its audit entries are consecutive and share the
  time, officer and device. Undo takes the newest write of the current officer on this device
  that is neither an undo nor undone already, so a second ``undo`` goes one write further back,
  like Taskwarrior's ``task undo`` (there is no redo: a write undone by mistake is typed again).
- **The undo is a write** through :meth:`fieldlog.db.store.Store.write` like any other: it
  stamps clocks, goes to the outbox (so sync carries it to the department) and into the audit.
  An added record is tombstoned, an edit writes the earlier values back, a delete is restored.
  The same transaction notes in ``meta`` (never synced) which audit entries were this undo and
  which write it took back: :data:`MARKS_KEY`.
- **Never clobber**: each field is put back only if it still holds what the write left there.
  When someone changed it since (a synced edit, another officer on this laptop), or added a
  concern to a contact the undo would delete, it refuses and says who changed what.

Writes of others (sync, another officer), a retention purge and the schema's genesis entries
are never undone; undo walks past them. Everything here is the store's layer: no UI library.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fieldlog import dates, records
from fieldlog.errors import FieldlogError, NotFoundError
from fieldlog.text import plural, printable

if TYPE_CHECKING:
    from fieldlog.db.store import Store

MARKS_KEY = "undo_marks"  # meta: [[undo first, undo last, target first, target last], ...]
MAX_MARKS = 1000  # the newest undos kept in meta (older ones are far down the stack)
MAX_RECORDS = 20_000  # a write bigger than this (demo data) is for a backup, not an undo
UNDOABLE = ("insert", "update", "delete")
PAGE = 2000
# Fields as the commands name them ("Undid edit of contact 3f2a1b (when, follow-up)").
LABELS = {
    "occurred_at": "when", "person_name": "person", "organization_id": "partner",
    "follow_up_on": "follow-up", "resolved_at": "resolved time", "contact_id": "contact",
    "concern_id": "concern",
}  # fmt: skip
# The audit's bookkeeping columns, never a field to put back.
_BOOKKEEPING = frozenset(records.SYNC_COLUMNS)


class UndoRefused(FieldlogError):
    """The last write cannot be undone without overwriting someone's later change."""


@dataclass
class Entry:
    """One audit entry, as undo reads it."""

    seq: int
    at: str
    officer: str
    origin: str
    tbl: str
    row_id: str
    action: str
    changes: dict[str, Any] | None


@dataclass
class Write:
    """One transaction of this officer on this device: audit entries ``first``..``last``."""

    first: int
    last: int
    at: str
    entries: list[Entry]


@dataclass
class State:
    """A record as its audit entries say it stood: created yet, deleted, its field values
    (as stored: list fields as their JSON text)."""

    exists: bool = False
    deleted: int = 0
    fields: dict[str, Any] = field(default_factory=dict)
    known: bool = True  # False: an entry's content was erased by a purge


@dataclass
class Step:
    """What undo does to one record: ``tombstone`` (the write created it), ``restore`` (the
    write deleted it) or ``revert`` (the write changed ``fields``, put back to these values)."""

    table: str
    rid: str
    op: str
    fields: dict[str, Any]
    title: str = ""
    short_id: str = ""
    parent_id: str | None = None  # the record it belongs to (a concern's contact)


@dataclass
class Plan:
    """The undo of one write, checked against the log as it is now."""

    write: Write
    action: str  # "add", "edit" or "delete": what the write was, as the officer did it
    main: Step
    steps: list[Step]

    @property
    def others(self) -> dict[str, int]:
        """How many records besides the main one, by noun."""
        out: dict[str, int] = {}
        for s in self.steps:
            if s is not self.main:
                noun = records.NOUN[s.table]
                out[noun] = out.get(noun, 0) + 1
        return out

    def describe(self) -> str:
        """``add of contact 3f2a1b: 'Met the owner…' (and 1 concern)``."""
        m = self.main
        text = f"{self.action} of {records.NOUN[m.table]} {m.short_id}"
        if m.title:
            text += f": '{m.title}'"
        extra = [plural(n, noun) for noun, n in self.others.items()]
        if self.action == "edit" and m.op == "revert":
            text += f" ({', '.join(_label(name) for name in m.fields)}"
            text += f"; and {', '.join(extra)})" if extra else ")"
        elif extra:
            text += f" (and {', '.join(extra)})"
        return text

    def as_json(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "table": self.main.table,
            "id": self.main.rid,
            "short_id": self.main.short_id,
            "title": self.main.title,
            "written_at": self.write.at,
            "records": [
                {
                    "table": s.table,
                    "id": s.rid,
                    "short_id": s.short_id,
                    "undo": s.op,
                    "fields": sorted(s.fields),
                }
                for s in self.steps
            ],
            "message": f"Undid {self.describe()}",
        }


def _label(name: str) -> str:
    return LABELS.get(name, name.replace("_", " "))


# ---------------------------------------------------------------------- reading the audit
def _entry(raw: tuple[Any, ...]) -> Entry:
    seq, at, officer, origin, tbl, rid, action, text = raw
    return Entry(seq, at, officer, origin, tbl, rid, action, json.loads(text) if text else None)


def _marks(store: Store) -> list[list[int]]:
    try:
        marks = json.loads(store.meta().get(MARKS_KEY) or "[]")
    except ValueError:
        return []
    return [m for m in marks if isinstance(m, list) and len(m) == 4]


def _origins(store: Store) -> set[str]:
    """This laptop's device ids: the current one, and the one a copied log made it replace
    (the writes made here before that still count as this laptop's)."""
    meta = store.meta()
    return {o for o in (meta.get("device_id"), meta.get("device_id_replaced")) if o}


def _groups(store: Store, marks: list[list[int]]) -> Iterator[tuple[bool, Write]]:
    """Every transaction in the audit, newest first, as ``(mine, write)``: ``mine`` when the
    current officer made it on this laptop with ordinary writes. Entries in a row with the
    same time, officer and device are one transaction; the ranges undo noted split them
    exactly where a clock could not (two writes within one millisecond)."""
    officer, origins = store.officer(), _origins(store)
    starts = {m[0] for m in marks} | {m[2] for m in marks}
    ends = {m[1] for m in marks} | {m[3] for m in marks}
    current: list[Entry] = []
    key: tuple[Any, ...] | None = None
    mine = False
    below = None
    while True:
        sql = (
            "SELECT seq, at, officer, origin, tbl, row_id, action, changes FROM audit "
            + ("WHERE seq < ? " if below is not None else "")
            + f"ORDER BY seq DESC LIMIT {PAGE}"
        )
        rows = store.conn.execute(sql, [below] if below is not None else []).fetchall()
        for raw in rows:
            e = _entry(raw)
            ours = e.officer == officer and e.origin in origins and e.action in UNDOABLE
            k = (e.at, e.officer, e.origin, ours)
            if current and (k != key or e.seq in ends or current[-1].seq in starts):
                yield mine, Write(current[-1].seq, current[0].seq, current[0].at, current[::-1])
                current = []
            if len(current) > MAX_RECORDS:  # too big to undo: keep its bounds, not its rows
                current[-1] = e
            else:
                current.append(e)
            key, mine = k, ours
        if len(rows) < PAGE:
            break
        below = rows[-1][0]
    if current:
        yield mine, Write(current[-1].seq, current[0].seq, current[0].at, current[::-1])


def last_write(store: Store) -> Write | None:
    """The newest write of this officer on this laptop not undone yet (None: there is none).
    An undo's own write is skipped with the write it took back."""
    marks = _marks(store)
    undos = {(m[0], m[1]): (m[2], m[3]) for m in marks}
    undone: set[tuple[int, int]] = set()
    for mine, w in _groups(store, marks):
        if not mine:
            continue
        span = (w.first, w.last)
        if span in undos:
            undone.add(undos[span])
        elif span not in undone:
            return w
    return None


# ---------------------------------------------------------------------- planning
def _apply(state: State, e: Entry) -> None:
    """One audit entry replayed onto a record's state (what ``fieldlog history`` does)."""
    if e.changes is None:
        state.known = False
        return
    values = {k: v for k, v in e.changes.items() if k not in _BOOKKEEPING}
    if e.action in ("genesis", "insert", "sync insert", "bootstrap"):
        state.exists, state.fields = True, values
        state.deleted = int(bool(e.changes.get("deleted", 0)))
    elif e.action == "delete":
        state.deleted = 1
    elif e.action == "purge":
        state.exists = False
    else:  # update, sync update
        state.fields.update(values)
        if "deleted" in e.changes:
            state.deleted = int(bool(e.changes["deleted"]))


def _before(store: Store, rid: str, first: int) -> State:
    state = State()
    for raw in store.conn.execute(
        "SELECT seq, at, officer, origin, tbl, row_id, action, changes FROM audit "
        "WHERE row_id = ? AND seq < ? ORDER BY seq",
        [rid, first],
    ):
        _apply(state, _entry(raw))
    return state


def _current(store: Store, table: str, rid: str) -> dict[str, Any] | None:
    cur = store.conn.execute(f"SELECT * FROM {table} WHERE id = ?", [rid])
    raw = cur.fetchone()
    if raw is None:
        return None
    return {d[0]: v for d, v in zip(cur.description, raw, strict=True)}


def _later(store: Store, rid: str, after: int) -> Entry | None:
    """The newest audit entry of a record after the write: who changed it since."""
    raw = store.conn.execute(
        "SELECT seq, at, officer, origin, tbl, row_id, action, changes FROM audit "
        "WHERE row_id = ? AND seq > ? ORDER BY seq DESC LIMIT 1",
        [rid, after],
    ).fetchone()
    return _entry(raw) if raw else None


def _title(table: str, row: Mapping[str, Any]) -> str:
    """What the officer reads to know the record: a contact's summary, a concern's
    description, a referral's agency, a partner's name (one line, at most 50 characters)."""
    name = "description" if table == "concerns" else records.get(table).title
    text = " ".join(str(row.get(name) or "").split())
    text = printable(text, newlines=False)
    return text if len(text) <= 50 else text[:49] + "…"


def _refuse(
    store: Store, write: Write, table: str, rid: str, what: str, undoing: str, name: str = ""
) -> UndoRefused:
    """``Cannot undo: contact 3f2a1b had its summary changed since, in a sync from device
    ab12cd (2026-03-01 14:30), and undoing would overwrite that.``, and what to do instead."""
    noun = records.NOUN[table]
    short = store.records.short_id(table, rid)
    return UndoRefused(
        f"Cannot undo: {noun} {short} {what} since, {_by(store, write, table, rid, name)}, and "
        f"undoing would {undoing}. Nothing was changed; change it by hand if you still need "
        f"to (fieldlog history {short} shows every change)."
    )


def _by(store: Store, write: Write, table: str, rid: str, name: str) -> str:
    """Who changed the record after the write: the officer of a write made here, or for a
    pulled change the device its field's clock names (a pulled entry carries the record's
    officer, not the editor's)."""
    later = _later(store, rid, write.last)
    if later is None:
        return "outside fieldlog (fieldlog verify says more)"
    if not later.action.startswith("sync"):
        where = "this laptop" if later.origin in _origins(store) else f"device {later.origin}"
        return f"by {later.officer} on {where} at {dates.show_local(later.at)}"
    from datetime import UTC, datetime

    from fieldlog.clock import parse_stamp

    raw = store.scalar(f"SELECT clocks FROM {table} WHERE id = ?", [rid])
    clocks = json.loads(raw or "{}")
    stamp = clocks.get(name or "deleted") or max(clocks.values(), default="")
    try:
        wall, _counter, device = parse_stamp(stamp)
    except ValueError:
        return f"in a sync at {dates.show_local(later.at)}"
    at = datetime.fromtimestamp(wall / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return f"on device {device} (pulled by a sync), at {dates.show_local(at)}"


def _referrers(table: str) -> list[tuple[str, str]]:
    """(table, column) of every record column that points at a record of ``table``."""
    out = []
    for t in records.TABLES:
        r = records.get(t)
        cols = {c for c, target in r.refs.items() if target == table}
        if r.parent and r.parent[0] == table:
            cols.add(r.parent[1])
        out += [(t, c) for c in sorted(cols)]
    return out


def plan(store: Store, write: Write) -> Plan:
    """How to undo ``write`` as the log stands now; :class:`UndoRefused` when a record it
    wrote was changed since (or gained records that belong to it) by anyone."""
    if write.last - write.first + 1 > MAX_RECORDS:
        raise UndoRefused(
            f"The last write changed {write.last - write.first + 1:,} records at once (demo data "
            "or an import): too many to undo safely. Restore a backup made before it instead "
            "(fieldlog restore)."
        )
    by_row: dict[str, list[Entry]] = {}
    for e in write.entries:
        by_row.setdefault(e.row_id, []).append(e)
    steps: list[Step] = []
    for rid, entries in by_row.items():
        table = entries[0].tbl
        if table not in records.TABLES:
            continue
        before = _before(store, rid, write.first)
        after = State(before.exists, before.deleted, dict(before.fields), before.known)
        for e in entries:
            _apply(after, e)
        now = _current(store, table, rid)
        if not (before.known and after.known) or now is None:
            raise UndoRefused(
                f"Cannot undo: the {records.NOUN[table]} {rid[:8]} that the last write touched "
                "was purged since (its history is gone). Nothing was changed."
            )
        fields = records.TABLE_FIELDS[table]
        if not before.exists:
            op, back = "tombstone", {}
            if now["deleted"]:
                raise _refuse(store, write, table, rid, "was deleted", "bring it back")
            watched = fields
        else:
            back = {f: before.fields.get(f) for f in fields
                    if before.fields.get(f) != after.fields.get(f)}  # fmt: skip
            op = "revert"
            if after.deleted and not before.deleted:
                op = "restore"
            elif before.deleted and not after.deleted:
                op = "tombstone"
            if int(bool(now["deleted"])) != after.deleted:
                raise _refuse(store, write, table, rid, "was deleted or restored", "undo that")
            watched = tuple(back)
        changed = [f for f in watched if now.get(f) != after.fields.get(f)]
        if changed:
            what = f"had its {_label(changed[0])} changed"
            raise _refuse(store, write, table, rid, what, "overwrite that", changed[0])
        parent = records.get(table).parent
        pid = now.get(parent[1]) if parent else None
        steps.append(Step(table, rid, op, back, _title(table, now), parent_id=pid))
    if not steps:
        raise NotFoundError("Nothing to undo: the last write changed no record.")
    _check_links(store, write, steps)
    for s in steps:
        s.short_id = store.records.short_id(s.table, s.rid)
    action, main = _main(steps)
    return Plan(write, action, main, steps)


def _check_links(store: Store, write: Write, steps: list[Step]) -> None:
    """A record undo deletes must not keep live records added since by anyone (a concern
    another officer logged on the contact); one it restores must not belong to a deleted one."""
    gone = {s.rid for s in steps if s.op == "tombstone"}
    back = {s.rid for s in steps if s.op == "restore"}
    for s in steps:
        if s.op == "tombstone":
            for table, col in _referrers(s.table):
                for (rid,) in store.conn.execute(
                    f"SELECT id FROM {table} WHERE {col} = ? AND deleted = 0", [s.rid]
                ):
                    if rid not in gone:
                        raise _refuse(
                            store,
                            write,
                            table,
                            rid,
                            f"was added to {records.NOUN[s.table]} "
                            f"{store.records.short_id(s.table, s.rid)}",
                            "delete it with it",
                        )
        elif s.op == "restore":
            parent = records.get(s.table).parent
            if parent:
                pid = store.scalar(f"SELECT {parent[1]} FROM {s.table} WHERE id = ?", [s.rid])
                dead = store.scalar(f"SELECT deleted FROM {parent[0]} WHERE id = ?", [pid])
                if dead and pid not in back:
                    raise _refuse(
                        store,
                        write,
                        parent[0],
                        pid,
                        "was deleted",
                        f"restore a {records.NOUN[s.table]} of a deleted record",
                    )


def _main(steps: list[Step]) -> tuple[str, Step]:
    """What the write was, as the officer did it, and the record it was about: a record
    added (the contact, not the concerns typed with it; a referral, not the concern it marked
    referred), else one restored without its parent (a deleted contact), else one edited."""
    rids = {s.rid: s for s in steps}

    def parent_in(s: Step, ops: tuple[str, ...]) -> bool:
        return s.parent_id in rids and rids[s.parent_id].op in ops

    for s in steps:
        if s.op == "tombstone" and not parent_in(s, ("tombstone", "revert", "restore")):
            return "add", s
    for s in steps:
        if s.op == "restore" and not parent_in(s, ("restore",)):
            return "delete", s
    return "edit", next((s for s in steps if s.op == "revert"), steps[0])


# ---------------------------------------------------------------------- undoing
def peek(store: Store) -> Plan:
    """The undo that :func:`undo` would make now, checked (nothing is written)."""
    write = last_write(store)
    if write is None:
        raise NotFoundError(
            f"Nothing to undo: {store.officer()} has made no change on this laptop that is not "
            "undone already."
        )
    return plan(store, write)


def _next_seq(conn: Any) -> int:
    """The number the next audit entry gets (as the chain numbers them: after its last
    entry, never from ``sqlite_sequence``, which is not trusted)."""
    from fieldlog.db.audit import next_seq

    return next_seq(conn)


def _decode(table: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """Stored values as the transaction takes them (list fields as lists, not JSON text)."""
    out = {}
    for k, v in values.items():
        out[k] = json.loads(v) if k in records.LIST_FIELDS and isinstance(v, str) else v
    return out


def undo(store: Store, *, expect: int | None = None) -> Plan:
    """Undo the last write of this officer on this laptop, in one transaction; returns what
    was undone. ``expect``: the ``first`` audit entry of the write the officer was shown (if
    another write came in meanwhile, refuse rather than undo something else)."""
    with store.write() as tx:
        p = peek(store)
        if expect is not None and p.write.first != expect:
            raise UndoRefused(
                "The log changed while you were deciding: nothing was undone. Run fieldlog "
                "undo again to see what it would undo now."
            )
        first = _next_seq(tx.conn)
        for s in p.steps:
            values = _decode(s.table, s.fields)
            if s.op == "tombstone":
                if values:
                    tx.update(s.table, s.rid, values)
                tx.tombstone(s.table, s.rid)
            elif s.op == "restore":
                tx.update(s.table, s.rid, {**values, "deleted": 0})
            else:
                tx.update(s.table, s.rid, values)
        last = first + len(tx.audited) - 1
        marks = _marks(store) + [[first, last, p.write.first, p.write.last]]
        tx.set_meta(MARKS_KEY, json.dumps(marks[-MAX_MARKS:]))
    return p
