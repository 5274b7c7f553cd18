"""The storage modules' shape: which imports which (no cycles between audit's halves, or among
the conversions, backups and the scratch folder), and the registry-driven orders a new record
type relies on (retention, the audit's genesis step)."""

from __future__ import annotations

import ast
import importlib
import sqlite3
from pathlib import Path

import pytest

from fieldlog import records
from fieldlog.db import audit, migrations, retention


def fieldlog_imports(module: str) -> set[str]:
    """The ``fieldlog`` modules ``module`` imports anywhere in its code (a deferred import
    inside a function counts), as module names."""
    path = Path(importlib.import_module(module).__file__ or "")
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return {m for m in found if m.startswith("fieldlog")}


def test_the_scratch_folder_is_a_leaf():
    """The store and the conversions both use it, so it imports neither (nor anything)."""
    assert fieldlog_imports("fieldlog.db.scratch") == set()


@pytest.mark.parametrize(
    ("module", "must_not"),
    [
        ("fieldlog.db.logfile", {"fieldlog.db.crypto", "fieldlog.db.backup", "fieldlog.db.store"}),
        ("fieldlog.db.backup", {"fieldlog.db.crypto", "fieldlog.db.store"}),
        ("fieldlog.db.audit.chain", {"fieldlog.db.audit", "fieldlog.db.audit.check"}),
        ("fieldlog.db.audit.check", {"fieldlog.db.audit"}),
    ],
)
def test_imports_point_one_way(module, must_not):
    assert not fieldlog_imports(module) & must_not


def test_purge_removes_every_row_before_the_rows_it_names():
    order = retention._children_first()
    assert set(order) == set(records.TABLES)
    for table in order:
        rt = records.get(table)
        named = {*rt.refs.values(), *([rt.parent_table] if rt.parent_table else [])}
        for target in named:
            assert order.index(table) < order.index(target), (table, target)


def test_purge_takes_every_table_that_belongs_to_a_contact():
    assert set(retention._family(retention.ROOT)) == {
        t for t in records.TABLES if records.get(t).parent_table == retention.ROOT
    }


def test_the_genesis_step_skips_a_record_table_a_later_migration_creates():
    """Migration 0006 stamps the rows already there; a record type added after it has no table
    yet when 0006 runs on an old log, and must not make the upgrade fail."""
    conn = sqlite3.connect(":memory:", isolation_level=None)
    conn.execute(
        f"CREATE TABLE contacts ({migrations.SYNC_COLUMNS_SQL}, occurred_at TEXT, summary TEXT)"
    )
    conn.execute(
        "INSERT INTO contacts (id, created_at, updated_at, officer, origin, hlc, occurred_at, "
        "summary) VALUES ('c1', 't', 't', 'Ana', 'dev', 'h', 't', 'Visit')"
    )
    for sql in audit.SCHEMA:
        conn.execute(sql)
    assert audit.genesis(conn) == 1
    assert conn.execute("SELECT tbl, row_id, action FROM audit").fetchall() == [
        ("contacts", "c1", "genesis")
    ]


def test_the_search_step_indexes_only_the_tables_the_first_step_made():
    made = migrations._created_tables("0001_records")
    search = next(sql for name, sql in migrations.STEPS if name == "0002_search")
    indexed = {s.split()[3].removesuffix("_fts") for s in search if "VIRTUAL TABLE" in s}
    assert indexed == {t for t in records.FTS_COLUMNS if t in made}


def test_ram_dir_is_none_where_there_is_no_proc(monkeypatch):
    """Windows and macOS have no /proc/self/mounts: no memory folder, so an encrypted log's
    export writes no temporary half-file at all (it runs in one process)."""
    import builtins

    from fieldlog.db import scratch

    real_open = builtins.open

    def no_proc(path, *a, **k):
        if str(path).startswith("/proc/"):
            raise FileNotFoundError(path)
        return real_open(path, *a, **k)

    monkeypatch.setattr(builtins, "open", no_proc)
    assert scratch.ram_dir() is None
