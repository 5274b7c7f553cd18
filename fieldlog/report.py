"""The period report (``fieldlog report`` and the TUI's Report screen), as plain data.

Every figure is counted by a GROUP BY in :class:`~fieldlog.db.store.Store` (``report_*``);
this module only chooses the period, arranges the counts into sections and writes them as
CSV or Markdown for e-mail. The CLI and the TUI draw the same sections with Rich.

Concerns and referrals belong to the period (and the neighborhood and officer) of the contact
they were raised at; "resolved" counts concerns resolved within the period whenever they were
raised; "overdue" follow-ups are counted as of today, whatever the period.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from fieldlog import dates, models, problems
from fieldlog.errors import ValidationError
from fieldlog.text import md_cell, plural

if TYPE_CHECKING:
    from fieldlog.db.store import Store

GROUPS = ("hood", "officer", "category")
GROUP_HEADING = {"hood": "Neighborhood", "officer": "Officer", "category": "Category"}
DEFAULT_DAYS = 7
NONE_LABEL = "(none)"

SUMMARY_COLUMNS = (
    ("contacts", "Contacts"),
    ("concerns_opened", "Concerns"),
    ("concerns_resolved", "Resolved"),
    ("concerns_still_open", "Still open"),
    ("referrals", "Referrals"),
    ("followups_overdue", "Overdue"),
)


@dataclass(frozen=True)
class Period:
    """``[since, until)`` in UTC."""

    since: datetime
    until: datetime

    @property
    def days(self) -> float:
        return round((self.until - self.since).total_seconds() / 86400, 2)

    def label(self) -> str:
        a = dates.to_local(self.since).strftime("%Y-%m-%d %H:%M")
        b = dates.to_local(self.until).strftime("%Y-%m-%d %H:%M")
        days = self.days
        shown = int(days) if days == int(days) else days
        return f"{a} to {b} ({shown} day{'' if days == 1 else 's'})"


def period(since: str | None = None, until: str | None = None, *, days: int = 7) -> Period:
    """The period from WHEN words. Without ``since``: the last ``days`` whole days, today
    included; without ``until``: up to the end of today. ``--until`` with a day includes that
    whole day (as in ``fieldlog list``)."""
    today = dates.now_local().date()
    if until:
        end = dates.parse_when(until, field="until").end()
    else:
        end = dates.parse_when(today.isoformat(), field="until").end()
    if since:
        start = dates.parse_when(since, field="since").at
    else:
        start_day = today - timedelta(days=max(1, days) - 1)
        start = dates.parse_when(start_day.isoformat(), field="since").at
    if start >= end:
        raise ValidationError(
            "since",
            f"The period is empty: --since ({dates.show_local(dates.to_storage(start))}) is not "
            f"before --until ({dates.show_local(dates.to_storage(end))}).",
        )
    return Period(start, end)


def check_by(by: str) -> str:
    v = models.norm_word(by or "")
    if v not in GROUPS:
        raise ValidationError("by", f"Unknown grouping '{by}': use one of {', '.join(GROUPS)}.")
    return v


def _label(value: Any) -> str:
    return value if value else NONE_LABEL


def build(
    store: Store,
    since: str | None = None,
    until: str | None = None,
    by: str = "hood",
    *,
    days: int = DEFAULT_DAYS,
) -> dict[str, Any]:
    """The whole report as JSON-ready data (see ``fieldlog report --json``)."""
    by = check_by(by)
    p = period(since, until, days=days)
    s, u = dates.to_storage(p.since), dates.to_storage(p.until)
    today = dates.today_local()

    names = store.reports.names()  # each neighborhood in its first spelling
    contacts = [
        {"neighborhood": _label(r["neighborhood"]), "kind": r["kind"], "count": r["n"]}
        for r in store.reports.contacts(s, u, names)
    ]
    hoods: dict[str, int] = {}
    kinds: dict[str, int] = {}
    for r in contacts:  # adds up a few dozen grouped counts, not rows
        hoods[r["neighborhood"]] = hoods.get(r["neighborhood"], 0) + r["count"]
        kinds[r["kind"]] = kinds.get(r["kind"], 0) + r["count"]

    concerns: dict[str, dict[str, Any]] = {}
    for r in store.reports.concerns(s, u):
        c = concerns.setdefault(
            r["category"],
            {"category": r["category"], "opened": 0, "resolved": 0, "still_open": 0,
             "status": dict.fromkeys(models.CONCERN_STATUSES, 0)},
        )  # fmt: skip
        if r["measure"] == "opened":
            c["opened"] += r["n"]
            c["status"][r["status"]] = c["status"].get(r["status"], 0) + r["n"]
            if r["status"] != "resolved":
                c["still_open"] += r["n"]
        else:
            c["resolved"] += r["n"]
    concern_rows = sorted(concerns.values(), key=lambda c: (-c["opened"], c["category"]))

    referrals: dict[str, dict[str, Any]] = {}
    for r in store.reports.referrals(s, u):
        service = _label(r["service"])
        ref = referrals.setdefault(
            service,
            {"service": service, "count": 0,
             "status": dict.fromkeys(models.REFERRAL_STATUSES, 0)},
        )  # fmt: skip
        ref["count"] += r["n"]
        ref["status"][r["status"]] = ref["status"].get(r["status"], 0) + r["n"]
    referral_rows = sorted(referrals.values(), key=lambda r: (-r["count"], r["service"]))

    overdue = store.reports.overdue(today)

    def summary(group: str) -> list[dict[str, Any]]:
        return [
            {"group": _label(r["group"]), **{k: r[k] for k, _ in SUMMARY_COLUMNS}}
            for r in store.reports.summary(s, u, today, group, names)
        ]

    main = summary(by)
    officers = main if by == "officer" else summary("officer")
    shown = set(hoods) | ({r["group"] for r in main} if by == "hood" else set())
    return {
        "period": {
            "since": s,
            "until": u,
            "days": p.days,
            "label": p.label(),
        },
        "by": by,
        "as_of": today,
        "totals": {
            "contacts": sum(hoods.values()),
            "concerns_opened": sum(c["opened"] for c in concern_rows),
            "concerns_resolved": sum(c["resolved"] for c in concern_rows),
            "concerns_still_open": sum(c["still_open"] for c in concern_rows),
            "referrals": sum(r["count"] for r in referral_rows),
            "followups_overdue": overdue["referrals"] + overdue["contacts"],
        },
        "summary": main,
        "contacts": contacts,
        "contacts_by_neighborhood": [
            {"neighborhood": k, "count": n}
            for k, n in sorted(hoods.items(), key=lambda kv: (-kv[1], kv[0]))
        ],
        "contacts_by_kind": [
            {"kind": k, "count": n}
            for k, n in sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0]))
        ],
        "concerns": concern_rows,
        "referrals": referral_rows,
        "followups_overdue": {
            "referrals": overdue["referrals"],
            "contacts": overdue["contacts"],
            "total": overdue["referrals"] + overdue["contacts"],
        },
        "officers": officers,
        # The problems worked in the period (fieldlog.problems.report_rows).
        "problems": problems.report_rows(store, s, u),
        # The neighborhoods of the report stored in more than one spelling, each counted
        # under its first spelling: {"Eastside": ["EASTSIDE", "eastside"]}.
        "spellings": {k: v for k, v in names.variants.items() if k in shown},
    }


def totals_phrases(totals: dict[str, Any], *, short: bool = False) -> list[str]:
    """The report's totals as phrases ("1 contact", "3 concerns (2 still open)"), for a line
    that wraps between them, never inside one. ``short``: the TUI's one-line title."""
    t = totals
    if short:
        return [
            plural(t["contacts"], "contact"),
            plural(t["concerns_opened"], "concern"),
            f"{t['concerns_resolved']} resolved",
            plural(t["referrals"], "referral"),
            f"{t['followups_overdue']} overdue",
        ]
    return [
        plural(t["contacts"], "contact"),
        f"{plural(t['concerns_opened'], 'concern')} ({t['concerns_still_open']} still open)",
        f"{t['concerns_resolved']} resolved",
        plural(t["referrals"], "referral"),
        f"{plural(t['followups_overdue'], 'follow-up')} overdue",
    ]


