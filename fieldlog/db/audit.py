"""The tamper-evident audit chain: one entry per write of a record, each hashing the last.

An entry says who (the officer logged in on the device that wrote), when, on which device
(``origin``), which record (table and id), the action (``genesis``, ``insert``, ``update``,
``delete``, ``purge``, or what sync passes) and what changed (the new values of the fields
written, as stored). Its ``hash`` is the SHA-256 of a canonical JSON of its fields, the
previous entry's hash (``prev``) included, so changing, removing or reordering one entry breaks
every later link. Two more hashes make the chain check the records themselves and survive a
retention purge:

- ``row_hash``: the SHA-256 of the record's whole row (every column that is not NULL, the sync
  bookkeeping included) as it stood when the transaction committed. ``fieldlog verify``
  recomputes it for every row, so ``sqlite3 log.db "update contacts set summary = 'x'"`` is
  caught.
- ``changes_hash``: the SHA-256 of the ``changes`` text. The entry hash covers this digest, not
  the text, so a purge can erase the personal data an old entry holds (``changes`` set to NULL)
  and the chain still verifies.

Writes reach this module from the store (``_Tx._log`` queues, ``_Tx.finish`` calls
:func:`record`; ``Store.insert_many`` calls :func:`append_inserted`), from migration 0006
(:func:`genesis`) and from sync (:func:`append`). It imports only the standard library
(``hashlib``, ``json``, ``sqlite3``) at module level: it is on the ``fieldlog add`` path.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from json.encoder import encode_basestring
from typing import Any

from fieldlog import records

RECORD_TABLES = records.in_sync_order()
# Columns fieldlog keeps for sync: in the row hash, never in ``changes``.
BOOKKEEPING = frozenset(
    ("id", "created_at", "updated_at", "officer", "origin", "hlc", "deleted", "clocks")
)
ENTRY_FIELDS = (
    "seq", "at", "officer", "origin", "tbl", "row_id", "action", "changes_hash", "row_hash",
    "prev",
)  # fmt: skip
FIRST_PREV = "0" * 64  # the "previous hash" of entry 1
NOUN = records.NOUN
BATCH = 5000

SCHEMA = [
    """CREATE TABLE audit (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        at TEXT NOT NULL,
        officer TEXT NOT NULL,
        origin TEXT NOT NULL,
        tbl TEXT NOT NULL,
        row_id TEXT NOT NULL,
        action TEXT NOT NULL,
        changes TEXT,
        changes_hash TEXT NOT NULL,
        row_hash TEXT,
        prev TEXT NOT NULL,
        hash TEXT NOT NULL)""",
    "CREATE INDEX audit_row ON audit(row_id, seq)",
    # Ids removed by a retention purge: sync never brings them back.
    """CREATE TABLE purged (
        tbl TEXT NOT NULL,
        row_id TEXT PRIMARY KEY NOT NULL,
        purged_at TEXT NOT NULL)""",
]


# ---------------------------------------------------------------------- hashing
def _blob(value: Any) -> Any:
    if isinstance(value, bytes | bytearray | memoryview):
        return {"$blob": bytes(value).hex()}  # a dict: no column value can look like it
    raise TypeError(f"cannot hash a {type(value).__name__}")


_CANONICAL = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_blob
)


def canonical(value: Any) -> str:
    """JSON with sorted keys and no spaces: the same data always gives the same text."""
    return _CANONICAL.encode(value)


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def row_texts(row: Mapping[str, Any]) -> tuple[str, str]:
    """Canonical JSON of a row's sync bookkeeping and of its other fields, each without the
    NULL columns (so a migration that adds a NULL column changes no hash). The second text
    is also an insert's ``changes``: one encoding serves both."""
    book: dict[str, Any] = {}
    fields: dict[str, Any] = {}
    for k, v in row.items():
        if v is not None:
            (book if k in BOOKKEEPING else fields)[k] = v
    return canonical(book), canonical(fields)


def state_text(book: str, fields: str) -> str:
    """The row's state: ``canonical({"b": bookkeeping, "f": fields})``, assembled from the
    two texts (keys sorted, no spaces: the same text ``canonical`` gives)."""
    return f'{{"b":{book},"f":{fields}}}'


def row_hash(row: Mapping[str, Any]) -> str:
    """The SHA-256 of a row's whole state, every column that is not NULL."""
    return sha256(state_text(*row_texts(row)))


def entry_hash(entry: Mapping[str, Any]) -> str:
    """SHA-256 of ``canonical()`` of the entry's fields, written out by hand (the keys are
    known and sorted; strings escaped by json's own encoder): a third of the cost of a
    dumps call, on every row of a bulk insert. test_audit checks both texts are equal."""
    return sha256(entry_text(entry))


