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


def is_dept(url: str) -> bool:
    """Whether ``url`` is ``any_url``'s department store (laptops sync with logins of theirs)."""
    return hasattr(url, "login")


def skip_on_dept(url: str, reason: str) -> None:
    """Skip the test on ``any_url``'s department store, saying why it does not apply there."""
    if is_dept(url):
        import pytest

        pytest.skip(f"department store: {reason}")


def url_for(url: str, laptop: Store | str, role: str | None = None) -> str:
    """The URL ``laptop`` (a Store, or an officer's name) syncs with: ``url`` itself, but on a
    department store (``any_url``'s ``dept``: :class:`tests.lib.pg.DeptUrl`) the URL of the
    laptop officer's own login, enrolled on first use (``role``: see ``DeptUrl.login``)."""
    login = getattr(url, "login", None)
    if login is None:
        return url
    return login(laptop if isinstance(laptop, str) else laptop.officer(), role)


def do_sync(store: Store, url: str, **kw) -> sync.Result:
    remote = open_remote(url_for(url, store))
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
    ``role``, as ``fieldlog dept trust`` does. Idempotent: enrolled ones are left as they are.
    Each laptop registers through its own remote (on a department store its own login: the
    founder's a supervisor's, the others' of ``role``'s kind)."""
    laptops = (founder, *others)
    db_role = "supervisor" if role == "supervisor" else None
    urls = [url_for(url, founder, "supervisor"), *(url_for(url, s, db_role) for s in others)]
    remotes = []
    try:
        for u in urls:
            remotes.append(open_remote(u))
        for s, remote in zip(laptops, remotes, strict=True):
            Trust(s, remote, remote.store_id).prepare()
        bosses = [Trust(s, r, r.store_id) for s, r in zip(laptops, remotes, strict=True)]
        for t in bosses:
            t.prepare()
        boss = next(t for t in bosses if (me := t.me()) is not None and me.supervisor)
        for s in laptops:
            key = devkeys.load(s)
            assert key is not None
            d = boss.state.find(key.device, key.public)
            assert d is not None, "the laptop did not register"
            if not d.trusted:
                boss.trust(d.fingerprint, role)
    finally:
        for remote in remotes:
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
