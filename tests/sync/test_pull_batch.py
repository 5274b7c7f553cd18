"""A pulled page applies as one batch (fieldlog.db.pull: one read per table, one write per
table, one audit chain step), with exactly the outcome of applying it change by change.

The statement count is read with sqlite3's ``set_trace_callback`` on the pulling laptop's own
connection: it must not grow with the number of changes a page holds (change by change, a
change cost about 7.6 statements). The equivalence tests pull the same changes into two copies
of one laptop, one batched and one forced change by change (the fallback path), and compare
records, conflicts, held changes and audit entries.
"""

from __future__ import annotations

import shutil
import time

import pytest

from fieldlog import demo
from fieldlog.db import audit
from fieldlog.db.pull import Pull, _Unbatched
from fieldlog.db.store import Store
from tests.lib.sync_helpers import content, do_sync, enroll


def _pull_counting(store: Store, url: str) -> tuple[int, int]:
    """Sync ``store``; returns (statements its connection ran, changes pulled). sqlite3
    calls the trace callback for each row of an ``executemany`` and for each statement a
    trigger or the search index runs (``-- ...``): the rows of one ``executemany`` (the same
    statement, over and over) count once, the triggers' not at all."""
    count = 0
    last = ""

    def seen(sql: str) -> None:
        nonlocal count, last
        if sql.startswith("--"):
            return
        head = sql[:48]
        if head != last:
            count += 1
            last = head

    store.conn.set_trace_callback(seen)
    try:
        result = do_sync(store, url)
    finally:
        store.conn.set_trace_callback(None)
    return count, result.pulled


def _laptop(tmp_path, name: str, url: str, officer: str) -> Store:
    """A laptop that has synced once (the first of a store founds it): what it pulls next
    goes through pages, not a first sync."""
    s = Store.open(tmp_path / f"{name}.db")
    s.set_officer(officer)
    do_sync(s, url)
    return s


@pytest.mark.parametrize("contacts", [(10, 250)])
def test_a_page_applies_in_a_bounded_number_of_statements(tmp_path, contacts):
    """Pulling 25 times more changes costs (about) the same number of statements: a page
    reads, writes and audits per table, not per change. The big page's new rows are indexed
    for search in one statement (Tx.bulk_index), the small one's by the triggers: both leave
    the search index whole (verify checks it)."""
    small, big = contacts
    counts = {}
    for n in (small, big):
        url = str(tmp_path / f"remote{n}.fieldlog")
        with _laptop(tmp_path, f"a{n}", url, "Dana Ruiz") as a:
            b = _laptop(tmp_path, f"b{n}", url, "Sam Lee")
            demo.fill(a, n, seed=3)
            do_sync(a, url)
            statements, pulled = _pull_counting(b, url)
            assert pulled > n
            assert content(b) == content(a)
        rep = audit.verify(b.conn)
        assert rep.ok, rep.problems
        for table in ("contacts", "concerns"):
            indexed = b.conn.execute(f"SELECT count(*) FROM {table}_fts_docsize").fetchone()[0]
            live = b.conn.execute(f"SELECT count(*) FROM {table} WHERE deleted = 0").fetchone()
            assert indexed == live[0]
        b.close()
        counts[n] = (statements, pulled)
    (s_small, p_small), (s_big, p_big) = counts[small], counts[big]
    extra = (s_big - s_small) / (p_big - p_small)
    # Change by change: ~7.6 statements a change. Batched: a few per page and table.
    assert extra < 0.2, (counts, extra)


def _edits(a: Store, c: Store, b: Store, url: str) -> list[str]:
    """Laptops a and c write, edit, delete and clash on shared records; b has edits of its
    own it has not pushed (conflicts) and a referral whose concern it has not pulled."""
    ids = []
    for i in range(6):
        ids.append(
            a.contacts.add(
                {"summary": f"Met neighbour {i}", "neighborhood": "Eastside", "tags": ["x"]}
            )
        )
    do_sync(a, url)
    do_sync(b, url)
    do_sync(c, url)
    for i, cid in enumerate(ids):
        a.contacts.update(cid, {"summary": f"A's words {i}"})
        if i % 2:
            time.sleep(0.002)
            c.contacts.update(cid, {"summary": f"C's words {i}", "neighborhood": "Westside"})
        if i % 3 == 0:
            b.contacts.update(cid, {"summary": f"B's own words {i}"})
    a.contacts.update(ids[0], {"notes": "edited twice in one page"})
    a.contacts.delete(ids[5])
    kid = a.concerns.add(ids[1], category="noise", description="late music")
    a.referrals.add(ids[1], "Parks Dept", concern=kid, reason="lights")
    new = a.contacts.add({"summary": "Made and edited before the sync"})
    a.contacts.update(new, {"summary": "Made, edited, then synced"})
    do_sync(a, url)
    do_sync(c, url)
    return ids


