"""Anchors outside the chain: the store as its witness, and heads written down elsewhere.

The chain proves the log is consistent with itself; whoever can write the file can rewrite it
from any entry to the end, consistently. An anchor is a ``(seq, hash)`` that entry ``seq`` of
this log had at some moment, kept where that person cannot reach:

- **the store's heads**: every push carries this device's audit head (:func:`head`) and the
  store keeps each device's heads (``Remote.heads(origin)``); the sync round and ``fieldlog
  verify --remote`` :func:`check` the chain against every one of them;
- **an out-of-band anchor**: ``fieldlog verify --expect SEQ:HASH`` (a head an officer wrote
  down, or a supervisor's record; the hash may be shortened to 16 characters);
- **the last head this device pushed**, kept in the log's ``meta`` by :func:`remember`, so
  plain ``verify`` can check it offline. It is in the file an attacker would edit, so it only
  catches an attack that forgot it.

A head is contradicted when the chain no longer reaches it (**truncated**: entries removed
from the end) or its entry has another hash (**rewritten** at or below that entry). Only reads,
except :func:`remember`; standard library only.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fieldlog.db.remotes.types import Head

PUSHED_KEY = "audit_pushed_head"  # meta: the last head this device pushed (JSON)
MIN_PREFIX = 16  # hex characters of a hash an anchor may be shortened to
_HEX = re.compile(r"^[0-9a-f]+$")


@dataclass(frozen=True)
class Anchor:
    """A ``(seq, hash)`` the chain must still hold, and where it comes from (for messages):
    ``source`` is ``store`` (a head a store saw), ``expect`` (given on the command line) or
    ``pushed`` (kept in this log's meta); ``at`` when it was taken, if known."""

    seq: int
    hash: str
    source: str
    at: str = ""


def _read(conn: sqlite3.Connection, sql: str, params: Sequence[Any] = ()) -> Any:
    """One row; a missing or damaged audit table is one line (StorageError), not a
    traceback in the middle of a sync."""
    from fieldlog.db.audit.consistency import errors_of

    try:
        return conn.execute(sql, params).fetchone()
    except errors_of(conn) as exc:
        from fieldlog.errors import StorageError

        raise StorageError(
            f"This log's audit chain cannot be read ({exc}): it was changed outside fieldlog. "
            "Run fieldlog verify, keep this copy for your supervisor and restore from a backup."
        ) from None


def head(conn: sqlite3.Connection) -> tuple[int, str] | None:
    """This log's audit head: the last entry's seq and hash (None: an empty chain)."""
    row = _read(conn, "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")
    return (int(row[0]), str(row[1])) if row else None


def check(conn: sqlite3.Connection, heads: Sequence[Head]) -> list[str]:
    """One line per way the local chain contradicts the heads a store saw for this device
    (truncated below them, or rewritten at or below one); empty when every head is still in
    the chain with its hash. Heads that are not well formed are ignored (filter unsigned
    ones out first with ``Trust.head_ok``)."""
    return contradictions(conn, store_anchors(heads))


def store_anchors(heads: Iterable[Head]) -> list[Anchor]:
    out = []
    for h in heads:
        if _well_formed(getattr(h, "seq", None), getattr(h, "hash", None)):
            out.append(Anchor(int(h.seq), str(h.hash).lower(), "store", str(h.at or "")))
    return out


def _well_formed(seq: Any, hash_: Any) -> bool:
    return (
        isinstance(seq, int)
        and not isinstance(seq, bool)
        and 0 < seq < 2**63
        and isinstance(hash_, str)
        and MIN_PREFIX <= len(hash_) <= 64
        and bool(_HEX.match(hash_.lower()))
    )


def parse_expect(text: str) -> Anchor:
    """``SEQ:HASH`` as ``--expect`` takes it (HASH: 16 to 64 hex characters, as ``verify``
    prints the head); ValueError with the one-line reason otherwise."""
    raw = (text or "").strip()
    seq_text, sep, hash_text = raw.partition(":")
    seq_text, hash_text = seq_text.strip().lstrip("#"), hash_text.strip().lower()
    if not sep or not seq_text.isdigit() or not _well_formed(int(seq_text), hash_text):
        raise ValueError(
            f"'{text}' is not an anchor: give SEQ:HASH, the entry number and its hash (at "
            f"least {MIN_PREFIX} hex characters), as fieldlog verify prints the head "
            "(e.g. --expect 1812:3f2a1b9c0d4e5f60)."
        )
    return Anchor(int(seq_text), hash_text, "expect")


def remember(conn: sqlite3.Connection, pushed: Head | tuple[int, str]) -> None:
    """Keep the head this device just pushed in meta (it only moves forward), so plain
    ``verify`` can check it offline. One statement: call it inside the caller's write
    transaction or outside any (it then commits on its own)."""
    if isinstance(pushed, tuple):
        seq, hash_, at = int(pushed[0]), str(pushed[1]), ""
    else:
        seq, hash_, at = int(pushed.seq), str(pushed.hash), str(pushed.at or "")
    old = remembered(conn)
    if old is not None and old.seq > seq:
        return
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?, ?) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        [PUSHED_KEY, json.dumps({"seq": seq, "hash": hash_, "at": at})],
    )


