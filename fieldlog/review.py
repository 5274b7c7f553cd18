"""Supervisor review of contacts: the statuses, what a review writes, and the edit rule.

A contact is saved ``submitted``. A supervisor reads it and either **approves** it or
**returns** it to its officer with a comment saying what to fix; the officer sees returned
contacts in ``fieldlog followups`` and on the dashboard, edits the contact, and the edit sends
it back (``submitted``) for the supervisor to look at again. The four review fields are
ordinary synced fields of the contact (:data:`REVIEW_FIELDS`, in the record registry), so a
review made on a supervisor's laptop reaches the officer's at the next sync, and the audit
chain keeps every step.

- :func:`approve_values`: the status, who approved and when. The comment of an earlier return
  stays: it says what was asked and fixed (``fieldlog history`` has every earlier one); a new
  return replaces it.
- :func:`return_values`: the status, the comment (required), who and when.
- :func:`resubmitted`: the edit rule the one write path applies
  (:meth:`fieldlog.db.tx.Tx.update`): an edit of a contact that changes any field that is
  not a review field (nor ``deleted``) sets ``review_status`` back to ``submitted``, unless the
  write sets the status itself (a review, an undo, an import of exported review fields). The
  comment is kept, so the supervisor sees what they asked for.
- :func:`may_review`: approving and returning are a supervisor's. On the laptop that is the
  role this device holds in the department's trust list as last seen at a sync (meta
  :data:`ROLE_KEY`, written by :meth:`fieldlog.db.devices.Trust.prepare`). A department store
  on PostgreSQL enforces the same rule itself (row-level security): this check only saves an
  officer a write the department would refuse.

This module is part of the domain core: no SQL, no I/O beyond reading the store's meta.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from fieldlog import models, records
from fieldlog.errors import ValidationError

if TYPE_CHECKING:
    from fieldlog.db.store import Store

TABLE = "contacts"
STATUSES = models.REVIEW_STATUSES
SUBMITTED, APPROVED, RETURNED = STATUSES
REVIEW_FIELDS = records.REVIEW_FIELDS
# meta: this device's role in the trust list of the store it last synced with.
ROLE_KEY = "dept_role"
SUPERVISOR = "supervisor"
NOT_SUPERVISOR = (
    "Only a supervisor reviews contacts: this laptop's device is not a supervisor in the "
    "department's trust list (as of its last sync). A supervisor runs  fieldlog dept trust "
    "DEVICE --role supervisor  (DEVICE from  fieldlog dept key  here), then sync."
)


def status(value: str) -> str:
    """A status as typed (``Returned``, ``approve``d in any case) -> the stored word."""
    return models.choice("status", value, STATUSES)


def approve_values(reviewer: str, now: str) -> dict[str, Any]:
    """What approving a contact writes: the status, the reviewer (this laptop's officer) and
    the time (stored form). The comment is left as it is."""
    return {"review_status": APPROVED, "reviewed_by": reviewer, "reviewed_at": now}


def return_values(reviewer: str, comment: str, now: str) -> dict[str, Any]:
    """What returning a contact to its officer writes; the comment is required (it is what
    the officer reads: what to fix)."""
    text = models.text("comment", comment, required=True)
    return {
        "review_status": RETURNED,
        "review_comment": text,
        "reviewed_by": reviewer,
        "reviewed_at": now,
    }


def resubmitted(
    given: Mapping[str, Any], current: Mapping[str, Any], changed: Mapping[str, Any]
) -> dict[str, Any]:
    """The edit rule: what an update of a contact writes besides ``changed`` (the fields that
    differ from ``current``, the stored row). ``given``: every value the write names; when it
    names ``review_status`` the write decides the status itself and nothing is added."""
    if "review_status" in given:
        return {}
    content = [k for k in changed if k not in REVIEW_FIELDS and k != "deleted"]
    if content and current.get("review_status") not in (None, SUBMITTED):
        return {"review_status": SUBMITTED}
    return {}


def check_review(values: Mapping[str, Any]) -> None:
    """Refuse a review write that names anything but review fields (a review changes the
    review, never the contact)."""
    other = sorted(set(values) - set(REVIEW_FIELDS))
    if other:
        raise ValidationError(other[0], f"A review writes only {', '.join(REVIEW_FIELDS)}.")


def followup_row(c: Mapping[str, Any]) -> dict[str, Any]:
    """A returned contact (``store.contacts.returned``) as a ``fieldlog followups --json``
    row: ``type`` "returned", the comment as its ``detail``, in the keys of the follow-ups
    due (which keep their form), the review's own fields after them."""
    return {
        "type": "returned",
        "id": c["id"],
        "follow_up_on": c.get("follow_up_on"),
        "contact_id": c["id"],
        "status": c["review_status"],
        "subject": c["summary"],
        "detail": c["review_comment"],
        "person_name": c.get("person_name"),
        "neighborhood": c["neighborhood"],
        "officer": c["officer"],
        "overdue": False,
        "short_id": c["short_id"],
        **{k: c[k] for k in ("occurred_at", "review_comment", "reviewed_by", "reviewed_at")},
    }


def role(store: Store) -> str | None:
    """This device's role as of its last sync (``supervisor``, ``officer`` or ``none``);
    None when it never synced with a department store."""
    return store.meta().get(ROLE_KEY)


def may_review(store: Store) -> str | None:
    """None when this laptop may approve and return contacts; else the one-line reason."""
    return None if role(store) == SUPERVISOR else NOT_SUPERVISOR
