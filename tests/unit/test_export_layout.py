"""The layout of the export and import packages (issue 9): small modules, one copy of the
formula prefixes, and the export's public names where callers import them."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import fieldlog
from fieldlog import export, importer, models

SRC = Path(fieldlog.__file__).parent
MAX_LINES = 500
# Files allowed to spell the prefixes besides models.py: none (export_sql builds its SQL list
# from models.FORMULA_PREFIXES).
STILL_SPELLED: set[str] = set()


def modules(package: str) -> list[Path]:
    """The source files of ``fieldlog.<package>``: a package's modules or a lone module."""
    folder = SRC / package
    found = sorted(folder.rglob("*.py")) if folder.is_dir() else []
    if (SRC / f"{package}.py").exists():
        found.append(SRC / f"{package}.py")
    return found


@pytest.mark.parametrize("package", ["export", "importer"])
def test_every_module_is_small(package):
    files = modules(package)
    assert files, package
    long = {
        str(f.relative_to(SRC)): n
        for f in files
        if (n := len(f.read_text(encoding="utf-8").splitlines())) >= MAX_LINES
    }
    assert long == {}


def spellings(tree: ast.AST) -> list[int]:
    """Lines where a source spells the formula prefixes: a tuple, list or set of those
    characters, or a string holding them one after the other (a regex class, SQL)."""
    chars = set(models.FORMULA_PREFIXES)
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Tuple | ast.List | ast.Set):
            items = {e.value for e in node.elts if isinstance(e, ast.Constant)}
            if {"=", "+", "-", "@"} <= items <= chars:
                lines.append(node.lineno)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value.replace("\\", "").replace("'", "").replace(", ", "")
            if "=+-@" in text:
                lines.append(node.lineno)
    return lines


def test_the_formula_prefixes_are_spelled_once():
    found = {}
    for path in sorted(SRC.rglob("*.py")):
        rel = str(path.relative_to(SRC.parent))
        lines = spellings(ast.parse(path.read_text(encoding="utf-8")))
        if lines and rel not in STILL_SPELLED:
            found[rel] = lines
    assert list(found) == ["fieldlog/models.py"], found
    assert len(found["fieldlog/models.py"]) == 1


def test_the_prefixes_suit_the_fast_checks():
    """The export's fast path and the store's SQL compare a cell's first character, and the
    SQL lets through only text below '.' or from '=' to before 'A' before comparing it: a
    new prefix must keep to that (or the SQL's pre-check must change with it)."""
    for p in models.FORMULA_PREFIXES:
        assert len(p) == 1, p
        assert p < "." or "=" <= p < "A", p


def test_everyone_reads_the_one_tuple():
    assert export.FORMULA_PREFIXES is models.FORMULA_PREFIXES
    assert importer.FORMULA_PREFIXES is models.FORMULA_PREFIXES
    for p in models.FORMULA_PREFIXES:
        assert export.neutralise(p + "x") == "'" + p + "x"
        assert importer.unneutralise("'" + p + "x") == p + "x"
    assert export.neutralise("x=1") == "x=1" and importer.unneutralise("'x") == "'x"


def test_the_export_keeps_its_public_names():
    for name in (
        "COLUMNS", "CONTACT_COLUMNS", "FLAT_COLUMNS", "TABLES", "FORMULA_PREFIXES", "BOM",
        "PROGRESS_EVERY", "EXPORT_CHUNKS", "NAME_FIELDS", "BLANKED_FIELDS", "FREE_TEXT_FIELDS",
        "REDACTED", "Redactor", "atomic_text", "export_all", "export_contacts_csv",
        "neutralise", "write_table",
    ):  # fmt: skip
        assert hasattr(export, name), name
    assert set(export.__all__) <= set(dir(export))
    assert set(importer.__all__) <= set(dir(importer))
