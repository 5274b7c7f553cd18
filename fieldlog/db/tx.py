"""The one write path: a transaction of the local log, and everything that writes a record.

:class:`Tx` is the only code in fieldlog that inserts, updates or tombstones a row of a record
table, stamps it with the device's hybrid logical clock (the row's ``hlc`` and per-field
``clocks``), appends it to the ``changes`` outbox that sync pushes from, and queues its entry
in the audit chain. Single writes (:meth:`Tx.insert`, :meth:`Tx.update`, :meth:`Tx.tombstone`)
and bulk ones (:meth:`Tx.insert_many` for demo data, :meth:`Tx.import_row` for an import,
:meth:`Tx.apply_remote` for a pulled change) share that bookkeeping; none has a copy of it.

A ``Tx`` comes from :meth:`fieldlog.db.store.Store.write`, which runs it in one
``BEGIN IMMEDIATE`` ... ``COMMIT`` and calls :meth:`Tx.finish` just before the commit. The
search index follows through triggers (or :meth:`Tx.bulk_index` for a big load). The two
deliberate exceptions are the schema migrations and the retention purge (physical removal of
rows every remote already holds: :mod:`fieldlog.db.retention`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fieldlog import dates, ids, records, review
from fieldlog.clock import HLC, format_stamp
from fieldlog.db import audit
from fieldlog.errors import NotFoundError

if TYPE_CHECKING:
    from fieldlog.db.store import Store
    from fieldlog.merge import Merge


# New rows of one table in a pulled page from which the search index is filled in one
# statement (Tx.bulk_index) rather than by the per-row trigger.
BULK_INDEX_AT = 200


@dataclass
class RemoteWrite:
    """One pulled change that wrote, as a page applies it (:meth:`Tx.apply_remote_page`):
    the record, the audit action and changes (:meth:`Tx.remote_row`), the row it left, and
    who the audit entry names (officer, device)."""

    table: str
    rid: str
    action: str
    changes: dict[str, Any]
    row: dict[str, Any]
    officer: str
    origin: str


def enc(field: str, value: Any) -> Any:
    """A value as its column stores it: list fields as JSON text."""
    if field in records.LIST_FIELDS:
        return json.dumps(value or [])
    return value


class Tx:
    """What a write transaction can do; it stamps every change with the device clock."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.conn = store.conn
        meta = {
            r[0]: r[1]
            for r in self.conn.execute(
                "SELECT key, value FROM meta WHERE key IN ('device_id', 'hlc', 'officer')"
            )
        }
        self.origin = meta.get("device_id") or ""
        if not self.origin:
            self.origin = ids.uuid7_hex()[-12:]
            self.set_meta("device_id", self.origin)
        try:
            self.clock = HLC.from_stamp(self.origin, meta.get("hlc"))
        except (ValueError, TypeError):
            from fieldlog.errors import StorageError

            raise StorageError(
                "This log's clock (meta 'hlc') is damaged, so nothing can be written to it: "
                "run fieldlog verify, and restore from a backup or a sync remote."
            ) from None
        self.officer = meta.get("officer") or store.officer()
        self.now = dates.stamp_now()
        self.last_stamp: str | None = None
        # (table, id, fields, source) of each record write, for the audit chain at commit.
        self.audited: list[tuple[str, str, list[str], str | None]] = []

    # ------------------------------------------------------------------ clock, meta
    def tick(self) -> str:
        """A fresh stamp for a local change."""
        self.last_stamp = self.clock.tick()
        return self.last_stamp

    def observe(self, stamp: str) -> None:
        """Move the device clock past a stamp pulled from elsewhere (kept at commit)."""
        self.clock.observe(stamp)
        self.last_stamp = format_stamp(self.clock.wall_ms, self.clock.counter, self.origin)

    def finish(self) -> None:
        """Just before COMMIT: keep the clock, and chain the audit entries of every write."""
        if self.last_stamp:
            self.set_meta("hlc", self.last_stamp)
        if self.audited:  # after every change of the transaction: entries hash committed rows
            audit.record(
                self.conn, self.audited, officer=self.officer, origin=self.origin, at=self.now
            )
            self.audited = []

    def set_meta(self, key: str, value: str | None) -> None:
        self.conn.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [key, value],
        )

    def delete_meta(self, key: str) -> None:
        self.conn.execute("DELETE FROM meta WHERE key = ?", [key])

    # ------------------------------------------------------------------ one record
    def insert(self, table: str, values: Mapping[str, Any], *, rid: str | None = None) -> str:
        """A new record of ``table`` written by this device; returns its id."""
        return self._insert(table, values, rid=rid)

    def _insert(
        self,
        table: str,
        values: Mapping[str, Any],
        *,
        rid: str | None = None,
        created_at: str | None = None,
        updated_at: str | None = None,
        officer: str | None = None,
    ) -> str:
        stamp = self.tick()
        rid = rid or ids.uuid7_hex()
        row = {
            "id": rid,
            "created_at": created_at or self.now,
            "updated_at": updated_at or self.now,
            "officer": officer or self.officer,
            "origin": self.origin,
            "hlc": stamp,
            "deleted": 0,
            "clocks": json.dumps({"*": stamp}),
            **{k: enc(k, v) for k, v in values.items()},
        }
        self._insert_row(table, row)
        self._log(table, rid, stamp, ["*"])
        return rid

    def update(
        self, table: str, rid: str, values: Mapping[str, Any], *, source: str | None = None
    ) -> list[str]:
        """Change the fields that differ; returns their names (none: nothing is written).

        An edit of a contact's content sends it back for review (``review_status``
        ``submitted``: :func:`fieldlog.review.resubmitted`), whichever command made it.
        ``source``: where the change came from when not typed here (``partner sheet: Parks
        Dept (referrals.xlsx)``), kept in its audit entry (:data:`fieldlog.db.audit.SOURCE`)."""
        cur = self.conn.execute(f"SELECT * FROM {table} WHERE id = ?", [rid])
        raw = cur.fetchone()
        if raw is None:
            raise NotFoundError(f"No {records.NOUN[table]} has the id {rid}.")
        current = {d[0]: v for d, v in zip(cur.description, raw, strict=True)}
        changed = {k: enc(k, v) for k, v in values.items() if enc(k, v) != current[k]}
        if not changed:
            return []
        if table == review.TABLE:
            changed.update(review.resubmitted(values, current, changed))
        stamp = self.tick()
        clocks = json.loads(current["clocks"] or "{}")
        for k in changed:
            clocks[k] = stamp
        sets = ", ".join(f"{k} = ?" for k in changed)
        self.conn.execute(
            f"UPDATE {table} SET {sets}, updated_at = ?, hlc = ?, clocks = ? WHERE id = ?",
            [*changed.values(), self.now, stamp, json.dumps(clocks), rid],
        )
        self._log(table, rid, stamp, list(changed), source)
        return list(changed)

    def tombstone(self, table: str, rid: str) -> None:
        """Delete a record the way sync carries it: ``deleted = 1``, stamped."""
        stamp = self.tick()
        clocks = json.loads(
            self.conn.execute(f"SELECT clocks FROM {table} WHERE id = ?", [rid]).fetchone()[0]
        )
        clocks["deleted"] = stamp
        self.conn.execute(
            f"UPDATE {table} SET deleted = 1, updated_at = ?, hlc = ?, clocks = ? WHERE id = ?",
            [self.now, stamp, json.dumps(clocks), rid],
        )
        self._log(table, rid, stamp, ["deleted"])

    def _insert_row(self, table: str, row: Mapping[str, Any]) -> None:
        self.conn.execute(
            f"INSERT INTO {table} ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
            list(row.values()),
        )

    def _log(
        self, table: str, rid: str, stamp: str, fields: list[str], source: str | None = None
    ) -> None:
        """The outbox row sync pushes, and the audit entry written at commit."""
        self.conn.execute(
            "INSERT INTO changes (tbl, row_id, hlc, fields) VALUES (?, ?, ?, ?)",
            [table, rid, stamp, ",".join(fields)],
        )
        self.audited.append((table, rid, list(fields), source))

    def resend(self, table: str, rid: str, fields: Sequence[str]) -> bool:
        """Queue a record's last change again under a new outbox number: the store holds a
        row planted under the old one, so the change never reached it. The record itself does
        not change (no audit entry: nothing was written). False when the record is gone."""
        if table not in records.TABLES:
            raise ValueError(f"not a record table: {table}")
        cur = self.conn.execute(
            f"INSERT INTO changes (tbl, row_id, hlc, fields) SELECT ?, id, hlc, ? FROM {table} "
            "WHERE id = ?",
            [table, ",".join(fields), rid],
        )
        return cur.rowcount > 0

    # ------------------------------------------------------------------ bulk: demo
    def insert_many(self, table: str, rows: Iterable[Mapping[str, Any]]) -> int:
        """Insert fully formed rows (sync columns included, stamped with :meth:`tick`): one
        ``executemany`` for the rows, one for their outbox rows, and their audit entries read
        back in one scan. Returns how many rows went in."""
        n = 0
        cols: list[str] | None = None
        batch: list[tuple] = []
        changes: list[tuple] = []
        mark = self._max_rowid(table)  # for the audit
        for row in rows:
            if cols is None:
                cols = list(row)
            batch.append(tuple(enc(c, row[c]) for c in cols))
            changes.append((table, row["id"], row["hlc"], "*"))
            n += 1
        if cols:
            self.conn.executemany(
                f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                batch,
            )
            self.conn.executemany(
                "INSERT INTO changes (tbl, row_id, hlc, fields) VALUES (?, ?, ?, ?)", changes
            )
            audit.append_inserted(
                self.conn,
                table,
                mark,
                officer=self.store.officer(),
                origin=self.store.scalar("SELECT value FROM meta WHERE key = 'device_id'") or "",
                at=dates.stamp_now(),
            )
        return n

    def new_row(self, rid: str, *, at: str | None = None) -> dict[str, Any]:
        """The sync columns of a record made in bulk (for :meth:`insert_many`), stamped now."""
        stamp = self.tick()
        at = at or self.now
        return {
            "id": rid, "created_at": at, "updated_at": at, "officer": self.officer,
            "origin": self.origin, "hlc": stamp, "deleted": 0,
            "clocks": json.dumps({"*": stamp}),
        }  # fmt: skip

    @contextmanager
    def bulk_index(self, tables: Sequence[str], cache_kib: int = 262144) -> Iterator[None]:
        """Suspend the per-row search triggers of ``tables`` and index the new rows in one
        statement at the end (15x faster for 100,000 rows). SQLite's page cache is
        ``cache_kib`` meanwhile (256 MB by default), and back to its default afterwards, also
        after an error.

        The triggers are dropped and re-created from their own stored SQL inside this
        transaction, so other connections never see them missing and a rollback restores them.
        """
        saved = []
        marks = {}
        tables = [t for t in tables if t in records.FTS_COLUMNS]  # a table with no index: none
        self.conn.execute(f"PRAGMA cache_size = -{cache_kib}")  # a big cache while loading
        for table in tables:
            marks[table] = self._max_rowid(table)
            for name, sql in self.conn.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ? "
                "AND name = ?",
                [table, f"{table}_ai"],
            ).fetchall():
                saved.append(sql)
                self.conn.execute(f"DROP TRIGGER {name}")
        try:
            yield
            for table in tables:
                cols = ", ".join(records.FTS_COLUMNS[table])
                self.conn.execute(
                    f"INSERT INTO {table}_fts (rowid, {cols}) SELECT rowid, {cols} FROM {table} "
                    "WHERE rowid > ? AND deleted = 0",
                    [marks[table]],
                )
            for sql in saved:
                self.conn.execute(sql)
        finally:
            self.conn.execute("PRAGMA cache_size = -2000")  # back to SQLite's default

    def _max_rowid(self, table: str) -> int:
        return int(self.conn.execute(f"SELECT coalesce(max(rowid), 0) FROM {table}").fetchone()[0])

    max_rowid = _max_rowid

    # ------------------------------------------------------------------ bulk: a snapshot
    def insert_loaded(
        self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
    ) -> None:
        """Rows that came whole from a store's snapshot (:mod:`fieldlog.db.bootstrap`), as
        they are: their own clocks, officer and device. Not in the outbox (they are the
        store's already); :meth:`audit_loaded` gives them their audit entries."""
        self.conn.executemany(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
            rows,
        )

    def audit_loaded(self, table: str, after_rowid: int, at: str, action: str) -> int:
        """One ``action`` (``bootstrap``) audit entry per row of ``table`` past
        ``after_rowid``, chained in one batch: the row as committed, who wrote it and on
        which device."""
        cur = self.conn.execute(
            f"SELECT * FROM {table} WHERE rowid > ? ORDER BY rowid", [after_rowid]
        )
        names = [d[0] for d in cur.description]

        def items() -> Iterator[tuple[Any, ...]]:
            while rows := cur.fetchmany(2000):
                for raw in rows:
                    r = dict(zip(names, raw, strict=True))
                    book, values = audit.row_texts(r)
                    yield (at, r["officer"], r["origin"], table, r["id"], action, values,
                           audit.state_text(book, values))  # fmt: skip

        return audit.append_many(self.conn, list(items()))

    # ------------------------------------------------------------------ bulk: import
    def import_row(self, action: str, table: str, row: Mapping[str, Any]) -> str:
        """Write one imported record: ``"insert"`` adds it with this device's origin, a fresh
        stamp and ``clocks {"*": stamp}`` (``id``, ``officer``, ``created_at`` and
        ``updated_at`` kept when given); ``"update"`` changes the domain fields that differ and
        then takes ``updated_at`` from the row. Both go to the outbox like typed writes.
        Returns ``"inserted"`` or ``"updated"``."""
        values = {f: row[f] for f in records.TABLE_FIELDS[table] if f in row}
        if action == "insert":
            self._insert(
                table,
                values,
                rid=row.get("id"),
                created_at=row.get("created_at"),
                updated_at=row.get("updated_at"),
                officer=row.get("officer"),
            )
            return "inserted"
        if action == "update":
            changed = self.update(table, row["id"], values)
            if changed and row.get("updated_at"):
                self.conn.execute(
                    f"UPDATE {table} SET updated_at = ? WHERE id = ?",
                    [row["updated_at"], row["id"]],
                )
            return "updated"
        raise ValueError(action)

    # ------------------------------------------------------------------ bulk: sync
    def remote_row(
        self,
        table: str,
        rid: str,
        result: Merge,
        body: Mapping[str, Any],
        local: Mapping[str, Any] | None,
        *,
        officer: str | None = None,
    ) -> RemoteWrite | None:
        """What a merged pulled change (:func:`fieldlog.merge.merge`) does to the local row
        ``local`` (None: not here yet), computed, not written: the audit action
        (``insert``/``update``), what the entry records as changed, the whole row afterwards,
        and who the entry names (``officer``, else the change's own). None when nothing is
        written. A pulled write keeps its origin's officer, device and stamps; ``updated_at``
        only ever moves forward (a change that brings nothing new still moves it: an
        ``update`` with no changes)."""
        out = self._remote_row(rid, result, body, local)
        if out is None:
            return None
        who = officer if officer is not None else str(body.get("officer") or "")
        return RemoteWrite(table, rid, out[0], out[1], out[2], who, str(body.get("origin") or ""))

    def _remote_row(
        self,
        rid: str,
        result: Merge,
        body: Mapping[str, Any],
        local: Mapping[str, Any] | None,
    ) -> tuple[str, dict[str, Any], dict[str, Any]] | None:
        if result.action == "insert":
            row = {
                "id": rid,
                "created_at": body["created_at"],
                "updated_at": body["updated_at"],
                "officer": body["officer"],
                "origin": body["origin"],
                "hlc": max(result.clocks.values()),
                "clocks": json.dumps(result.clocks, sort_keys=True),
                **result.values,
            }
            return "insert", dict(result.values), row
        if result.action == "update":
            after = dict(local or {})
            after.update(result.values)
            after["clocks"] = json.dumps(result.clocks, sort_keys=True)
            after["hlc"] = max(result.clocks.values())
            if body["updated_at"] > (local or {}).get("updated_at", ""):
                after["updated_at"] = body["updated_at"]
            return "update", dict(result.values), after
        # nothing new here; keep updated_at the newest either side has seen
        if local is not None and body["updated_at"] > (local.get("updated_at") or ""):
            return "update", {}, {**local, "updated_at": body["updated_at"]}
        return None

    def apply_remote(
        self,
        table: str,
        rid: str,
        result: Merge,
        body: Mapping[str, Any],
        local: Mapping[str, Any] | None,
        newest: str,
        *,
        officer: str | None = None,
    ) -> bool:
        """Write the outcome of merging one pulled change (:meth:`remote_row`) into the
        local row ``local``: it goes into the audit chain as ``sync insert``/``sync update``,
        and never into the outbox (it came from there). The device clock observes ``newest``
        (the change's newest stamp) when something was applied. Returns True then; False
        when the change brought nothing new (``updated_at`` still moves forward). A page of
        changes goes through :meth:`apply_remote_page` instead (the same rows, batched).

        ``officer``: who the audit entry names (the officer the department enrolled the
        pushing device for); by default the change's own ``officer``, which only says what the
        store claims. The record keeps the change's officer either way (who wrote it)."""
        out = self._remote_row(rid, result, body, local)
        if out is not None:
            action, changes, row = out
            if local is None:
                self._insert_row(table, row)
            else:
                sets = {k: v for k, v in row.items() if k not in local or local[k] != v}
                if action == "update" and changes:  # as before: the merged fields rewritten
                    sets.update({k: row[k] for k in changes})
                if sets:
                    self.conn.execute(
                        f"UPDATE {table} SET {', '.join(f'{k} = ?' for k in sets)} WHERE id = ?",
                        [*sets.values(), rid],
                    )
            self._audit_pulled(table, rid, action, changes, body, officer)
        if result.action not in ("insert", "update"):
            return False
        self.observe(newest)
        return True

    def apply_remote_page(
        self, loaded: Mapping[str, Mapping[str, Mapping[str, Any]]], writes: Sequence[RemoteWrite]
    ) -> None:
        """Write the rows a page of pulled changes left (:meth:`remote_row`, merged in order
        by :mod:`fieldlog.db.pull`): per table one ``executemany`` for the new rows (per set
        of columns: a change of an older fieldlog lacks the fields added since) and one for
        the updated ones (the columns any of them changed). ``loaded``: the rows as they stood
        before the page (table -> id -> row), read in one query per table; ``writes``: every
        change that wrote, in page order (a record changed twice is written once, as it
        ends). The audit entries follow with :meth:`audit_remote_page`."""
        last: dict[str, dict[str, Mapping[str, Any]]] = {}
        for w in writes:
            last.setdefault(w.table, {})[w.rid] = w.row
        for table, rows in last.items():
            before = loaded.get(table, {})
            inserts: dict[tuple[str, ...], list[tuple[Any, ...]]] = {}
            updated: list[tuple[Mapping[str, Any], Mapping[str, Any]]] = []
            cols: dict[str, None] = {}
            for rid, row in rows.items():
                old = before.get(rid)
                if old is None:
                    inserts.setdefault(tuple(row), []).append(tuple(row.values()))
                    continue
                for k, v in row.items():
                    if k != "id" and (k not in old or old[k] != v):
                        cols[k] = None
                updated.append((old, row))
            new = sum(len(b) for b in inserts.values())
            with (
                self.bulk_index([table], cache_kib=2000)  # the index in one statement
                if new >= BULK_INDEX_AT and table in records.FTS_COLUMNS
                else nullcontext()
            ):
                for names, batch in inserts.items():
                    self.conn.executemany(
                        f"INSERT INTO {table} ({', '.join(names)}) "
                        f"VALUES ({', '.join('?' * len(names))})",
                        batch,
                    )
            if cols and updated:
                self.conn.executemany(
                    f"UPDATE {table} SET {', '.join(f'{k} = ?' for k in cols)} WHERE id = ?",
                    [(*(row.get(k, old.get(k)) for k in cols), row["id"]) for old, row in updated],
                )

    def audit_remote_page(self, writes: Sequence[RemoteWrite]) -> int:
        """The audit entries of a page written by :meth:`apply_remote_page`, one per change
        that wrote, chained in one batch (:func:`fieldlog.db.audit.append_many`). The last
        entry of each record hashes its row as committed, read back in one query per table
        (what SQLite stored, whatever the Python values were); an earlier entry of a record
        changed twice in the page hashes the row as that change left it."""
        final: dict[str, dict[str, str]] = {}
        ids: dict[str, list[str]] = {}
        for w in writes:
            ids.setdefault(w.table, []).append(w.rid)
        for table, rids in ids.items():
            final[table] = {
                row["id"]: audit.state_text(*audit.row_texts(row))
                for row in audit.read_rows(self.conn, table, list(dict.fromkeys(rids)))
            }
        remaining: dict[tuple[str, str], int] = {}
        for w in writes:
            remaining[(w.table, w.rid)] = remaining.get((w.table, w.rid), 0) + 1

        def items() -> Iterator[tuple[Any, ...]]:
            for w in writes:
                key = (w.table, w.rid)
                remaining[key] -= 1
                if remaining[key]:
                    state: str | None = audit.state_text(*audit.row_texts(w.row))
                else:
                    state = final[w.table].get(w.rid)
                yield (
                    self.now, w.officer, w.origin, w.table, w.rid, f"sync {w.action}",
                    audit.canonical(w.changes), state,
                )  # fmt: skip

        return audit.append_many(self.conn, items())

    def keep_conflict(
        self,
        table: str,
        rid: str,
        field: str,
        *,
        mine: str | None,
        theirs: str | None,
        kept: str,
        mine_hlc: str | None = None,
        theirs_hlc: str | None = None,
        theirs_officer: str | None = None,
    ) -> None:
        """Keep the losing value of a field both sides changed (a pulled change, or a newer
        import file) in ``conflicts``, for the officer to review. ``mine``/``theirs``: the
        values as JSON text; ``kept``: ``"mine"`` or ``"theirs"``."""
        self.conn.execute(
            "INSERT INTO conflicts (tbl, row_id, field, mine, theirs, kept, mine_hlc, "
            "theirs_hlc, theirs_officer, found_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [table, rid, field, mine, theirs, kept, mine_hlc, theirs_hlc, theirs_officer,
             self.now],
        )  # fmt: skip

    def keep_conflicts(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """:meth:`keep_conflict` for many (a pulled page): one ``executemany``. Each row holds
        ``tbl``, ``row_id``, ``field``, ``mine``, ``theirs``, ``kept``, ``mine_hlc``,
        ``theirs_hlc`` and ``theirs_officer``."""
        if rows:
            self.conn.executemany(
                "INSERT INTO conflicts (tbl, row_id, field, mine, theirs, kept, mine_hlc, "
                "theirs_hlc, theirs_officer, found_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(r["tbl"], r["row_id"], r["field"], r["mine"], r["theirs"], r["kept"],
                  r["mine_hlc"], r["theirs_hlc"], r["theirs_officer"], self.now)
                 for r in rows],
            )  # fmt: skip

    def _audit_pulled(
        self,
        table: str,
        rid: str,
        action: str,
        values: Mapping[str, Any],
        body: Mapping,
        officer: str | None = None,
    ) -> None:
        """Pulled writes go into the audit chain like typed ones: who wrote the change (its
        officer and device), and the row as it now stands."""
        audit.append(
            self.conn,
            table=table,
            row_id=rid,
            action=f"sync {action}",
            changes=dict(values),
            officer=officer if officer is not None else str(body.get("officer") or ""),
            origin=str(body.get("origin") or ""),
            at=self.now,
        )
