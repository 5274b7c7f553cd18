"""The copy check before a push (``SyncLog.check_origin``) counts only rows signed with the
laptop's own key: rows planted in the store under its device id, beyond its push cursor, must
not make it think another copy of its log pushed (it would take a new device id, which a
supervisor then has to enroll again). Both backends."""

from __future__ import annotations

import json
import os

from fieldlog.db import devkeys
from tests.lib.plant import body_of, plant, stamp, store_id
from tests.lib.sync_helpers import do_sync, enroll

FAR = 1000  # planted origin_seqs this far beyond the cursor: they collide with no real change


def test_rows_planted_under_a_laptops_id_do_not_make_it_a_copy(pair, any_url):
    a, b = pair
    enroll(any_url, a, b)
    cid = a.contacts.add({"summary": "before the planting"})
    do_sync(a, any_url)
    device = a.device_id()
    _, pushed = a.sync.cursors(store_id(any_url))
    body = body_of(a, "contacts", cid)
    text = json.dumps(body | {"summary": "planted"})
    other = devkeys.DeviceKey(device, os.urandom(32))  # a key that is not a's
    forged_seq = pushed + FAR + 1
    hlc = stamp(device)
    forged = other.sign(
        devkeys.change_text(store_id(any_url), device, forged_seq, "contacts", cid, hlc, text)
    )
    rows = [
        {"origin": device, "origin_seq": pushed + FAR, "tbl": "contacts", "row_id": cid,
         "hlc": hlc, "body": text, "sig": None},
        {"origin": device, "origin_seq": forged_seq, "tbl": "contacts", "row_id": cid,
         "hlc": hlc, "body": text, "sig": forged},
    ]  # fmt: skip
    assert None not in plant(any_url, rows)

    a.contacts.add({"summary": "after the planting"})
    r = do_sync(a, any_url)
    assert not r.new_device_id
    assert a.device_id() == device
    do_sync(b, any_url)
    summaries = sorted(c["summary"] for c in b.contacts.list())
    assert summaries == ["after the planting", "before the planting"]


def test_a_row_planted_at_a_laptops_next_change_number_does_not_swallow_it(pair, any_url):
    """A row planted (below the store's counter, so it is pulled) under the laptop's own
    (origin, origin_seq) of its *next* change made the store say it held that change already:
    the real change never reached anyone. The push sees the row is not signed by this device
    and sends the change again under a new number."""
    a, b = pair
    enroll(any_url, a, b)
    cid = a.contacts.add({"summary": "before the planting"})
    do_sync(a, any_url)
    device = a.device_id()
    _, pushed = a.sync.cursors(store_id(any_url))
    text = json.dumps(body_of(a, "contacts", cid) | {"summary": "planted"})
    next_seq = a.scalar("SELECT max(seq) FROM changes") + 1  # what a's next add is numbered
    row = {"origin": device, "origin_seq": next_seq, "tbl": "contacts", "row_id": cid,
           "hlc": stamp(device), "body": text, "sig": None}  # fmt: skip
    assert None not in plant(any_url, [row])

    new = a.contacts.add({"summary": "after the planting"})
    assert a.scalar("SELECT max(seq) FROM changes") == next_seq
    r = do_sync(a, any_url)
    assert not r.new_device_id and a.device_id() == device
    assert any(f"planted under this device's change {next_seq}" in n for n in r.notices)
    do_sync(b, any_url)
    assert sorted(c["summary"] for c in b.contacts.list()) == [
        "after the planting",
        "before the planting",
    ]
    assert b.contacts.get(new)["summary"] == "after the planting"
    do_sync(a, any_url)  # the next round has nothing left to re-send
    assert a.sync.pending() == 0
