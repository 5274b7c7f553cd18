"""Sync: the round that moves changes between a log and a remote.

Every page is one transaction on each side and moves its cursor in that same transaction, so
a round killed anywhere resumes where it stopped. The merge rules (per-field stamps, what a
conflict is, deletes, changes from a clock far ahead) are :mod:`fieldlog.merge`; the log's
side (outbox, cursors, applying pulled changes) is :mod:`fieldlog.db.synclog`; the remote's
is :mod:`fieldlog.db.remotes`. This module never speaks SQL.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from fieldlog.errors import NotFoundError, ValidationError

if TYPE_CHECKING:
    from fieldlog.db.remotes.types import Remote
    from fieldlog.db.store import Store

PAGE = 2000  # changes per remote round trip and per local transaction


# ---------------------------------------------------------------------- which remote
class NoRemoteError(NotFoundError):
    """No remote was named and none is saved, or a bare word names no saved remote."""


def choose(
    saved: Mapping[str, str],
    given: str | None,
    *,
    default: str | None = None,
    default_from: str = "the settings file",
) -> list[tuple[str, str]]:
    """The ``(label, url)`` remotes a sync goes to: ``given`` (a saved remote's name, a path or
    a ``postgresql://`` URL), else ``default`` (the settings file's ``remote``, read the same
    way), else every saved remote.

    A bare word is only ever a saved remote's name: ``fieldlog sync dept2`` (a typo for
    ``dept``) is refused with the saved names and the closest one, instead of pushing the
    whole log into a new file ``./dept2``. A file remote is created only from a path that
    says it is one (``./dept2``, ``/media/share/dept.fieldlog``, ``~/...``, ``C:\\...``) or
    by ``fieldlog remote add``."""
    if given is not None:
        return [_resolve(saved, given, "")]
    if default is not None:
        return [_resolve(saved, default, f" (the remote set in {default_from})")]
    if not saved:
        raise NoRemoteError(
            "No remote is set up: give one (fieldlog sync /media/share/department.fieldlog) "
            "or save it once (fieldlog remote add dept PATH-or-URL)."
        )
    return list(saved.items())


def _resolve(saved: Mapping[str, str], text: str, where: str) -> tuple[str, str]:
    from fieldlog.db.remotes.types import safe_url, target_kind

    text = text.strip()
    if text.lower() in saved:
        return text.lower(), saved[text.lower()]
    kind = target_kind(text)
    if kind == "word":
        raise NoRemoteError(unknown_remote(saved, text, where))
    if kind == "url":
        raise ValidationError(
            "remote",
            f"'{safe_url(text)}'{where} is neither a file path nor a postgresql:// URL: give "
            "one of those.",
        )
    return safe_url(text), text


def unknown_remote(saved: Mapping[str, str], word: str, where: str = "") -> str:
    """The message for a bare word that names no saved remote: the saved ones, the closest
    (``did you mean dept?``), and how to sync with a file of that name on purpose."""
    import difflib

    from fieldlog.text import printable

    shown = printable(word, newlines=False)
    if not saved:
        return (
            f"There is no saved remote called '{shown}'{where} (none is saved yet): save one "
            f"with  fieldlog remote add dept PATH-or-URL,  or give a path (./{shown}) or a "
            "postgresql:// URL."
        )
    close = difflib.get_close_matches(word.lower(), list(saved), n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]}?)" if close else ""
    return (
        f"There is no saved remote called '{shown}'{where}{hint}: the saved ones are "
        f"{', '.join(saved)}. To sync with a file, give its path (./{shown}) or save it with  "
        "fieldlog remote add NAME PATH."
    )


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
    from fieldlog import settings
    from fieldlog.db.remotes.factory import open_remote

    # $FIELDLOG_SYNC_PAGE: smaller pages, more and shorter transactions (tests kill a sync
    # between them); a bad value is a one-line error, not silently the default.
    page = settings.sync_page(PAGE)
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
