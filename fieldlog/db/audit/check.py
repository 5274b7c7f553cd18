"""The audit chain, read back: ``fieldlog verify`` (the chain, SQLite's integrity and every
row against its last entry) and ``fieldlog history`` (one record's trail).

Only reads. :func:`verify` runs in one read transaction, so a write made meanwhile (the TUI is
open) cannot look like tampering. The hashes it recomputes are :mod:`fieldlog.db.audit.chain`'s.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from typing import Any

from fieldlog.db.audit.chain import (
    BATCH,
    BOOKKEEPING,
    ENTRY_FIELDS,
    FIRST_PREV,
    NOUN,
    RECORD_TABLES,
    entry_hash,
    read_row,
    row_hash,
    sha256,
)


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
        }


def verify(conn: sqlite3.Connection) -> Report:
    """Check SQLite's integrity, the chain, and every row against its last entry.

    Runs in one read transaction (a snapshot: a write made meanwhile by the TUI cannot look
    like tampering)."""
    rep = Report()
    began = not conn.in_transaction
    if began:
        conn.execute("BEGIN")
    try:
        _check_integrity(conn, rep)
        last = _check_chain(conn, rep)
        _check_rows(conn, rep, last)
        _check_links(conn, rep)
    finally:
        if began and conn.in_transaction:
            conn.execute("COMMIT")
    return rep


def _check_integrity(conn: sqlite3.Connection, rep: Report) -> None:
    lines = [r[0] for r in conn.execute("PRAGMA integrity_check")]
    if lines != ["ok"]:
        rep.integrity = "damaged"
        rep.problems += [f"SQLite integrity check: {line}" for line in lines]
    for table, _rowid, parent, _fk in conn.execute("PRAGMA foreign_key_check"):
        rep.integrity = "damaged"
        rep.problems.append(
            f"A row of {table} names a {NOUN.get(parent, parent)} that is not in the log "
            "(a record was removed outside fieldlog)."
        )


def _check_chain(conn: sqlite3.Connection, rep: Report) -> dict[str, tuple[str, str, Any, int]]:
    """Walk the chain; returns ``id -> (table, action, row_hash, seq)`` of each record's last
    entry."""
    purged = {r[0] for r in conn.execute("SELECT row_id FROM purged")}
    rep.purged = len(purged)
    last: dict[str, tuple[str, str, Any, int]] = {}
    expect_seq, prev = 1, FIRST_PREV
    cur = conn.execute(f"SELECT {', '.join(ENTRY_FIELDS)}, changes, hash FROM audit ORDER BY seq")
    names = [*ENTRY_FIELDS, "changes", "hash"]
    while rows := cur.fetchmany(BATCH):
        for raw in rows:
            e = dict(zip(names, raw, strict=True))
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
            if entry_hash(e) != e["hash"]:
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
    rep.head = prev
    used = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'audit'").fetchone()
    top = used[0] if used else 0
    if top >= expect_seq:
        span = f"#{expect_seq}" if top == expect_seq else f"#{expect_seq}–#{top}"
        rep.problems.append(
            f"The last audit entr{'y' if top == expect_seq else 'ies'} ({span}) "
            f"{'is' if top == expect_seq else 'are'} missing: removed from the end of the chain."
        )
    for rid in purged:
        if rid not in last or last[rid][1] != "purge":
            rep.problems.append(
                f"Record {rid} is listed as purged but the audit has no purge entry for it."
            )
    return last


def _check_rows(
    conn: sqlite3.Connection, rep: Report, last: dict[str, tuple[str, str, Any, int]]
) -> None:
    for table in RECORD_TABLES:
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


def _check_links(conn: sqlite3.Connection, rep: Report) -> None:
    """Live referrals that answer a concern of another contact: ``refer --concern`` accepted
    them before issue 11 (the concern was marked referred for the wrong person)."""
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
        changes = json.loads(text) if text else {}
        if action in ("genesis", "insert"):
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


# ---------------------------------------------------------------------- history
def find_record(conn: sqlite3.Connection, prefix: str) -> list[tuple[str, str]]:
    """``(table, id)`` of every record, of any type, live, deleted or purged, whose id starts
    with ``prefix`` (already normalised), at most 11."""
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
    entries: list[dict[str, Any]] = []
    state: dict[str, Any] = {}
    for seq, at, officer, origin, action, text, rh, h in conn.execute(
        "SELECT seq, at, officer, origin, action, changes, row_hash, hash FROM audit "
        "WHERE row_id = ? ORDER BY seq",
        [rid],
    ):
        changes = json.loads(text) if text is not None else None
        entry: dict[str, Any] = {
            "seq": seq,
            "at": at,
            "officer": officer,
            "device": origin,
            "action": action,
            "changes": changes,
            "hash": h,
        }
        if changes is None:
            entry["erased"] = True  # by a purge: the entry's content is gone, its hash is not
        elif action in ("genesis", "insert"):
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
