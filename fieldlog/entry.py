"""The contact-entry rule: how the concerns and referrals typed with one contact fit together.

An *entry* is a contact (new, or an edit of one) with the concerns and referrals typed with
it: one ``fieldlog add`` line, one TUI form, one imported row. When an entry has exactly one
concern, its referrals answer that concern: they point at it, a referral without a service
takes the one its category calls for (``models.service_for``: ``homelessness`` -> ``housing``,
``noise`` -> ``other``), and an open concern becomes "referred". With several concerns (or
none) no concern is guessed, and a referral without a service is for ``other``.

The rule is pure: it takes values already cleaned by the record registry and writes nothing.
The store's entry repository (:mod:`fieldlog.db.repos.entries`) applies it on every path
(CLI add, TUI new and edit, import) and writes the entry in one transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from fieldlog import models

Values = dict[str, Any]


@dataclass
class Entry:
    """The cleaned parts of one entry, the rule applied (see :func:`link`)."""

    contact: Values
    concerns: list[Values] = field(default_factory=list)
    referrals: list[Values] = field(default_factory=list)

    @property
    def answered(self) -> int | None:
        """The index of the concern the referrals answer (None: no single concern)."""
        return 0 if len(self.concerns) == 1 else None

    def referrals_for(self, concern_ids: Sequence[str]) -> list[Values]:
        """The referrals once the concerns are written (``concern_ids`` in order): with one
        concern, those that name no concern of their own point at it."""
        return link_referrals(self.referrals, concern_ids)


def referred_status(status: str) -> str:
    """A concern's status once a referral answers it: open becomes referred, others stay."""
    return "referred" if status == "open" else status


def link(
    contact: Mapping[str, Any],
    concerns: Iterable[Mapping[str, Any]],
    referrals: Iterable[Mapping[str, Any]],
) -> Entry:
    """Apply the entry rule to cleaned values (copies: the arguments are not changed)."""
    out_concerns = [dict(c) for c in concerns]
    out_refs = [dict(r) for r in referrals]
    if len(out_concerns) == 1:
        concern = out_concerns[0]
        for r in out_refs:
            if not r.get("service"):
                r["service"] = models.service_for(concern.get("category"))
        if out_refs:
            concern["status"] = referred_status(concern["status"])
    for r in out_refs:  # no single concern to take it from: never an empty service
        if not r.get("service"):
            r["service"] = "other"
    return Entry(dict(contact), out_concerns, out_refs)


def link_referrals(
    referrals: Iterable[Mapping[str, Any]], concern_ids: Sequence[str]
) -> list[Values]:
    """With exactly one concern written, the referrals without a concern answer it."""
    out = [dict(r) for r in referrals]
    if len(concern_ids) == 1:
        for r in out:
            if not r.get("concern_id"):
                r["concern_id"] = concern_ids[0]
    return out


def typed_times(
    values: dict[str, Any], *, at_label: str = "--at", follow_label: str = "--follow-up"
) -> list[str]:
    """The contact's ``occurred_at`` and ``follow_up_on`` as a person typed them (``--at``,
    ``--follow-up``, the form's When and Follow up on), checked for sense in place: not in the
    future, not 10 or more years ago; a follow-up already past is kept, with a warning. Returns
    the warnings for the shell to show once the write is done. Imports and sync never come
    here: an old record stays importable."""
    from fieldlog import dates

    warnings: list[str] = []
    when = values.get("occurred_at")
    if isinstance(when, str) and when.strip():
        parsed = dates.parse_at(when, label=at_label)
        values["occurred_at"] = parsed
        if parsed.warning:
            warnings.append(parsed.warning)
    follow = values.get("follow_up_on")
    if isinstance(follow, str) and follow.strip().lower() not in models.NO_DATE:
        day = dates.parse_follow_up(follow, label=follow_label)
        values["follow_up_on"] = day.day
        if day.warning:
            warnings.append(day.warning)
    return warnings
