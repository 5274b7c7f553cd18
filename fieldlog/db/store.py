"""The local log, opened: its connection, its meta, and the one way to write to it.

:class:`Store` is small on purpose. It opens (checks, migrates) and closes a log, reads with
:meth:`Store.query` / :meth:`Store.scalar`, and writes only through :meth:`Store.write`, which
hands out the one transaction type (:class:`fieldlog.db.tx.Tx`: it stamps every change with
the device's hybrid logical clock, records it in the ``changes`` outbox that sync pushes from,
and chains it into the audit; triggers keep the search index in step).

Everything else a log holds is an attribute, built on first use so the quick ``fieldlog add``
path loads only what it touches: one repository per record type (``contacts``, ``concerns``,
``referrals``, ``orgs``), the contact ``entries``, shared id lookups (``records``), and the
``search``, ``drafts``, ``exports``, ``reports``, ``followups``, ``imports``, ``sync`` and
``conflicts`` services beside them. They take what a person typed (strings); validation lives
in the record registry (:mod:`fieldlog.records`), the entry rule in :mod:`fieldlog.entry`.
"""

from __future__ import annotations

import getpass
import json
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fieldlog import models
from fieldlog.db.connect import AskPassphrase, connect, db_error, explain, passphrase_of, use_wal
from fieldlog.db.migrations import ensure_schema
from fieldlog.db.tx import Tx
from fieldlog.errors import StorageError, ValidationError
from fieldlog.records import LIST_FIELDS

if TYPE_CHECKING:
    from fieldlog.db.drafts import Drafts
    from fieldlog.db.export_sql import Exports
    from fieldlog.db.report_sql import Followups, Reports
    from fieldlog.db.repos.base import Records, Row
    from fieldlog.db.repos.concerns import Concerns
    from fieldlog.db.repos.contacts import Contacts
    from fieldlog.db.repos.entries import Entries
    from fieldlog.db.repos.imports import Imports
    from fieldlog.db.repos.organizations import Organizations
    from fieldlog.db.repos.problems import Problems
    from fieldlog.db.repos.referrals import Referrals
    from fieldlog.db.search import Search
    from fieldlog.db.synclog import Conflicts, SyncLog

# The interface preferences ``Store.set_setting`` keeps (meta keys; nothing else may be
# written that way, so a typo cannot clobber the device id or a sync cursor).
SETTINGS = frozenset({"tui_theme"})
FOLLOW_UP_DAYS = 7  # a new referral's follow-up, unless the settings file says otherwise


def _row(cur: sqlite3.Cursor, raw: tuple, lists: frozenset[str]) -> Row:
    row = {d[0]: v for d, v in zip(cur.description, raw, strict=True)}
    for f in lists:
        if f in row and isinstance(row[f], str):
            row[f] = json.loads(row[f])
    if "clocks" in row:
        row.pop("clocks")
    if "deleted" in row:
        row["deleted"] = bool(row["deleted"])
    return row


def _schema_version(conn: Any) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


