"""The contact form's fields: their order, labels, hints, suggestion sources and error
mapping, and the conversions between a stored contact and the strings the form shows."""

from __future__ import annotations

from typing import Any

from fieldlog import dates

# Form field id -> (label, store key). Order is the Tab order: the fields of nearly every
# contact first (then the concern and referral lines), the rest below them.
FIELDS: tuple[tuple[str, str, str], ...] = (
    ("summary", "Summary", "summary"),
    ("person", "Person", "person_name"),
    ("neighborhood", "Neighborhood", "neighborhood"),
    ("when", "When", "occurred_at"),
    ("kind", "Kind", "kind"),
    ("organization", "Organization", "organization"),
    ("beat", "Beat", "beat"),
    ("location", "Location", "location"),
    ("tags", "Tags", "tags"),
    ("follow_up", "Follow up on", "follow_up_on"),
    ("notes", "Notes", "notes"),
)
PLACEHOLDERS = {
    "summary": "What happened, in a line",
    "when": "now, yesterday 14:30, last friday, 2024-05-01 09:00",
    "person": "Who you spoke with",
    "organization": "A partner from the directory",
    "neighborhood": "Where (your default from fieldlog init is filled in)",
    "tags": "comma separated",
    "follow_up": "none, tomorrow, next monday, in 2 weeks",
}
# Inputs whose suggestions come from earlier entries: field id -> store.records.suggestions() name.
SUGGEST = {
    "person": "person_name",
    "organization": "organization",
    "neighborhood": "neighborhood",
    "beat": "beat",
    "location": "location",
    "tags": "tag",
    "referral-agency": "agency",
}
# ValidationError.field -> the form field that shows the message.
ERROR_FIELD = {
    "summary": "summary",
    "date": "when",
    "when": "when",
    "occurred_at": "when",
    "kind": "kind",
    "person_name": "person",
    "organization": "organization",
    "organization_id": "organization",
    "neighborhood": "neighborhood",
    "beat": "beat",
    "location": "location",
    "tags": "tags",
    "follow-up": "follow_up",
    "follow_up_on": "follow_up",
    "notes": "notes",
    "category": "concern",
    "description": "concern",
    "priority": "concern",
    "agency": "referral",
    "service": "referral",
    "reason": "referral",
}
# The fields above the concern and referral lines; the rest come after them.
MAIN_FIELDS = ("summary", "person", "neighborhood")
# What ctrl+r takes from the last contact logged: same place, same event, time now.
REPEAT_FIELDS = ("kind", "organization", "neighborhood", "beat", "location", "tags")


def blank_values() -> dict[str, str]:
    values = {fid: "" for fid, _, _ in FIELDS}
    values.update(when="now", kind="resident")
    return values


def contact_values(contact: dict[str, Any]) -> dict[str, str]:
    """A stored contact as the strings the form shows (they read back to the same values)."""
    return {
        "summary": contact.get("summary") or "",
        "when": dates.show_local(contact.get("occurred_at")) or "now",
        "kind": contact.get("kind") or "resident",
        "person": contact.get("person_name") or "",
        "organization": contact.get("organization_name") or "",
        "neighborhood": contact.get("neighborhood") or "",
        "beat": contact.get("beat") or "",
        "location": contact.get("location") or "",
        "tags": ", ".join(contact.get("tags") or []),
        "follow_up": contact.get("follow_up_on") or "",
        "notes": contact.get("notes") or "",
    }


def store_value(fid: str, value: str) -> Any:
    """A form string as the value ``Contacts.add``/``update_contact`` takes."""
    if fid == "tags":
        return [value]  # the store splits on commas and tidies each tag
    if fid == "follow_up":
        return value.strip() or "none"
    return value
