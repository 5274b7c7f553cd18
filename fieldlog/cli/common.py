"""What every command group shares: the exit point, option types, the log, JSON and progress.

Group modules import this module and never the root (``fieldlog.cli.root``), so the root can
assemble them without a cycle (CONVENTIONS 24). Nothing here imports Rich, sqlite-utils or the
store at module level: ``fieldlog add`` pays only for Typer and this file.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Protocol

import typer
from typer.core import TyperGroup

from fieldlog.errors import FieldlogError, StorageError

if TYPE_CHECKING:
    from typer._click import Context as ClickContext  # Typer >= 0.26 vendors its own Click

    from fieldlog.db.store import Store

HELP_OPTIONS = {"help_option_names": ["-h", "--help"]}


class FieldlogGroup(TyperGroup):
    """The one exit point: every FieldlogError, in any subcommand, becomes one line on stderr
    and its exit code (CONVENTIONS 19); a traceback would mean a bug, not a user's mistake."""

    def get_command(self, ctx: ClickContext, cmd_name: str) -> Any:
        """Each command as it is handed out gets the README's help (an example, metavars that
        read like ``WHEN``): :mod:`fieldlog.cli.help`, imported only when help is asked for."""
        command = super().get_command(ctx, cmd_name)
        if command is not None and _help_asked():
            from fieldlog.cli.help import polish

            command = polish(command, f"{ctx.command_path} {cmd_name}".split(" ", 1)[-1])
        return command

    def invoke(self, ctx: ClickContext) -> Any:
        try:
            return super().invoke(ctx)
        except FieldlogError as exc:
            typer.echo(f"Error: {exc}", err=True)
            raise typer.Exit(exc.exit_code) from None
        except UnicodeEncodeError:  # argv bytes that are not UTF-8 (any write rolled back)
            typer.echo(
                "Error: Some text you gave is not UTF-8 (a terminal set to another encoding?): "
                "set the terminal to UTF-8 and type it again.",
                err=True,
            )
            raise typer.Exit(1) from None


def _help_asked() -> bool:
    """Whether this run shows help (``-h``/``--help``, or a group called bare)."""
    return any(a in ("-h", "--help") for a in sys.argv[1:]) or len(sys.argv) <= 2


def _typer(help_text: str | None = None, **kw: Any) -> typer.Typer:
    """A Typer with fieldlog's settings: the exit point, ``-h``, no pretty tracebacks.

    A named sub-group (``concern``, ``org``, ...) gets ``help_text`` and shows its help when
    called bare; a group module's top-level ``app`` (merged into the root, so its own help is
    never shown) calls it without help."""
    settings: dict[str, Any] = {"no_args_is_help": help_text is not None, **kw}
    return typer.Typer(
        cls=FieldlogGroup,
        help=help_text,
        pretty_exceptions_enable=False,
        context_settings=HELP_OPTIONS,
        **settings,
    )


JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
LimitOpt = Annotated[int, typer.Option("--limit", "-n", help="Show at most N rows.", min=1)]


# ---------------------------------------------------------------------- the log
class State:
    """The root's ``ctx.obj``: the ``--db`` given, and the store opened on first use (a command
    that fails on its arguments never opens, migrates or asks for a passphrase)."""

    def __init__(self, db: str | None) -> None:
        self.db = db
        self._store: Store | None = None

    def store(self, *, encrypt: bool = False) -> Store:
        if self._store is None:
            from fieldlog.db.store import Store
            from fieldlog.paths import resolve_db_path

            self._store = Store.open(resolve_db_path(self.db), ask=ask_passphrase, encrypt=encrypt)
        return self._store

    def close(self) -> None:
        if self._store is not None:
            self._store.close()


def state_of(ctx: typer.Context) -> State:
    state: State = ctx.find_root().obj
    return state


def store_of(ctx: typer.Context) -> Store:
    """The open log of this run (opened now if no command asked for it before)."""
    return state_of(ctx).store()


def log_path(ctx: typer.Context) -> Path:
    """The log's path without opening it (encrypt, restore and the TUI open it themselves)."""
    from fieldlog.paths import resolve_db_path

    return resolve_db_path(state_of(ctx).db)


