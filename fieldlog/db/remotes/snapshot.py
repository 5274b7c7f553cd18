"""The department store's current state, as a throwaway local log: department-wide reads.

``fieldlog report --remote NAME``, ``fieldlog export TABLE --remote NAME`` and ``fieldlog review
list --remote NAME`` read the department's PostgreSQL store (``fieldlog dept setup``) instead
of this laptop's log. The store keeps every record's merged state in ``fieldlog.state``: the
values exactly as laptops store them and each field's clock stamp, tombstones included. Rows
are read through the caller's own login, so PostgreSQL's row-level security decides what is
visible (an officer's unit and every organization; nothing for an analyst, who reads the
redacted views instead).

:func:`snapshot` copies those rows into a new log in a private temporary folder (0700, in
memory when the laptop's log is encrypted, and then encrypted too with a random key that is
never written down), and hands it out as an ordinary :class:`~fieldlog.db.store.Store`: the
report and export code run on it unchanged, so the output is the same, format for format, as
a laptop holding all those records would print. Each row becomes the change a laptop would
pull (``values``, ``clocks``, ``changed: ["*"]``) and goes in through the sync log's apply
(:meth:`fieldlog.db.synclog.SyncLog.apply`: checked like any pulled change, merged, written
by the one write path), never through SQL of its own. The rows come in pages from a
server-side cursor inside one read-only ``REPEATABLE READ`` transaction, so a contact and its
concerns are read as of one moment while other laptops keep pushing. The folder and its
files are overwritten with zeros and removed when the ``with`` block ends, however it ends.

The store's signatures are not checked here (the state has none: the server merged the
changes). That is why the snapshot is thrown away: nothing of it reaches this laptop's log,
whose records still come only through ``fieldlog sync`` and its device checks.

psycopg is imported inside the functions that read, as in the backends. This module sits
above :mod:`fieldlog.db.remotes.factory`: it opens the store the way sync does (the same
checks of the store's kind, schema and department layout, the same one-line errors) and
reads over that connection.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fieldlog import records
from fieldlog.db.remotes.types import Remote, RemoteChange, SyncError, is_postgres, safe_url

if TYPE_CHECKING:
    from fieldlog.db.store import Store

__all__ = ["PAGE", "DeptStore", "open_dept", "snapshot", "state_change"]

PAGE = 2000  # state rows per page: one local transaction each, as a sync page
IDLE_READ = "10min"  # the read transaction's limit while a page is written locally
SNAPSHOT_ID = "department-snapshot"  # the store id the throwaway log keeps its cursor under
SETUP_HINT = "run fieldlog dept setup URL as the store's owner (docs/department.md)"
# What the review list holds of each contact (the keys of store.contacts.reviews).
REVIEW_KEYS = (
    "id", "occurred_at", "officer", "summary", "neighborhood", "review_status",
    "review_comment", "reviewed_by", "reviewed_at",
)  # fmt: skip

Progress = Callable[[int, int], None]


# ---------------------------------------------------------------------- the store, read
class DeptStore:
    """A department store opened for reading ``fieldlog.state`` (and the review list) as the
    URL's login; ``remote`` is the same store as sync sees it (its ``push`` is the normal
    one). Errors are one :class:`SyncError` line each."""

    def __init__(self, remote: Remote, url: str) -> None:
        self.remote = remote
        self.url = safe_url(url)
        self.conn: Any = getattr(remote, "conn", None)
        self._raw_url = url

    # ------------------------------------------------------------------ errors
    @contextmanager
    def guard(self, doing: str = "") -> Iterator[None]:
        """A database error inside as one line: a login that may not read the records (an
        analyst) is told what it may read; anything else as the backend says it."""
        import psycopg

        try:
            yield
        except psycopg.errors.InsufficientPrivilege:
            raise SyncError(
                f"{self._user()} may not read the department's records in {self.url}"
                f"{doing}: an analyst's login reads the redacted views "
                "(fieldlog.contacts_redacted and its siblings, docs/department.md); reports "
                "and exports with --remote need an officer's or a supervisor's login."
            ) from None
        except psycopg.Error as exc:
            from fieldlog.db.remotes.pgerrors import explain

            raise explain(exc, self._target(), self.conn) from None

    def _target(self) -> Any:
        from psycopg.conninfo import conninfo_to_dict

        from fieldlog.db.remotes.pgerrors import Target

        try:
            params = conninfo_to_dict(self._raw_url)
        except Exception:  # the URL opened, so this does not happen; never fail a message
            params = {}
        return Target(self._raw_url, params)

    def _user(self) -> str:
        return str(self._target().user)

    # ------------------------------------------------------------------ layout
    def check_layout(self) -> None:
        """Refuse a store without the department layout (plain change-log tables): it has
        no current state to read."""
        with self.guard():
            row = self.conn.execute(
                "SELECT to_regclass('fieldlog.state') IS NOT NULL, "
                "to_regclass('fieldlog.fieldlog_meta') IS NOT NULL"
            ).fetchone()
            layout = None
            if row is not None and row[1]:
                got = self.conn.execute(
                    "SELECT value::text FROM fieldlog.fieldlog_meta WHERE key = 'dept_layout'"
                ).fetchone()
                layout = got[0] if got else None
        if row is None or not row[0] or not layout:
            raise SyncError(
                f"{self.url} is a sync store without the department layout (no current-state "
                f"tables to read): {SETUP_HINT}."
            )

    def role(self) -> str | None:
        """This login's role in the store (``fieldlog.my_role()``: officer, supervisor,
        analyst, or owner for a login the department did not enroll); None when the store
        has no such function."""
        with self.guard():
            row = self.conn.execute(
                "SELECT CASE WHEN to_regprocedure('fieldlog.my_role()') IS NULL THEN NULL "
                "ELSE fieldlog.my_role()::text END"
            ).fetchone()
        return None if row is None else row[0]

    # ------------------------------------------------------------------ state rows
    def state_rows(
        self, page: int = PAGE, tables: Sequence[str] | None = None
    ) -> Iterator[tuple[int, list[RemoteChange]]]:
        """``(total, page of changes)``: every visible ``fieldlog.state`` row as the change a
        laptop would pull, parents' tables first, each table in order of creation, read as of
        one moment (one read-only repeatable-read transaction, a server-side cursor)."""
        import psycopg

        wanted = [t for t in records.in_sync_order() if tables is None or t in tables]
        with self.guard(), self.conn.transaction():
            self.conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            # The session is idle in this transaction while a page is written locally (a few
            # seconds): more than the remote's own limit for a slow laptop, never for ever.
            self.conn.execute(f"SET LOCAL idle_in_transaction_session_timeout = '{IDLE_READ}'")
            row = self.conn.execute(
                "SELECT count(*) FROM fieldlog.state WHERE tbl = ANY(%s)", [wanted]
            ).fetchone()
            total = int(row[0]) if row else 0
            seq = 0
            for tbl in wanted:
                cur = self.conn.cursor(name=f"fieldlog_snapshot_{tbl}")
                try:
                    cur.itersize = page
                    cur.execute(
                        "SELECT id::text, officer::text, origin::text, created_at::text, "
                        "updated_at::text, vals, clocks, deleted FROM fieldlog.state "
                        "WHERE tbl = %s ORDER BY created_at, id",
                        [tbl],
                    )
                    while batch := cur.fetchmany(page):
                        out = []
                        for rid, officer, origin, created, updated, vals, clocks, deleted in batch:
                            seq += 1
                            out.append(
                                state_change(
                                    seq, tbl, rid,
                                    {"officer": officer, "origin": origin, "created_at": created,
                                     "updated_at": updated, "vals": vals, "clocks": clocks,
                                     "deleted": deleted},
                                )
                            )  # fmt: skip
                        yield total, out
                finally:
                    with contextlib.suppress(psycopg.Error):
                        cur.close()

    def find_contacts(self, prefix: str) -> list[str]:
        """The ids of the visible, live contacts whose id starts with ``prefix`` (at most
        two: enough to tell one from many)."""
        with self.guard():
            rows = self.conn.execute(
                "SELECT id::text FROM fieldlog.state WHERE tbl = 'contacts' AND deleted = 0 "
                "AND id LIKE %s ORDER BY id LIMIT 2",
                [prefix.replace("\\", "").replace("%", "").replace("_", "") + "%"],
            ).fetchall()
        return [r[0] for r in rows]

    def reviews(self, status: str | None = None, officer: str | None = None) -> list[dict]:
        """The live contacts visible to this login with their review state (the keys of
        ``store.contacts.reviews``), newest first; ``status``/``officer`` filter (the officer
        by name, ignoring case). A contact from a laptop older than review counts as
        submitted."""
        where = ["tbl = 'contacts'", "deleted = 0"]
        params: list[Any] = []
        if status is not None:
            where.append("coalesce(vals->>'review_status', 'submitted') = %s")
            params.append(status)
        if officer is not None:
            where.append("lower(officer) = lower(%s)")
            params.append(officer.strip())
        with self.guard():
            rows = self.conn.execute(
                "SELECT id::text, vals->>'occurred_at', officer::text, vals->>'summary', "
                "vals->>'neighborhood', coalesce(vals->>'review_status', 'submitted'), "
                "vals->>'review_comment', vals->>'reviewed_by', vals->>'reviewed_at' "
                f"FROM fieldlog.state WHERE {' AND '.join(where)} "
                "ORDER BY vals->>'occurred_at' DESC, id DESC",
                params,
            ).fetchall()
        return [dict(zip(REVIEW_KEYS, r, strict=True)) for r in rows]


def state_change(seq: int, tbl: str, rid: str, row: Mapping[str, Any]) -> RemoteChange:
    """One ``fieldlog.state`` row as the change a laptop would pull: the record's whole
    state (its values as laptops store them, each field's stamp, its officer, origin and
    times) created at once (``changed: ["*"]``). Fields the row does not hold (a record last
    written by a fieldlog older than a field) stay out, as in that laptop's change."""
    fields = records.TABLE_FIELDS.get(tbl, ())
    vals = row.get("vals") if isinstance(row.get("vals"), dict) else {}
    clocks_in = row.get("clocks") if isinstance(row.get("clocks"), dict) else {}
    assert isinstance(vals, dict) and isinstance(clocks_in, dict)
    values = {f: vals[f] for f in fields if f in vals}
    deleted = row.get("deleted")
    values["deleted"] = 1 if deleted in (1, True, "1") else 0
    clocks = {k: v for k, v in clocks_in.items() if k == "*" or k in values}
    if clocks and "*" not in clocks:
        clocks["*"] = min(str(v) for v in clocks.values())
    body = {
        "officer": row.get("officer"),
        "origin": row.get("origin"),
        "created_at": row.get("created_at"),
        "updated_at": row.get("updated_at"),
        "values": values,
        "clocks": clocks,
        "changed": ["*"],
    }
    hlc = max((str(v) for v in clocks.values()), default="")
    return RemoteChange(seq, str(row.get("origin") or ""), seq, tbl, rid, hlc, body)


