"""A new laptop's first sync from a snapshot of the store's current state (docs/sync.md,
Bootstrap), and the snapshot a fully synced laptop leaves in a file remote for the next one.

A log that never synced with a store and holds no record (:func:`eligible`) loads the store's
snapshot (:mod:`fieldlog.db.remotes.bootsnap`) as of its sequence number ``S`` in one local
transaction, instead of replaying every change: each row as a laptop stores it, its per-field
``clocks``, ``hlc``, ``origin`` and officer included, so later merges are exactly those of a
laptop that replayed. The pull cursor is set to ``S`` (and the count of the store's rows at or
below ``S``, read in the same snapshot, for the next sequence check); the round then pulls
incrementally from ``S``. Conflicts are impossible: nothing local can differ.

What a snapshot is trusted for. Its rows are not signed changes: its values rest on the
signing supervisor device (``signed``: a file or plain PostgreSQL store) or on the server
(``server``: a department store's own merged state, read through row-level security). Around
that, any of these refuses the whole snapshot (:class:`Refused`: the load is rolled back and
the laptop replays, the round saying why in one line):

- a change at or below ``S`` from a device this laptop does not trust (enrolled, not revoked
  past it, pushed from its enrolled role; unsigned only within the founder's legacy range);
- (``signed``) a signature that is not a trusted, unrevoked *supervisor* device's, or rows
  that do not hash to the digest it signed;
- rows that are not exactly the store's change log's records: ``(tbl, id, hlc)`` must equal
  the set of ``(tbl, row_id)`` the changes at or below ``S`` touch, each at its highest hlc
  (:attr:`bootsnap.Snapshot.log`, read with ``S``): none left out, added or moved;
- a row :func:`fieldlog.pulled.check` refuses (the registry's rules, as a replay checks each
  change; its ``seen`` cache makes it cheap), one the ordinary pull would hold (ahead of this
  laptop's clock, or its parent record not in the snapshot), or one the database refuses.

Each row gets a ``bootstrap`` audit entry naming the row's own ``officer`` and ``origin`` (the
snapshot's claim of who wrote it, as a replay would store them), chained in one batch, so
``fieldlog verify`` checks the rows from then on; ``sync:<store>:bootstrap`` in meta says which
snapshot the log started from (``seq``, ``kind``, signing ``device``).
``fieldlog sync --replay`` replays instead.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fieldlog import dates, merge, pulled, records
from fieldlog.db import devkeys, quarantine
from fieldlog.db.remotes import bootsnap
from fieldlog.db.remotes.types import SyncError
from fieldlog.errors import StorageError

if TYPE_CHECKING:
    from fieldlog.db.devices import Trust
    from fieldlog.db.remotes.types import Remote
    from fieldlog.db.store import Store

__all__ = [
    "SNAPSHOT_EVERY", "Booted", "eligible", "first_sync", "publish", "snapshot_seq", "state_rows",
]  # fmt: skip

# A fully synced laptop writes a new snapshot into a file remote when the store has this many
# changes beyond the one it holds (a 100,000-record snapshot takes a couple of seconds).
SNAPSHOT_EVERY = 10_000
_INSERT_PAGE = 5000


class Refused(Exception):
    """The snapshot cannot be trusted (the laptop replays instead); ``str``: why."""


@dataclass
class Booted:
    """What a bootstrap did: ``rows`` loaded at ``seq``; ``notices`` one line each (a refused
    snapshot: ``rows == 0`` and one notice; nothing is ever held or quarantined by a load)."""

    seq: int = 0
    rows: int = 0
    held: int = 0
    quarantined: int = 0
    notices: list[str] = field(default_factory=list)


def _key(store_id: str) -> str:
    return f"sync:{store_id}:bootstrap"


def eligible(store: Store, store_id: str) -> bool:
    """Whether the log may bootstrap from ``store_id``'s snapshot: it never pulled from that
    store and holds no record at all (nothing local to merge, so no conflict possible)."""
    pulled_to, pushed = store.sync.cursors(store_id)
    if pulled_to or pushed or store.meta().get(_key(store_id)):
        return False
    conn = store.conn
    for t in records.in_sync_order():
        if conn.execute(f"SELECT 1 FROM {t} LIMIT 1").fetchone() is not None:
            return False
    return conn.execute("SELECT 1 FROM changes LIMIT 1").fetchone() is None


# ---------------------------------------------------------------------- trust
def _check_origins(snap: bootsnap.Snapshot, trust: Trust | None, me: str) -> None:
    state = getattr(trust, "state", None)
    if trust is None or state is None:
        raise Refused("no trust list was read for this store")
    if getattr(trust, "problem", None) is not None:
        raise Refused("the store's trust list was replaced or rewritten")
    for origin, pushed_by, _n, unsigned, top in snap.origins:
        if origin == me:
            raise Refused("the store holds changes under this laptop's device id")
        if unsigned and not (getattr(trust, "legacy_ok", False) and top <= state.legacy_upto):
            raise Refused(f"the store holds unsigned changes from {origin}")
        ok = any(
            d.trusted
            and (not d.revoked or top <= d.revoked_upto)
            and (d.pushed_by is None or pushed_by is None or d.pushed_by == pushed_by)
            for d in state.of(origin)
        )
        if not ok and unsigned < _n:
            raise Refused(f"the store holds changes from device {origin}, not trusted here")


def _check_signer(snap: bootsnap.Snapshot, trust: Trust, store_id: str) -> None:
    """The snapshot's signature is a trusted supervisor device's (checked before loading; that
    its rows hash to the signed digest is checked as they are loaded)."""
    text = bootsnap.signed_text(store_id, snap.device, snap.seq, snap.rows, snap.digest)
    for d in trust.state.of(snap.device):
        if devkeys.verify(d.key, text, snap.sig):
            if not d.supervisor:
                raise Refused(f"it was signed by device {snap.device}, not a trusted "
                              "supervisor's")  # fmt: skip
            return
    raise Refused("its signature does not match a registered device (forged or altered?)")


# ---------------------------------------------------------------------- loading
def first_sync(
    store: Store, remote: Remote, store_id: str, trust: Trust | None, page: int = 2000
) -> Booted | None:
    """Bootstrap an :func:`eligible` log from ``remote``'s snapshot; None when the remote has
    none (or it cannot be used: the lines say why in ``Booted.notices`` with ``rows == 0``)."""
    try:
        with bootsnap.open_snapshot(remote, page) as snap:
            if snap is None:
                return None
            try:
                _check_origins(snap, trust, store.device_id())
                if snap.kind == "signed":
                    assert trust is not None  # _check_origins refuses None
                    _check_signer(snap, trust, store_id)
                try:
                    return _load(store, store_id, snap, trust)  # rolled back on any error
                except (sqlite3.Error, StorageError) as exc:
                    raise Refused(f"a row could not be stored ({exc})") from None
            except Refused as exc:
                return Booted(notices=[f"not bootstrapped from the store's snapshot: {exc}; "
                                       "replaying its changes instead"])  # fmt: skip
    except SyncError as exc:
        return Booted(notices=[f"not bootstrapped from the store's snapshot ({exc}): replaying"])


def _load(store: Store, store_id: str, snap: bootsnap.Snapshot, trust: Trust | None) -> Booted:
    """Load every row in one transaction, or none: a row that is not what fieldlog writes,
    that the ordinary pull would hold (ahead of this clock, parent missing), or that is not
    the store's change log's (:func:`_bound`) refuses the whole snapshot (rolled back)."""
    got = Booted(seq=snap.seq)
    tables = list(records.in_sync_order())
    have: dict[str, set[str]] = {t: set() for t in tables}
    digest = bootsnap.Digest()
    newest = ""
    seen: set[tuple[Any, ...]] = set()  # field values found valid (pulled.check's cache)
    log = dict(snap.log)
    now = pulled.now_ms()
    indexed = [t for t in tables if t in records.FTS_COLUMNS]  # tables with a search index
    with store.write() as tx, tx.bulk_index(indexed):
        marks = {t: tx.max_rowid(t) for t in tables}
        for rows in snap.pages:
            batches: dict[str, list[tuple[Any, ...]]] = {}
            for tbl, rid, hlc, raw in rows:
                if isinstance(raw, str):
                    digest.add(tbl, rid, hlc, raw)
                    try:
                        body = json.loads(raw)
                    except ValueError:
                        body = None
                else:
                    body = raw
                _bound(log, tbl, rid, hlc)
                if isinstance(body, dict):
                    body = {**body, "changed": ["*"], "clocks": _sparse(body.get("clocks"))}
                try:
                    checked = pulled.check(tbl, rid, body, hlc, now=now, seen=seen)
                except pulled.Invalid as exc:
                    raise Refused(f"a row is not what fieldlog writes ({_name(tbl, rid)}: "
                                  f"{exc.reason})") from None  # fmt: skip
                assert isinstance(body, dict)
                parent = records.get(tbl).parent
                result = _insert_of(body, checked)
                if checked.ahead_ms is not None:
                    raise Refused(f"{_name(tbl, rid)} is ahead of this laptop's clock")
                if parent is not None and result.values.get(parent[1]) not in have[parent[0]]:
                    raise Refused(f"the record {_name(tbl, rid)} belongs to is not in it")
                have[tbl].add(rid)
                newest = max(newest, checked.newest)
                clocks = result.clocks
                if len(clocks) == 1:  # json.dumps of {"*": stamp}: a stamp needs no escape
                    ctext = '{"*": "' + clocks["*"] + '"}'
                else:
                    ctext = json.dumps(clocks, sort_keys=True)
                vals = result.values
                if len(vals) != len(_COLUMNS[tbl]) or not all(f in vals for f in _COLUMNS[tbl]):
                    # A record of an older fieldlog lacks fields: their columns' defaults.
                    row = dict(zip(_HEAD, (rid, body["created_at"], body["updated_at"],
                               body["officer"], body["origin"], max(clocks.values()), ctext),
                               strict=True))  # fmt: skip
                    row.update(vals)
                    tx.insert_loaded(tbl, list(row), [list(row.values())])
                    got.rows += 1
                    continue
                batches.setdefault(tbl, []).append(
                    (rid, body["created_at"], body["updated_at"], body["officer"],
                     body["origin"], max(clocks.values()), ctext,
                     *[vals.get(f) for f in _COLUMNS[tbl]])
                )  # fmt: skip
            for tbl, batch in batches.items():
                tx.insert_loaded(tbl, (*_HEAD, *_COLUMNS[tbl]), batch)
                got.rows += len(batch)
        if log:
            (tbl, rid), _h = next(iter(log.items()))
            raise Refused(f"{len(log)} record(s) of the store's changes are not in it "
                          f"({_name(tbl, rid)}, ...)")  # fmt: skip
        if snap.kind == "signed":
            assert trust is not None
            if digest.hexdigest() != snap.digest:  # raises: rolled back
                raise Refused("its rows do not hash to the digest its writer signed (altered?)")
        at = dates.stamp_now()
        for t in tables:
            tx.audit_loaded(t, marks[t], at, "bootstrap")
        if newest:
            tx.observe(newest)
        tx.set_meta(f"sync:{store_id}:pulled", str(snap.seq))
        if snap.below is not None:
            tx.set_meta(f"sync:{store_id}:below", f"{snap.seq}:{snap.below}")
        tx.set_meta(
            _key(store_id),
            json.dumps({"seq": snap.seq, "rows": got.rows, "kind": snap.kind,
                        "device": snap.device or None, "at": at}),
        )  # fmt: skip
    return got


def _name(tbl: Any, rid: Any) -> str:
    return f"{str(tbl)[:40]} {str(rid)[:8]}"


def _bound(log: dict[tuple[str, str], str], tbl: str, rid: str, hlc: str) -> None:
    """The snapshot row ``(tbl, rid, hlc)`` is one of the store's change log's records at its
    highest hlc (taken off ``log``: what is left at the end is missing from the snapshot)."""
    want = log.pop((tbl, rid), None)
    if want is None:
        raise Refused(f"it holds {_name(tbl, rid)}, which no change of the store's made")
    if want != hlc:
        raise Refused(f"{_name(tbl, rid)} is not at the clock of the store's last change to it")


def _sparse(clocks: Any) -> Any:
    """A record's clocks as a laptop keeps them: a field's stamp only when it differs from
    ``*`` (a department store keeps every field's effective stamp: the same merges)."""
    if not isinstance(clocks, dict) or len(clocks) <= 1 or not isinstance(clocks.get("*"), str):
        return clocks
    star = clocks["*"]
    return {k: v for k, v in clocks.items() if k == "*" or v != star}


def _insert_of(body: dict[str, Any], checked: pulled.Checked) -> merge.Merge:
    """What :func:`fieldlog.merge.merge` makes of a record this log has never held."""
    if "*" not in body["clocks"] or len(body["clocks"]) > 1:
        return merge.merge(None, None, "", body, set(), fields=checked.fields)
    values = {name: pair[0] for name, pair in checked.fields.items()}
    values.setdefault("deleted", 0)
    return merge.Merge("insert", values, {"*": body["clocks"]["*"]})


_HEAD = ("id", "created_at", "updated_at", "officer", "origin", "hlc", "clocks")
_COLUMNS = {t: (*records.TABLE_FIELDS[t], "deleted") for t in records.TABLES}


# ---------------------------------------------------------------------- writing one
def state_rows(store: Store) -> Iterator[bootsnap.Row]:
    """Every record of the log (tombstones too) as a snapshot row, parents' tables first."""
    from fieldlog.db.synclog import _body_sql

    for t in records.in_sync_order():
        cur = store.conn.execute(f"{_body_sql(t)} ORDER BY rowid")
        while rows := cur.fetchmany(2000):
            for rid, hlc, body in rows:
                yield (t, rid, hlc, body)


def _exact(store: Store, store_id: str) -> bool:
    """Whether the log's records are exactly the store's changes up to its cursor folded:
    everything pushed, nothing held, quarantined or purged, and no cursor of any other store
    (a laptop that also syncs another store holds that store's records too)."""
    conn = store.conn
    for key, value in store.meta().items():  # another store's records are not this one's
        if (
            key.startswith("sync:")
            and key.endswith((":pulled", ":pushed"))
            and key[5:].rsplit(":", 1)[0] != store_id
            and value not in (None, "", "0")
        ):
            return False
    _, pushed = store.sync.cursors(store_id)
    top = conn.execute("SELECT coalesce(max(seq), 0) FROM changes").fetchone()[0]
    if int(top) > pushed:
        return False
    if conn.execute("SELECT 1 FROM sync_held LIMIT 1").fetchone() is not None:
        return False
    if quarantine.count(conn, None):
        return False
    try:
        if conn.execute("SELECT 1 FROM purged LIMIT 1").fetchone() is not None:
            return False
    except Exception:  # no purge table in this schema
        pass
    return True


def publish(
    store: Store,
    remote: Remote,
    store_id: str,
    trust: Trust,
    *,
    every: int | None = None,
    force: bool = False,
) -> int:
    """At the end of a round, with the log pulled up to the store's head: write a new
    snapshot into a file (or plain PostgreSQL) remote when the one it holds is ``every``
    changes behind (``force``: whatever it holds). Returns the rows written (0: none due,
    not exact, or not this kind of remote)."""
    if getattr(remote, "dept", False) or getattr(remote, "conn", None) is None:
        return 0
    cursor, _ = store.sync.cursors(store_id)
    every = SNAPSHOT_EVERY if every is None else every
    if cursor <= 0 or not _exact(store, store_id):
        return 0
    # Pulled up to the head: every change this log pushed is at or below its cursor, so its
    # records are the store's changes up to the cursor, folded (others pushing from now on
    # number theirs above it).
    if remote.head() != cursor:
        return 0
    if not force:
        held = snapshot_seq(remote)
        if cursor - held < every:
            return 0
    key = trust.key
    state = getattr(trust, "state", None)
    if state is None or not any(d.supervisor for d in state.of(key.device)):
        return 0  # a new laptop accepts only a supervisor device's snapshot
    return bootsnap.write(
        remote, cursor, state_rows(store), device=key.device, sign=key.sign, store_id=store_id
    )


def snapshot_seq(remote: Any) -> int:
    try:
        with remote._guard():
            row = remote.conn.execute(
                f"SELECT value FROM fieldlog_meta WHERE key = {remote.MARK}", ["snapshot_seq"]
            ).fetchone()
    except SyncError:
        return 0
    try:
        return int(row[0]) if row else 0
    except (TypeError, ValueError):
        return 0
