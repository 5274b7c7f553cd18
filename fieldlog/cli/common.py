"""What every command group shares: the exit point, option types, the log, JSON and progress.

Group modules import this module and never the root (``fieldlog.cli.root``), so the root can
assemble them without a cycle (CONVENTIONS 24). Nothing here imports Rich, sqlite-utils or the
store at module level: ``fieldlog add`` pays only for Typer and this file.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Protocol

import typer
from typer._click.exceptions import UsageError
from typer.core import TyperGroup

from fieldlog.cli.coerce import FieldlogTyper, _light_coercion
from fieldlog.errors import FieldlogError, StorageError
from fieldlog.text import printable

if TYPE_CHECKING:
    from typer._click import Context as ClickContext  # Typer >= 0.26 vendors its own Click

    from fieldlog.db.store import Store

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
    """``--db PATH`` given after a command word: the log of this run, unless ``--db`` was
    given before the command too with another path (which one was meant? say so)."""
    if value is None:
        return
    state = ctx.find_root().obj
    if not isinstance(state, State):  # resilient parsing (completion): no run, no log
        return
    _check_db_value(value)
    if state.db is not None and state.db != value:
        raise FieldlogError(
            f"--db is given twice ({state.db} and {value}): give it once, before or after "
            "the command."
        )
    state.db = value


def _check_db_value(value: str) -> None:
    """Refuse ``--db ''`` (an unset shell variable): it would silently mean the default log."""
    if not value.strip():
        raise FieldlogError(
            "--db is empty (an unset variable in a script?): give the log file's path."
        )


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


JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


MAX_LIMIT = 1_000_000_000  # --limit's largest value (SQLite's LIMIT takes at most 2**63 - 1)


class UsageProblem(FieldlogError):
    """A value the command line cannot take: one line, exit code 2 like Click's usage errors."""

    exit_code = 2


def check_limit(value: int | None) -> int | None:
    """``--limit N``: a whole number from 1 to :data:`MAX_LIMIT`, else one line naming the
    option and the range (a huge number would reach SQLite as "Python int too large" and be
    blamed on --db). Typer has parsed it as an int already: any size, any sign."""
    if value is not None and not 1 <= value <= MAX_LIMIT:
        shown = str(value) if len(str(value)) <= 30 else str(value)[:27] + "..."
        raise UsageProblem(f"--limit must be a whole number from 1 to {MAX_LIMIT:,} (got {shown}).")
    return value


def limit_option(help_text: str) -> Any:
    """A ``--limit N`` / ``-n N`` option checked by :func:`check_limit`."""
    return typer.Option("--limit", "-n", metavar="N", help=help_text, callback=check_limit)


def page_option(on_screen: int) -> Any:
    """``--limit N`` of a list: on screen the first ``on_screen`` rows (the list then says
    "Showing N of M"), with ``--json`` every row unless it is given: a script never gets a
    silently cut list."""
    return limit_option(
        f"Show at most N rows (default: {on_screen} on screen, all with --json; N up to "
        f"{MAX_LIMIT:,})."
    )


def page_size(limit: int | None, as_json: bool, on_screen: int) -> int | None:
    """How many rows a list asks for: ``--limit``, else all for JSON, else a screenful."""
    return check_limit(limit) or (None if as_json else on_screen)


LimitOpt = Annotated[int, limit_option("Show at most N rows.")]


# ---------------------------------------------------------------------- the log
# The commands that may create a log when theirs does not exist yet (each says so on stderr):
# those that bring records of their own (``init``, ``add``, ``demo``, ``import``, ``restore``,
# ``org add``), the first sync of a new laptop (``sync PATH``, which pulls the department's
# records), saving a remote before that first sync, and the full-screen interface (a new
# user's first ``fieldlog``). Every other command on a missing log says "No log at PATH" and
# creates nothing: it would only read an empty log, or fail on an id it cannot find
# (``concern add ID``, ``refer ID``), so a mistyped --db must not leave a stray file behind.
CREATING = frozenset(
    {"init", "add", "demo", "import", "restore", "sync", "org add", "remote add", "tui"}
)


class NoLogError(StorageError):
    """The log a reading command was pointed at does not exist."""