@contextmanager
def open_dept(url: str) -> Iterator[DeptStore]:
    """The department store at ``url`` opened as sync opens it (never created), its layout
    checked: a file remote, or a PostgreSQL store without the department layout, is one line
    saying to run ``fieldlog dept setup``."""
    if not is_postgres(url):
        raise SyncError(
            f"{safe_url(url)} is a file remote: department-wide reads need the department's "
            "PostgreSQL store (postgresql://...); to make one, run fieldlog dept setup URL "
            "(docs/department.md)."
        )
    from fieldlog.db.remotes.factory import open_remote

    remote = open_remote(url, create=False)
    try:
        dept = DeptStore(remote, url)
        if dept.conn is None:  # not the PostgreSQL backend: cannot happen for such a URL
            raise SyncError(f"{dept.url} cannot be read as a department store: {SETUP_HINT}.")
        dept.check_layout()
        yield dept
    finally:
        remote.close()


# ---------------------------------------------------------------------- the throwaway log
@contextmanager
def _folder(in_memory: bool) -> Iterator[Path]:
    """A private temporary folder (0700): in memory (tmpfs) when asked and one exists. Every
    file left in it is overwritten with zeros before the folder goes."""
    from fieldlog.db.leftovers import wipe
    from fieldlog.db.scratch import ram_dir

    where = ram_dir() if in_memory else None
    path = Path(tempfile.mkdtemp(prefix="fieldlog-snapshot-", dir=where))
    try:
        os.chmod(path, 0o700)
        yield path
    finally:
        for entry in sorted(path.rglob("*"), reverse=True):
            if entry.is_file() and not entry.is_symlink():
                wipe(entry)
        shutil.rmtree(path, ignore_errors=True)


