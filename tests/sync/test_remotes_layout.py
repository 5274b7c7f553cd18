"""The shape of fieldlog.db.remotes (TaskChampion's): the interface in ``types``, one module per
backend importing only ``types`` and the helpers below the backends (``rows``, what both share;
``newfile`` for SQLite, ``pgerrors`` for PostgreSQL), and a factory, the one module that
imports the backends.

The import checks run in a fresh interpreter: in this one, other tests have already loaded
psycopg and every backend.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

from fieldlog.db.remotes import factory
from fieldlog.db.remotes.postgres import PostgresRemote
from fieldlog.db.remotes.sqlite import SQLiteRemote
from fieldlog.db.remotes.types import Remote, SyncError

PACKAGE = Path(factory.__file__).parent
BACKENDS = ("sqlite", "postgres")
HELPERS = {"sqlite": {"rows", "newfile"}, "postgres": {"rows", "pgerrors", "dept_schema"}}


def modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys; print(' '.join(sys.modules))"],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "FIELDLOG_REMOTE_PASSPHRASE": ""},
    )
    return set(out.stdout.split())


def fieldlog_imports(module: str) -> set[str]:
    """Every ``fieldlog.*`` module ``remotes/<module>.py`` imports, at any depth of its code
    (a deferred import inside a function counts: it is still a dependency)."""
    tree = ast.parse((PACKAGE / f"{module}.py").read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names}
    return {m for m in found if m.startswith("fieldlog.")}


# ---------------------------------------------------------------------- the factory
def test_the_factory_opens_a_sqlite_file_for_a_path(tmp_path):
    for url in (str(tmp_path / "a.fieldlog"), f"sqlite://{tmp_path / 'b.fieldlog'}"):
        remote = factory.open_remote(url)
        try:
            assert isinstance(remote, SQLiteRemote)
            assert isinstance(remote, Remote)
            assert remote.head() == 0 and remote.store_id
        finally:
            remote.close()


@pytest.mark.parametrize("scheme", ["postgresql", "postgres"])
def test_the_factory_opens_postgres_for_a_postgresql_url(monkeypatch, scheme):
    opened: list[tuple[str, bool]] = []

    def fake_open(cls, url: str, *, create: bool = True) -> str:
        opened.append((url, create))
        return "a postgres remote"

    monkeypatch.setattr(PostgresRemote, "open", classmethod(fake_open))
    url = f"{scheme}://officer@db.example:5432/dept"
    assert factory.open_remote(url, create=False) == "a postgres remote"
    assert opened == [(url, False)]


def test_the_factory_passes_create_to_the_sqlite_backend(tmp_path):
    with pytest.raises(SyncError, match="does not exist"):
        factory.open_remote(str(tmp_path / "missing.fieldlog"), create=False)
    assert not (tmp_path / "missing.fieldlog").exists()


def test_encrypted_file_is_only_an_existing_sqlcipher_file(tmp_path):
    plain = tmp_path / "plain.fieldlog"
    factory.open_remote(str(plain)).close()
    scrambled = tmp_path / "locked.fieldlog"
    scrambled.write_bytes(os.urandom(1024))  # what SQLCipher pages look like from outside
    assert not factory.encrypted_file(str(plain))
    assert not factory.encrypted_file(str(tmp_path / "not-yet.fieldlog"))
    assert not factory.encrypted_file("postgresql://officer@db.example/dept")
    assert factory.encrypted_file(str(scrambled))
    assert factory.encrypted_file(f"sqlite://{scrambled}")


# ---------------------------------------------------------------------- the imports
def test_the_types_import_no_backend():
    loaded = modules_after("import fieldlog.db.remotes.types")
    for mod in ("factory", *BACKENDS):
        assert f"fieldlog.db.remotes.{mod}" not in loaded, mod
    assert "psycopg" not in loaded


def test_the_package_imports_no_backend():
    loaded = modules_after("import fieldlog.db.remotes")
    assert not {m for m in loaded if m.startswith("fieldlog.db.remotes.")}
    assert "psycopg" not in loaded


def test_the_sqlite_backend_does_not_import_psycopg():
    assert "psycopg" not in modules_after("import fieldlog.db.remotes.sqlite")


def test_a_sync_with_a_file_does_not_import_psycopg(tmp_path):
    """The factory imports both backends; the PostgreSQL one defers psycopg to its connect."""
    path = tmp_path / "dept.fieldlog"
    loaded = modules_after(
        "from fieldlog.db.remotes.factory import open_remote\n"
        f"r = open_remote({str(path)!r}); r.head(); r.close()"
    )
    assert "fieldlog.db.remotes.postgres" in loaded
    assert "psycopg" not in loaded


def _modules(names: set[str]) -> set[str]:
    """``fieldlog.db.remotes.types.Remote`` -> ``fieldlog.db.remotes.types``."""
    return {".".join(n.split(".")[:4]) for n in names}


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_backend_imports_only_the_types_and_its_helpers(backend):
    inside = {m for m in _modules(fieldlog_imports(backend)) if m.startswith("fieldlog.db.remote")}
    inside.discard("fieldlog.db.remotes")  # ``from fieldlog.db.remotes import rows``
    expected = {f"fieldlog.db.remotes.{m}" for m in ("types", *HELPERS[backend])}
    assert inside == expected, inside


@pytest.mark.parametrize("helper", sorted(set().union(*HELPERS.values())))
def test_a_helper_imports_only_the_types(helper):
    inside = {m for m in _modules(fieldlog_imports(helper)) if m.startswith("fieldlog.db.remote")}
    assert inside <= {"fieldlog.db.remotes.types"}, inside


def test_only_the_factory_imports_the_backends():
    for module in ("types", "__init__", *BACKENDS, *set().union(*HELPERS.values())):
        others = {f"fieldlog.db.remotes.{m}" for m in ("factory", *BACKENDS) if m != module}
        wrong = _modules(fieldlog_imports(module)) & others
        assert not wrong, (module, wrong)
    assert {f"fieldlog.db.remotes.{b}" for b in BACKENDS} <= fieldlog_imports("factory")
