"""The CLI package's shape as tests: group modules never import the root back, the quick
``add`` path stays light, and no command of ``fieldlog --help`` goes missing in a move."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import typer

import fieldlog.cli
from fieldlog.cli import app

CLI_DIR = Path(fieldlog.cli.__file__).parent
# The root and the assembly (fieldlog/cli/__init__.py): no group module may import them.
ROOT_NAMES = {"root", "app", "main", "build_app", "quick_app"}

# `fieldlog --help` as of issue 9, in its order (top-level commands, then the named groups).
TOP_LEVEL = [
    "init", "demo", "add", "list", "show", "edit", "delete", "search", "followups", "refer",
    "tui", "verify", "history", "purge", "encrypt", "decrypt", "passphrase", "backup",
    "restore", "export", "import", "report", "sync",
    "concern", "referral", "org", "remote", "conflicts",
]  # fmt: skip
SUBCOMMANDS = {
    "concern": ["add", "list", "update"],
    "referral": ["list", "update"],
    "org": ["add", "list", "show", "edit"],
    "remote": ["add", "list", "remove"],
    "conflicts": ["resolve"],
}


def imports_of(path: Path) -> list[tuple[str, set[str]]]:
    """(module, names) for each import in ``path``, lazy ones inside functions included."""
    found: list[tuple[str, set[str]]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(alias.name, set()) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, {alias.name for alias in node.names}))
    return found


def test_no_group_module_imports_the_root():
    modules = sorted(p for p in CLI_DIR.glob("*.py") if p.name != "__init__.py")
    assert len(modules) >= 10, modules
    for path in modules:
        for module, names in imports_of(path):
            bad = module == "fieldlog.cli.root" or (
                module == "fieldlog.cli" and (not names or bool(names & ROOT_NAMES))
            )
            assert not bad, f"{path.name} imports {module} {sorted(names)}: only __init__ may"


# The CLI's lowest layer: helpers any group may use, which import no group.
SHARED = {"fieldlog.cli.common", "fieldlog.cli.coerce", "fieldlog.cli.help",
          "fieldlog.cli.suggest", "fieldlog.cli.complete", "fieldlog.cli.editor",
          "fieldlog.cli.department", "fieldlog.cli.group", "fieldlog.cli.params"}  # fmt: skip


def test_group_modules_import_none_of_each_other():
    """Each group stands alone on common and the shared helpers (a group can move or go
    without touching the others)."""
    for path in CLI_DIR.glob("*.py"):
        if path.name in ("__init__.py", "quick.py") or f"fieldlog.cli.{path.stem}" in SHARED:
            continue  # (the quick path's reader finds the group of a word in GROUPS)
        for module, _names in imports_of(path):
            if module.startswith("fieldlog.cli"):
                assert module in SHARED, f"{path.name} imports {module}"


def test_the_root_imports_no_group():
    for module, _names in imports_of(CLI_DIR / "root.py"):
        if module.startswith("fieldlog.cli"):
            assert module in ("fieldlog.cli.common", "fieldlog.cli.coerce", "fieldlog.cli.group"), (
                module
            )


def modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys; print(' '.join(sys.modules))"],
        capture_output=True,
        text=True,
        check=True,
    )
    return set(out.stdout.split())


def test_entry_module_imports_nothing_heavy():
    loaded = modules_after("import fieldlog.cli.entry")
    for heavy in ("textual", "rich", "rich.progress", "sqlite_utils", "psycopg", "fieldlog.tui"):
        assert heavy not in loaded, heavy


def test_quick_add_path_imports_no_other_group(tmp_path):
    db = str(tmp_path / "x.db")
    subprocess.run(
        [sys.executable, "-m", "fieldlog", "--db", db, "init", "--officer", "A"],
        check=True,
        capture_output=True,
    )  # the log exists and is migrated: a first run would import sqlite-utils for that
    argv = ["fieldlog", "--db", db, "add", "Quick one", "--concern", "noise:x"]
    loaded = modules_after(
        f"import sys\nfrom fieldlog.cli import main\nsys.argv = {argv!r}\n"
        "try:\n    main()\nexcept SystemExit as e:\n    assert not e.code\n"
    )
    assert "fieldlog.cli.entry" in loaded
    groups = {p.stem for p in CLI_DIR.glob("*.py")} - {"__init__", "common", "coerce", "root"}
    groups -= {"params", "quick"}  # the quick path's declarations and reader
    groups -= {"entry"}
    groups -= {"suggest", "complete", "editor"}  # shared helpers, loaded only when used
    assert groups, "no group modules found"
    for group in groups:
        assert f"fieldlog.cli.{group}" not in loaded, group
    for heavy in ("textual", "rich", "sqlite_utils", "psycopg"):
        assert heavy not in loaded, heavy


def command_names(group: object) -> list[str]:
    ctx = typer.Context(group)  # type: ignore[arg-type]
    return list(group.list_commands(ctx))  # type: ignore[attr-defined]


def in_order(expected: list[str], actual: list[str]) -> bool:
    """``expected`` appears in ``actual`` in the same order (new commands may come between)."""
    it = iter(actual)
    return all(name in it for name in expected)


def test_every_command_of_today_is_still_there_in_its_order():
    root = typer.main.get_command(app)
    top = command_names(root)
    missing = [c for c in TOP_LEVEL if c not in top]
    assert not missing, missing
    assert in_order(TOP_LEVEL, top), top
    for group, subs in SUBCOMMANDS.items():
        names = command_names(root.commands[group])  # type: ignore[attr-defined]
        assert in_order(subs, names), (group, names)


def test_help_lists_them(cli):
    out = cli("--help").stdout
    for name in TOP_LEVEL:
        assert f" {name} " in out, name
