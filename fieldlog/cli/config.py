"""``fieldlog config get|set|unset|list|path``: the settings file (:mod:`fieldlog.config`).

Like ``git config`` and jrnl's config: defaults a person sets once for every log (the
neighborhood, their name, the remote, the follow-up days, the TUI's lock and theme). None of
these commands opens a log; ``set`` only looks at the current log (a plain one that exists) to
say when the log's own value comes first, so a setting never seems to be ignored.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from fieldlog.cli.common import JsonOpt, emit_json, state_of
from fieldlog.cli.group import _typer

app = _typer("Your settings: default neighborhood, officer, remote, follow-up days, theme.")

KeyArg = Annotated[
    str, typer.Argument(metavar="KEY", help="officer, hood, remote, follow_up_days, ...")
]


def _shown(value: Any) -> str:
    return "(not set)" if value is None else str(value)


def _print_all(as_json: bool) -> None:
    from fieldlog import config

    values = config.values()
    if as_json:
        emit_json({name: values.get(name) for name in config.KEYS})
        return
    width = max(len(n) for n in config.KEYS)
    shown = {name: _shown(values.get(name)) for name in config.KEYS}
    vwidth = min(max(len(v) for v in shown.values()), 24)
    for name, k in config.KEYS.items():
        typer.echo(f"{name:<{width}}  {shown[name]:<{vwidth}}  {k.help}")
    typer.echo(f"File: {config.config_path()} (what beats each setting: docs/config.md)")
    for name in config.unknown():
        typer.echo(f"Warning: {name!r} in the file is not a setting: remove it.", err=True)


@app.command("get")
def config_get(
    key: Annotated[
        str | None,
        typer.Argument(metavar="[KEY]", help="A setting's name; without it, every setting."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Print a setting (exit 1 when it is not set), or every setting."""
    from fieldlog import config

    if key is None:
        _print_all(as_json)
        return
    k = config.key(key)
    value = config.get(k.name)
    if as_json:
        emit_json({k.name: value})
    elif value is not None:
        typer.echo(value)
    if value is None:
        if not as_json:
            typer.echo(f"{k.name} is not set: fieldlog config set {k.name} VALUE", err=True)
        raise typer.Exit(1)


@app.command("list")
def config_list(as_json: JsonOpt = False) -> None:
    """Every setting, its value and what it does (the same as  fieldlog config get)."""
    _print_all(as_json)


# ``config set lock_minutes -1`` is a value to refuse with the range, not an unknown option.
@app.command("set", context_settings={"ignore_unknown_options": True})
def config_set(
    ctx: typer.Context,
    key: KeyArg,
    value: Annotated[str, typer.Argument(metavar="VALUE", help="The new value.")],
) -> None:
    """Set a setting for every log of yours (written to the settings file)."""
    from fieldlog import config

    k = config.key(key)
    if k.name == "theme":
        _check_theme(value)
    if k.name == "remote":
        _check_remote(value)
    path = config.set_value(k.name, value)
    typer.echo(f"Set {k.name} = {config.get(k.name)} in {path}")
    _note_log_value(ctx, k.name)


@app.command("unset")
def config_unset(ctx: typer.Context, key: KeyArg) -> None:
    """Remove a setting from the settings file (its default applies again)."""
    from fieldlog import config

    k = config.key(key)
    path = config.set_value(k.name, None)
    typer.echo(f"Unset {k.name} in {path}")


@app.command("path")
def config_path() -> None:
    """Print where the settings file is (it may not exist yet: set a value to create it)."""
    from fieldlog import config

    typer.echo(config.config_path())


def _check_theme(value: str) -> None:
    """A theme the TUI has (Textual's names), so a typo is refused here rather than ignored
    when the TUI starts. Imports Textual's theme list, only for this command."""
    from fieldlog.errors import SettingError
    from fieldlog.tui.app import theme_names

    names = theme_names()
    if value.strip() not in names:
        import difflib

        close = difflib.get_close_matches(value.strip(), names, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise SettingError(
            f"There is no theme {value.strip()!r}{hint}: use one of {', '.join(names)}"
        )


def _check_remote(value: str) -> None:
    """A remote is a saved name, a path or a postgresql:// URL: refuse other URLs now."""
    from fieldlog.db.remotes.types import safe_url, target_kind
    from fieldlog.errors import SettingError

    if target_kind(value) == "url":
        raise SettingError(
            f"'{safe_url(value.strip())}' is neither a remote's name, a file path nor a "
            "postgresql:// URL: give one of those."
        )


def _note_log_value(ctx: typer.Context, name: str) -> None:
    """When the current log has its own value for ``name`` (it comes first), say so: else the
    officer would wonder why ``add`` still uses the old neighborhood. Only a plain log that
    exists is looked at (never created, never a passphrase prompt for a settings change)."""
    if name not in ("hood", "officer"):
        return
    state = state_of(ctx)
    from fieldlog.db.connect import log_kind

    try:
        if log_kind(state.path()) != "plain":
            return
        meta = state.store(create=False).meta()
    except Exception:  # noqa: BLE001 - a note only: a log that cannot be read says nothing
        return
    own = meta.get("default_hood" if name == "hood" else "officer")
    if own:
        what = "neighborhood" if name == "hood" else "officer"
        officer = meta.get("officer")
        fix = f"--officer '{officer}' --hood NAME" if name == "hood" else "--officer NAME"
        typer.echo(
            f"Note: the log {state.path()} has its own {what} ({own}), which comes first: "
            f"change it with  fieldlog init {fix}",
            err=True,
        )
