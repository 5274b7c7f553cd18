"""Which fields of a record are personal: the one classification that ``export --redact``
(:mod:`fieldlog.export.redact`) and the department store's redacted views
(:mod:`fieldlog.db.remotes.roles`, ``fieldlog.contacts_redacted`` and its siblings) apply.

- :data:`NAME_FIELDS`: person names, which become a pseudonym;
- :data:`BLANKED_FIELDS`: other personal fields, emptied;
- :data:`ID_FIELDS`: ids and the columns pointing at records (an export re-keys them; a view
  keeps them, or its rows would not join);
- :data:`KEPT_FIELDS`: kept as they are: times and dates, words of a vocabulary, where and by
  whom (what makes the work countable; none of them is a member of the public's);
- :data:`FREE_TEXT_FIELDS`: every other column (summary, notes, descriptions, a partner's
  name, tags, a review's comment; a column added later included: the default is to treat it
  as free text). An export scrubs it of every known name; a view withholds it.

This module is part of the domain core: it reads only the record registry.
"""

from __future__ import annotations

from fieldlog import records

__all__ = ["BLANKED_FIELDS", "FREE_TEXT_FIELDS", "ID_FIELDS", "KEPT_FIELDS", "NAME_FIELDS"]

NAME_FIELDS = frozenset({"person_name", "contact_person"})
BLANKED_FIELDS = frozenset({"phone", "email", "address", "location"})
ID_FIELDS = frozenset(
    {"id", "record_id"}
    | {r.parent[1] for r in records.iter_types() if r.parent}
    | {f for r in records.iter_types() for f in r.refs}
)
KEPT_FIELDS = frozenset(
    {"occurred_at", "resolved_at", "created_at", "updated_at", "follow_up_on", "last_verified"}
    | {"kind", "category", "priority", "status", "service", "services", "record_type"}
    | {"officer", "neighborhood", "beat"}
    # A contact's review: its status word, when and by which supervisor (an officer, like
    # ``officer``); the review's comment is free text.
    | {"review_status", "reviewed_at", "reviewed_by"}
    # A problem's SARA phase, its dates and its coordinator (an officer, like ``officer``);
    # its title, description, plan and log entries are free text.
    | {"phase", "started_at", "response_started_at", "closed_at", "coordinator"}
)
_SPECIAL = NAME_FIELDS | BLANKED_FIELDS | ID_FIELDS | KEPT_FIELDS
FREE_TEXT_FIELDS = frozenset(
    c for r in records.iter_types() for c in r.export_columns if c not in _SPECIAL
)
