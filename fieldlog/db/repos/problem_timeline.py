"""A problem's timeline: its linked records and log entries as one list of dated events."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fieldlog.db.repos.base import Row, Rows


def timeline(problem: Mapping[str, Any]) -> Rows:
    """A problem's events, oldest first: linked contacts, concerns and referrals (at their
    contact's time), partners (when linked is not known here: at the problem's start) and
    log entries. Each event: ``at``, ``kind`` (contact, concern, referral, partner, note,
    phase, plan), ``id`` / ``short_id`` and ``text``."""
    out: Rows = []
    for c in problem.get("contacts", []):
        who = f"{c['person_name']}: " if c.get("person_name") else ""
        out.append(_event(c["occurred_at"], "contact", c, f"{who}{c['summary']}"))
    for k in problem.get("concerns", []):
        text = f"{k['category']} ({k['status']}): {k['description']}"
        out.append(_event(k.get("contact_occurred_at") or k["created_at"], "concern", k, text))
    for r in problem.get("referrals", []):
        text = f"{r['agency']} ({r['status']})" + (f": {r['outcome']}" if r.get("outcome") else "")
        out.append(_event(r.get("contact_occurred_at") or r["created_at"], "referral", r, text))
    for e in problem.get("entries", []):
        out.append(_event(e["occurred_at"], e["kind"], e, e["text"]))
    out.sort(key=lambda e: (e["at"] or "", e["id"]))
    return out


def _event(at: str | None, kind: str, row: Mapping[str, Any], text: str) -> Row:
    return {"at": at, "kind": kind, "id": row["id"], "short_id": row.get("short_id"),
            "text": text}  # fmt: skip
