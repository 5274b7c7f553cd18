"""The audit chain, read back: ``fieldlog verify`` (the chain, SQLite's integrity and every
row against its last entry) and ``fieldlog history`` (one record's trail).

Only reads. :func:`verify` runs in one read transaction, so a write made meanwhile (the TUI is
open) cannot look like tampering. The hashes it recomputes are :mod:`fieldlog.db.audit.chain`'s.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import fieldlog.db.audit.keyed as keyed
import fieldlog.db.audit.witness as witness
from fieldlog.db.audit.chain import (
    BATCH,
    BOOKKEEPING,
    ENTRY_FIELDS,
    FIRST_PREV,
    NOUN,
    RECORD_TABLES,
    SOURCE,
    entry_digest,
    entry_hash,
    missing_table,
    read_row,
    row_hash,
    sha256,
)

if TYPE_CHECKING:
    from fieldlog.db.remotes.types import Head


def _name(table: str, rid: str) -> str:
    return f"{NOUN.get(table, table)} {rid}"


class Report:
    """What :func:`verify` found: ``problems`` (one plain sentence each: the log was changed
    outside fieldlog or damaged), ``findings`` (records fieldlog itself stored wrongly before a
    check existed, each with the ids and the fix) and the counts."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.findings: list[dict[str, Any]] = []
        self.integrity = "ok"
        self.entries = 0
        self.records = 0
        self.purged = 0
        self.head = FIRST_PREV
        self.seq = 0  # the chain's last entry
        self.keyed_from = 0  # the first keyed entry (0: the chain is not keyed)
        self.anchors = 0  # heads and --expect anchors checked
        self.notes: list[str] = []  # what could not be checked, and why (not problems)

    @property
    def ok(self) -> bool:
        return not self.problems and not self.findings

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "problems": self.problems,
            "findings": self.findings,
            "integrity": self.integrity,
            "entries": self.entries,
            "records": self.records,
            "purged": self.purged,
            "head": self.head,
            "seq": self.seq,
            "keyed_from": self.keyed_from or None,
            "anchors": self.anchors,
            "notes": self.notes,
        }


def verify(
    conn: sqlite3.Connection,
    *,
    expect: Sequence[witness.Anchor] = (),
    heads: Sequence[Head] = (),
) -> Report:
    """Check SQLite's integrity, the chain, every row against its last entry, the outbox,
    ``meta`` and the search index, and the chain against its anchors: the head this device
    last pushed (kept in meta), ``expect`` (``--expect``) and ``heads`` (a store's, for this
    device: ``--remote``).

    Runs in one read transaction (a snapshot: a write made meanwhile by the TUI cannot look
    like tampering). A table that is missing or holds values fieldlog never writes is one
    line each, never an exception."""
    import fieldlog.db.audit.consistency as consistency
    from fieldlog.db.audit.consistency import guarded as _guarded

    rep = Report()
    errors = consistency.errors_of(conn)
    began = not conn.in_transaction
    if began:
        conn.execute("BEGIN")
    try:
        tables = consistency.tables(conn)
        _guarded(conn, rep, errors, "SQLite's integrity", _check_integrity, conn, rep)
        if not consistency.check_schema(conn, rep, tables):
            return rep  # no audit table: nothing below can be checked against it
        last = _guarded(conn, rep, errors, "the audit chain", _check_chain, conn, rep, tables)
        if last is not None:
            _guarded(conn, rep, errors, "the records", _check_rows, conn, rep, last, tables)
        _guarded(conn, rep, errors, "the links", _check_links, conn, rep, tables)
        consistency.check_all(conn, rep, tables, errors)
        _guarded(conn, rep, errors, "the anchors", _check_anchors, conn, rep, expect, heads)
    finally:
        if began and conn.in_transaction:
            conn.execute("COMMIT")
    consistency.check_fts_index(conn, rep, errors)
    return rep


def _check_anchors(
    conn: sqlite3.Connection,
    rep: Report,
    expect: Sequence[witness.Anchor],
    heads: Sequence[Head],
) -> None:
    pushed = witness.remembered(conn)
    anchors = [*([pushed] if pushed else []), *expect, *witness.store_anchors(heads)]
    rep.anchors = len(anchors)
    rep.problems += witness.contradictions(conn, anchors)


def _check_integrity(conn: sqlite3.Connection, rep: Report) -> None:
    lines = [str(r[0]) for r in conn.execute("PRAGMA integrity_check")]
    if lines != ["ok"]:
        rep.integrity = "damaged"
        rep.problems += [f"SQLite integrity check: {line}" for line in lines]
    for table, _rowid, parent, _fk in conn.execute("PRAGMA foreign_key_check"):
        rep.integrity = "damaged"
        rep.problems.append(
            f"A row of {table} names a {NOUN.get(parent, parent)} that is not in the log "
            "(a record was removed outside fieldlog)."
        )


