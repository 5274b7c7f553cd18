"""Writing straight into a sync store, as anyone who can write the shared file or the database
can: rows no fieldlog pushed (malformed, forged, or signed by an enrolled laptop running a
modified fieldlog), rows at chosen seqs, rows deleted. For the poison tests
(tests/sync/test_sync_poison.py); both backends."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Mapping
from typing import Any

from fieldlog.db.devices import Trust
from fieldlog.db.remotes.factory import open_remote
from fieldlog.db.remotes.types import OutChange, is_postgres
from fieldlog.db.store import Store

COLUMNS = ("seq", "origin", "origin_seq", "tbl", "row_id", "hlc", "body", "sig")
COUNTER = "seq_counter"  # fieldlog_meta: the highest seq the store handed out
MAX_SEQ = 2**63 - 1
# A department store's counter: the default agency's row of fieldlog.counters (read, write).
AGENCY_COUNTER = (
    "SELECT seq FROM fieldlog.counters WHERE agency = fieldlog.my_agency()",
    "UPDATE fieldlog.counters SET seq = %s::bigint WHERE agency = fieldlog.my_agency()",
)


def stamp(device: str, ahead_ms: int = 0) -> str:
    """A clock stamp of now (plus ``ahead_ms``) for ``device``."""
    return f"{int(time.time() * 1000) + ahead_ms:013d}-00000-{device}"


def store_id(url: str) -> str:
    remote = open_remote(url)
    try:
        return remote.store_id
    finally:
        remote.close()


def body_of(store: Store, tbl: str, rid: str) -> dict[str, Any]:
    """The body ``store`` pushes for record ``rid`` (its whole state), decoded."""
    after = 0
    while True:
        out, last = store.sync.outbox_page(after, 10_000)
        if last is None:
            raise LookupError(rid)
        for change in out:
            if change.row_id == rid and change.tbl == tbl:
                return json.loads(change.body)
        after = last


def signed(
    signer: Store,
    url: str,
    *,
    tbl: Any,
    row_id: Any,
    hlc: Any,
    body: Any,
    origin_seq: int,
) -> dict[str, Any]:
    """A row signed by ``signer`` (an enrolled laptop): what a laptop running a modified
    fieldlog could push. ``body``: a dict (made JSON text here) or text as it is."""
    text = body if isinstance(body, str) else json.dumps(body)
    remote = open_remote(url)
    try:
        trust = Trust(signer, remote, remote.store_id)
        trust.prepare()
        device = trust.key.device
        sig = trust.sign(OutChange(origin_seq, tbl, row_id, hlc, text))
    finally:
        remote.close()
    row = {
        "origin": device, "origin_seq": origin_seq, "tbl": tbl, "row_id": row_id,
        "hlc": hlc, "body": text, "sig": sig,
    }  # fmt: skip
    login_name = getattr(url, "login_name", None)  # a department store (tests/lib/pg.DeptUrl)
    if login_name is not None and (login := login_name(signer.officer())) is not None:
        row["pushed_by"] = login  # what the signer's own login pushing it would leave
    return row


def plant(
    url: str, rows: Iterable[Mapping[str, Any]], *, move_counter: bool = True
) -> list[int | None]:
    """Insert ``rows`` into the store's ``fieldlog_changes``. A row without ``seq`` gets the
    one after the store's counter, and the counter moves over it (``move_counter``) so laptops
    pull it; a row with its own ``seq`` leaves the counter alone. A row the table refuses (it
    collides with one there, or a column is NULL) is skipped. Returns each row's seq (None:
    skipped). On a department store a row with ``pushed_by`` (:func:`signed`: the signer's
    login) keeps that pusher, as if that login had pushed it past the database's checks (the
    owner plants it: the laptops' own checks must still decide)."""
    open_remote(url).close()  # the store exists, in the current layout
    rows = list(rows)
    if is_postgres(url):
        done = _plant_pg(url, rows, move_counter)
        _set_pushed_by(url, rows, done)
        return done
    return _plant_sqlite(url, rows, move_counter)


