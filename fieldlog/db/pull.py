"""Applying a page of pulled changes: trusted, checked, merged, held or quarantined.

Each change of a page goes through, in order:

1. its place in the store's sequence: a seq not after the one before it is quarantined
   (``sequence``); seqs skipped between them are a gap, reported and kept
   (:func:`fieldlog.db.quarantine.note`);
2. its signature (:meth:`fieldlog.db.devices.Trust.verdict`): not signed by an enrolled,
   unrevoked device, quarantined (``trust``; checked again every round);
3. its contents, like typed input (:func:`fieldlog.pulled.check`): quarantined (``invalid``)
   when it is not what a fieldlog writes;
4. its time: stamped ahead of this laptop's clock, held until due (``sync_held.due_ms``);
5. the merge (:mod:`fieldlog.merge`) and the one write path: a change whose record has not
   arrived (a concern before its contact, or moved to a contact this log does not hold) is
   held as waiting; one the database still refuses is rolled back alone and quarantined.

Steps 1 to 4 run change by change; step 5 runs for the page's changes that passed them at
once (:meth:`Pull._apply_page`): the page's rows read in one query per table, merged in order
in Python, written with one ``executemany`` per table (:meth:`fieldlog.db.tx.Tx.apply_remote_page`)
and audited in one chain step (:meth:`fieldlog.db.tx.Tx.audit_remote_page`), in one savepoint.
When the database refuses the batch, or it would cross-link a referral, the savepoint is rolled
back and the page goes change by change, each in a savepoint of its own
(:meth:`Pull._apply_one`, :meth:`fieldlog.db.tx.Tx.apply_remote`): the outcome is the same
either way (tests/sync/test_pull_batch.py), the batch only costs a few statements a page.

Nothing of this is ever fatal: the rest of the page applies and the pull cursor moves in the
page's transaction. The sync log (:mod:`fieldlog.db.synclog`) is the way in
(``store.sync.apply``, ``store.sync.retry_held``).
"""

from __future__ import annotations

import json
import sqlite3
import sys
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from fieldlog import merge, pulled, records
from fieldlog.db import quarantine

if TYPE_CHECKING:
    from fieldlog.db.devices import Trust
    from fieldlog.db.remotes.types import Remote, RemoteChange
    from fieldlog.db.store import Store
    from fieldlog.db.tx import Tx


@dataclass
class Applied:
    """What a page (or a retry) did."""

    applied: int = 0
    conflicts: int = 0
    held: int = 0
    quarantined: int = 0
    seq_problems: list[str] = field(default_factory=list)

    def __iter__(self):  # noqa: ANN204 - (applied, conflicts, held), as apply returned before
        return iter((self.applied, self.conflicts, self.held))


def _below_key(store_id: str) -> str:
    return f"sync:{store_id}:below"


def _integrity_error(conn: Any) -> type[Exception]:
    """sqlite3's IntegrityError, or sqlcipher3's (another class) for an encrypted log."""
    if isinstance(conn, sqlite3.Connection):
        return sqlite3.IntegrityError
    from fieldlog.db.connect import db_error

    base = db_error(conn)
    return getattr(sys.modules.get(base.__module__), "IntegrityError", base)


# What a change the database refuses, or that a planted value trips in Python, raises: the
# change is rolled back alone and quarantined. Anything else (a full disk, a lock) still stops
# the round, with the page not committed.
_REFUSED = (ValueError, TypeError, KeyError, OverflowError, AttributeError)


