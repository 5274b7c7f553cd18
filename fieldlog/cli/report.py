"""`fieldlog report`.

The figures come from :func:`fieldlog.report.build`; this module only draws them (Rich
tables with bar charts, sized to the terminal) or writes them as CSV, Markdown or JSON.
Rich is imported inside the functions (the quick-entry path never loads it).
"""

from __future__ import annotations

import sys
from enum import StrEnum
from typing import Annotated, Any

import typer

from fieldlog.cli.common import JsonOpt, _typer, emit_json, store_of

app = _typer()


class By(StrEnum):
    hood = "hood"
    officer = "officer"
    category = "category"


class Format(StrEnum):
    table = "table"
    csv = "csv"
    md = "md"


@app.command()
def report(
    ctx: typer.Context,
    since: Annotated[
        str | None,
        typer.Option("--since", help="From WHEN (default: the last 7 days, today included)."),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option("--until", help="Up to WHEN (default: today; a day includes that whole day)."),
    ] = None,
    by: Annotated[By, typer.Option("--by", help="Main grouping of the summary table.")] = By.hood,
    fmt: Annotated[
        Format,
        typer.Option("--format", help="table (the terminal), csv or md (for e-mail)."),
    ] = Format.table,
    as_json: JsonOpt = False,
) -> None:
    """A period report: contacts, concerns, referrals, overdue follow-ups, per officer."""
    from fieldlog import report as rep

    data = rep.build(store_of(ctx), since=since, until=until, by=by.value)
    if as_json:
        emit_json(data)
    elif fmt is Format.csv:
        sys.stdout.write(rep.to_csv(data))
    elif fmt is Format.md:
        sys.stdout.write(rep.to_markdown(data))
    else:
        print_report(data)


def print_report(data: dict[str, Any]) -> None:
    from rich.text import Text

    from fieldlog import render

    console = render.console
    console.print(Text("fieldlog report", style="bold"), Text(data["period"]["label"]))
    t = data["totals"]
    console.print(
        Text(
            f"{t['contacts']} contacts, {t['concerns_opened']} concerns "
            f"({t['concerns_still_open']} still open), {t['concerns_resolved']} resolved, "
            f"{t['referrals']} referrals, {t['followups_overdue']} follow-ups overdue",
            style="dim",
        )
    )
    for table in tables(data, console.width):
        console.print()
        console.print(table)


def tables(data: dict[str, Any], width: int) -> list[Any]:
    """The report's sections as Rich tables with bar charts (shared with the TUI's screen)."""
    from fieldlog import render
    from fieldlog import report as rep

    return [
        render.report_table(sec, wide=width >= 100)
        for sec in rep.sections(data)
        if sec.key != "contacts"  # the neighborhood and kind tables say it at a glance
    ]
