"""The log's record of pulled changes that did not apply: held, quarantined, and anomalies.

- ``sync_held``: changes that will apply later: stamped ahead of this laptop's clock (due at a
  time: ``due_ms``, so 20,000 of them are not reprocessed by every sync) or waiting for the
  record they belong to (due every round).
- ``sync_quarantine``: changes that may not apply as they are, with the reason and the body
  text as received: ``invalid`` (not what a fieldlog writes: :mod:`fieldlog.pulled`), ``trust``
  (not signed by a device the department enrolled: :mod:`fieldlog.db.devices`; re-checked
  every round, so a device trusted since is released), ``sequence`` (a row the remote handed
  back out of its order). Nothing quarantined is ever applied.
- ``sync_anomalies``: what was wrong with a store's sequence (rows missing, slipped in under
  the cursor, planted above the counter), one row per distinct problem with when it was first
  and last seen.

``fieldlog sync --held`` lists all three (:func:`listing`). The sync log
(:mod:`fieldlog.db.synclog`) writes them inside its page transactions.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from fieldlog import dates

if TYPE_CHECKING:
    from fieldlog.db.remotes.types import RemoteChange
    from fieldlog.db.store import Store

KINDS = ("invalid", "trust", "sequence")
TEXT_CAP = 64 * 1024  # the body text kept of an invalid change (a 50 MB summary is not kept)


def _str(value: Any) -> str | None:
    """A remote's column as text to store (a planted row may hold any type)."""
    if value is None:
        return None
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def put(
    conn: sqlite3.Connection, store_id: str, change: RemoteChange, kind: str, reason: str
) -> None:
    """Quarantine ``change`` (inside the caller's transaction). A change quarantined for trust
    keeps its whole body text (its signature is checked again every round); an invalid one at
    most :data:`TEXT_CAP` characters."""
    text = _str(change.text) or ""
    if not text and change.body is not None:
        text = json.dumps(change.body)
    if kind != "trust":
        text = text[:TEXT_CAP]
    verb = "INSERT OR IGNORE" if kind == "sequence" else "INSERT OR REPLACE"
    conn.execute(
        f"{verb} INTO sync_quarantine (store_id, seq, origin, origin_seq, tbl, row_id, hlc, "
        "kind, reason, text, sig, pushed_by, found_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            store_id, change.seq, _str(change.origin), _int(change.origin_seq),
            _str(change.tbl), _str(change.row_id), _str(change.hlc), kind, reason, text,
            _str(change.sig), _str(change.pushed_by), dates.stamp_now(),
        ],
    )  # fmt: skip


def release(conn: sqlite3.Connection, store_id: str, seq: int) -> None:
    conn.execute("DELETE FROM sync_quarantine WHERE store_id = ? AND seq = ?", [store_id, seq])


def trust_held(conn: sqlite3.Connection, store_id: str) -> list[RemoteChange]:
    """The changes quarantined for trust, as the remote handed them (to be checked again)."""
    from fieldlog.db.remotes.types import RemoteChange

    out = []
    for seq, origin, oseq, tbl, rid, hlc, text, sig, pushed_by in conn.execute(
        "SELECT seq, origin, origin_seq, tbl, row_id, hlc, text, sig, pushed_by "
        "FROM sync_quarantine WHERE store_id = ? AND kind = 'trust' ORDER BY seq",
        [store_id],
    ):
        try:
            body = json.loads(text)
        except ValueError:
            body = None
        body = body if isinstance(body, dict) else None
        out.append(
            RemoteChange(
                seq, origin or "", oseq or 0, tbl or "", rid or "", hlc or "", body, text,
                sig, pushed_by,
            )
        )  # fmt: skip
    return out


def count(conn: sqlite3.Connection, store_id: str | None = None) -> int:
    where, args = ("WHERE store_id = ?", [store_id]) if store_id else ("", [])
    return int(conn.execute(f"SELECT count(*) FROM sync_quarantine {where}", args).fetchone()[0])


