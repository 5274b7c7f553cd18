"""The audit's reach (issue 12): a keyed chain on an encrypted log, the store as its witness,
``verify --expect``, ``sqlite_sequence`` not trusted, the outbox, meta, purges and the search
index checked, and no traceback on a damaged log. Each attack from the issue is played here
the way someone with write access to the file would, and must be caught where docs/audit.md
says it is."""

from __future__ import annotations

import dataclasses
import inspect
import json
import sqlite3
from pathlib import Path

import pytest

from fieldlog import sync
from fieldlog.db import audit
from fieldlog.db.audit import keyed, witness
from fieldlog.db.remotes.factory import open_remote
from fieldlog.db.remotes.types import Head
from fieldlog.db.store import Store
from tests.lib.crypto import PASS
from tests.lib.sync_helpers import do_sync

# ---------------------------------------------------------------------- the attacker's kit


def forge(conn, *, tbl: str, row_id: str, action: str, changes: dict | None, row=None) -> int:
    """Append an entry the way a script that knows fieldlog's format would: chained to the
    last entry, hashed with plain SHA-256 (it has no audit key). Returns its seq."""
    seq, prev = conn.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
    text = audit.canonical(changes) if changes is not None else None
    e = {
        "seq": seq + 1,
        "at": "2026-11-30T10:00:00.000Z",
        "officer": "Ofc Reyes",
        "origin": conn.execute("SELECT value FROM meta WHERE key = 'device_id'").fetchone()[0],
        "tbl": tbl,
        "row_id": row_id,
        "action": action,
        "changes_hash": audit.sha256(text or "{}"),
        "row_hash": audit.row_hash(row) if row is not None else None,
        "prev": prev,
    }
    e["hash"] = audit.entry_hash(e)
    conn.execute(
        f"INSERT INTO audit ({', '.join(e)}, changes) VALUES ({', '.join('?' * (len(e) + 1))})",
        [*e.values(), text],
    )
    return seq + 1


def rehash_from(conn, first: int) -> None:
    """Rewrite the chain from entry ``first`` to the end, consistently (plain SHA-256)."""
    cur = conn.execute(
        f"SELECT {', '.join(audit.ENTRY_FIELDS)}, hash FROM audit WHERE seq >= ? ORDER BY seq",
        [first],
    )
    names = [*audit.ENTRY_FIELDS, "hash"]
    rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    prev = conn.execute("SELECT hash FROM audit WHERE seq = ?", [first - 1]).fetchone()
    prev = prev[0] if prev else audit.FIRST_PREV
    for e in rows:
        e["prev"] = prev
        prev = audit.entry_hash(e)
        conn.execute(
            "UPDATE audit SET prev = ?, hash = ? WHERE seq = ?", [e["prev"], prev, e["seq"]]
        )


def raw(path: Path):
    conn = sqlite3.connect(path, isolation_level=None)
    return conn


def row_of(conn, table: str, rid: str) -> dict:
    cur = conn.execute(f"SELECT * FROM {table} WHERE id = ?", [rid])
    return {d[0]: v for d, v in zip(cur.description, cur.fetchone(), strict=True)}


def clean_exit(result) -> None:
    """No exception escaped the command (CliRunner keeps it apart from the output)."""
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )


def verify_lines(cli, *args: str, code: int = 1) -> str:
    result = cli("verify", *args, code=code)
    clean_exit(result)
    return result.stdout


def contacts(store: Store, *summaries: str) -> list[str]:
    return [store.contacts.add({"summary": s, "neighborhood": "Eastside"}) for s in summaries]


def round_reports(result: sync.Result) -> str:
    """Every text the sync round's result carries (whatever the round names its field)."""
    out = []
    for value in dataclasses.asdict(result).values():
        if isinstance(value, str):
            out.append(value)
        elif isinstance(value, list | tuple):
            out += [str(v) for v in value]
    return "\n".join(out)


ROUND = inspect.getsource(sync.sync_with)
ROUND_CHECKS = "witness.check" in ROUND  # the round checks the store's heads (helper A)
# The heads must be read with the device id the log had: a truncated outbox makes
# check_origin mint a new one, whose heads are none.
ROUND_ORDER_OK = ROUND_CHECKS and ROUND.index("witness.check") < ROUND.index("check_origin(")


