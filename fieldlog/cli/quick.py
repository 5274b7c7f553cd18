"""The quick path: a plain command line of a quick command, run without importing Typer.

``import typer`` alone costs 5x ``python -c pass`` (it imports its Click, its coercion and its
completion), more than ``fieldlog add`` does with the log. :func:`run` takes a command line
that names a command declared with :mod:`fieldlog.cli.params` (``add``, ``list``, ``show``,
``search``...), reads that command's own declarations (the same ``Option``/``Argument``
records Typer builds the command from: nothing is declared twice) and, when every word of the
line is one this reader is sure of, runs the command's function itself, with what Typer's
root callback and exit point (:class:`fieldlog.cli.group.FieldlogGroup`) do around it.

Anything else is not its business and goes to Typer, untouched (:func:`run` returns None
before it has done anything): ``--help`` and ``-h``, ``--``, a word it does not know, a short
option bundle, a missing or extra argument, a number it would read differently, an option
value starting with ``-``, a parameter kind it does not read (a choice, a path, a range), a
Tab in the shell. Typer then parses the same line and says what is wrong in its own words.
tests/cli/test_quick.py checks that every line this reader takes gives the function exactly
what Typer gives it (by hand-picked lines and by generated ones).
"""

from __future__ import annotations

import re
import sys
import types
from typing import Any, NamedTuple

from fieldlog.cli.params import DECLARED, Commands, Declared, Param

_PLAIN_INT = re.compile(r"[+-]?[0-9]+")
_DB = "--db"
# What a parameter may say and still be read here: its help and looks, and a callback of
# the value alone (``--limit``'s range check). Anything else (envvar, min/max, a parser,
# eagerness, prompts) is Typer's to honour.
_PLAIN_SETTINGS = frozenset(
    {"help", "metavar", "autocompletion", "show_default", "rich_help_panel", "hidden", "callback"}
)


class _Context:
    """What a command's function asks of its ``typer.Context``: the run's root and its
    :class:`fieldlog.cli.common.State` (``ctx.find_root().obj``)."""

    __slots__ = ("obj", "info_name", "parent")

    def __init__(self, obj: Any, info_name: str) -> None:
        self.obj = obj
        self.info_name = info_name
        self.parent = None

    def find_root(self) -> _Context:
        return self


# ``typer.Context`` in a declaration, read here without Typer.
_NO_TYPER = types.SimpleNamespace(Context=_Context)


class Spec(NamedTuple):
    """One parameter of a command's function, as this reader takes it."""

    name: str
    role: str  # "ctx", "argument" or "option"
    kind: str  # "str", "int", "bool" (a flag) or "strs" (a repeated option); "" for ctx
    names: tuple[str, ...]  # an option's words (``--tag``, ``-n``)
    off: tuple[str, ...]  # a flag's words that turn it off (``--no-x``)
    default: Any
    required: bool
    callback: Any


def run(argv: list[str]) -> int | None:
    """Run ``fieldlog ARGV`` here and return its exit code, or None when Typer must."""
    planned = plan(argv)
    if planned is None:
        return None
    return invoke(planned)


class Plan(NamedTuple):
    """A line the quick path runs: the command, its parameters, ``--db`` before and after
    its word, and the function's values."""

    declared: Declared
    specs: list[Spec]
    db: str | None
    late: str | None
    values: dict[str, Any]


def plan(argv: list[str]) -> Plan | None:
    """What ``argv`` runs: the command, the ``--db`` before and after its word and the
    function's values; None when Typer must parse it (nothing has been done then)."""
    db, rest = _root_db(argv)
    if not rest or rest[0].startswith("-"):
        return None
    declared = _declared(rest[0])
    if declared is None:
        return None
    specs = specs_of(declared)
    if specs is None:
        return None
    parsed = parse(specs, rest[1:])
    if parsed is None:
        return None
    late, values = parsed
    return Plan(declared, specs, db, late, values)