def remembered(conn: sqlite3.Connection) -> Anchor | None:
    """The head kept by :func:`remember` (None: never pushed, or unreadable)."""
    row = _read(conn, "SELECT value FROM meta WHERE key = ?", [PUSHED_KEY])
    if row is None:
        return None
    try:
        value = json.loads(row[0])
        seq, hash_ = value["seq"], value["hash"]
    except (TypeError, ValueError, KeyError):
        return None
    if not _well_formed(seq, hash_):
        return None
    return Anchor(int(seq), str(hash_).lower(), "pushed", str(value.get("at") or ""))


# ---------------------------------------------------------------------- checking
def contradictions(conn: sqlite3.Connection, anchors: Sequence[Anchor]) -> list[str]:
    """The lines for every anchor the chain contradicts (the tightest of each kind per
    source: the lowest rewritten anchor, the highest anchor beyond the end)."""
    if not anchors:
        return []
    row = _read(conn, "SELECT max(seq) FROM audit")
    end = int(row[0] or 0)
    lines: list[str] = []
    for source in ("store", "pushed", "expect"):
        mine = sorted({(a.seq, a.hash): a for a in anchors if a.source == source}.values(),
                      key=lambda a: a.seq)  # fmt: skip
        beyond = [a for a in mine if a.seq > end]
        rewritten: list[tuple[Anchor, str | None]] = []
        for a in mine:
            if a.seq > end:
                continue
            got = _read(conn, "SELECT hash FROM audit WHERE seq = ?", [a.seq])
            have = str(got[0]).lower() if got and got[0] is not None else None
            if have is None or not have.startswith(a.hash):
                rewritten.append((a, have))
        if source == "expect":  # each anchor given is its own claim: one line each
            lines += [_rewritten(a, have, 0) for a, have in rewritten]
            lines += [_truncated(a, end) for a in beyond]
            continue
        if rewritten:
            a, have = rewritten[0]
            lines.append(_rewritten(a, have, len(rewritten) - 1))
        if beyond:
            lines.append(_truncated(beyond[-1], end))
    return lines


def _when(a: Anchor) -> str:
    return f" (at {a.at})" if a.at else ""


def _saw(a: Anchor) -> str:
    if a.source == "store":
        return f"the store saw entry {a.seq}{_when(a)}"
    if a.source == "pushed":
        return f"this log pushed entry {a.seq} to a store{_when(a)}"
    return f"the anchor you gave (--expect {a.seq}:{a.hash[:MIN_PREFIX]}) names entry {a.seq}"


def _truncated(a: Anchor, end: int) -> str:
    why = (
        "entries were removed from its end, or it is an older copy (a restored backup)"
        if a.source != "expect"
        else "it was cut short, or the anchor is from another log"
    )
    return f"The audit chain was truncated: {_saw(a)}, this log ends at {end} ({why})."


def _rewritten(a: Anchor, have: str | None, more: int) -> str:
    now = f"this log has no entry {a.seq}" if have is None else (
        f"this log's entry {a.seq} has another hash ({have[:MIN_PREFIX]}, not "
        f"{a.hash[:MIN_PREFIX]})"
    )  # fmt: skip
    also = f"; {more} later anchor{'s' if more != 1 else ''} disagree too" if more else ""
    return (
        f"The audit chain was rewritten at or below entry {a.seq}: {_saw(a)}, {now}{also}. "
        "Entries were changed, replaced or removed after they were witnessed."
    )