_TEXT_FIELDS = ("at", "officer", "origin", "tbl", "row_id", "action", "changes_hash", "prev",
                "hash")  # fmt: skip
MAX_ALTERED = 20  # lines naming altered entries one by one; the rest are counted


def _odd_value(e: Mapping[str, Any]) -> str | None:
    """The first field of an entry fieldlog could not have written (None: all readable)."""
    if not isinstance(e["seq"], int):
        return "seq"
    for f in _TEXT_FIELDS:
        if not isinstance(e[f], str):
            return f
    for f in ("row_hash", "changes"):
        if e[f] is not None and not isinstance(e[f], str):
            return f
    return None


def _check_chain(
    conn: sqlite3.Connection, rep: Report, tables: set[str]
) -> dict[str, tuple[str, str, Any, int]]:
    """Walk the chain; returns ``id -> (table, action, row_hash, seq)`` of each record's last
    entry."""
    purged = {str(r[0]) for r in conn.execute("SELECT row_id FROM purged")} if (
        "purged" in tables
    ) else set()  # fmt: skip
    rep.purged = len(purged)
    key, keyed_from = _key(conn, rep)
    last: dict[str, tuple[str, str, Any, int]] = {}
    expect_seq, prev = 1, FIRST_PREV
    altered = 0
    cur = conn.execute(f"SELECT {', '.join(ENTRY_FIELDS)}, changes, hash FROM audit ORDER BY seq")
    names = [*ENTRY_FIELDS, "changes", "hash"]
    while rows := cur.fetchmany(BATCH):
        for raw in rows:
            e = dict(zip(names, raw, strict=True))
            odd = _odd_value(e)
            if odd is not None:
                rep.problems.append(
                    f"Audit entry #{e['seq']} holds a value fieldlog never writes (its {odd} "
                    f"is {_kind(e[odd])}): it was changed outside fieldlog."
                )
                if isinstance(e["seq"], int):
                    expect_seq = e["seq"] + 1
                prev = e["hash"] if isinstance(e["hash"], str) else prev
                rep.entries += 1
                continue
            seq = e["seq"]
            what = f"audit entry #{seq} ({e['action']} of {_name(e['tbl'], e['row_id'])})"
            if seq != expect_seq:
                span = f"#{expect_seq}" if seq == expect_seq + 1 else f"#{expect_seq}–#{seq - 1}"
                rep.problems.append(
                    f"Audit entr{'y' if seq == expect_seq + 1 else 'ies'} {span} "
                    f"{'is' if seq == expect_seq + 1 else 'are'} missing: removed from the chain."
                )
            elif e["prev"] != prev:
                rep.problems.append(
                    f"The chain is broken at {what}: it does not follow entry #{seq - 1} "
                    "(an entry was replaced or reordered)."
                )
            keyed_entry = key is not None and seq >= keyed_from
            if entry_digest(e, key if keyed_entry else None) != e["hash"]:
                altered += 1
                if altered <= MAX_ALTERED:
                    if keyed_entry and entry_hash(e) == e["hash"]:
                        rep.problems.append(
                            f"The {what} was not written by fieldlog: its hash is plain "
                            f"SHA-256, but this log's chain is keyed from entry #{keyed_from} "
                            "on (it was added or rewritten by someone without the audit key)."
                        )
                    else:
                        rep.problems.append(f"The {what} was altered: its hash does not match it.")
            if e["changes"] is None:
                if e["row_id"] not in purged:
                    rep.problems.append(
                        f"The changes recorded in {what} were erased, but that record was "
                        "never purged."
                    )
            elif sha256(e["changes"]) != e["changes_hash"]:
                rep.problems.append(f"The changes recorded in {what} were altered.")
            last[e["row_id"]] = (e["tbl"], e["action"], e["row_hash"], seq)
            prev = e["hash"]
            expect_seq = seq + 1
            rep.entries += 1
    if altered > MAX_ALTERED:
        rep.problems.append(
            f"… and {altered - MAX_ALTERED} more audit entries whose hash does not match them."
        )
    rep.head = prev
    rep.seq = expect_seq - 1
    _check_counter(conn, rep, tables)
    for rid in sorted(purged):
        if rid not in last or last[rid][1] != "purge":
            rep.problems.append(
                f"Record {rid} is listed as purged but the audit has no purge entry for it."
            )
    return last


def _kind(value: Any) -> str:
    if value is None:
        return "empty (NULL)"
    return f"a {type(value).__name__} value"


