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
    if key == "seq_counter" and per_agency_counter(url):
        return counter(url)
    rows = raw(url, "SELECT value FROM fieldlog_meta WHERE key = ?", [key])
    return rows[0][0] if rows else None


# A department store keeps its sequence counter per agency, as a bigint (fieldlog.counters,
# dept layout 2); the other stores as text in fieldlog_meta (key seq_counter).
DEPT_COUNTER = "fieldlog.counters WHERE agency = fieldlog.my_agency()"


def per_agency_counter(url: str) -> bool:
    """Whether ``url`` is a department store with per-agency counters."""
    if not hasattr(url, "dept"):  # tests/lib/pg.DeptUrl
        return False
    return raw(url, "SELECT to_regclass('fieldlog.counters') IS NOT NULL") == [(True,)]


def counter(url: str) -> str | None:
    """The store's sequence counter as text (the default agency's on a department store)."""
    if per_agency_counter(url):
        rows = raw(url, f"SELECT seq::text FROM {DEPT_COUNTER}")
    else:
        rows = raw(url, "SELECT value FROM fieldlog_meta WHERE key = 'seq_counter'")
    return rows[0][0] if rows else None


def set_counter(url: str, value: str | int) -> None:
    """Set the store's sequence counter straight in the store (as someone with write access)."""
    if per_agency_counter(url):
        raw(url, "UPDATE fieldlog.counters SET seq = ?::bigint WHERE agency = "
            "fieldlog.my_agency()", [str(value)])  # fmt: skip
    else:
        raw(url, "UPDATE fieldlog_meta SET value = ? WHERE key = 'seq_counter'", [str(value)])