def store_heads(store: Store, url: str) -> tuple[list[Head], bool]:
    """The heads the store holds for this device, and True; until the round pushes them
    (helpers A and R), the head this log had right after its sync, as the round would have
    pushed it, and False."""
    origin = store.device_id()
    remote = open_remote(url)
    try:
        held = list(remote.heads(origin)) if hasattr(remote, "heads") else []
    finally:
        remote.close()
    if held:
        return held, True
    seq, hash_ = witness.head(store.conn)
    return [Head(origin, seq, hash_, "2026-11-30T10:00:00Z")], False


# ---------------------------------------------------------------------- the keyed chain
def test_an_encrypted_log_has_a_keyed_chain_that_verifies(tmp_path):
    path = tmp_path / "enc.db"
    with Store.open(path, passphrase=PASS, encrypt=True) as s:
        with s.write() as tx:
            keyed.start(tx.conn)  # idempotent: a new encrypted log is keyed already
        key_text, from_text = keyed.read(s.conn)
        assert key_text and len(bytes.fromhex(key_text)) == 32 and int(from_text) >= 1
        with s.write() as tx:
            keyed.start(tx.conn)
        assert keyed.read(s.conn) == (key_text, from_text)
        contacts(s, "Met the baker", "Met the grocer")
        rep = audit.verify(s.conn)
        assert rep.ok, rep.problems
        assert rep.keyed_from == int(from_text)
        for r in s.conn.execute(
            f"SELECT {', '.join(audit.ENTRY_FIELDS)}, hash FROM audit"
        ).fetchall():
            e = dict(zip([*audit.ENTRY_FIELDS, "hash"], r, strict=True))
            assert e["hash"] == keyed.hmac_text(bytes.fromhex(key_text), audit.entry_text(e))
            assert e["hash"] != audit.entry_hash(e)


def test_keying_refuses_a_plain_log_and_a_missing_transaction(store, tmp_path):
    with store.write() as tx, pytest.raises(ValueError, match="encrypted"):
        keyed.start(tx.conn)
    with Store.open(tmp_path / "enc.db", passphrase=PASS, encrypt=True) as s:
        with pytest.raises(ValueError, match="transaction"):
            keyed.start(s.conn)


def test_a_chain_keyed_midway_links_through_the_switch(tmp_path):
    """``fieldlog encrypt`` of a log with history: entries before the switch stay SHA-256."""
    path = tmp_path / "log.db"
    with Store.open(path) as s:
        contacts(s, "Before encryption")
    from fieldlog.db import crypto

    crypto.encrypt_log(path, PASS)
    with Store.open(path, passphrase=PASS) as s:
        with s.write() as tx:
            keyed.start(tx.conn)  # what encrypt does (idempotent if it did already)
        start = int(keyed.read(s.conn)[1])
        assert start > 1
        contacts(s, "After encryption")
        rep = audit.verify(s.conn)
        assert rep.ok, rep.problems
        assert rep.keyed_from == start


def test_the_key_survives_a_passphrase_change(tmp_path):
    from fieldlog.db import crypto

    path = tmp_path / "enc.db"
    with Store.open(path, passphrase=PASS, encrypt=True) as s:
        contacts(s, "Met the baker")
        before = keyed.read(s.conn)
    crypto.change_passphrase(path, "another passphrase", passphrase=PASS)
    with Store.open(path, passphrase="another passphrase") as s:
        assert keyed.read(s.conn) == before
        contacts(s, "Met the grocer")
        assert audit.verify(s.conn).ok


def test_a_forged_entry_on_an_encrypted_log_is_caught_by_the_key(tmp_path):
    """Someone who can open the file but does not hold the audit key adds a contact and its
    entry, in fieldlog's documented format: verify names the entry."""
    path = tmp_path / "enc.db"
    with Store.open(path, passphrase=PASS, encrypt=True) as s:
        cid = contacts(s, "Met the baker")[0]
        conn = s.conn
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("UPDATE contacts SET summary = 'Never met' WHERE id = ?", [cid])
        seq = forge(
            conn, tbl="contacts", row_id=cid, action="update",
            changes={"summary": "Never met"}, row=row_of(conn, "contacts", cid),
        )  # fmt: skip
        conn.execute("COMMIT")
        rep = audit.verify(conn)
        assert not rep.ok
        assert any(
            f"audit entry #{seq} (update of contact {cid}) was not written by fieldlog: its "
            "hash is plain SHA-256" in p
            for p in rep.problems
        ), rep.problems


