"""`fieldlog import`: registered on the CLI app (see the end of fieldlog/cli.py)."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from fieldlog.cli import _store, app, emit_json

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
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Import records from CSV: checks every row first, writes all or nothing, never twice."""
    from pathlib import Path

    from fieldlog import importer

    store = _store(ctx)
    bar: dict[str, Any] = {}

    def progress(done: int, total: int) -> None:
        if total < 2 * PROGRESS_MIN_ROWS or not sys.stderr.isatty() or as_json:
            return
        if not bar:
            from rich.progress import Progress

            from fieldlog import render

            p = Progress(transient=True, console=render.err_console)
            p.start()
            bar["p"], bar["task"] = p, p.add_task("Importing", total=total)
        bar["p"].update(bar["task"], completed=done, total=total)

    try:
        result = importer.import_path(
            store, Path(file), dry_run=dry_run, skip_bad=skip_bad, progress=progress
        )
    finally:
        if bar:
            bar["p"].stop()
    if as_json:
        emit_json(result.as_dict())
        return
    if result.bad:
        typer.echo(f"Left out {len(result.bad)} bad rows:", err=True)
        for line in result.bad:
            typer.echo(f"  {line}", err=True)
    typer.echo(("dry run: " if dry_run else "") + result.summary())
