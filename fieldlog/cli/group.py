"""fieldlog's Typer settings: the root group and its exit point, and the group maker.

:class:`FieldlogGroup` is the one exit point of the Typer CLI (every FieldlogError one line),
:func:`_typer` the Typer every group module makes (or :class:`fieldlog.cli.params.Commands`
makes for it). Split from :mod:`fieldlog.cli.common`, which the quick path
(:mod:`fieldlog.cli.quick`) imports without Typer: this module is the full CLI's.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import typer
from typer._click.exceptions import UsageError
from typer.core import TyperGroup

from fieldlog.cli.coerce import FieldlogTyper, _light_coercion
from fieldlog.cli.common import State, late_db
from fieldlog.cli.params import Commands
from fieldlog.errors import FieldlogError
from fieldlog.text import printable

if TYPE_CHECKING:
    from typer._click import Context as ClickContext  # Typer >= 0.26 vendors its own Click

HELP_OPTIONS = {"help_option_names": ["-h", "--help"]}


class FieldlogGroup(TyperGroup):
    """The one exit point: every FieldlogError, in any subcommand, becomes one line on stderr
    and its exit code (CONVENTIONS 19); a traceback would mean a bug, not a user's mistake.

    The root group (the one with the ``--db`` option) also gives every command under it that
    option, so ``fieldlog list --db x.db`` works as ``fieldlog --db x.db list`` does
    (:func:`_accept_late_db`)."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        root_db = next((p for p in self.params if p.name == "db"), None)
        if root_db is not None:
            _accept_late_db(self, root_db)

    def parse_args(self, ctx: ClickContext, args: list[str]) -> list[str]:
        """A group about to show its own help (``fieldlog --help``, bare ``fieldlog concern``)
        gets the README's help first: the root is handed out by no group, and a group's help
        is printed while it parses. :mod:`fieldlog.cli.help` is imported only then."""
        _light_coercion(self.get_params(ctx))
        if _help_asked(args, self):
            from fieldlog.cli.help import command_path, polish

            polish(self, command_path(ctx))
        return super().parse_args(ctx, args)

    def resolve_command(self, ctx: ClickContext, args: list[str]) -> Any:
        """Each command as it is handed out gets the README's help (an example, metavars that
        read like ``WHEN``) when the words after it ask for help; else nothing is done."""
        name, command, rest = super().resolve_command(ctx, args)
        if command is not None and os.environ.get("_FIELDLOG_COMPLETE"):  # a Tab in the shell
            from fieldlog.cli.complete import attach

            attach(command, f"{ctx.command_path} {name}".split(" ", 1)[-1])
        if command is not None and _help_asked(rest, command):
            from fieldlog.cli.help import command_path, polish

            command = polish(command, command_path(ctx, name))
        return name, command, rest

    def invoke(self, ctx: ClickContext) -> Any:
        ok = False
        try:
            result = super().invoke(ctx)
            ok = True
            return result
        except typer.Exit as done:
            ok = done.exit_code == 0
            raise
        except UsageError as exc:  # the usage line and hint in the help's words (SUMMARY, ID)
            if exc.ctx is not None:
                from fieldlog.cli.help import command_path, polish

                polish(exc.ctx.command, command_path(exc.ctx))
            raise
        except FieldlogError as exc:
            typer.echo(printable(f"Error: {exc}"), err=True)
            raise typer.Exit(exc.exit_code) from None
        except UnicodeEncodeError:  # argv bytes that are not UTF-8 (any write rolled back)
            typer.echo(
                "Error: Some text you gave is not UTF-8 (a terminal set to another encoding?): "
                "set the terminal to UTF-8 and type it again.",
                err=True,
            )
            raise typer.Exit(1) from None
        finally:
            if ctx.parent is None and isinstance(ctx.obj, State):
                ctx.obj.settle(ok)  # the run is over (the log closed): a new log's fate


LATE_DB_HELP = "The log file to use (the same as  fieldlog --db PATH COMMAND)."


def _accept_late_db(group: Any, root_db: Any) -> None:
    """Give every command under ``group`` (sub-groups and their commands too) a copy of the
    root's ``--db`` option, so it may come after the command word.

    Click parses it with the command's own options, so it is robust where moving words in
    ``argv`` would not be: in ``add "text" --notes --db`` the ``--db`` is the notes' value, and
    after ``--`` it is an argument. The copy passes no value to the command's function
    (``expose_value=False``): its callback hands the path to the run's :class:`State`. Costs a
    shallow copy per command as the CLI is built (the quick ``add`` path builds one)."""
    import copy

    for command in group.commands.values():
        if any(p.name == "late_db" for p in command.params):
            continue  # a group merged in with ``add_typer`` shares its command objects
        option = copy.copy(root_db)
        option.name = "late_db"
        option.expose_value = False
        option.callback = _late_db
        option.help = LATE_DB_HELP
        command.params.append(option)
        if isinstance(command, TyperGroup):
            _accept_late_db(command, root_db)


def _late_db(ctx: ClickContext, param: Any, value: str | None) -> None:
    """The copied option's callback: :func:`fieldlog.cli.common.late_db` for the run's
    :class:`State` (none in resilient parsing, a Tab in the shell: no run, no log)."""
    state = ctx.find_root().obj
    if value is not None and isinstance(state, State):
        late_db(state, value)


def _help_asked(args: list[str], command: Any) -> bool:
    """Whether ``command`` given ``args`` (the words after it) shows help: ``-h``/``--help``
    among them, or none for one that then shows its help (a group called bare). The words,
    not ``sys.argv``: a test's CliRunner passes them, and a cheap check keeps ``add`` fast."""
    return ("--help" in args or "-h" in args) or (not args and command.no_args_is_help)


def _typer(help_text: str | None = None, **kw: Any) -> typer.Typer:
    """A Typer with fieldlog's settings: the exit point, ``-h``, no pretty tracebacks.

    A named sub-group (``concern``, ``org``, ...) gets ``help_text`` and shows its help when
    called bare; a group module's top-level ``app`` (merged into the root, so its own help is
    never shown) calls it without help."""
    settings: dict[str, Any] = {"no_args_is_help": help_text is not None, **kw}
    return FieldlogTyper(
        cls=FieldlogGroup,
        help=help_text,
        pretty_exceptions_enable=False,
        context_settings=HELP_OPTIONS,
        **settings,
    )


def typer_of(commands: Commands) -> typer.Typer:
    """The Typer group of commands declared without Typer (:mod:`fieldlog.cli.params`), in
    declaration order, with fieldlog's settings."""
    group = _typer()
    for declared in commands.declared:
        group.command(declared.name, **declared.settings)(declared.callback)
    return group
