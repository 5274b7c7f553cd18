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


def test_docs_name_the_metavars_the_help_shows():
    """A command written out in README.md or docs/*.md (``fieldlog list [--since WHEN]``,
    ``fieldlog show ID``) uses the arguments, options and metavars that its ``--help`` shows
    (fieldlog.cli.help): an officer reads both."""
    from typer import _click
    from typer.main import get_command

    from fieldlog.cli import build_app
    from fieldlog.cli.help import polish

    tree = {name: cmd for name, cmd in walk_fresh(get_command(build_app()))}
    metavar = re.compile(r"[A-Z][A-Za-z|:-]*|[a-z]+(\|[a-z]+)+")  # WHEN, NAME-or-ID, csv|md
    wrong = []
    for span in re.findall(r"`fieldlog ([^`]+)`", documentation()):
        words = span.replace("\\|", "|").split()
        k = next((k for k in range(len(words), 0, -1) if " ".join(words[:k]) in tree), 0)
        if not k:
            continue
        path, rest = " ".join(words[:k]), words[k:]
        cmd = tree[path]
        ctx = _click.Context(cmd, info_name=path)
        polish(cmd, path)
        params = cmd.get_params(ctx)
        options = {o: p for p in params if p.param_type_name == "option" for o in p.opts}
        arguments = [
            " ".join(p.get_usage_pieces(ctx)) for p in params if p.param_type_name == "argument"
        ]
        given = []
        for word in rest:
            if word.lstrip("[").startswith("-") or not re.fullmatch(r"\[?[A-Z][\w-]*\]?", word):
                break
            given.append(word)
        if (
            given
            and not all(
                named(g, shown) for g, shown in zip(given, arguments[: len(given)], strict=False)
            )
            or len(given) > len(arguments)
        ):
            wrong.append(f"`fieldlog {span}`: the help shows {' '.join(arguments)}")
        for word, value in zip(rest, [*rest[1:], ""], strict=False):
            option, value = word.strip("[]."), value.rstrip("].")
            if not option.startswith("--"):
                continue
            if option not in options:
                wrong.append(f"`fieldlog {span}`: {path} has no {option}")
            elif metavar.fullmatch(value) and not named(
                value, options[option].display_type_rich(ctx)
            ):
                shown = options[option].display_type_rich(ctx)
                wrong.append(f"`fieldlog {span}`: the help shows {option} {shown}")
    assert not wrong, "\n".join(wrong)


def named(written: str, shown: str) -> bool:
    """Whether the docs' ``written`` is what the help shows, or some of its alternatives
    (``DIR`` for ``FILE|DIR``, ``[FILE|-]`` for ``[FILE|DIR|-]``)."""
    if written == shown:
        return True
    some, every = written.strip("[]").split("|"), shown.strip("[]").split("|")
    return set(some) <= set(every) and written.startswith("[") == shown.startswith("[")


def walk_fresh(group, prefix: str = ""):
    for name, cmd in group.commands.items():
        path = f"{prefix} {name}".strip()
        yield path, cmd
        if getattr(cmd, "commands", None):
            yield from walk_fresh(cmd, path)
