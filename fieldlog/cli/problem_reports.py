"""``fieldlog problem suggest`` (scanning help) and ``fieldlog problem assess`` (assessment):
the two problem commands that read the log as a whole. The figures are
:mod:`fieldlog.problems`'; ``register`` adds the commands to the ``problem`` group."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from fieldlog.cli.common import JsonOpt, emit_json, store_of

FORMATS = ("table", "md", "csv")


def register(app: typer.Typer) -> None:
    """Add ``suggest`` and ``assess`` to the ``problem`` group ``app``."""
    app.command("suggest")(suggest_cmd)
    app.command("assess")(assess_cmd)


def suggest_cmd(
    ctx: typer.Context,
    hood: Annotated[
        str | None, typer.Option("--hood", help="Only concerns raised in this neighborhood.")
    ] = None,
    since: Annotated[
        str,
        typer.Option(
            "--since",
            metavar="AGE",
            help="Only concerns of contacts since AGE (90d, 6mo, 26w, or a date).",
        ),
    ] = "90d",
    start: Annotated[
        int | None,
        typer.Option(
            "--start",
            metavar="N",
            help="Start a problem from cluster N (as listed) without asking.",
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Scanning help: clusters of two or more open concerns not yet in a problem, alike by
    category and neighborhood or location, or by their words. On a terminal, one key starts
    a problem from a cluster (its concerns and their contacts linked)."""
    from fieldlog import problems

    store = store_of(ctx)
    found = problems.suggest(store, since=since, hood=hood)
    if start is not None:
        if not 1 <= start <= len(found):
            from fieldlog.errors import ValidationError

            raise ValidationError(
                "start",
                f"There is no cluster {start}: fieldlog problem suggest lists "
                f"{len(found)} (1 to {len(found)})."
                if found
                else "There are no clusters to start a problem from.",
            )
        _start(store, problems, found[start - 1], as_json)
        return
    if as_json:
        emit_json([c.as_dict() for c in found])
        return
    if not found:
        typer.echo(
            f"No open concerns since {since} look alike (two or more, not yet in a problem)."
        )
        return
    _print_clusters(found)
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        typer.echo("Start one with: fieldlog problem suggest --start N", err=True)
        return
    keys = "1" if len(found) == 1 else f"1-{min(len(found), 9)}"
    typer.echo(f"Start a problem from a cluster? [{keys}, any other key: no] ", nl=False)
    key = typer.getchar()
    typer.echo(key if key.isprintable() else "")
    if key.isdigit() and 1 <= int(key) <= min(len(found), 9):
        _start(store, problems, found[int(key) - 1], as_json=False)


def _start(store: Any, problems: Any, cluster: Any, as_json: bool) -> None:
    pid = problems.start_from(store, cluster)
    short = store.records.short_id("problems", pid)
    if as_json:
        emit_json({"id": pid, "short_id": short, "title": cluster.title})
    else:
        n = len(cluster.concerns)
        typer.echo(f"Started problem {short} '{cluster.title}' with {n} concerns.")


SHOWN = 5  # concerns listed under each cluster


def _print_clusters(found: list[Any]) -> None:
    from rich.text import Text

    from fieldlog import render

    console = render.console
    for i, c in enumerate(found, 1):
        console.print()
        head = Text(f"{i}. ", style="bold")
        head.append(render.safe(c.title), style="bold")
        head.append(f"  {len(c.concerns)} concerns; {', '.join(c.reasons)}", style="dim")
        console.print(head)
        render.table(
            c.concerns[:SHOWN],
            [
                ("short_id", "ID"),
                ("category", "Category"),
                ("neighborhood", "Hood"),
                ("location", "Location"),
                ("description", "Description"),
            ],
            wrap=("description",),
            total=len(c.concerns),
        )


def assess_cmd(
    ctx: typer.Context,
    problem: Annotated[str, typer.Argument(metavar="PROBLEM", help="Its id or title.")],
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            metavar="FORMAT",
            help="table (a table and a chart), md (Markdown for the monthly meeting) or csv.",
        ),
    ] = "table",
    as_json: JsonOpt = False,
) -> None:
    """Assess a problem: concerns of its category in its neighborhood (or location) per 30
    days before its response started and since, contacts and referrals linked, referral
    outcomes, partners involved."""
    from fieldlog import models, problems

    fmt = models.choice("format", fmt, FORMATS)
    data = problems.assess(store_of(ctx), problem)
    if as_json:
        emit_json(data)
    elif fmt == "md":
        sys.stdout.write(problems.assess_markdown(data))
    elif fmt == "csv":
        import csv

        from fieldlog.report import safe_cell

        w = csv.writer(sys.stdout, lineterminator="\r\n")
        w.writerow(problems.ASSESS_CSV_COLUMNS)
        for row in problems.assess_csv_rows(data):
            w.writerow([safe_cell(v) if isinstance(v, str) else v for v in row])
    else:
        _print_assessment(data)


def _print_assessment(data: dict[str, Any]) -> None:
    from rich.text import Text

    from fieldlog import dates, render
    from fieldlog.report import Section
    from fieldlog.text import plural

    console = render.console
    p = data["problem"]
    where = data["place"].get("neighborhood") or data["place"].get("location")
    what = (p.get("category") or "all").replace("_", " ")
    console.print(Text("Assessment: ", style="bold") + Text(render.safe(p["title"])))
    console.print(
        Text(
            f"{p['phase']}; {what} concerns in {render.safe(where or '(no place)')}; response "
            + (
                f"started {dates.show_local(p['response_started_at'])}"
                if p["response_started_at"]
                else "not started (all periods are before it)"
            ),
            style="dim",
        )
    )
    rows = [
        {
            "period": dates.show_local(w["start"])[:10],
            "days": round(w["days"]),
            "side": w["side"],
            "concerns": w["concerns"],
        }
        for w in data["windows"]
    ]
    sec = Section(
        "assess",
        "Concerns per 30 days",
        [("period", "From"), ("days", "Days"), ("side", "Side"), ("concerns", "Concerns")],
        rows,
        "concerns",
        ["concerns"],
    )
    console.print(render.report_table(sec, wide=True))

    def rate(v: float | None) -> str:
        return "-" if v is None else f"{v:g}"

    change = data["change_percent"]
    console.print(
        f"Per 30 days: before {rate(data['concerns_per_30d_before'])}, since "
        f"{rate(data['concerns_per_30d_since'])}"
        + (f" ({change:+.1f}%)" if change is not None else "")
    )
    linked = ", ".join(
        plural(data[f"{t}_linked"], t[:-1]) for t in ("contacts", "concerns", "referrals")
    )
    console.print(f"Linked: {linked}")
    outcomes = ", ".join(f"{n} {s}" for s, n in data["referral_outcomes"].items() if n)
    console.print(f"Referral outcomes: {outcomes or 'none'}")
    console.print("Partners involved: " + render.safe(", ".join(data["partners"]) or "none"))
