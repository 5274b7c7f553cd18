"""`fieldlog import`: the checking and writing are :mod:`fieldlog.importer`'s; this module
parses, shows progress on big files, and prints the outcome."""

from __future__ import annotations

from typing import Annotated

import typer

from fieldlog.cli.common import JsonOpt, Tick, _typer, emit_json, progress, store_of

app = _typer()

PROGRESS_MIN_ROWS = 2000  # smaller files finish before a bar would be worth drawing


@app.command("import")
def import_(
    ctx: typer.Context,
    file: Annotated[
        str,
        typer.Argument(
            metavar="FILE",
            help="A CSV from 'fieldlog export', the folder or .zip of 'fieldlog export all', "
            "or an officer sheet (date, name, neighborhood, summary, concern category, "
            "concern text, referral agency, referral reason).",
        ),
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check every row and say what would be written.")
    ] = False,
    skip_bad: Annotated[
        bool, typer.Option("--skip-bad", help="Import the good rows and list the bad ones.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Import records from CSV: checks every row first, writes all or nothing, never twice."""
    from pathlib import Path

    from fieldlog import importer

    store = store_of(ctx)
    with progress(quiet=as_json) as bars:
        ticks: list[Tick | None] = []  # the bar, made once the file's size is known

        def on_progress(done: int, total: int) -> None:
            if total < 2 * PROGRESS_MIN_ROWS:
                return
            if not ticks:
                ticks.append(bars.task("Importing", total))
            tick = ticks[0]
            if tick is not None:
                tick(done, total)

        result = importer.import_path(
            store, Path(file), dry_run=dry_run, skip_bad=skip_bad, progress=on_progress
        )
    if as_json:
        emit_json(result.as_dict())
        return
    if result.bad:
        typer.echo(f"Left out {len(result.bad)} bad rows:", err=True)
        for line in result.bad:
            typer.echo(f"  {line}", err=True)
    typer.echo(("dry run: " if dry_run else "") + result.summary())
