"""What every sync remote is, and the values it trades: the interface the backends implement.

A remote is a **change log**: it stores every change a laptop pushes, numbers each one it
accepts with its own increasing sequence (``seq``), and hands them back in that order. It
ignores a change it already holds (``UNIQUE(origin, origin_seq)``), so a retried push never
duplicates anything. It knows nothing of the merge rules: :mod:`fieldlog.sync` folds the
changes into records, on every laptop, the same way.

- :class:`fieldlog.db.remotes.sqlite.SQLiteRemote`: a file on a shared drive or a USB stick.
- :class:`fieldlog.db.remotes.postgres.PostgresRemote`: a ``postgresql://`` database
  (psycopg 3).

Both keep four tables: ``fieldlog_meta`` (``kind``, ``sync_schema``, ``store_id`` and the
counters ``seq_counter`` and ``trust_counter``), ``fieldlog_changes`` (``seq``, ``origin``,
``origin_seq``, ``tbl``, ``row_id``, ``hlc``, ``body`` as JSON text, ``sig``; on PostgreSQL
``pushed_by``), ``fieldlog_heads`` (the audit heads devices pushed) and ``fieldlog_trust`` (the
append-only trust log). :mod:`fieldlog.db.remotes.rows` holds what both backends share: how a
stored row, whatever it holds, becomes a :class:`RemoteChange`, and how seqs are allocated.

This module is the bottom of :mod:`fieldlog.db.remotes` (TaskChampion's ``server/types.rs``):
the backends import only it, :mod:`fieldlog.db.remotes.factory` imports the backends, and
callers (the sync round, the CLI) import the factory and these types, never a backend.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from fieldlog.errors import FieldlogError

__all__ = [
    "REMOTE_KIND",
    "REMOTE_PASSPHRASE_ENV",
    "SYNC_SCHEMA",
    "BODY_LIMIT",
    "MAX_BODY",
    "SEQ_MAX",
    "Head",
    "OutChange",
    "Remote",
    "RemoteChange",
    "SeqReport",
    "SyncError",
    "TrustRecord",
    "check_meta",
    "is_postgres",
    "needs_schema_upgrade",
    "remote_passphrase",
    "safe_url",
    "target_kind",
]

# The format of a change (its body's fields). Bumped only when records gain or lose fields,
# so a laptop and a remote that disagree would lose data; both ends check it.
# 2: contacts gained the review fields (fieldlog.review). A change an older fieldlog pushed
# lacks them and is still read (fieldlog.pulled.ADDED_FIELDS), so a store at 1 is upgraded
# in place (UPGRADABLE); the older fieldlog then refuses it ("upgrade fieldlog") instead of
# writing changes that would silently drop a supervisor's review.
# 3: the problem tables (problems, problem_links, problem_entries; docs/problems.md). An older
# fieldlog would hold every problem change as "not a record table": it is refused instead.
SYNC_SCHEMA = 3
UPGRADABLE = frozenset({1, 2})  # the sync schemas this fieldlog upgrades a store from
REMOTE_KIND = "fieldlog-remote"
# The department's passphrase for an encrypted remote file (SQLCipher). Here, not in the SQLite
# backend, because the CLI reads it to decide whether to ask for it before a sync.
REMOTE_PASSPHRASE_ENV = "FIELDLOG_REMOTE_PASSPHRASE"


class SyncError(FieldlogError):
    """A remote that cannot be used: unreachable, refused, not a fieldlog store, mismatched."""


@dataclass(frozen=True)
class RemoteChange:
    """A change as a remote hands it back: ``seq`` is the remote's own number for it, the
    cursor a laptop keeps; ``body`` the decoded JSON, or None when the stored text is not a
    JSON object (the change is then quarantined, never fatal). ``text`` is the body exactly as
    stored (what the device signed; at most :data:`MAX_BODY` characters are kept when it is
    not JSON), ``sig`` the device's signature (None: unsigned), ``pushed_by`` the database
    role that pushed it (PostgreSQL's ``current_user``; None on a SQLite remote)."""

    seq: int
    origin: str
    origin_seq: int
    tbl: str
    row_id: str
    hlc: str
    body: dict[str, Any] | None
    text: str = ""
    sig: str | None = None
    pushed_by: str | None = None


@dataclass(frozen=True)
class OutChange:
    """A change on its way to a remote: ``origin_seq`` is the laptop's outbox sequence and
    ``body`` is already JSON text (the log builds it in SQL): store it as it is. ``sig`` is the
    device's signature of it (:mod:`fieldlog.db.devices`)."""

    origin_seq: int
    tbl: str
    row_id: str
    hlc: str
    body: str
    sig: str = ""


@dataclass(frozen=True)
class TrustRecord:
    """One entry of a store's append-only trust log (``fieldlog_trust``): a device registering
    its key, a supervisor trusting or revoking a device. The remote stores them opaquely;
    :mod:`fieldlog.db.devices` checks the signatures and decides what they mean."""

    id: int  # the remote's number for it, in the order it was added
    kind: str  # "register", "trust", "revoke" (others may be added)
    subject: str  # the device id the record is about
    record: str  # canonical JSON text, as signed
    sig: str  # the signer's signature of ``record``
    signer: str  # the signing device's id
    pushed_by: str | None = None  # PostgreSQL's current_user; None on a SQLite remote


@dataclass(frozen=True)
class Head:
    """An audit-chain head a device pushed: its chain had ``seq`` entries, the last with
    ``hash``, when it pushed at ``at`` (the remote's time). ``sig``: the device's signature."""

    origin: str
    seq: int
    hash: str
    at: str
    sig: str = ""


@dataclass(frozen=True)
class SeqReport:
    """What a remote's sequence looks like from one laptop's cursor (:meth:`Remote.check_seq`).

    ``counter`` is the highest seq the store allocated; ``beyond`` rows whose seq is above it
    (planted: never pulled); ``below`` how many rows have ``seq <= cursor`` now (a laptop that
    remembers the count at its cursor sees rows slipped in under it); ``problems`` one line each
    for anything wrong, for the officer."""

    counter: int
    below: int
    beyond: int = 0
    problems: tuple[str, ...] = ()


MAX_BODY = 64 * 1024  # the raw text kept of a body that is not JSON (for the held list)
BODY_LIMIT = 1024 * 1024  # a stored body longer than this (1 MiB) is never decoded: body None
SEQ_MAX = 2**63 - 1  # the largest seq (and trust id) both backends can store


@runtime_checkable
class Remote(Protocol):
    """What the sync round needs of a remote; the factory returns one of these."""

    url: str  # for messages: no password in it
    store_id: str  # the remote's own id: cursors are kept per store, not per URL
    # Whether this login sees every seq (a file, a plain database): False for a department
    # store, whose row-level security hides other units' rows, so a gap is not a lost row.
    # (Read with getattr: a test double may leave it out.)

    def head(self) -> int:
        """The highest sequence the remote has given: its counter (0 when empty)."""
        ...

    def pull(self, after: int, limit: int) -> list[RemoteChange]:
        """Changes with ``after < seq <= counter``, in order, at most ``limit``. Never fails
        on what a row holds: a body that is not usable comes back as ``body=None``."""
        ...

    def push(self, origin: str, changes: list[OutChange], head: Head | None = None) -> int:
        """Append the changes in one transaction, skipping those already held, numbering the
        new ones from the store's own counter (never exhausted, never backwards); ``head``
        (this device's audit head) is kept in the same transaction. Returns how many were
        new."""
        ...

    def origin_changes(self, origin: str, after: int, limit: int) -> list[RemoteChange]:
        """The changes from ``origin`` with ``origin_seq > after``, by ``origin_seq``, at most
        ``limit``, whatever their seq (also above the counter), read as :meth:`pull` reads
        them: with their ``sig`` and stored ``text``, so the caller can tell its own signed
        changes (a copied log, or an interrupted push) from rows planted under its id."""
        ...

    def check_seq(self, cursor: int) -> SeqReport:
        """The store's sequence seen from ``cursor`` (see :class:`SeqReport`)."""
        ...

    def heads(self, origin: str) -> list[Head]:
        """The audit heads ``origin`` pushed, oldest first."""
        ...

    def trust_log(self, after: int = 0) -> list[TrustRecord]:
        """The trust log's entries with ``id > after``, in order."""
        ...

    def trust_count(self, upto: int) -> int:
        """How many entries :meth:`trust_log` returns with ``id <= upto`` (one number: a
        laptop checks the entries it read are all still there, none slipped in)."""
        ...

    def trust_entries(self, after: int, upto: int) -> list[TrustRecord]:
        """The entries :meth:`trust_log` returns with ``after < id <= upto``, in order (a
        laptop fetches a few it read before again, to compare)."""
        ...

    def add_trust(self, kind: str, subject: str, record: str, sig: str, signer: str) -> int:
        """Append one trust-log entry (its own transaction); returns its id."""
        ...

    def close(self) -> None: ...


def safe_url(url: str) -> str:
    """The URL without its password, for messages and ``remote list``."""
    return re.sub(r"(://[^:/@]+):[^@/]*@", r"\1:***@", url)


def is_postgres(url: str) -> bool:
    """Whether ``url`` names a PostgreSQL remote (anything else is a SQLite file)."""
    return url.startswith(("postgresql://", "postgres://"))


_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_DRIVE = re.compile(r"^[A-Za-z]:[\\/]")  # C:\share\dept.fieldlog or C:/share/dept.fieldlog


def target_kind(text: str) -> str:
    """What a remote argument is, by its form alone (nothing is opened):

    - ``"postgres"``: a ``postgresql://`` or ``postgres://`` URL;
    - ``"path"``: a path no remote name can be: ``sqlite://...``, one that starts with ``./``,
      ``../``, ``/``, ``~`` or a Windows drive (``C:\\``) or share (``\\\\server``), or that
      goes through a folder (``share/dept.fieldlog``);
    - ``"url"``: a URL of another kind (``https://``), which no backend reads;
    - ``"word"``: a bare word (``dept``), which can only be a saved remote's name, so a typo
      (``dept2``) is never taken for a new file beside the officer's shell.
    """
    text = text.strip()
    if is_postgres(text):
        return "postgres"
    if text.startswith("sqlite://"):
        return "path"
    if _SCHEME.match(text):
        return "url"
    if text in (".", "..") or text.startswith(("~", "/", "\\")) or _DRIVE.match(text):
        return "path"
    if "/" in text or "\\" in text:  # ./x, ../x, a/b: through a folder
        return "path"
    return "word"


def remote_passphrase() -> str | None:
    """``$FIELDLOG_REMOTE_PASSPHRASE``, or None when it is unset or empty."""
    return os.environ.get(REMOTE_PASSPHRASE_ENV) or None


def _schema_of(meta: dict[str, str]) -> int:
    try:
        return int(meta.get("sync_schema") or 0)
    except ValueError:
        return 0


def needs_schema_upgrade(meta: dict[str, str]) -> bool:
    """Whether a store with this ``fieldlog_meta`` is a fieldlog remote at an older sync
    schema this fieldlog upgrades in place (:data:`UPGRADABLE`): each backend then writes
    ``sync_schema`` = :data:`SYNC_SCHEMA` inside its open/upgrade write transaction (reading
    the meta again there: another laptop may have done it meanwhile) before
    :func:`check_meta`."""
    return (
        meta.get("kind") == REMOTE_KIND
        and bool(meta.get("store_id"))
        and _schema_of(meta) in UPGRADABLE
    )


def check_meta(meta: dict[str, str], where: str) -> str:
    """Refuse a store that is not a fieldlog remote or speaks another sync schema; returns
    the store id."""
    if meta.get("kind") != REMOTE_KIND or not meta.get("store_id"):
        raise SyncError(
            f"{where} is not a fieldlog sync store: check the remote's path or URL "
            "(fieldlog remote list)."
        )
    theirs = _schema_of(meta)
    if theirs > SYNC_SCHEMA:
        raise SyncError(
            f"The remote {where} uses sync schema {theirs}, newer than this fieldlog's "
            f"({SYNC_SCHEMA}): upgrade fieldlog on this laptop (pip install -U fieldlog)."
        )
    if theirs < SYNC_SCHEMA:
        raise SyncError(
            f"The remote {where} uses sync schema {theirs}, older than this fieldlog's "
            f"({SYNC_SCHEMA}): it was made by an older fieldlog; sync it with that version, "
            "or start a new remote (docs/sync.md, Upgrading)."
        )
    return meta["store_id"]
