"""The root command: ``--db``, ``--version``, and what bare ``fieldlog`` does.

:func:`new_root` makes the root Typer with its callback and no commands; ``fieldlog.cli``
adds the command groups to it (the whole CLI) or only ``add`` (the quick path). Only
``fieldlog.cli`` imports this module: the group modules never reach back to the root.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from fieldlog import settings
from fieldlog.cli.coerce import FieldlogTyper
from fieldlog.cli.common import State, _check_db_value, run_tui
from fieldlog.cli.group import HELP_OPTIONS, FieldlogGroup

if TYPE_CHECKING:
    from fieldlog.db.store import Store

HELP = "A field log for community liaison officers: contacts, concerns, referrals, partners."


def _version(value: bool) -> None:
    if value:
        from fieldlog import __version__

        typer.echo(f"fieldlog {__version__}")
        raise typer.Exit()


def main_callback(
    ctx: typer.Context,
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            metavar="PATH",
            help="The log file to use (default: $FIELDLOG_DB, else your user data folder). "
            "May also come after the command: fieldlog list --db PATH.",
        ),
    ] = None,
    version: Annotated[
        bool | None,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = None,
) -> None:
    """A field log for community liaison officers: contacts, concerns, referrals, partners.

    Run with no command to open the full-screen interface (in a script: an overview).
    """
    # Every FIELDLOG_* variable, checked before any command runs: a bad one is one line
    # naming it and its fix (not a traceback deep in a command, nor silently the default).
    settings.check()
    # The settings file is read afresh by each run (tests run many in one process); a new
    # process has read nothing yet, so this costs ``fieldlog add`` no import.
    loaded = sys.modules.get("fieldlog.config")
    if loaded is not None:
        loaded.clear_cache()
    if db is not None:
        _check_db_value(db)
    state = State(db)
    ctx.obj = state
    ctx.call_on_close(state.close)
    if ctx.invoked_subcommand is None:
        if sys.stdin.isatty() and sys.stdout.isatty():
            run_tui(state)  # on a fresh machine it makes the log (and says so)
        elif state.exists():  # a script or a pipe: no screen to draw on
            overview(state.store())
        else:  # only reading, so no new log: say where it would be and how to start one
            typer.echo(
                f"Your log is empty (there is no log at {state.path()} yet). Log a contact "
                'with  fieldlog add "Met ..." --hood NAME  (that creates it) or fill a '
                "practice log with  fieldlog --db demo.db demo"
            )


def overview(store: Store) -> None:
    """What bare ``fieldlog`` shows (the TUI's dashboard will take this place)."""
    from fieldlog import render
    from fieldlog.text import plural

    n = store.contacts.count()
    from rich.text import Text

    from fieldlog.text import printable

    # data, not markup: an officer's name with "[" shows as typed, a control character escaped
    render.console.print(Text(printable(f"Log: {store.path}  ·  officer: {store.officer()}")))
    if n == 0:
        render.console.print(
            'Your log is empty. Log a contact with  fieldlog add "Met ..." --hood NAME  '
            "or fill a practice log with  fieldlog --db demo.db demo"
        )
        return
    figures = store.reports.dashboard()
    due, overdue = figures["followups_due"], figures["followups_overdue"]
    render.console.print(
        f"{plural(n, 'contact')} · {plural(due + overdue, 'follow-up')} due today "
        f"({overdue} overdue). "
        "See  fieldlog list,  fieldlog followups,  fieldlog --help"
    )


def new_root() -> typer.Typer:
    """A root Typer with the callback and no commands yet (a fresh one per call: the quick
    path gives it one command, the full CLI all of them)."""
    root = FieldlogTyper(
        cls=FieldlogGroup,
        help=HELP,
        invoke_without_command=True,
        pretty_exceptions_enable=False,
        context_settings=HELP_OPTIONS,
    )
    root.callback()(main_callback)
    return root
