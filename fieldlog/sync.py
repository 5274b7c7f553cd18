"""Sync: the merge rules and the round that moves changes between a log and a remote.

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

This module is the domain: it never speaks SQL. :mod:`fieldlog.db.store_sync` reads and writes
the log, :mod:`fieldlog.db.remote` the remote.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fieldlog import records
from fieldlog.clock import parse_stamp

if TYPE_CHECKING:
    from fieldlog.db.remote import Remote
    from fieldlog.db.store import Store

MAX_SKEW_MS = 60 * 60 * 1000  # one hour: more than a laptop clock drifts, less than a shift
PAGE = 2000  # changes per remote round trip and per local transaction
META_FIELDS = ("officer", "origin", "created_at", "updated_at")
SYNC_FIELDS = {t: (*f, "deleted") for t, f in records.TABLE_FIELDS.items()}


@dataclass
class Merge:
    """What applying one change to one local row does."""

    action: str  # "insert", "update", "same" or "hold"
    values: dict[str, Any] = field(default_factory=dict)  # fields to write
    clocks: dict[str, str] = field(default_factory=dict)  # the row's clocks afterwards
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    reason: str = ""  # why held


def _key(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def stamp_of(clocks: Mapping[str, str], name: str) -> str:
    return clocks.get(name) or clocks.get("*") or ""


def check_body(tbl: str, body: Any) -> dict[str, list[Any]]:
    """The fields of a pulled change as ``{name: [value, stamp]}``, refusing anything a
    fieldlog would not have written (a remote is input like any other: field names become
    SQL column names).

    A body holds ``values`` (every field of the record), ``clocks`` (the record's clocks as
    stored: a stamp per field changed since its creation, ``*`` for the rest), ``changed``
    (the fields this change touched, ``*`` for a creation), and the record's ``officer``,
    ``origin``, ``created_at`` and ``updated_at``."""
    if tbl not in SYNC_FIELDS or not isinstance(body, dict):
        raise ValueError(f"unknown table {tbl!r}")
    values, clocks = body.get("values"), body.get("clocks")
    if not isinstance(values, dict) or not values or not isinstance(clocks, dict):
        raise ValueError("no values")
    known = SYNC_FIELDS[tbl]
    fields: dict[str, list[Any]] = {}
    for name, value in values.items():
        if name not in known:
            raise ValueError(f"unknown field {name!r}")
        if not (value is None or isinstance(value, str | int | float)):
            raise ValueError(f"bad value for {name!r}")
        stamp = stamp_of(clocks, name)
        if not isinstance(stamp, str):
            raise ValueError(f"bad clock for {name!r}")
        parse_stamp(stamp)
        fields[name] = [value, stamp]
    for name in META_FIELDS:
        if not isinstance(body.get(name), str):
            raise ValueError(f"no {name}")
    return fields


def too_far_ahead(fields: Mapping[str, list[Any]], now_ms: int | None = None) -> str | None:
    now = int(time.time() * 1000) if now_ms is None else now_ms
    top = max(pair[1] for pair in fields.values())
    wall = parse_stamp(top)[0]
    if wall > now + MAX_SKEW_MS:
        return top
    return None


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
        theirs_wins = stamp > mine or (stamp == mine and _key(value) > _key(current))
        if theirs_wins and _key(value) != _key(current):
            out[name] = value
        if theirs_wins:
            clocks[name] = stamp
        if (
            name in changed
            and name in pending
            and name != "deleted"
            and stamp != mine
            and _key(value) != _key(current)
        ):
            conflicts.append(
                {
                    "field": name,
                    "mine": current,
                    "theirs": value,
                    "kept": "theirs" if theirs_wins else "mine",
                    "mine_hlc": mine,
                    "theirs_hlc": stamp,
                }
            )
    # A delete met an edit: the delete stands (it is the only way "deleted" ever changes), and
    # the officer is told.
    was_deleted = bool(local.get("deleted"))
    now_deleted = bool(out.get("deleted", local.get("deleted")))
    edited_there = bool(changed - {"deleted"})
    edited_here = bool(pending - {"deleted", "*"})
    if now_deleted and not was_deleted and edited_here and "deleted" in changed:
        conflicts.append(
            {"field": "deleted", "mine": 0, "theirs": 1, "kept": "theirs",
             "mine_hlc": stamp_of(clocks, "deleted"), "theirs_hlc": fields["deleted"][1]}
        )  # fmt: skip
    elif was_deleted and "deleted" in pending and edited_there:
        conflicts.append(
            {"field": "deleted", "mine": 1, "theirs": 0, "kept": "mine",
             "mine_hlc": stamp_of(clocks, "deleted"), "theirs_hlc": body.get("hlc") or ""}
        )  # fmt: skip
    if not out and clocks == dict(local_clocks or {}) and not conflicts:
        return Merge("same")
    return Merge("update", out, clocks, conflicts)


# ---------------------------------------------------------------------- the round
@dataclass
class Result:
    remote: str
    pushed: int = 0
    pulled: int = 0
    conflicts: int = 0
    held: int = 0
    new_device_id: bool = False

    def line(self) -> str:
        extra = f", held {self.held} (clock ahead or waiting)" if self.held else ""
        return (
            f"{self.remote}: pushed {self.pushed}, pulled {self.pulled}, "
            f"conflicts {self.conflicts}{extra}"
        )


Progress = Callable[[int, int], None]


def sync_with(
    store: Store,
    remote: Remote,
    *,
    page: int = PAGE,
    progress: Progress | None = None,
    label: str | None = None,
) -> Result:
    """One full round with one remote: pull everything new, then push everything unpushed.

    Every page is one transaction on each side and moves its cursor in that same
    transaction (the pull cursor in the log; the remote ignores a re-pushed change), so a
    round killed anywhere resumes where it stopped, and a repeated round does nothing.
    """
    result = Result(label or remote.url)
    store_id = remote.store_id
    result.new_device_id = store.sync_check_origin(store_id, remote, page)
    pulled, pushed = store.sync_cursors(store_id)
    head = remote.head()
    todo = max(head - pulled, 0) + store.outbox_count(pushed)
    done = 0
    if progress:
        progress(done, todo)
    # Pull first: a field changed here and there is only seen as a conflict while this
    # laptop's change is still unpushed.
    while True:
        batch = remote.pull(pulled, page)
        if not batch:
            break
        applied, conflicts, _held = store.sync_apply(store_id, batch)
        result.pulled += applied
        result.conflicts += conflicts
        pulled = batch[-1].seq
        done += len(batch)
        if progress:
            progress(done, todo)
    # Changes held back (a record that had not arrived, a clock ahead) get another chance
    # now that the whole page run is in.
    result.held = store.sync_retry_held(store_id)
    origin = store.device_id()
    while True:
        out, last = store.outbox_page(pushed, page)
        if last is None:
            break
        remote.push(origin, out)
        store.sync_set_pushed(store_id, last)
        result.pushed += len(out)
        done += len(out)
        pushed = last
        if progress:
            progress(min(done, todo), todo)
    store.sync_done(store_id)
    return result


def run(
    store: Store,
    targets: Iterable[tuple[str, str]],
    *,
    progress: Callable[[str], Progress | None] | None = None,
) -> list[Result]:
    """Sync with each ``(label, url)`` in turn; the first failure stops the run (what was
    committed before it stays committed)."""
    from fieldlog.db.remote import open_remote

    try:  # smaller pages: more, shorter transactions (tests kill a sync between them)
        page = max(1, int(os.environ.get("FIELDLOG_SYNC_PAGE", PAGE)))
    except ValueError:
        page = PAGE
    results = []
    for label, url in targets:
        remote = open_remote(url)
        try:
            results.append(
                sync_with(
                    store,
                    remote,
                    page=page,
                    progress=progress(label) if progress else None,
                    label=label,
                )
            )
        finally:
            remote.close()
    return results