def _kept(store: Store) -> list[dict]:
    return [{k: v for k, v in c.items() if k != "found_at"} for c in store.conflicts.list()]


def _entries(store: Store) -> list[tuple]:
    return [
        tuple(r)
        for r in store.conn.execute(
            "SELECT officer, origin, tbl, row_id, action, changes, row_hash FROM audit ORDER BY seq"
        )
    ]


def test_a_batched_page_does_what_change_by_change_does(tmp_path, monkeypatch):
    url = str(tmp_path / "remote.fieldlog")
    a = _laptop(tmp_path, "a", url, "Dana Ruiz")
    c = _laptop(tmp_path, "c", url, "Ana Cruz")
    b = _laptop(tmp_path, "b", url, "Sam Lee")
    enroll(url, a, c, b)
    _edits(a, c, b, url)
    b.close()
    # Two copies of the laptop, each with its own copy of the store (a sync pushes too).
    shutil.copy(tmp_path / "b.db", tmp_path / "b_single.db")
    url_single = str(tmp_path / "single" / "remote.fieldlog")
    (tmp_path / "single").mkdir()
    for f in tmp_path.glob("remote.fieldlog*"):  # the file, and any journal beside it
        shutil.copy(f, tmp_path / "single" / f.name)
    batched = Store.open(tmp_path / "b.db")
    r_batched = do_sync(batched, url)
    with monkeypatch.context() as m:

        def refuse(*_a, **_k):
            raise _Unbatched

        m.setattr(Pull, "_batch", refuse)
        single = Store.open(tmp_path / "b_single.db")
        r_single = do_sync(single, url_single)
    assert (r_batched.pulled, r_batched.conflicts, r_batched.held, r_batched.quarantined) == (
        r_single.pulled,
        r_single.conflicts,
        r_single.held,
        r_single.quarantined,
    )
    assert r_batched.conflicts > 0
    assert content(batched) == content(single)
    assert _kept(batched) == _kept(single)
    assert _entries(batched) == _entries(single)
    for s in (batched, single):
        rep = audit.verify(s.conn)
        assert rep.ok, rep.problems
    for cid in [r[0] for r in batched.conn.execute("SELECT id FROM contacts")]:
        h = audit.history(batched.conn, "contacts", cid)  # what fieldlog history shows
        assert h["current"] == "matches"
        assert [e["changes"] for e in h["entries"]] == [
            e["changes"] for e in audit.history(single.conn, "contacts", cid)["entries"]
        ]
    # and converged with the laptops that wrote
    do_sync(batched, url)
    do_sync(a, url)
    assert content(batched) == content(a)
    for s in (a, c, batched, single):
        s.close()


def test_one_refused_change_falls_back_and_the_rest_of_the_page_applies(tmp_path, monkeypatch):
    """The database refuses one change of a batch: the page goes change by change, that
    change alone is quarantined, the others apply and audit as usual."""
    url = str(tmp_path / "remote.fieldlog")
    with _laptop(tmp_path, "a", url, "Dana Ruiz") as a:
        b = _laptop(tmp_path, "b", url, "Sam Lee")
        ids = [a.contacts.add({"summary": f"Met {i}"}) for i in range(5)]
        do_sync(a, url)
    bad = ids[2]
    import fieldlog.db.tx as txmod

    real = txmod.Tx._insert_row

    def refusing(self, table, row):
        if row["id"] == bad:
            raise ValueError("planted refusal")
        return real(self, table, row)

    real_page = txmod.Tx.apply_remote_page

    def refusing_page(self, loaded, writes):
        if any(w.rid == bad for w in writes):
            raise ValueError("planted refusal")
        return real_page(self, loaded, writes)

    monkeypatch.setattr(txmod.Tx, "_insert_row", refusing)
    monkeypatch.setattr(txmod.Tx, "apply_remote_page", refusing_page)
    r = do_sync(b, url)
    assert (r.pulled, r.quarantined) == (4, 1)
    assert {x["id"] for x in b.contacts.list()} == set(ids) - {bad}
    rep = audit.verify(b.conn)
    assert rep.ok, rep.problems
    b.close()