def _root_db(argv: list[str]) -> tuple[str | None, list[str]]:
    """``--db PATH`` (or ``--db=PATH``) before the command word, and the words from it on."""
    if argv[:1] == [_DB] and len(argv) >= 2:
        return argv[1], argv[2:]
    if argv and argv[0].startswith(_DB + "="):
        return argv[0][len(_DB) + 1 :], argv[1:]
    return None, argv


def _declared(word: str) -> Declared | None:
    """The command ``word`` names, when its group declares it with :class:`Commands`."""
    import importlib

    from fieldlog.cli import GROUPS

    for group in GROUPS:
        if group.name is None and word in group.commands:
            made = getattr(importlib.import_module(group.module), group.attr)
            return made.find(word) if isinstance(made, Commands) else None
    return None


def specs_of(declared: Declared) -> list[Spec] | None:
    """The parameters of ``declared``'s function, or None when one is not for this reader."""
    import typing

    fn = declared.callback
    hints = getattr(fn, DECLARED, None)
    if hints is None:
        try:
            hints = typing.get_type_hints(fn, {**fn.__globals__, "typer": _NO_TYPER},
                                          include_extras=True)  # fmt: skip
        except Exception:
            return None
    code = fn.__code__
    names = code.co_varnames[: code.co_argcount]
    defaults = fn.__defaults__ or ()
    first_default = len(names) - len(defaults)
    specs = []
    for index, name in enumerate(names):
        required = index < first_default
        default = None if required else defaults[index - first_default]
        spec = _spec(name, hints.get(name), default, required)
        if spec is None:
            return None
        specs.append(spec)
    return specs


def _spec(name: str, hint: Any, default: Any, required: bool) -> Spec | None:
    import typing

    if hint is _Context or _is_typer_context(hint):
        return Spec(name, "ctx", "", (), (), None, False, None)
    if typing.get_origin(hint) is not typing.Annotated:
        return None
    base, *extras = typing.get_args(hint)
    params = [e for e in extras if isinstance(e, Param)]
    if len(params) != 1 or set(params[0].options) - _PLAIN_SETTINGS:
        return None
    param = params[0]
    kind = _kind(base)
    callback = param.options.get("callback")
    if kind is None or (callback is not None and callback.__code__.co_argcount != 1):
        return None
    if param.kind == "Argument":
        if kind not in ("str", "int") or param.decls:
            return None
        return Spec(name, "argument", kind, (), (), default, required, callback)
    if required or not param.decls or not all(isinstance(d, str) for d in param.decls):
        return None
    on: list[str] = []
    off: list[str] = []
    for decl in param.decls:
        first, _, second = decl.partition("/")
        on.append(first.strip())
        if second:
            off.append(second.strip())
    if off and kind != "bool":
        return None
    if kind == "bool" and default is not False and not off:
        return None  # a flag that is on by default and cannot be turned off: Typer's
    if kind == "strs" and default is not None:
        return None
    return Spec(name, "option", kind, tuple(on), tuple(off), default, False, callback)


def _is_typer_context(hint: Any) -> bool:
    """``typer.Context`` itself (the hints the full CLI resolved with Typer loaded)."""
    typer = sys.modules.get("typer")
    return typer is not None and hint is typer.Context


def _kind(base: Any) -> str | None:
    """``str``, ``int``, ``bool`` or ``list[str]``, each maybe ``| None``; else None."""
    import typing

    args = typing.get_args(base)
    if isinstance(base, types.UnionType) or typing.get_origin(base) is typing.Union:
        rest = [a for a in args if a is not type(None)]
        if len(rest) != 1:
            return None
        base = rest[0]
    if base is str:
        return "str"
    if base is bool:
        return "bool"
    if base is int:
        return "int"
    if typing.get_origin(base) is list and typing.get_args(base) == (str,):
        return "strs"
    return None


