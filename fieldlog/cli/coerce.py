"""Parameter coercion without pydantic for every fieldlog command (the CLI's quick path,
docs/architecture.md). Imported by :mod:`fieldlog.cli.group`; of fieldlog it imports only
:mod:`fieldlog.cli.params`."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import typer
from typer.core import TyperCommand

from fieldlog.cli.params import DECLARED

if TYPE_CHECKING:
    from typer._click import Context as ClickContext  # Typer >= 0.26 vendors its own Click


# ---------------------------------------------------------------------- coercion
# Typer (0.29) coerces every parameter of the command being run, given or not, through a
# pydantic TypeAdapter it builds on first use (``typer._coercion.build_runtime_param``): 20
# adapters and all of pydantic (with its plugin entry-point scan) for one ``fieldlog add``,
# about half of its run. :func:`_light_coercion` gives each parameter a :class:`_Light`
# coercion instead: the values fieldlog's options take (a missing value, a string, strings of
# a repeated option, a plain whole number, a flag) come out exactly as Typer's adapter makes
# them, and any other value (an Enum or a path option, ``--limit 1_000``, a bad number) goes
# to Typer's own adapter, built then, so that its result and error message stay Typer's.
# tests/cli/test_quick_path.py checks the two agree on every parameter of the CLI (a Typer
# upgrade that changes either side fails there, or in test_import_hygiene.py).
_PLAIN_INT = re.compile(r"[+-]?[0-9]+")
_LIGHT_KINDS: dict[Any, str] = {str: "str", int: "int", bool: "bool", list[str]: "strs"}


def _light_kind(param: Any) -> str | None:
    """Which light coercion ``param`` takes, or None (then Typer's stays)."""
    descriptor = getattr(param, "type_descriptor", None)
    if descriptor is None or getattr(param, "_runtime_param", "") is not None:
        return None  # not a Typer parameter (or a Typer without lazy coercion), or done
    info = descriptor.parameter_info
    if descriptor.file_annotation is not None or info.parser is not None:
        return None
    if info.min is not None or info.max is not None or getattr(info, "clamp", False):
        return None
    try:
        return _LIGHT_KINDS.get(descriptor.annotation)
    except TypeError:  # an unhashable annotation
        return None


class FieldlogCommand(TyperCommand):
    """Every fieldlog command (:class:`FieldlogTyper` makes them): Typer's, with the light
    coercion of its parameters (help option included) as it parses."""

    def parse_args(self, ctx: ClickContext, args: list[str]) -> list[str]:
        _light_coercion(self.get_params(ctx))
        return super().parse_args(ctx, args)


class FieldlogTyper(typer.Typer):
    """A Typer whose commands are :class:`FieldlogCommand` unless one asks for another."""

    def command(self, name: str | None = None, *, cls: Any = None, **kw: Any) -> Any:
        return super().command(name, cls=cls or FieldlogCommand, **kw)


def resolve_annotations(app: typer.Typer) -> typer.Typer:
    """Evaluate once the string annotations (``from __future__ import annotations``) of the
    callbacks of ``app`` and its sub-groups, so that Typer finds objects, and turn the
    parameters declared without Typer (:mod:`fieldlog.cli.params`) into Typer's.

    Typer reads each callback's parameters twice per build (``inspect.signature(eval_str=
    True)`` and ``get_type_hints``), and each read compiles and evaluates every annotation
    string again: ~10 ms for the root and ``add``, four times the work of doing it once.
    The objects are what the strings evaluate to (``include_extras`` keeps ``Annotated``),
    as in any module without the future import, with ``typer`` known (a module of the quick
    path imports it for type checkers only). The declarations as written stay on the
    callback (:data:`DECLARED`) for the quick path. A callback whose hints cannot be
    evaluated here (a name known only to type checkers) is left for Typer, which says so as
    before."""
    import typing

    callbacks = [info.callback for info in app.registered_commands]
    callbacks.append(app.registered_callback.callback if app.registered_callback else None)
    for callback in callbacks:
        annotations = getattr(callback, "__annotations__", None)
        if callback is None or not annotations or hasattr(callback, DECLARED):
            continue
        try:
            declared = typing.get_type_hints(callback, {**callback.__globals__, "typer": typer},
                                             include_extras=True)  # fmt: skip
        except Exception:  # Typer evaluates it again and reports it
            continue
        setattr(callback, DECLARED, declared)
        annotations.update({name: _typer_param(hint) for name, hint in declared.items()})
    for group in app.registered_groups:
        if group.typer_instance is not None:
            resolve_annotations(group.typer_instance)
    return app


def _typer_param(hint: Any) -> Any:
    """``hint`` with a :class:`fieldlog.cli.params.Param` in its ``Annotated`` metadata
    replaced by the Typer parameter it records."""
    from typing import Annotated, get_args, get_origin

    from fieldlog.cli.params import Param

    if get_origin(hint) is not Annotated:
        return hint
    base, *extras = get_args(hint)
    if not any(isinstance(extra, Param) for extra in extras):
        return hint
    typed = [extra.typer() if isinstance(extra, Param) else extra for extra in extras]
    return Annotated[(base, *typed)]


def _light_coercion(params: list[Any]) -> None:
    """Give each of ``params`` (of a command or group about to parse: only the parameters a
    run meets) a :class:`_Light` coercion where one fits."""
    for param in params:
        kind = _light_kind(param)
        if kind is not None:
            param._runtime_param = _Light(param.type_descriptor, kind)


class _Light:
    """A parameter's coercion without pydantic (see the comment above): Typer's
    ``RuntimeParam.coerce`` contract (None is None, or ``()`` for a repeated option)."""

    __slots__ = ("_descriptor", "_kind")

    def __init__(self, descriptor: Any, kind: str) -> None:
        self._descriptor = descriptor
        self._kind = kind

    def coerce(self, value: Any, param: Any, ctx: Any) -> Any:
        multi = param.multiple or param.nargs == -1
        if value is None:
            return () if multi else None
        kind = self._kind
        if kind == "str" and type(value) is str and not multi:
            return value
        if kind == "strs" and multi and isinstance(value, (list, tuple)):
            if all(type(v) is str for v in value):
                return list(value)
        elif kind == "int" and not multi:
            if type(value) is int:
                return value
            if type(value) is str and _PLAIN_INT.fullmatch(value):
                return int(value)
        elif kind == "bool" and type(value) is bool and not multi:
            return value
        return self._typer(param).coerce(value, param=param, ctx=ctx)

    def _typer(self, param: Any) -> Any:
        """Typer's own coercion of ``param`` (its pydantic adapter), built on first use."""
        from typer._coercion import build_runtime_param

        runtime = build_runtime_param(self._descriptor)
        param._runtime_param = runtime  # later values of this parameter go straight to it
        return runtime