def _key(conn: sqlite3.Connection, rep: Report) -> tuple[bytes | None, int]:
    """The audit key and the first keyed seq (None, 0: the chain is not keyed)."""
    try:
        got = keyed.parse(*keyed.read(conn))
    except keyed.BadKey as exc:
        rep.problems.append(
            f"The audit key in meta is damaged ({exc.what}): it was changed outside "
            "fieldlog, and the keyed entries cannot be checked."
        )
        return None, 0
    if got is None:
        return None, 0
    rep.keyed_from = got[1]
    return got


def _check_counter(conn: sqlite3.Connection, rep: Report, tables: set[str]) -> None:
    """SQLite's own counter of audit entries is a hint, not the truth: higher than the
    chain's end means entries were removed from the end; lower, it was set back by hand."""
    if "sqlite_sequence" not in tables:
        return
    used = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'audit'").fetchone()
    top = used[0] if used else None
    end = rep.seq
    if top is None:
        if end:
            rep.problems.append(
                "SQLite's counter of audit entries (sqlite_sequence) was deleted: it was "
                "edited outside fieldlog."
            )
        return
    if not isinstance(top, int):
        rep.problems.append(
            f"SQLite's counter of audit entries (sqlite_sequence) holds {_kind(top)}: it was "
            "edited outside fieldlog."
        )
    elif top > end:
        rep.problems.append(
            f"SQLite's counter says the audit chain reached entry #{top}, but it ends at "
            f"#{end}: entries after #{end} were removed from the end of the chain."
        )
    elif top < end:
        rep.problems.append(
            f"SQLite's counter of audit entries (sqlite_sequence) was set back to {top}, below "
            f"the chain's last entry #{end}: it was edited outside fieldlog."
        )


def _check_rows(
    conn: sqlite3.Connection,
    rep: Report,
    last: dict[str, tuple[str, str, Any, int]],
    tables: set[str],
) -> None:
    for table in RECORD_TABLES:
        if table not in tables:  # named by the schema check
            last = {k: v for k, v in last.items() if v[0] != table}
            continue
        cur = conn.execute(f"SELECT * FROM {table} ORDER BY rowid")
        names = [d[0] for d in cur.description]
        while rows := cur.fetchmany(BATCH):
            for raw in rows:
                row = dict(zip(names, raw, strict=True))
                rid = row["id"]
                rep.records += 1
                seen = last.pop(rid, None)
                if seen is None:
                    rep.problems.append(
                        f"The {_name(table, rid)} has no audit entry: it was added outside "
                        "fieldlog (or its entry was removed)."
                    )
                elif seen[0] != table:
                    rep.problems.append(
                        f"The {_name(table, rid)} is recorded in the audit as a "
                        f"{NOUN.get(seen[0], seen[0])}: it was moved outside fieldlog."
                    )
                elif seen[1] == "purge":
                    rep.problems.append(
                        f"The {_name(table, rid)} was purged (audit entry #{seen[3]}) but is "
                        "in the log again."
                    )
                elif row_hash(row) != seen[2]:
                    fields = differing_fields(conn, table, row)
                    what = (
                        f"{', '.join(fields)} differ{'s' if len(fields) == 1 else ''}"
                        if fields
                        else "its sync bookkeeping (officer, origin, created_at, updated_at, "
                        "hlc or clocks) differs"
                    )
                    rep.problems.append(
                        f"The {_name(table, rid)} was changed outside fieldlog: {what} from "
                        f"its last audit entry (#{seen[3]})."
                    )
    for rid, (table, action, _h, seq) in sorted(last.items(), key=lambda kv: kv[1][3]):
        if action != "purge":
            rep.problems.append(
                f"The {_name(table, rid)} is missing from the log: its last audit entry "
                f"(#{seq}, {action}) says it exists, so it was deleted outside fieldlog."
            )


def _check_links(conn: sqlite3.Connection, rep: Report, tables: set[str]) -> None:
    """Live referrals that answer a concern of another contact: ``refer --concern`` accepted
    them before issue 11 (the concern was marked referred for the wrong person)."""
    if not {"referrals", "concerns"} <= tables:
        return
    for rid, cid, kid, owner in conn.execute(
        "SELECT r.id, r.contact_id, r.concern_id, k.contact_id FROM referrals r "
        "JOIN concerns k ON k.id = r.concern_id WHERE r.deleted = 0 AND k.contact_id != "
        "r.contact_id ORDER BY r.id"
    ):
        rep.findings.append(
            {
                "kind": "referral_concern_of_another_contact",
                "referral_id": rid,
                "contact_id": cid,
                "concern_id": kid,
                "concern_contact_id": owner,
                "message": (
                    f"Referral {rid} (contact {cid}) answers concern {kid}, which was raised "
                    f"at another contact ({owner}): unlink it with  fieldlog referral update "
                    f"{rid[:10]} --concern none  (or give a concern of its own contact)."
                ),
            }
        )


