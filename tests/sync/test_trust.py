"""Authenticated changes: device keys, the department's trust list, and what a laptop applies.

Both backends (``any_url``): a forged change (no signature, a bad one, another device's id)
is quarantined and never applied; an unenrolled device's change waits in quarantine until a
supervisor trusts it; a revoke stops later changes; a trust entry not signed by a supervisor
does nothing; a replaced trust list is detected; on PostgreSQL the database role is checked.
On the department store (``any_url``'s ``dept``) each laptop syncs with its own login and the
database refuses some of these itself (an officer founding or trusting); what is planted in
the store is planted as its owner, so the laptops' own checks still decide.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import sqlite3
import subprocess
import sys

import pytest

from fieldlog.db import devkeys, quarantine, trustlog
from fieldlog.db.devices import Trust
from fieldlog.db.remotes.factory import open_remote
from fieldlog.db.remotes.types import OutChange, SyncError, TrustRecord
from fieldlog.db.store import Store
from tests.lib.sync_helpers import content, do_sync, enroll, fresh_copy, is_dept, url_for

STORE = "0" * 32


def summaries(store: Store) -> list[str]:
    return sorted(c["summary"] for c in store.contacts.list(limit=1000))


def held_reasons(store: Store) -> list[str]:
    return [str(r.get("reason")) for r in quarantine.listing(store)]


def opened(url: str):
    return open_remote(url)


def sql(url: str, query: str, pg_server=None) -> None:
    """Write straight into the shared store, as someone with access to the file or the
    database would (no fieldlog in between)."""
    if url.startswith("postgresql://"):
        pg_server.execute(url, query)
        return
    con = sqlite3.connect(url)
    con.execute(query)
    con.commit()
    con.close()


# ---------------------------------------------------------------------- keys and signatures
def test_sign_verify_round_trip_and_a_flipped_byte_fails(store):
    key = devkeys.load(store)
    assert key is not None and key.device == store.device_id()
    assert devkeys.load(store).public == key.public  # kept in meta, not made anew
    text = devkeys.change_text(STORE, key.device, 1, "contacts", "r1", "h1", '{"a":1}')
    sig = key.sign(text)
    assert devkeys.verify(key.public, text, sig)
    raw = bytearray(base64.b64decode(sig))
    raw[10] ^= 0x01
    assert not devkeys.verify(key.public, text, base64.b64encode(bytes(raw)).decode())
    altered = devkeys.change_text(STORE, key.device, 1, "contacts", "r1", "h1", '{"a":2}')
    assert not devkeys.verify(key.public, altered, sig)
    other_store = devkeys.change_text("1" * 32, key.device, 1, "contacts", "r1", "h1", '{"a":1}')
    assert not devkeys.verify(key.public, other_store, sig)
    head = devkeys.head_text(STORE, key.device, 1, "h1")
    assert not devkeys.verify(key.public, head, sig)  # a change's signature is not a head's
    for junk in ("", "not base64!", "AAAA", None):
        assert not devkeys.verify(key.public, text, junk)
    assert not devkeys.verify("zz", text, sig) and not devkeys.verify("00" * 32, text, sig)
    assert len(key.fingerprint) == 16 and key.fingerprint == devkeys.fingerprint(key.public)


def test_a_new_device_id_gets_a_new_key(store):
    key = devkeys.load(store)
    with store.write() as tx:
        tx.set_meta("device_id", "abcdef012345")
    new = devkeys.load(store)
    assert new.device == "abcdef012345" and new.public != key.public


def test_the_private_key_is_inside_an_encrypted_log(tmp_path, monkeypatch):
    monkeypatch.setenv("FIELDLOG_PASSPHRASE", "correct horse battery")
    s = Store.open(tmp_path / "enc.db", encrypt=True)
    key = devkeys.load(s)
    s.close()
    raw = (tmp_path / "enc.db").read_bytes()
    assert key.seed.hex().encode() not in raw and b"device_key" not in raw


def test_add_does_not_import_cryptography(tmp_path):
    db = tmp_path / "x.db"
    argv = ["fieldlog", "--db", str(db), "add", "Quick one"]
    code = (
        f"import sys\nfrom fieldlog.cli import main\nsys.argv = {argv!r}\n"
        "try:\n    main()\nexcept SystemExit as e:\n    assert not e.code\n"
        "print(' '.join(sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "cryptography" not in out.stdout.split()
    assert "fieldlog.db.devices" not in out.stdout.split()


# ---------------------------------------------------------------------- the trust list, replayed
def _entry(n: int, by: devkeys.DeviceKey, kind: str, subject: str, **fields) -> TrustRecord:
    data = {
        **fields,
        "kind": kind,
        "store": STORE,
        "device": subject,
        "by": by.device,
        "by_key": by.public,
        "at": "2026-01-01T00:00:00Z",
    }
    record = devkeys.record_json(data)
    return TrustRecord(n, kind, subject, record, by.sign(devkeys.trust_text(record)), by.device)


def _keys(tmp_path, n: int) -> list[devkeys.DeviceKey]:
    out = []
    for i in range(n):
        s = Store.open(tmp_path / f"k{i}.db")
        out.append(devkeys.load(s))
        s.close()
    return out


def test_only_a_supervisor_trusts_and_a_replay_after_revoke_does_nothing(tmp_path):
    boss, officer, newcomer = _keys(tmp_path, 3)
    log = [
        _entry(1, boss, "register", boss.device, key=boss.public, officer="Boss"),
        _entry(2, officer, "register", officer.device, key=officer.public, officer="Off"),
        _entry(3, newcomer, "register", newcomer.device, key=newcomer.public, officer="New"),
        _entry(4, boss, "trust", officer.device, key=officer.public, role="officer"),
        # an officer (not a supervisor) trusting someone: does not count
        _entry(5, officer, "trust", newcomer.device, key=newcomer.public, role="supervisor"),
    ]
    state = trustlog.build(STORE, log)
    assert state.founder is not None and state.founder.device == boss.device
    assert state.find(officer.device, officer.public).status == "trusted"
    assert state.find(newcomer.device, newcomer.public).status == "waiting"
    assert state.ignored == 1
    # a forged trust entry: the boss's name, another key's signature
    forged = _entry(6, newcomer, "trust", newcomer.device, key=newcomer.public, role="officer")
    data = json.loads(forged.record)
    data["by"], data["by_key"] = boss.device, boss.public
    record = devkeys.record_json(data)
    log.append(TrustRecord(6, "trust", newcomer.device, record, forged.sig, boss.device))
    # a supervisor's revoke, then the old trust entry copied again after it
    log.append(_entry(7, boss, "revoke", officer.device, key=officer.public, upto=10))
    log.append(dataclasses.replace(log[3], id=8))
    # another store's entry, and one whose row names another subject than its JSON
    other = _entry(9, boss, "trust", newcomer.device, key=newcomer.public, role="officer")
    log.append(dataclasses.replace(other, record=other.record.replace(STORE, "1" * 32)))
    log.append(dataclasses.replace(log[3], id=10, subject=newcomer.device))
    state = trustlog.build(STORE, log)
    assert state.find(newcomer.device, newcomer.public).status == "waiting"
    gone = state.find(officer.device, officer.public)
    assert gone.status == "revoked" and gone.revoked_upto == 10
    assert state.ignored == 5


def test_a_second_key_under_a_device_id_does_not_take_it_over(tmp_path):
    boss, officer, thief = _keys(tmp_path, 3)
    log = [
        _entry(1, boss, "register", boss.device, key=boss.public, officer="Boss"),
        _entry(2, officer, "register", officer.device, key=officer.public, officer="Off"),
        _entry(3, boss, "trust", officer.device, key=officer.public, role="officer"),
    ]
    # the thief registers its own key under the officer's device id (signing as that id)
    stolen = dataclasses.replace(thief, device=officer.device)
    log.append(_entry(4, stolen, "register", officer.device, key=thief.public, officer="Off"))
    state = trustlog.build(STORE, log)
    keys = {d.key: d.status for d in state.of(officer.device)}
    assert keys == {officer.public: "trusted", thief.public: "waiting"}


# ---------------------------------------------------------------------- in the sync round
def test_a_forged_change_is_quarantined_and_not_applied(pair, any_url, tmp_path, request):
    a, b = pair
    enroll(any_url, a, b)
    a.contacts.add({"summary": "the real one"})
    do_sync(a, any_url)
    remote = opened(any_url)
    (real,) = [c for c in remote.pull(0, 100) if c.tbl == "contacts"]
    body = json.loads(real.text)
    body["values"]["summary"] = "forged"
    text = json.dumps(body)
    rid = "f" * 32
    forged = [
        OutChange(900, "contacts", rid, real.hlc, text.replace("forged", "no signature")),
        OutChange(901, "contacts", rid[:-1] + "e", real.hlc, text.replace("forged", "bad sig"),
                  sig=real.sig),
    ]  # fmt: skip
    remote.push(a.device_id(), forged)  # a's id, without a's key
    remote.push("0123456789ab", [OutChange(1, "contacts", "d" * 32, real.hlc, text, sig="x")])
    remote.close()
    r = do_sync(b, any_url)
    assert summaries(b) == ["the real one"]
    reasons = held_reasons(b)
    assert any("not signed" in x for x in reasons), reasons
    assert any("signature does not match" in x for x in reasons), reasons
    assert any("0123456789ab is not registered" in x for x in reasons), reasons
    assert r.quarantined >= 3


def test_a_change_altered_in_the_store_is_quarantined(pair, any_url, request):
    a, b = pair
    enroll(any_url, a, b)
    a.contacts.add({"summary": "as written"})
    do_sync(a, any_url)
    pg = request.getfixturevalue("pg_server") if any_url.startswith("postgresql") else None
    sql(
        any_url,
        "UPDATE fieldlog_changes SET body = replace(body, 'as written', 'as altered')",
        pg,
    )
    do_sync(b, any_url)
    assert summaries(b) == []
    assert any("signature does not match" in x for x in held_reasons(b))


def test_an_unenrolled_device_waits_until_a_supervisor_trusts_it(pair, any_url, cli):
    a, b = pair
    do_sync(a, any_url)  # a founds the store's trust list
    b.contacts.add({"summary": "from b"})
    r = do_sync(b, any_url)
    me = b.device_id()
    assert any(f"waiting for a supervisor to trust it: fieldlog dept trust {me}" in n
               for n in r.notices)  # fmt: skip
    do_sync(a, any_url)
    assert summaries(a) == []
    assert any(f"device {me} (Sam Lee) is not enrolled" in x for x in held_reasons(a))
    # b cannot trust itself; a (the founder, a supervisor) can
    out = cli("--db", str(b.path), "dept", "trust", me, url_for(any_url, b), code=1)
    assert "Only a trusted supervisor's laptop can trust a device" in out.stderr
    out = cli("--db", str(a.path), "dept", "trust", me[:6], url_for(any_url, a))
    assert "Trusted " + me in out.stdout and "Sam Lee" in out.stdout
    released = do_sync(a, any_url)
    assert summaries(a) == ["from b"]
    assert released.pulled == 1  # released from quarantine: counted as pulled
    assert not any("not enrolled" in x for x in held_reasons(a))
    trail = {e["officer"] for e in a.query("SELECT officer FROM audit WHERE origin = ?", [me])}
    assert trail == {"Sam Lee"}  # the enrolled officer of the device that signed it


def test_revoke_stops_later_changes(pair, any_url, cli, tmp_path):
    a, b = pair
    enroll(any_url, a, b)
    b.contacts.add({"summary": "before the revoke"})
    do_sync(b, any_url)
    do_sync(a, any_url)
    cli("--db", str(a.path), "dept", "revoke", b.device_id(), url_for(any_url, a))
    b.contacts.add({"summary": "after the revoke"})
    r = do_sync(b, any_url)
    assert any("was revoked by Dana Ruiz" in n for n in r.notices)
    do_sync(a, any_url)
    assert summaries(a) == ["before the revoke"]
    assert any("was revoked by Dana Ruiz" in x for x in held_reasons(a))
    fresh = fresh_copy(any_url, tmp_path)  # a new laptop applies what was accepted before
    assert summaries(fresh) == ["before the revoke"]
    assert content(fresh) == content(a)
    fresh.close()
    again = cli("--db", str(a.path), "dept", "trust", b.device_id(), url_for(any_url, a), code=1)
    assert "was revoked" in again.stderr


def test_a_trust_entry_not_signed_by_a_supervisor_is_ignored(pair, any_url, tmp_path):
    a, b = pair
    enroll(any_url, a, b)  # b: an officer
    c = Store.open(tmp_path / "c.db")
    c.set_officer("Mallory")
    c.contacts.add({"summary": "from c"})
    do_sync(c, any_url)
    remote = opened(any_url)
    tb = Trust(b, remote, remote.store_id)
    tb.prepare()
    target = tb.resolve(c.device_id())
    tb._add("trust", target.device, {"key": target.key, "role": "supervisor"})  # not allowed
    remote.close()
    if is_dept(any_url):  # b's own login may not even write it: the database refuses
        mine = opened(url_for(any_url, b))
        try:
            tb = Trust(b, mine, mine.store_id)
            tb.prepare()
            with pytest.raises(SyncError, match="an officer"):
                tb._add("trust", target.device, {"key": target.key, "role": "supervisor"})
        finally:
            mine.close()
    do_sync(a, any_url)
    assert summaries(a) == []
    remote = opened(any_url)
    ta = Trust(a, remote, remote.store_id)
    ta.prepare()
    assert ta.resolve(c.device_id()).status == "waiting" and ta.state.ignored == 1
    remote.close()
    c.close()


def test_a_replaced_trust_list_is_detected(pair, any_url, tmp_path, cli, request):
    a, b = pair
    enroll(any_url, a, b)
    do_sync(a, any_url)
    pg = request.getfixturevalue("pg_server") if any_url.startswith("postgresql") else None
    sql(any_url, "DELETE FROM fieldlog_trust", pg)
    evil = Store.open(tmp_path / "evil.db")
    evil.set_officer("Mallory")
    evil.contacts.add({"summary": "planted"})
    if is_dept(any_url):
        # An officer's login may not found the emptied list (the database refuses, and
        # nothing is applied); a supervisor's may: a rogue supervisor, or the owner's
        # password in the wrong hands. The laptops must still see the list was replaced.
        with pytest.raises(SyncError, match="would found the trust list"):
            do_sync(evil, any_url)
        url_for(any_url, evil, "supervisor")
    r = do_sync(evil, any_url)  # founds the emptied list
    assert any("founded the trust list" in n for n in r.notices)
    r = do_sync(a, any_url)
    assert any("trust list of this store was replaced" in n for n in r.notices), r.notices
    assert summaries(a) == []
    assert any("trust list was replaced" in x for x in held_reasons(a))
    fp = devkeys.load(a).fingerprint
    out = cli("--db", str(a.path), "dept", "pin", fp, url_for(any_url, a), code=1)
    assert "not " + fp in out.stderr and "Traceback" not in out.stderr
    evil.close()


def test_a_shortened_trust_list_is_detected(pair, any_url, request):
    a, b = pair
    enroll(any_url, a, b)
    do_sync(a, any_url)
    do_sync(b, any_url)
    pg = request.getfixturevalue("pg_server") if any_url.startswith("postgresql") else None
    sql(any_url, "DELETE FROM fieldlog_trust WHERE kind = 'revoke' OR id = "
        "(SELECT max(id) FROM fieldlog_trust)", pg)  # fmt: skip
    r = do_sync(a, any_url)
    assert any("was rewritten" in n for n in r.notices), r.notices


def test_legacy_history_applies_and_later_unsigned_changes_do_not(tmp_path, any_url):
    old = Store.open(tmp_path / "old.db")  # a laptop of the previous release
    old.set_officer("Old Timer")
    old.contacts.add({"summary": "from before signatures"})
    out, _ = old.sync.outbox_page(0, 100)
    remote = opened(any_url)
    remote.push(old.device_id(), out)  # unsigned, as the previous release pushed
    remote.close()
    founder = Store.open(tmp_path / "founder.db")
    founder.set_officer("Dana Ruiz")
    do_sync(founder, any_url)
    assert summaries(founder) == ["from before signatures"]
    old.contacts.add({"summary": "an old release, after the founding"})
    out, _ = old.sync.outbox_page(len(out), 100)
    remote = opened(any_url)
    remote.push(old.device_id(), out)
    remote.close()
    fresh = fresh_copy(any_url, tmp_path)
    assert summaries(fresh) == ["from before signatures"]
    assert any("not signed" in x for x in held_reasons(fresh))
    for s in (old, founder, fresh):
        s.close()


def test_pushed_by_another_database_role_is_quarantined(pg_server, pg_url, pair):
    a, b = pair
    enroll(pg_url, a, b)
    dbname = pg_url.rsplit("/", 1)[1]
    pg_server.execute(pg_url, "CREATE ROLE intruder LOGIN PASSWORD 'intruder-pw'")
    pg_server.execute(pg_url, f'GRANT CONNECT ON DATABASE "{dbname}" TO intruder')
    pg_server.execute(pg_url, "GRANT ALL ON ALL TABLES IN SCHEMA public TO intruder")
    pg_server.execute(pg_url, "GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO intruder")
    other = pg_server.url(dbname, user="intruder", password="intruder-pw")
    b.contacts.add({"summary": "from b, through another role"})
    out, _ = b.sync.outbox_page(0, 100)
    remote = opened(other)
    t = Trust(b, remote, remote.store_id)
    t.prepare()
    remote.push(b.device_id(), [dataclasses.replace(c, sig=t.sign(c)) for c in out])
    remote.close()
    do_sync(a, pg_url)
    assert summaries(a) == []
    reasons = held_reasons(a)
    assert any("pushed by database role intruder but device" in x for x in reasons), reasons


# ---------------------------------------------------------------------- the dept commands
def test_dept_commands_and_their_errors(pair, remote_url, cli, tmp_path):
    a, b = pair
    db_a, db_b = str(a.path), str(b.path)
    key = cli.json("--db", db_b, "dept", "key")
    assert key["device"] == b.device_id() and len(key["fingerprint"]) == 16
    assert key["fingerprint"] in cli("--db", db_b, "dept", "key").stdout
    r = cli("--db", db_a, "dept", "devices", remote_url, code=1)  # not created by dept
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
    do_sync(a, remote_url)
    do_sync(b, remote_url)
    listed = cli.json("--db", db_a, "dept", "devices", remote_url)
    by_id = {d["device"]: d for d in listed["devices"]}
    assert by_id[a.device_id()]["status"] == "trusted" and by_id[a.device_id()]["founder"]
    assert by_id[b.device_id()]["status"] == "waiting"
    assert by_id[b.device_id()]["fingerprint"] == key["fingerprint"]
    assert listed["founder"] == devkeys.load(a).fingerprint
    text = cli("--db", db_a, "dept", "devices", remote_url).stdout
    assert "founded by Dana Ruiz" in text and "waiting" in text and "Sam Lee" in text
    for args, needle in [
        (("trust", "abc", remote_url), "too short"),
        (("trust", "ffffffffffff", remote_url), "No device 'ffffffffffff'"),
        (("trust", b.device_id(), remote_url, "--role", "chief"), "not a role"),
        (("revoke", a.device_id(), remote_url), "cannot revoke itself"),
    ]:
        r = cli("--db", db_a, "dept", *args, code=1)
        err = r.stderr.strip()
        assert needle in err and "Traceback" not in err and len(err.splitlines()) == 1, err
    cli("--db", db_a, "dept", "trust", key["fingerprint"][:8], remote_url, "--role", "supervisor")
    listed = cli.json("--db", db_a, "dept", "devices", remote_url)
    (bd,) = [d for d in listed["devices"] if d["device"] == b.device_id()]
    assert (bd["status"], bd["role"], bd["trusted_by"]) == ("trusted", "supervisor", "Dana Ruiz")
    # b is a supervisor now: it may revoke; a pin of the right founder passes, a wrong one not
    cli("--db", db_b, "dept", "pin", listed["founder"], remote_url)
    r = cli("--db", db_b, "dept", "pin", "deadbeefdeadbeef", remote_url, code=1)
    assert "do not sync with it" in r.stderr
    # several saved remotes and none named: name one
    cli("--db", db_a, "remote", "add", "one", remote_url)
    cli("--db", db_a, "remote", "add", "two", str(tmp_path / "two.fieldlog"))
    r = cli("--db", db_a, "dept", "devices", code=1)
    assert "name one" in r.stderr
    assert "founded by" in cli("--db", db_a, "dept", "devices", "one").stdout


def test_junk_in_the_trust_list_is_ignored_never_fatal(pair, any_url, cli):
    a, b = pair
    remote = opened(any_url)
    for kind, subject, record, sig, signer in [
        ("register", "x", "not json", "x", "x"),  # before any laptop: founds nothing
        ("register", "", "[1, 2]", "", ""),
        ("trust", "\x01", '{"kind": "trust"}', "A" * 88, "zz"),
        ("wat", "y" * 5000, "{}", "!!", "y"),
    ]:
        remote.add_trust(kind, subject, record, sig, signer)
    remote.close()
    enroll(any_url, a, b)
    b.contacts.add({"summary": "from b"})
    do_sync(b, any_url)
    do_sync(a, any_url)
    assert summaries(a) == ["from b"]
    mine = url_for(any_url, a)
    listed = cli.json("--db", str(a.path), "dept", "devices", mine)
    assert listed["founder"] == devkeys.load(a).fingerprint
    assert len(listed["devices"]) == 2
    assert (
        "4 entries of the trust list did not count"
        in cli("--db", str(a.path), "dept", "devices", mine).stdout
    )
