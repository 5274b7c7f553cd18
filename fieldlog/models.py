"""Vocabularies and the building blocks of validation, for the CLI, the TUI, import and sync.

Records travel as plain dicts keyed by column name. The rules here take what a person typed
(strings, lists) and return the value to store, or raise ValidationError naming the field, the
problem and what is accepted. Which rule each field of each table uses is said once, in
:mod:`fieldlog.records` (the record registry). Nothing here touches the database.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fieldlog.errors import ValidationError

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
REFERRAL_STATUSES = ("made", "accepted", "declined", "unreachable", "completed")
REFERRAL_OPEN_STATUSES = ("made", "accepted", "unreachable")
ORG_KINDS = (
    "faith", "school", "nonprofit", "business", "health", "government",
    "neighborhood_association", "youth", "other",
)  # fmt: skip
ORG_STATUSES = ("active", "inactive", "defunct")

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


def norm_word(value: str) -> str:
    """``Mental Health`` / ``mental-health`` -> ``mental_health``."""
    return "_".join(value.strip().lower().replace("-", " ").split())


def choice(field: str, value: str | None, allowed: Iterable[str]) -> str:
    allowed = tuple(allowed)
    if not (value or "").strip():  # a required choice left empty (None from clean())
        raise ValidationError(
            field, f"The {field.replace('_', ' ')} is empty: use one of {', '.join(allowed)}."
        )
    v = norm_word(value or "")
    if v in allowed:
        return v
    raise ValidationError(
        field, f"Unknown {field.replace('_', ' ')} '{value}': use one of {', '.join(allowed)}."
    )


def text(field: str, value: str | None, *, limit: int = MAX_TEXT, required: bool = False) -> str:
    v = (value or "").strip()
    if required and not v:
        raise ValidationError(field, f"The {field.replace('_', ' ')} is empty: write a few words.")
    if len(v) > limit:
        raise ValidationError(
            field,
            f"The {field.replace('_', ' ')} is {len(v)} characters long: keep it under {limit}.",
        )
    return v


def tag_list(values: Iterable[str]) -> list[str]:
    """Tags: lower case, no spaces, no duplicates, in the order given. ``a,b`` splits."""
    out: list[str] = []
    for raw in values:
        for part in str(raw).replace(";", ",").split(","):
            t = "-".join(part.strip().lower().split())
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
        raise ValidationError(option, f"--{option} '{value}' needs {what}.")
    return head.strip(), tail.strip()