@contextmanager
def snapshot(
    url: str,
    open_log: Callable[..., Store],
    *,
    encrypted: bool = False,
    progress: Progress | None = None,
    page: int = PAGE,
    tables: Sequence[str] | None = None,
) -> Iterator[Store]:
    """The department store's current state visible to the URL's login, as a throwaway log
    (a :class:`~fieldlog.db.store.Store`, open for the ``with`` block; removed after it).

    ``encrypted``: the laptop's own log is encrypted, so the copy is too (SQLCipher, a random
    key held only in memory) and lives in a memory-backed folder when there is one.
    ``progress(done, total)`` is called after each page (the CLI draws the bar). ``tables``:
    only these record tables (default: all). Tombstoned records come in as tombstones, as a
    laptop holds them (reports and exports leave them out).

    ``open_log`` is :meth:`Store.open <fieldlog.db.store.Store.open>`, passed in: the store
    imports the remotes' types (its sync log), so a remote module importing the store back
    would make the two a cycle."""
    with open_dept(url) as dept, _folder(encrypted) as folder:
        path = folder / "department.db"
        key = secrets.token_urlsafe(32) if encrypted else None
        store = open_log(path, passphrase=key, encrypt=encrypted)
        try:
            store.set_officer("department snapshot")
            done = 0
            if progress is not None:
                progress(0, 0)
            for total, batch in dept.state_rows(page, tables):
                store.sync.apply(SNAPSHOT_ID, batch)
                done += len(batch)
                if progress is not None:
                    progress(done, total)
            # A child read before its parent arrived (cannot happen in table order, but a
            # parent's table may hold it later after a move) is held: one more try.
            store.sync.retry_held(SNAPSHOT_ID)
            yield store
        finally:
            store.close()
