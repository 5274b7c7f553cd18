"""The merge rules of sync: what a pulled change does to the local copy of a record.

The model (docs/sync.md says it for officers):

- Every record's field carries the hybrid-logical-clock stamp of its last change (the
  ``clocks`` column). A change travels as the record's whole state, each field with its stamp,
  plus the names of the fields that this change touched (``changed``).
- Merging keeps, field by field, the value with the higher stamp (stamps compare as
  (wall time, counter, device)); an exact tie of stamps with different values (a copied log)
  is broken by the value itself, so every replica picks the same one. The merge is therefore
  commutative, associative and idempotent: replicas converge whatever the order of syncs.
- A conflict is a field that both sides changed since they last met: the laptop changed it and
  has not pushed it yet, and the pulled change names it too. The winner applies as above; the
  losing value goes to the ``conflicts`` table for the officer to review.
- Deletes are the ``deleted`` field: once set, an edit elsewhere never silently undeletes it
  (the officer sees a conflict when an edit met a delete).
- A change stamped more than :data:`MAX_SKEW_MS` ahead of this laptop's clock is held, not
  applied, until that time comes: a laptop with its clock years ahead cannot win forever.

This module is part of the domain core: pure functions, no SQL, no I/O. The sync log
(:mod:`fieldlog.db.synclog`) reads the local row and writes the outcome through the one write
path (:meth:`fieldlog.db.tx.Tx.apply_remote`); :mod:`fieldlog.sync` runs the round.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from fieldlog import pulled, records
from fieldlog.clock import parse_stamp

MAX_SKEW_MS = pulled.MAX_SKEW_MS  # one hour: more than a laptop clock drifts, less than a shift
META_FIELDS = pulled.META_FIELDS
SYNC_FIELDS = {t: (*f, "deleted") for t, f in records.TABLE_FIELDS.items()}


@dataclass
class Merge:
    """What applying one change to one local row does."""

    action: str  # "insert", "update", "same" or "hold"
    values: dict[str, Any] = field(default_factory=dict)  # fields to write
    clocks: dict[str, str] = field(default_factory=dict)  # the row's clocks afterwards
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    reason: str = ""  # why held


def value_key(value: Any) -> str:
    """A value as comparable text: the tie-break of equal stamps, and "same value" tests."""
    return json.dumps(value, sort_keys=True)


def stamp_of(clocks: Mapping[str, str], name: str) -> str:
    """A field's stamp: its own, else the record's creation stamp (``*``)."""
    return clocks.get(name) or clocks.get("*") or ""


def theirs_wins(stamp: str, value: Any, mine: str, current: Any) -> bool:
    """The per-field rule: the higher stamp wins; equal stamps, the greater value."""
    return stamp > mine or (stamp == mine and value_key(value) > value_key(current))


def is_conflict(
    name: str, *, changed: set[str], pending: set[str], stamp: str, mine: str, same: bool
) -> bool:
    """Both sides changed the field since they last met, to different values (``deleted``
    has its own rule: see :func:`delete_conflict`)."""
    return name in changed and name in pending and name != "deleted" and stamp != mine and not same


def check_body(tbl: str, body: Any) -> dict[str, list[Any]]:
    """The fields of a pulled change as ``{name: [value, stamp]}``, refusing anything a
    fieldlog would not have written (:func:`fieldlog.pulled.check_body`: the registry's rules,
    as typed input; a remote is input like any other). Raises :class:`fieldlog.pulled.Invalid`
    (a ValueError) with the reason."""
    if tbl not in SYNC_FIELDS:
        raise pulled.Invalid(f"unknown table {tbl!r}")
    return pulled.check_body(tbl, body).fields


def too_far_ahead(fields: Mapping[str, list[Any]], now_ms: int | None = None) -> str | None:
    """The change's newest stamp when it is more than :data:`MAX_SKEW_MS` ahead of now."""
    now = int(time.time() * 1000) if now_ms is None else now_ms
    top = max(pair[1] for pair in fields.values())
    wall = parse_stamp(top)[0]
    if wall > now + MAX_SKEW_MS:
        return top
    return None


def newest_stamp(fields: Mapping[str, list[Any]]) -> str:
    """The newest stamp of a checked change (the local clock observes it once applied)."""
    return max(pair[1] for pair in fields.values())


def merge(
    local: Mapping[str, Any] | None,
    local_clocks: Mapping[str, str] | None,
    tbl: str,
    body: Mapping[str, Any],
    pending: set[str],
    fields: dict[str, list[Any]] | None = None,
) -> Merge:
    """Apply a pulled change (``body``) to the local row (``None`` when it has never been
    here). ``pending`` holds the fields this laptop changed and has not pushed yet (``*`` for
    a record it created); it only decides what counts as a conflict, never who wins.
    ``fields``: ``check_body(tbl, body)`` when the caller has it already."""
    if fields is None:
        fields = check_body(tbl, body)
    if local is None:
        clocks = {k: v for k, v in body["clocks"].items() if k == "*" or k in fields}
        clocks.setdefault("*", min(pair[1] for pair in fields.values()))
        values = {name: pair[0] for name, pair in fields.items()}
        values.setdefault("deleted", 0)
        return Merge("insert", values, clocks)
    clocks = dict(local_clocks or {})
    changed = set(body.get("changed") or []) - {"*"}
    out: dict[str, Any] = {}
    conflicts: list[dict[str, Any]] = []
    for name, (value, stamp) in fields.items():
        mine = stamp_of(clocks, name)
        current = local.get(name)
        wins = theirs_wins(stamp, value, mine, current)
        same = value_key(value) == value_key(current)
        if wins and not same:
            out[name] = value
        if wins:
            clocks[name] = stamp
        if is_conflict(name, changed=changed, pending=pending, stamp=stamp, mine=mine, same=same):
            conflicts.append(
                {
                    "field": name,
                    "mine": current,
                    "theirs": value,
                    "kept": "theirs" if wins else "mine",
                    "mine_hlc": mine,
                    "theirs_hlc": stamp,
                }
            )
    deleted = delete_conflict(local, out, clocks, changed, pending, fields, body)
    if deleted is not None:
        conflicts.append(deleted)
    if not out and clocks == dict(local_clocks or {}) and not conflicts:
        return Merge("same")
    return Merge("update", out, clocks, conflicts)


def delete_conflict(
    local: Mapping[str, Any],
    out: Mapping[str, Any],
    clocks: Mapping[str, str],
    changed: set[str],
    pending: set[str],
    fields: Mapping[str, list[Any]],
    body: Mapping[str, Any],
) -> dict[str, Any] | None:
    """A delete met an edit: the delete stands (it is the only way "deleted" ever changes),
    and the officer is told. None when there is nothing to tell."""
    was_deleted = bool(local.get("deleted"))
    now_deleted = bool(out.get("deleted", local.get("deleted")))
    edited_there = bool(changed - {"deleted"})
    edited_here = bool(pending - {"deleted", "*"})
    if now_deleted and not was_deleted and edited_here and "deleted" in changed:
        return {"field": "deleted", "mine": 0, "theirs": 1, "kept": "theirs",
                "mine_hlc": stamp_of(clocks, "deleted"),
                "theirs_hlc": fields["deleted"][1]}  # fmt: skip
    if was_deleted and "deleted" in pending and edited_there:
        return {"field": "deleted", "mine": 1, "theirs": 0, "kept": "mine",
                "mine_hlc": stamp_of(clocks, "deleted"),
                "theirs_hlc": body.get("hlc") or ""}  # fmt: skip
    return None
