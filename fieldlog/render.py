"""Human output for the CLI: Rich tables sized to the terminal.

Only reading commands import this (Rich costs ~25 ms, and ``fieldlog add`` needs none of it).
User text always goes in as ``Text`` objects, never as markup: a summary containing ``[`` must
print as typed.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

from rich import box
from rich.bar import Bar
from rich.console import Console
from rich.table import Table
from rich.text import Text

from fieldlog import dates
from fieldlog.report import Section

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)

HIT_START, HIT_END = "\x02", "\x03"
WRAP = {"summary", "description", "reason", "detail", "subject", "snippet"}
FIXED = {"short_id", "due", "follow_up_on", "status", "concern_count", "referral_count"}


def _t(value: Any, style: str = "") -> Text:
    if value is None:
        return Text("")
    if isinstance(value, bool):
        return Text("yes" if value else "", style=style)
    if isinstance(value, list):
        return Text(", ".join(str(v) for v in value), style=style)
    return Text(str(value), style=style)


def table(
    rows: Sequence[dict[str, Any]],
    columns: Sequence[tuple[str, str]],
    *,
    title: str | None = None,
    empty: str = "Nothing to show.",
    styles: dict[str, str] | None = None,
    narrow: Sequence[str] = (),
) -> None:
    """``columns``: (key, heading) pairs; keys ending in ``_at`` show as local time.

    On a terminal narrower than 100 columns the keys in ``narrow`` are left out, so the
    text columns keep room to be read.
    """
    if console.width < 100:
        columns = [c for c in columns if c[0] not in narrow]
    if not rows:
        console.print(Text(empty, style="dim"))
        return
    styles = styles or {}
    t = Table(title=title, box=box.SIMPLE_HEAD, expand=True, show_edge=False, pad_edge=False)
    for key, heading in columns:
        wrap = key in WRAP
        t.add_column(
            heading,
            overflow="fold" if wrap else "ellipsis",
            no_wrap=not wrap,
            ratio=1 if wrap else None,
            min_width=16 if wrap else None,
            max_width=None if wrap or key in FIXED or key.endswith("_at") else 14,
            style=styles.get(key, ""),
        )
    for row in rows:
        cells = []
        for key, _ in columns:
            value = row.get(key)
            if key.endswith("_at") and isinstance(value, str):
                value = dates.show_local(value)
            cells.append(_t(value))
        t.add_row(*cells, style="bold red" if row.get("overdue") else None)
    console.print(t)


def highlighted(snippet: str) -> Text:
    """A search snippet with its matches (between the FTS markers) in reverse video."""
    out = Text()
    rest = snippet or ""
    while HIT_START in rest:
        before, _, rest = rest.partition(HIT_START)
        hit, _, rest = rest.partition(HIT_END)
        out.append(before)
        out.append(hit, style="bold reverse")
    out.append(rest)
    return out


def search_results(rows: Sequence[dict[str, Any]]) -> None:
    if not rows:
        console.print(Text("No matches.", style="dim"))
        return
    t = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    t.add_column("ID", no_wrap=True)
    t.add_column("Type", no_wrap=True)
    t.add_column("Title", overflow="ellipsis", max_width=30)
    t.add_column("Match", overflow="fold", ratio=1)
    for r in rows:
        t.add_row(_t(r["short_id"]), _t(r["type"]), _t(r.get("title")), highlighted(r["snippet"]))
    console.print(t)


def record(title: str, fields: Sequence[tuple[str, Any]]) -> None:
    t = Table(box=None, show_header=False, pad_edge=False, title=title, title_justify="left")
    t.add_column(style="bold", no_wrap=True)
    t.add_column(overflow="fold")
    for label, value in fields:
        if value in (None, "", []):
            continue
        t.add_row(label, _t(value))
    console.print(t)


def is_terminal() -> bool:
    return sys.stderr.isatty()


# Two-line headings keep each table and its chart inside 80 columns.
REPORT_HEADINGS = {
    "contacts": "\nContacts",
    "concerns_opened": "Concerns\nopened",
    "concerns_resolved": "\nResolved",
    "concerns_still_open": "Still\nopen",
    "still_open": "Still\nopen",
    "referrals": "Refer-\nrals",
    "followups_overdue": "Overdue\nf-ups",
}
REPORT_NARROW_KEEP = {
    "concerns": ("category", "opened", "resolved", "still_open"),
    "referrals": ("service", "count", "status_accepted", "status_completed"),
}


def report_table(sec: Section, *, wide: bool) -> Table:
    """One report section as a table with a bar column (█ scaled to the section's top
    count): the same in the terminal (``fieldlog report``) and the TUI's Report screen.
    Narrower than 100 columns (``wide=False``) some columns and charts are left out."""
    columns = [(k, REPORT_HEADINGS.get(k, h)) for k, h in sec.columns]
    if not wide and sec.key in REPORT_NARROW_KEEP:
        columns = [c for c in columns if c[0] in REPORT_NARROW_KEEP[sec.key]]
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
            table.add_column(heading, no_wrap=True, overflow="ellipsis", max_width=16)
        else:
            table.add_column(heading, justify="right", no_wrap=True)
    # The wide summary tables leave no room for a chart under 100 columns: the sections
    # below chart the same counts.
    chart = wide or not sec.key.startswith("by_")
    if chart:
        table.add_column("", ratio=1, min_width=6)
    if not sec.rows:
        table.add_row(Text("nothing in this period", style="dim"))
        return table
    top = max(int(r.get(sec.bar) or 0) for r in sec.rows) or 1
    for row in sec.rows:
        cells: list[Any] = [Text(str(row.get(k, ""))) for k, _ in columns]  # data, not markup
        if chart:
            cells.append(Bar(top, 0, int(row.get(sec.bar) or 0), color="cyan"))
        table.add_row(*cells)
    return table
