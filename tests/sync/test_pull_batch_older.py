"""A record inserted and updated in one page by an older fieldlog's changes (no review_*
fields): the batched audit entries are exactly the change-by-change ones, row hash included."""

from __future__ import annotations

import dataclasses
import json

from fieldlog.db.pull import Pull, _Unbatched
from fieldlog.db.remotes.factory import open_remote
from fieldlog.db.store import Store
from tests.lib.sync_helpers import do_sync


def test_batched_entries_hash_what_change_by_change_hashes(tmp_path, monkeypatch):
    url = str(tmp_path / "r.fieldlog")
    a = Store.open(tmp_path / "a.db")
    a.set_officer("Dana")
    do_sync(a, url)
    cid = a.contacts.add({"summary": "one", "neighborhood": "Eastside", "tags": ["x"]})
    do_sync(a, url)
    a.concerns.add(cid, category="noise", description="late music")
    a.contacts.update(cid, {"summary": "two"})
    do_sync(a, url)
    a.contacts.update(cid, {"notes": "three", "tags": ["x", "y"]})
    a.contacts.delete(cid)
    do_sync(a, url)
    r = open_remote(url)
    changes = r.pull(0, 100)
    sid = r.store_id
    r.close()
    old = []
    for c in changes:
        body = json.loads(json.dumps(c.body))
        if False:
            for k in [k for k in body["values"] if k.startswith("review_")]:
                del body["values"][k]
            clocks = body["clocks"].items()
            body["clocks"] = {k: v for k, v in clocks if not k.startswith("review_")}
            changed = [k for k in body["changed"] if not k.startswith("review_")]
            body["changed"] = changed or ["summary"]
        old.append(dataclasses.replace(c, body=body))

    def entries(s):
        return [
            tuple(x)
            for x in s.conn.execute(
                "SELECT tbl, row_id, action, changes, row_hash FROM audit "
                "WHERE action LIKE 'sync%' ORDER BY seq"
            )
        ]

    batched = Store.open(tmp_path / "b.db")
    gb = Pull(batched, sid, None).page(old, None)
    with monkeypatch.context() as m:
        m.setattr(Pull, "_batch", lambda *a, **k: (_ for _ in ()).throw(_Unbatched()))
        single = Store.open(tmp_path / "s.db")
        gs = Pull(single, sid, None).page(old, None)
    assert (gb.applied, gb.quarantined) == (gs.applied, gs.quarantined)
    assert gb.applied >= 3
    eb, es = entries(batched), entries(single)
    assert [e[:4] for e in eb] == [e[:4] for e in es]
    assert eb == es, [(x[2], x[4][:12], y[4][:12]) for x, y in zip(eb, es, strict=True)]
