"""What every command shares: the log of the run, option types, output, JSON and progress.

Group modules import this module and never the root (``fieldlog.cli.root``), so the root can
assemble them without a cycle (CONVENTIONS 24). Nothing here imports Typer, Rich,
sqlite-utils or the store at module level: the quick path (:mod:`fieldlog.cli.quick`) runs
``fieldlog add`` with this file and the command's own module. Typer's side (the root group,
its exit point, the group maker) is :mod:`fieldlog.cli.group`.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Protocol

from fieldlog.cli.params import JsonOpt as JsonOpt  # one name for every group module
from fieldlog.cli.params import Option
from fieldlog.errors import FieldlogError, StorageError
from fieldlog.text import printable

if TYPE_CHECKING:
    import typer

    from fieldlog.db.store import Store


def echo(message: str = "", *, err: bool = False) -> None:
    """One line on stdout (``err``: stderr), flushed: ``typer.echo`` for plain text, without
    importing Typer. No stream (``pythonw`` on Windows has none) is no output, as in Click."""
    stream = sys.stderr if err else sys.stdout
    if stream is None:
        return
    stream.write(f"{message}\n")
    stream.flush()


def _check_db_value(value: str) -> None:
    """Refuse ``--db ''`` (an unset shell variable): it would silently mean the default log."""
    if not value.strip():
        raise FieldlogError(
            "--db is empty (an unset variable in a script?): give the log file's path."
        )


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
    return Option("--limit", "-n", metavar="N", help=help_text, callback=check_limit)


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
        # The command's path below the root (``org add``) when the quick path runs it; under
        # Typer it is read off Click's context (:func:`_running_creates`).
        self.command: str | None = None

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
            if new and not (create if create is not None else self._creates()):
                raise NoLogError(missing_log_message(path, self.db))
            folder = _first_missing_folder(path) if new else None
            self._store = Store.open(path, ask=ask_passphrase, encrypt=encrypt)
            say_notices(self._store.notices)
            if new:
                self._new, self._new_folder = path, folder
        return self._store

    def _creates(self) -> bool:
        if self.command is not None:
            return self.command in CREATING
        return _running_creates()

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
            echo(f"Created a new log at {path}", err=True)
            return
        from fieldlog.db.logfile import remove_files

        self.close()  # Windows removes no file that is open (closing twice is harmless)
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
        echo(printable(line), err=True)


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


def late_db(state: State, value: str) -> None:
    """``--db PATH`` given after a command word: the log of this run, unless ``--db`` was
    given before the command too with another path (which one was meant? say so)."""
    _check_db_value(value)
    if state.db is not None and state.db != value:
        raise FieldlogError(
            f"--db is given twice ({state.db} and {value}): give it once, before or after "
            "the command."
        )
    state.db = value


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
    import typer

    if retry:
        echo("Wrong passphrase, try again.", err=True)
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
        echo(f"Created a new log at {path}", err=True)


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
        echo(short)


def _print_updated(row: dict[str, Any], noun: str, as_json: bool) -> None:
    if as_json:
        emit_json(row)
    else:
        echo(f"Updated {noun} {row['short_id']} (status: {row['status']}).")


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

    from fieldlog.db.remotes.factory import encrypted_file
    from fieldlog.db.remotes.types import REMOTE_PASSPHRASE_ENV

    if os.environ.get(REMOTE_PASSPHRASE_ENV) or not sys.stdin.isatty():
        return
    for label, url in targets:
        if encrypted_file(url):
            import typer

            os.environ[REMOTE_PASSPHRASE_ENV] = typer.prompt(
                f"Department passphrase for {label}", hide_input=True, err=True
            )
            return
