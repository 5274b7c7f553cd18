"""The log's side of sync (``store.sync``): remotes, cursors, the outbox, applying pulled
changes; and the conflicts they leave for the officer (``store.conflicts``).

The merge rules are :mod:`fieldlog.merge`; a merged change is written by the one write path
(:meth:`fieldlog.db.tx.Tx.apply_remote`). This module reads the outbox and keeps the sync
bookkeeping of its own tables (``sync_held``, ``conflicts``) and meta keys.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from fieldlog import dates, ids, merge, records
from fieldlog.db.repos.base import Rows
from fieldlog.errors import NotFoundError, ValidationError

if TYPE_CHECKING:
    from fieldlog.db.remotes.types import OutChange, Remote, RemoteChange
    from fieldlog.db.store import Store
    from fieldlog.db.tx import Tx

REMOTE_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789-_.")
REMOTE_PREFIX = "remote:"
PENDING_CAP = 10_000  # the status line counts unsynced changes up to this many


def _body_sql(tbl: str) -> str:
    values = ", ".join(f"'{f}', {f}" for f in (*records.TABLE_FIELDS[tbl], "deleted"))
    return (
        f"SELECT id, hlc, json_object('officer', officer, 'origin', origin, "
        f"'created_at', created_at, 'updated_at', updated_at, "
        f"'values', json_object({values}), 'clocks', json(clocks)) FROM {tbl}"
    )


class SyncLog:
    def __init__(self, store: Store) -> None:
        self.store = store

    # ------------------------------------------------------------------ remotes
    def remotes(self) -> dict[str, str]:
        rows = self.store.query(
            "SELECT key, value FROM meta WHERE key LIKE 'remote:%' ORDER BY key"
        )
        return {r["key"].removeprefix(REMOTE_PREFIX): r["value"] for r in rows}

    def add_remote(self, name: str, url: str) -> None:
        name = name.strip().lower()
        if not name or set(name) - REMOTE_NAME_CHARS:
            raise ValidationError(
                "name", f"'{name}' is not a remote name: use letters, digits, '-', '_' or '.'."
            )
        url = url.strip()
        if not url:
            raise ValidationError("url", "Give the remote's path or postgresql:// URL.")
        if name in self.remotes():
            raise ValidationError(
                "name",
                f"A remote called '{name}' exists already: remove it first "
                f"(fieldlog remote remove {name}) or pick another name.",
            )
        with self.store.write() as tx:
            tx.set_meta(f"{REMOTE_PREFIX}{name}", url)

    def remove_remote(self, name: str) -> None:
        name = name.strip().lower()
        if name not in self.remotes():
            raise NotFoundError(f"No remote is called '{name}': fieldlog remote list shows them.")
        with self.store.write() as tx:
            tx.delete_meta(f"{REMOTE_PREFIX}{name}")

    # ------------------------------------------------------------------ cursors
    def cursors(self, store_id: str) -> tuple[int, int]:
        """(pulled, pushed): the remote seq pulled up to, the outbox seq pushed up to."""
        meta = self.store.meta()
        return (
            int(meta.get(f"sync:{store_id}:pulled") or 0),
            int(meta.get(f"sync:{store_id}:pushed") or 0),
        )

    def set_pushed(self, store_id: str, seq: int) -> None:
        with self.store.write() as tx:
            tx.set_meta(f"sync:{store_id}:pushed", str(seq))

    def done(self, store_id: str) -> None:
        with self.store.write() as tx:
            tx.set_meta("last_sync", dates.stamp_now())

    def outbox_count(self, after: int) -> int:
        return int(self.store.scalar("SELECT count(*) FROM changes WHERE seq > ?", [after]) or 0)

    def pushed(self) -> int:
        """The outbox sequence pushed up to by the latest push to any remote (0: never).

        The most advanced cursor, not the least: a remote synced once and since removed
        would otherwise keep every later change "waiting" forever (the log does not keep
        which store id a remote name had)."""
        cursors = [
            int(value or 0)
            for key, value in self.store.meta().items()
            if key.startswith("sync:") and key.endswith(":pushed")
        ]
        return max(cursors, default=0)

    def pending(self, cap: int = PENDING_CAP) -> int:
        """The changes made here and not pushed yet (what the status line shows), counted
        up to ``cap``: a result of ``cap`` means that many or more. The count walks the
        outbox's primary key from the push cursor and stops at ``cap``, so it costs the
        same on a never-synced 100,000-contact log as on a fresh one."""
        return int(
            self.store.scalar(
                "SELECT count(*) FROM (SELECT 1 FROM changes WHERE seq > ? LIMIT ?)",
                [self.pushed(), cap],
            )
            or 0
        )

    def check_origin(self, store_id: str, remote: Remote, page: int) -> bool:
        """Before pushing: has the remote seen this device's changes beyond our push cursor?

        After a push that committed on the remote but was killed before the laptop moved its
        cursor, the remote holds exactly our next outbox rows: move the cursor. Otherwise
        another copy of this log (a restored backup, a cloned laptop) pushed under our device
        id: mint a new one, or our edits would be ignored as duplicates. Returns True then."""
        origin = self.store.device_id()
        _, pushed = self.cursors(store_id)
        theirs = remote.origin_changes(origin, pushed, page + 1)
        if not theirs:
            return False
        mine = self.store.conn.execute(
            "SELECT seq, row_id FROM changes WHERE seq > ? ORDER BY seq LIMIT ?",
            [pushed, 4 * page + 1],
        ).fetchall()
        mine_rows = {seq: row_id for seq, row_id in mine}
        if len(theirs) <= page and all(mine_rows.get(s) == r for s, r, _ in theirs):
            self.set_pushed(store_id, theirs[-1][0])
            return False
        with self.store.write() as tx:
            new = ids.uuid7_hex()[-12:]
            tx.set_meta("device_id", new)
            tx.set_meta("device_id_replaced", origin)
        return True

    # ------------------------------------------------------------------ push
    def outbox_page(self, after: int, limit: int) -> tuple[list[OutChange], int | None]:
        """The next ``limit`` outbox rows after ``after`` as changes (one per record, with the
        record's whole state), and the last outbox sequence they cover.

        A change's body is JSON built by SQLite itself (``json_object``): the record's values,
        its clocks as stored, its officer, origin and times, and the fields this change
        touched. Building it in C keeps a big push close to a plain bulk insert."""
        from fieldlog.db.remotes.types import OutChange

        conn = self.store.conn
        rows = conn.execute(
            "SELECT seq, tbl, row_id, fields FROM changes WHERE seq > ? ORDER BY seq LIMIT ?",
            [after, limit],
        ).fetchall()
        if not rows:
            return [], None
        # One change per record, carrying its latest outbox seq (unique per origin), sent in
        # the order of each record's first write: a contact still goes before its concerns.
        touched: dict[tuple[str, str], tuple[int, int, set[str]]] = {}
        for seq, tbl, row_id, fields in rows:
            first, _, names = touched.get((tbl, row_id), (seq, 0, set()))
            touched[(tbl, row_id)] = (first, seq, names | set(fields.split(",")))
        bodies: dict[tuple[str, str], tuple[str, str]] = {}
        by_table: dict[str, list[str]] = {}
        for tbl, row_id in touched:
            by_table.setdefault(tbl, []).append(row_id)
        for tbl, row_ids in by_table.items():
            sql = _body_sql(tbl)
            for chunk in range(0, len(row_ids), 500):
                part = row_ids[chunk : chunk + 500]
                for row_id, hlc, body in conn.execute(
                    f"{sql} WHERE id IN ({', '.join('?' * len(part))})", part
                ):
                    bodies[(tbl, row_id)] = (hlc, body)
        out = []
        changed: dict[frozenset[str], str] = {}
        for key, (_, seq, names) in sorted(touched.items(), key=lambda kv: kv[1][0]):
            got = bodies.get(key)
            if got is None:  # purged since: nothing to send
                continue
            hlc, body = got
            frozen = frozenset(names)
            if frozen not in changed:
                changed[frozen] = json.dumps(sorted(names))
            body = f'{body[:-1]},"changed":{changed[frozen]}}}'
            out.append(OutChange(seq, key[0], key[1], hlc, body))
        return out, rows[-1][0]

    # ------------------------------------------------------------------ pull
    def _pending(self, store_id: str, row_ids: Sequence[str]) -> dict[str, set[str]]:
        """The fields of ``row_ids`` changed here and not pushed yet (what can conflict)."""
        _, pushed = self.cursors(store_id)
        out: dict[str, set[str]] = {}
        for chunk in range(0, len(row_ids), 500):
            part = list(row_ids[chunk : chunk + 500])
            for row_id, fields in self.store.conn.execute(
                f"SELECT row_id, fields FROM changes WHERE seq > ? AND row_id IN "
                f"({', '.join('?' * len(part))})",
                [pushed, *part],
            ):
                out.setdefault(row_id, set()).update(fields.split(","))
        return out

    def apply(self, store_id: str, batch: Sequence[RemoteChange]) -> tuple[int, int, int]:
        """Merge a page of pulled changes in one transaction that also moves the pull cursor.
        Returns (applied, conflicts, held)."""
        me = self.store.device_id()
        others = [c for c in batch if c.origin != me]
        pending = self._pending(store_id, [c.row_id for c in others])
        counts = [0, 0, 0]
        with self.store.write() as tx:
            for change in others:
                self._apply_one(tx, store_id, change, pending, counts)
            tx.set_meta(f"sync:{store_id}:pulled", str(batch[-1].seq))
        return counts[0], counts[1], counts[2]

    def retry_held(self, store_id: str) -> int:
        """Apply held changes whose time has come; returns how many are still held."""
        from fieldlog.db.remotes.types import RemoteChange

        rows = self.store.conn.execute(
            "SELECT seq, body FROM sync_held WHERE store_id = ? ORDER BY seq", [store_id]
        ).fetchall()
        if not rows:
            return 0
        changes = [RemoteChange(**json.loads(body)) for _, body in rows]
        pending = self._pending(store_id, [c.row_id for c in changes])
        counts = [0, 0, 0]
        with self.store.write() as tx:
            for seq, _ in rows:
                tx.conn.execute(
                    "DELETE FROM sync_held WHERE store_id = ? AND seq = ?", [store_id, seq]
                )
            for change in changes:
                self._apply_one(tx, store_id, change, pending, counts)
        return counts[2]

    @staticmethod
    def _hold(tx: Tx, store_id: str, change: RemoteChange, reason: str) -> None:
        body = {
            "seq": change.seq, "origin": change.origin, "origin_seq": change.origin_seq,
            "tbl": change.tbl, "row_id": change.row_id, "hlc": change.hlc, "body": change.body,
        }  # fmt: skip
        tx.conn.execute(
            "INSERT OR REPLACE INTO sync_held (store_id, seq, reason, body) VALUES (?, ?, ?, ?)",
            [store_id, change.seq, reason, json.dumps(body)],
        )

    def _apply_one(
        self,
        tx: Tx,
        store_id: str,
        change: RemoteChange,
        pending: dict[str, set[str]],
        counts: list[int],
    ) -> None:
        tbl, rid = change.tbl, change.row_id
        try:
            fields = merge.check_body(tbl, change.body)
        except (ValueError, TypeError):
            return  # not something a fieldlog wrote: skipped (never applied half)
        if not ids.is_hex(rid) or len(rid) != 32:
            return
        if _is_purged(tx, rid):
            return
        if merge.too_far_ahead(fields):
            self._hold(tx, store_id, change, "clock ahead")
            counts[2] += 1
            return
        cur = tx.conn.execute(f"SELECT * FROM {tbl} WHERE id = ?", [rid])
        raw = cur.fetchone()
        local = (
            None if raw is None else {d[0]: v for d, v in zip(cur.description, raw, strict=True)}
        )
        local_clocks = json.loads(local["clocks"] or "{}") if local else None
        result = merge.merge(
            local, local_clocks, tbl, change.body, pending.get(rid, set()), fields=fields
        )
        if result.action == "insert":
            parent = records.get(tbl).parent
            if parent is not None and not _exists(tx, parent[0], result.values.get(parent[1])):
                self._hold(tx, store_id, change, f"waiting for its {records.NOUN[parent[0]]}")
                counts[2] += 1
                return
        body = change.body
        if not tx.apply_remote(tbl, rid, result, body, local, merge.newest_stamp(fields)):
            return
        for c in result.conflicts:
            tx.conn.execute(
                "INSERT INTO conflicts (tbl, row_id, field, mine, theirs, kept, mine_hlc, "
                "theirs_hlc, theirs_officer, found_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [tbl, rid, c["field"], json.dumps(c["mine"]), json.dumps(c["theirs"]),
                 c["kept"], c["mine_hlc"], c["theirs_hlc"], body["officer"], tx.now],
            )  # fmt: skip
            counts[1] += 1
        counts[0] += 1


def _exists(tx: Tx, table: str, rid: Any) -> bool:
    return tx.conn.execute(f"SELECT 1 FROM {table} WHERE id = ?", [rid]).fetchone() is not None


def _is_purged(tx: Tx, rid: str) -> bool:
    try:
        return (
            tx.conn.execute("SELECT 1 FROM purged WHERE row_id = ?", [rid]).fetchone() is not None
        )
    except Exception:  # no purge table in this schema (sqlite3's or sqlcipher3's error)
        return False


class Conflicts:
    """Fields both sides changed (``store.conflicts``), kept for the officer to settle."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def list(self, *, all_: bool = False) -> Rows:
        where = "" if all_ else "WHERE resolved_at IS NULL"
        rows = self.store.query(f"SELECT * FROM conflicts {where} ORDER BY id")
        for r in rows:
            r["mine"] = json.loads(r["mine"]) if r["mine"] is not None else None
            r["theirs"] = json.loads(r["theirs"]) if r["theirs"] is not None else None
        return rows

    def count(self) -> int:
        return int(
            self.store.scalar("SELECT count(*) FROM conflicts WHERE resolved_at IS NULL") or 0
        )

    def _typed_value(self, tbl: str, name: str, text: str) -> Any:
        """A value the officer typed, read as the edit commands read it (dates in words,
        lists comma separated, vocabularies checked)."""
        rtype = records.get(tbl)
        if name in {"id", *rtype.refs, *(rtype.parent[1:] if rtype.parent else ())}:
            raise ValidationError(
                "keep", f"The {name} of a record is not typed: keep mine or theirs."
            )
        value: Any = text
        if name in records.LIST_FIELDS:
            value = [t.strip() for t in text.split(",") if t.strip()]
        s = self.store
        cleaners = {
            "contacts": s.contacts.values,
            "concerns": s.concerns.values,
            "referrals": s.referrals.values,
        }
        if tbl in cleaners:
            return cleaners[tbl]({name: value}, partial=True)[name]
        if name == "last_verified":
            from fieldlog.db.repos.base import day

            value = day(value, "verified")
        return records.clean(tbl, {name: value}, partial=True)[name]

    def resolve(self, cid: int, keep: str) -> dict[str, Any]:
        """``keep``: ``mine``, ``theirs``, or a new value. When the value kept is not the
        one the merge kept, it is written as a new local edit (it then wins everywhere)."""
        rows = self.store.query("SELECT * FROM conflicts WHERE id = ?", [cid])
        if not rows:
            raise NotFoundError(f"No conflict has the number {cid}: fieldlog conflicts lists them.")
        c = rows[0]
        if c["resolved_at"]:
            raise ValidationError("id", f"Conflict {cid} is resolved already ({c['resolution']}).")
        tbl, rid, name = c["tbl"], c["row_id"], c["field"]
        mine, theirs = json.loads(c["mine"]), json.loads(c["theirs"])
        if keep in ("mine", "theirs"):
            value, typed = (mine if keep == "mine" else theirs), False
        else:
            value, typed = keep, True
        with self.store.write() as tx:
            current = tx.conn.execute(f"SELECT {name} FROM {tbl} WHERE id = ?", [rid]).fetchone()
            if current is None:
                raise NotFoundError(f"The {records.NOUN[tbl]} {rid} is no longer in this log.")
            if name == "deleted":
                if typed:
                    raise ValidationError(
                        "keep", "A delete-versus-edit conflict takes --keep mine or theirs."
                    )
                if int(value) != current[0]:
                    tx.update(tbl, rid, {"deleted": int(value)})
            else:
                if typed:
                    value = self._typed_value(tbl, name, value)
                elif name in records.LIST_FIELDS and isinstance(value, str):
                    value = json.loads(value)
                tx.update(tbl, rid, {name: value})
            tx.conn.execute(
                "UPDATE conflicts SET resolved_at = ?, resolution = ? WHERE id = ?",
                [tx.now, "typed value" if typed else f"kept {keep}", cid],
            )
        return c