def entry_text(e: Mapping[str, Any]) -> str:
    s = encode_basestring
    row = "null" if e["row_hash"] is None else s(e["row_hash"])
    return (
        f'{{"action":{s(e["action"])},"at":{s(e["at"])},"changes_hash":{s(e["changes_hash"])},'
        f'"officer":{s(e["officer"])},"origin":{s(e["origin"])},"prev":{s(e["prev"])},'
        f'"row_hash":{row},"row_id":{s(e["row_id"])},"seq":{int(e["seq"])},'
        f'"tbl":{s(e["tbl"])}}}'
    )


# ---------------------------------------------------------------------- appending
def _next(conn: sqlite3.Connection) -> tuple[int, str]:
    """The next entry's number and the hash it must follow."""
    last = conn.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
    used = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'audit'").fetchone()
    seq = max(last[0] if last else 0, used[0] if used else 0)
    return seq + 1, last[1] if last else FIRST_PREV


def _chain(conn: sqlite3.Connection, items: Iterable[tuple[Any, ...]]) -> int:
    """Append ``(at, officer, origin, tbl, row_id, action, changes, state)`` items, where
    ``changes`` is the canonical text of what was written and ``state`` the row's
    :func:`state_text` (None: the row is gone). Must run inside the caller's write
    transaction; returns how many entries were written."""
    seq, prev = _next(conn)
    batch: list[tuple[Any, ...]] = []
    n = 0
    for at, officer, origin, tbl, rid, action, text, state in items:
        entry = {
            "seq": seq,
            "at": at,
            "officer": officer or "",
            "origin": origin or "",
            "tbl": tbl,
            "row_id": rid,
            "action": action,
            "changes_hash": sha256(text),
            "row_hash": sha256(state) if state is not None else None,
            "prev": prev,
        }
        prev = entry_hash(entry)
        batch.append((*entry.values(), text, prev))
        seq += 1
        n += 1
        if len(batch) >= BATCH:
            _insert(conn, batch)
            batch = []
    if batch:
        _insert(conn, batch)
    return n


def _insert(conn: sqlite3.Connection, batch: Sequence[tuple[Any, ...]]) -> None:
    conn.executemany(
        f"INSERT INTO audit ({', '.join(ENTRY_FIELDS)}, changes, hash) "
        f"VALUES ({', '.join('?' * (len(ENTRY_FIELDS) + 2))})",
        batch,
    )


def _read_row(conn: sqlite3.Connection, table: str, rid: str) -> dict[str, Any] | None:
    if table not in RECORD_TABLES:
        raise ValueError(f"not a record table: {table}")
    cur = conn.execute(f"SELECT * FROM {table} WHERE id = ?", [rid])
    raw = cur.fetchone()
    if raw is None:
        return None
    return {d[0]: v for d, v in zip(cur.description, raw, strict=True)}


def append(
    conn: sqlite3.Connection,
    *,
    table: str,
    row_id: str,
    action: str,
    changes: Mapping[str, Any] | None,
    officer: str,
    origin: str,
    at: str,
) -> str:
    """Append one entry for a write just made to ``table`` row ``row_id``, inside the
    caller's transaction (call it after the write, before COMMIT). The row's current state is
    read here and hashed into the entry, so call it once the row is as it will be committed.
    ``changes`` is what was written (field -> new value, as stored; JSON-serialisable);
    ``officer``/``origin`` who wrote it and on which device; ``at`` a UTC ISO time.
    Returns the entry's hash."""
    row = _read_row(conn, table, row_id)
    state = state_text(*row_texts(row)) if row is not None else None
    _chain(conn, [(at, officer, origin, table, row_id, action, canonical(changes or {}), state)])
    return str(conn.execute("SELECT hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()[0])


def record(
    conn: sqlite3.Connection,
    pending: Sequence[tuple[str, str, Sequence[str]]],
    *,
    officer: str,
    origin: str,
    at: str,
) -> int:
    """The entries of one store transaction: ``pending`` holds ``(table, id, fields)`` as
    ``_Tx._log`` saw them (``["*"]`` an insert, ``["deleted"]`` a tombstone, else the fields
    an update changed). Called by ``_Tx.finish`` just before COMMIT, so each entry hashes the
    row as committed."""

    def items() -> Iterator[tuple[Any, ...]]:
        for table, rid, fields in pending:
            row = _read_row(conn, table, rid)
            if row is None:  # written and gone in one transaction: nothing to hash
                book, values, state = "", "{}", None
            else:
                book, values = row_texts(row)
                state = state_text(book, values)
            if list(fields) == ["*"]:
                action, text = "insert", values
            elif list(fields) == ["deleted"]:
                action, text = "delete", canonical({"deleted": 1})
            else:
                action = "update"
                text = canonical({f: (row or {}).get(f) for f in fields})
            yield at, officer, origin, table, rid, action, text, state

    return _chain(conn, items())


def append_inserted(
    conn: sqlite3.Connection, table: str, after_rowid: int, *, officer: str, origin: str, at: str
) -> int:
    """Entries for every row of ``table`` past ``after_rowid``: the bulk inserts of
    ``Store.insert_many`` (demo data), read back in one ordered scan."""
    if table not in RECORD_TABLES:
        raise ValueError(f"not a record table: {table}")
    cur = conn.execute(f"SELECT * FROM {table} WHERE rowid > ? ORDER BY rowid", [after_rowid])
    texts = _raw_texts([d[0] for d in cur.description])
    items = []
    while rows := cur.fetchmany(BATCH):
        for raw in rows:
            rid, book, values = texts(raw)
            items.append(
                (at, officer, origin, table, rid, "insert", values, state_text(book, values))
            )
    return _chain(conn, items)


def _raw_texts(names: Sequence[str]) -> Any:
    """A fast :func:`row_texts` for the tuples of one query: ``raw -> (id, book, fields)``."""
    book_at = [(n, i) for i, n in enumerate(names) if n in BOOKKEEPING]
    field_at = [(n, i) for i, n in enumerate(names) if n not in BOOKKEEPING]
    rid_at = names.index("id")
    enc = _CANONICAL.encode

    def texts(raw: Sequence[Any]) -> tuple[str, str, str]:
        book = enc({n: raw[i] for n, i in book_at if raw[i] is not None})
        return raw[rid_at], book, enc({n: raw[i] for n, i in field_at if raw[i] is not None})

    return texts


def genesis(conn: sqlite3.Connection) -> int:
    """Migration 0006: one ``genesis`` entry per row already in the log (tombstones too), in
    its state at the upgrade, so older logs verify from then on. Who and which device are the
    row's own ``officer`` and ``origin``; the time is the upgrade's."""
    from fieldlog import dates

    at = dates.stamp_now()
    n = 0
    for table in RECORD_TABLES:
        cur = conn.execute(f"SELECT * FROM {table} ORDER BY rowid")
        names = [d[0] for d in cur.description]
        items = []
        for raw in cur.fetchall():
            r = dict(zip(names, raw, strict=True))
            book, values = row_texts(r)
            state = state_text(book, values)
            items.append((at, r["officer"], r["origin"], table, r["id"], "genesis", values, state))
        n += _chain(conn, items)
    return n


def purge_entries(
    conn: sqlite3.Connection,
    removed: Sequence[tuple[str, str]],
    *,
    officer: str,
    origin: str,
    at: str,
    note: Mapping[str, Any],
) -> int:
    """A retention purge has deleted the ``(table, id)`` rows for good, in this transaction:
    list them in ``purged``, give each a ``purge`` entry (``changes`` = ``note``), and erase
    the content of their earlier entries (their hashes stay: the chain still verifies, and
    verify accepts erased content only for purged ids)."""
    conn.executemany(
        "INSERT OR REPLACE INTO purged (tbl, row_id, purged_at) VALUES (?, ?, ?)",
        [(t, rid, at) for t, rid in removed],
    )
    conn.executemany(
        "UPDATE audit SET changes = NULL WHERE row_id = ? AND changes IS NOT NULL",
        [(rid,) for _, rid in removed],
    )
    text = canonical(dict(note))
    return _chain(conn, ((at, officer, origin, t, rid, "purge", text, None) for t, rid in removed))


def migration_statements() -> list[Any]:
    """Step 0006: the tables, then the genesis entries (a callable the migration runs)."""
    return [*SCHEMA, genesis]


# ---------------------------------------------------------------------- verify
def _name(table: str, rid: str) -> str:
    return f"{NOUN.get(table, table)} {rid}"


class Report:
    """What :func:`verify` found: ``problems`` (one plain sentence each) and the counts."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.integrity = "ok"
        self.entries = 0
        self.records = 0
        self.purged = 0
        self.head = FIRST_PREV

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "problems": self.problems,
            "integrity": self.integrity,
            "entries": self.entries,
            "records": self.records,
            "purged": self.purged,
            "head": self.head,
        }


def verify(conn: sqlite3.Connection) -> Report:
    """Check SQLite's integrity, the chain, and every row against its last entry.

    Runs in one read transaction (a snapshot: a write made meanwhile by the TUI cannot look
    like tampering)."""
    rep = Report()
    began = not conn.in_transaction
    if began:
        conn.execute("BEGIN")
    try:
        _check_integrity(conn, rep)
        last = _check_chain(conn, rep)
        _check_rows(conn, rep, last)
    finally:
        if began and conn.in_transaction:
            conn.execute("COMMIT")
    return rep


def _check_integrity(conn: sqlite3.Connection, rep: Report) -> None:
    lines = [r[0] for r in conn.execute("PRAGMA integrity_check")]
    if lines != ["ok"]:
        rep.integrity = "damaged"
        rep.problems += [f"SQLite integrity check: {line}" for line in lines]
    for table, _rowid, parent, _fk in conn.execute("PRAGMA foreign_key_check"):
        rep.integrity = "damaged"
        rep.problems.append(
            f"A row of {table} names a {NOUN.get(parent, parent)} that is not in the log "
            "(a record was removed outside fieldlog)."
        )


def _check_chain(conn: sqlite3.Connection, rep: Report) -> dict[str, tuple[str, str, Any, int]]:
    """Walk the chain; returns ``id -> (table, action, row_hash, seq)`` of each record's last
    entry."""
    purged = {r[0] for r in conn.execute("SELECT row_id FROM purged")}
    rep.purged = len(purged)
    last: dict[str, tuple[str, str, Any, int]] = {}
    expect_seq, prev = 1, FIRST_PREV
    cur = conn.execute(f"SELECT {', '.join(ENTRY_FIELDS)}, changes, hash FROM audit ORDER BY seq")
    names = [*ENTRY_FIELDS, "changes", "hash"]
    while rows := cur.fetchmany(BATCH):
        for raw in rows:
            e = dict(zip(names, raw, strict=True))
            seq = e["seq"]
            what = f"audit entry #{seq} ({e['action']} of {_name(e['tbl'], e['row_id'])})"
            if seq != expect_seq:
                span = f"#{expect_seq}" if seq == expect_seq + 1 else f"#{expect_seq}–#{seq - 1}"
                rep.problems.append(
                    f"Audit entr{'y' if seq == expect_seq + 1 else 'ies'} {span} "
                    f"{'is' if seq == expect_seq + 1 else 'are'} missing: removed from the chain."
                )
            elif e["prev"] != prev:
                rep.problems.append(
                    f"The chain is broken at {what}: it does not follow entry #{seq - 1} "
                    "(an entry was replaced or reordered)."
                )
            if entry_hash(e) != e["hash"]:
                rep.problems.append(f"The {what} was altered: its hash does not match it.")
            if e["changes"] is None:
                if e["row_id"] not in purged:
                    rep.problems.append(
                        f"The changes recorded in {what} were erased, but that record was "
                        "never purged."
                    )
            elif sha256(e["changes"]) != e["changes_hash"]:
                rep.problems.append(f"The changes recorded in {what} were altered.")
            last[e["row_id"]] = (e["tbl"], e["action"], e["row_hash"], seq)
            prev = e["hash"]
            expect_seq = seq + 1
            rep.entries += 1
    rep.head = prev
    used = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'audit'").fetchone()
    top = used[0] if used else 0
    if top >= expect_seq:
        span = f"#{expect_seq}" if top == expect_seq else f"#{expect_seq}–#{top}"
        rep.problems.append(
            f"The last audit entr{'y' if top == expect_seq else 'ies'} ({span}) "
            f"{'is' if top == expect_seq else 'are'} missing: removed from the end of the chain."
        )
    for rid in purged:
        if rid not in last or last[rid][1] != "purge":
            rep.problems.append(
                f"Record {rid} is listed as purged but the audit has no purge entry for it."
            )
    return last


def _check_rows(
    conn: sqlite3.Connection, rep: Report, last: dict[str, tuple[str, str, Any, int]]
) -> None:
    for table in RECORD_TABLES:
        cur = conn.execute(f"SELECT * FROM {table} ORDER BY rowid")
        names = [d[0] for d in cur.description]
        while rows := cur.fetchmany(BATCH):
            for raw in rows:
                row = dict(zip(names, raw, strict=True))
                rid = row["id"]
                rep.records += 1
                seen = last.pop(rid, None)
                if seen is None:
                    rep.problems.append(
                        f"The {_name(table, rid)} has no audit entry: it was added outside "
                        "fieldlog (or its entry was removed)."
                    )
                elif seen[0] != table:
                    rep.problems.append(
                        f"The {_name(table, rid)} is recorded in the audit as a "
                        f"{NOUN.get(seen[0], seen[0])}: it was moved outside fieldlog."
                    )
                elif seen[1] == "purge":
                    rep.problems.append(
                        f"The {_name(table, rid)} was purged (audit entry #{seen[3]}) but is "
                        "in the log again."
                    )
                elif row_hash(row) != seen[2]:
                    fields = differing_fields(conn, table, row)
                    what = (
                        f"{', '.join(fields)} differ{'s' if len(fields) == 1 else ''}"
                        if fields
                        else "its sync bookkeeping (officer, origin, created_at, updated_at, "
                        "hlc or clocks) differs"
                    )
                    rep.problems.append(
                        f"The {_name(table, rid)} was changed outside fieldlog: {what} from "
                        f"its last audit entry (#{seen[3]})."
                    )
    for rid, (table, action, _h, seq) in sorted(last.items(), key=lambda kv: kv[1][3]):
        if action != "purge":
            rep.problems.append(
                f"The {_name(table, rid)} is missing from the log: its last audit entry "
                f"(#{seq}, {action}) says it exists, so it was deleted outside fieldlog."
            )


def differing_fields(conn: sqlite3.Connection, table: str, row: Mapping[str, Any]) -> list[str]:
    """Which fields of ``row`` differ from what its audit entries recorded (replayed in
    order); empty when only the sync bookkeeping can have changed."""
    expected: dict[str, Any] = {}
    deleted = 0
    for action, text in conn.execute(
        "SELECT action, changes FROM audit WHERE row_id = ? ORDER BY seq", [row["id"]]
    ):
        changes = json.loads(text) if text else {}
        if action in ("genesis", "insert"):
            expected = {k: v for k, v in changes.items() if k not in BOOKKEEPING}
        elif action == "delete":
            deleted = 1
        else:
            expected.update({k: v for k, v in changes.items() if k not in BOOKKEEPING})
            if "deleted" in changes:
                deleted = int(bool(changes["deleted"]))
    names = [k for k in row if k not in BOOKKEEPING and row[k] != expected.get(k)]
    if row.get("deleted") != deleted:
        names.append("deleted")
    return names


# ---------------------------------------------------------------------- history
def find_record(conn: sqlite3.Connection, prefix: str) -> list[tuple[str, str]]:
    """``(table, id)`` of every record, of any type, live, deleted or purged, whose id starts
    with ``prefix`` (already normalised), at most 11."""
    hi = prefix + "g"
    found: dict[str, str] = {}
    for tbl, rid in conn.execute(
        "SELECT DISTINCT tbl, row_id FROM audit WHERE row_id >= ? AND row_id < ? LIMIT 11",
        [prefix, hi],
    ):
        found.setdefault(rid, tbl)
    for table in RECORD_TABLES:
        for (rid,) in conn.execute(
            f"SELECT id FROM {table} WHERE id >= ? AND id < ? LIMIT 11", [prefix, hi]
        ):
            found.setdefault(rid, table)
    return sorted((t, r) for r, t in found.items())[:11]


def history(conn: sqlite3.Connection, table: str, rid: str) -> dict[str, Any]:
    """A record's audit trail, oldest first: each entry with what it set (``changes``) and,
    for updates, what those fields held before (``before``), and whether the row as it is now
    matches its last entry (``current``: ``matches``, ``changed``, ``missing``, ``purged``)."""
    entries: list[dict[str, Any]] = []
    state: dict[str, Any] = {}
    for seq, at, officer, origin, action, text, rh, h in conn.execute(
        "SELECT seq, at, officer, origin, action, changes, row_hash, hash FROM audit "
        "WHERE row_id = ? ORDER BY seq",
        [rid],
    ):
        changes = json.loads(text) if text is not None else None
        entry: dict[str, Any] = {
            "seq": seq,
            "at": at,
            "officer": officer,
            "device": origin,
            "action": action,
            "changes": changes,
            "hash": h,
        }
        if changes is None:
            entry["erased"] = True  # by a purge: the entry's content is gone, its hash is not
        elif action in ("genesis", "insert"):
            state = dict(changes)
        elif action not in ("delete", "purge"):
            entry["before"] = {k: state.get(k) for k in changes}
            state.update(changes)
        entry["_row_hash"] = rh
        entries.append(entry)
    row = _read_row(conn, table, rid)
    if entries and entries[-1]["action"] == "purge":
        current = "purged" if row is None else "changed"
    elif row is None:
        current = "missing"
    elif not entries or row_hash(row) != entries[-1]["_row_hash"]:
        current = "changed"
    else:
        current = "matches"
    for e in entries:
        e.pop("_row_hash")
    return {"table": table, "id": rid, "current": current, "entries": entries}
