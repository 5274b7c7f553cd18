"""Human output for the CLI: Rich tables sized to the terminal.

Only reading commands import this (Rich costs ~25 ms, and ``fieldlog add`` needs none of it).
User text always goes in as ``Text`` objects, never as markup: a summary containing ``[`` must
print as typed. And stored text is never trusted to be printable: a summary that came in by
import or sync may hold ``ESC ] 0 ;`` (a window title) or ``ESC [ 2 J`` (clear screen), so every
piece of it goes through :func:`fieldlog.text.printable` here, shown as a visible ``\x1b``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from typing import Any

from rich import box
from rich.bar import Bar
from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from fieldlog import dates
from fieldlog.report import Section
from fieldlog.text import printable

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)

HIT_START, HIT_END = "\x02", "\x03"
WRAP = {
    "summary", "description", "reason", "detail", "subject", "snippet", "resolution", "outcome",
    "review_comment",
}  # fmt: skip
FIXED = {"short_id", "due", "follow_up_on", "status", "concern_count", "referral_count"}
# A list shows at most this many lines of each wrapped cell (the rest is "…"), so that 20
# contacts fit a screen; ``show`` passes ``lines=None`` and keeps the whole text.
LIST_LINES = 2
ELLIPSIS = "\u2026"


def safe(value: Any, *, newlines: bool = False) -> str:
    """Stored text as it may reach a terminal: control characters shown as escapes
    (newlines kept only when ``newlines``, for notes shown on their own lines)."""
    return printable(str(value), newlines=newlines)


def _t(value: Any, style: str = "", *, newlines: bool = False) -> Text:
    if value is None:
        return Text("")
    if isinstance(value, Text):  # built here from safe() pieces
        return value
    if isinstance(value, bool):
        return Text("yes" if value else "", style=style)
    if isinstance(value, list):
        return Text(", ".join(safe(v) for v in value), style=style)
    return Text(safe(value, newlines=newlines), style=style)


class Clamp:
    """A cell's text wrapped to its column and cut to ``lines`` lines, the last one ending
    in "…" when something was left out. Rich columns wrap but have no line limit: this
    renderable measures as its text does (so the table lays out as before) and cuts when
    drawn, at the width the table gave it."""

    def __init__(self, text: Text, lines: int) -> None:
        self.text = text
        self.lines = lines

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement.get(console, options, self.text)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = max(1, options.max_width)
        wrapped = self.text.wrap(console, width, overflow="fold")
        if len(wrapped) > self.lines:
            kept = list(wrapped)[: self.lines]
            last = kept[-1]
            last.rstrip()
            if last.cell_len + 1 > width:
                last.truncate(width - 1)
                last.rstrip()
            last.append(ELLIPSIS)
            wrapped = kept  # type: ignore[assignment]
        out = Text("\n").join(wrapped)
        out.no_wrap = True
        out.overflow = "crop"
        yield out


def table(
    rows: Sequence[dict[str, Any]],
    columns: Sequence[tuple[str, str]],
    *,
    title: str | None = None,
    empty: str = "Nothing to show.",
    styles: dict[str, str] | None = None,
    narrow: Sequence[str] = (),
    lines: int | None = LIST_LINES,
    total: int | None = None,
    wrap: Sequence[str] = (),
    right: Sequence[str] = (),
    sections: str | None = None,
) -> None:
    """``columns``: (key, heading) pairs; keys ending in ``_at`` show as local time.
    ``wrap``: more keys that wrap like the text columns (a partner's name in a list);
    ``right``: keys whose figures align right; ``sections``: a key whose value changing
    between two rows draws a rule between them (problems by phase).

    On a terminal narrower than 100 columns the keys in ``narrow`` are left out, so the
    text columns keep room to be read. Text columns (``WRAP``) wrap to at most ``lines``
    lines (None: all of it). ``total``: how many rows matched, when ``rows`` is a first page
    of them; the table then ends with "Showing 100 of 700: --limit N for more".
    """
    if console.width < 100:
        columns = [c for c in columns if c[0] not in narrow]
    if not rows:
        console.print(Text(empty, style="dim"))
        return
    styles = styles or {}
    t = Table(
        title=Text(safe(title)) if title is not None else None,
        box=box.SIMPLE_HEAD,
        expand=True,
        show_edge=False,
        pad_edge=False,
    )
    wrapped = WRAP | set(wrap)
    for key, heading in columns:
        wrap_it = key in wrapped
        t.add_column(
            heading,
            overflow="fold" if wrap_it else "ellipsis",
            no_wrap=not wrap_it,
            ratio=1 if wrap_it else None,
            min_width=16 if wrap_it else None,
            max_width=None if wrap_it or key in FIXED or key.endswith("_at") else 14,
            style=styles.get(key, ""),
            justify="right" if key in right else "left",
        )
    for i, row in enumerate(rows):
        cells: list[Any] = []
        for key, _ in columns:
            value = row.get(key)
            if key.endswith("_at") and isinstance(value, str):
                value = dates.show_local(value)
            cell = _t(value)
            cells.append(Clamp(cell, lines) if lines and key in wrapped else cell)
        ends = (
            sections is not None
            and i + 1 < len(rows)
            and rows[i + 1].get(sections) != row.get(sections)
        )
        t.add_row(*cells, style="bold red" if row.get("overdue") else None, end_section=ends)
    console.print(t)
    more(len(rows), total)


def more(shown: int, total: int | None) -> None:
    """ "Showing 100 of 700: --limit N for more" under a list that was cut."""
    if total is not None and total > shown:
        console.print(Text(f"Showing {shown} of {total}: --limit N for more.", style="dim"))


def highlighted(snippet: str) -> Text:
    """A search snippet with its matches (between the FTS markers) in reverse video."""
    out = Text()
    rest = snippet or ""
    while HIT_START in rest:
        before, _, rest = rest.partition(HIT_START)
        hit, _, rest = rest.partition(HIT_END)
        out.append(safe(before))
        out.append(safe(hit), style="bold reverse")
    out.append(safe(rest))
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


def record(
    title: str, fields: Sequence[tuple[str, Any]], *, multiline: Iterable[str] = ("Notes",)
) -> None:
    """One record as label/value lines. Values keep their newlines only under the labels in
    ``multiline`` (notes); every other control character shows as an escape."""
    keep = set(multiline)
    t = Table(
        box=None, show_header=False, pad_edge=False, title=Text(safe(title)), title_justify="left"
    )
    t.add_column(style="bold", no_wrap=True)
    t.add_column(overflow="fold")
    for label, value in fields:
        if value in (None, "", []):
            continue
        t.add_row(label, _t(value, newlines=label in keep))
    console.print(t)


CONCERN_COLUMNS = [
    ("short_id", "Concern"),
    ("category", "Category"),
    ("priority", "Priority"),
    ("status", "Status"),
    ("description", "Description"),
]
REFERRAL_COLUMNS = [
    ("short_id", "Referral"),
    ("agency", "Agency"),
    ("service", "Service"),
    ("status", "Status"),
    ("follow_up_on", "Follow up"),
    ("reason", "Reason"),
]


def _and_then(first: Any, label: str, then: Any) -> Text:
    """A text cell with what came of it on its own line below (``show``: a description and
    its resolution, a reason and its outcome): one text column reads at 80 columns, two
    narrow ones do not."""
    out = _t(first)
    if then:
        if out.plain:
            out.append("\n")
        out.append(f"{label}: ", style="bold")
        out.append(safe(then, newlines=True))
    return out


def review_state(c: dict[str, Any]) -> str:
    """A contact's review as one line: ``returned by Sgt Ruiz, 2026-11-24 14:30``."""
    state = str(c.get("review_status") or "submitted")
    if state != "submitted" and c.get("reviewed_by"):
        state += f" by {c['reviewed_by']}"
    elif c.get("reviewed_by"):  # edited since: whose review it went back from
        state += f" (last reviewed by {c['reviewed_by']})"
    if state.startswith(("approved", "returned")) and c.get("reviewed_at"):
        state += f", {dates.show_local(c['reviewed_at'])}"
    return state


def returned(rows: Sequence[dict[str, Any]]) -> None:
    """``fieldlog followups``: the officer's contacts a supervisor returned, with the comment
    (nothing when there are none)."""
    if rows:
        table(
            rows,
            [
                ("short_id", "ID"),
                ("occurred_at", "When"),
                ("summary", "Summary"),
                ("review_comment", "Comment"),
                ("reviewed_by", "Returned by"),
            ],
            title="Returned to you by a supervisor: edit to send back",
        )


def contact(c: dict[str, Any]) -> None:
    """``fieldlog show``: a contact in full, then its concerns (each with how it was resolved,
    and when) and its referrals (each with what came of it), every text whole."""
    record(
        f"Contact {c['short_id']}",
        [
            ("When", dates.show_local(c["occurred_at"])),
            ("Kind", c["kind"]),
            ("Person", c["person_name"]),
            ("Organization", c.get("organization_name")),
            ("Neighborhood", c["neighborhood"]),
            ("Beat", c["beat"]),
            ("Location", c["location"]),
            ("Summary", c["summary"]),
            ("Notes", c["notes"]),
            ("Tags", c["tags"]),
            ("Follow up", c["follow_up_on"]),
            ("Officer", c["officer"]),
            ("Review", review_state(c)),
            ("Review comment", c.get("review_comment")),
            ("Id", c["id"]),
        ],
        multiline=("Notes", "Review comment"),
    )
    concerns = [
        {
            **k,
            "description": _and_then(
                k.get("description"),
                f"Resolved {dates.show_local(k['resolved_at'])[:10]}"
                if k.get("status") == "resolved" and k.get("resolved_at")
                else "Resolution",
                k.get("resolution"),
            ),
        }
        for k in c.get("concerns") or []
    ]
    referrals = [
        {**r, "reason": _and_then(r.get("reason"), "Outcome", r.get("outcome"))}
        for r in c.get("referrals") or []
    ]
    if concerns:
        table(concerns, CONCERN_COLUMNS, lines=None)
    if referrals:
        table(referrals, REFERRAL_COLUMNS, lines=None)


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
    "concerns_before": "Before\n/30 days",
    "concerns_since": "Since\n/30 days",
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
        table.add_row(Text("none in period", style="dim"))
        return table
    top = max(int(r.get(sec.bar) or 0) for r in sec.rows) or 1
    for row in sec.rows:
        cells: list[Any] = [_t(row.get(k, "")) for k, _ in columns]  # data, not markup
        if chart:
            cells.append(Bar(top, 0, int(row.get(sec.bar) or 0), color="cyan"))
        table.add_row(*cells)
    return table


# ---------------------------------------------------------------------- problems
PROBLEM_COLUMNS = [
    ("short_id", "ID"),
    ("phase", "Phase"),
    ("title", "Title"),
    ("neighborhood", "Hood"),
    ("coordinator", "Coordinator"),
    ("contacts_linked", "Ctc"),
    ("concerns_linked", "Con"),
    ("referrals_linked", "Ref"),
    ("organizations_linked", "Prt"),
    ("last_activity_at", "Last activity"),
]
PROBLEM_NARROW = ("coordinator", "organizations_linked", "referrals_linked")


def problem_list(
    rows: Sequence[dict[str, Any]], *, empty: str = "No problems.", total: int | None = None
) -> None:
    """``fieldlog problem list``: problems grouped by phase, a rule between phases; the
    linked counts are contacts, concerns, referrals, partners."""
    table(
        rows,
        PROBLEM_COLUMNS,
        empty=empty,
        narrow=PROBLEM_NARROW,
        total=total,
        wrap=("title",),
        right=[k for k, _ in PROBLEM_COLUMNS if k.endswith("_linked")],
        sections="phase",
    )


def problem_fields(p: dict[str, Any]) -> list[tuple[str, Any]]:
    """A problem's own fields as label/value pairs (``problem show``, the TUI's detail)."""

    def at(key: str) -> str | None:
        return dates.show_local(p[key]) if p.get(key) else None

    partners = ", ".join(f"{o['name']} ({o['short_id']})" for o in p.get("partners") or [])
    return [
        ("Phase", p["phase"]),
        ("Neighborhood", p.get("neighborhood")),
        ("Location", p.get("location")),
        ("Category", p.get("category")),
        ("Coordinator", p.get("coordinator")),
        ("Started", at("started_at")),
        ("Response started", at("response_started_at")),
        ("Closed", at("closed_at")),
        ("Description", p.get("description")),
        ("Plan", p.get("plan")),
        ("Partners", partners),
        ("Id", p["id"]),
    ]


TIMELINE_COLUMNS = [("at", "When"), ("kind", "What"), ("short_id", "ID"), ("text", "Detail")]


def timeline_table(events: Sequence[dict[str, Any]]) -> Table:
    """A problem's timeline: linked contacts, concerns, referrals and log entries in time
    order, in local time (the text whole)."""
    t = Table(
        title=Text("Timeline", style="bold"),
        title_justify="left",
        box=box.SIMPLE_HEAD,
        expand=True,
        show_edge=False,
        pad_edge=False,
    )
    t.add_column("When", no_wrap=True)
    t.add_column("What", no_wrap=True)
    t.add_column("ID", no_wrap=True)
    t.add_column("Detail", overflow="fold", ratio=1, min_width=16)
    for e in events:
        t.add_row(
            _t(dates.show_local(e["at"]) if e.get("at") else ""),
            _t(e["kind"]),
            _t(e.get("short_id")),
            _t(e.get("text"), newlines=True),
        )
    return t


def problem(p: dict[str, Any]) -> None:
    """``fieldlog problem show``: the fields, plan and partners, then the timeline."""
    record(
        f"Problem {p['short_id']}: {p['title']}",
        problem_fields(p),
        multiline=("Plan", "Description"),
    )
    if p.get("timeline"):
        console.print(timeline_table(p["timeline"]))
    else:
        console.print(
            Text(
                "Nothing linked or logged yet: fieldlog problem link, fieldlog problem log.",
                style="dim",
            )
        )
