"""The command line: a thin Typer shell over :class:`fieldlog.db.store.Store`.

It parses, calls the store, and renders. One module per command group (``entry``,
``concerns``, ``referrals``, ``orgs``, ``audit``, ``crypto``, ``export``, ``imports``,
``report``, ``sync``, ``config``), each with its own Typer; :mod:`fieldlog.cli.common` holds
what they share (the exit point that turns every FieldlogError into one line, options, JSON,
progress), :mod:`fieldlog.cli.root` the root callback. This module assembles them from
:data:`GROUPS`: no group module imports the root or this package back
(tests/cli/test_layout.py).

The quick path (docs/architecture.md): ``app`` (the whole CLI) is built on first use (PEP 562
``__getattr__``), and :func:`main` builds only what the command word needs: the root plus
the one command (``add``, ``search``, ``sync``...) or the one named group (``concern``,
``dept``...) it names, importing only that group's module. Typer converts every registered
command to Click on each run and its imports cost; the whole tree is built only for
``fieldlog``, ``fieldlog --help``, a Tab in the shell and a word no group claims (whose error
then suggests the nearest command as before).
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    import typer

_GLOBAL_VALUE_OPTIONS = {"--db"}


class Group(NamedTuple):
    """One command group of the CLI, in ``fieldlog --help`` order (:data:`GROUPS`).

    ``module``'s ``attr`` is a Typer (or a function of no arguments making one). With a
    ``name`` it is a sub-group (``fieldlog concern add``); without, its commands merge into
    the top level (``add_typer`` without a name, CONVENTIONS 24) and ``commands`` lists their
    words, so that :func:`main` knows which module to import for ``fieldlog WORD`` without
    importing them all (tests/cli/test_import_hygiene.py checks the list against the module).
    """

    module: str
    attr: str = "app"
    name: str | None = None
    commands: tuple[str, ...] = ()

    def typer(self) -> typer.Typer:
        from fieldlog.cli.params import Commands

        made = getattr(importlib.import_module(self.module), self.attr)
        if isinstance(made, Commands):  # declared without Typer (the quick path's modules)
            from fieldlog.cli.group import typer_of

            return typer_of(made)
        return made if hasattr(made, "registered_commands") else made()

    def words(self) -> tuple[str, ...]:
        """The top-level words this group brings: its name, or its merged commands."""
        return (self.name,) if self.name is not None else self.commands


# The CLI, in ``fieldlog --help`` order: top-level commands first (each merged group's at
# its place), then the named sub-groups. A new group is one line here.
GROUPS: tuple[Group, ...] = (
    Group(
        "fieldlog.cli.entry",
        commands=("init", "demo", "add", "list", "show", "edit", "delete", "search", "followups"),
    ),
    Group("fieldlog.cli.undo", commands=("undo",)),
    Group("fieldlog.cli.referrals", commands=("refer", "done")),
    Group("fieldlog.cli.partners", commands=("partners",)),
    Group("fieldlog.cli.entry", "tui_app", commands=("tui",)),
    Group("fieldlog.cli.audit", commands=("verify", "history", "purge")),
    Group(
        "fieldlog.cli.crypto",
        commands=("encrypt", "decrypt", "passphrase", "backup", "restore"),
    ),
    Group("fieldlog.cli.export", commands=("export",)),
    Group("fieldlog.cli.imports", commands=("import",)),
    Group("fieldlog.cli.report", commands=("report",)),
    Group("fieldlog.cli.sync", commands=("sync",)),
    Group("fieldlog.cli.concerns", name="concern"),
    Group("fieldlog.cli.referrals", "referral_app", name="referral"),
    Group("fieldlog.cli.orgs", name="org"),
    Group("fieldlog.cli.remotes", "remote_app", name="remote"),
    Group("fieldlog.cli.remotes", "conflicts_app", name="conflicts"),
    Group("fieldlog.cli.config", name="config"),
    Group("fieldlog.cli", "dept_app", name="dept"),
    Group("fieldlog.cli.review", name="review"),
    Group("fieldlog.cli", "problem_app", name="problem"),
)


def dept_app() -> typer.Typer:
    """``dept``: the store's own commands first (the owner's URL, no local log needed), then
    the laptops' (a group per module: neither imports the other)."""
    from fieldlog.cli import dept, dept_enroll, dept_setup
    from fieldlog.cli.group import _typer

    group = _typer(
        "The department store and its laptops: setup, enroll, devices, trust, revoke, key, pin."
    )
    group.command("setup")(dept_setup.setup_cmd)
    group.command("enroll")(dept_enroll.enroll_cmd)
    group.add_typer(dept.app)
    return group