def spellings_note(data: dict[str, Any]) -> str | None:
    """One line naming the neighborhoods whose spellings were counted together, if any."""
    names = data.get("spellings") or {}
    if not names:
        return None
    parts = [f"{name} ({', '.join(others)})" for name, others in names.items()]
    return "Counted as one neighborhood: " + "; ".join(parts) + "."


# ---------------------------------------------------------------------- sections
@dataclass
class Section:
    """One table of the report: ``columns`` are (key, heading) pairs, ``bar`` the key of the
    count the chart shows, ``measures`` the numeric columns (long rows in the CSV)."""

    key: str
    title: str
    columns: list[tuple[str, str]]
    rows: list[dict[str, Any]]
    bar: str
    measures: list[str]
    subgroup: str | None = None  # a second text column (CSV "subgroup")


def sections(data: dict[str, Any]) -> list[Section]:
    """The report's tables, in reading order, for every output format."""
    by = data["by"]
    measures = [k for k, _ in SUMMARY_COLUMNS]
    out = [
        Section(
            f"by_{by}",
            f"Summary by {GROUP_HEADING[by].lower()}",
            [("group", GROUP_HEADING[by]), *SUMMARY_COLUMNS],
            data["summary"],
            "concerns_opened" if by == "category" else "contacts",
            measures,
        ),
        Section(
            "contacts_by_neighborhood",
            "Contacts by neighborhood",
            [("neighborhood", "Neighborhood"), ("count", "Contacts")],
            data["contacts_by_neighborhood"],
            "count",
            ["count"],
        ),
        Section(
            "contacts",
            "Contacts by neighborhood and kind",
            [("neighborhood", "Neighborhood"), ("kind", "Kind"), ("count", "Contacts")],
            data["contacts"],
            "count",
            ["count"],
            subgroup="kind",
        ),
        Section(
            "contacts_by_kind",
            "Contacts by kind",
            [("kind", "Kind"), ("count", "Contacts")],
            data["contacts_by_kind"],
            "count",
            ["count"],
        ),
    ]
    # Status now, among the concerns opened in the period ("status_resolved"), apart from
    # "resolved": resolved within the period, whenever opened.
    status_cols = [(f"status_{s}", s.replace("_", " ")) for s in models.CONCERN_STATUSES]
    out.append(
        Section(
            "concerns",
            "Concerns by category (opened in the period, by status now)",
            [
                ("category", "Category"),
                ("opened", "Opened"),
                ("resolved", "Resolved"),
                ("still_open", "Still open"),
                *status_cols,
            ],
            [_flat(c) for c in data["concerns"]],
            "opened",
            ["opened", "resolved", "still_open", *(k for k, _ in status_cols)],
        )  # fmt: skip
    )
    ref_cols = [(f"status_{s}", s) for s in models.REFERRAL_STATUSES]
    out.append(
        Section(
            "referrals",
            "Referrals by service and outcome",
            [("service", "Service"), ("count", "Referrals"), *ref_cols],
            [_flat(r) for r in data["referrals"]],
            "count",
            ["count", *(k for k, _ in ref_cols)],
        )
    )
    f = data["followups_overdue"]
    out.append(
        Section(
            "followups_overdue",
            f"Follow-ups overdue (as of {data['as_of']})",
            [("type", "Follow-up"), ("count", "Overdue")],
            [
                {"type": "referrals", "count": f["referrals"]},
                {"type": "contacts", "count": f["contacts"]},
            ],
            "count",
            ["count"],
        )  # fmt: skip
    )
    out.append(
        Section(
            "problems",
            "Problems worked (concerns of their category and place per 30 days)",
            [
                ("title", "Problem"),
                ("phase", "Phase"),
                ("contacts", "Contacts"),
                ("referrals", "Referrals"),
                ("concerns_before", "Before"),
                ("concerns_since", "Since"),
            ],
            data.get("problems", []),
            "concerns_since",
            ["contacts", "referrals", "concerns_before", "concerns_since"],
        )
    )
    if by != "officer":
        out.append(
            Section(
                "by_officer",
                "Per officer",
                [("group", "Officer"), *SUMMARY_COLUMNS],
                data["officers"],
                "contacts",
                measures,
            )
        )
    return out


