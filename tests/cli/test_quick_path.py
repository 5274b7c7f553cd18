"""The quick path (issue 16) changes nothing a user sees: ``fieldlog WORD`` built alone
(:func:`fieldlog.cli.app_for`) is the same command as in the whole CLI, :data:`GROUPS` says
truly which module brings which word, and the light coercion of
:mod:`fieldlog.cli.common` gives what Typer's pydantic adapters give, value for value."""

from __future__ import annotations

from typing import Any

import pytest
from typer._coercion import build_runtime_param
from typer.main import get_command, get_command_name
from typer.testing import CliRunner

from fieldlog.cli import GROUPS, _subcommand, app_for, build_app
from fieldlog.cli.coerce import _Light, _light_kind

WORDS = [word for group in GROUPS for word in group.words()]


def test_groups_name_every_word_once_in_help_order():
    full = get_command(build_app())
    assert len(WORDS) == len(set(WORDS)), WORDS
    assert list(full.commands) == WORDS  # type: ignore[attr-defined]


def test_merged_groups_list_their_modules_commands():
    for group in GROUPS:
        if group.name is None:
            sub = group.typer()
            names = [
                c.name or get_command_name(c.callback.__name__) for c in sub.registered_commands
            ]
            assert tuple(names) == group.commands, group.module
            assert not sub.registered_groups, group.module


def describe(command: Any) -> Any:
    """What a user can meet of a command: its params (names, flags, help, defaults) and,
    for a group, its commands, recursively."""
    params = [
        (p.name, tuple(p.opts), tuple(p.secondary_opts), getattr(p, "help", None), repr(p.default))
        for p in command.params
    ]
    subs = {name: describe(sub) for name, sub in getattr(command, "commands", {}).items()}
    return (command.help, params, subs)


@pytest.mark.parametrize("word", WORDS)
def test_a_word_alone_is_the_same_command(word):
    quick = get_command(app_for(word))  # type: ignore[arg-type]
    full = get_command(build_app())
    assert list(quick.commands) == [word]  # type: ignore[attr-defined]
    assert describe(quick.commands[word]) == describe(full.commands[word])  # type: ignore[attr-defined]
    assert describe(quick)[1] == describe(full)[1]  # the root's own options


@pytest.mark.parametrize("word", WORDS)
def test_a_word_alone_shows_the_same_help(word):
    runner = CliRunner()
    quick = runner.invoke(app_for(word), [word, "--help"], prog_name="fieldlog")  # type: ignore[arg-type]
    full = runner.invoke(build_app(), [word, "--help"], prog_name="fieldlog")
    assert quick.exit_code == full.exit_code == 0
    assert quick.output == full.output


def test_an_unknown_word_takes_the_whole_cli():
    assert app_for("lsit") is None  # main() then runs the whole CLI: "did you mean list?"


@pytest.mark.parametrize(
    ("argv", "word"),
    [
        (["add", "x"], "add"),
        (["--db", "p.db", "concern", "add"], "concern"),
        (["--db=p.db", "list", "--db", "q"], "list"),
        (["--db", "add"], None),  # a log named "add", no command: the whole CLI
        (["-h", "add"], None),  # the root's help lists every command
        (["--version", "list"], None),
        ([], None),
    ],
)
def test_the_quick_path_is_taken_only_after_db(argv, word):
    assert _subcommand(argv) == word


SAMPLES: dict[str, list[Any]] = {
    "str": ["x", "", " a b ", "caf\udce9", "\x00", "é" * 300, "1", b"bytes", 5],
    "strs": [("a", "b"), (), ["x"], ("caf\udce9",), (b"x",), "ab"],
    "int": ["1", "+1", "-1", "007", "-0", " 5 ", "1_000", "1.0", "1.5", "abc", "", "0x10",
            "99999999999999999999999", "\u0661\u0662", 5, 0, True, 2.0],
    "bool": [True, False, "true", "0", ""],
}  # fmt: skip


def outcome(coerce: Any, value: Any, param: Any, ctx: Any) -> tuple[str, Any]:
    try:
        result = coerce(value, param=param, ctx=ctx)
    except Exception as exc:  # the message a user would see
        return type(exc).__name__, str(exc)
    return type(result).__name__, result


def test_light_coercion_gives_what_typer_gives():
    """Every parameter of the CLI the light coercion takes, every sample value of its kind
    (and None): the same value and type, or the same error, as Typer's own adapter."""
    full = get_command(build_app())
    seen: set[str] = set()
    stack = [full]
    checked = 0
    while stack:
        command = stack.pop()
        stack += getattr(command, "commands", {}).values()
        ctx = full.context_class(command, info_name="fieldlog")
        for param in command.get_params(ctx):
            param._runtime_param = None  # as Typer made it: nothing built yet
            kind = _light_kind(param)
            if kind is None:
                continue
            light = _Light(param.type_descriptor, kind)
            typer_own = build_runtime_param(param.type_descriptor)
            for value in [None, *SAMPLES[kind]]:
                mine = outcome(light.coerce, value, param, ctx)
                param._runtime_param = None
                assert mine == outcome(typer_own.coerce, value, param, ctx), (param.name, value)
                checked += 1
            seen.add(kind)
    assert seen == {"str", "strs", "int", "bool"}
    assert checked > 500