def problem_app() -> typer.Typer:
    """``problem``: the record's commands (:mod:`fieldlog.cli.problems`), then the scanning
    and assessment reports (``suggest``, ``assess``: :mod:`fieldlog.cli.problem_reports`,
    which registers them), one module each: neither imports the other."""
    from fieldlog.cli import problem_reports, problems
    from fieldlog.cli.group import _typer

    group = _typer(problems.HELP)
    group.registered_commands = list(problems.app.registered_commands)  # in --help order
    problem_reports.register(group)
    return group


def _add(root: typer.Typer, group: Group, only: str | None = None) -> None:
    """Register ``group`` on ``root`` (of a merged group, with ``only``: that command alone)."""
    sub = group.typer()
    if group.name is not None:
        root.add_typer(sub, name=group.name)
        return
    if only is None:
        root.add_typer(sub)
        return
    from typer.main import get_command_name

    for info in sub.registered_commands:
        if (info.name or get_command_name(info.callback.__name__)) == only:  # type: ignore[union-attr]
            root.registered_commands.append(info)


def build_app() -> typer.Typer:
    """The whole CLI: the root with every group of :data:`GROUPS`, in ``fieldlog --help``
    order (the named sub-groups after all top-level commands, as Typer lists them)."""
    from fieldlog.cli.coerce import resolve_annotations
    from fieldlog.cli.root import new_root

    app = new_root()
    for group in GROUPS:
        _add(app, group)
    return resolve_annotations(app)


def app_for(word: str) -> typer.Typer | None:
    """The root with only what ``fieldlog WORD ...`` runs (the quick path), or None when no
    group of :data:`GROUPS` claims ``word``."""
    from fieldlog.cli.coerce import resolve_annotations
    from fieldlog.cli.root import new_root

    for group in GROUPS:
        if word in group.words():
            quick = new_root()
            _add(quick, group, only=None if group.name is not None else word)
            return resolve_annotations(quick)
    return None


def _full_app() -> typer.Typer:
    app: typer.Typer | None = globals().get("app")
    if app is None:
        app = build_app()
        globals()["app"] = app  # built once: later lookups find the attribute
    return app


def __getattr__(name: str) -> Any:
    """``fieldlog.cli.app``, built on first use."""
    if name == "app":
        return _full_app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _subcommand(argv: list[str]) -> str | None:
    """The command word in ``argv`` when only ``--db PATH`` comes before it, else None (then
    the whole CLI runs: ``fieldlog -h add`` shows the root's help, with every command)."""
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg in _GLOBAL_VALUE_OPTIONS:
            skip = True
        elif arg.split("=", 1)[0] in _GLOBAL_VALUE_OPTIONS:
            continue  # --db=PATH
        elif arg.startswith("-"):
            return None
        else:
            return arg
    return None


def main() -> None:
    """Console-script entry point (``fieldlog.cli:main``): a plain line of a quick command
    without Typer (:mod:`fieldlog.cli.quick`), else the quick Typer path for a command word,
    and the whole CLI for help, completion (a Tab may be anywhere in the tree) and the rest."""
    argv = sys.argv[1:]
    completing = bool(os.environ.get("_FIELDLOG_COMPLETE"))
    if not completing:
        from fieldlog.cli.quick import run

        try:
            code = run(argv)
            if code is not None:
                sys.stdout.flush()
        except BrokenPipeError:  # ``fieldlog list | head -1``: the reader left; as Click does
            _quiet_stdout()
            sys.exit(1)
        if code is not None:
            sys.exit(code)
    word = _subcommand(argv)
    target = None
    if word is not None and not completing:
        target = app_for(word)
    (target or _full_app())(prog_name="fieldlog")


def _quiet_stdout() -> None:
    """Point stdout at the null device, so that Python's flush at exit finds no closed pipe
    (and prints no "Exception ignored" line)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass
