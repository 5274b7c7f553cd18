"""Department-wide reads and review against the department store (``--remote NAME``).

- :func:`department_log`: the store's current state as this login may see it, as a throwaway
  log (:func:`fieldlog.db.remotes.snapshot.snapshot`) that ``report`` and ``export`` run their
  own code on, so ``--remote`` prints exactly what a local run prints.
- :func:`list_remote`: the contacts to review, read from the store (``review list --remote``).
- :func:`approve_remote`, :func:`return_remote`: a supervisor's review written to the store
  now (``review approve/return --remote``).

How a review reaches the store: through this laptop's own log, never around it. The laptop
first syncs with the store (a full round: the contact arrives, if it was not here, through the
normal checked pull), then writes the review with ``store.contacts.review_all`` (the one write
path: stamped with this laptop's clock, audited, queued in its outbox), then syncs again, which
signs the change with this device's key and pushes it with the next number of its outbox.
Building the change from the store's state and pushing it beside the log would look shorter,
but it would break three things: a laptop never applies a pulled change of its own device (so
its log would keep the old review for ever and push it back at the next edit); the outbox
numbers must stay this log's own (a number used outside it makes the next sync take a copy of
the log for another laptop, or lose a change as "held already"); and the store's state is
merged from every change pushed, including those of devices this laptop does not trust, which
the laptop's log must never take in unchecked. The store's own check applies on top
(row-level security refuses a review pushed by an officer's login); this module asks the
store for the login's role first, so an officer's review is refused before anything is
written, instead of sitting in the outbox as a push the store refuses every time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from fieldlog import dates, ids
from fieldlog.errors import NotFoundError, ValidationError

if TYPE_CHECKING:
    from fieldlog.db.remotes.snapshot import DeptStore
    from fieldlog.db.store import Store

__all__ = ["approve_remote", "department_log", "list_remote", "return_remote"]

REVIEWERS = ("supervisor", "owner")  # fieldlog.my_role() values that may write review fields


@contextmanager
def department_log(
    saved: Mapping[str, str],
    name: str,
    *,
    encrypted: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> Iterator[Store]:
    """The department store ``name`` names (a saved remote's name, else a ``postgresql://``
    URL, chosen as ``fieldlog sync`` chooses it) as a throwaway log of what this login may
    see, open for the ``with`` block. ``encrypted``: the laptop's log is, so the copy is
    too."""
    from fieldlog.db.remotes.snapshot import snapshot
    from fieldlog.db.store import Store
    from fieldlog.sync import choose

    _, url = choose(saved, name)[0]
    with snapshot(url, Store.open, encrypted=encrypted, progress=progress) as log:
        yield log


def list_remote(url: str, status: str | None, officer: str | None) -> list[dict[str, Any]]:
    """The live contacts this login sees in the store, with their review state (the keys of
    ``store.contacts.reviews``, ``short_id`` too), oldest first; ``status`` one of
    :data:`fieldlog.review.STATUSES`, ``officer`` by name in any case."""
    from fieldlog import review
    from fieldlog.db.remotes.snapshot import open_dept

    wanted = review.status(status) if status else None
    with open_dept(url) as dept:
        rows = dept.reviews(wanted, officer.strip() if officer else None)
    rows.sort(key=lambda r: (r["occurred_at"] or "", r["id"]))
    short = _short_ids([r["id"] for r in rows])
    for r in rows:
        r["short_id"] = short[r["id"]]
    return rows


def approve_remote(store: Store, url: str, refs: Sequence[str]) -> int:
    """Approve the contacts ``refs`` (ids or 6+ character prefixes, as the store's list
    shows them) in the department store now; returns how many were approved."""
    from fieldlog import review

    if not refs:
        raise ValidationError("id", "Give the id of at least one contact to approve.")
    values = review.approve_values(store.officer(), dates.stamp_now())
    return _review(store, url, list(refs), values)


def return_remote(store: Store, url: str, rid: str, comment: str) -> int:
    """Return the contact ``rid`` to its officer with ``comment`` (required), in the
    department store now; returns 1."""
    from fieldlog import review

    values = review.return_values(store.officer(), comment, dates.stamp_now())
    return _review(store, url, [rid], values)


# ---------------------------------------------------------------------- the review round
def _review(store: Store, url: str, refs: list[str], values: Mapping[str, Any]) -> int:
    """Check the login's role and the ids against the store, sync, write the review to each
    contact in this log, sync again (the push). Nothing is written unless every id is
    found, here and in the store."""
    from fieldlog import review, sync
    from fieldlog.db.remotes.snapshot import open_dept

    with open_dept(url) as dept:
        role = dept.role()
        if role is not None and role not in REVIEWERS:
            raise ValidationError(
                "review",
                f"Only a supervisor reviews contacts: the login in {dept.url} is enrolled as "
                f"{'an' if role[:1] in 'aeiou' else 'a'} {role}, and the store refuses a "
                "review from it (fieldlog dept enroll ... --role supervisor gives a "
                "supervisor's login).",
            )
        full = [_resolve(dept, ref) for ref in refs]
        sync.sync_with(store, dept.remote, label=dept.url)  # the contacts arrive, checked
        reason = review.may_review(store)
        if reason:
            raise ValidationError("review", reason)
        for rid in full:
            _here(store, dept, rid)
        done = store.contacts.review_all(full, values)  # one transaction, all or nothing
        sync.sync_with(store, dept.remote, label=dept.url)  # signed and pushed, as any write
    return len(done)


def _resolve(dept: DeptStore, ref: str) -> str:
    """The full id of the live contact visible in the store that ``ref`` starts with."""
    prefix = ids.normalize_prefix(ref)
    if len(prefix) < ids.MIN_PREFIX:
        raise ValidationError(
            "id", f"The id '{ref}' is too short: give at least {ids.MIN_PREFIX} characters."
        )
    hits = dept.find_contacts(prefix) if ids.is_hex(prefix) else []
    if not hits:
        raise NotFoundError(
            f"No contact you can see in {dept.url} has an id starting with '{ref}': check the "
            "id (fieldlog review list --remote NAME shows them)."
        )
    if len(hits) > 1:
        raise ValidationError(
            "id", f"The id '{ref}' matches several contacts in {dept.url}: type more characters."
        )
    return hits[0]


def _here(store: Store, dept: DeptStore, rid: str) -> None:
    """The contact ``rid`` is in this log after the sync; else say why it is not."""
    try:
        store.records.resolve("contacts", rid)
    except NotFoundError:
        raise NotFoundError(
            f"The contact {rid[: ids.SHORT_LEN]} is in {dept.url} but did not reach this "
            "laptop's log: its change is held or quarantined here (fieldlog sync --held), "
            "e.g. the laptop that wrote it is not enrolled yet (fieldlog dept devices)."
        ) from None


def _short_ids(fulls: list[str]) -> dict[str, str]:
    """Each id's shortest prefix (at least :data:`fieldlog.ids.SHORT_LEN` characters) that
    no other id of the list starts with."""
    ordered = sorted(set(fulls))
    out = {}
    for i, rid in enumerate(ordered):
        near = [ordered[j] for j in (i - 1, i + 1) if 0 <= j < len(ordered)]
        n = ids.SHORT_LEN
        while n < len(rid) and any(o.startswith(rid[:n]) for o in near):
            n += 1
        out[rid] = rid[:n]
    return out