class Pull:
    """Pulled changes into one log, from the store ``store_id``; ``trust`` checks signatures
    (None: not checked, for tests that feed changes by hand)."""

    def __init__(self, store: Store, store_id: str, trust: Trust | None = None) -> None:
        self.store = store
        self.store_id = store_id
        self.trust = trust
        self._counted: tuple[int, int, int] | None = None  # the counts before a merge
        self._valid: set[tuple[Any, ...]] = set()  # field values checked valid this round

    # ------------------------------------------------------------------ the store's sequence
    def check_seq(self, remote: Remote, cursor: int) -> list[str]:
        """The store's sequence seen from ``cursor`` (``remote.check_seq``), compared with what
        this laptop remembers: rows slipped in under the cursor (or gone from under it) since
        the last page. Every problem is kept (``sync --held``) and returned, one line each."""
        report = remote.check_seq(cursor)
        problems = [str(p) for p in report.problems]
        if report.beyond and not problems:
            problems.append(
                f"{report.beyond} row(s) in the store above its counter ({report.counter}): "
                "never pulled (planted in the store?)"
            )
        known = self._known_below(cursor)
        if known is not None and report.below != known:
            if report.below > known:
                problems.append(
                    f"{report.below - known} row(s) appeared in the store at or below seq "
                    f"{cursor}, which this laptop had pulled up to: never pulled (written "
                    "into the store by hand?)"
                )
            else:
                problems.append(
                    f"{known - report.below} row(s) are gone from the store at or below seq "
                    f"{cursor} (deleted from the store?)"
                )
        if problems or known != report.below:
            with self.store.write() as tx:
                for p in problems:
                    quarantine.note(tx.conn, self.store_id, p, cursor)
                tx.set_meta(_below_key(self.store_id), f"{cursor}:{report.below}")
        return problems

    def _known_below(self, cursor: int) -> int | None:
        raw = self.store.meta().get(_below_key(self.store_id)) or ""
        at, _, n = raw.partition(":")
        try:
            return int(n) if int(at) == cursor else None
        except ValueError:
            return None

    # ------------------------------------------------------------------ a page
    def page(
        self, batch: Sequence[RemoteChange], after: int | None = None, *, dense: bool = True
    ) -> Applied:
        """Apply a page in one transaction that also moves the pull cursor. ``after``: the
        cursor the page was pulled from (None: changes fed by hand, out of any order).
        ``dense``: every seq of the store is visible to this login, so a gap is a row gone
        from the store; a department store hides other units' rows (RLS), and its own
        sequence check (:meth:`check_seq`, counted whatever RLS hides) watches for rows
        slipped under the cursor instead."""
        got = Applied()
        me = self.store.device_id()
        rids = [c.row_id for c in batch if c.origin != me and isinstance(c.row_id, str)]
        pending = self._pending(rids)
        known = self._known_below(after) if after is not None and dense else None
        last = after
        counted = 0
        todo: list[tuple[RemoteChange, pulled.Checked]] = []
        with self.store.write() as tx:
            purged = _purged(tx, rids)
            for change in batch:
                if last is not None:
                    if not isinstance(change.seq, int) or change.seq <= last:
                        reason = f"seq {change.seq} is not after {last}: out of the store's order"
                        quarantine.put(tx.conn, self.store_id, change, "sequence", reason)
                        got.quarantined += 1
                        continue
                    if change.seq > last + 1 and dense:
                        gap = (
                            f"seq {last + 1}" if change.seq == last + 2
                            else f"seqs {last + 1} to {change.seq - 1}"
                        )  # fmt: skip
                        problem = f"{gap} missing from the store (deleted from it?)"
                        quarantine.note(tx.conn, self.store_id, problem, last + 1)
                        got.seq_problems.append(problem)
                    last = change.seq
                    counted += 1
                if change.origin == me:
                    continue
                checked = self._checked(tx, change, got, purged=purged)
                if checked is not None:
                    todo.append((change, checked))
            self._apply_page(tx, todo, pending, got)
            if after is None:
                cursor = batch[-1].seq if batch else None
            else:
                cursor = last
                if known is not None:
                    tx.set_meta(_below_key(self.store_id), f"{last}:{known + counted}")
            if cursor is not None:
                tx.set_meta(f"sync:{self.store_id}:pulled", str(cursor))
        return got

    def _pending(self, row_ids: Sequence[str]) -> dict[str, set[str]]:
        """The fields of ``row_ids`` changed here and not pushed yet (what can conflict)."""
        _, pushed = self.store.sync.cursors(self.store_id)
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

    # ------------------------------------------------------------------ held and quarantined
    def retry(self, *, recheck_trust: bool = True, got: Applied | None = None) -> int:
        """Apply the held changes that are due, and (``recheck_trust``: the trust log changed)
        check again the changes quarantined for trust (a device enrolled since is released);
        returns how many are still held. ``got`` adds up what was applied (the round counts
        released changes as pulled)."""
        conn = self.store.conn
        now = pulled.now_ms()
        rows = conn.execute(
            "SELECT seq, body FROM sync_held WHERE store_id = ? AND due_ms <= ? ORDER BY seq",
            [self.store_id, now],
        ).fetchall()
        untrusted = (
            quarantine.trust_held(conn, self.store_id)
            if self.trust is not None and recheck_trust
            else []
        )
        if rows or untrusted:
            changes = [(_held_change(body, seq), True) for seq, body in rows]
            changes += [(c, False) for c in untrusted]
            changes.sort(key=lambda pair: pair[0].seq)
            pending = self._pending([c.row_id for c, _ in changes if isinstance(c.row_id, str)])
            got = got if got is not None else Applied()
            with self.store.write() as tx:
                for seq, _ in rows:
                    tx.conn.execute(
                        "DELETE FROM sync_held WHERE store_id = ? AND seq = ?",
                        [self.store_id, seq],
                    )
                for change, was_held in changes:
                    if not was_held:
                        assert self.trust is not None
                        if self.trust.verdict(change):
                            continue  # still untrusted: stays quarantined as it was
                        quarantine.release(tx.conn, self.store_id, change.seq)
                    self._one(tx, change, pending, got, verify=was_held)
        return int(
            conn.execute(
                "SELECT count(*) FROM sync_held WHERE store_id = ?", [self.store_id]
            ).fetchone()[0]
        )

    def _hold(self, tx: Tx, change: RemoteChange, reason: str, due_ms: int = 0) -> None:
        body = asdict(change)
        tx.conn.execute(
            "INSERT OR REPLACE INTO sync_held (store_id, seq, reason, body, due_ms) "
            "VALUES (?, ?, ?, ?, ?)",
            [self.store_id, change.seq, reason, json.dumps(body, default=str), due_ms],
        )

    def _quarantine(self, tx: Tx, change: RemoteChange, kind: str, reason: str, got: Applied):
        quarantine.put(tx.conn, self.store_id, change, kind, reason)
        got.quarantined += 1

    # ------------------------------------------------------------------ one change
    def _checked(
        self,
        tx: Tx,
        change: RemoteChange,
        got: Applied,
        *,
        verify: bool = True,
        purged: set[str] | None = None,
    ) -> pulled.Checked | None:
        """Steps 2 to 4 for one change: its checked contents when it goes on to the merge;
        None when it was quarantined, held for its clock, or is a purged record's.
        ``purged``: the page's purged ids, read once (None: asked for this change)."""
        if verify and self.trust is not None:
            reason = self.trust.verdict(change)
            if reason:
                self._quarantine(tx, change, "trust", reason, got)
                return None
        try:
            checked = pulled.check(
                change.tbl, change.row_id, change.body, change.hlc, seen=self._valid
            )
        except pulled.Invalid as exc:
            self._quarantine(tx, change, "invalid", exc.reason, got)
            return None
        if change.row_id in purged if purged is not None else _is_purged(tx, change.row_id):
            return None
        if checked.ahead_ms is not None:
            self._hold(tx, change, "clock ahead", checked.ahead_ms - pulled.MAX_SKEW_MS)
            got.held += 1
            return None
        return checked

    def _one(
        self,
        tx: Tx,
        change: RemoteChange,
        pending: dict[str, set[str]],
        got: Applied,
        *,
        verify: bool = True,
    ) -> None:
        checked = self._checked(tx, change, got, verify=verify)
        if checked is not None:
            self._apply_one(tx, change, checked, pending, got)

    def _apply_one(
        self,
        tx: Tx,
        change: RemoteChange,
        checked: pulled.Checked,
        pending: dict[str, set[str]],
        got: Applied,
    ) -> None:
        """Step 5 for one change, in a savepoint of its own (a held change's retry, and a
        page whose batch the database refused)."""
        tx.conn.execute("SAVEPOINT pulled_change")
        before = _cross_linked(tx, change.tbl, change.row_id)
        try:
            self._merge(tx, change, checked, pending, got)
            if not before and _cross_linked(tx, change.tbl, change.row_id):
                raise pulled.Invalid(_CROSS_LINKED)
        except (pulled.Invalid, _integrity_error(tx.conn), *_REFUSED) as exc:
            tx.conn.execute("ROLLBACK TO pulled_change")
            self._undo(got)
            reason = (
                exc.reason
                if isinstance(exc, pulled.Invalid)
                else f"refused by this log ({type(exc).__name__}: {str(exc)[:120]})"
            )
            self._quarantine(tx, change, "invalid", reason, got)
        finally:
            tx.conn.execute("RELEASE pulled_change")

    # ------------------------------------------------------------------ a page, batched
    def _apply_page(
        self,
        tx: Tx,
        todo: Sequence[tuple[RemoteChange, pulled.Checked]],
        pending: dict[str, set[str]],
        got: Applied,
    ) -> None:
        """Step 5 for the changes of a page that passed steps 1 to 4, all at once: the
        current rows of the page's records read in one query per table, merged in order in
        Python (a record changed twice merges its second change into what the first left),
        written with one ``executemany`` per table, their conflicts in one, and their audit
        entries chained in one step. Inside one savepoint: when the database refuses the
        batch, or the page would cross-link a referral, it is rolled back and the page goes
        change by change (:meth:`_apply_one`), so one bad change is quarantined alone."""
        if not todo:
            return
        counts = (got.applied, got.conflicts, got.held)
        clock = (tx.clock.wall_ms, tx.clock.counter, tx.last_stamp)
        tx.conn.execute("SAVEPOINT pulled_page")
        try:
            self._batch(tx, todo, pending, got)
        except (_Unbatched, pulled.Invalid, _integrity_error(tx.conn), *_REFUSED):
            tx.conn.execute("ROLLBACK TO pulled_page")
            got.applied, got.conflicts, got.held = counts
            tx.clock.wall_ms, tx.clock.counter, tx.last_stamp = clock
            for change, checked in todo:
                self._apply_one(tx, change, checked, pending, got)
        finally:
            tx.conn.execute("RELEASE pulled_page")

    def _batch(
        self,
        tx: Tx,
        todo: Sequence[tuple[RemoteChange, pulled.Checked]],
        pending: dict[str, set[str]],
        got: Applied,
    ) -> None:
        ids: dict[str, dict[str, None]] = {}
        for change, _ in todo:
            ids.setdefault(change.tbl, {})[change.row_id] = None
        loaded = {t: _rows(tx, t, list(rids)) for t, rids in ids.items()}
        rows = {t: dict(found) for t, found in loaded.items()}  # as the page leaves them
        there = self._parents(tx, todo, rows)
        writes: list[Any] = []  # fieldlog.db.tx.RemoteWrite
        conflicts: list[dict[str, Any]] = []
        for change, checked in todo:
            tbl, rid, body = change.tbl, change.row_id, change.body
            assert body is not None
            local = rows[tbl].get(rid)
            local_clocks = json.loads(local["clocks"] or "{}") if local else None
            result = merge.merge(
                local, local_clocks, tbl, body, pending.get(rid, set()), fields=checked.fields
            )
            parent = records.get(tbl).parent
            if parent is not None and result.action in ("insert", "update"):
                column = parent[1]
                if result.action == "insert" or column in result.values:
                    pid = result.values.get(column)
                    if not isinstance(pid, str) or (
                        pid not in rows.get(parent[0], ()) and pid not in there[parent[0]]
                    ):
                        self._hold(tx, change, f"waiting for its {records.NOUN[parent[0]]}")
                        got.held += 1
                        continue
            officer = self._who(change, body)
            write = tx.remote_row(tbl, rid, result, body, local, officer=officer)
            if write is None:
                continue
            rows[tbl][rid] = write.row
            writes.append(write)
            if result.action not in ("insert", "update"):
                continue  # nothing new: updated_at moved forward, not counted as applied
            tx.observe(checked.newest)
            for c in result.conflicts:
                conflicts.append(
                    {
                        "tbl": tbl, "row_id": rid, "field": c["field"],
                        "mine": json.dumps(c["mine"]), "theirs": json.dumps(c["theirs"]),
                        "kept": c["kept"], "mine_hlc": c["mine_hlc"],
                        "theirs_hlc": c["theirs_hlc"], "theirs_officer": officer,
                    }
                )  # fmt: skip
                got.conflicts += 1
            got.applied += 1
        tx.apply_remote_page(loaded, writes)
        if _page_cross_linked(tx, ids):
            raise _Unbatched  # change by change: the one that links it is quarantined alone
        tx.keep_conflicts(conflicts)
        tx.audit_remote_page(writes)

    def _parents(
        self,
        tx: Tx,
        todo: Sequence[tuple[RemoteChange, pulled.Checked]],
        rows: Mapping[str, Mapping[str, Any]],
    ) -> dict[str, set[str]]:
        """Per parent table, the records the page's changes name as their parent that are
        in the log and not among the page's own (those are in ``rows``): one query each."""
        wanted: dict[str, set[str]] = {}
        for change, checked in todo:
            parent = records.get(change.tbl).parent
            if parent is None:
                continue
            pair = checked.fields.get(parent[1])
            names = wanted.setdefault(parent[0], set())
            if pair is not None and isinstance(pair[0], str):
                if pair[0] not in rows.get(parent[0], ()):
                    names.add(pair[0])
        return {t: {r["id"] for r in _rows_of(tx, t, sorted(w), "id")} for t, w in wanted.items()}

    def _undo(self, got: Applied) -> None:
        """Forget what :meth:`_merge` counted for a change rolled back after it."""
        if self._counted is not None:
            got.applied, got.conflicts, got.held = self._counted
            self._counted = None

    def _merge(
        self,
        tx: Tx,
        change: RemoteChange,
        checked: pulled.Checked,
        pending: dict[str, set[str]],
        got: Applied,
    ) -> None:
        tbl, rid, body = change.tbl, change.row_id, change.body
        assert body is not None
        self._counted = (got.applied, got.conflicts, got.held)
        cur = tx.conn.execute(f"SELECT * FROM {tbl} WHERE id = ?", [rid])
        raw = cur.fetchone()
        local = (
            None if raw is None else {d[0]: v for d, v in zip(cur.description, raw, strict=True)}
        )
        local_clocks = json.loads(local["clocks"] or "{}") if local else None
        result = merge.merge(
            local, local_clocks, tbl, body, pending.get(rid, set()), fields=checked.fields
        )
        parent = records.get(tbl).parent
        if parent is not None and result.action in ("insert", "update"):
            column = parent[1]
            if (result.action == "insert" or column in result.values) and not _exists(
                tx, parent[0], result.values.get(column)
            ):
                self._hold(tx, change, f"waiting for its {records.NOUN[parent[0]]}")
                got.held += 1
                return
        officer = self._who(change, body)
        if not tx.apply_remote(tbl, rid, result, body, local, checked.newest, officer=officer):
            return
        for c in result.conflicts:
            tx.keep_conflict(
                tbl,
                rid,
                c["field"],
                mine=json.dumps(c["mine"]),
                theirs=json.dumps(c["theirs"]),
                kept=c["kept"],
                mine_hlc=c["mine_hlc"],
                theirs_hlc=c["theirs_hlc"],
                theirs_officer=officer,
            )
            got.conflicts += 1
        got.applied += 1

    def _who(self, change: RemoteChange, body: dict[str, Any]) -> str:
        """Who the audit entry names for an applied change: the officer the department
        enrolled the pushing device for (:meth:`Trust.who`), else the change's own claim."""
        who = getattr(self.trust, "who", None)
        if who is not None:
            name = who(change)
            if name:
                return str(name)
        return str(body.get("officer") or "")


