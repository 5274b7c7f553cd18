"""The log's side of sync (``store.sync``): remotes, cursors, the outbox, applying pulled
changes; and the conflicts they leave for the officer (``store.conflicts``).

The merge rules are :mod:`fieldlog.merge`; a merged change is written by the one write path
(:meth:`fieldlog.db.tx.Tx.apply_remote`). This module reads the outbox and keeps the sync
bookkeeping of its own tables (``conflicts``) and meta keys; pulled changes are checked, held
and quarantined by :mod:`fieldlog.db.pull` and :mod:`fieldlog.db.quarantine`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from fieldlog import dates, ids, records
from fieldlog.db.repos.base import Rows
from fieldlog.errors import NotFoundError, ValidationError

if TYPE_CHECKING:
    from fieldlog.db.devices import Trust
    from fieldlog.db.pull import Applied
    from fieldlog.db.remotes.types import Head, OutChange, Remote, RemoteChange
    from fieldlog.db.store import Store

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

    def pushed_head(self, head: Head) -> None:
        """Keep the audit head a push carried, for plain ``verify``
        (:func:`fieldlog.db.audit.witness.remember`)."""
        from fieldlog.db.audit import witness

        with self.store.write() as tx:
            witness.remember(tx.conn, head)

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

    def check_origin(
        self, store_id: str, remote: Remote, page: int, own: Callable[[RemoteChange], bool]
    ) -> bool:
        """Before pushing: has the remote seen this device's changes beyond our push cursor?

        Only changes ``own`` accepts count (:func:`fieldlog.db.devices.signed_by_me`: those
        signed with this device's own key): a row anyone planted in the store under our
        device id (unsigned, or signed by another key) is passed over here (and quarantined
        by the laptops that pull it). After a push that committed on the remote but was
        killed before the laptop moved its cursor, the remote holds exactly our next outbox
        rows: move the cursor. Otherwise another copy of this log (a restored backup, a
        cloned laptop: same key) pushed under our device id: mint a new one, or our edits
        would be ignored as duplicates. Returns True then."""
        origin = self.store.device_id()
        _, pushed = self.cursors(store_id)
        # Walk everything the store holds from us beyond the cursor, a page at a time: the
        # push that committed unacknowledged may have sent several pages, of another page
        # size than this round's (it once read one page + 1, and minted a new device id,
        # unenrolled, after a round of several pages was cut: its edits were then refused).
        after, step = pushed, max(page, 1) + 1
        while theirs := _own_changes(remote, origin, own, after, step):
            mine = dict(
                self.store.conn.execute(
                    "SELECT seq, row_id FROM changes WHERE seq > ? AND seq <= ?",
                    [after, theirs[-1].origin_seq],
                ).fetchall()
            )
            if not all(mine.get(c.origin_seq) == c.row_id for c in theirs):
                break  # not our outbox: another copy of this log pushed under our id
            after = theirs[-1].origin_seq
            if len(theirs) < step:
                theirs = []
                break
        if not theirs:
            if after > pushed:
                self.set_pushed(store_id, after)
            return False
        with self.store.write() as tx:
            new = ids.uuid7_hex()[-12:]
            tx.set_meta("device_id", new)
            tx.set_meta("device_id_replaced", origin)
        return True

    def resend_taken(
        self,
        remote: Remote,
        sent: Sequence[OutChange],
        own: Callable[[RemoteChange], bool],
    ) -> list[str]:
        """After a push that the store took only in part: the changes it said it held already
        under our (origin, origin_seq) but that this device did not sign were planted there,
        and ours never arrived. Queue each again under a new outbox number (it goes out in the
        same round); returns one line per change re-sent, for the officer."""
        if not sent:
            return []
        origin = self.store.device_id()
        low = min(c.origin_seq for c in sent)
        high = max(c.origin_seq for c in sent)
        stored = remote.origin_changes(origin, low - 1, high - low + 1)
        by_seq = {c.origin_seq: c for c in sent}
        taken = [by_seq[c.origin_seq] for c in stored if c.origin_seq in by_seq and not own(c)]
        if not taken:
            return []
        with self.store.write() as tx:
            for c in taken:
                try:
                    fields = json.loads(c.body).get("changed") or ["*"]
                except (ValueError, AttributeError):
                    fields = ["*"]
                tx.resend(c.tbl, c.row_id, [str(f) for f in fields])
        return [
            f"The store held a row planted under this device's change {c.origin_seq} "
            f"({records.NOUN.get(c.tbl, c.tbl)} {c.row_id[:10]}): sent again under a new "
            "number."
            for c in taken
        ]

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
    def apply(
        self,
        store_id: str,
        batch: Sequence[RemoteChange],
        *,
        trust: Trust | None = None,
        after: int | None = None,
        dense: bool = True,
    ) -> Applied:
        """Merge a page of pulled changes in one transaction that also moves the pull cursor
        (:class:`fieldlog.db.pull.Pull`: checked, trusted, merged, held or quarantined).
        ``after``: the cursor the page was pulled from (its seqs are checked against it).
        ``dense``: the remote shows this login every seq (not a department store, whose
        row-level security hides other units' rows: there a gap is not a missing row)."""
        from fieldlog.db.pull import Pull

        return Pull(self.store, store_id, trust).page(batch, after, dense=dense)

    def retry_held(
        self,
        store_id: str,
        *,
        trust: Trust | None = None,
        recheck_trust: bool = True,
        got: Applied | None = None,
    ) -> int:
        """Apply held changes whose time has come, and (``recheck_trust``) check the changes
        quarantined for trust again; returns how many are still held (``got``: what applied,
        added up)."""
        from fieldlog.db.pull import Pull

        return Pull(self.store, store_id, trust).retry(recheck_trust=recheck_trust, got=got)

    def trust_changed(self, store_id: str, remote: Remote, trust: Trust) -> bool:
        """Whether the store's trust log (or this laptop's view of it) changed since the
        changes quarantined for trust were last checked: only then can a verdict differ, so
        20,000 changes from a laptop nobody enrolled are not checked again every sync."""
        key = f"sync:{store_id}:trust_seen"
        raw = self.store.meta().get(key) or ""
        try:
            seen = int(raw.split(":", 1)[0])
        except ValueError:
            seen = 0
        read = getattr(getattr(trust, "state", None), "last_id", None)  # what prepare read
        if isinstance(read, int):
            top = read
        else:
            top = max((r.id for r in remote.trust_log(after=seen)), default=seen)
        problem = int(bool(getattr(trust, "problem", None)))
        legacy = int(bool(getattr(trust, "legacy_ok", True)))
        mark = f"{top}:{problem}:{legacy}"
        if mark == raw:
            return False
        with self.store.write() as tx:
            tx.set_meta(key, mark)
        return True

    def check_seq(self, store_id: str, remote: Remote, cursor: int) -> list[str]:
        """The remote's sequence problems seen from ``cursor`` (kept for ``sync --held``)."""
        from fieldlog.db.pull import Pull

        return Pull(self.store, store_id).check_seq(remote, cursor)

    def quarantined_count(self, store_id: str | None = None) -> int:
        """Changes quarantined from ``store_id`` (None: from every store)."""
        from fieldlog.db import quarantine

        return quarantine.count(self.store.conn, store_id)

    def held_list(self) -> list[dict[str, Any]]:
        """Everything held, quarantined or found wrong with a store's sequence
        (:func:`fieldlog.db.quarantine.listing`), for ``fieldlog sync --held``."""
        from fieldlog.db import quarantine

        return quarantine.listing(self.store)


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


def _own_changes(
    remote: Remote, origin: str, own: Callable[[RemoteChange], bool], after: int, limit: int
) -> list[RemoteChange]:
    """At most ``limit`` changes the store holds from ``origin`` beyond ``after`` that
    ``own`` accepts, in order; the others (planted under the id) are passed over, however
    many there are: the walk goes on, a page at a time."""
    found: list[RemoteChange] = []
    while len(found) < limit:
        batch = remote.origin_changes(origin, after, limit)
        found.extend(c for c in batch if own(c))
        if len(batch) < limit or batch[-1].origin_seq <= after:
            break
        after = batch[-1].origin_seq
    return found[:limit]
