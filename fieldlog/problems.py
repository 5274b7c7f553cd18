"""Problem solving (SARA) beyond the record itself: scanning help and assessment.

- :func:`suggest` (scanning): clusters of two or more open concerns that no problem holds yet,
  alike by category and place (the same neighborhood or location) or by their words.
- :func:`assess` (assessment): the concerns of a problem's category in its neighborhood (or
  its location) per 30 days before its response started and since, with what was done:
  contacts and referrals linked, the referrals' outcomes, the partners involved.
- :func:`report_rows`: one row per problem worked in a report's period (``fieldlog report``'s
  problems section).

rapidfuzz is imported inside the function that compares texts, never at module top.
This module takes a :class:`~fieldlog.db.store.Store`; it imports no user interface library.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from fieldlog import dates, models
from fieldlog.text import md_cell

if TYPE_CHECKING:
    from fieldlog.db.repos.base import Row
    from fieldlog.db.store import Store

PERIOD_DAYS = 30  # an assessment counts concerns per 30 days
BEFORE_PERIODS = 6  # ... over at most six periods before the response started
SIMILAR_TEXT = 80  # rapidfuzz token_sort_ratio from which two descriptions are "similar"
DEFAULT_SINCE = "90d"


# ------------------------------------------------------------------ scanning
@dataclass
class Cluster:
    """Open concerns alike enough to be one problem, with what a new problem would hold."""

    concerns: list[Row]
    category: str | None
    neighborhood: str | None
    location: str | None
    reasons: list[str] = field(default_factory=list)

    @property
    def title(self) -> str:
        what = (self.category or "concerns").replace("_", " ").capitalize()
        if self.location:
            return f"{what} at {self.location}"
        return f"{what} in {self.neighborhood}" if self.neighborhood else what

    def as_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "category": self.category,
            "neighborhood": self.neighborhood,
            "location": self.location,
            "reasons": self.reasons,
            "concerns": [
                {k: c.get(k) for k in ("id", "short_id", "category", "description", "status",
                                       "neighborhood", "location", "contact_occurred_at")}
                for c in self.concerns
            ],
        }  # fmt: skip


def _fold(text: str | None) -> str:
    return " ".join((text or "").casefold().split())


def _most(values: Iterable[str | None]) -> str | None:
    counted = Counter(v for v in values if v)
    return counted.most_common(1)[0][0] if counted else None


def _shared(values: Iterable[str | None]) -> str | None:
    """The value at least half of a cluster's concerns hold (the most held), else None."""
    items = list(values)
    best = _most(items)
    if best is None:
        return None
    return best if sum(1 for v in items if v == best) * 2 >= len(items) else None


def since_stamp(since: str) -> str:
    """The stored time from which ``--since`` counts (``90d``, ``6mo``, ``2026-01-01``)."""
    from fieldlog.db.retention import cutoff_day

    day = cutoff_day(since)
    return dates.to_storage(dates.parse_when(day.isoformat(), field="since").at)


def clusters(concerns: Sequence[Row], *, similar: int = SIMILAR_TEXT) -> list[Cluster]:
    """Groups of two or more of ``concerns``: two are together when they share a category
    and a neighborhood or a location, or when their descriptions say much the same in one
    neighborhood (a noise concern and a disorder one about the same bar); groups are joined
    through shared members. A problem is a place's: the same words in two neighborhoods are
    two problems, not one. Biggest first."""
    n = len(concerns)
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    why: dict[int, set[str]] = {}

    def join(a: int, b: int, reason: str) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[rb] = ra
        why.setdefault(a, set()).add(reason)

    keyed: dict[tuple[str, str, str], int] = {}
    for i, c in enumerate(concerns):
        for kind in ("neighborhood", "location"):
            place = c.get(kind)
            if not place:
                continue
            key = (c["category"], kind, _fold(place))
            if key in keyed:
                join(keyed[key], i, f"same category and {kind}")
            else:
                keyed[key] = i
    by_hood: dict[str, list[int]] = {}
    for i, c in enumerate(concerns):
        by_hood.setdefault(_fold(c.get("neighborhood")), []).append(i)
    texts = [_fold(c.get("description")) for c in concerns]
    if any(len(m) > 1 for m in by_hood.values()):
        from rapidfuzz import fuzz

        for members in by_hood.values():
            for x, i in enumerate(members):
                for j in members[x + 1 :]:
                    if find(i) == find(j) or not (texts[i] and texts[j]):
                        continue
                    # token_sort: the same words in any order; a short text inside a long
                    # one (token_set) would join "open" to every concern that says it
                    if fuzz.token_sort_ratio(texts[i], texts[j], score_cutoff=similar):
                        join(i, j, "similar text")
    groups: dict[int, list[int]] = {}
    for i in range(n):
        groups.setdefault(find(i), []).append(i)
    out = []
    for members in groups.values():
        if len(members) < 2:
            continue
        rows = [concerns[i] for i in members]
        reasons = sorted({r for i in members for r in why.get(i, ())})
        out.append(
            Cluster(
                concerns=rows,
                category=_shared(r["category"] for r in rows),
                neighborhood=_shared(r.get("neighborhood") for r in rows),
                location=_shared(r.get("location") for r in rows),
                reasons=reasons,
            )
        )
    out.sort(key=lambda c: (-len(c.concerns), c.title))
    return out


