"""`fieldlog sync`: pull everyone's changes, push yours.

The rules live in :mod:`fieldlog.sync`; the remotes in :mod:`fieldlog.db.remotes`. This module
only parses, calls and prints. It is on the quick path (:mod:`fieldlog.cli.quick`): declared
without Typer (:mod:`fieldlog.cli.params`); Rich is imported only to draw a progress bar on a
terminal. ``app`` (``sync``) merges into the top level; ``fieldlog remote`` and ``fieldlog
conflicts`` are :mod:`fieldlog.cli.remotes`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from fieldlog.cli.common import (
    JsonOpt,
    State,
    ask_remote_passphrase,
    echo,
    emit_json,
    progress,
    state_of,
)
from fieldlog.cli.params import Argument, Commands, Option
from fieldlog.text import printable

if TYPE_CHECKING:
    import typer

app = Commands()


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
        Argument(
            help="A saved remote's name (fieldlog remote list), a path to a SQLite file "
            "(./dept.fieldlog, /media/share/dept.fieldlog: created on first sync) or a "
            "postgresql:// URL. Default: the settings file's remote, else every saved one.",
            metavar="[REMOTE]",
        ),
    ] = None,
    held: Annotated[
        bool,
        Option(
            "--held",
            help="List the pulled changes not applied (held until due or waiting for their "
            "record, quarantined with the reason) and problems found in a store's sequence, "
            "for every remote; syncs nothing.",
        ),
    ] = False,
    allow_plain_remote: Annotated[
        bool,
        Option(
            "--allow-plain-remote",
            help="Let an encrypted log sync into a plaintext remote file (refused otherwise).",
        ),
    ] = False,
    replay: Annotated[
        bool,
        Option(
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
            echo(
                f"{open_conflicts} conflict{'s' if open_conflicts != 1 else ''} to review: "
                "fieldlog conflicts",
                err=True,
            )
    if any(r.alarm for r in results):
        raise SystemExit(1)  # typer.Exit(1), without Typer


def _line(text: str) -> str:
    return printable(str(text), newlines=False)


def _report(r: Any) -> None:
    """One round's lines: the summary on stdout; what the officer must know on stderr."""
    from fieldlog.db.remotes.types import safe_url

    echo(safe_url(r.line()))
    if r.new_device_id:
        echo(
            "  This log is a copy of one that synced before (a restored backup or a cloned "
            "laptop): it now has a new device id, so nothing it writes is lost.",
            err=True,
        )
    for notice in r.notices:
        echo(f"  {_line(notice)}", err=True)
    for problem in r.seq_problems:
        echo(f"  Store sequence: {_line(problem)} (fieldlog sync --held)", err=True)
    if r.quarantined:
        echo(
            f"  {r.quarantined} pulled change{'s' if r.quarantined != 1 else ''} quarantined "
            "(not applied): fieldlog sync --held lists them with the reason.",
            err=True,
        )
    for problem in r.audit_problems:
        echo(f"  AUDIT PROBLEM: {_line(problem)}", err=True)
    if r.audit_problems:
        echo(
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
        echo("Nothing held or quarantined.")
        return
    for r in rows:
        echo(_line(_held_line(r)))


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