def test_the_same_forgery_on_a_plain_log_passes_verify_alone(cli, db_path):
    """What docs/audit.md says: on a plaintext log, a consistent append is not detectable by
    the log alone (only an anchor catches a rewrite below it)."""
    cli("init", "--officer", "Ofc Reyes")
    cid = cli.new("add", "Met the baker")
    conn = raw(db_path)
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("UPDATE contacts SET summary = 'Never met' WHERE id = ?", [cid])
    forge(conn, tbl="contacts", row_id=cid, action="update", changes={"summary": "Never met"},
          row=row_of(conn, "contacts", cid))  # fmt: skip
    conn.execute("COMMIT")
    conn.close()
    assert verify_lines(cli, code=0).startswith("OK: ")


def test_a_damaged_audit_key_stops_writes_with_one_line(cli, db_path, monkeypatch):
    monkeypatch.setenv("FIELDLOG_PASSPHRASE", PASS)
    cli("init", "--officer", "Ofc Diaz", "--encrypt")
    cli("add", "Met the baker")
    with Store.open(db_path, passphrase=PASS) as s:
        s.conn.execute("UPDATE meta SET value = 'zz' WHERE key = 'audit_key'")
    result = cli("add", "Met the grocer", code=1)
    clean_exit(result)
    assert "audit key is damaged" in result.stderr and len(result.stderr.splitlines()) == 1
    out = verify_lines(cli)
    assert "The audit key in meta is damaged" in out


# ---------------------------------------------------------------------- the store's witness
def test_truncation_with_outbox_and_counters_rewound_is_caught_at_the_next_sync(
    db_path, remote_url, cli
):
    """The issue's attack: delete the newest contact with its audit and outbox rows, rewind
    sqlite_sequence (and the push cursor): the log alone looks sound; the store saw the
    longer chain."""
    with Store.open(db_path) as s:
        s.set_officer("Ofc Reyes")
        contacts(s, "Met the baker", "Met the grocer")
        newest = contacts(s, "Met the florist")[0]
        do_sync(s, remote_url)
        heads, witnessed = store_heads(s, remote_url)
        end = witness.head(s.conn)[0]
    conn = raw(db_path)
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("DELETE FROM contacts WHERE id = ?", [newest])
    conn.execute("DELETE FROM audit WHERE row_id = ?", [newest])
    conn.execute("DELETE FROM changes WHERE row_id = ?", [newest])
    for t in ("audit", "changes"):
        conn.execute(
            f"UPDATE sqlite_sequence SET seq = (SELECT max(seq) FROM {t}) WHERE name = '{t}'"
        )
    conn.execute(
        "UPDATE meta SET value = (SELECT max(seq) FROM changes) WHERE key LIKE 'sync:%:pushed'"
    )
    conn.execute("DELETE FROM meta WHERE key = ?", [witness.PUSHED_KEY])
    conn.execute("COMMIT")
    conn.close()
    assert verify_lines(cli, code=0).startswith("OK: ")  # the log alone cannot tell
    with Store.open(db_path) as s:
        lines = witness.check(s.conn, heads)
        assert lines == [
            f"The audit chain was truncated: the store saw entry {end} "
            f"(at {heads[-1].at}), this log ends at {end - 1} (entries were removed from its "
            "end, or it is an older copy (a restored backup))."
        ]
        if ROUND_CHECKS and witnessed:  # the round checks the store's heads: it says so too
            result = do_sync(s, remote_url)
            if not ROUND_ORDER_OK and "truncated" not in round_reports(result):
                pytest.xfail("fieldlog.sync: witness.check must run before check_origin")
            assert "The audit chain was truncated" in round_reports(result)


