"""A log's content as one hash: a test shows that a failed command changed nothing."""

from __future__ import annotations

import hashlib
import sqlite3


def snapshot(path) -> str:
    """The log's content, so a test can show a failed command changed nothing."""
    conn = sqlite3.connect(path)
    try:
        dump = "\n".join(conn.iterdump())
    finally:
        conn.close()
    return hashlib.sha256(dump.encode()).hexdigest()
