"""What ``fieldlog verify`` checks beside the chain: the schema it reads, the sync outbox,
``meta``, retention purges and the search index.

None of these tables is chained (the outbox and ``meta`` change on every write and sync; the
search index is derived), so each is checked for what its rows must be given the records and
the chain: outbox rows name known tables, fields and records; push cursors are not past the
outbox's end (an outbox cut short); ``meta``'s bookkeeping keys are readable; every purge
looks like one (a deletion passed off as a purge is named where it can be told); the search
index holds exactly the live rows, and its triggers are there.

Each problem is one plain line in the :class:`~fieldlog.db.audit.check.Report`; a table
that is missing or holds values of the wrong kind is a line too, never an exception. Imported
by :func:`fieldlog.db.audit.check.verify` only (not on the ``fieldlog add`` path).
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from fieldlog import records
from fieldlog.db.audit.chain import NOUN, RECORD_TABLES


class Report(Protocol):
    """What these checks write to (:class:`fieldlog.db.audit.check.Report`)."""

    problems: list[str]
    notes: list[str]


MAX_LINES = 10  # lines of one kind named one by one; the rest are counted
HISTORY_LOST = "keep this copy for your supervisor and restore from a backup or a sync remote"
_INT = re.compile(r"^[0-9]{1,18}$")
_DEVICE = re.compile(r"^[0-9A-Za-z_-]{4,64}$")
_STAMP = re.compile(r"^[0-9]{13,}-[0-9]{5,}-.+$")


def tables(conn: sqlite3.Connection) -> set[str]:
    return {str(r[0]) for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def check_schema(conn: sqlite3.Connection, rep: Report, present: set[str]) -> bool:
    """The tables verify reads: one line for each that is missing. False when the audit
    table itself is gone (nothing else can be checked against it)."""
    if "audit" not in present:
        rep.problems.append(
            "The audit table is missing: this log's history was removed outside fieldlog, so "
            f"no record can be checked against it ({HISTORY_LOST})."
        )
        return False
    if "purged" not in present:
        rep.problems.append(
            "The purged table is missing: the list of records a retention purge removed was "
            "deleted outside fieldlog (a sync could bring purged records back)."
        )
    for table in RECORD_TABLES:
        if table not in present:
            rep.problems.append(
                f"The {table} table is missing: every {NOUN[table]} was removed outside "
                f"fieldlog ({HISTORY_LOST})."
            )
    for table, what in (("meta", "the log's settings and sync bookkeeping"),
                        ("changes", "the sync outbox")):  # fmt: skip
        if table not in present:
            rep.problems.append(
                f"The {table} table ({what}) is missing: it was removed outside fieldlog "
                f"({HISTORY_LOST})."
            )
    return True


def check_all(
    conn: sqlite3.Connection,
    rep: Report,
    present: set[str],
    errors: tuple[type[Exception], ...],
) -> None:
    """Every check of this module that reads inside verify's snapshot."""
    _guarded = guarded
    if "changes" in present:
        _guarded(conn, rep, errors, "the sync outbox", _check_outbox, conn, rep, present)
    if "meta" in present:
        _guarded(conn, rep, errors, "meta", _check_meta, conn, rep, present)
    _guarded(conn, rep, errors, "the purges", _check_purges, conn, rep, present)
    _guarded(conn, rep, errors, "the search index", _check_fts_rows, conn, rep, present)


def errors_of(conn: sqlite3.Connection) -> tuple[type[Exception], ...]:
    """The errors a damaged table can raise on ``conn`` (sqlcipher3 has classes of its own)."""
    if isinstance(conn, sqlite3.Connection):
        return (sqlite3.Error,)
    from fieldlog.db.connect import db_error

    return (sqlite3.Error, db_error(conn))


def guarded(
    conn: sqlite3.Connection,
    rep: Report,
    errors: tuple[type[Exception], ...],
    what: str,
    fn: Any,
    *args: Any,
) -> Any:
    """Run one check; a table changed under it (a column dropped, a value of the wrong kind)
    is one line naming what could not be read, and the other checks still run."""
    caught: tuple[type[Exception], ...] = (*errors, TypeError, ValueError, KeyError, OverflowError)
    try:
        return fn(*args)
    except caught as exc:
        rep.problems.append(
            f"Could not check {what}: {exc} (a table was changed outside fieldlog)."
        )
        return None