def test_a_rewrite_below_the_store_head_is_caught_and_an_append_above_it_is_not(
    db_path, remote_url
):
    with Store.open(db_path) as s:
        s.set_officer("Ofc Reyes")
        ids = contacts(s, "Met the baker", "Met the grocer", "Met the florist")
        do_sync(s, remote_url)
        heads, _ = store_heads(s, remote_url)
        top = heads[-1].seq
        contacts(s, "Met the tailor")  # after the push: not witnessed yet
        assert witness.check(s.conn, heads) == []
    # Rewrite from entry 2 to the end, rows and hashes consistent: the log verifies alone.
    conn = raw(db_path)
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("UPDATE contacts SET summary = 'Rewritten' WHERE id = ?", [ids[1]])
    state = audit.state_text(*audit.row_texts(row_of(conn, "contacts", ids[1])))
    text = audit.row_texts(row_of(conn, "contacts", ids[1]))[1]
    conn.execute(
        "UPDATE audit SET changes = ?, changes_hash = ?, row_hash = ? WHERE row_id = ?",
        [text, audit.sha256(text), audit.sha256(state), ids[1]],
    )
    rehash_from(conn, 2)
    conn.execute("COMMIT")
    conn.close()
    with Store.open(db_path) as s:
        if witness.remembered(s.conn) is not None:  # the head the round kept in meta
            assert "rewritten at or below entry" in " ".join(audit.verify(s.conn).problems)
            s.conn.execute(
                "DELETE FROM meta WHERE key = ?", [witness.PUSHED_KEY]
            )  # a careful attacker
        assert audit.verify(s.conn).ok
        lines = witness.check(s.conn, heads)
        assert len(lines) == 1
        assert lines[0].startswith(f"The audit chain was rewritten at or below entry {top}:")
        # the store's heads travel into verify as well (what verify --remote passes)
        rep = audit.verify(s.conn, heads=heads)
        assert not rep.ok and rep.anchors == len(heads)
        # and the next sync says so (fieldlog sync then exits 1)
        r = do_sync(s, remote_url)
        assert r.alarm and any("rewritten at or below entry" in p for p in r.audit_problems)


def test_witness_ignores_malformed_heads(store):
    contacts(store, "Met the baker")
    seq, h = witness.head(store.conn)
    junk = [
        Head("x", "7", h, ""),  # type: ignore[arg-type]
        Head("x", seq, "not hex at all!", ""),
        Head("x", 0, h, ""),
        Head("x", seq, h[:8], ""),
    ]
    assert witness.check(store.conn, junk) == []
    assert witness.check(store.conn, [Head("x", seq, h, "")]) == []
    assert "truncated" in witness.check(store.conn, [Head("x", seq + 5, h, "")])[0]


def test_the_last_pushed_head_is_checked_offline(db_path, cli):
    cli("init", "--officer", "Ofc Reyes")
    cli("add", "Met the baker")
    cli("add", "Met the grocer")
    with Store.open(db_path) as s:
        seq, h = witness.head(s.conn)
        witness.remember(s.conn, Head(s.device_id(), seq, h, "2026-11-30T10:00:00Z"))
        witness.remember(s.conn, (seq - 1, "0" * 64))  # an older head never replaces it
        assert witness.remembered(s.conn).seq == seq
    assert verify_lines(cli, code=0).startswith("OK: ")
    conn = raw(db_path)
    conn.execute("DELETE FROM audit WHERE seq = ?", [seq])
    conn.execute("UPDATE sqlite_sequence SET seq = ? WHERE name = 'audit'", [seq - 1])
    conn.close()
    out = verify_lines(cli)
    assert (
        f"The audit chain was truncated: this log pushed entry {seq} to a store (at "
        f"2026-11-30T10:00:00Z), this log ends at {seq - 1}"
    ) in out


# ---------------------------------------------------------------------- --expect
def test_expect_matches_and_mismatches(cli, db_path):
    cli("init", "--officer", "Ofc Reyes")
    cli("add", "Met the baker")
    ok = cli("verify").stdout
    anchor = ok.split("(head ")[1].split(")")[0]  # what verify prints: SEQ:HASH16
    seq = int(anchor.split(":")[0])
    assert "1 anchor held" in verify_lines(cli, "--expect", anchor, code=0)
    cli("add", "Met the grocer")  # the chain grows past the anchor: still held
    assert verify_lines(cli, "--expect", anchor, "--expect", anchor, code=0).startswith("OK: ")
    out = verify_lines(cli, "--expect", f"{seq}:{'ab' * 8}")
    assert f"The audit chain was rewritten at or below entry {seq}: the anchor you gave" in out
    out = verify_lines(cli, "--expect", f"{seq + 50}:{'ab' * 32}")
    assert "The audit chain was truncated: the anchor you gave" in out
    # a rewrite of the whole chain, consistent, is caught by the anchor alone
    conn = raw(db_path)
    conn.execute("UPDATE audit SET at = '2020-01-01T00:00:00.000Z' WHERE seq = 1")
    rehash_from(conn, 1)
    conn.close()
    assert "rewritten at or below entry" in verify_lines(cli, "--expect", anchor)