# Headings stacked on two lines, for the tables that hold many figures under 100 columns.
NARROW_HEADINGS = {"count": "Refer-\nrals", "status_unreachable": "unreach-\nable"}


def screen_sections(data: dict[str, Any], *, wide: bool) -> list[Section]:
    """The sections the terminal (``fieldlog report``) and the TUI's Report screen draw, for a
    width of 100 columns or more (``wide``) or less (80: the least a terminal has).

    Every figure stays at any width (the CSV and Markdown are :func:`sections` unchanged):
    under 100 columns the concerns' "status now" columns move to a table of their own
    (each keeps its chart), and the referrals' outcomes stay in one table with stacked
    headings and no chart, as the summaries do (``fieldlog.render.report_table`` draws a
    ``by_`` table without a chart when narrow). The neighborhood-and-kind cross table is
    left out: the neighborhood and kind tables say it at a glance."""
    out: list[Section] = []
    for sec in sections(data):
        if sec.key == "contacts":
            continue
        if wide or sec.key not in ("concerns", "referrals"):
            out.append(sec)
        elif sec.key == "concerns":
            out.append(
                replace(sec, title="Concerns by category (in the period)", columns=sec.columns[:4])
            )
            statuses = [c for c in sec.columns if c[0].startswith("status_")]
            out.append(
                replace(
                    sec,
                    key="concern_status",
                    title="Concerns opened in the period, by status now",
                    columns=[
                        sec.columns[0],
                        *((k, NARROW_HEADINGS.get(k, h)) for k, h in statuses),
                    ],
                )
            )
        else:
            out.append(
                replace(
                    sec,
                    key="by_service",
                    columns=[(k, NARROW_HEADINGS.get(k, h)) for k, h in sec.columns],
                )
            )
    return out


