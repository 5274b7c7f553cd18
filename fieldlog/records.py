"""The record registry: every synced table described once.

A :class:`RecordType` says what a table is called (table name and the noun people read), its
fields with the rule that cleans each one, which are required, its parent (a concern or a
referral belongs to a contact), the columns its search index holds, the columns an export
writes, and where it comes in a sync (parents before children). Models, the store, audit,
retention, import, export, search and the CLI's table choices read it: adding a record type is
one entry here plus a migration (docs/architecture.md).

This module is part of the domain core: it imports nothing but :mod:`fieldlog.models` and
:mod:`fieldlog.errors`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from fieldlog import models as m
from fieldlog.errors import ValidationError

Rule = Callable[[Any], Any]

# The columns every synced table has, kept by the store (never typed by a person).
SYNC_COLUMNS = ("id", "created_at", "updated_at", "officer", "origin", "hlc", "deleted", "clocks")
# What an export adds after a record's own fields.
EXPORT_TAIL = ("officer", "created_at", "updated_at")


@dataclass(frozen=True)
class RecordType:
    """One synced table. ``fields`` keeps the column order of the schema."""

    table: str
    noun: str
    rules: Mapping[str, Rule]
    required: tuple[str, ...]
    fts: tuple[str, ...]
    # The command that lists the records (named in "no such id" messages).
    list_cmd: str
    # Sync and import order: a record comes after the records it points to.
    sync_order: int
    # The column a search hit shows as its title.
    title: str
    # The table's alias in SQL that joins it (export filters and the flat view).
    alias: str
    # (parent table, the column pointing at it): deleting the parent tombstones the child.
    parent: tuple[str, str] | None = None
    # Fields stored as a JSON list in their column.
    lists: frozenset[str] = frozenset()
    # Export column order; None: id, the fields, then EXPORT_TAIL.
    export: tuple[str, ...] | None = None
    # Other columns pointing at records: field -> table (resolved by the store, checked by sync).
    refs: Mapping[str, str] = field(default_factory=dict)
    # A rule over the whole record (what no one field says): the reason a record is not one a
    # fieldlog writes, or None. Checked for a new record (import) and for every pulled change.
    whole: Callable[[Mapping[str, Any]], str | None] | None = None

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(self.rules)

    @property
    def export_columns(self) -> tuple[str, ...]:
        return self.export or ("id", *self.fields, *EXPORT_TAIL)

    @property
    def parent_table(self) -> str | None:
        return self.parent[0] if self.parent else None

    def clean(self, values: Mapping[str, Any], *, partial: bool = False) -> dict[str, Any]:
        """Validate a new record (``partial=False``: required fields, defaults) or an edit."""
        unknown = sorted(set(values) - set(self.rules))
        if unknown:
            raise ValidationError(
                unknown[0],
                f"A {self.noun} has no field {', '.join(repr(u) for u in unknown)}: its fields "
                f"are {', '.join(self.rules)}.",
            )
        out: dict[str, Any] = {}
        for name, rule in self.rules.items():
            if name in values:
                out[name] = rule(values[name])
            elif not partial and isinstance(rule, m.Default):
                out[name] = rule.default
        if not partial:
            for name in self.required:
                if name not in out:
                    out[name] = self.rules[name](None)  # raises the "is empty" message
            why = self.whole(out) if self.whole else None
            if why:
                raise ValidationError(self.table, f"{why[0].upper()}{why[1:]}.")
        return out


CONTACTS = RecordType(
    table="contacts",
    noun="contact",
    rules={
        "occurred_at": m.passthrough,  # the shells parse WHEN; the store stamps "now" by default
        "kind": m.Default(lambda v: m.choice("kind", v, m.CONTACT_KINDS), "resident"),
        "person_name": m.short("person_name"),
        "organization_id": m.passthrough,
        "neighborhood": m.short("neighborhood"),
        "beat": m.short("beat"),
        "location": m.short("location"),
        "summary": lambda v: m.text("summary", v, limit=m.MAX_SUMMARY, required=True),
        "notes": m.long_text("notes"),
        "tags": m.Default(lambda v: m.tag_list(v or []), []),
        "follow_up_on": m.passthrough,
        # Supervisor review (docs/review.md): appended last, so older bodies and files that
        # lack them stay readable (ADDED_FIELDS).
        "review_status": m.Default(
            lambda v: m.choice("review_status", v, m.REVIEW_STATUSES), "submitted"
        ),
        "review_comment": m.long_text("review_comment"),
        "reviewed_by": m.short("reviewed_by"),
        "reviewed_at": m.passthrough,  # a time, stamped by the store (fieldlog.review)
    },
    required=("summary",),
    fts=("summary", "notes", "person_name", "location"),
    list_cmd="list",
    sync_order=1,
    title="summary",
    alias="c",
    lists=frozenset({"tags"}),
    export=(
        "id",
        "occurred_at",
        "officer",
        "kind",
        "person_name",
        "organization_id",
        "neighborhood",
        "beat",
        "location",
        "summary",
        "notes",
        "tags",
        "follow_up_on",
        "created_at",
        "updated_at",
        "review_status",
        "review_comment",
        "reviewed_by",
        "reviewed_at",
    ),  # fmt: skip
    refs={"organization_id": "organizations"},
)

CONCERNS = RecordType(
    table="concerns",
    noun="concern",
    rules={
        "contact_id": m.passthrough,
        "category": lambda v: m.choice("category", v, m.CONCERN_CATEGORIES),
        "description": lambda v: m.text("description", v, limit=m.MAX_TEXT, required=True),
        "priority": m.Default(lambda v: m.choice("priority", v, m.PRIORITIES), "normal"),
        "status": m.Default(lambda v: m.choice("status", v, m.CONCERN_STATUSES), "open"),
        "resolved_at": m.passthrough,
        "resolution": m.long_text("resolution"),
    },
    required=("category", "description"),
    fts=("description", "resolution"),
    list_cmd="concern list",
    sync_order=2,
    title="category",
    alias="k",
    parent=("contacts", "contact_id"),
)

REFERRALS = RecordType(
    table="referrals",
    noun="referral",
    rules={
        "contact_id": m.passthrough,
        "concern_id": m.passthrough,
        "organization_id": m.passthrough,
        "agency": lambda v: m.text("agency", v, limit=m.MAX_SHORT, required=True),
        "service": m.optional(lambda v: m.choice("service", v, m.REFERRAL_SERVICES)),
        "reason": m.long_text("reason"),
        "status": m.Default(lambda v: m.choice("status", v, m.REFERRAL_STATUSES), "made"),
        "follow_up_on": m.passthrough,
        "outcome": m.long_text("outcome"),
    },
    required=("agency",),
    fts=("agency", "reason", "outcome"),
    list_cmd="referral list",
    sync_order=3,
    title="agency",
    alias="r",
    parent=("contacts", "contact_id"),
    refs={"concern_id": "concerns", "organization_id": "organizations"},
)

ORGANIZATIONS = RecordType(
    table="organizations",
    noun="organization",
    rules={
        "name": lambda v: m.text("name", v, limit=m.MAX_SHORT, required=True),
        "kind": m.Default(lambda v: m.choice("kind", v, m.ORG_KINDS), "other"),
        "contact_person": m.short("contact_person"),
        "phone": m.short("phone"),
        "email": m.short("email"),
        "address": m.short("address"),
        "neighborhood": m.short("neighborhood"),
        "services": m.Default(lambda v: m.word_list("service", v or [], m.REFERRAL_SERVICES), []),
        "status": m.Default(lambda v: m.choice("status", v, m.ORG_STATUSES), "active"),
        "last_verified": m.passthrough,
        "notes": m.long_text("notes"),
    },
    required=("name",),
    fts=("name", "contact_person", "services", "notes"),
    list_cmd="org list",
    sync_order=0,
    title="name",
    alias="o",
    lists=frozenset({"services"}),
)

PROBLEMS = RecordType(
    table="problems",
    noun="problem",
    rules={
        "title": lambda v: m.text("title", v, limit=m.MAX_SHORT, required=True),
        "description": m.long_text("description"),
        "neighborhood": m.short("neighborhood"),
        "location": m.short("location"),
        "category": m.optional(lambda v: m.choice("category", v, m.CONCERN_CATEGORIES)),
        "coordinator": m.short("coordinator"),
        "phase": m.Default(lambda v: m.choice("phase", v, m.PROBLEM_PHASES), "scanning"),
        "started_at": m.passthrough,  # times, stamped by the repository (fieldlog.problems)
        "response_started_at": m.passthrough,
        "closed_at": m.passthrough,
        "plan": m.long_text("plan"),
    },
    required=("title",),
    fts=("title", "description", "location", "plan"),
    list_cmd="problem list",
    sync_order=4,
    title="title",
    alias="p",
)


def _one_target(values: Mapping[str, Any]) -> str | None:
    named = [c for c in m.PROBLEM_LINK_COLUMNS.values() if values.get(c)]
    if len(named) == 1:
        return None
    return (
        f"a problem link names exactly one contact, concern, referral or partner, not "
        f"{len(named) or 'none'}{' (' + ', '.join(named) + ')' if named else ''}"
    )


# A problem's link to a contact, concern, referral or partner: one row per link (one of the
# four columns set), so two officers linking records to one problem never conflict.
PROBLEM_LINKS = RecordType(
    table="problem_links",
    noun="problem link",
    rules={
        "problem_id": m.passthrough,
        "contact_id": m.passthrough,
        "concern_id": m.passthrough,
        "referral_id": m.passthrough,
        "organization_id": m.passthrough,
    },
    required=(),
    fts=(),
    list_cmd="problem show",
    sync_order=5,
    title="problem_id",
    alias="pl",
    parent=("problems", "problem_id"),
    refs={
        "contact_id": "contacts",
        "concern_id": "concerns",
        "referral_id": "referrals",
        "organization_id": "organizations",
    },
    whole=_one_target,
)

# A problem's activity log: dated entries (a note, a phase change, a new plan), each its own
# row, so two officers adding entries at once both keep theirs.
PROBLEM_ENTRIES = RecordType(
    table="problem_entries",
    noun="log entry",
    rules={
        "problem_id": m.passthrough,
        "occurred_at": m.passthrough,
        "kind": m.Default(lambda v: m.choice("kind", v, m.PROBLEM_ENTRY_KINDS), "note"),
        "text": lambda v: m.text("text", v, limit=m.MAX_TEXT, required=True),
    },
    required=("text",),
    fts=("text",),
    list_cmd="problem show",
    sync_order=5,
    title="text",
    alias="pe",
    parent=("problems", "problem_id"),
)

# The review fields of a contact (fieldlog.review): who checked it and what they said.
REVIEW_FIELDS = ("review_status", "review_comment", "reviewed_by", "reviewed_at")
# Fields a later release added to a table: a change pushed by an older fieldlog, and a file an
# older one exported, lack exactly these (they are then left as they are, never emptied).
ADDED_FIELDS: dict[str, tuple[str, ...]] = {"contacts": REVIEW_FIELDS}
# Fields holding a time (stored ``2026-11-24T20:30:00Z``; shown and exported in local time).
TIME_FIELDS = frozenset(
    {"occurred_at", "resolved_at", "reviewed_at", "started_at", "response_started_at", "closed_at"}
)

# In the order a person reads them (exports, listings); ``in_sync_order()`` for writing.
_TYPES = (CONTACTS, CONCERNS, REFERRALS, ORGANIZATIONS, PROBLEMS, PROBLEM_LINKS, PROBLEM_ENTRIES)
REGISTRY: dict[str, RecordType] = {r.table: r for r in _TYPES}
TABLES: tuple[str, ...] = tuple(REGISTRY)
# Fields kept as JSON lists in their column, over every table.
LIST_FIELDS: frozenset[str] = frozenset().union(*(r.lists for r in REGISTRY.values()))
TABLE_FIELDS: dict[str, tuple[str, ...]] = {t: r.fields for t, r in REGISTRY.items()}
NOUN: dict[str, str] = {t: r.noun for t, r in REGISTRY.items()}
FTS_COLUMNS: dict[str, tuple[str, ...]] = {t: r.fts for t, r in REGISTRY.items() if r.fts}


def get(table: str) -> RecordType:
    """The record type of ``table``; ValueError for a name that is not a record table."""
    try:
        return REGISTRY[table]
    except KeyError:
        raise ValueError(f"not a record table: {table!r}") from None


def in_sync_order() -> tuple[str, ...]:
    """Tables with every parent (and every table a record points to) before its children."""
    return tuple(sorted(REGISTRY, key=lambda t: REGISTRY[t].sync_order))


def children(table: str) -> tuple[str, ...]:
    """The tables whose records belong to a record of ``table`` (tombstoned with it)."""
    return tuple(t for t, r in REGISTRY.items() if r.parent_table == table)


def child_tables() -> tuple[str, ...]:
    """Tables whose records belong to a parent record."""
    return tuple(t for t, r in REGISTRY.items() if r.parent is not None)


def by_noun(noun: str) -> RecordType:
    for r in REGISTRY.values():
        if r.noun == noun:
            return r
    raise ValueError(f"not a record noun: {noun!r}")


def clean(table: str, values: Mapping[str, Any], *, partial: bool = False) -> dict[str, Any]:
    """Validate a new record of ``table`` (``partial=False``) or an edit of one."""
    return get(table).clean(values, partial=partial)


def iter_types() -> Iterator[RecordType]:
    return iter(REGISTRY.values())
