"""The keyed audit chain of an encrypted log: entry hashes that need a key, not just SHA-256.

On an encrypted log the chain is keyed: a random 32-byte key is kept in the log's ``meta``
(``audit_key``, hex; so it is encrypted with the log and survives a passphrase change), and
every entry from ``meta.audit_keyed_from`` (the seq of the first keyed entry) on is hashed with
HMAC-SHA256 under that key instead of plain SHA-256. Entries before it (written while the log
was plaintext) keep their SHA-256 hashes: the chain links through the switch unchanged.

What it buys, honestly (docs/audit.md says it in full): an entry written by anything that
does not hold the key — a script that knows fieldlog's entry format, a copy of the rows
pasted in from another log — fails ``fieldlog verify``. Whoever can open the log with its
passphrase can read the key too; the defence against them is the store's witness
(:mod:`fieldlog.db.audit.witness`) and ``verify --expect``.

This module is on the ``fieldlog add`` path (the chain asks :func:`hasher` once per
transaction): standard library only.
"""

from __future__ import annotations

import hashlib
import hmac
import sqlite3
from collections.abc import Callable

from fieldlog.errors import StorageError

KEY = "audit_key"  # meta: the key, 64 hex characters
FROM = "audit_keyed_from"  # meta: the seq of the first keyed entry
KEY_BYTES = 32

Hasher = Callable[[int, str], str]  # (seq, entry text) -> the entry's hash


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def hmac_text(key: bytes, text: str) -> str:
    return hmac.new(key, text.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()


class BadKey(StorageError):
    """The keying meta is there but unreadable (edited outside fieldlog): no entry can be
    written honestly, so a write stops with this one line."""

    def __init__(self, what: str) -> None:
        self.what = what
        super().__init__(
            f"This log's audit key is damaged ({what}): it was changed outside fieldlog. "
            "Nothing was written; run fieldlog verify, keep this copy for your supervisor and "
            "restore from a backup."
        )


def parse(key_text: str | None, from_text: str | None) -> tuple[bytes, int] | None:
    """The key and the first keyed seq from their meta texts; None when the chain is not
    keyed (neither is set). :class:`BadKey` when one is missing or malformed."""
    if key_text is None and from_text is None:
        return None
    if key_text is None or from_text is None:
        missing = KEY if key_text is None else FROM
        raise BadKey(f"meta {missing} is missing")
    try:
        key = bytes.fromhex(key_text)
        start = int(from_text)
    except (TypeError, ValueError):
        raise BadKey("meta audit_key or audit_keyed_from is not readable") from None
    if len(key) != KEY_BYTES or start < 1:
        raise BadKey("meta audit_key or audit_keyed_from is not readable")
    return key, start


def hasher(key_text: str | None, from_text: str | None) -> Hasher:
    """The function that hashes an entry's text given its seq: SHA-256 before the keyed
    seq, HMAC-SHA256 from it on. Malformed keying meta: keyed entries cannot be written
    honestly, so this raises :class:`BadKey` (the caller's transaction rolls back)."""
    keyed = parse(key_text, from_text)
    if keyed is None:
        return lambda _seq, text: sha256_text(text)
    key, start = keyed
    inner = hmac.new(key, digestmod=hashlib.sha256)

    def entry(seq: int, text: str) -> str:
        if seq < start:
            return sha256_text(text)
        h = inner.copy()
        h.update(text.encode("utf-8", "surrogatepass"))
        return h.hexdigest()

    return entry


def read(conn: sqlite3.Connection) -> tuple[str | None, str | None]:
    """The two meta texts (None each when absent)."""
    got = dict(conn.execute("SELECT key, value FROM meta WHERE key IN (?, ?)", [KEY, FROM]))
    return got.get(KEY), got.get(FROM)


def is_keyed(conn: sqlite3.Connection) -> bool:
    return read(conn)[0] is not None


def start(conn: sqlite3.Connection) -> None:
    """Key this log's chain from its next entry on (idempotent: a keyed log is left as it
    is). Call it inside the caller's write transaction on an encrypted log: ``init
    --encrypt`` and ``encrypt`` do; the key is then as secret as the log's content."""
    import secrets

    from fieldlog.db.connect import passphrase_of

    if passphrase_of(conn) is None:
        raise ValueError("the audit chain is keyed only on an encrypted log")
    if not conn.in_transaction:
        raise ValueError("keyed.start must run inside the caller's write transaction")
    if any(v is not None for v in read(conn)):  # keyed already (or half-set: verify says so)
        return
    last = conn.execute("SELECT max(seq) FROM audit").fetchone()[0]
    conn.executemany(
        "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
        [(KEY, secrets.token_hex(KEY_BYTES)), (FROM, str(int(last or 0) + 1))],
    )
