"""Records, vocabularies and validation: the rules, in one place for the CLI and the TUI.

Records travel as plain dicts keyed by column name. ``clean_*`` functions take what a person
typed (strings, lists) and return the values to store, or raise ValidationError naming the
field, the problem and what is accepted. They never touch the database: the store resolves
ids and names.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
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

SYNC_COLUMNS = ("id", "created_at", "updated_at", "officer", "origin", "hlc", "deleted", "clocks")

CONTACT_FIELDS = (
    "occurred_at", "kind", "person_name", "organization_id", "neighborhood", "beat",
    "location", "summary", "notes", "tags", "follow_up_on",
)  # fmt: skip
CONCERN_FIELDS = (
    "contact_id", "category", "description", "priority", "status", "resolved_at", "resolution",
)  # fmt: skip
REFERRAL_FIELDS = (
    "contact_id", "concern_id", "organization_id", "agency", "service", "reason", "status",
    "follow_up_on", "outcome",
)  # fmt: skip
ORG_FIELDS = (
    "name", "kind", "contact_person", "phone", "email", "address", "neighborhood", "services",
    "status", "last_verified", "notes",
)  # fmt: skip

TABLE_FIELDS = {
    "contacts": CONTACT_FIELDS,
    "concerns": CONCERN_FIELDS,
    "referrals": REFERRAL_FIELDS,
    "organizations": ORG_FIELDS,
}
# What a person calls each table in messages.
NOUN = {
    "contacts": "contact",
    "concerns": "concern",
    "referrals": "referral",
    "organizations": "organization",
}
# Fields kept as JSON lists in their column.
LIST_FIELDS = {"tags", "services"}


def norm_word(value: str) -> str:
    """``Mental Health`` / ``mental-health`` -> ``mental_health``."""
    return "_".join(value.strip().lower().replace("-", " ").split())


def choice(field: str, value: str, allowed: Iterable[str]) -> str:
    allowed = tuple(allowed)
    v = norm_word(value)
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


def _clean(
    table: str, values: Mapping[str, Any], rules: Mapping[str, Any], *, partial: bool
) -> dict[str, Any]:
    unknown = set(values) - set(TABLE_FIELDS[table])
    if unknown:
        raise ValidationError(sorted(unknown)[0], f"{NOUN[table]} has no field {sorted(unknown)}")
    out: dict[str, Any] = {}
    for field, rule in rules.items():
        if field in values:
            out[field] = rule(values[field])
        elif not partial and isinstance(rule, _Default):
            out[field] = rule.default
    return out


class _Default:
    """A rule with the value a new record gets when the field is not given."""

    def __init__(self, rule: Any, default: Any) -> None:
        self.rule, self.default = rule, default

    def __call__(self, value: Any) -> Any:
        if value is None:  # not given (an empty cell of an imported file): the default
            return list(self.default) if isinstance(self.default, list) else self.default
        return self.rule(value)


def _opt(rule: Any) -> Any:
    """None/empty stays None; anything else goes through the rule."""
    return lambda v: None if v is None or (isinstance(v, str) and not v.strip()) else rule(v)


def _short(field: str) -> Any:
    return _opt(lambda v: text(field, v, limit=MAX_SHORT))


def _long(field: str) -> Any:
    return _opt(lambda v: text(field, v, limit=MAX_TEXT))


def _passthrough(v: Any) -> Any:
    return v


CONTACT_RULES: dict[str, Any] = {
    "occurred_at": _passthrough,  # the shells parse WHEN; the store stamps "now" by default
    "kind": _Default(lambda v: choice("kind", v, CONTACT_KINDS), "resident"),
    "person_name": _short("person_name"),
    "organization_id": _passthrough,
    "neighborhood": _short("neighborhood"),
    "beat": _short("beat"),
    "location": _short("location"),
    "summary": lambda v: text("summary", v, limit=MAX_SUMMARY, required=True),
    "notes": _long("notes"),
    "tags": _Default(lambda v: tag_list(v or []), []),
    "follow_up_on": _passthrough,
}
CONCERN_RULES: dict[str, Any] = {
    "contact_id": _passthrough,
    "category": lambda v: choice("category", v, CONCERN_CATEGORIES),
    "description": lambda v: text("description", v, limit=MAX_TEXT, required=True),
    "priority": _Default(lambda v: choice("priority", v, PRIORITIES), "normal"),
    "status": _Default(lambda v: choice("status", v, CONCERN_STATUSES), "open"),
    "resolved_at": _passthrough,
    "resolution": _long("resolution"),
}
REFERRAL_RULES: dict[str, Any] = {
    "contact_id": _passthrough,
    "concern_id": _passthrough,
    "organization_id": _passthrough,
    "agency": lambda v: text("agency", v, limit=MAX_SHORT, required=True),
    "service": _opt(lambda v: choice("service", v, REFERRAL_SERVICES)),
    "reason": _long("reason"),
    "status": _Default(lambda v: choice("status", v, REFERRAL_STATUSES), "made"),
    "follow_up_on": _passthrough,
    "outcome": _long("outcome"),
}
ORG_RULES: dict[str, Any] = {
    "name": lambda v: text("name", v, limit=MAX_SHORT, required=True),
    "kind": _Default(lambda v: choice("kind", v, ORG_KINDS), "other"),
    "contact_person": _short("contact_person"),
    "phone": _short("phone"),
    "email": _short("email"),
    "address": _short("address"),
    "neighborhood": _short("neighborhood"),
    "services": _Default(lambda v: word_list("service", v or [], REFERRAL_SERVICES), []),
    "status": _Default(lambda v: choice("status", v, ORG_STATUSES), "active"),
    "last_verified": _passthrough,
    "notes": _long("notes"),
}
RULES = {
    "contacts": CONTACT_RULES,
    "concerns": CONCERN_RULES,
    "referrals": REFERRAL_RULES,
    "organizations": ORG_RULES,
}


def clean(table: str, values: Mapping[str, Any], *, partial: bool = False) -> dict[str, Any]:
    """Validate a new record (``partial=False``: required fields, defaults) or an edit."""
    out = _clean(table, values, RULES[table], partial=partial)
    if not partial:
        required = {
            "contacts": ("summary",),
            "concerns": ("category", "description"),
            "referrals": ("agency",),
            "organizations": ("name",),
        }[table]
        for field in required:
            if field not in out:
                out[field] = RULES[table][field](None)  # raises the "is empty" message
    return out


def split_pair(option: str, value: str, what: str) -> tuple[str, str]:
    """``CATEGORY:TEXT`` / ``AGENCY:REASON`` -> a pair; the text part may be empty."""
    head, sep, tail = value.partition(":")
    if not head.strip():
        raise ValidationError(option, f"--{option} '{value}' needs {what}.")
    return head.strip(), tail.strip()
