"""Search results as the contact list shows them (``ContactsScreen`` in search mode): ranked
hits over contacts, concerns, referrals and partners from ``store.search.ranked``, each row
saying what it is, when, who, which field matched, and the matched words highlighted.

Also the list's column layout: both views fit their columns to the table's real width, the
free width going to the text that tells rows apart (the summary, the match).
"""

from __future__ import annotations

from typing import Any

from rich.text import Text

from fieldlog import dates
from fieldlog.records import LIST_FIELDS
from fieldlog.text import printable
from fieldlog.tui.widgets.cells import clip, text

HIGHLIGHT = "bold underline"  # the matched words (no colour: it must show on the cursor row)
SCROLLBAR = 2  # the vertical scrollbar a long list shows (Textual's default size)
PADDING = 2  # a DataTable column's cell padding, both sides
MATCH_ROOM = 24  # cells a snippet keeps before a category or agency goes in front of it

# What each record type is called in the What column.
WHAT = {"contact": "contact", "concern": "concern", "referral": "referral",
        "organization": "partner"}  # fmt: skip
# The Field column: an indexed column in the officer's words, 8 cells at most.
FIELD = {
    ("contact", "summary"): "summary",
    ("contact", "notes"): "notes",
    ("contact", "person_name"): "person",
    ("contact", "location"): "location",
    ("concern", "description"): "concern",
    ("concern", "resolution"): "outcome",
    ("referral", "agency"): "agency",
    ("referral", "reason"): "reason",
    ("referral", "outcome"): "outcome",
    ("organization", "name"): "name",
    ("organization", "contact_person"): "contact",
    ("organization", "services"): "services",
    ("organization", "notes"): "notes",
}

Columns = list[tuple[str, str, int]]  # (label, key, width) as add_columns takes them


def field_label(noun: str, column: str) -> str:
    return FIELD.get((noun, column), column.replace("_", " "))[:8]


def short_when(stored: str | None, *, time: bool = True) -> str:
    """A contact's time in few cells: ``Jul 08 10:28`` this year, ``2025-12-16`` in
    another (the list is newest first: the year shows exactly where it changes). Without
    the time (search results): ``Jul 08``, ``Dec '25``."""
    if not stored:
        return ""
    local = dates.to_local(dates.from_storage(stored))
    if local.year != dates.now_local().year:
        return local.strftime("%Y-%m-%d" if time else "%b '%y")
    return local.strftime("%b %d %H:%M" if time else "%b %d")


def who_cell(who: str | None, place: str | None, width: int) -> Text:
    """The person, else the organization; for an event with neither, its place (dimmed),
    so "Community barbecue" rows still say where."""
    if who:
        return clip(who, width)
    cell = clip(place, width)
    cell.stylize("dim italic")
    return cell