@pytest.mark.parametrize("bad", ["12", "x:abcd", "3:abc", "3:" + "g" * 16, ":", "-1:" + "a" * 16])
def test_expect_that_is_not_an_anchor_is_one_line(cli, bad):
    cli("init", "--officer", "Ofc Reyes")
    result = cli("verify", "--expect", bad, code=1)
    clean_exit(result)
    assert "is not an anchor: give SEQ:HASH" in result.stderr


def test_verify_remote_checks_the_store_heads(cli, db_path, remote_url):
    cli("init", "--officer", "Ofc Reyes")
    cli("add", "Met the baker")
    cli("sync", remote_url)
    remote = open_remote(remote_url)
    has_heads = hasattr(remote, "heads")
    remote.close()
    if not has_heads:
        result = cli("verify", "--remote", remote_url, code=1)
        assert "does not keep audit heads" in result.stderr
        return
    assert verify_lines(cli, "--remote", remote_url, code=0).startswith("OK: ")
    missing = cli("verify", "--remote", str(Path(remote_url).with_name("nowhere.fieldlog")),
                  code=1)  # fmt: skip
    clean_exit(missing)
    assert not Path(remote_url).with_name("nowhere.fieldlog").exists()
    with Store.open(db_path) as s:
        if not store_heads(s, remote_url)[1]:
            return  # the round does not push heads yet: nothing for the store to contradict
    with Store.open(db_path) as s:
        seq = witness.head(s.conn)[0]
    conn = raw(db_path)
    conn.execute("DELETE FROM audit WHERE seq = ?", [seq])
    conn.execute("UPDATE sqlite_sequence SET seq = ? WHERE name = 'audit'", [seq - 1])
    conn.execute("DELETE FROM meta WHERE key = ?", [witness.PUSHED_KEY])
    conn.close()
    assert "The audit chain was truncated: the store saw entry" in verify_lines(
        cli, "--remote", remote_url
    )


# ---------------------------------------------------------------------- sqlite_sequence
def test_sqlite_sequence_is_a_hint_not_the_truth(cli, db_path):
    cli("init", "--officer", "Ofc Reyes")
    cli("add", "Met the baker")
    conn = raw(db_path)
    conn.execute("UPDATE sqlite_sequence SET seq = 9223372036854775807 WHERE name = 'audit'")
    conn.close()
    cli("add", "Met the grocer")  # a planted counter does not stop the log writing
    with Store.open(db_path) as s:
        seqs = [r[0] for r in s.conn.execute("SELECT seq FROM audit ORDER BY seq")]
        assert seqs == list(range(1, len(seqs) + 1))  # numbered from the chain, no gap
    out = verify_lines(cli)
    assert f"entries after #{seqs[-1]} were removed from the end of the chain" in out
    conn = raw(db_path)
    conn.execute("UPDATE sqlite_sequence SET seq = 1 WHERE name = 'audit'")
    conn.close()
    assert "counter of audit entries (sqlite_sequence) was set back to 1" in verify_lines(cli)
    conn = raw(db_path)
    conn.execute("UPDATE sqlite_sequence SET seq = 9223372036854775807 WHERE name = 'changes'")
    conn.close()
    assert "counter of outbox rows (sqlite_sequence) was set to 9223372036854775807" in (
        verify_lines(cli)
    )


# ---------------------------------------------------------------------- purges
def _old_contact_purged(cli, db_path) -> str:
    cli("init", "--officer", "Ofc Reyes")
    old = cli.new("add", "An old visit", "--at", "2020-01-05 10:00")
    cli("add", "A recent visit")
    cli("purge", "--older-than", "2y", "--yes")
    return old


def test_a_real_purge_verifies(cli, db_path):
    _old_contact_purged(cli, db_path)
    assert "1 purged" in verify_lines(cli, code=0)


