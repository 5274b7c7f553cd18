"""Every command's ``--help`` reads like the README (issue 11): a one-line example, metavars
such as ``WHEN`` / ``ID`` / ``TEXT`` rather than ``<str>`` / ``{summary}``, help text for every
option, paragraphs that wrap at the terminal's width rather than mid-sentence.

The commands are found by walking the built app, so a command added later is checked too (and
fails here until it has an example in ``fieldlog.cli.help.EXAMPLES``)."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys

import pytest
from typer import _click
from typer.core import TyperGroup
from typer.main import get_command
from typer.testing import CliRunner

from fieldlog.cli import app, build_app
from fieldlog.cli.help import EXAMPLES, command_path, polish, reflow
from tests.lib.run import run_fieldlog


def walk(group, prefix: str = ""):
    """(path, command) for every visible command and group under ``group``, at any depth."""
    for name, cmd in group.commands.items():
        if cmd.hidden:
            continue
        path = f"{prefix} {name}".strip()
        yield path, cmd
        if isinstance(cmd, TyperGroup):
            yield from walk(cmd, path)


PATHS = ["", *(path for path, _ in walk(get_command(build_app())))]
IDS = [path or "fieldlog" for path in PATHS]

# Typer's own placeholders: a Python type, an argument in braces, a number range.
PLACEHOLDER = re.compile(
    r"<(?:str|int|float|bool|list|tuple|path|file|text|uuid|datetime|choice|\w+ range)\b[^>]*>"
    r"|\{\w+\}|\[x[<>]=|\bx[<>]=\d"
)


def show_help(path: str, columns: int, *extra: str):
    result = CliRunner().invoke(
        app,
        [*path.split(), *extra, "--help"],
        env={"COLUMNS": str(columns)},
        prog_name="fieldlog",
    )
    assert result.exit_code == 0, (result.output, result.exception)
    return result.stdout


def forced_breaks(out: str, columns: int) -> list[str]:
    """Lines of the description and of a command list that end although the next line's
    first word would have fit: a line break in the source text, not a wrap."""
    lines = out.splitlines()
    found = []
    # The description: from the usage line to the first panel, one space of padding each side.
    start = next(i for i, line in enumerate(lines) if "Usage:" in line) + 1
    end = next((i for i, line in enumerate(lines) if line.startswith("╭")), len(lines))
    block = lines[start:end]
    for line, nxt in zip(block, block[1:], strict=False):
        text, words = line.strip(), nxt.split()
        if text and words and not text.startswith("Example:"):
            if len(text) + 1 + len(words[0]) <= columns - 2:
                found.append(text)
    # A command list: "│ name   text   │", continued as "│        more   │".
    col = None
    for line, nxt in zip(lines, lines[1:], strict=False):
        if line.startswith("╭"):
            col = -1 if line.startswith("╭─ Commands") else None
            continue
        if col is None or not line.startswith("│") or not nxt.startswith("│"):
            continue
        m = re.match(r"│ (\S+) +", line)
        if m:
            col = m.end()
        if col < 0 or nxt[1:col].strip() or not nxt[col:-1].strip():
            continue  # the next line starts another row
        text, word = line[col:-1].rstrip(), nxt[col:-1].split()[0]
        if text and len(text) + 1 + len(word) <= len(line) - 2 - col:
            found.append(text)
    return found


@pytest.mark.parametrize("columns", [80, 100])
@pytest.mark.parametrize("path", PATHS, ids=IDS)
def test_help_reads_like_the_readme(path, columns):
    out = show_help(path, columns)
    examples = [line for line in out.splitlines() if "Example:" in line]
    assert examples == [f" Example: {EXAMPLES[path]}"], out  # one line, never re-wrapped
    assert examples[0].split("Example: ", 1)[1].startswith("fieldlog ")
    assert not PLACEHOLDER.findall(out), out
    assert f"Usage: {' '.join(['fieldlog', *path.split()])} [OPTIONS]" in out
    assert not forced_breaks(out, columns), (forced_breaks(out, columns), out)


def test_every_command_has_an_example_and_none_is_stale():
    assert not [p or "fieldlog" for p in PATHS if p not in EXAMPLES], "add them to EXAMPLES"
    assert not [p for p in EXAMPLES if p not in PATHS], "EXAMPLES names commands that are gone"


def parse(example: str) -> str:
    """The command path an example runs, after Click parsed every word of it as that command
    would (options, arguments, values, types), without running it."""
    words = shlex.split(example)
    assert words[0] == "fieldlog", example
    command = get_command(build_app())
    ctx = command.make_context("fieldlog", words[1:])
    path = []
    while isinstance(command, TyperGroup):
        args = [*ctx._protected_args, *ctx.args]
        if not args:
            break
        name, command, rest = command.resolve_command(ctx, args)
        path.append(name)
        ctx = command.make_context(name, rest, parent=ctx)
    return " ".join(path)


@pytest.mark.parametrize("path", sorted(EXAMPLES), ids=[p or "fieldlog" for p in sorted(EXAMPLES)])
def test_every_example_parses_as_its_command(path):
    """A group's example runs one of its commands (the root's: any command)."""
    ran = parse(EXAMPLES[path]).split()
    assert ran[: len(path.split())] == path.split() and ran, EXAMPLES[path]


def test_the_examples_run(cli, tmp_path, monkeypatch):
    """The examples that need no id from an earlier run work on a real log as printed
    (vocabulary words, dates, file names): an officer copies them."""
    monkeypatch.chdir(tmp_path)
    for path in [
        "init", "add", "org add", "org show", "org edit", "list", "search", "followups",
        "report", "concern list", "referral list", "org list", "remote list", "conflicts",
        "verify", "export",
    ]:  # fmt: skip
        cli(*shlex.split(EXAMPLES[path])[1:])
    assert (tmp_path / "flat.csv").exists()


def contexts(path: str):
    """(command, context) for ``path`` in a freshly built app, with the contexts Click would
    make for it (nothing parsed)."""
    command = get_command(build_app())
    ctx = _click.Context(command, info_name="fieldlog")
    for name in path.split():
        command = command.commands[name]
        ctx = _click.Context(command, info_name=name, parent=ctx)
    return command, ctx


@pytest.mark.parametrize("path", PATHS, ids=IDS)
def test_every_parameter_has_help_and_a_readable_metavar(path):
    command, ctx = contexts(path)
    assert command_path(ctx) == path
    polish(command, path)
    for param in command.get_params(ctx):
        if getattr(param, "hidden", False):
            continue
        name = "/".join(param.opts)
        assert (param.help or "").strip(), f"fieldlog {path} {name} has no help text"
        shown = param.display_type_rich(ctx) if param.param_type_name == "option" else None
        if getattr(param, "is_flag", False):
            assert not shown, f"fieldlog {path} {name}: a flag shows {shown!r}"
        elif param.param_type_name == "option":
            assert shown and not PLACEHOLDER.search(shown) and shown[0] != "<", (path, name)
        else:
            usage = " ".join(param.get_usage_pieces(ctx))
            assert re.fullmatch(r"\[?[A-Za-z][\w:|-]*\]?(\.\.\.)?", usage), (path, name, usage)
            assert usage.strip("[].").isupper() or "-or-" in usage, (path, name, usage)


def test_metavars_follow_the_option_and_then_the_type():
    command, ctx = contexts("add")
    polish(command, "add")
    shown = {p.opts[0]: p.display_type_rich(ctx) for p in command.get_params(ctx)}
    assert shown["--at"] == "WHEN" and shown["--follow-up"] == "WHEN"
    assert shown["--tag"] == "TAG" and shown["--hood"] == "NAME" and shown["--name"] == "PERSON"
    assert shown["--concern"] == "CATEGORY:TEXT"  # given at source: kept
    assert shown["--notes"] == "TEXT" and shown["--json"] is None
    command, ctx = contexts("list")
    polish(command, "list")
    limit = next(p for p in command.get_params(ctx) if p.name == "limit")
    assert limit.display_type_rich(ctx) == "N" and limit._get_number_range_help_str() is None
    command, ctx = contexts("report")
    polish(command, "report")
    by = next(p for p in command.get_params(ctx) if p.name == "by")
    assert by.display_type_rich(ctx) == "hood|officer|category"


def test_usage_and_arguments_panel():
    out = show_help("add", 100)
    assert "Usage: fieldlog add [OPTIONS] SUMMARY" in out
    assert re.search(r"│ \*\s+SUMMARY\s+What happened", out)
    assert "Usage: fieldlog sync [OPTIONS] [REMOTE]" in show_help("sync", 100)
    assert "Usage: fieldlog export [OPTIONS] [TABLE]" in show_help("export", 100)
    assert "Usage: fieldlog concern update [OPTIONS] ID" in show_help("concern update", 100)


def test_options_without_help_get_the_shared_wording():
    out = show_help("concern update", 100)
    assert re.search(r"--status\s+STATUS\s+New status: open, in_progress, referred, resolved", out)
    assert re.search(r"--priority\s+PRIORITY\s+New priority: low, normal, high, urgent", out)


def test_an_options_own_help_wins_over_the_table():
    command, ctx = contexts("export")
    polish(command, "export")
    status = next(p for p in command.get_params(ctx) if p.name == "status")
    assert status.help == "Concern, referral or partner status."


def test_group_help_and_bare_group():
    out = show_help("", 80)
    assert "--version  " in out and "<bool>" not in out
    # the command list re-flows a docstring broken mid-sentence at 100 columns
    assert re.search(r"│ history +A record's audit trail: who changed what, when, on which", out)
    bare = CliRunner().invoke(app, ["concern"], env={"COLUMNS": "80"}, prog_name="fieldlog")
    assert bare.exit_code in (0, 2), bare.output  # Click's code for a group called bare
    assert f" Example: {EXAMPLES['concern']}" in bare.stdout


def test_dash_h_and_db_before_the_command():
    out = show_help("concern update", 100, "-h")
    assert f" Example: {EXAMPLES['concern update']}" in out
    result = CliRunner().invoke(
        app, ["--db", "x.db", "list", "-h"], env={"COLUMNS": "100"}, prog_name="fieldlog"
    )
    assert result.exit_code == 0 and f" Example: {EXAMPLES['list']}" in result.stdout


def test_reflow_keeps_paragraphs_lists_and_no_rewrap_blocks():
    text = """First line of a sentence
    that goes on.

    Second paragraph, broken
    mid-sentence too.

    - one item
    - another item

    \b
    kept   as
    it is
    \f
    hidden"""
    assert reflow(text) == (
        "First line of a sentence that goes on.\n\n"
        "Second paragraph, broken mid-sentence too.\n\n"
        "- one item\n- another item\n\n"
        "\b\nkept   as\nit is\f\nhidden"
    )
    assert reflow(None) is None and reflow("") == ""


def test_markup_in_help_text_is_shown_as_typed():
    command, ctx = contexts("list")
    command.help = "List contacts [newest first]."
    polish(command, "list")
    assert command.help == "List contacts \\[newest first]."  # Rich shows the brackets


def test_quick_add_path_help_in_a_real_process():
    """``fieldlog add --help`` takes the quick path (only ``add`` is built): polished too."""
    result = run_fieldlog("add", "--help", env={"COLUMNS": "80"})
    assert result.returncode == 0, result.stderr
    assert "Usage: fieldlog add [OPTIONS] SUMMARY" in result.stdout
    assert f" Example: {EXAMPLES['add']}" in result.stdout.splitlines()
    assert not PLACEHOLDER.findall(result.stdout)


def test_add_without_help_never_loads_the_help_module(tmp_path):
    argv = ["fieldlog", "--db", str(tmp_path / "x.db"), "add", "Met the owner", "--hood", "East"]
    code = (
        f"import sys\nfrom fieldlog.cli import main\nsys.argv = {argv!r}\n"
        "try:\n    main()\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
        "print('fieldlog.cli.help' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split()[-1] == "False", out
