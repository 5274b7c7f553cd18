"""The store as the audit chain's outside witness.

STUB (issue 12 groundwork): the API the sync round calls. Helper C fills it in.

Every push carries this device's audit head (entry count and the last entry's hash); the store
keeps each device's heads. At the next sync (and ``fieldlog verify --remote``) the laptop
checks its chain against every head the store saw: an entry missing below a head (truncated),
or a different hash at a head's seq (rewritten), is flagged.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fieldlog.db.remotes.types import Head


def head(conn: sqlite3.Connection) -> tuple[int, str] | None:
    """This log's audit head: the last entry's seq and hash (None: an empty chain)."""
    row = conn.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
    return (int(row[0]), str(row[1])) if row else None


def check(conn: sqlite3.Connection, heads: Sequence[Head]) -> list[str]:
    """One line per head the local chain contradicts (truncated below it or rewritten at it);
    empty when every head is still in the chain with its hash."""
    return []
