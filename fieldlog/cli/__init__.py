"""The command line: a thin Typer shell over :class:`fieldlog.db.store.Store`.

It parses, calls the store, and renders. One module per command group (``entry``,
``concerns``, ``referrals``, ``orgs``, ``audit``, ``crypto``, ``export``, ``imports``,
``report``, ``sync``, ``config``), each with its own Typer; :mod:`fieldlog.cli.common` holds
what they share (the exit point that turns every FieldlogError into one line, options, JSON,
progress), :mod:`fieldlog.cli.root` the root callback. This module assembles them: no group
module imports the root or this package back (tests/cli/test_layout.py).

``app`` is built on first use (PEP 562 ``__getattr__``) and :func:`main` builds only the
``add`` command for ``fieldlog add``: the quick-entry path imports the entry module and nothing
of the other groups (Typer also builds a Click command for every registered command on each
run, ~50 ms for the whole tree, which that path skips).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import typer

QUICK_COMMANDS = {"add"}
_GLOBAL_VALUE_OPTIONS = {"--db"}


def build_app() -> typer.Typer:
    """The whole CLI: the root with every group merged in, in ``fieldlog --help`` order.

    ``add_typer`` without a name merges a group's commands into the top level, at the place
    the group is added (CONVENTIONS 24); the named sub-groups come after all top-level commands.
    """
    from fieldlog.cli import (
        audit,
        concerns,
        config,
        crypto,
        dept,
        dept_enroll,
        dept_setup,
        entry,
        export,
        imports,
        orgs,
        partners,
        referrals,
        report,
        review,
        sync,
        undo,
    )
    from fieldlog.cli.common import _typer
    from fieldlog.cli.root import new_root

    app = new_root()
    for group in (
        entry.app,  # init demo add list show edit delete search followups
        undo.app,  # undo
        referrals.app,  # refer done
        partners.app,  # partners
        entry.tui_app,  # tui
        audit.app,  # verify history purge
        crypto.app,  # encrypt decrypt passphrase backup restore
        export.app,
        imports.app,
        report.app,
        sync.app,
    ):
        app.add_typer(group)
    app.add_typer(concerns.app, name="concern")
    app.add_typer(referrals.referral_app, name="referral")
    app.add_typer(orgs.app, name="org")
    app.add_typer(sync.remote_app, name="remote")
    app.add_typer(sync.conflicts_app, name="conflicts")
    app.add_typer(config.app, name="config")
    # ``dept``: the store's own commands first (the owner's URL, no local log needed), then
    # the laptops' (a group per module: neither imports the other).
    dept_app = _typer(
        "The department store and its laptops: setup, enroll, devices, trust, revoke, key, pin."
    )
    dept_app.command("setup")(dept_setup.setup_cmd)
    dept_app.command("enroll")(dept_enroll.enroll_cmd)
    dept_app.add_typer(dept.app)
    app.add_typer(dept_app, name="dept")
    app.add_typer(review.app, name="review")
    return app


def _full_app() -> typer.Typer:
    app: typer.Typer | None = globals().get("app")
    if app is None:
        app = build_app()
        globals()["app"] = app  # built once: later lookups find the attribute
    return app


def __getattr__(name: str) -> typer.Typer:
    """``fieldlog.cli.app``, built on first use."""
    if name == "app":
        return _full_app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _subcommand(argv: list[str]) -> str | None:
    """The command word in ``argv`` (after global options), if any."""
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg in _GLOBAL_VALUE_OPTIONS:
            skip = True
        elif not arg.startswith("-"):
            return arg
    return None


def quick_app(name: str) -> typer.Typer:
    """The same root with one command of the entry module (see the module's docstring)."""
    from fieldlog.cli import entry
    from fieldlog.cli.root import new_root

    quick = new_root()
    quick.registered_commands = [
        c
        for c in entry.app.registered_commands
        if (c.name or getattr(c.callback, "__name__", None)) == name
    ]
    return quick


def main() -> None:
    """Console-script entry point (``fieldlog.cli:main``)."""
    name = _subcommand(sys.argv[1:])
    target = quick_app(name) if name in QUICK_COMMANDS else _full_app()
    target(prog_name="fieldlog")
