"""The audit chain, written: the hashes, and the entries each write of a record appends.

An entry hashes the previous one (``prev``), its record's whole row as committed
(``row_hash``) and the digest of what changed (``changes_hash``): see :mod:`fieldlog.db.audit`
for why. Entries are appended by the store's one write path (the transaction calls
:func:`record` just before COMMIT, its bulk insert :func:`append_inserted`), by migration 0006
(:func:`genesis`), by sync (:func:`append`) and by a retention purge (:func:`purge_entries`),
always inside the caller's transaction. Reading the chain back (verify, history) is
:mod:`fieldlog.db.audit.check`.

On an encrypted log the entry hashes are keyed (HMAC-SHA256 from ``meta.audit_keyed_from``
on: :mod:`fieldlog.db.audit.keyed`); :func:`_next` reads the key with the chain's last entry,
in one statement per transaction. The next seq follows the last entry, never SQLite's
``sqlite_sequence`` (a hint for verify, not a source of truth).

It imports only the standard library (``hashlib``, ``hmac``, ``json``, ``sqlite3``) and the
record registry at module level: it is on the ``fieldlog add`` path.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from json.encoder import encode_basestring
from typing import Any

import fieldlog.db.audit.keyed as keyed
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
# The key of an update's ``changes`` that says where the change came from when it was not
# typed on this laptop (a partner's returned referral sheet: fieldlog.importer.returned). No
# field is spelled with a ``$``; the entry's hash covers it like the values.
SOURCE = "$source"
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


def entry_digest(entry: Mapping[str, Any], key: bytes | None) -> str:
    """An entry's hash as the chain computes it: HMAC-SHA256 under ``key`` (an entry of a
    keyed chain, see :mod:`fieldlog.db.audit.keyed`), else :func:`entry_hash`."""
    if key is None:
        return entry_hash(entry)
    return keyed.hmac_text(key, entry_text(entry))


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
    """The plain (unkeyed) entry hash: SHA-256 of ``canonical()`` of the entry's fields,
    written out by hand (the keys are known and sorted; strings escaped by json's own
    encoder): a third of the cost of a dumps call, on every row of a bulk insert. test_audit
    checks both texts are equal."""
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
_NEXT_SQL = (  # one statement: as cheap as the two it replaced (last entry, sqlite_sequence)
    "SELECT (SELECT max(seq) FROM audit), (SELECT hash FROM audit ORDER BY seq DESC LIMIT 1), "
    f"(SELECT value FROM meta WHERE key = '{keyed.KEY}'), "
    f"(SELECT value FROM meta WHERE key = '{keyed.FROM}')"
)


def _next(conn: sqlite3.Connection) -> tuple[int, str, keyed.Hasher]:
    """The next entry's number, the hash it must follow, and how entries are hashed (SHA-256,
    or HMAC under the log's audit key): one statement, once per transaction.

    The number follows the chain's last entry, never ``sqlite_sequence``: that counter is
    only a hint verify reads (an entry removed from the end leaves it higher), and a value
    planted in it must not stop the log from writing."""
    try:
        seq, prev, key_text, from_text = conn.execute(_NEXT_SQL).fetchone()
    except Exception as exc:  # sqlite3's or sqlcipher3's OperationalError
        if "no such table: meta" in str(exc):  # a bare chain (no settings yet): unkeyed
            seq, prev = conn.execute(_NEXT_SQL.split(", (SELECT value")[0]).fetchone()
            key_text = from_text = None
        elif "no such table" in str(exc):
            raise missing_table() from None
        else:
            raise
    return int(seq or 0) + 1, prev or FIRST_PREV, keyed.hasher(key_text, from_text)


def missing_table() -> Exception:
    """What a write or a read of the chain raises when the audit table is gone."""
    from fieldlog.errors import StorageError

    return StorageError(
        "This log's audit table is missing: its history was removed outside fieldlog, so "
        "nothing more is written to it. Run fieldlog verify, keep this copy for your "
        "supervisor and restore from a backup or a sync remote."
    )


def next_seq(conn: sqlite3.Connection) -> int:
    """The number the next audit entry gets."""
    return _next(conn)[0]


def append_many(conn: sqlite3.Connection, items: Iterable[tuple[Any, ...]]) -> int:
    """:func:`_chain` in one batch, for a writer that computes its entries itself: a
    migration step, and a page of pulled changes (:meth:`fieldlog.db.tx.Tx.audit_remote_page`:
    one chain step for the page instead of one :func:`append` per change). The entries are
    the ones :func:`append` would write, one by one, in the same order."""
    return _chain(conn, items)


def _chain(conn: sqlite3.Connection, items: Iterable[tuple[Any, ...]]) -> int:
    """Append ``(at, officer, origin, tbl, row_id, action, changes, state)`` items, where
    ``changes`` is the canonical text of what was written and ``state`` the row's
    :func:`state_text` (None: the row is gone). Must run inside the caller's write
    transaction; returns how many entries were written."""
    seq, prev, digest = _next(conn)
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
        prev = digest(seq, entry_text(entry))
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


def read_row(conn: sqlite3.Connection, table: str, rid: str) -> dict[str, Any] | None:
    """A record's row as a dict (None when it is not there); refuses a table that is not a
    record table, since ``table`` is spliced into the SQL."""
    if table not in RECORD_TABLES:
        raise ValueError(f"not a record table: {table}")
    cur = conn.execute(f"SELECT * FROM {table} WHERE id = ?", [rid])
    raw = cur.fetchone()
    if raw is None:
        return None
    return {d[0]: v for d, v in zip(cur.description, raw, strict=True)}


def read_rows(
    conn: sqlite3.Connection, table: str, rids: Sequence[str], chunk: int = 500
) -> Iterator[dict[str, Any]]:
    """The rows of ``rids`` in ``table`` (those that are there), as dicts, in one query per
    ``chunk`` ids: :func:`read_row` for a page."""
    if table not in RECORD_TABLES:
        raise ValueError(f"not a record table: {table}")
    for at in range(0, len(rids), chunk):
        part = list(rids[at : at + chunk])
        cur = conn.execute(
            f"SELECT * FROM {table} WHERE id IN ({', '.join('?' * len(part))})", part
        )
        names = [d[0] for d in cur.description]
        for raw in cur.fetchall():
            yield dict(zip(names, raw, strict=True))


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
    row = read_row(conn, table, row_id)
    state = state_text(*row_texts(row)) if row is not None else None
    _chain(conn, [(at, officer, origin, table, row_id, action, canonical(changes or {}), state)])
    return str(conn.execute("SELECT hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()[0])


def record(
    conn: sqlite3.Connection,
    pending: Sequence[tuple[str, str, Sequence[str]] | tuple[str, str, Sequence[str], str | None]],
    *,
    officer: str,
    origin: str,
    at: str,
) -> int:
    """The entries of one store transaction: ``pending`` holds ``(table, id, fields)`` as
    the transaction logged its writes (``["*"]`` an insert, ``["deleted"]`` a tombstone, else
    the fields an update changed), and optionally a fourth item, the update's source (kept
    as :data:`SOURCE` in its ``changes``). Called by the transaction just before COMMIT, so
    each entry hashes the row as committed."""

    def items() -> Iterator[tuple[Any, ...]]:
        for item in pending:
            table, rid, fields = item[0], item[1], item[2]
            source = item[3] if len(item) > 3 else None
            row = read_row(conn, table, rid)
            if row is None:  # written and gone in one transaction: nothing to hash
                book, values, state = "", "{}", None
            else:
                book, values = row_texts(row)
                state = state_text(book, values)
            if list(fields) == ["*"]:
                action, text = "insert", values
            elif list(fields) == ["deleted"] and (row is None or row["deleted"]):
                action, text = "delete", canonical({"deleted": 1})  # a restore is an update
            else:
                action = "update"
                changes = {f: (row or {}).get(f) for f in fields}
                if source:
                    changes[SOURCE] = source
                text = canonical(changes)
            yield at, officer, origin, table, rid, action, text, state

    return _chain(conn, items())


def append_inserted(
    conn: sqlite3.Connection, table: str, after_rowid: int, *, officer: str, origin: str, at: str
) -> int:
    """Entries for every row of ``table`` past ``after_rowid``: what the transaction's bulk
    insert (demo data) wrote, read back in one ordered scan."""
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
    present = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    n = 0
    for table in RECORD_TABLES:
        if table not in present:  # a record type a later migration adds: no rows to stamp
            continue
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
