"""`fieldlog import`: the checking and writing are :mod:`fieldlog.importer`'s; this module
parses, shows progress on big files, and prints the outcome."""

from __future__ import annotations

from typing import Annotated

import typer

from fieldlog.cli.common import JsonOpt, Tick, emit_json, progress, store_of
from fieldlog.cli.group import _typer

app = _typer()

PROGRESS_MIN_BYTES = 1 << 20  # smaller files finish before a bar would be worth drawing


@app.command("import")
def import_(
    ctx: typer.Context,
    file: Annotated[
        str,
        typer.Argument(
            metavar="FILE|DIR",
            help="A CSV from 'fieldlog export', the folder or .zip of 'fieldlog export all', "
            "an officer sheet (date, name, neighborhood, summary, concern category, "
            "concern text, referral agency, referral reason), the folder or .zip of an "
            "Open Referral HSDS 3.0 dataset (partners), or a partner's referral sheet sent "
            "back (.xlsx or .csv of 'fieldlog referral sheet').",
        ),
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check every row and say what would be written.")
    ] = False,
    skip_bad: Annotated[
        bool, typer.Option("--skip-bad", help="Import the good rows and list the bad ones.")
    ] = False,
    zip_max: Annotated[
        str,
        typer.Option(
            "--zip-max",
            metavar="SIZE",
            help="The most a .zip may unzip to, all files together (e.g. 1GB, 500MB).",
        ),
    ] = "1GB",
    zip_ratio: Annotated[
        float,
        typer.Option(
            "--zip-ratio",
            metavar="N",
            min=1,
            help="The most a .zip may expand, unzipped bytes per zipped byte.",
        ),
    ] = 200,
    as_json: JsonOpt = False,
) -> None:
    """Import records from CSV: checks every row, writes all or nothing, never twice."""
    from pathlib import Path

    from fieldlog import importer
    from fieldlog.importer.unzip import ZipLimits, parse_size

    limits = ZipLimits(max_bytes=parse_size(zip_max), max_ratio=zip_ratio)
    store = store_of(ctx)
    with progress(quiet=as_json) as bars:
        ticks: list[Tick | None] = []  # the bar, made once the file's size is known

        def on_progress(done: int, total: int) -> None:
            if total < PROGRESS_MIN_BYTES:
                return
            if not ticks:
                ticks.append(bars.task("Importing", total))
            tick = ticks[0]
            if tick is not None:
                tick(done, total)

        result = importer.import_path(
            store,
            Path(file),
            dry_run=dry_run,
            skip_bad=skip_bad,
            progress=on_progress,
            limits=limits,
        )
    if as_json:
        emit_json(result.as_dict())
        return
    if result.bad:
        typer.echo(f"Left out {result.bad_count} bad rows:", err=True)
        for line in result.bad:
            typer.echo(f"  {line}", err=True)
        if result.bad_count > len(result.bad):
            typer.echo(f"  ... and {result.bad_count - len(result.bad)} more", err=True)
    for line in result.notices:  # e.g. an HSDS partner close to one in the log
        typer.echo(line, err=True)
    typer.echo(("dry run: " if dry_run else "") + result.summary())
