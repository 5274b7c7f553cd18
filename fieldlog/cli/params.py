"""Typer's declarations without importing Typer: the quick path's lowest layer.

A command module on the quick path (:mod:`fieldlog.cli.entry`: ``add``, ``list``, ``show``,
``search``...) declares its commands and parameters exactly as a Typer module does, but with
:func:`Option`, :func:`Argument` and :class:`Commands` from here instead of ``typer.Option``,
``typer.Argument`` and ``typer.Typer``. Each is a record of the call, and nothing more:

- building the CLI (:mod:`fieldlog.cli`) turns a :class:`Commands` into a Typer group and each
  :class:`Param` into the ``typer.Option``/``typer.Argument`` it records
  (:func:`fieldlog.cli.coerce.resolve_annotations`), so Typer parses, checks and documents
  every command (``--help``, errors, completion) as before;
- :mod:`fieldlog.cli.quick` reads the same declarations to run a plain command line without
  importing Typer at all (Typer's import alone is 5x ``python -c pass``).

The options are declared once, here or in Typer's own words; nothing is parsed twice by hand.
Imports nothing of fieldlog and nothing outside the standard library.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

# The attribute of a command's function holding its type hints as declared, Params included
# (set as the full CLI turns them into Typer's: :func:`fieldlog.cli.coerce.resolve_annotations`).
DECLARED = "__fieldlog_declared__"


class Param:
    """``typer.Option(*decls, **options)`` or ``typer.Argument(...)``, recorded (``kind``)."""

    __slots__ = ("kind", "decls", "options")

    def __init__(self, kind: str, decls: tuple[Any, ...], options: dict[str, Any]) -> None:
        self.kind = kind
        self.decls = decls
        self.options = options

    def typer(self) -> Any:
        """The Typer parameter info this records (Typer is imported here, by the full CLI)."""
        import typer

        return getattr(typer, self.kind)(*self.decls, **self.options)

    def __repr__(self) -> str:
        return f"{self.kind}{self.decls!r}"


def Option(*decls: Any, **options: Any) -> Any:  # noqa: N802 - Typer's name, on purpose
    """``typer.Option``, recorded for :class:`Param`."""
    return Param("Option", decls, options)


def Argument(*decls: Any, **options: Any) -> Any:  # noqa: N802 - Typer's name, on purpose
    """``typer.Argument``, recorded for :class:`Param`."""
    return Param("Argument", decls, options)


class Declared:
    """One ``@commands.command(name, **settings)`` declaration."""

    __slots__ = ("name", "callback", "settings")

    def __init__(self, name: str | None, callback: Callable[..., Any], settings: dict[str, Any]):
        self.name = name
        self.callback = callback
        self.settings = settings

    def word(self) -> str:
        """The command's word, as Typer names it (``list_`` declared as ``list``)."""
        if self.name is not None:
            return self.name
        return self.callback.__name__.lower().replace("_", "-")


class Commands:
    """``typer.Typer`` for a merged group of the quick path: ``@app.command()`` records the
    command, and :meth:`fieldlog.cli.Group.typer` makes the Typer
    group, with fieldlog's settings, holding them all in declaration order
    (:func:`fieldlog.cli.group.typer_of`)."""

    def __init__(self) -> None:
        self.declared: list[Declared] = []

    def command(
        self, name: str | None = None, **settings: Any
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        def register(callback: Callable[..., Any]) -> Callable[..., Any]:
            self.declared.append(Declared(name, callback, settings))
            return callback

        return register

    def find(self, word: str) -> Declared | None:
        return next((d for d in self.declared if d.word() == word), None)


JsonOpt = Annotated[bool, Option("--json", help="Print JSON for scripts.")]
