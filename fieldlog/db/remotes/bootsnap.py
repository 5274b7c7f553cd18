"""A remote's snapshot of current state, for a new laptop's first sync (docs/sync.md, Bootstrap).

A new laptop joining a big store would replay every change; instead it can load the store's
current state as of one sequence number ``seq`` and pull incrementally from there. Two kinds:

- ``"signed"`` (a SQLite file, a plain PostgreSQL database): the remote keeps a snapshot a
  fully synced laptop wrote (:func:`write`): table ``fieldlog_snapshot`` (``n``, ``tbl``,
  ``id``, ``hlc``, ``body``: each record as a laptop stores it, its per-field ``clocks``
  included) and ``fieldlog_meta`` keys ``snapshot_*``: its ``seq``, row count, the SHA-256
  ``digest`` of its rows in order, the writing ``device`` and that device's signature of
  ``(store id, device, seq, rows, digest)`` (:func:`signed_text`). Rows and keys are written
  in one transaction and read in one.
- ``"server"`` (a department store): the store's own current state (``fieldlog.state``,
  kept by the push transaction) read through the login's row-level security, with the
  agency's counter and its row count under it, in one ``REPEATABLE READ`` transaction.

Either way the snapshot is the state as of ``seq`` and the count of rows at or below ``seq``
is read with it, so a push committing meanwhile is either wholly in the snapshot (at or below
``seq``) or wholly above it (pulled next): a department store's in one REPEATABLE READ
transaction; a signed snapshot's keys in one read transaction and its rows in short ones
(bound to ``seq`` by the signed digest). What a laptop trusts a snapshot for is decided by
:mod:`fieldlog.db.bootstrap`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from fieldlog import records
from fieldlog.db.remotes.types import SyncError

__all__ = ["Row", "Snapshot", "digest_of", "open_snapshot", "signed_text", "write"]

TABLE = "fieldlog_snapshot"
KEYS = ("snapshot_seq", "snapshot_rows", "snapshot_digest", "snapshot_device", "snapshot_sig")
# (tbl, id, hlc, body): body is the JSON text a laptop wrote ("signed"), or the decoded
# change a department store's state row makes ("server").
Row = tuple[str, str, str, Any]


@dataclass
class Snapshot:
    """A snapshot being read (inside the remote's read transaction): ``pages`` yields its
    rows, parents' tables first. ``below``: the store's rows at or below ``seq`` (for the
    laptop's sequence check), None when unknown."""

    kind: str  # "signed" or "server"
    seq: int
    rows: int
    pages: Iterator[list[Row]]
    below: int | None = None
    digest: str = ""
    device: str = ""
    sig: str = ""
    # (origin, pushed_by, changes, unsigned, highest seq) of the changes at or below seq
    # this login sees: whose changes the snapshot folds (the laptop checks each is trusted).
    origins: list[tuple[str, str | None, int, int, int]] = field(default_factory=list)
    # (tbl, row_id) -> highest hlc of the store's changes at or below seq this login sees
    # (:func:`_log_rows`): the snapshot's rows must be exactly these, at these clocks.
    log: dict[tuple[str, str], str] = field(default_factory=dict)


def signed_text(store_id: str, device: str, seq: int, rows: int, digest: str) -> bytes:
    """What a device signs for a snapshot it writes (a domain of its own: never a change's
    or a head's text)."""
    parts = [store_id, device, seq, rows, digest]
    return b"fieldlog-snapshot\n" + json.dumps(parts, separators=(",", ":")).encode()


class Digest:
    """The running SHA-256 of a snapshot's rows, in order (writer and reader the same)."""

    def __init__(self) -> None:
        self._h = hashlib.sha256()

    def add(self, tbl: str, rid: str, hlc: str, body: str) -> None:
        self._h.update(f"{tbl}\t{rid}\t{hlc}\t{body}\n".encode())

    def hexdigest(self) -> str:
        return self._h.hexdigest()


def digest_of(rows: Iterable[Row]) -> str:
    d = Digest()
    for tbl, rid, hlc, body in rows:
        d.add(tbl, rid, hlc, body)
    return d.hexdigest()


def _is_dept(remote: Any) -> bool:
    return bool(getattr(remote, "dept", False))


def _has_conn(remote: Any) -> bool:
    return getattr(remote, "conn", None) is not None and hasattr(remote, "MARK")


# ---------------------------------------------------------------------- reading
@contextmanager
def open_snapshot(remote: Any, page: int = 2000) -> Iterator[Snapshot | None]:
    """The remote's snapshot (None: it keeps none, or is not a backend that can), open for
    the ``with`` block: its pages are read inside the remote's read transaction."""
    if not _has_conn(remote):
        yield None
        return
    if _is_dept(remote):
        with _dept_snapshot(remote, page) as snap:
            yield snap
        return
    with _signed_snapshot(remote, page) as snap:
        yield snap


def _origins(remote: Any, seq: int) -> list[tuple[str, str | None, int, int, int]]:
    m = remote.MARK
    pushed = "pushed_by" if remote.MARK != "?" else "NULL"
    rows = remote.conn.execute(
        f"SELECT origin, {pushed}, count(*), "
        "sum(CASE WHEN sig IS NULL OR sig = '' THEN 1 ELSE 0 END), max(seq) "
        f"FROM fieldlog_changes WHERE seq <= {m} GROUP BY origin, {pushed}",
        [seq],
    ).fetchall()
    return [
        (str(o), None if p is None else str(p), int(n), int(u or 0), int(t))
        for o, p, n, u, t in rows
    ]


def _log_rows(remote: Any, seq: int) -> dict[tuple[str, str], str]:
    """Every record the store's changes at or below ``seq`` touch, with its highest hlc, in
    one grouped query (in the caller's read transaction): what a replay up to ``seq`` would
    fold, so the snapshot's rows are bound to the change log (none added, left out or moved)."""
    m = remote.MARK
    hlc = "hlc" if m == "?" else 'hlc COLLATE "C"'  # byte order, as Python compares stamps
    rows = remote.conn.execute(
        f"SELECT tbl, row_id, max({hlc}) FROM fieldlog_changes WHERE seq <= {m} "
        "GROUP BY tbl, row_id",
        [seq],
    ).fetchall()
    return {(str(t), str(r)): str(h) for t, r, h in rows}


def _meta(remote: Any) -> dict[str, str]:
    m = remote.MARK
    rows = remote.conn.execute(
        f"SELECT key, value FROM fieldlog_meta WHERE key IN ({', '.join([m] * len(KEYS))})",
        list(KEYS),
    ).fetchall()
    return {str(k): str(v) for k, v in rows if v is not None}


def _table_exists(remote: Any) -> bool:
    if remote.MARK == "?":
        sql = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?"
    else:
        sql = "SELECT 1 WHERE to_regclass(%s) IS NOT NULL"
    return remote.conn.execute(sql, [TABLE]).fetchone() is not None


@contextmanager
def _signed_snapshot(remote: Any, page: int) -> Iterator[Snapshot | None]:
    """The snapshot a laptop left: its keys, the count under its seq and whose changes those
    are, in one read transaction; its rows then page by page, each page its own short read
    (a file remote's readers hold its writers back). That is safe: rows at or below ``seq``
    never change but by tampering, and the rows must hash to the digest the writer signed
    with that ``seq``, so a snapshot replaced meanwhile is refused as a whole."""
    with remote._reading():
        if not _table_exists(remote):
            head = None
        else:
            meta = _meta(remote)
            try:
                seq, rows = int(meta["snapshot_seq"]), int(meta["snapshot_rows"])
            except (KeyError, ValueError):
                seq = rows = 0
            # None yet, or a seq the store never gave: not used.
            if seq <= 0 or seq > remote._counter():
                head = None
            else:
                m = remote.MARK
                below = int(
                    remote.conn.execute(
                        f"SELECT count(*) FROM fieldlog_changes WHERE seq <= {m}", [seq]
                    ).fetchone()[0]
                )
                head = (seq, rows, below, meta, _origins(remote, seq), _log_rows(remote, seq))
    if head is None:
        yield None
        return
    seq, rows, below, meta, origins, log = head
    m = remote.MARK

    def pages() -> Iterator[list[Row]]:
        after = 0
        while True:
            with remote._reading():
                got = remote.conn.execute(
                    f"SELECT n, tbl, id, hlc, body FROM {TABLE} WHERE n > {m} ORDER BY n LIMIT {m}",
                    [after, page],
                ).fetchall()
            if not got:
                return
            after = int(got[-1][0])
            yield [(str(t), str(i), str(h), str(b)) for _, t, i, h, b in got]

    yield Snapshot(
        "signed",
        seq,
        rows,
        pages(),
        below=below,
        digest=meta.get("snapshot_digest", ""),
        device=meta.get("snapshot_device", ""),
        sig=meta.get("snapshot_sig", ""),
        origins=origins,
        log=log,
    )


@contextmanager
def _dept_snapshot(remote: Any, page: int) -> Iterator[Snapshot | None]:
    """A department store's current state as this login may read it (RLS), its agency's
    counter and the count under it, from one REPEATABLE READ snapshot."""
    import contextlib

    import psycopg

    from fieldlog.db.remotes.snapshot import IDLE_READ, state_change

    conn = remote.conn
    wanted = list(records.in_sync_order())
    with remote._reading():
        conn.execute(f"SET LOCAL idle_in_transaction_session_timeout = '{IDLE_READ}'")
        seq, below, _beyond = remote._seq_counts(0)  # the counter, in this snapshot
        if seq <= 0:
            yield None
            return
        below = remote._seq_counts(seq)[1]  # the agency's rows at or below it, all units
        total = int(
            conn.execute(
                "SELECT count(*) FROM fieldlog.state WHERE tbl = ANY(%s)", [wanted]
            ).fetchone()[0]
        )

        def pages() -> Iterator[list[Row]]:
            for tbl in wanted:
                cur = conn.cursor(name=f"fieldlog_bootstrap_{tbl}")
                try:
                    cur.itersize = page
                    cur.execute(
                        "SELECT id::text, officer::text, origin::text, created_at::text, "
                        "updated_at::text, vals, clocks, deleted FROM fieldlog.state "
                        "WHERE tbl = %s ORDER BY created_at, id",
                        [tbl],
                    )
                    while batch := cur.fetchmany(page):
                        out: list[Row] = []
                        for rid, officer, origin, created, updated, vals, clocks, dl in batch:
                            c = state_change(
                                seq, tbl, rid,
                                {"officer": officer, "origin": origin, "created_at": created,
                                 "updated_at": updated, "vals": vals, "clocks": clocks,
                                 "deleted": dl},
                            )  # fmt: skip
                            out.append((tbl, rid, c.hlc, c.body))
                        yield out
                finally:
                    with contextlib.suppress(psycopg.Error):
                        cur.close()

        yield Snapshot(
            "server", seq, total, pages(), below=below, origins=_origins(remote, seq),
            log=_log_rows(remote, seq),
        )  # fmt: skip


# ---------------------------------------------------------------------- writing
def write(
    remote: Any,
    seq: int,
    rows: Iterable[Row],
    *,
    device: str,
    sign: Any,
    store_id: str,
) -> int:
    """Replace the remote's snapshot with ``rows`` (the state as of ``seq``), signed by
    ``device`` (``sign(bytes) -> str``), in one write transaction; returns the row count.
    Refused (SyncError) for a department store, whose state is its own."""
    if _is_dept(remote) or not _has_conn(remote):
        raise SyncError(f"{remote.url} keeps its own current state: no snapshot is written.")
    m = remote.MARK
    conn = remote.conn
    with remote._writing():
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS {TABLE} (n bigint PRIMARY KEY, tbl text NOT NULL, "
            f"id text NOT NULL, hlc text NOT NULL, body text NOT NULL)"
        )
        counter = remote._counter()
        if seq > counter:
            raise SyncError(f"{remote.url}: a snapshot above the store's counter is not kept.")
        old = _meta(remote).get("snapshot_seq")
        if old is not None and old.isdigit() and int(old) >= seq:
            return 0  # another laptop wrote one as new meanwhile
        conn.execute(f"DELETE FROM {TABLE}")
        d = Digest()
        n = 0
        batch: list[tuple[Any, ...]] = []
        insert = f"INSERT INTO {TABLE} (n, tbl, id, hlc, body) VALUES ({m}, {m}, {m}, {m}, {m})"
        for tbl, rid, hlc, body in rows:
            n += 1
            d.add(tbl, rid, hlc, body)
            batch.append((n, tbl, rid, hlc, body))
            if len(batch) >= 5000:
                _many(conn, insert, batch)
                batch = []
        if batch:
            _many(conn, insert, batch)
        digest = d.hexdigest()
        sig = sign(signed_text(store_id, device, seq, n, digest))
        conn.execute(
            f"DELETE FROM fieldlog_meta WHERE key IN ({', '.join([m] * len(KEYS))})", list(KEYS)
        )
        _many(
            conn,
            f"INSERT INTO fieldlog_meta (key, value) VALUES ({m}, {m})",
            list(zip(KEYS, (str(seq), str(n), digest, device, sig), strict=True)),
        )
    return n


def _many(conn: Any, sql: str, rows: list[tuple[Any, ...]]) -> None:
    if hasattr(conn, "executemany"):
        conn.executemany(sql, rows)
    else:  # a psycopg connection: executemany is on its cursors
        with conn.cursor() as cur:
            cur.executemany(sql, rows)