def test_a_deletion_passed_off_as_a_purge_is_named(cli, db_path):
    cli("init", "--officer", "Ofc Reyes")
    cid = cli.new("add", "A recent visit")
    conn = raw(db_path)
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("DELETE FROM contacts WHERE id = ?", [cid])
    conn.execute("DELETE FROM changes WHERE row_id = ?", [cid])
    conn.execute("UPDATE audit SET changes = NULL WHERE row_id = ?", [cid])
    seq = forge(conn, tbl="contacts", row_id=cid, action="purge",
                changes={"older_than": "2024-11-30"})  # fmt: skip
    at = conn.execute("SELECT at FROM audit WHERE seq = ?", [seq]).fetchone()[0]
    conn.execute("INSERT INTO purged VALUES ('contacts', ?, ?)", [cid, at])
    conn.execute("COMMIT")
    conn.close()
    out = verify_lines(cli)
    assert (
        f"The purge of contact {cid} (audit entry #{seq}) follows entry #1 (insert), not a deletion"
    ) in out
    assert "passed off as purged" in out


def test_a_purge_without_its_trail_is_named(cli, db_path):
    """A partner deleted yesterday, "purged" with a cutoff two years back; the content of
    its entries left in place, no row in purged, a cutoff after the purge."""
    cli("init", "--officer", "Ofc Reyes")
    cli("org", "add", "Parks Dept")
    with Store.open(db_path) as s:
        oid = s.conn.execute("SELECT id FROM organizations").fetchone()[0]
        with s.write() as tx:
            tx.tombstone("organizations", oid)  # deleted today (no CLI deletes a partner)
    conn = raw(db_path)
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("DELETE FROM organizations WHERE id = ?", [oid])
    seq = forge(conn, tbl="organizations", row_id=oid, action="purge",
                changes={"older_than": "2024-11-30"})  # fmt: skip
    late = forge(conn, tbl="organizations", row_id="0" * 32, action="purge",
                 changes={"older_than": "2999-01-01"})  # fmt: skip
    conn.execute("COMMIT")
    conn.close()
    out = verify_lines(cli)
    assert f"The purge of organization {oid} (audit entry #{seq}) left the content of entry" in out
    assert f"(audit entry #{seq}) is not in the purged list" in out
    assert "after the cutoff (2024-11-30) the purge records: it is not a retention purge" in out
    assert f"(audit entry #{late}) records a cutoff (2999-01-01) after the purge itself" in out


# ---------------------------------------------------------------------- outbox, meta, FTS
def test_outbox_inconsistencies_are_named(cli, db_path):
    cli("init", "--officer", "Ofc Reyes")
    cid = cli.new("add", "Met the baker")
    conn = raw(db_path)
    conn.execute("INSERT INTO changes (tbl, row_id, hlc, fields) VALUES ('evil', 'x', 'h', '*')")
    conn.execute(
        "INSERT INTO changes (tbl, row_id, hlc, fields) VALUES ('contacts', ?, 'h', 'rank')",
        [cid],
    )
    conn.execute(
        "INSERT INTO changes (tbl, row_id, hlc, fields) VALUES ('contacts', ?, 'h', '*')",
        ["f" * 32],
    )
    conn.execute("INSERT INTO changes (tbl, row_id, hlc, fields) VALUES ('contacts', ?, ?, '*')",
                 [cid, b"\x00"])  # fmt: skip
    conn.execute("INSERT INTO meta VALUES ('sync:0123abcd:pushed', '999')")
    conn.close()
    out = verify_lines(cli)
    assert "names a table fieldlog does not sync ('evil')" in out
    assert "names fields a contact does not have (rank)" in out
    assert f"is a change of the contact {'f' * 32}, which is neither in the log nor purged" in out
    assert "holds a value fieldlog never writes" in out
    assert "pushed its outbox up to row #999 to store 0123abcd, but the outbox ends at" in out


def test_meta_bookkeeping_that_fieldlog_cannot_have_written_is_named(cli, db_path):
    cli("init", "--officer", "Ofc Reyes")
    cli("add", "Met the baker")
    conn = raw(db_path)
    conn.execute("UPDATE meta SET value = 'yesterday' WHERE key = 'hlc'")
    conn.execute("INSERT INTO meta VALUES ('sync:abc:pulled', 'many')")
    conn.execute("INSERT INTO meta VALUES ('last_sync', 'soon')")
    conn.execute("UPDATE meta SET value = ? WHERE key = 'device_id'", [b"\x01\x02"])
    conn.close()
    out = verify_lines(cli)
    assert "meta 'hlc' is not a clock stamp" in out
    assert "meta 'sync:abc:pulled' is not a sequence number" in out
    assert "meta 'last_sync' is not a time" in out
    assert "meta 'device_id' holds bytes data, not text" in out


