"""What the sync tests share: the records a log holds, a sync round, a fresh laptop, a contact
both laptops hold, and enrolling laptops with a store (a laptop applies only changes from
enrolled devices). (The fixtures ``pair``, ``remote_url`` and ``any_url`` are in conftest.py.)"""

from __future__ import annotations

from pathlib import Path

from fieldlog import sync
from fieldlog.db import devkeys
from fieldlog.db.devices import Trust
from fieldlog.db.remotes.factory import open_remote
from fieldlog.db.store import Store

TABLES = ("contacts", "concerns", "referrals", "organizations")
SKIP = {"clocks", "hlc", "updated_at"}  # bookkeeping, not content


def content(store: Store) -> dict[str, dict[str, dict]]:
    """Every record (tombstones included) by table and id, bookkeeping columns left out."""
    out = {}
    for table in TABLES:
        cur = store.conn.execute(f"SELECT * FROM {table} ORDER BY id")
        names = [d[0] for d in cur.description]
        out[table] = {
            r[0]: {k: v for k, v in zip(names, r, strict=True) if k not in SKIP}
            for r in cur.fetchall()
        }
    return out


def do_sync(store: Store, url: str, **kw) -> sync.Result:
    remote = open_remote(url)
    try:
        return sync.sync_with(store, remote, **kw)
    finally:
        remote.close()


def fresh_copy(url: str, tmp: Path, name: str = "fresh.db") -> Store:
    """A new, empty laptop that pulls everything: what the remote holds."""
    s = Store.open(tmp / name)
    s.set_officer("Fresh")
    do_sync(s, url)
    return s


def enroll(url: str, founder: Store, *others: Store, role: str = "officer") -> None:
    """Register every laptop with the store at ``url`` (``founder`` first: on a new store it
    becomes the founder, a supervisor) and have a supervisor among them trust the others as
    ``role``, as ``fieldlog dept trust`` does. Idempotent: enrolled ones are left as they are."""
    remote = open_remote(url)
    try:
        for s in (founder, *others):
            Trust(s, remote, remote.store_id).prepare()
        bosses = [Trust(s, remote, remote.store_id) for s in (founder, *others)]
        for t in bosses:
            t.prepare()
        boss = next(t for t in bosses if (me := t.me()) is not None and me.supervisor)
        for s in (founder, *others):
            key = devkeys.load(s)
            assert key is not None
            d = boss.state.find(key.device, key.public)
            assert d is not None, "the laptop did not register"
            if not d.trusted:
                boss.trust(d.fingerprint, role)
    finally:
        remote.close()


def shared_contact(a: Store, b: Store, url: str) -> str:
    """A contact ``a`` made and both hold (both laptops enrolled first, ``a`` founding)."""
    enroll(url, a, b)
    cid = a.contacts.add(
        {"summary": "Met the pastor", "neighborhood": "Eastside"},
        concerns=[{"category": "youth", "description": "no lit court"}],
        referrals=[{"agency": "Parks Dept", "reason": "lights"}],
    )
    do_sync(a, url)
    do_sync(b, url)
    return cid