def list_columns(width: int) -> Columns:
    """The contact list's columns for a table ``width`` cells wide: When, (Id on a wide
    terminal), Who, Hood, Summary, C/R; Who and Summary share what the others leave."""
    fixed = [("When", "when", 12), ("Hood", "hood", 10), ("C/R", "counts", 4)]
    if width >= 110:
        fixed.insert(1, ("Id", "id", 12))
    free = width - SCROLLBAR - PADDING * (len(fixed) + 2) - sum(w for _, _, w in fixed)
    who = min(22, max(12, free // 3))
    summary = max(12, free - who)
    cols = dict((k, (label, k, w)) for label, k, w in fixed)
    out = [cols["when"]]
    if "id" in cols:
        out.append(cols["id"])
    return [*out, ("Who", "who", who), cols["hood"], ("Summary", "summary", summary),
            cols["counts"]]  # fmt: skip


def list_cells(r: dict[str, Any], cols: Columns) -> list[Text]:
    """One contact row of :func:`list_columns`."""
    w = {k: width for _, k, width in cols}
    out = {
        "when": text(short_when(r.get("occurred_at"))),
        "id": text(r.get("short_id")),
        "who": who_cell(
            r.get("person_name") or r.get("organization_name"), r.get("location"), w["who"]
        ),  # fmt: skip
        "hood": clip(r.get("neighborhood"), w["hood"]),
        "summary": clip(r.get("summary"), w["summary"]),
        "counts": text(f"{r.get('concern_count', 0)}/{r.get('referral_count', 0)}"),
    }
    return [out[k] for _, k, _ in cols]


def result_columns(width: int) -> Columns:
    """The search results' columns: What, When, Who, Field, Match (the rest)."""
    fixed = [("What", "what", 8), ("When", "when", 7), ("Field", "field", 8)]
    free = width - SCROLLBAR - PADDING * (len(fixed) + 2) - sum(w for _, _, w in fixed)
    who = min(20, max(12, free // 4))
    match = max(12, free - who)
    return [fixed[0], fixed[1], ("Who", "who", who), fixed[2], ("Match", "match", match)]


def result_key(hit: dict[str, Any]) -> str:
    """A result row's key: the record type and id (a contact and its concern differ)."""
    return f"{hit['type']}:{hit['id']}"


def split_key(key: str) -> tuple[str, str]:
    noun, _, rid = key.partition(":")
    return noun, rid


def marked(snippet: str | None) -> Text:
    """An FTS5 snippet (matches between \\x02 and \\x03) as one line of Text with the
    matched words in :data:`HIGHLIGHT`; the rest is data, never markup."""
    flat = " ".join((snippet or "").split())
    out = Text(no_wrap=True, overflow="ellipsis")
    first, *rest = flat.split("\x02")
    out.append(printable(first, newlines=False))  # stored text: no control character reaches
    for part in rest:  # the terminal
        word, _, after = part.partition("\x03")
        out.append(printable(word, newlines=False), style=HIGHLIGHT)
        out.append(printable(after, newlines=False))
    return out


def focused(line: Text, width: int) -> Text:
    """``line`` cut to ``width`` cells. When it does not fit, it starts later, at a word,
    so that the first highlighted word and what follows it show: as much of the end as
    fits ("…barbecue at the school gate" tells six barbecues apart), or, for a long
    snippet, a few words before the match."""
    plain = line.plain
    spans = [s for s in line.spans if s.style == HIGHLIGHT]
    if spans and len(plain) > width:
        at = spans[0].start
        start = min(at, len(plain) - (width - 1))
        if len(plain) - at > width - 1:  # even from the match on it does not fit
            start = max(0, at - width // 4)
        if start > 0 and plain[start - 1] != " ":
            space = plain.find(" ", start, at)
            start = space + 1 if space != -1 else at
        if start > 0:
            cut = Text("…", no_wrap=True, overflow="ellipsis")
            cut.append_text(line[start:])
            line = cut
    line.truncate(width, overflow="ellipsis")
    return line


def match_cell(hit: dict[str, Any], width: int) -> Text:
    """The Match column: the snippet of the field that matched, after what it belongs to
    when the snippet alone would not say (a concern's category, a referral's agency) if
    that leaves the matched words room enough to show."""
    prefix = ""
    if hit["type"] == "concern" and hit.get("title"):
        prefix = f"{hit['title']}: "
    elif hit["type"] == "referral" and hit.get("field") != "agency" and hit.get("title"):
        prefix = f"{' '.join(str(hit['title']).split())}: "
    raw = hit.get("snippet") or ""
    if hit.get("field") in LIST_FIELDS:  # indexed as JSON text: ["food", "youth"]
        raw = raw.replace('", "', ", ").translate(str.maketrans("", "", '[]"'))
    snippet = marked(raw)
    if prefix and len(prefix) + len(snippet) > width and width - len(prefix) < MATCH_ROOM:
        prefix = ""  # the matched words first
    line = Text(prefix, style="dim", no_wrap=True, overflow="ellipsis")
    line.append_text(focused(snippet, width - len(prefix)))
    return line


def result_cells(hit: dict[str, Any], cols: Columns) -> list[Text]:
    """One search result row of :func:`result_columns`."""
    w = {k: width for _, k, width in cols}
    noun = hit["type"]
    label = field_label(noun, hit.get("field") or "")
    field = text(label)
    if len(hit.get("fields") or ()) > 1:  # other fields matched too
        field = text(label[: w["field"] - 1])
        field.append("+", style="dim")
    out = {
        "what": text(WHAT.get(noun, noun)),
        "when": text(short_when(hit.get("when"), time=False)),
        "who": who_cell(hit.get("who"), hit.get("place"), w["who"]),
        "field": field,
        "match": match_cell(hit, w["match"]),
    }
    return [out[k] for _, k, _ in cols]
