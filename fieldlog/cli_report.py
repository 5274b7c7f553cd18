"""`fieldlog report`: registered on the CLI app (see the end of fieldlog/cli.py).

The figures come from :func:`fieldlog.report.build`; this module only draws them (Rich
tables with bar charts, sized to the terminal) or writes them as CSV, Markdown or JSON.
Rich is imported inside the functions (the quick-entry path never loads it).
"""

from __future__ import annotations

import sys
from enum import StrEnum
from typing import Annotated, Any

import typer

from fieldlog.cli import JsonOpt, _store, app, emit_json


class By(StrEnum):
    hood = "hood"
    officer = "officer"
    category = "category"


class Format(StrEnum):
    table = "table"
    csv = "csv"
    md = "md"


# Two-line headings keep the summary and its chart inside 80 columns.
SHORT = {
    "concerns_opened": "Concerns\nopened",
    "concerns_resolved": "\nResolved",
    "concerns_still_open": "Still\nopen",
    "referrals": "Refer-\nrals",
    "followups_overdue": "Overdue\nf-ups",
    "contacts": "\nContacts",
    "still_open": "Still\nopen",
}


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

    data = rep.build(_store(ctx), since=since, until=until, by=by.value)
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
    """Rich tables with a bar column (``█`` scaled to the section's largest count, as wide
    as the terminal leaves)."""
    from rich import box
    from rich.bar import Bar
    from rich.table import Table
    from rich.text import Text

    from fieldlog import report as rep

    out = []
    name_max = 18 if width >= 100 else 14
    for sec in rep.sections(data):
        if sec.key == "contacts":
            continue  # the neighborhood and kind tables say it at a glance
        columns = [(k, SHORT.get(k, h)) for k, h in sec.columns]
        if width < 100 and sec.key == "concerns":
            columns = columns[:4]  # the status split is in --json, csv and md
        if width < 100 and sec.key == "referrals":
            keep = ("service", "count", "status_accepted", "status_completed")
            columns = [c for c in columns if c[0] in keep]
        table = Table(
            title=Text(sec.title, style="bold"),
            title_justify="left",
            box=box.SIMPLE_HEAD,
            show_edge=False,
            pad_edge=False,
            expand=True,
        )
        for i, (_key, heading) in enumerate(columns):
            if i == 0:
                table.add_column(heading, no_wrap=True, overflow="ellipsis", max_width=name_max)
            else:
                table.add_column(heading, justify="right", no_wrap=True)
        table.add_column("", ratio=1, min_width=6)
        if not sec.rows:
            table.add_row(Text("nothing in this period", style="dim"))
            out.append(table)
            continue
        top = max(int(r.get(sec.bar) or 0) for r in sec.rows) or 1
        for row in sec.rows:
            cells: list[Any] = [Text(str(row.get(k, ""))) for k, _ in columns]
            cells.append(Bar(top, 0, int(row.get(sec.bar) or 0), color="cyan"))
            table.add_row(*cells)
        out.append(table)
    return out
