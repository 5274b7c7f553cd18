"""`fieldlog sync`, `fieldlog remote ...` and `fieldlog conflicts ...`.

The rules live in :mod:`fieldlog.sync`; the remotes in :mod:`fieldlog.db.remotes`. This module
only parses, calls and prints. Rich is imported only to draw a progress bar on a terminal.
``app`` (``sync``) merges into the top level; the root adds ``remote_app`` and
``conflicts_app`` under their names.
"""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from fieldlog.cli.common import JsonOpt, _typer, emit_json, progress, store_of
from fieldlog.errors import FieldlogError, ValidationError

app = _typer()
remote_app = _typer("The department stores this log syncs with: add, list, remove.")
conflicts_app = _typer(
    "Fields both sides changed since they last synced: list them, resolve them.",
    no_args_is_help=False,
    invoke_without_command=True,
)


class NoRemoteError(FieldlogError):
    pass


def _targets(store: Any, remote: str | None) -> list[tuple[str, str]]:
    configured = store.sync.remotes()
    if remote is None:
        if not configured:
            raise NoRemoteError(
                "No remote is set up: give one (fieldlog sync /media/share/department.fieldlog) "
                "or save it once (fieldlog remote add dept PATH-or-URL)."
            )
        return list(configured.items())
    if remote.lower() in configured:
        return [(remote.lower(), configured[remote.lower()])]
    return [(remote, remote)]


@app.command("sync")
def sync_cmd(
    ctx: typer.Context,
    remote: Annotated[
        str | None,
        typer.Argument(
            help="A remote's name (fieldlog remote list), a path to a SQLite file (created on "
            "first sync) or a postgresql:// URL. Default: every saved remote.",
            metavar="[REMOTE]",
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Sync with the department store: pull everyone's changes, push yours."""
    from fieldlog import sync
    from fieldlog.db.remotes.types import safe_url

    store = store_of(ctx)
    targets = _targets(store, remote)
    _ask_remote_passphrase(targets)
    with progress(quiet=as_json, counts=True) as bars:
        results = sync.run(
            store, targets, progress=lambda label: bars.task(f"Syncing with {label}")
        )
    if as_json:
        emit_json(
            [
                {
                    "remote": safe_url(r.remote),
                    "pushed": r.pushed,
                    "pulled": r.pulled,
                    "conflicts": r.conflicts,
                    "held": r.held,
                    "new_device_id": r.new_device_id,
                }
                for r in results
            ]
        )
        return
    for r in results:
        typer.echo(safe_url(r.line()))
        if r.new_device_id:
            typer.echo(
                "  This log is a copy of one that synced before (a restored backup or a cloned "
                "laptop): it now has a new device id, so nothing it writes is lost.",
                err=True,
            )
    open_conflicts = store.conflicts.count()
    if open_conflicts:
        typer.echo(
            f"{open_conflicts} conflict{'s' if open_conflicts != 1 else ''} to review: "
            "fieldlog conflicts",
            err=True,
        )


def _ask_remote_passphrase(targets: list[tuple[str, str]]) -> None:
    """An encrypted remote file and no $FIELDLOG_REMOTE_PASSPHRASE: ask on a terminal (once,
    for this run only); in a script the remote says what to set."""
    import os
    from pathlib import Path

    from fieldlog.db.remotes.sqlite import looks_encrypted
    from fieldlog.db.remotes.types import REMOTE_PASSPHRASE_ENV, is_postgres

    if os.environ.get(REMOTE_PASSPHRASE_ENV) or not sys.stdin.isatty():
        return
    for label, url in targets:
        if not is_postgres(url) and looks_encrypted(Path(url.removeprefix("sqlite://"))):
            os.environ[REMOTE_PASSPHRASE_ENV] = typer.prompt(
                f"Department passphrase for {label}", hide_input=True, err=True
            )
            return


# ---------------------------------------------------------------------- remotes
@remote_app.command("add")
def remote_add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="A short name, e.g. dept.")],
    url: Annotated[str, typer.Argument(help="A path to a SQLite file, or a postgresql:// URL.")],
) -> None:
    """Save a remote under a name (the path or URL is checked on the next sync)."""
    from fieldlog.db.remotes.types import is_postgres

    store = store_of(ctx)
    if not is_postgres(url):
        if "://" in url and not url.startswith("sqlite://"):
            raise ValidationError(
                "url",
                f"'{url}' is neither a file path nor a postgresql:// URL: give one of those.",
            )
        from pathlib import Path

        url = str(Path(url.removeprefix("sqlite://")).expanduser().absolute())
    store.sync.add_remote(name, url)
    typer.echo(f"Added remote {name.strip().lower()}: fieldlog sync {name.strip().lower()}")


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
        typer.echo(f"#{r['id']}  {noun} {r['short_id']}  {what}{status}")
        if r["field"] == "deleted":
            mine = "deleted it" if r["mine"] else "edited it"
            theirs = f"{r['theirs_officer']} " + ("deleted it" if r["theirs"] else "edited it")
            typer.echo(f"    mine:   {mine}")
            typer.echo(f"    theirs: {theirs}   (kept: {r['kept']})")
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
    typer.echo(f"Conflict #{number} ({c['field']}) resolved: kept {what}.")
