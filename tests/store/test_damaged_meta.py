"""A damaged clock in meta (``hlc``) stops writes with one line, never a traceback."""

from __future__ import annotations

import sqlite3


def test_a_garbage_clock_is_one_line(cli, db_path):
    cli("add", "First visit")
    conn = sqlite3.connect(db_path)
    conn.execute("UPDATE meta SET value = 'not a stamp' WHERE key = 'hlc'")
    conn.commit()
    conn.close()
    result = cli("add", "Second visit", code=1)
    err = result.stderr.strip()
    assert len(err.splitlines()) == 1 and "clock (meta 'hlc') is damaged" in err
    assert "Traceback" not in result.output
    conn = sqlite3.connect(db_path)
    assert conn.execute("SELECT count(*) FROM contacts").fetchone() == (1,)  # nothing written
    conn.close()