def note(conn: sqlite3.Connection, store_id: str, reason: str, seq: int | None = None) -> bool:
    """Keep a sequence anomaly (inside the caller's transaction); True when it is new."""
    now = dates.stamp_now()
    new = (
        conn.execute(
            "SELECT 1 FROM sync_anomalies WHERE store_id = ? AND reason = ?", [store_id, reason]
        ).fetchone()
        is None
    )
    conn.execute(
        "INSERT INTO sync_anomalies (store_id, reason, seq, first_seen, last_seen) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (store_id, reason) DO UPDATE SET "
        "last_seen = excluded.last_seen, times = times + 1",
        [store_id, reason, seq, now, now],
    )
    return new


def forget(conn: sqlite3.Connection, row_ids: Sequence[str]) -> None:
    """Drop what is held or quarantined of records a retention purge removed (their text is
    personal data too), inside the purge's transaction."""
    for i in range(0, len(row_ids), 500):
        chunk = list(row_ids[i : i + 500])
        marks = ", ".join("?" * len(chunk))
        conn.execute(f"DELETE FROM sync_quarantine WHERE row_id IN ({marks})", chunk)
        conn.execute(
            f"DELETE FROM sync_held WHERE json_valid(body) AND "
            f"json_extract(body, '$.row_id') IN ({marks})",
            chunk,
        )


# ---------------------------------------------------------------------- listing
def _officer(body: Any) -> str | None:
    if isinstance(body, dict) and isinstance(body.get("officer"), str):
        return str(body["officer"])
    return None


def _body_of(text: str | None) -> Any:
    try:
        return json.loads(text or "")
    except ValueError:
        return None


def _due(ms: int) -> str | None:
    if not ms:
        return None
    from datetime import UTC, datetime

    try:
        return dates.to_storage(datetime.fromtimestamp(ms / 1000, UTC))
    except (ValueError, OverflowError, OSError):
        return None


def listing(store: Store) -> list[dict[str, Any]]:
    """Everything held, quarantined or anomalous, oldest first within each group: one dict
    each with ``status`` (``held``, ``quarantined``, ``anomaly``), ``kind``, ``reason``,
    ``store_id``, ``seq`` (the remote's), ``tbl``, ``row_id``, ``origin`` (the device that
    pushed it), ``officer`` (as the change claims it), ``due`` (held: when it is retried;
    None: every round) and ``found_at``."""
    conn = store.conn
    out: list[dict[str, Any]] = []
    for store_id, seq, reason, body, due_ms in conn.execute(
        "SELECT store_id, seq, reason, body, due_ms FROM sync_held ORDER BY store_id, seq"
    ):
        held = _body_of(body)
        held = held if isinstance(held, dict) else {}
        out.append(
            {
                "status": "held", "kind": "clock" if due_ms else "waiting", "reason": reason,
                "store_id": store_id, "seq": seq, "tbl": held.get("tbl"),
                "row_id": held.get("row_id"), "origin": held.get("origin"),
                "officer": _officer(held.get("body")), "due": _due(due_ms), "found_at": None,
            }
        )  # fmt: skip
    for row in conn.execute(
        "SELECT store_id, seq, kind, reason, tbl, row_id, origin, text, found_at "
        "FROM sync_quarantine ORDER BY store_id, seq"
    ):
        store_id, seq, kind, reason, tbl, row_id, origin, text, found_at = row
        out.append(
            {
                "status": "quarantined", "kind": kind, "reason": reason, "store_id": store_id,
                "seq": seq, "tbl": tbl, "row_id": row_id, "origin": origin,
                "officer": _officer(_body_of(text)), "due": None, "found_at": found_at,
            }
        )  # fmt: skip
    for store_id, reason, seq, first, last, times in conn.execute(
        "SELECT store_id, reason, seq, first_seen, last_seen, times FROM sync_anomalies "
        "ORDER BY store_id, first_seen"
    ):
        out.append(
            {
                "status": "anomaly", "kind": "sequence", "reason": reason, "store_id": store_id,
                "seq": seq, "tbl": None, "row_id": None, "origin": None, "officer": None,
                "due": None, "found_at": first, "last_seen": last, "times": times,
            }
        )  # fmt: skip
    return out