def differing_fields(conn: sqlite3.Connection, table: str, row: Mapping[str, Any]) -> list[str]:
    """Which fields of ``row`` differ from what its audit entries recorded (replayed in
    order); empty when only the sync bookkeeping can have changed."""
    expected: dict[str, Any] = {}
    deleted = 0
    for action, text in conn.execute(
        "SELECT action, changes FROM audit WHERE row_id = ? ORDER BY seq", [row["id"]]
    ):
        changes = _decoded(text) or {}
        if action in ("genesis", "insert", "bootstrap"):
            expected = {k: v for k, v in changes.items() if k not in BOOKKEEPING}
        elif action == "delete":
            deleted = 1
        else:
            expected.update({k: v for k, v in changes.items() if k not in BOOKKEEPING})
            if "deleted" in changes:
                deleted = int(bool(changes["deleted"]))
    names = [k for k in row if k not in BOOKKEEPING and row[k] != expected.get(k)]
    if row.get("deleted") != deleted:
        names.append("deleted")
    return names


def _decoded(text: Any) -> dict[str, Any] | None:
    """An entry's ``changes`` as a dict; None when erased or not a JSON object (edited
    outside fieldlog: verify names the entry, history shows it unreadable)."""
    if not isinstance(text, str):
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


# ---------------------------------------------------------------------- history
def _require_audit(conn: sqlite3.Connection) -> None:
    if not conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'audit'"
    ).fetchone():
        raise missing_table()


def find_record(conn: sqlite3.Connection, prefix: str) -> list[tuple[str, str]]:
    """``(table, id)`` of every record, of any type, live, deleted or purged, whose id starts
    with ``prefix`` (already normalised), at most 11."""
    _require_audit(conn)
    hi = prefix + "g"
    found: dict[str, str] = {}
    for tbl, rid in conn.execute(
        "SELECT DISTINCT tbl, row_id FROM audit WHERE row_id >= ? AND row_id < ? LIMIT 11",
        [prefix, hi],
    ):
        found.setdefault(rid, tbl)
    for table in RECORD_TABLES:
        for (rid,) in conn.execute(
            f"SELECT id FROM {table} WHERE id >= ? AND id < ? LIMIT 11", [prefix, hi]
        ):
            found.setdefault(rid, table)
    return sorted((t, r) for r, t in found.items())[:11]


def history(conn: sqlite3.Connection, table: str, rid: str) -> dict[str, Any]:
    """A record's audit trail, oldest first: each entry with what it set (``changes``) and,
    for updates, what those fields held before (``before``), and whether the row as it is now
    matches its last entry (``current``: ``matches``, ``changed``, ``missing``, ``purged``)."""
    _require_audit(conn)
    entries: list[dict[str, Any]] = []
    state: dict[str, Any] = {}
    for seq, at, officer, origin, action, text, rh, h in conn.execute(
        "SELECT seq, at, officer, origin, action, changes, row_hash, hash FROM audit "
        "WHERE row_id = ? ORDER BY seq",
        [rid],
    ):
        changes = _decoded(text)
        source = changes.pop(SOURCE, None) if changes is not None else None
        entry: dict[str, Any] = {
            "seq": seq,
            "at": at,
            "officer": officer,
            "device": origin,
            "action": action,
            "changes": changes,
            "hash": h,
        }
        if source is not None:
            entry["source"] = source  # where the change came from (a partner's sheet)
        if text is None:
            entry["erased"] = True  # by a purge: the entry's content is gone, its hash is not
        elif changes is None:
            entry["unreadable"] = True  # not a JSON object: changed outside fieldlog
        elif action in ("genesis", "insert", "bootstrap"):
            state = dict(changes)
        elif action not in ("delete", "purge"):
            entry["before"] = {k: state.get(k) for k in changes}
            state.update(changes)
        entry["_row_hash"] = rh
        entries.append(entry)
    row = read_row(conn, table, rid)
    if entries and entries[-1]["action"] == "purge":
        current = "purged" if row is None else "changed"
    elif row is None:
        current = "missing"
    elif not entries or row_hash(row) != entries[-1]["_row_hash"]:
        current = "changed"
    else:
        current = "matches"
    for e in entries:
        e.pop("_row_hash")
    return {"table": table, "id": rid, "current": current, "entries": entries}