def _held_change(text: str, seq: int) -> RemoteChange:
    """A held change as it was pulled (a row of an older log holds fewer fields)."""
    from fieldlog.db.remotes.types import RemoteChange

    try:
        raw = json.loads(text)
        known = RemoteChange.__dataclass_fields__
        return RemoteChange(**{k: v for k, v in raw.items() if k in known})
    except (ValueError, TypeError, AttributeError):
        return RemoteChange(seq, "", 0, "", "", "", None, str(text)[: quarantine.TEXT_CAP])


class _Unbatched(Exception):
    """The page cannot apply as one batch: it goes change by change."""


_CROSS_LINKED = "it would link a referral to a concern of another contact (a typed referral cannot)"


def _rows(tx: Tx, table: str, rids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The current rows of ``rids`` (those in the log), by id."""
    return {row["id"]: row for row in _rows_of(tx, table, rids, "*")}


def _rows_of(tx: Tx, table: str, rids: Sequence[str], cols: str) -> list[dict[str, Any]]:
    if table not in records.TABLES:
        raise ValueError(f"not a record table: {table}")
    out: list[dict[str, Any]] = []
    for at in range(0, len(rids), _CHUNK):
        part = list(rids[at : at + _CHUNK])
        cur = tx.conn.execute(
            f"SELECT {cols} FROM {table} WHERE id IN ({', '.join('?' * len(part))})", part
        )
        names = [d[0] for d in cur.description]
        out.extend(dict(zip(names, raw, strict=True)) for raw in cur.fetchall())
    return out


_CHUNK = 500  # ids per IN (...) query


def _purged(tx: Tx, rids: Sequence[str]) -> set[str]:
    """The ids of ``rids`` a retention purge removed (sync never brings them back)."""
    out: set[str] = set()
    try:
        for at in range(0, len(rids), _CHUNK):
            part = list(rids[at : at + _CHUNK])
            out.update(
                r[0]
                for r in tx.conn.execute(
                    f"SELECT row_id FROM purged WHERE row_id IN ({', '.join('?' * len(part))})",
                    part,
                )
            )
    except Exception:  # no purge table in this schema (sqlite3's or sqlcipher3's error)
        return set()
    return out


def _page_cross_linked(tx: Tx, ids: Mapping[str, Mapping[str, None]]) -> bool:
    """:func:`_cross_linked` for a whole page: any of its referrals or concerns."""
    return any(_cross_linked(tx, table, list(ids.get(table, ()))) for table in _LINKS)


# The column of a referral (``r``) or its concern (``k``) a record of each table is.
_LINKS = {"referrals": "r.id", "concerns": "k.id"}


def _cross_linked(tx: Tx, table: str, rids: str | Sequence[str]) -> bool:
    """Whether a live referral of the records ``rids`` (referrals, or concerns they answer)
    answers a concern of another contact (``fieldlog verify`` reports those)."""
    column = _LINKS.get(table)
    rids = [rids] if isinstance(rids, str) else list(rids)
    for at in range(0, len(rids) if column else 0, _CHUNK):
        part = rids[at : at + _CHUNK]
        if tx.conn.execute(
            "SELECT 1 FROM referrals r JOIN concerns k ON k.id = r.concern_id "
            f"WHERE {column} IN ({', '.join('?' * len(part))}) AND r.deleted = 0 "
            "AND k.contact_id != r.contact_id LIMIT 1",
            part,
        ).fetchone():
            return True
    return False


def _exists(tx: Tx, table: str, rid: Any) -> bool:
    if not isinstance(rid, str):
        return False
    return tx.conn.execute(f"SELECT 1 FROM {table} WHERE id = ?", [rid]).fetchone() is not None


def _is_purged(tx: Tx, rid: str) -> bool:
    try:
        return (
            tx.conn.execute("SELECT 1 FROM purged WHERE row_id = ?", [rid]).fetchone() is not None
        )
    except Exception:  # no purge table in this schema (sqlite3's or sqlcipher3's error)
        return False
