"""The trust log, read incrementally: a laptop keeps the state it verified and each sync
fetches and verifies only what was added, after a cheap check that the store still holds what
it read (fieldlog/db/devices.py Trust._recheck; docs/devices.md says what is checked when).

- ``trustlog.extend`` continues ``build`` exactly, through ``dumps``/``loads`` too (hypothesis,
  random logs with bad signatures, copies, revokes, founders, legacy entries, junk);
- the cost per sync is flat: with 50 devices registered and trusted, a later sync fetches a
  constant number of entries plus the new ones and verifies only the new ones (counted, not
  timed), on every backend;
- what the cheap check catches at the next sync (the last entry changed, an entry deleted, a
  sampled entry changed, the counter rolled back) and what only a full read does (``fieldlog
  dept devices``); a laptop with the previous version's pin reads everything once.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fieldlog import sync
from fieldlog.db import devices, devkeys, trustlog
from fieldlog.db.devices import Trust, recheck_key, seen_key, state_key
from fieldlog.db.remotes.factory import open_remote
from fieldlog.db.remotes.types import TrustRecord
from fieldlog.db.store import Store
from tests.lib.sync_helpers import do_sync, enroll, url_for

STORE = "0" * 32
KEYS = [devkeys.DeviceKey(f"{i:012x}", bytes([i + 1]) * 32) for i in range(4)]
AT = "2026-01-01T00:00:00Z"


# ---------------------------------------------------------------------- extend == build
def _signed(n: int, by: devkeys.DeviceKey, kind: str, subject: str, **fields) -> TrustRecord:
    data = {**fields, "kind": kind, "store": STORE, "device": subject, "by": by.device,
            "by_key": by.public, "at": AT}  # fmt: skip
    record = devkeys.record_json(data)
    return TrustRecord(n, kind, subject, record, by.sign(devkeys.trust_text(record)), by.device)


def _entry(n: int, op: tuple[int, int, int, int], log: list[TrustRecord]) -> TrustRecord:
    """One entry of a random log: valid or not, by anyone, about anyone."""
    what, i, j, v = op
    by, target = KEYS[i], KEYS[j]
    first = next((r.signer for r in log if r.kind == "register"), None)
    if what >= 2 and i <= 1 and first is not None:  # mostly by the founder: most entries count
        by = next((k for k in KEYS if k.device == first), by)
    if what <= 1:  # a register: its own key, or (v == 3) another key under this device id
        key = target.public if v == 3 else by.public
        return _signed(n, by, "register", by.device, key=key, officer=f"Officer {i}")
    if what <= 3:
        role = ("officer", "supervisor", "officer", "chief")[v]
        return _signed(n, by, "trust", target.device, key=target.public, role=role)
    if what == 4:
        return _signed(n, by, "revoke", target.device, key=target.public, upto=v * 10)
    if what == 5:
        return _signed(n, by, "legacy", "", upto=v, count=j)
    if what == 6 and log:  # an exact copy of an earlier entry (a replay)
        return dataclasses.replace(log[(v + 4 * j) % len(log)], id=n)
    if what == 7:  # a signature that is not of this record
        good = _signed(n, by, "trust", target.device, key=target.public, role="officer")
        other = _signed(n, by, "trust", target.device, key=target.public, role="supervisor")
        return dataclasses.replace(good, sig=other.sig)
    if what == 8:  # junk, or another store's entry
        if v % 2:
            return TrustRecord(n, "register", "x", "not json", "x", "x")
        e = _signed(n, by, "register", by.device, key=by.public, officer="Elsewhere")
        return dataclasses.replace(e, record=e.record.replace(STORE, "1" * 32))
    # a row whose subject is not its JSON's
    e = _signed(n, by, "trust", target.device, key=target.public, role="officer")
    return dataclasses.replace(e, subject=KEYS[(j + 1) % 4].device)


def _log(ops: list[tuple[int, int, int, int]], gaps: list[int]) -> list[TrustRecord]:
    log: list[TrustRecord] = []
    n = 0
    for k, op in enumerate(ops):
        n += 1 + gaps[k % len(gaps)]
        log.append(_entry(n, op, log))
    return log


OPS = st.lists(
    st.tuples(st.integers(0, 9), st.integers(0, 3), st.integers(0, 3), st.integers(0, 3)),
    max_size=30,
)


def _founder_is_a_device(s: trustlog.TrustState) -> bool:
    return s.founder is None or any(d is s.founder for d in s.devices)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=OPS, gaps=st.lists(st.integers(0, 3), min_size=1, max_size=5), cut=st.integers(0, 30))
def test_extend_continues_build_exactly(ops, gaps, cut):
    log = _log(ops, gaps)
    cut = min(cut, len(log))
    head, tail = log[:cut], log[cut:]
    whole = trustlog.build(STORE, log)
    assert whole.count == len(log) and whole.last_id == (log[-1].id if log else 0)
    assert trustlog.extend(trustlog.build(STORE, head), tail) == whole
    # kept between syncs: through the JSON a laptop stores in its meta
    kept = trustlog.loads(trustlog.dumps(trustlog.build(STORE, head)), STORE)
    assert kept is not None and _founder_is_a_device(kept)
    resumed = trustlog.extend(kept, tail)
    assert resumed == whole and _founder_is_a_device(resumed)
    assert trustlog.dumps(resumed) == trustlog.dumps(whole)
    # one entry at a time, as many syncs would
    step = trustlog.build(STORE, [])
    for r in log:
        step = trustlog.loads(trustlog.dumps(trustlog.extend(step, [r])), STORE)
        assert step is not None
    assert step == whole
    # the whole log read again continues what was read; a changed or missing entry does not
    part = trustlog.build(STORE, head)
    assert trustlog.continues(part, log)
    if head:
        k = len(head) // 2
        changed = [*log[:k], dataclasses.replace(log[k], sig=log[k].sig + "x"), *log[k + 1 :]]
        assert not trustlog.continues(part, changed)
        dropped = log[:k] + log[k + 1 :]
        if [trustlog.mark(r)[1] for r in dropped[:cut]] != [m for _, m in part.entries]:
            assert not trustlog.continues(part, dropped)  # (unless it was a copy's twin)


def test_extend_continues_build_on_long_logs_at_every_cut():
    """Longer logs than hypothesis's usual ones, where most devices get trusted, some
    revoked, a second supervisor trusts others: every cut, through the kept JSON."""
    import random

    seen = {"trusted": 0, "revoked": 0, "legacy": 0, "second supervisor": 0, "ignored": 0}
    for seed in range(10):
        rng = random.Random(seed)
        ops = [(rng.randrange(10), rng.randrange(4), rng.randrange(4), rng.randrange(4))
               for _ in range(40)]  # fmt: skip
        log = _log(ops, [rng.randrange(3) for _ in range(4)])
        whole = trustlog.build(STORE, log)
        step = trustlog.build(STORE, [])
        for cut in range(len(log) + 1):
            kept = trustlog.loads(trustlog.dumps(step), STORE)
            assert kept is not None and trustlog.extend(kept, log[cut:]) == whole
            seen["second supervisor"] += sum(d.supervisor for d in step.devices) > 1
            step = trustlog.extend(step, log[cut : cut + 1])
        assert step == whole
        seen["trusted"] += sum(d.trusted and not d.founder for d in whole.devices)
        seen["revoked"] += sum(d.revoked for d in whole.devices)
        seen["legacy"] += bool(whole.legacy_upto)
        seen["ignored"] += whole.ignored
    assert all(seen.values()), seen


def test_a_kept_state_for_another_store_or_damaged_is_not_used():
    log = _log([(0, 0, 0, 0), (2, 0, 1, 0), (0, 1, 1, 0), (2, 0, 1, 0)], [0])
    text = trustlog.dumps(trustlog.build(STORE, log))
    assert trustlog.loads(text, STORE) == trustlog.build(STORE, log)
    assert trustlog.loads(text, "1" * 32) is None
    data = json.loads(text)
    for damage in [
        {"v": 1},
        {"count": 3},
        {"last_id": 99},
        {"entries": "x"},
        {"founder": 12345},
        {"devices": [{"device": "x"}]},
    ]:
        assert trustlog.loads(json.dumps({**data, **damage}), STORE) is None, damage
    for junk in (None, "", "not json", "[]", '{"n": 3, "digest": "ab"}'):
        assert trustlog.loads(junk, STORE) is None


# ---------------------------------------------------------------------- counted per sync
class Counting:
    """A remote that counts what the trust log costs: entries fetched, queries made."""

    def __init__(self, remote):
        self._remote = remote
        self.fetched = 0
        self.queries = 0

    def __getattr__(self, name):
        return getattr(self._remote, name)

    def trust_log(self, after: int = 0):
        got = self._remote.trust_log(after)
        self.fetched += len(got)
        self.queries += 1
        return got

    def trust_entries(self, after: int, upto: int):
        got = self._remote.trust_entries(after, upto)
        self.fetched += len(got)
        self.queries += 1
        return got

    def trust_count(self, upto: int):
        self.queries += 1
        return self._remote.trust_count(upto)


class Verifies:
    """Counts the trust-log signatures checked (devkeys.verify of a trust entry's text)."""

    def __init__(self, monkeypatch):
        self.n = 0
        real = devkeys.verify

        def counted(public_hex, text, sig):
            if isinstance(text, bytes) and text.startswith(b"fieldlog-trust\n"):
                self.n += 1
            return real(public_hex, text, sig)

        monkeypatch.setattr(devkeys, "verify", counted)


def entries_of(url: str) -> tuple[str, list[TrustRecord]]:
    """The store's id and its whole trust log, as its owner reads it."""
    remote = open_remote(url)
    try:
        return remote.store_id, remote.trust_log()
    finally:
        remote.close()


def counted_sync(store: Store, url: str, verifies: Verifies) -> tuple[Counting, int]:
    remote = Counting(open_remote(url_for(url, store)))
    before = verifies.n
    try:
        result = sync.sync_with(store, remote)
    finally:
        remote.close()
    assert not [n for n in result.notices if "trust list" in n], result.notices
    return remote, verifies.n - before


def register_devices(url: str, tmp_path, n: int, start: int = 0) -> None:
    """``n`` more laptops register with the store (one log taking new device ids: each
    registers as a new device, through one login)."""
    filler = Store.open(tmp_path / "filler.db")
    filler.set_officer("Pat Filler")
    remote = open_remote(url_for(url, filler))
    try:
        for i in range(start, start + n):
            with filler.write() as tx:
                tx.set_meta("device_id", f"f{i:011x}")
            Trust(filler, remote, remote.store_id).prepare()
    finally:
        remote.close()
        filler.close()


def trust_all(url: str, boss: Store) -> int:
    remote = open_remote(url_for(url, boss, "supervisor"))
    try:
        t = Trust(boss, remote, remote.store_id)
        t.prepare()
        waiting = [d for d in t.devices() if not d.trusted and not d.revoked]
        for d in waiting:
            t.trust(d.fingerprint)
        return len(waiting)
    finally:
        remote.close()


def test_the_trust_cost_per_sync_is_flat(pair, any_url, tmp_path, monkeypatch):
    a, b = pair
    enroll(any_url, a, b)
    register_devices(any_url, tmp_path, 50)
    assert trust_all(any_url, a) == 50
    verifies = Verifies(monkeypatch)
    total = len(entries_of(any_url)[1])
    assert total >= 104  # a, b: register + trust; 50 devices: register + trust

    first, checked = counted_sync(b, any_url, verifies)  # b read the log at its enrolment
    assert first.fetched >= 100 and checked >= 100  # what was added since: read and verified
    for _ in range(3):  # nothing new: a constant, nothing verified
        later, checked = counted_sync(b, any_url, verifies)
        assert later.fetched <= devices.SAMPLE + 1, later.fetched
        assert checked == 0
        assert later.queries <= 4, later.queries
    register_devices(any_url, tmp_path, 5, start=50)  # five new laptops: five entries
    later, checked = counted_sync(b, any_url, verifies)
    assert later.fetched <= devices.SAMPLE + 1 + 5, later.fetched
    assert checked == 5
    again, checked = counted_sync(b, any_url, verifies)
    assert again.fetched <= devices.SAMPLE + 1 and checked == 0
    # a laptop that never synced with the store reads it all once, then goes incremental
    c = Store.open(tmp_path / "c.db")
    c.set_officer("Cy New")
    first, checked = counted_sync(c, any_url, verifies)
    assert first.fetched >= total + 5 and checked >= total + 5
    for _ in range(2):
        later, checked = counted_sync(c, any_url, verifies)
        assert later.fetched <= devices.SAMPLE + 1 and checked == 0
    # a dept command reads and verifies the whole log
    remote = Counting(open_remote(url_for(any_url, b)))
    before = verifies.n
    t = Trust(b, remote, remote.store_id)
    t.prepare(full=True)
    remote.close()
    assert t.full_read and t.problem is None
    assert remote.fetched == total + 6 and verifies.n - before == total + 6
    c.close()


# ---------------------------------------------------------------------- what is caught, when
def raw_sql(url: str, query: str, request) -> None:
    if url.startswith("postgresql://"):
        request.getfixturevalue("pg_server").execute(url, query)
        return
    con = sqlite3.connect(url)
    con.execute(query)
    con.commit()
    con.close()


def notices(store: Store, url: str) -> list[str]:
    return do_sync(store, url).notices


def rewritten(lines: list[str]) -> bool:
    return any("trust list of this store was rewritten" in n for n in lines)


def test_the_last_entry_changed_is_caught_at_the_next_sync(pair, any_url, request):
    a, b = pair
    enroll(any_url, a, b)
    do_sync(b, any_url)
    assert not rewritten(notices(b, any_url))
    raw_sql(any_url, "UPDATE fieldlog_trust SET sig = 'x' || sig "
            "WHERE id = (SELECT max(id) FROM fieldlog_trust)", request)  # fmt: skip
    assert rewritten(notices(b, any_url))
    assert rewritten(notices(b, any_url))  # until a supervisor checks (dept pin)


def test_a_deleted_entry_is_caught_by_the_count(pair, any_url, tmp_path, request, monkeypatch):
    a, b = pair
    enroll(any_url, a, b)
    register_devices(any_url, tmp_path, 8)
    do_sync(b, any_url)
    monkeypatch.setattr(devices._sampler, "randrange", lambda n: 0)  # sample the first few
    assert not rewritten(notices(b, any_url))
    raw_sql(any_url, "DELETE FROM fieldlog_trust WHERE id = (SELECT max(id) - 2 FROM "
            "fieldlog_trust)", request)  # fmt: skip
    assert rewritten(notices(b, any_url))


def test_a_changed_entry_is_caught_when_sampled_and_by_a_full_read(
    pair, any_url, tmp_path, request, monkeypatch, cli
):
    a, b = pair
    enroll(any_url, a, b)
    register_devices(any_url, tmp_path, 12)
    do_sync(b, any_url)
    monkeypatch.setattr(devices._sampler, "randrange", lambda n: 0)
    assert not rewritten(notices(b, any_url))
    # an entry in the middle, rewritten in place (a count does not see it)
    raw_sql(any_url, "UPDATE fieldlog_trust SET record = record || ' ' WHERE id = "
            "(SELECT max(id) - 3 FROM fieldlog_trust)", request)  # fmt: skip
    assert not rewritten(notices(b, any_url))  # not in the sample: not seen by this sync
    out = cli("--db", str(b.path), "dept", "devices", url_for(any_url, b))  # a full read
    assert "was rewritten" in out.stderr
    monkeypatch.setattr(devices._sampler, "randrange", lambda n: n - 1)  # the latest ones
    assert rewritten(notices(b, any_url))
    monkeypatch.setattr(devices._sampler, "randrange", lambda n: 0)  # missed again, but:
    assert rewritten(notices(b, any_url))  # found once, read whole until a supervisor checks


def test_a_counter_rolled_back_is_caught(pair, any_url, request):
    a, b = pair
    enroll(any_url, a, b)
    do_sync(b, any_url)
    raw_sql(any_url, "UPDATE fieldlog_meta SET value = '1' WHERE key = 'trust_counter'", request)
    assert rewritten(notices(b, any_url))


def test_a_pinned_list_syncs_incrementally_again(pair, any_url, request, cli, monkeypatch):
    a, b = pair
    enroll(any_url, a, b)
    do_sync(b, any_url)
    raw_sql(any_url, "DELETE FROM fieldlog_trust WHERE id = (SELECT max(id) FROM "
            "fieldlog_trust)", request)  # fmt: skip
    assert rewritten(notices(b, any_url))
    assert b.meta().get(recheck_key(entries_of(any_url)[0]))
    founder = devkeys.load(a).fingerprint
    cli("--db", str(b.path), "dept", "pin", founder, url_for(any_url, b))  # checked: accepted
    again = Store.open(b.path)  # b's laptop after the command (not this object's meta cache)
    assert not again.meta().get(recheck_key(entries_of(any_url)[0]))
    verifies = Verifies(monkeypatch)
    later, checked = counted_sync(again, any_url, verifies)
    assert later.fetched <= devices.SAMPLE + 1 and checked == 0
    again.close()


def test_the_previous_versions_pin_is_read_once(pair, any_url, monkeypatch):
    a, b = pair
    enroll(any_url, a, b)
    do_sync(b, any_url)
    sid, records = entries_of(any_url)
    n = len(records) - 1
    old = json.dumps({"n": n, "digest": trustlog.prefix_digest(records, n)})
    with b.write() as tx:  # as the previous version left it
        tx.delete_meta(state_key(sid))
        tx.set_meta(seen_key(sid), old)
    verifies = Verifies(monkeypatch)
    first, checked = counted_sync(b, any_url, verifies)
    assert first.fetched >= len(records) and checked >= len(records)  # all, once
    assert b.meta().get(seen_key(sid)) is None and b.meta().get(state_key(sid))
    later, checked = counted_sync(b, any_url, verifies)
    assert later.fetched <= devices.SAMPLE + 1 and checked == 0
    # an old pin the store no longer matches: rewritten
    with b.write() as tx:
        tx.delete_meta(state_key(sid))
        tx.set_meta(seen_key(sid), json.dumps({"n": n, "digest": "0" * 64}))
    assert rewritten(notices(b, any_url))


def test_the_kept_state_is_inside_an_encrypted_log(tmp_path, monkeypatch, remote_url):
    monkeypatch.setenv("FIELDLOG_PASSPHRASE", "correct horse battery")
    s = Store.open(tmp_path / "enc.db", encrypt=True)
    s.set_officer("Dana Ruiz")
    do_sync(s, remote_url, allow_plain_remote=True)
    key = devkeys.load(s)
    sid = entries_of(remote_url)[0]
    assert key.public in (s.meta().get(state_key(sid)) or "")
    s.close()
    raw = (tmp_path / "enc.db").read_bytes()
    assert key.public.encode() not in raw and b"trust_state" not in raw
