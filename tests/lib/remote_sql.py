"""What the remote-store tests share: SQL run straight in a store (as anyone who can write
the shared file or the database can), a change to push, a cursor walking a remote. Used by
tests/sync/test_remote_store.py and tests/sync/test_remote_files.py; both backends."""

from __future__ import annotations

import sqlite3

from fieldlog.db.remotes.types import OutChange, is_postgres

RID = "0" * 31 + "1"


def raw(url: str, sql: str, params: tuple | list = ()) -> list[tuple]:
    """Run SQL straight in the store (``?`` placeholders on both backends)."""
    if is_postgres(url):
        from tests.lib.pg import server

        return server().execute(url, sql.replace("?", "%s"), params)
    con = sqlite3.connect(url)
    try:
        cur = con.execute(sql, params)
        rows = cur.fetchall()
        con.commit()
        return rows
    finally:
        con.close()


def plant(
    url: str,
    seq: int,
    body: object = "{}",
    *,
    origin: object = "evil",
    origin_seq: object = None,
    tbl: object = "contacts",
) -> None:
    raw(
        url,
        "INSERT INTO fieldlog_changes (seq, origin, origin_seq, tbl, row_id, hlc, body) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        [seq, origin, seq if origin_seq is None else origin_seq, tbl, RID, "h", body],
    )


def out(n: int, body: str | None = None, sig: str = "") -> OutChange:
    return OutChange(n, "contacts", RID, f"h{n:04}", body or f'{{"n": {n}}}', sig)


def pull_all(remote, page: int = 1_000_000) -> list:
    """Every change, page by page, as a laptop's cursor walks them."""
    got, after = [], 0
    while batch := remote.pull(after, page):
        got.extend(batch)
        after = batch[-1].seq
    return got


def meta(url: str, key: str) -> str | None:
    rows = raw(url, "SELECT value FROM fieldlog_meta WHERE key = ?", [key])
    return rows[0][0] if rows else None
