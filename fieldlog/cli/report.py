"""`fieldlog report`.

The figures come from :func:`fieldlog.report.build`; this module only draws them (Rich
tables with bar charts, sized to the terminal) or writes them as CSV, Markdown or JSON.
Rich is imported inside the functions (the quick-entry path never loads it). With
``--remote NAME`` the same code runs on the department store's current state, read into a
throwaway log (:func:`fieldlog.remote_review.department_log`).
"""

from __future__ import annotations

import sys
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from fieldlog.cli.common import JsonOpt, emit_json
from fieldlog.cli.department import department_or_local
from fieldlog.cli.group import _typer

if TYPE_CHECKING:
    pass

app = _typer()

RemoteOpt = Annotated[
    str | None,
    typer.Option(
        "--remote",
        metavar="NAME",
        help="Report on the department store instead of this log: a saved remote's name or a "
        "postgresql:// URL (its current state, as your login may see it).",
    ),
]


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
    remote: RemoteOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """A period report: contacts, concerns, referrals, overdue follow-ups, per officer."""
    from fieldlog import report as rep

    with department_or_local(ctx, remote, quiet=as_json) as store:
        data = rep.build(store, since=since, until=until, by=by.value)
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
    from fieldlog import report as rep

    console = render.console
    console.print(Text("fieldlog report", style="bold"), Text(data["period"]["label"]))
    for line in phrase_lines(rep.totals_phrases(data["totals"]), console.width):
        console.print(Text(line, style="dim"))
    note = rep.spellings_note(data)
    if note:
        console.print(Text(note, style="dim"))
    for table in tables(data, console.width):
        console.print()
        console.print(table)


def phrase_lines(phrases: list[str], width: int, sep: str = ", ") -> list[str]:
    """``phrases`` joined by ``sep`` into lines of ``width`` at most, broken between phrases
    only ("44 follow-ups overdue" never split as "44" / "follow-ups overdue")."""
    lines: list[str] = []
    for p in phrases:
        if lines and len(lines[-1]) + len(sep) + len(p) <= width:
            lines[-1] += sep + p
        else:
            if lines:
                lines[-1] += sep.rstrip()
            lines.append(p)
    return lines


def tables(data: dict[str, Any], width: int) -> list[Any]:
    """The report's sections as Rich tables with bar charts (shared with the TUI's screen)."""
    from fieldlog import render
    from fieldlog import report as rep

    wide = width >= 100
    return [render.report_table(sec, wide=wide) for sec in rep.screen_sections(data, wide=wide)]