def test_search_index_out_of_step_is_named(cli, db_path):
    cli("init", "--officer", "Ofc Reyes")
    cid = cli.new("add", "Met the baker")
    cli("add", "Met the grocer")
    conn = raw(db_path)
    rowid = conn.execute("SELECT rowid FROM contacts WHERE id = ?", [cid]).fetchone()[0]
    conn.execute("DELETE FROM contacts_fts_docsize WHERE id = ?", [rowid])
    conn.execute("DROP TRIGGER concerns_au")
    conn.close()
    out = verify_lines(cli)
    assert (
        "The search index of contacts does not match its records (1 live record(s) missing" in out
    )
    assert "The search index of concerns is no longer kept up to date (trigger concerns_au" in out


def test_a_damaged_search_index_is_named(cli, db_path):
    cli("init", "--officer", "Ofc Reyes")
    cli("add", "Met the baker")
    conn = raw(db_path)
    conn.execute("UPDATE contacts_fts_data SET block = x'00ff00ff' WHERE id > 10")
    conn.close()
    out = verify_lines(cli)
    assert "The search index of contacts is damaged (FTS5's integrity check fails)" in out


# ---------------------------------------------------------------------- no traceback
def test_a_dropped_audit_table_is_one_line(cli, db_path):
    cli("init", "--officer", "Ofc Reyes")
    cid = cli.new("add", "Met the baker")
    conn = raw(db_path)
    conn.execute("DROP TABLE audit")
    conn.close()
    out = verify_lines(cli)
    assert "- The audit table is missing: this log's history was removed outside fieldlog" in out
    assert len([line for line in out.splitlines() if line.startswith("- ")]) == 1
    for args in (("history", cid), ("add", "Met the grocer")):
        result = cli(*args, code=1)
        clean_exit(result)
        assert "This log's audit table is missing" in result.stderr


def test_a_missing_purged_table_and_dropped_column_are_one_line_each(cli, db_path):
    cli("init", "--officer", "Ofc Reyes")
    cli("add", "Met the baker")
    conn = raw(db_path)
    conn.execute("DROP TABLE purged")
    conn.close()
    out = verify_lines(cli)
    assert "The purged table is missing" in out
    conn = raw(db_path)
    conn.execute("DROP INDEX audit_row")
    conn.execute("ALTER TABLE audit DROP COLUMN row_hash")
    conn.close()
    out = verify_lines(cli)
    assert "Could not check the audit chain: " in out


def test_non_json_changes_and_garbage_values_are_named_not_raised(cli, db_path):
    cli("init", "--officer", "Ofc Reyes")
    cid = cli.new("add", "Met the baker")
    cli("edit", cid, "--summary", "Met the baker again")
    conn = raw(db_path)
    conn.execute("UPDATE audit SET changes = 'not json' WHERE seq = 1")
    conn.execute("UPDATE contacts SET summary = 'by hand' WHERE id = ?", [cid])
    conn.execute("UPDATE audit SET officer = ? WHERE seq = 2", [b"\xff"])
    conn.close()
    out = verify_lines(cli)
    assert "The changes recorded in audit entry #1" in out
    assert (
        "Audit entry #2 holds a value fieldlog never writes (its officer is a bytes value)" in out
    )
    assert f"The contact {cid} was changed outside fieldlog" in out
    history = cli("history", cid)
    clean_exit(history)
    assert "content unreadable" in history.stdout
    got = json.loads(cli("verify", "--json", code=1).stdout)
    assert got["ok"] is False and got["problems"]


def test_the_witness_on_a_log_without_its_audit_table_is_one_line(store):
    from fieldlog.errors import StorageError

    contacts(store, "Met the baker")
    seq, h = witness.head(store.conn)
    store.conn.execute("DROP TABLE audit")
    for call in (lambda: witness.head(store.conn),
                 lambda: witness.check(store.conn, [Head("x", seq, h, "")])):  # fmt: skip
        with pytest.raises(StorageError, match="audit chain cannot be read"):
            call()