def suggest(store: Store, *, since: str = DEFAULT_SINCE, hood: str | None = None) -> list[Cluster]:
    """Clusters of open concerns raised since ``since`` that no problem links yet."""
    return clusters(store.problems.unlinked_open_concerns(since_stamp(since), hood=hood))


def start_from(store: Store, cluster: Cluster, *, coordinator: str | None = None) -> str:
    """A new problem (scanning) holding a cluster's concerns and their contacts; its id."""
    links = [f"concern:{c['id']}" for c in cluster.concerns]
    links += [f"contact:{cid}" for cid in dict.fromkeys(c["contact_id"] for c in cluster.concerns)]
    return store.problems.add(
        cluster.title,
        neighborhood=cluster.neighborhood,
        location=cluster.location,
        category=cluster.category,
        coordinator=coordinator or store.officer(),
        links=links,
    )


# ------------------------------------------------------------------ assessment
@dataclass
class Window:
    start: datetime
    end: datetime
    side: str  # "before" the response started, or "since"
    concerns: int = 0

    @property
    def days(self) -> float:
        return (self.end - self.start).total_seconds() / 86400

    def as_dict(self) -> dict[str, Any]:
        return {
            "side": self.side,
            "start": dates.to_storage(self.start),
            "end": dates.to_storage(self.end),
            "days": round(self.days, 1),
            "concerns": self.concerns,
        }


def _rate(windows: Sequence[Window]) -> float | None:
    days = sum(w.days for w in windows)
    if days < 1:
        return None
    return round(sum(w.concerns for w in windows) * PERIOD_DAYS / days, 2)


def assess(store: Store, ref: str, *, now: datetime | None = None) -> dict[str, Any]:
    """A problem's assessment as JSON-ready data (``fieldlog problem assess --json``)."""
    p = store.problems.get(ref)
    now = now or dates.now()
    pivot = dates.from_storage(p["response_started_at"]) if p.get("response_started_at") else now
    location = p.get("location") or _most(c.get("location") for c in p["contacts"])
    place = (
        {"neighborhood": p["neighborhood"]}
        if p.get("neighborhood")
        else {"location": location}
        if location
        else {}
    )
    around = store.problems.concerns_around(
        p.get("category"), hood=p.get("neighborhood"), location=location
    )
    period = timedelta(days=PERIOD_DAYS)
    times = [dates.from_storage(c["occurred_at"]) for c in around]
    # The baseline goes back to the first such concern in the log (at most six periods):
    # earlier periods hold nothing because nothing was logged yet, not because all was quiet.
    first = min([*times, pivot - period])
    windows: list[Window] = []
    start = pivot
    for _ in range(BEFORE_PERIODS):
        if start <= first:
            break
        windows.insert(0, Window(max(start - period, pivot - BEFORE_PERIODS * period), start,
                                 "before"))  # fmt: skip
        start -= period
    end_all = max(now, pivot)
    start = pivot
    while start < end_all:
        windows.append(Window(start, min(start + period, end_all), "since"))
        start += period
    for t in times:
        for w in windows:
            if w.start <= t < w.end:
                w.concerns += 1
                break
    before = [w for w in windows if w.side == "before"]
    since = [w for w in windows if w.side == "since"]
    rate_before, rate_since = _rate(before), _rate(since)
    change = (
        round((rate_since - rate_before) * 100 / rate_before, 1)
        if rate_before and rate_since is not None
        else None
    )
    refs = p["referrals"]
    outcomes = {s: 0 for s in models.REFERRAL_STATUSES}
    for r in refs:
        outcomes[r["status"]] = outcomes.get(r["status"], 0) + 1
    partners = list(
        dict.fromkeys(
            [o["name"] for o in p["partners"]] + [r["agency"] for r in refs if r.get("agency")]
        )
    )
    return {
        "problem": {k: p.get(k) for k in ("id", "short_id", "title", "phase", "category",
                                          "neighborhood", "location", "coordinator",
                                          "started_at", "response_started_at", "closed_at")},
        "place": place,
        "response_started": bool(p.get("response_started_at")),
        "windows": [w.as_dict() for w in windows],
        "concerns_per_30d_before": rate_before,
        "concerns_per_30d_since": rate_since,
        "change_percent": change,
        "concerns_linked": len(p["concerns"]),
        "contacts_linked": len(p["contacts"]),
        "referrals_linked": len(refs),
        "referral_outcomes": outcomes,
        "referrals": [{k: r.get(k) for k in ("short_id", "agency", "status", "outcome")}
                      for r in refs],
        "partners": partners,
        "log_entries": len(p["entries"]),
    }  # fmt: skip