def _capped(rep: Report, lines: Iterator[str] | list[str], more: str) -> None:
    n = 0
    for line in lines:
        n += 1
        if n <= MAX_LINES:
            rep.problems.append(line)
    if n > MAX_LINES:
        rep.problems.append(f"… and {n - MAX_LINES} more {more}.")


# ---------------------------------------------------------------------- the outbox
def _check_outbox(conn: sqlite3.Connection, rep: Report, present: set[str]) -> None:
    known = ", ".join(f"'{t}'" for t in RECORD_TABLES)
    odd = conn.execute(
        "SELECT seq, typeof(tbl), typeof(row_id), typeof(hlc), typeof(fields) FROM changes "
        "WHERE typeof(seq) != 'integer' OR typeof(tbl) != 'text' OR typeof(row_id) != 'text' "
        "OR typeof(hlc) != 'text' OR typeof(fields) != 'text' ORDER BY seq"
    ).fetchall()
    _capped(
        rep,
        (f"Outbox row #{r[0]} holds a value fieldlog never writes: it was changed outside "
         "fieldlog." for r in odd),
        "outbox rows like it",
    )  # fmt: skip
    strange = conn.execute(
        f"SELECT seq, tbl FROM changes WHERE typeof(tbl) = 'text' AND tbl NOT IN ({known}) "
        "ORDER BY seq"
    ).fetchall()
    _capped(
        rep,
        (f"Outbox row #{s} names a table fieldlog does not sync ('{t[:40]}'): it was added "
         "outside fieldlog." for s, t in strange),
        "outbox rows naming unknown tables",
    )  # fmt: skip
    bad_fields = []
    for tbl, fields, first in conn.execute(
        f"SELECT tbl, fields, min(seq) FROM changes WHERE tbl IN ({known}) "
        "AND typeof(fields) = 'text' GROUP BY tbl, fields ORDER BY 3"
    ):
        names = fields.split(",")
        allowed = {*records.TABLE_FIELDS[tbl], "deleted"}
        if names != ["*"] and not set(names) <= allowed:
            unknown = ", ".join(sorted(set(names) - allowed))[:80]
            bad_fields.append(
                f"Outbox row #{first} names fields a {NOUN[tbl]} does not have ({unknown}): it "
                "was changed outside fieldlog."
            )
    _capped(rep, bad_fields, "outbox rows naming unknown fields")
    gone: list[str] = []
    for table in RECORD_TABLES:
        if table not in present:
            continue
        purged = (
            " AND NOT EXISTS (SELECT 1 FROM purged p WHERE p.row_id = c.row_id)"
            if "purged" in present
            else ""
        )
        for seq, rid in conn.execute(
            f"SELECT c.seq, c.row_id FROM changes c WHERE c.tbl = ? AND NOT EXISTS "
            f"(SELECT 1 FROM {table} t WHERE t.id = c.row_id){purged} ORDER BY c.seq LIMIT ?",
            [table, MAX_LINES + 1],
        ):
            gone.append(
                f"Outbox row #{seq} is a change of the {NOUN[table]} {rid}, which is neither in "
                "the log nor purged: the record was removed outside fieldlog."
            )
    _capped(rep, gone, "outbox rows of missing records")
    _check_outbox_end(conn, rep, present)


def _check_outbox_end(conn: sqlite3.Connection, rep: Report, present: set[str]) -> None:
    """A push cursor past the outbox's end: outbox rows were removed (and SQLite's counter
    set back with them). A purge may remove the last rows, never the counter's memory."""
    last = int(conn.execute("SELECT coalesce(max(seq), 0) FROM changes").fetchone()[0])
    top = None
    if "sqlite_sequence" in present:
        row = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'changes'").fetchone()
        top = row[0] if row else None
    if isinstance(top, int) and top < last:
        rep.problems.append(
            f"SQLite's counter of outbox rows (sqlite_sequence) was set back to {top}, below "
            f"the outbox's last row #{last}: it was edited outside fieldlog."
        )
    if isinstance(top, int) and top >= 2**62:
        rep.problems.append(
            f"SQLite's counter of outbox rows (sqlite_sequence) was set to {top}, near its "
            "limit: every write will fail with 'database or disk is full' (it was edited "
            "outside fieldlog)."
        )
    end = max(last, top if isinstance(top, int) else 0)
    if "meta" not in present:
        return
    for key, value in conn.execute(
        "SELECT key, value FROM meta WHERE key LIKE 'sync:%:pushed' ORDER BY key"
    ):
        if isinstance(value, str) and _INT.match(value) and int(value) > end:
            store = key[len("sync:") : -len(":pushed")]
            rep.problems.append(
                f"This log pushed its outbox up to row #{value} to store {store[:40]}, but the "
                f"outbox ends at #{end}: outbox rows were removed outside fieldlog (with the "
                "records they carried, or to hide them)."
            )