def check_can_encrypt(ctx: typer.Context) -> None:
    """For ``init --encrypt``: refuse an existing plain log (it is converted, not re-made).
    Here rather than in the crypto group so that the group modules import none of each other."""
    from fieldlog.db.connect import log_kind

    path = log_path(ctx)
    if log_kind(path) == "plain":
        raise StorageError(
            f"The log {path} already exists and is not encrypted: encrypt it with  fieldlog encrypt"
        )


def ask_passphrase(path: Path, new: bool, retry: bool) -> str | None:
    """A passphrase typed at a hidden prompt on stderr, or None when stdin is not a terminal
    (the caller then says to set FIELDLOG_PASSPHRASE)."""
    if not sys.stdin.isatty():
        return None
    if retry:
        typer.echo("Wrong passphrase, try again.", err=True)
    if new:
        return str(
            typer.prompt(
                f"New passphrase for {path}",
                hide_input=True,
                confirmation_prompt="Repeat it",
                err=True,
            )
        )
    return str(typer.prompt(f"Passphrase for {path}", hide_input=True, err=True))


def run_tui(state: State) -> None:
    """Open the full-screen interface (Textual is imported here and nowhere else in the CLI)."""
    from fieldlog.paths import resolve_db_path
    from fieldlog.tui.app import make_app

    make_app(resolve_db_path(state.db)).run()


# ---------------------------------------------------------------------- output
def emit_json(data: Any) -> None:
    """Print ``data`` as JSON on stdout, with the store's escaped brackets turned back."""

    def clean(v: Any) -> Any:
        if isinstance(v, dict):
            return {k: clean(x) for k, x in v.items()}
        if isinstance(v, list):
            return [clean(x) for x in v]
        if isinstance(v, str) and "\x02" in v:
            return v.replace("\x02", "[").replace("\x03", "]")
        return v

    sys.stdout.write(json.dumps(clean(data), ensure_ascii=False, indent=2) + "\n")


def _given(**kw: Any) -> dict[str, Any]:
    """The options the user gave (None means "not given", so it never overwrites a field)."""
    return {k: v for k, v in kw.items() if v is not None}


def _print_new(store: Store, table: str, rid: str, as_json: bool) -> None:
    short = store.records.short_id(table, rid)
    if as_json:
        emit_json({"id": rid, "short_id": short})
    else:
        typer.echo(short)


def _print_updated(row: dict[str, Any], noun: str, as_json: bool) -> None:
    if as_json:
        emit_json(row)
    else:
        typer.echo(f"Updated {noun} {row['short_id']} (status: {row['status']}).")


# ---------------------------------------------------------------------- progress
class Tick(Protocol):
    def __call__(self, done: int, total: int | None = None) -> None: ...


class Bars:
    """The progress bars of one command (see :func:`progress`)."""

    def __init__(self, shown: bool, counts: bool) -> None:
        self.shown = shown
        self._counts = counts
        self._live: Any = None

    def task(self, label: str, total: int | None = None) -> Tick | None:
        """A new bar; None when bars are not shown, so that callers pass ``progress=None`` and
        the work skips its progress bookkeeping. The display starts with the first bar."""
        if not self.shown:
            return None
        if self._live is None:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

            from fieldlog import render

            columns = (
                (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
                if self._counts
                else Progress.get_default_columns()
            )
            self._live = Progress(*columns, console=render.err_console, transient=True)
            self._live.start()
        bar = self._live
        task_id = bar.add_task(label, total=total)

        def tick(done: int, total: int | None = None) -> None:
            bar.update(task_id, completed=done, total=total or None)  # None: unchanged

        return tick

    def stop(self) -> None:
        if self._live is not None:
            self._live.stop()


@contextmanager
def progress(*, quiet: bool = False, counts: bool = False) -> Iterator[Bars]:
    """The one progress helper of the CLI: Rich bars on stderr (transient), shown only on a
    terminal and never with ``--json`` (``quiet``); Rich is imported only when a bar is shown.
    ``counts`` draws "done/total" (rows, changes) instead of a percentage and time left."""
    bars = Bars(shown=not quiet and sys.stderr.isatty(), counts=counts)
    try:
        yield bars
    finally:
        bars.stop()