def _flat(row: dict[str, Any]) -> dict[str, Any]:
    """``{"status": {"open": 2}}`` -> ``{"status_open": 2}`` beside the other figures."""
    out = {k: v for k, v in row.items() if k != "status"}
    out.update({f"status_{k}": n for k, n in row["status"].items()})
    return out


# ---------------------------------------------------------------------- files
CSV_COLUMNS = ("section", "group", "subgroup", "measure", "count", "period_start", "period_end")


def safe_cell(value: Any) -> Any:
    """A text cell a spreadsheet would run as a formula gets a leading ``'`` (OWASP)."""
    if isinstance(value, str) and value.startswith(models.FORMULA_PREFIXES):
        return "'" + value
    return value


def _figure(value: Any) -> int | float:
    """A count as an int; a rate (concerns per 30 days) as it is."""
    return value if isinstance(value, float) else int(value or 0)


def to_csv(data: dict[str, Any]) -> str:
    """One RFC 4180 table, one row per figure: ``section, group, subgroup, measure, count``
    and the period on every row (weekly files concatenate and pivot in a spreadsheet)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(CSV_COLUMNS)
    start = dates.show_local(data["period"]["since"])
    end = dates.show_local(data["period"]["until"])
    for sec in sections(data):
        group_key = sec.columns[0][0]
        for row in sec.rows:
            for m in sec.measures:
                w.writerow(
                    [
                        sec.key,
                        safe_cell(str(row[group_key])),
                        safe_cell(str(row[sec.subgroup])) if sec.subgroup else "",
                        m,
                        _figure(row.get(m)),
                        start,
                        end,
                    ]
                )
    return buf.getvalue()


_md_cell = md_cell


def to_markdown(data: dict[str, Any]) -> str:
    """A Markdown document: a heading per section and a pipe table."""
    lines = [
        "# fieldlog report",
        "",
        f"Period: {data['period']['label']}  ",
        f"Grouped by: {data['by']}; overdue follow-ups as of {data['as_of']}",
        "",
    ]
    t = data["totals"]
    lines += [
        f"- Contacts: {t['contacts']}",
        f"- Concerns opened: {t['concerns_opened']} (still open: {t['concerns_still_open']}); "
        f"resolved in the period: {t['concerns_resolved']}",
        f"- Referrals: {t['referrals']}",
        f"- Follow-ups overdue: {t['followups_overdue']}",
        "",
    ]
    for sec in sections(data):
        if sec.key == "contacts":
            continue  # the cross table below says it better
        lines += [f"## {_md_cell(sec.title)}", ""]
        if not sec.rows:
            lines += ["Nothing in this period.", ""]
            continue
        lines.append("| " + " | ".join(_md_cell(h) for _, h in sec.columns) + " |")
        lines.append(
            "|" + "|".join("---" if i == 0 else "---:" for i in range(len(sec.columns))) + "|"
        )
        for row in sec.rows:
            lines.append("| " + " | ".join(_md_cell(row.get(k, "")) for k, _ in sec.columns) + " |")
        lines.append("")
    # Contacts by neighborhood and kind as one cross table.
    kinds = [k["kind"] for k in data["contacts_by_kind"]]
    if kinds:
        cells: dict[tuple[str, str], int] = {
            (r["neighborhood"], r["kind"]): r["count"] for r in data["contacts"]
        }
        lines += ["## Contacts by neighborhood and kind", ""]
        lines.append("| Neighborhood | " + " | ".join(kinds) + " | Total |")
        lines.append("|---|" + "---:|" * (len(kinds) + 1))
        for h in data["contacts_by_neighborhood"]:
            name = h["neighborhood"]
            counts = [str(cells.get((name, k), 0)) for k in kinds]
            lines.append(f"| {_md_cell(name)} | " + " | ".join(counts) + f" | {h['count']} |")
        lines.append("")
    return "\n".join(lines)
