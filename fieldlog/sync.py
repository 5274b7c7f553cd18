"""Sync: the round that moves changes between a log and a remote.

Every page is one transaction on each side and moves its cursor in that same transaction, so
a round killed anywhere resumes where it stopped. The merge rules (per-field stamps, what a
conflict is, deletes, changes from a clock far ahead) are :mod:`fieldlog.merge`; the log's
side (outbox, cursors, applying pulled changes) is :mod:`fieldlog.db.synclog`; the remote's
is :mod:`fieldlog.db.remotes`. This module never speaks SQL.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fieldlog.db.remotes.types import Remote
    from fieldlog.db.store import Store

PAGE = 2000  # changes per remote round trip and per local transaction


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
    result.new_device_id = store.sync.check_origin(store_id, remote, page)
    pulled, pushed = store.sync.cursors(store_id)
    head = remote.head()
    todo = max(head - pulled, 0) + store.sync.outbox_count(pushed)
    done = 0
    if progress:
        progress(done, todo)
    # Pull first: a field changed here and there is only seen as a conflict while this
    # laptop's change is still unpushed.
    while True:
        batch = remote.pull(pulled, page)
        if not batch:
            break
        applied, conflicts, _held = store.sync.apply(store_id, batch)
        result.pulled += applied
        result.conflicts += conflicts
        pulled = batch[-1].seq
        done += len(batch)
        if progress:
            progress(done, todo)
    # Changes held back (a record that had not arrived, a clock ahead) get another chance
    # now that the whole page run is in.
    result.held = store.sync.retry_held(store_id)
    origin = store.device_id()
    while True:
        out, last = store.sync.outbox_page(pushed, page)
        if last is None:
            break
        remote.push(origin, out)
        store.sync.set_pushed(store_id, last)
        result.pushed += len(out)
        done += len(out)
        pushed = last
        if progress:
            progress(min(done, todo), todo)
    store.sync.done(store_id)
    return result


def run(
    store: Store,
    targets: Iterable[tuple[str, str]],
    *,
    progress: Callable[[str], Progress | None] | None = None,
) -> list[Result]:
    """Sync with each ``(label, url)`` in turn; the first failure stops the run (what was
    committed before it stays committed)."""
    from fieldlog.db.remotes.factory import open_remote

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