# ---------------------------------------------------------------------- meta
def _check_meta(conn: sqlite3.Connection, rep: Report, present: set[str]) -> None:
    lines = []
    for key, value in conn.execute("SELECT key, value FROM meta ORDER BY key"):
        why = _meta_problem(str(key), value)
        if why:
            lines.append(
                f"meta {str(key)[:60]!r} {why}: it was changed outside fieldlog (a write or a "
                "sync may fail until it is fixed)."
            )
    _capped(rep, lines, "meta keys like it")


def _meta_problem(key: str, value: Any) -> str | None:
    """Why a bookkeeping key's value cannot be fieldlog's (None: it can, or it is a key
    verify does not know, like a setting)."""
    if value is not None and not isinstance(value, str):
        return f"holds {type(value).__name__} data, not text"
    if key in ("device_id", "device_id_replaced"):
        return None if value and _DEVICE.match(value) else "is not a device id"
    if key == "hlc":
        return None if value and _STAMP.match(value) else "is not a clock stamp"
    if key.startswith("sync:") and key.endswith((":pulled", ":pushed")):
        return None if value and _INT.match(value) else "is not a sequence number"
    if key == "last_sync":
        return None if value and _is_time(value) else "is not a time"
    if key == "audit_pushed_head":
        try:
            got = json.loads(value or "")
            ok = isinstance(got, dict) and isinstance(got.get("seq"), int)
        except ValueError:
            ok = False
        return None if ok else "is not an audit head"
    return None


def _is_time(text: str) -> bool:
    try:
        datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


# ---------------------------------------------------------------------- purges
_ROOTS = ("contacts", "problems")


def _check_purges(conn: sqlite3.Connection, rep: Report, present: set[str]) -> None:
    """Every purge entry must look like a retention purge: a readable cutoff in the past of
    the purge, a record that was deleted before it (a partner before the cutoff), its id in
    ``purged`` with the purge's time, and its earlier entries' content erased."""
    purged = (
        {str(r[0]): r[1] for r in conn.execute("SELECT row_id, purged_at FROM purged")}
        if "purged" in present
        else {}
    )
    lines: list[str] = []
    for seq, at, tbl, rid, note in conn.execute(
        "SELECT seq, at, tbl, row_id, changes FROM audit WHERE action = 'purge' ORDER BY seq"
    ):
        what = f"The purge of {NOUN.get(tbl, tbl)} {rid} (audit entry #{seq})"
        cutoff = _cutoff(note)
        when = _day(at)
        if cutoff is None or when is None:
            lines.append(f"{what} records no readable retention cutoff: it is not a purge.")
            continue
        if cutoff > when + timedelta(days=1):  # a local day may be UTC's next
            lines.append(
                f"{what} records a cutoff ({cutoff}) after the purge itself ({when}): it is "
                "not a retention purge, the record was deleted outside fieldlog."
            )
        if "purged" in present and purged.get(rid) != at:
            lines.append(
                f"{what} is not in the purged list with its time: the purge was recorded "
                "outside fieldlog."
            )
        before = conn.execute(
            "SELECT seq, at, action, origin, changes FROM audit WHERE row_id = ? AND seq < ? "
            "ORDER BY seq",
            [rid, seq],
        ).fetchall()
        if not before:
            lines.append(f"{what} has no earlier entry: the record never existed in the audit.")
            continue
        kept = [s for s, _a, _x, _o, text in before if text is not None]
        if kept:
            lines.append(
                f"{what} left the content of entry #{kept[0]} in place (a purge erases it): "
                "the purge was recorded outside fieldlog."
            )
        last_seq, last_at, action, _origin, _t = before[-1]
        if action in ("insert", "update"):  # a local tombstone is a "delete" entry
            lines.append(
                f"{what} follows entry #{last_seq} ({action}), not a deletion: a retention "
                "purge removes only deleted records, so this record was deleted outside "
                "fieldlog and passed off as purged."
            )
        # A contact older than the cutoff, or a problem closed before it, is tombstoned by
        # the purge itself (fieldlog.db.retention.ROOTS); any other record was deleted first.
        elif records.get(tbl).parent is None and tbl not in _ROOTS and action == "delete":
            day = _day(last_at)
            if day is not None and day >= cutoff + timedelta(days=1):
                lines.append(
                    f"{what} removed a {NOUN.get(tbl, tbl)} deleted on {day}, after the "
                    f"cutoff ({cutoff}) the purge records: it is not a retention purge."
                )
    _capped(rep, lines, "purge entries like these")