ASSESS_CSV_COLUMNS = ("problem", "side", "period_start", "period_end", "days", "concerns")


def assess_csv_rows(data: Mapping[str, Any]) -> list[list[Any]]:
    """The assessment's periods as CSV rows (``ASSESS_CSV_COLUMNS``), times in local time."""
    title = data["problem"]["title"]
    return [
        [title, w["side"], dates.show_local(w["start"]), dates.show_local(w["end"]), w["days"],
         w["concerns"]]
        for w in data["windows"]
    ]  # fmt: skip


def assess_markdown(data: Mapping[str, Any]) -> str:
    """The assessment as a Markdown document for the monthly meeting."""
    cell = md_cell
    p = data["problem"]
    where = data["place"].get("neighborhood") or data["place"].get("location") or "(no place)"
    what = (p.get("category") or "all categories").replace("_", " ")
    lines = [
        f"# Assessment: {cell(p['title'])}",
        "",
        f"- Phase: {p['phase']}; coordinator: {cell(p.get('coordinator') or '-')}",
        f"- Concerns counted: {cell(what)} in {cell(where)}",
        f"- Started: {dates.show_local(p['started_at'])}; response started: "
        f"{dates.show_local(p['response_started_at']) if p['response_started_at'] else 'not yet'}",
        f"- Concerns per 30 days: before {_fmt(data['concerns_per_30d_before'])}, since "
        f"{_fmt(data['concerns_per_30d_since'])}"
        + (f" ({data['change_percent']:+.1f}%)" if data["change_percent"] is not None else ""),
        f"- Linked: {data['contacts_linked']} contacts, {data['concerns_linked']} concerns, "
        f"{data['referrals_linked']} referrals",
        f"- Partners involved: {cell(', '.join(data['partners']) or 'none')}",
        "",
        "## Concerns per period",
        "",
        "| Period | Side | Days | Concerns |",
        "|---|---|---:|---:|",
    ]
    for w in data["windows"]:
        lines.append(
            f"| {dates.show_local(w['start'])} – {dates.show_local(w['end'])} | {w['side']} | "
            f"{w['days']} | {w['concerns']} |"
        )
    lines += ["", "## Referral outcomes", "", "| Status | Referrals |", "|---|---:|"]
    lines += [f"| {s} | {n} |" for s, n in data["referral_outcomes"].items()]
    return "\n".join(lines) + "\n"


def _fmt(rate: float | None) -> str:
    return "-" if rate is None else f"{rate:g}"


# ------------------------------------------------------------------ the report's section
def report_rows(store: Store, since: str, until: str) -> list[dict[str, Any]]:
    """One row per problem worked in the period (stored times ``since``..``until``): not
    closed before it started, and started before it ended."""
    out = []
    for p in store.problems.list():
        if p.get("started_at") and p["started_at"] >= until:
            continue
        if p["phase"] == "closed" and p.get("closed_at") and p["closed_at"] < since:
            continue
        a = assess(store, p["id"])
        out.append(
            {
                "title": p["title"],
                "phase": p["phase"],
                "neighborhood": p.get("neighborhood") or "",
                "category": p.get("category") or "",
                "contacts": a["contacts_linked"],
                "referrals": a["referrals_linked"],
                "concerns_before": a["concerns_per_30d_before"] or 0,
                "concerns_since": a["concerns_per_30d_since"] or 0,
            }
        )
    return out
