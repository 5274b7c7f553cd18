"""`fieldlog sync`, `fieldlog remote ...` and `fieldlog conflicts ...`.

The rules live in :mod:`fieldlog.sync`; the remotes in :mod:`fieldlog.db.remotes`. This module
only parses, calls and prints. Rich is imported only to draw a progress bar on a terminal.
``app`` (``sync``) merges into the top level; the root adds ``remote_app`` and
``conflicts_app`` under their names.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from fieldlog.cli.common import (
    JsonOpt,
    State,
    _typer,
    ask_remote_passphrase,
    emit_json,
    progress,
    state_of,
    store_of,
)
from fieldlog.errors import ValidationError
from fieldlog.text import printable

app = _typer()
remote_app = _typer("The department stores this log syncs with: add, list, remove.")
conflicts_app = _typer(
    "Fields both sides changed since they last synced: list them, resolve them.",
    no_args_is_help=False,
    invoke_without_command=True,
)


def _targets(state: State, remote: str | None) -> list[tuple[str, str]]:
    """The remotes to sync with (:func:`fieldlog.sync.choose`): the one named, else the
    settings file's ``remote``, else every saved one. Decided before the log is opened, so a
    missing log is not created for a sync that has nowhere to go (a mistyped name)."""
    from fieldlog import config
    from fieldlog.sync import choose

    saved = state.store().sync.remotes() if state.exists() else {}
    default = config.get("remote") if remote is None else None
    return choose(saved, remote, default=default, default_from=str(config.config_path()))


@app.command("sync")
def sync_cmd(
    ctx: typer.Context,
    remote: Annotated[
        str | None,
        typer.Argument(
            help="A saved remote's name (fieldlog remote list), a path to a SQLite file "
            "(./dept.fieldlog, /media/share/dept.fieldlog: created on first sync) or a "
            "postgresql:// URL. Default: the settings file's remote, else every saved one.",
            metavar="[REMOTE]",
        ),
    ] = None,
    held: Annotated[
        bool,
        typer.Option(
            "--held",
            help="List the pulled changes not applied (held until due or waiting for their "
            "record, quarantined with the reason) and problems found in a store's sequence, "
            "for every remote; syncs nothing.",
        ),
    ] = False,
    allow_plain_remote: Annotated[
        bool,
        typer.Option(
            "--allow-plain-remote",
            help="Let an encrypted log sync into a plaintext remote file (refused otherwise).",
        ),
    ] = False,
    replay: Annotated[
        bool,
        typer.Option(
            "--replay",
            help="A new laptop's first sync replays every change of the store instead of "
            "loading its snapshot of current state (docs/sync.md, Bootstrap).",
        ),
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Sync with the department store: pull everyone's changes, push yours.

    Exits 1 after the round when the store contradicts this log's audit chain (it was
    truncated or rewritten since the store last saw it): see fieldlog verify."""
    from fieldlog import sync
    from fieldlog.db.remotes.types import safe_url

    if held:
        _held(ctx, as_json)
        return
    state = state_of(ctx)
    targets = _targets(state, remote)
    store = state.store()  # a new laptop's first sync makes its log (and says so)
    ask_remote_passphrase(targets)
    with progress(quiet=as_json, counts=True) as bars:
        results = sync.run(
            store,
            targets,
            progress=lambda label: bars.task(f"Syncing with {label}"),
            allow_plain_remote=allow_plain_remote,
            replay=replay,
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
                    "quarantined": r.quarantined,
                    "notices": r.notices,
                    "audit_problems": r.audit_problems,
                    "sequence_problems": r.seq_problems,
                    "bootstrapped": r.bootstrapped,
                }
                for r in results
            ]
        )
    else:
        for r in results:
            _report(r)
        open_conflicts = store.conflicts.count()
        if open_conflicts:
            typer.echo(
                f"{open_conflicts} conflict{'s' if open_conflicts != 1 else ''} to review: "
                "fieldlog conflicts",
                err=True,
            )
    if any(r.alarm for r in results):
        raise typer.Exit(1)


def _line(text: str) -> str:
    return printable(str(text), newlines=False)


def _report(r: Any) -> None:
    """One round's lines: the summary on stdout; what the officer must know on stderr."""
    from fieldlog.db.remotes.types import safe_url

    typer.echo(safe_url(r.line()))
    if r.new_device_id:
        typer.echo(
            "  This log is a copy of one that synced before (a restored backup or a cloned "
            "laptop): it now has a new device id, so nothing it writes is lost.",
            err=True,
        )
    for notice in r.notices:
        typer.echo(f"  {_line(notice)}", err=True)
    for problem in r.seq_problems:
        typer.echo(f"  Store sequence: {_line(problem)} (fieldlog sync --held)", err=True)
    if r.quarantined:
        typer.echo(
            f"  {r.quarantined} pulled change{'s' if r.quarantined != 1 else ''} quarantined "
            "(not applied): fieldlog sync --held lists them with the reason.",
            err=True,
        )
    for problem in r.audit_problems:
        typer.echo(f"  AUDIT PROBLEM: {_line(problem)}", err=True)
    if r.audit_problems:
        typer.echo(
            "  This log's audit chain does not match what the store saw of it: check it with "
            "fieldlog verify, and tell your supervisor.",
            err=True,
        )


def _held(ctx: typer.Context, as_json: bool) -> None:
    """``sync --held``: one line per held change, quarantined change and sequence problem."""
    state = state_of(ctx)
    rows = state.store().sync.held_list() if state.exists() else []  # no log: none made
    if as_json:
        emit_json(rows)
        return
    if not rows:
        typer.echo("Nothing held or quarantined.")
        return
    for r in rows:
        typer.echo(_line(_held_line(r)))


def _held_line(r: dict[str, Any]) -> str:
    from fieldlog import records

    seq = f"seq {r['seq']}" if r["seq"] is not None else "seq ?"
    if r["status"] == "anomaly":
        times = f", seen {r['times']} times" if r.get("times", 1) > 1 else ""
        return f"anomaly      store {str(r['store_id'])[:8]}  {seq}  {r['reason']}{times}"
    noun = records.NOUN.get(r["tbl"] or "", str(r["tbl"] or "?"))
    rid = str(r["row_id"] or "?")[:12]
    who = f"device {r['origin'] or '?'}"
    if r["officer"]:
        who += f" ({r['officer'][:40]})"
    if r["status"] == "held":
        when = f", due {r['due']}" if r["due"] else ", retried every sync"
        return f"held         {noun} {rid}  {who}  {seq}  {r['reason']}{when}"
    return f"quarantined  {noun} {rid}  {who}  {seq}  [{r['kind']}] {r['reason']}"


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
