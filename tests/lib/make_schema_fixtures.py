"""Make the frozen logs tests/store/test_migrations.py upgrades: one per shipped schema version.

    .venv/bin/python -m tests.lib.make_schema_fixtures          # the versions not made yet
    .venv/bin/python -m tests.lib.make_schema_fixtures --force  # all of them again (careful)

Run it once when a migration ships, with the fieldlog that ships it, and commit the new
``tests/fixtures/schema_vN.db``. An existing fixture is never rewritten without ``--force``:
it stands for the logs officers already have, so it must not follow later code.

How a log at version N is made: a small log is written with today's ``fieldlog`` commands
(real rows: sync stamps, field clocks, the outbox, an edit, a tombstone), its rows are copied
into a new file created at version 1 (``ensure_schema(stop_before=...)``), and that file is
upgraded one step at a time up to N, adding after each step the rows only that step can hold
(``EXTRAS``: conflicts and held changes once sync's tables exist, a quarantined change and a
sequence anomaly once step 0007 made their tables). So each fixture holds rows valid for its
version, and the audit chain of a version with audit is the one an upgrade made.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from fieldlog.db import migrations
from fieldlog.db.connect import connect

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
RECORD_TABLES = ("organizations", "contacts", "concerns", "referrals")
NOW = "2026-03-02T14:30:00-06:00"  # the source log's clock (fixed: repeatable content)

# Words the test searches for after the upgrade (the search index must hold the old rows).
SEARCH_WORD = "lantern"


def fieldlog(db: Path, *args: str) -> str:
    env = {**os.environ, "FIELDLOG_DB": str(db), "FIELDLOG_NOW": NOW, "TZ": "America/Chicago"}
    env.pop("FIELDLOG_PASSPHRASE", None)
    out = subprocess.run(
        [sys.executable, "-m", "fieldlog", *args],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        stdin=subprocess.DEVNULL,
    )
    return out.stdout


def source_log(folder: Path) -> Path:
    """A small log written through the CLI: a partner, contacts with a concern and a
    referral, an edit, and a deleted contact (a tombstone, with its children)."""
    import json

    db = folder / "source.db"
    fieldlog(db, "init", "--officer", "Dana Ruiz", "--badge", "4471", "--hood", "Eastside")
    fieldlog(db, "org", "add", "Harbor Food Bank", "--kind", "nonprofit",
             "--phone", "0161 496 0000", "--services", "food")  # fmt: skip
    first = json.loads(fieldlog(
        db, "add", "Lantern festival planning", "--name", "Ana Díaz", "--hood", "Harbor",
        "--tag", "events", "--concern", "noise:late music", "--refer", "Harbor Food Bank:groceries",
        "--follow-up", "2026-03-09", "--json",
    ))["id"]  # fmt: skip
    fieldlog(db, "edit", first, "--notes", "Called back on Friday", "--add-tag", "night")
    fieldlog(db, "add", "Walked the block with the youth league", "--kind", "event")
    gone = json.loads(fieldlog(db, "add", "Entered by mistake", "--concern", "traffic:x", "--json"))
    fieldlog(db, "delete", gone["id"], "--yes")
    return db


def copy_rows(src: Path, conn: sqlite3.Connection) -> None:
    """The record rows, the outbox and the device's meta, as a version-1 log holds them."""
    source = sqlite3.connect(src)
    try:
        for table in (*RECORD_TABLES, "changes"):
            cols = [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
            rows = source.execute(f"SELECT {', '.join(cols)} FROM {table} ORDER BY rowid")
            marks = ", ".join("?" for _ in cols)
            conn.executemany(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({marks})", rows)
        meta = source.execute(
            "SELECT key, value FROM meta WHERE key IN "
            "('device_id', 'hlc', 'officer', 'badge', 'default_hood')"
        )
        conn.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", meta)
    finally:
        source.close()
    conn.commit()


def sync_rows(conn: sqlite3.Connection) -> None:
    """Step 0005 made the sync tables: one open conflict and one held change."""
    cid = conn.execute("SELECT id FROM contacts WHERE summary LIKE 'Lantern%'").fetchone()[0]
    conn.execute(
        "INSERT INTO conflicts (tbl, row_id, field, mine, theirs, kept, mine_hlc, theirs_hlc, "
        "theirs_officer, found_at) VALUES ('contacts', ?, 'summary', ?, ?, 'mine', "
        "'1772483400000-00003-aaaa', '1772483400000-00001-bbbb', 'Sam Lee', ?)",
        [cid, '"Lantern festival planning"', '"Lantern festival"', "2026-03-02T20:31:00Z"],
    )
    conn.execute(
        "INSERT INTO sync_held (store_id, seq, reason, body) VALUES ('store-1', 7, 'future', ?)",
        ['{"tbl": "contacts", "row_id": "x", "hlc": "9999999999999-00000-bbbb", "fields": {}}'],
    )
    conn.commit()


def quarantine_rows(conn: sqlite3.Connection) -> None:
    """Step 0007 made the quarantine and the sequence anomalies, and gave held changes a due
    time: one quarantined change, one anomaly, one held change due in the far future."""
    conn.execute(
        "INSERT INTO sync_quarantine (store_id, seq, origin, origin_seq, tbl, row_id, hlc, kind, "
        "reason, text, sig, pushed_by, found_at) VALUES ('store-1', 9, 'cccc', 4, 'contacts', "
        "?, '1772483400000-00000-cccc', 'invalid', 'kind ''evil'' is not a contact kind', ?, "
        "NULL, NULL, '2026-03-02T20:32:00.000Z')",
        ["0" * 32, '{"values": {"kind": "evil"}}'],
    )
    conn.execute(
        "INSERT INTO sync_anomalies (store_id, reason, seq, first_seen, last_seen) VALUES "
        "('store-1', 'seqs 3 to 5 missing from the store (deleted from it?)', 3, "
        "'2026-03-02T20:32:00.000Z', '2026-03-02T20:32:00.000Z')"
    )
    conn.execute(
        "INSERT INTO sync_held (store_id, seq, reason, body, due_ms) VALUES "
        "('store-1', 8, 'clock ahead', ?, 9999999999999)",
        ['{"seq": 8, "tbl": "contacts", "row_id": "y", "hlc": "9999999999999-00000-bbbb"}'],
    )
    conn.commit()


# Rows to add once a step has run (a new table's first rows). A later migration that adds a
# table adds its entry here, then this script makes that version's fixture.
EXTRAS: dict[str, Callable[[sqlite3.Connection], None]] = {
    "0005_sync": sync_rows,
    "0007_quarantine": quarantine_rows,
}


def make(version: int, src: Path, dest: Path) -> None:
    names = [name for name, _ in migrations.STEPS]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / dest.name
        conn = connect(path)
        migrations.ensure_schema(conn, path, stop_before=names[1] if len(names) > 1 else None)
        copy_rows(src, conn)
        for done in range(1, version + 1):
            if done > 1:
                stop = names[done] if done < len(names) else None
                migrations.ensure_schema(conn, path, stop_before=stop)
            if names[done - 1] in EXTRAS:
                EXTRAS[names[done - 1]](conn)
        assert conn.execute("PRAGMA user_version").fetchone()[0] == version
        conn.execute("PRAGMA journal_mode = DELETE")  # one self-contained file, no -wal
        conn.execute("PRAGMA page_size = 1024")  # small pages: a small file in the repository
        conn.execute("VACUUM")
        conn.close()
        shutil.copyfile(path, dest)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="rewrite existing fixtures too")
    args = parser.parse_args(argv)
    FIXTURES.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        src = source_log(Path(tmp))
        for version in range(1, migrations.LATEST + 1):
            dest = FIXTURES / f"schema_v{version}.db"
            if dest.exists() and not args.force:
                print(f"{dest.name}: kept (frozen)")
                continue
            make(version, src, dest)
            print(f"{dest.name}: made ({dest.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
