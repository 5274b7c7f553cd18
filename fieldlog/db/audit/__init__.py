"""The tamper-evident audit chain: one entry per write of a record, each hashing the last.

An entry says who (the officer logged in on the device that wrote), when, on which device
(``origin``), which record (table and id), the action (``genesis``, ``insert``, ``update``,
``delete``, ``purge``, or what sync passes) and what changed (the new values of the fields
written, as stored). Its ``hash`` is the SHA-256 of a canonical JSON of its fields (on an
encrypted log an HMAC-SHA256 under the log's audit key: :mod:`.keyed`), the previous entry's
hash (``prev``) included, so changing, removing or reordering one entry breaks
every later link. Two more hashes make the chain check the records themselves and survive a
retention purge:

- ``row_hash``: the SHA-256 of the record's whole row (every column that is not NULL, the sync
  bookkeeping included) as it stood when the transaction committed. ``fieldlog verify``
  recomputes it for every row, so ``sqlite3 log.db "update contacts set summary = 'x'"`` is
  caught.
- ``changes_hash``: the SHA-256 of the ``changes`` text. The entry hash covers this digest, not
  the text, so a purge can erase the personal data an old entry holds (``changes`` set to NULL)
  and the chain still verifies.

:mod:`.chain` writes it (the hashes; the entries the store's write path, migration 0006, sync
and a purge append), :mod:`.keyed` keys it on an encrypted log, :mod:`.check` reads it back
(``verify``, ``history``) with :mod:`.consistency` (outbox, meta, purges, search index), and
:mod:`.witness` holds it against anchors kept elsewhere (the store's heads, ``--expect``); this
package is their public face, so callers write ``from fieldlog.db import audit`` and
``audit.record(...)`` / ``audit.verify(...)``. Everything here imports only the standard
library and the record registry at module level: it is on the ``fieldlog add`` path.
"""

from typing import TYPE_CHECKING, Any

from fieldlog.db.audit.chain import (
    BATCH,
    BOOKKEEPING,
    ENTRY_FIELDS,
    FIRST_PREV,
    NOUN,
    RECORD_TABLES,
    SCHEMA,
    SOURCE,
    append,
    append_inserted,
    append_many,
    canonical,
    entry_digest,
    entry_hash,
    entry_text,
    genesis,
    migration_statements,
    next_seq,
    purge_entries,
    read_row,
    read_rows,
    record,
    row_hash,
    row_texts,
    sha256,
    state_text,
)

if TYPE_CHECKING:
    from fieldlog.db.audit.check import Report, differing_fields, find_record, history, verify

# Reading the chain back (verify, history) is not on the ``fieldlog add`` path: its module
# (and what it imports: the witness, the consistency checks) loads on first use (PEP 562).
_FROM_CHECK = frozenset(("Report", "differing_fields", "find_record", "history", "verify"))


def __getattr__(name: str) -> Any:
    if name in _FROM_CHECK:
        from fieldlog.db.audit import check

        return getattr(check, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "BATCH",
    "BOOKKEEPING",
    "ENTRY_FIELDS",
    "FIRST_PREV",
    "NOUN",
    "RECORD_TABLES",
    "SCHEMA",
    "SOURCE",
    "Report",
    "append",
    "append_inserted",
    "append_many",
    "canonical",
    "differing_fields",
    "entry_digest",
    "entry_hash",
    "entry_text",
    "find_record",
    "genesis",
    "history",
    "migration_statements",
    "next_seq",
    "purge_entries",
    "read_row",
    "read_rows",
    "record",
    "row_hash",
    "row_texts",
    "sha256",
    "state_text",
    "verify",
]
