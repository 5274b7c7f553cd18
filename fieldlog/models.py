"""Vocabularies and the building blocks of validation, for the CLI, the TUI, import and sync.

Records travel as plain dicts keyed by column name. The rules here take what a person typed
(strings, lists) and return the value to store, or raise ValidationError naming the field, the
problem and what is accepted. Which rule each field of each table uses is said once, in
:mod:`fieldlog.records` (the record registry). Nothing here touches the database.

Text is shown in terminals, so every text rule refuses control characters (a summary holding
``ESC ] 0 ;`` would retitle the officer's window): typed, imported or resolved in a sync
conflict alike, each refusal naming the field and the fix. An unknown vocabulary word is
answered with the words it may have meant (``resdent`` -> resident).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from fieldlog.errors import ValidationError
from fieldlog.text import control_chars, printable

CONTACT_KINDS = ("resident", "business", "organization", "event", "meeting", "phone", "other")
CONCERN_CATEGORIES = (
    "traffic", "noise", "youth", "housing", "homelessness", "mental_health", "substance_use",
    "property_crime", "violence", "disorder", "infrastructure", "other",
)  # fmt: skip
PRIORITIES = ("low", "normal", "high", "urgent")
CONCERN_STATUSES = ("open", "in_progress", "referred", "resolved")
REFERRAL_SERVICES = (
    "housing", "mental_health", "substance_use", "youth", "food", "legal", "victim_services",
    "medical", "employment", "other",
)  # fmt: skip
# The service of a referral that answers a concern, when nobody named one (and no partner
# offers just one): a category the department added, or one no service fits, gives "other",
# so no referral is saved with an empty service (a report's "(none)").
CATEGORY_SERVICES = {
    "youth": "youth",
    "housing": "housing",
    "homelessness": "housing",
    "mental_health": "mental_health",
    "substance_use": "substance_use",
    "property_crime": "victim_services",
    "violence": "victim_services",
}


def service_for(category: str | None) -> str:
    """The service a referral for a concern of ``category`` is for (``other`` by default)."""
    return CATEGORY_SERVICES.get(category or "", "other")


# Words that clear a date field (``--follow-up none``).
NO_DATE = frozenset({"", "none", "no", "clear", "-"})

REFERRAL_STATUSES = ("made", "accepted", "declined", "unreachable", "completed")
REFERRAL_OPEN_STATUSES = ("made", "accepted", "unreachable")
ORG_KINDS = (
    "faith", "school", "nonprofit", "business", "health", "government",
    "neighborhood_association", "youth", "other",
)  # fmt: skip
ORG_STATUSES = ("active", "inactive", "defunct")
# A contact's review by a supervisor (fieldlog.review): saved as submitted; a supervisor
# approves it or returns it to its officer with a comment.
REVIEW_STATUSES = ("submitted", "approved", "returned")
# A problem's SARA phase (scanning, analysis, response, assessment), then closed.
PROBLEM_PHASES = ("scanning", "analysis", "response", "assessment", "closed")
# What a problem's activity-log entry records: a note, a phase change, a new action plan.
PROBLEM_ENTRY_KINDS = ("note", "phase", "plan")
# The records a problem links to (problem_links has one column for each).
PROBLEM_LINK_COLUMNS = {
    "contacts": "contact_id",
    "concerns": "concern_id",
    "referrals": "referral_id",
    "organizations": "organization_id",
}

# Narratives are capped: this is a partnership log, not a case file.
MAX_SUMMARY = 500
MAX_TEXT = 4000
MAX_SHORT = 200

# Fields kept as JSON lists in their column.
LIST_FIELDS = {"tags", "services"}

# A cell starting with one of these runs as a formula in a spreadsheet (CSV injection, OWASP),
# and a field log holds text that strangers said: exports and CSV reports put a ``'`` before
# it, import takes that ``'`` off again. The one copy: fieldlog.export, fieldlog.report,
# fieldlog.importer and the store's export SQL all read it. One character each (the export's
# fast path and the SQL compare a cell's first character).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


_BREAKS = re.compile("[\t\n\r]")
_FOLD = re.compile("[ ]*[\t\n\r]+[ ]*")

# Fields named in the plural: "The notes are empty", not "The notes is".
PLURAL_FIELDS = frozenset({"notes", "tags", "services"})
_PLURAL_VERBS = {"is": "are", "holds": "hold", "has": "have"}


def the(field: str, verb: str) -> str:
    """``The summary is`` / ``The notes are``: a field and its verb, for messages."""
    name = field.replace("_", " ")
    if field in PLURAL_FIELDS:
        verb = _PLURAL_VERBS.get(verb, verb)
    return f"The {name} {verb}"


def norm_word(value: str) -> str:
    """``Mental Health`` / ``mental-health`` -> ``mental_health``."""
    return "_".join(value.strip().lower().replace("-", " ").split())


def close_words(value: str, allowed: Iterable[str]) -> list[str]:
    """The words of ``allowed`` a mistyped ``value`` may have meant, best first: those it
    starts (``res`` -> resident), then near spellings (``resdent`` -> resident).

    difflib is imported here, on the error path only (``fieldlog add`` stays fast)."""
    v = norm_word(value)
    allowed = tuple(allowed)
    if not v:
        return []
    found = [a for a in allowed if a.startswith(v) or (len(a) > 3 and v.startswith(a))]
    if not found:  # a word inside: "health" -> mental_health
        found = [a for a in allowed if len(v) > 3 and v in a.split("_")]
    import difflib

    scored = sorted(
        ((difflib.SequenceMatcher(None, v, a).ratio(), a) for a in allowed), reverse=True
    )
    best = scored[0][0] if scored else 0.0
    for score, near in scored:  # the near spellings as good as the best one, or nearly
        if score >= max(0.6, best - 0.1) and near not in found:
            found.append(near)
    return found[:3]


def _or(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def choice(field: str, value: str | None, allowed: Iterable[str]) -> str:
    allowed = tuple(allowed)
    name = field.replace("_", " ")
    if not (value or "").strip():  # a required choice left empty (None from clean())
        raise ValidationError(field, f"{the(field, 'is')} empty: use one of {', '.join(allowed)}.")
    v = norm_word(value or "")
    if v in allowed:
        return v
    shown = printable(str(value).strip())
    near = close_words(str(value), allowed)
    hint = f"did you mean {_or(near)}? Use" if near else "use"
    raise ValidationError(field, f"Unknown {name} '{shown}': {hint} one of {', '.join(allowed)}.")


def refuse_controls(field: str, value: str, *, lines: bool = False) -> None:
    """Refuse a control character in typed or imported text (a terminal reads ``ESC ] 0 ;``
    as "set the window title", ``ESC [ 2 J`` as "clear the screen"); line breaks and tabs are
    allowed where ``lines`` (notes and other long text)."""
    found = control_chars(value, newlines=lines)
    if not found:
        return
    one = len(found) == 1
    raise ValidationError(
        field,
        f"{the(field, 'holds')} {'a control character' if one else 'control characters'} "
        f"({', '.join(found)}), which a terminal could act on: remove {'it' if one else 'them'}.",
    )


def text(
    field: str,
    value: str | None,
    *,
    limit: int = MAX_TEXT,
    required: bool = False,
    lines: bool | None = None,
) -> str:
    """Typed text, trimmed and checked: not empty when ``required``, at most ``limit``
    characters, no control characters (:func:`refuse_controls`).

    Long text (``lines``; by default the fields of ``MAX_TEXT``: notes, descriptions,
    reasons, outcomes) keeps its line breaks and tabs, Windows line ends made ``\\n``. In a
    one-line field (a summary, a name) a line break or tab, as a spreadsheet cell or a paste
    brings, becomes one space: it is whitespace, not a command, and refusing it would only
    make the officer retype the line."""
    v = (value or "").strip()
    if lines is None:
        lines = limit >= MAX_TEXT
    if lines:
        if "\r" in v:
            v = v.replace("\r\n", "\n").replace("\r", "\n")
    elif _BREAKS.search(v):
        v = _FOLD.sub(" ", v)
    if required and not v:
        raise ValidationError(field, f"{the(field, 'is')} empty: write a few words.")
    if len(v) > limit:
        raise ValidationError(
            field,
            f"{the(field, 'is')} {len(v)} characters long: keep "
            f"{'them' if field in PLURAL_FIELDS else 'it'} under {limit}.",
        )
    refuse_controls(field, v, lines=lines)
    return v


def tag_list(values: Iterable[str]) -> list[str]:
    """Tags: lower case, no spaces, no duplicates, in the order given. ``a,b`` splits."""
    out: list[str] = []
    for raw in values:
        for part in str(raw).replace(";", ",").split(","):
            t = "-".join(part.strip().lower().split())
            if t and control_chars(t):
                raise ValidationError(
                    "tags",
                    f"The tag '{printable(t)}' holds a control character "
                    f"({', '.join(control_chars(t))}): remove it.",
                )
            if t and len(t) > 50:
                raise ValidationError("tags", f"The tag '{t}' is too long: keep tags short.")
            if t and t not in out:
                out.append(t)
    return out


def word_list(field: str, values: Iterable[str], allowed: Iterable[str]) -> list[str]:
    out: list[str] = []
    for raw in values:
        for part in str(raw).replace(";", ",").split(","):
            if part.strip():
                v = choice(field, part, allowed)
                if v not in out:
                    out.append(v)
    return out


class Default:
    """A rule with the value a new record gets when the field is not given."""

    def __init__(self, rule: Any, default: Any) -> None:
        self.rule, self.default = rule, default

    def __call__(self, value: Any) -> Any:
        if value is None:  # not given (an empty cell of an imported file): the default
            return list(self.default) if isinstance(self.default, list) else self.default
        return self.rule(value)


def optional(rule: Any) -> Any:
    """None/empty stays None; anything else goes through the rule."""
    return lambda v: None if v is None or (isinstance(v, str) and not v.strip()) else rule(v)


def short(field: str) -> Any:
    return optional(lambda v: text(field, v, limit=MAX_SHORT))


def long_text(field: str) -> Any:
    return optional(lambda v: text(field, v, limit=MAX_TEXT))


def passthrough(v: Any) -> Any:
    return v


def split_pair(option: str, value: str, what: str) -> tuple[str, str]:
    """``CATEGORY:TEXT`` / ``AGENCY:REASON`` -> a pair; the text part may be empty."""
    head, sep, tail = value.partition(":")
    if not head.strip():
        raise ValidationError(option, f"--{option} '{printable(value)}' needs {what}.")
    return head.strip(), tail.strip()