def _set_pushed_by(url: str, rows: list[Mapping[str, Any]], done: list[int | None]) -> None:
    """Give each planted row its ``pushed_by`` (triggers off: they set it to the writer)."""
    fix = [(row["pushed_by"], seq) for row, seq in zip(rows, done, strict=True)
           if seq is not None and row.get("pushed_by")]  # fmt: skip
    if not fix:
        return
    from tests.lib.pg import server

    dbname = url.rsplit("/", 1)[1].split("?", 1)[0]
    with server().admin_connect(dbname) as conn, conn.transaction():
        conn.execute("SET LOCAL session_replication_role = replica")
        for who, seq in fix:
            conn.execute(
                "UPDATE fieldlog.fieldlog_changes SET pushed_by = %s "
                "WHERE seq = %s AND agency = fieldlog.my_agency()",
                [who, seq],
            )


def _bindable(v: Any) -> Any:
    """A value SQLite takes as it is; anything else (a list, a huge number) as JSON text."""
    if v is None or isinstance(v, str | float):
        return v
    if isinstance(v, int) and -(2**63) <= v < 2**63:
        return v
    return json.dumps(v)


def _values(row: Mapping[str, Any], seq: int, pg: bool) -> list[Any]:
    out: list[Any] = [seq]
    for col in COLUMNS[1:]:
        v = row.get(col, "" if col != "origin_seq" else 1)
        if not pg:
            v = _bindable(v)
        else:  # typed columns: text as text, numbers in bigint's range
            if col == "origin_seq":
                v = v if isinstance(v, int) and not isinstance(v, bool) and abs(v) < MAX_SEQ else 1
            elif v is not None or col != "sig":
                v = v if isinstance(v, str) else json.dumps(v)
                v = v.replace("\x00", "")  # PostgreSQL text holds no NUL
        out.append(v)
    return out


def _plant_sqlite(url: str, rows: list[Mapping[str, Any]], move: bool) -> list[int | None]:
    conn = sqlite3.connect(url, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        done = _plant_rows(conn, rows, move, pg=False)
        conn.execute("COMMIT")
        return done
    finally:
        conn.close()


def _plant_pg(url: str, rows: list[Mapping[str, Any]], move: bool) -> list[int | None]:
    import psycopg

    from tests.lib.remote_sql import per_agency_counter

    with psycopg.connect(url) as conn:
        return _plant_rows(conn, rows, move, pg=True, per_agency=per_agency_counter(url))


def _plant_rows(conn: Any, rows: list[Mapping[str, Any]], move: bool, pg: bool,
                per_agency: bool = False) -> list[int | None]:  # fmt: skip
    """Insert ``rows`` on ``conn`` (sqlite3 or psycopg, inside a transaction); see plant.
    ``per_agency``: the counter is the default agency's row of ``fieldlog.counters`` (a
    department store's), else ``fieldlog_meta``'s."""
    mark = "%s" if pg else "?"
    insert = (
        f"INSERT {'' if pg else 'OR IGNORE '}INTO fieldlog_changes ({', '.join(COLUMNS)}) "
        f"VALUES ({', '.join([mark] * len(COLUMNS))}){' ON CONFLICT DO NOTHING' if pg else ''}"
    )
    if per_agency:
        read, write = AGENCY_COUNTER
    else:
        read = f"SELECT value FROM fieldlog_meta WHERE key = {mark}"
        write = f"UPDATE fieldlog_meta SET value = {mark} WHERE key = {mark}"
    counter = int(conn.execute(read, [] if per_agency else [COUNTER]).fetchone()[0])
    done: list[int | None] = []
    for row in rows:
        seq = row.get("seq")
        if seq is None:
            seq = counter + 1
        cur = conn.execute(insert, _values(row, seq, pg=pg))
        done.append(seq if cur.rowcount else None)
        if cur.rowcount and row.get("seq") is None and move:
            counter = seq
    conn.execute(write, [str(counter)] if per_agency else [str(counter), COUNTER])
    return done


def delete_seq(url: str, seq: int) -> None:
    """Remove the row at ``seq`` from the store (a gap in its sequence)."""
    if is_postgres(url):
        import psycopg

        with psycopg.connect(url) as conn:
            conn.execute("DELETE FROM fieldlog_changes WHERE seq = %s", [seq])
        return
    conn = sqlite3.connect(url, isolation_level=None)
    try:
        conn.execute("DELETE FROM fieldlog_changes WHERE seq = ?", [seq])
    finally:
        conn.close()
