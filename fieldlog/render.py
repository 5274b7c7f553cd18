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
from rich.console import Console
from rich.table import Table
from rich.text import Text

from fieldlog import dates

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