class Store:
    """A log file opened for use. ``Store.open(path)`` checks and migrates it."""

    def __init__(self, conn: sqlite3.Connection, path: Path | str) -> None:
        self.conn = conn
        self.path = path
        self._meta_cache: dict[str, str | None] | None = None
        # sqlite3's or sqlcipher3's DatabaseError (different classes): catch this one.
        self.db_error = db_error(conn)
        self.passphrase = passphrase_of(conn)  # None for a plain log
        self._tx: Tx | None = None  # the transaction open on this store, if any
        self._data_version: int | None = None
        # Transactions this store has committed: the TUI compares it to refresh its status
        # line after its own writes (``changed_elsewhere`` sees only other connections').
        self.commits = 0
        # One line per temporary copy a killed encrypt, decrypt, restore or backup left
        # beside the log, found and removed when the log was opened: the CLI prints them.
        self.notices: list[str] = []

    # ------------------------------------------------------------------ opening
    @classmethod
    def open(
        cls,
        path: Path | str,
        *,
        passphrase: str | None = None,
        ask: AskPassphrase | None = None,
        encrypt: bool = False,
    ) -> Store:
        """Open, check and migrate a log; an encrypted one is keyed from ``passphrase``, else
        ``$FIELDLOG_PASSPHRASE``, else ``ask`` (see :func:`fieldlog.db.connect.connect`).

        Temporary copies a killed conversion, restore or backup left beside the log are
        removed (overwritten with zeros first when in clear) and said in ``notices``; a new
        encrypted log has its audit chain keyed from the start (:meth:`key_audit`)."""
        conn = connect(path, passphrase=passphrase, ask=ask, encrypt=encrypt)
        try:
            fresh = passphrase_of(conn) is not None and _schema_version(conn) == 0
            ensure_schema(conn, path)
            use_wal(conn, path)
        except BaseException:
            conn.close()
            raise
        store = cls(conn, path)
        try:
            if fresh:
                store.key_audit()
        except BaseException:
            conn.close()
            raise
        if str(path) != ":memory:":
            from fieldlog.db.leftovers import sweep

            store.notices = sweep(path)
        return store

    def key_audit(self) -> bool:
        """Key this encrypted log's audit chain from now on (HMAC with a key kept inside the
        encryption: :func:`fieldlog.db.audit.keyed.start`, idempotent), in one write
        transaction; False for a plain log (or a fieldlog without keyed audits)."""
        if not self.encrypted:
            return False
        import importlib

        name = "fieldlog.db.audit.keyed"
        try:
            keyed = importlib.import_module(name)
        except ModuleNotFoundError as exc:  # a fieldlog from before keyed audits
            if exc.name != name:
                raise
            return False
        start = getattr(keyed, "start", None)
        if start is None:
            return False
        try:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                start(self.conn)
                self.conn.execute("COMMIT")
            except BaseException:
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                raise
        except self.db_error as exc:
            raise explain(exc, self.path) from None
        self._meta_cache = None
        return True

    def close(self) -> None:
        self.conn.close()

    @property
    def encrypted(self) -> bool:
        return self.passphrase is not None

    def reopen(self) -> Store:
        """A second store on the same log (another thread or process), with the same key."""
        return Store.open(self.path, passphrase=self.passphrase)

    def scratch_dir(self) -> str | None:
        """Where a temporary file of this log's records may go: the system's temp folder for
        a plain log; for an encrypted one a memory-backed folder (tmpfs), or None when there
        is none (then write no temporary file: nothing in clear may reach the disk)."""
        if not self.encrypted:
            return None
        from fieldlog.db.scratch import ram_dir

        return ram_dir()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ low level
    def query(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> list[Row]:
        """Rows as dicts (list fields decoded, ``clocks`` left out, ``deleted`` a bool)."""
        try:
            cur = self.conn.execute(sql, params)
            return [_row(cur, r, LIST_FIELDS) for r in cur.fetchall()]
        except self.db_error as exc:
            raise explain(exc, self.path) from None

    def scalar(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> Any:
        try:
            r = self.conn.execute(sql, params).fetchone()
        except self.db_error as exc:
            raise explain(exc, self.path) from None
        return r[0] if r else None

    @contextmanager
    def write(self) -> Iterator[Tx]:
        """One transaction: everything inside commits together or not at all."""
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except self.db_error as exc:
            raise explain(exc, self.path) from None
        try:
            tx = self._tx = Tx(self)  # reads the device clock: can meet a broken file too
        except self.db_error as exc:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise explain(exc, self.path) from None
        try:
            yield tx
            tx.finish()
            self.conn.execute("COMMIT")
            self.commits += 1
        except self.db_error as exc:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise explain(exc, self.path) from None
        except BaseException:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise
        finally:
            self._tx = None
            self._meta_cache = None

    def changed_elsewhere(self) -> bool:
        """True once after another connection (the CLI, a sync, another window) committed to
        the log since the last call; this store's own writes do not count. Reads
        ``PRAGMA data_version``, which costs microseconds, so a screen can poll it."""
        version = int(self.conn.execute("PRAGMA data_version").fetchone()[0])
        changed = self._data_version is not None and version != self._data_version
        self._data_version = version
        if changed:
            self._meta_cache = None  # officer, last sync... may have changed too
        return changed

    # ------------------------------------------------------------------ meta
    def meta(self) -> dict[str, str | None]:
        if self._meta_cache is None:
            self._meta_cache = {
                r["key"]: r["value"] for r in self.query("SELECT key, value FROM meta")
            }
        return self._meta_cache

    def officer(self) -> str:
        """Who writes: the log's officer (``fieldlog init``), else the settings file's
        ``officer``, else the login name. The settings file is read only for a log that has
        no officer of its own (``fieldlog add`` on an initialised log never reads it)."""
        name = self.meta().get("officer")
        if name:
            return name
        from fieldlog import config

        name = config.get("officer")
        if name:
            return str(name)
        try:
            return getpass.getuser()
        except Exception:  # no login name (containers): still log something honest
            return "unknown"

    def default_hood(self) -> str | None:
        """The neighborhood a new contact gets when none is typed: the log's own
        (``init --hood``), else the settings file's ``hood`` (``fieldlog config set hood``).

        The log's beats the file's, as a repository's git config beats the user's: it was
        chosen for this log, while the file holds one default for every log of this user (a
        practice log, a colleague's). It also keeps ``fieldlog add`` from reading the file when
        the log already knows its neighborhood."""
        hood = self.meta().get("default_hood")
        if hood:
            return hood
        from fieldlog import config

        value = config.get("hood")
        return str(value) if value else None

    def follow_up_days(self) -> int:
        """Days until a new referral's follow-up when none is given: the settings file's
        ``follow_up_days``, else a week (a referral nobody chases is one that fell through)."""
        from fieldlog import config

        return int(config.get("follow_up_days", FOLLOW_UP_DAYS))

    def set_officer(
        self, officer: str | None, badge: str | None = None, hood: str | None = None
    ) -> None:
        """Name the log's officer (``init``): ``officer``, else the settings file's."""
        if officer is None:
            from fieldlog import config

            officer = config.get("officer")
            if officer is None:
                raise ValidationError(
                    "officer",
                    "Give your name: fieldlog init --officer NAME (or set it once for every "
                    "log: fieldlog config set officer NAME).",
                )
        name = models.text("officer", officer, limit=models.MAX_SHORT, required=True)
        with self.write() as tx:
            tx.set_meta("officer", name)
            if badge is not None:
                tx.set_meta("badge", models.text("badge", badge, limit=50) or None)
            if hood is not None:
                tx.set_meta("default_hood", models.text("hood", hood, limit=200) or None)

    def set_setting(self, key: str, value: str | None) -> None:
        """Keep one of the officer's interface preferences (:data:`SETTINGS`, e.g. the TUI's
        theme) in the log's meta table, beside the officer's name and neighborhood: it goes
        with the log (and inside its encryption), is never synced, and needs no config file.
        ``None`` forgets it. Read it back with ``meta().get(key)``."""
        if key not in SETTINGS:
            raise ValueError(f"{key!r} is not an interface setting")
        with self.write() as tx:
            if value is None:
                tx.delete_meta(key)
            else:
                tx.set_meta(key, value)

    def device_id(self) -> str:
        """This log's device id (the ``origin`` of its writes), minted on first use."""
        did = self.meta().get("device_id")
        if did:
            return did
        with self.write() as tx:
            return tx.origin  # a Tx mints one on first use

    # ------------------------------------------------------------------ repositories
    # Built on first use (a cached attribute each): importing and making them costs nothing
    # on the paths that do not touch them.
    @cached_property
    def records(self) -> Records:
        """Id lookups and plain reads over any record table."""
        from fieldlog.db.repos.base import Records

        return Records(self)

    @cached_property
    def contacts(self) -> Contacts:
        from fieldlog.db.repos.contacts import Contacts

        return Contacts(self)

    @cached_property
    def concerns(self) -> Concerns:
        from fieldlog.db.repos.concerns import Concerns

        return Concerns(self)

    @cached_property
    def referrals(self) -> Referrals:
        from fieldlog.db.repos.referrals import Referrals

        return Referrals(self)

    @cached_property
    def orgs(self) -> Organizations:
        from fieldlog.db.repos.organizations import Organizations

        return Organizations(self)

    @cached_property
    def problems(self) -> Problems:
        """SARA problems with their links and activity log (docs/problems.md)."""
        from fieldlog.db.repos.problems import Problems

        return Problems(self)

    @cached_property
    def entries(self) -> Entries:
        """A contact with its concerns and referrals: CLI add, the TUI form, import."""
        from fieldlog.db.repos.entries import Entries

        return Entries(self)

    @cached_property
    def imports(self) -> Imports:
        from fieldlog.db.repos.imports import Imports

        return Imports(self)

    # ------------------------------------------------------------------ services
    @cached_property
    def search(self) -> Search:
        from fieldlog.db.search import Search

        return Search(self)

    @cached_property
    def drafts(self) -> Drafts:
        from fieldlog.db.drafts import Drafts

        return Drafts(self)

    @cached_property
    def exports(self) -> Exports:
        from fieldlog.db.export_sql import Exports

        return Exports(self)

    @cached_property
    def reports(self) -> Reports:
        from fieldlog.db.report_sql import Reports

        return Reports(self)

    @cached_property
    def followups(self) -> Followups:
        from fieldlog.db.report_sql import Followups

        return Followups(self)

    @cached_property
    def sync(self) -> SyncLog:
        from fieldlog.db.synclog import SyncLog

        return SyncLog(self)

    @cached_property
    def conflicts(self) -> Conflicts:
        from fieldlog.db.synclog import Conflicts

        return Conflicts(self)


# Names other modules import from here, loaded on first use (the quick ``add`` path needs
# none of them): the row type, the words that clear a date, the search query builder.
_LAZY = {
    "Row": "fieldlog.db.repos.base",
    "NO_DATE": "fieldlog.db.repos.base",
    "fts_query": "fieldlog.db.search",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["Store", "StorageError", "Tx"]  # and, on first use, the names of _LAZY
