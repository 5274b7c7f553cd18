"""`fieldlog remote ...` and `fieldlog conflicts ...`: the remotes a log syncs with, and the
fields both sides changed. ``fieldlog sync`` itself is :mod:`fieldlog.cli.sync` (the quick
path); the root adds ``remote_app`` and ``conflicts_app`` under their names.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from fieldlog.cli.common import JsonOpt, emit_json, store_of
from fieldlog.cli.group import _typer
from fieldlog.errors import ValidationError
from fieldlog.text import printable

remote_app = _typer("The department stores this log syncs with: add, list, remove.")
conflicts_app = _typer(
    "Fields both sides changed since they last synced: list them, resolve them.",
    no_args_is_help=False,
    invoke_without_command=True,
)


# ---------------------------------------------------------------------- remotes
@remote_app.command("add")
def remote_add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="A short name, e.g. dept.")],
    url: Annotated[str, typer.Argument(help="A path to a SQLite file, or a postgresql:// URL.")],
) -> None:
    """Save a remote under a name (the path or URL is checked on the next sync).

    Here a bare word is a file in this folder (``remote add dept dept.fieldlog``): saving is
    the deliberate act that may make a new file remote, on the first sync. The name must not
    look like a path (``sync NAME`` would read it as one)."""
    from pathlib import Path

    from fieldlog.db.remotes.types import safe_url, target_kind

    kind = target_kind(url)
    if kind == "url":
        raise ValidationError(
            "url",
            f"'{safe_url(url)}' is neither a file path nor a postgresql:// URL: give one of those.",
        )
    if target_kind(name) != "word":
        raise ValidationError(
            "name",
            f"'{name}' looks like a path, not a name: give a short name first, e.g. "
            f"fieldlog remote add dept {name}",
        )
    store = store_of(ctx)
    if kind != "postgres":
        path = Path(url.strip().removeprefix("sqlite://")).expanduser().absolute()
        url = str(path)
        where = "" if path.exists() else " (a new file, made on the first sync)"
        shown = f"{url}{where}"
    else:
        shown = safe_url(url.strip())
    store.sync.add_remote(name, url)
    key = name.strip().lower()
    typer.echo(f"Added remote {key}: {shown}. Sync with  fieldlog sync {key}")


@remote_app.command("list")
def remote_list(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """The saved remotes (passwords hidden)."""
    from fieldlog.db.remotes.types import safe_url

    remotes = store_of(ctx).sync.remotes()
    if as_json:
        emit_json([{"name": n, "url": safe_url(u)} for n, u in remotes.items()])
        return
    if not remotes:
        typer.echo("No remotes yet: fieldlog remote add dept PATH-or-URL")
        return
    width = max(len(n) for n in remotes)
    for name, url in remotes.items():
        typer.echo(f"{name:<{width}}  {safe_url(url)}")


@remote_app.command("remove")
def remote_remove(
    ctx: typer.Context, name: Annotated[str, typer.Argument(help="The remote's name.")]
) -> None:
    """Forget a remote (nothing is deleted on it)."""
    store_of(ctx).sync.remove_remote(name)
    typer.echo(f"Removed remote {name.strip().lower()}.")


# ---------------------------------------------------------------------- conflicts
def _show(value: Any) -> str:
    if value is None:
        return "(empty)"
    text = str(value)
    return text if len(text) <= 60 else text[:59] + "…"


@conflicts_app.callback()
def conflicts_list(
    ctx: typer.Context,
    all_: Annotated[bool, typer.Option("--all", help="Resolved ones too.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Fields both sides changed since they last synced, with both values."""
    if ctx.invoked_subcommand is not None:
        return
    store = store_of(ctx)
    rows = store.conflicts.list(all_=all_)
    for r in rows:
        r["short_id"] = (
            store.records.short_id(r["tbl"], r["row_id"]) if _exists(store, r) else r["row_id"][:10]
        )
    if as_json:
        emit_json(rows)
        return
    if not rows:
        typer.echo("No conflicts to review.")
        return
    for r in rows:
        what = "delete vs edit" if r["field"] == "deleted" else r["field"]
        noun = r["tbl"].rstrip("s")
        status = f"  [{r['resolution']}]" if r.get("resolved_at") else ""
        typer.echo(printable(f"#{r['id']}  {noun} {r['short_id']}  {what}{status}"))
        if r["field"] == "deleted":
            mine = "deleted it" if r["mine"] else "edited it"
            theirs = f"{r['theirs_officer']} " + ("deleted it" if r["theirs"] else "edited it")
            typer.echo(printable(f"    mine:   {mine}"))
            typer.echo(printable(f"    theirs: {theirs}   (kept: {r['kept']})"))
        else:
            typer.echo(
                f"    mine:   {_show(r['mine'])}" + ("   (kept)" if r["kept"] == "mine" else "")
            )
            typer.echo(
                f"    theirs: {_show(r['theirs'])}  ({r['theirs_officer']})"
                + ("   (kept)" if r["kept"] == "theirs" else "")
            )
    if not all_:
        typer.echo("Resolve: fieldlog conflicts resolve N --keep mine|theirs|VALUE")


def _exists(store: Any, r: dict[str, Any]) -> bool:
    return bool(store.scalar(f"SELECT 1 FROM {r['tbl']} WHERE id = ?", [r["row_id"]]))


@conflicts_app.command("resolve")
def conflicts_resolve(
    ctx: typer.Context,
    cid: Annotated[str, typer.Argument(metavar="ID", help="The conflict's number (#N).")],
    keep: Annotated[
        str,
        typer.Option(
            "--keep", help="mine, theirs, or a new value for the field.", show_default=False
        ),
    ],
    as_json: JsonOpt = False,
) -> None:
    """Settle a conflict: keep your value, theirs, or type a new one."""
    try:
        number = int(cid.lstrip("#"))
    except ValueError:
        raise ValidationError(
            "id", f"'{cid}' is not a conflict number: fieldlog conflicts lists them (#N)."
        ) from None
    c = store_of(ctx).conflicts.resolve(number, keep)
    if as_json:
        emit_json({"id": number, "kept": keep})
        return
    what = keep if keep in ("mine", "theirs") else "the new value"
    typer.echo(printable(f"Conflict #{number} ({c['field']}) resolved: kept {what}."))