class State:
    """The root's ``ctx.obj``: the ``--db`` given, and the store opened on first use (a command
    that fails on its arguments never opens, migrates or asks for a passphrase)."""

    def __init__(self, db: str | None) -> None:
        self.db = db
        self._store: Store | None = None
        self._new: Path | None = None  # the log this run created, if it did
        self._new_folder: Path | None = None  # the folder it created for it, if it did

    def path(self) -> Path:
        """The log's path (``--db``, else ``FIELDLOG_DB``, else the user data folder)."""
        from fieldlog.paths import resolve_db_path

        return resolve_db_path(self.db)

    def exists(self) -> bool:
        """Whether the log exists (an empty file does not count: it holds no log yet)."""
        from fieldlog.db.connect import log_kind

        return log_kind(self.path()) != "new"

    def store(self, *, encrypt: bool = False, create: bool | None = None) -> Store:
        """The log, opened on first use. A missing log is created only when ``create`` (by
        default: when the running command is one of :data:`CREATING`), and then said on
        stderr; else it is a :class:`NoLogError` and nothing is made (no file, no folder)."""
        if self._store is None:
            from fieldlog.db.store import Store

            path = self.path()
            new = not self.exists()
            if new and not (create if create is not None else _running_creates()):
                raise NoLogError(missing_log_message(path, self.db))
            folder = _first_missing_folder(path) if new else None
            self._store = Store.open(path, ask=ask_passphrase, encrypt=encrypt)
            say_notices(self._store.notices)
            if new:
                self._new, self._new_folder = path, folder
        return self._store

    def close(self) -> None:
        if self._store is not None:
            self._store.close()

    def settle(self, ok: bool) -> None:
        """After the run (the log closed): a log this run created is announced on stderr
        ("Created a new log at PATH"), unless the command failed before writing anything to
        it; then it is removed (with the folder made for it), so a failed ``add`` on a
        mistyped --db leaves no stray file behind, as the issue asks of reading commands."""
        path, self._new = self._new, None
        if path is None or self._store is None:
            return
        if ok or self._store.commits:
            typer.echo(f"Created a new log at {path}", err=True)
            return
        from fieldlog.db.logfile import remove_files

        try:
            remove_files(path)
            top, folder = self._new_folder, path.absolute().parent
            while top is not None:  # only the folders made for it, and only while empty
                folder.rmdir()
                if folder == top:
                    break
                folder = folder.parent
        except OSError:
            pass  # best effort: the error the officer sees is the command's own


def say_notices(lines: list[str]) -> None:
    """What the store found and fixed on open (a temporary copy a killed decrypt left beside
    the log, removed): one line each on stderr, so a script's stdout stays its own."""
    for line in lines:
        typer.echo(printable(line), err=True)


def sweep_beside(path: Path) -> None:
    """Remove (and say) the temporary copies killed commands left beside ``path`` (a log or
    a backup) before a command that opens it without the store (encrypt, restore, backup)."""
    from fieldlog.db.leftovers import sweep

    say_notices(sweep(path))


def missing_log_message(path: Path, db: str | None) -> str:
    """ "No log at PATH", with the fix: init, or check where the path came from."""
    from fieldlog.paths import db_source

    empty = " (the file is empty)" if path.is_file() else ""
    source = db_source(db)
    if source == "default":
        return f"No log at {path}{empty}: run `fieldlog init` to start one there, or give --db PATH"
    return f"No log at {path}{empty}: run `fieldlog init` or check {source}"


def _first_missing_folder(path: Path) -> Path | None:
    """The outermost folder above ``path`` that does not exist yet (SQLite will make it), or
    None when the log's folder exists."""
    missing = None
    folder = path.absolute().parent
    while not folder.exists():
        missing = folder
        folder = folder.parent
    return missing


def _running_creates() -> bool:
    """Whether the command running now (its path below the root: ``org add``) is one of
    :data:`CREATING`; outside a command (the library, a test calling ``State``) it is."""
    from typer._click.globals import get_current_context

    ctx = get_current_context(silent=True)
    if ctx is None:
        return True
    names = []
    while ctx.parent is not None:
        names.append(ctx.info_name or "")
        ctx = ctx.parent
    return " ".join(reversed(names)) in CREATING


def state_of(ctx: typer.Context) -> State:
    state: State = ctx.find_root().obj
    return state


def store_of(ctx: typer.Context) -> Store:
    """The open log of this run (opened now if no command asked for it before)."""
    return state_of(ctx).store()


def log_path(ctx: typer.Context) -> Path:
    """The log's path without opening it (encrypt, restore and the TUI open it themselves)."""
    return state_of(ctx).path()


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
    """Open the full-screen interface (Textual is imported here and nowhere else in the CLI).

    On a fresh machine it makes the log (the README's promise: install, run ``fieldlog``), and
    says so once the screen is gone. The settings file is read first, so a bad value in it is
    one line here rather than a crash inside the interface."""
    from fieldlog import config
    from fieldlog.tui.app import make_app

    config.values()
    path = state.path()
    new = not state.exists()
    make_app(path).run()
    if new and path.exists():
        typer.echo(f"Created a new log at {path}", err=True)


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


def ask_remote_passphrase(targets: list[tuple[str, str]]) -> None:
    """An encrypted remote file and no $FIELDLOG_REMOTE_PASSPHRASE: ask on a terminal (once,
    for this run only); in a script the remote says what to set. ``fieldlog sync``, the
    ``dept`` commands and ``verify --remote`` all ask the same way."""
    import os

    from fieldlog.db.remotes.factory import encrypted_file
    from fieldlog.db.remotes.types import REMOTE_PASSPHRASE_ENV

    if os.environ.get(REMOTE_PASSPHRASE_ENV) or not sys.stdin.isatty():
        return
    for label, url in targets:
        if encrypted_file(url):
            os.environ[REMOTE_PASSPHRASE_ENV] = typer.prompt(
                f"Department passphrase for {label}", hide_input=True, err=True
            )
            return
