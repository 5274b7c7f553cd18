"""Every command has help text and is documented: in README.md or docs/*.md, as
``fieldlog CMD`` or ``fieldlog GROUP SUB`` (sqlite-utils' tests/test_docs.py is the model)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent


def commands() -> list[tuple[str, object]]:
    """Every visible command of ``fieldlog``, as ("group sub", click command), walking the
    Typer app's Click tree to any depth."""
    from typer.main import get_command

    from fieldlog.cli import app

    found: list[tuple[str, object]] = []

    def walk(group, prefix: str) -> None:
        for name, cmd in sorted(group.commands.items()):
            if getattr(cmd, "hidden", False):
                continue
            path = f"{prefix} {name}".strip()
            found.append((path, cmd))
            if getattr(cmd, "commands", None):
                walk(cmd, path)

    walk(get_command(app), "")
    return found


COMMANDS = commands()


def documentation() -> str:
    texts = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    return "\n".join(p.read_text(encoding="utf-8") for p in texts if p.exists())


def test_the_walk_finds_the_commands():
    names = {name for name, _ in COMMANDS}
    assert {"add", "list", "export", "sync", "org", "org add", "concern add"} <= names
    assert len(names) >= 25


@pytest.mark.parametrize("name,cmd", COMMANDS, ids=[name for name, _ in COMMANDS])
def test_every_command_has_help(name, cmd):
    assert (cmd.help or "").strip(), f"fieldlog {name} has no help text"


def test_every_command_is_documented():
    docs = " ".join(documentation().split())  # a command name may wrap onto the next line
    missing = [
        f"fieldlog {name}"
        for name, _ in COMMANDS
        if not re.search(rf"\bfieldlog {re.escape(name)}(?![\w-])", docs)
    ]
    assert not missing, "not in README.md or docs/*.md: " + ", ".join(missing)
