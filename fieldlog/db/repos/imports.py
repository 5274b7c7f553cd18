"""Writing an import (``store.imports``): one transaction for the whole import (all of it or
none), written batch by batch as the file is read, through the one write path
(:meth:`fieldlog.db.tx.Tx.insert_many` for new records, :meth:`fieldlog.db.tx.Tx.import_row`
for the records a newer file updates).

fieldlog's importer reads and checks the file in batches, cleaning each contact line with
``store.entries.clean`` (the entry rule), and hands each batch's writes to
:class:`ImportWriter`; the writer also answers what the checks ask of the log as the import
has written it so far (is this id here, was it written by this import). Nothing here grows
with the file: the rows are in SQLite (on disk, in the open transaction), not in Python.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from typing import TYPE_CHECKING, Any

from fieldlog import records

if TYPE_CHECKING:
    from fieldlog.db.store import Store
    from fieldlog.db.tx import Tx

CHUNK = 500  # ids per IN (...) query
CACHE_KIB = 65536  # SQLite's page cache while importing: 64 MB, so memory stays bounded


class _Undo(Exception):
    """Raised inside the transaction to roll it back (a dry run, or bad rows)."""


class ImportWriter:
    """The import's open transaction: lookups for the checks, and the writes of each batch."""

    def __init__(self, tx: Tx) -> None:
        self.tx = tx
        self.conn = tx.conn
        self.start_seq = int(
            self.conn.execute("SELECT coalesce(max(seq), 0) FROM changes").fetchone()[0]
        )
        self.keep = True  # False: roll back at the end
        self.counts = {"inserted": 0, "updated": 0, "conflicts": 0}

    def _chunks(self, rids: Sequence[str]) -> Iterator[list[str]]:
        unique = list(dict.fromkeys(r for r in rids if r))
        for i in range(0, len(unique), CHUNK):
            yield unique[i : i + CHUNK]

    def present(self, table: str, rids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The rows of ``table`` among ``rids`` (id -> row), as this import sees the log."""
        _check(table)
        found: dict[str, dict[str, Any]] = {}
        for chunk in self._chunks(rids):
            cur = self.conn.execute(
                f"SELECT * FROM {table} WHERE id IN ({', '.join('?' * len(chunk))})", chunk
            )
            names = [d[0] for d in cur.description]
            for raw in cur:
                row = dict(zip(names, raw, strict=True))
                found[row["id"]] = row
        return found

    def exists(self, table: str, rids: Sequence[str]) -> set[str]:
        """Those of ``rids`` that are rows of ``table`` (deleted ones too)."""
        _check(table)
        return self._ids_in(f"SELECT id FROM {table} WHERE id IN ", rids)

    def imported(self, table: str, rids: Sequence[str]) -> set[str]:
        """Those of ``rids`` this import has written already (the outbox rows it added)."""
        _check(table)
        return self._ids_in(
            "SELECT DISTINCT row_id FROM changes WHERE seq > ? AND tbl = ? AND row_id IN ",
            rids,
            [self.start_seq, table],
        )

    def _ids_in(self, sql: str, rids: Sequence[str], params: Sequence[Any] = ()) -> set[str]:
        """The first column of ``sql`` (ending in ``IN ``) over ``rids``, a chunk at a time;
        ``params`` bind before the ids."""
        found: set[str] = set()
        for chunk in self._chunks(rids):
            cur = self.conn.execute(f"{sql}({', '.join('?' * len(chunk))})", [*params, *chunk])
            found.update(r[0] for r in cur)
        return found

    def write(
        self,
        writes: Sequence[tuple[str, str, Mapping[str, Any]]],
        conflicts: Sequence[Mapping[str, Any]] = (),
    ) -> None:
        """One batch: ``(action, table, row)`` writes (``insert``: a new record keeping its
        id, officer, created_at and updated_at; ``update``: the fields a newer file changes),
        parents first, and the conflicts the checks found (the losing value of each field
        where the file and the log differ; one already kept is not kept twice)."""
        tx = self.tx
        order = {t: i for i, t in enumerate(records.in_sync_order())}
        inserts: dict[tuple[str, tuple[str, ...]], list[Mapping[str, Any]]] = {}
        for action, table, row in writes:
            if action == "insert":
                fields = tuple(f for f in records.TABLE_FIELDS[table] if f in row)
                inserts.setdefault((table, fields), []).append(row)
        for (table, fields), rows in sorted(inserts.items(), key=lambda kv: order[kv[0][0]]):
            self.counts["inserted"] += tx.insert_many(table, (self._new(r, fields) for r in rows))
        for action, table, row in writes:
            if action == "update":
                tx.import_row("update", table, row)
                self.counts["updated"] += 1
        for c in conflicts:
            if self.conn.execute(
                "SELECT 1 FROM conflicts WHERE tbl = ? AND row_id = ? AND field = ? AND "
                "theirs IS ? AND mine IS ?",
                [c["tbl"], c["row_id"], c["field"], c["theirs"], c["mine"]],
            ).fetchone():
                continue
            tx.keep_conflict(
                c["tbl"],
                c["row_id"],
                c["field"],
                mine=c["mine"],
                theirs=c["theirs"],
                kept=c["kept"],
                mine_hlc=c.get("mine_hlc"),
                theirs_officer=c.get("theirs_officer"),
            )
            self.counts["conflicts"] += 1
        # The audit entries of the updates so far: chained now, so the list of pending
        # entries does not grow with the file (inserts chain theirs in insert_many).
        tx.finish()

    def _new(self, row: Mapping[str, Any], fields: Sequence[str]) -> dict[str, Any]:
        """A new record's full row: the sync columns the transaction stamps (origin, clock,
        outbox), with the file's id, officer, created_at and updated_at."""
        new = self.tx.new_row(row["id"], at=row.get("created_at"))
        if row.get("updated_at"):
            new["updated_at"] = row["updated_at"]
        if row.get("officer"):
            new["officer"] = row["officer"]
        return {**new, **{f: row[f] for f in fields}}


def _check(table: str) -> None:
    if table not in records.TABLE_FIELDS:
        raise ValueError(table)


class Imports:
    def __init__(self, store: Store) -> None:
        self.store = store

    @contextmanager
    def session(self, *, bulk: bool = False) -> Iterator[ImportWriter]:
        """The import's one transaction. Commits when the block ends with ``writer.keep``
        true, rolls back otherwise (a dry run, bad rows) or on any error. ``bulk``: a big
        file, whose new records are indexed for search in one statement at the end."""
        tables = list(records.in_sync_order())
        conn = self.store.conn
        try:
            with self.store.write() as tx:
                writer = ImportWriter(tx)
                # An import of any size keeps SQLite's page cache at CACHE_KIB (pages beyond
                # it spill to the file).
                conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
                with tx.bulk_index(tables, cache_kib=CACHE_KIB) if bulk else nullcontext():
                    yield writer
                    if not writer.keep:
                        raise _Undo  # before the search index is built: nothing to keep
        except _Undo:
            pass
        finally:
            conn.execute("PRAGMA cache_size = -2000")