def _cutoff(note: Any) -> date | None:
    try:
        value = json.loads(note) if isinstance(note, str) else None
        return date.fromisoformat(value["older_than"]) if isinstance(value, dict) else None
    except (ValueError, KeyError, TypeError):
        return None


def _day(at: Any) -> date | None:
    if not isinstance(at, str):
        return None
    try:
        return date.fromisoformat(at[:10])
    except ValueError:
        return None


# ---------------------------------------------------------------------- the search index
def _check_fts_rows(conn: sqlite3.Connection, rep: Report, present: set[str]) -> None:
    """The index of each table must hold exactly its live rows (read from the index's
    ``_docsize`` shadow table, by rowid), and its three triggers must be there."""
    triggers = {
        str(r[0]) for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
    }
    for table in records.FTS_COLUMNS:
        fts = f"{table}_fts"
        if table not in present:
            continue
        if fts not in present or f"{fts}_docsize" not in present:
            rep.problems.append(
                f"The search index of {table} is missing: it was removed outside fieldlog "
                "(search finds nothing there)."
            )
            continue
        lost = sorted(t for t in (f"{table}_ai", f"{table}_ad", f"{table}_au") if t not in triggers)
        if lost:
            rep.problems.append(
                f"The search index of {table} is no longer kept up to date (trigger "
                f"{', '.join(lost)} removed outside fieldlog): searches miss later changes."
            )
        extra = conn.execute(
            f"SELECT count(*) FROM {fts}_docsize d WHERE NOT EXISTS "
            f"(SELECT 1 FROM {table} t WHERE t.rowid = d.id AND t.deleted = 0)"
        ).fetchone()[0]
        missing = conn.execute(
            f"SELECT count(*) FROM {table} t WHERE t.deleted = 0 AND NOT EXISTS "
            f"(SELECT 1 FROM {fts}_docsize d WHERE d.id = t.rowid)"
        ).fetchone()[0]
        if extra or missing:
            counts = ((missing, "live record(s) missing from it"),
                      (extra, "entries for no live record"))  # fmt: skip
            parts = [f"{n} {w}" for n, w in counts if n]
            rep.problems.append(
                f"The search index of {table} does not match its records ({', '.join(parts)}): "
                "the records or the index were changed outside fieldlog."
            )


def check_fts_index(
    conn: sqlite3.Connection, rep: Report, errors: tuple[type[Exception], ...]
) -> None:
    """FTS5's own ``integrity-check`` of each index's structure (not against the records: a
    tombstone stays in its table but leaves the index, which FTS5's check against the
    content table would call a mismatch; the rows are :func:`_check_fts_rows`'s). SQLite runs
    it as a write, so it runs after verify's snapshot, only if the log can be locked at once,
    and is rolled back; otherwise it is skipped with a note."""
    present = tables(conn)
    named = " ".join(p for p in rep.problems if p.startswith("The search index of "))
    todo = [
        t
        for t in records.FTS_COLUMNS
        if t in present and f"{t}_fts" in present and f"index of {t} " not in named
    ]
    if not todo or conn.in_transaction:
        return
    timeout = conn.execute("PRAGMA busy_timeout").fetchone()[0]
    try:
        conn.execute("PRAGMA busy_timeout = 100")
        conn.execute("BEGIN IMMEDIATE")
    except errors as exc:
        rep.notes.append(f"The search index's word check was skipped ({exc}).")
        conn.execute(f"PRAGMA busy_timeout = {int(timeout)}")
        return
    try:
        for table in todo:
            try:
                conn.execute(f"INSERT INTO {table}_fts ({table}_fts) VALUES ('integrity-check')")
            except errors:
                rep.problems.append(
                    f"The search index of {table} is damaged (FTS5's integrity check fails): it "
                    "was edited outside fieldlog."
                )
    finally:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        conn.execute(f"PRAGMA busy_timeout = {int(timeout)}")