def parse(specs: list[Spec], words: list[str]) -> tuple[str | None, dict[str, Any]] | None:
    """The late ``--db`` and the function's values from the words after the command, read
    as Click reads them; None at the first word this reader is not sure of."""
    by_word = {w: s for s in specs if s.role == "option" for w in s.names + s.off}
    if _DB in by_word:
        return None
    given: dict[str, Any] = {}
    positional: list[str] = []
    late: str | None = None
    i = 0
    while i < len(words):
        word = words[i]
        i += 1
        if word == "-" or not word.startswith("-"):
            positional.append(word)
            continue
        name, eq, value = word.partition("=") if word.startswith("--") else (word, "", "")
        spec = by_word.get(name)
        if name != _DB and spec is None:
            return None  # --help, --, a bundle of short flags, an unknown word: Typer's
        if spec is not None and spec.kind == "bool":
            if eq:
                return None
            given[spec.name] = name not in spec.off
            continue
        if not eq:
            if i >= len(words) or (words[i].startswith("-") and words[i] != "-"):
                return None
            value = words[i]
            i += 1
        if spec is None:
            late = value
        elif spec.kind == "strs":
            given.setdefault(spec.name, []).append(value)
        else:
            given[spec.name] = value
    arguments = [s for s in specs if s.role == "argument"]
    if len(positional) > len(arguments):
        return None
    values: dict[str, Any] = {}
    for spec in specs:
        if spec.role == "argument":
            if not positional:
                if spec.required:
                    return None
                values[spec.name] = spec.default
                continue
            values[spec.name] = positional.pop(0)
        elif spec.role == "option":
            values[spec.name] = given.get(spec.name, spec.default)
        if spec.kind == "int" and isinstance(values.get(spec.name), str):
            text = values[spec.name]
            if not _PLAIN_INT.fullmatch(text):
                return None
            values[spec.name] = int(text)
    return late, values


def invoke(planned: Plan) -> int:
    """Run the command as the Typer CLI does: the root callback (settings, ``--db``, the
    run's State), the parameters' callbacks, the function, and the exit point around them
    (one line for every FieldlogError, the new log's fate settled, the log closed)."""
    from fieldlog import settings
    from fieldlog.cli.common import State, _check_db_value, echo, late_db
    from fieldlog.errors import FieldlogError
    from fieldlog.text import printable

    declared, db, late = planned.declared, planned.db, planned.late
    state: State | None = None
    ok = False
    code = 0
    try:
        settings.check()
        loaded = sys.modules.get("fieldlog.config")
        if loaded is not None:
            loaded.clear_cache()  # a run reads the settings file afresh (tests run many)
        if db is not None:
            _check_db_value(db)
        state = State(db)
        state.command = declared.word()
        if late is not None:
            late_db(state, late)
        kwargs = dict(planned.values)
        for spec in planned.specs:
            if spec.role == "ctx":
                kwargs[spec.name] = _Context(state, declared.word())
            elif spec.callback is not None:
                kwargs[spec.name] = spec.callback(kwargs[spec.name])
        declared.callback(**kwargs)
        ok = True
    except FieldlogError as exc:
        echo(printable(f"Error: {exc}"), err=True)
        code = exc.exit_code
    except UnicodeEncodeError:  # argv bytes that are not UTF-8 (any write rolled back)
        echo(
            "Error: Some text you gave is not UTF-8 (a terminal set to another encoding?): "
            "set the terminal to UTF-8 and type it again.",
            err=True,
        )
        code = 1
    except (KeyboardInterrupt, EOFError):
        echo(err=True)
        echo("Aborted!", err=True)
        code = 1
    except Exception as exc:
        handled = _click_exit(exc)
        if handled is None:
            raise
        code = handled
        ok = code == 0
    finally:
        if state is not None:
            state.close()
            state.settle(ok)
    return code


def _click_exit(exc: BaseException) -> int | None:
    """The exit code of Click's own exceptions (a prompt's ``abort=True``, ``typer.Exit``),
    shown as Click shows them; None for any other exception. Only a command that imported
    Typer can raise them, so Typer is looked up, never imported, here."""
    typer = sys.modules.get("typer")
    if typer is None:
        return None
    if isinstance(exc, typer.Exit):
        return int(exc.exit_code)
    if isinstance(exc, typer.Abort):
        from fieldlog.cli.common import echo

        echo("Aborted!", err=True)
        return 1
    from typer._click.exceptions import ClickException

    if isinstance(exc, ClickException):
        exc.show()
        return int(exc.exit_code)
    return None
