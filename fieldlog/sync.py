"""Sync: the round that moves changes between a log and a remote.

Every page is one transaction on each side and moves its cursor in that same transaction, so
a round killed anywhere resumes where it stopped. The merge rules (per-field stamps, what a
conflict is, deletes, changes from a clock far ahead) are :mod:`fieldlog.merge`; the log's
side (outbox, cursors, applying pulled changes) is :mod:`fieldlog.db.synclog`; the remote's
is :mod:`fieldlog.db.remotes`. This module never speaks SQL.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from fieldlog.errors import NotFoundError, ValidationError

if TYPE_CHECKING:
    from fieldlog.db.devices import Trust
    from fieldlog.db.remotes.types import Head, Remote
    from fieldlog.db.store import Store

PAGE = 2000  # changes per remote round trip and per local transaction
MAX_RESENDS = 1000  # changes re-sent in one round because a planted row took their number


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
    """What one round with one remote did, and what it found (:meth:`line` is the summary
    line ``fieldlog sync`` prints: a contract, extended only at its end)."""

    remote: str
    pushed: int = 0
    pulled: int = 0
    conflicts: int = 0
    held: int = 0
    new_device_id: bool = False
    quarantined: int = 0  # changes not applied: invalid, untrusted, out of sequence
    notices: list[str] = field(default_factory=list)  # device trust, one line each
    audit_problems: list[str] = field(default_factory=list)  # this log's chain vs the store
    seq_problems: list[str] = field(default_factory=list)  # the store's sequence
    bootstrapped: int = 0  # records loaded from the store's snapshot (fieldlog.db.bootstrap)
    snapshot_written: int = 0  # records of the snapshot this round left in the remote

    def line(self) -> str:
        extra = f", held {self.held} (clock ahead or waiting)" if self.held else ""
        if self.quarantined:
            extra += f", quarantined {self.quarantined} (fieldlog sync --held)"
        if self.bootstrapped:
            extra += f", bootstrapped {self.bootstrapped} records from the store's snapshot"
        return (
            f"{self.remote}: pushed {self.pushed}, pulled {self.pulled}, "
            f"conflicts {self.conflicts}{extra}"
        )

    @property
    def alarm(self) -> bool:
        """Whether the round found this log's audit chain contradicted by the store (the
        command then exits non-zero, after the round)."""
        return bool(self.audit_problems)


Progress = Callable[[int, int], None]


class PlainRemoteError(ValidationError):
    """An encrypted log asked to sync into a plaintext file remote."""

    def __init__(self, where: str, *, new: bool = False) -> None:
        from fieldlog.db.remotes.types import REMOTE_PASSPHRASE_ENV

        fix = (
            f"set {REMOTE_PASSPHRASE_ENV} (the department's passphrase) to create it encrypted"
            if new
            else f"sync with an encrypted remote (a new one is made encrypted when "
            f"{REMOTE_PASSPHRASE_ENV} is set)"
        )
        super().__init__(
            "remote",
            f"This log is encrypted and the remote {where} would be a plaintext file: {fix}, "
            "or pass --allow-plain-remote to sync into plaintext anyway.",
        )


def _is_file(remote: Remote) -> bool:
    from fieldlog.db.remotes.types import is_postgres

    found = getattr(remote, "is_file", None)
    return bool(found) if found is not None else not is_postgres(remote.url)


def check_plain(store: Store, remote: Remote, *, allow_plain_remote: bool = False) -> None:
    """Refuse to copy an encrypted log's records into a plaintext remote *file* (a file on a
    share or a stick can be copied and read by anyone). A PostgreSQL remote is a server with
    its own access control and transport encryption, not a file: it is not refused."""
    if allow_plain_remote or not store.encrypted:
        return
    if _is_file(remote) and not getattr(remote, "encrypted", False):
        raise PlainRemoteError(remote.url)


def sync_with(
    store: Store,
    remote: Remote,
    *,
    page: int = PAGE,
    progress: Progress | None = None,
    label: str | None = None,
    allow_plain_remote: bool = False,
    replay: bool = False,
) -> Result:
    """One full round with one remote: pull everything new, then push everything unpushed.

    Every page is one transaction on each side and moves its cursor in that same
    transaction (the pull cursor in the log; the remote ignores a re-pushed change), so a
    round killed anywhere resumes where it stopped, and a repeated round does nothing.

    Before pulling: this log's audit chain checked against the heads the store kept
    (:mod:`fieldlog.db.audit.witness`), the device's trust (:class:`fieldlog.db.devices.Trust`:
    its notices go into the result), and the store's sequence (``check_seq``). Every
    pulled change is checked (signature, then contents) before it merges; what fails is
    quarantined, never applied and never fatal: the rest of the page applies, the cursor
    moves and the push still runs. Every pushed change is signed, and the push carries this
    log's audit head.

    A log that never synced with the store and holds no record first loads the store's
    snapshot of current state (:mod:`fieldlog.db.bootstrap`) and pulls from its sequence
    (``replay``: never; replay every change). A fully synced laptop leaves a new snapshot in a
    file remote when the one it holds is far behind.
    """
    from fieldlog.db.audit import witness
    from fieldlog.db.devices import Trust, signed_by_me

    check_plain(store, remote, allow_plain_remote=allow_plain_remote)
    result = Result(label or remote.url)
    store_id = remote.store_id
    trust = Trust(store, remote, store_id)
    # The witness first, under the device id as it is now: a log cut back below what it
    # pushed would otherwise look like a copy (next step) and take a new id, with no heads.
    origin = store.device_id()
    heads = [h for h in remote.heads(origin) if trust.head_ok(h)]
    result.audit_problems.extend(witness.check(store.conn, heads))
    own = signed_by_me(store, store_id)  # rows planted under this id do not make it a copy
    result.new_device_id = store.sync.check_origin(store_id, remote, page, own)
    result.notices.extend(trust.prepare())
    origin = store.device_id()
    pulled, pushed = store.sync.cursors(store_id)
    result.seq_problems.extend(store.sync.check_seq(store_id, remote, pulled))
    if not replay and not pulled:
        pulled = _bootstrap(store, remote, store_id, trust, page, result, pulled)
    head = remote.head()
    todo = max(head - pulled, 0) + store.sync.outbox_count(pushed)
    done = 0
    if progress:
        progress(done, todo)
    # Pull first: a field changed here and there is only seen as a conflict while this
    # laptop's change is still unpushed.
    dense = getattr(remote, "dense", True)  # (a test double may not say)
    start = pulled
    while True:
        batch = remote.pull(pulled, page)
        if not batch:
            break
        got = store.sync.apply(store_id, batch, trust=trust, after=pulled, dense=dense)
        result.pulled += got.applied
        result.conflicts += got.conflicts
        result.seq_problems.extend(got.seq_problems)
        moved = store.sync.cursors(store_id)[0]
        if moved <= pulled:  # a remote handing back only rows it gave before: stop here
            break
        pulled = moved
        done += len(batch)
        if progress:
            progress(done, todo)
    if not dense and pulled != start:
        # A store hiding rows from this login (a department store's row-level security):
        # the pages cannot count the rows under the cursor they moved to (a dense store's
        # do), so the store counts them now, for the next round's check to compare with (a
        # row slipped under the new cursor meanwhile is reported then). It costs what the
        # check before the pull costs (the store counts the smaller side of the cursor).
        for p in store.sync.check_seq(store_id, remote, pulled):
            if p not in result.seq_problems:  # the check before the pull said it already
                result.seq_problems.append(p)
    # Changes held back (a record that had not arrived, a clock ahead) get another chance
    # now that the whole page run is in: those due, and, when the store's trust log changed,
    # those quarantined for trust (a device enrolled since is released).
    from fieldlog.db.pull import Applied

    recheck = store.sync.trust_changed(store_id, remote, trust)
    released = Applied()
    result.held = store.sync.retry_held(store_id, trust=trust, recheck_trust=recheck, got=released)
    # Applied now (released from a hold or from quarantine): pulled, for the officer.
    result.pulled += released.applied
    result.conflicts += released.conflicts
    result.quarantined = store.sync.quarantined_count(store_id)
    resends = 0
    while True:
        out, last = store.sync.outbox_page(pushed, page)
        if last is None:
            break
        signed = [replace(c, sig=trust.sign(c)) for c in out]
        top = _head(store, trust, origin)
        added = remote.push(origin, signed, head=top)
        if added < len(signed) and resends < MAX_RESENDS:  # some "held already": by whom?
            lines = store.sync.resend_taken(remote, signed, own)
            resends += len(lines)
            result.notices.extend(lines)
        store.sync.set_pushed(store_id, last)
        if top is not None:
            store.sync.pushed_head(top)
        result.pushed += len(out)
        done += len(out)
        pushed = last
        if progress:
            progress(min(done, todo), todo)
    if not replay:
        _publish(store, remote, store_id, trust, page, result)
    store.sync.done(store_id)
    return result


def _bootstrap(
    store: Store, remote: Remote, store_id: str, trust: Trust, page: int, result: Result,
    pulled: int,
) -> int:  # fmt: skip
    """A never-synced, empty log: load the store's snapshot (the new cursor; else ``pulled``)."""
    from fieldlog.db import bootstrap

    if not bootstrap.eligible(store, store_id):
        return pulled
    got = bootstrap.first_sync(store, remote, store_id, trust, page)
    if got is None:
        return pulled
    result.notices.extend(got.notices)
    if not got.seq:
        return pulled
    result.bootstrapped = got.rows
    result.pulled += got.rows
    result.held += got.held
    return store.sync.cursors(store_id)[0]


def _publish(
    store: Store, remote: Remote, store_id: str, trust: Trust, page: int, result: Result
) -> None:
    """Leave a new snapshot in a file remote when the one it holds is far behind: pull up to
    the head first (this round's own pushes, skipped), so the log is the store up to it."""
    from fieldlog.db import bootstrap

    if getattr(remote, "dept", False) or remote.head() - bootstrap.snapshot_seq(remote) < (
        bootstrap.SNAPSHOT_EVERY
    ):
        return
    pulled = store.sync.cursors(store_id)[0]
    dense = getattr(remote, "dense", True)
    while batch := remote.pull(pulled, page):
        got = store.sync.apply(store_id, batch, trust=trust, after=pulled, dense=dense)
        result.pulled += got.applied
        result.conflicts += got.conflicts
        moved = store.sync.cursors(store_id)[0]
        if moved <= pulled:
            return
        pulled = moved
    from fieldlog.db.remotes.types import SyncError

    try:
        result.snapshot_written = bootstrap.publish(store, remote, store_id, trust)
    except SyncError as exc:  # a snapshot is an optimisation: never fail the round for it
        result.notices.append(f"no snapshot left in the store ({exc})")


def _head(store: Store, trust: Trust, origin: str) -> Head | None:
    """This log's audit head, signed, for the push (None: an empty chain)."""
    from fieldlog import dates
    from fieldlog.db.audit import witness
    from fieldlog.db.remotes.types import Head

    top = witness.head(store.conn)
    if top is None:
        return None
    seq, hash_ = top
    return Head(origin, seq, hash_, dates.stamp_now(), trust.sign_head(seq, hash_))


def refuse_plain_file(store: Store, url: str, *, allow_plain_remote: bool = False) -> None:
    """Before a file remote is opened (or created): refuse an encrypted log's sync into a
    plaintext file, without touching it, so no new plaintext remote is left behind
    (:func:`check_plain` checks the opened remote too)."""
    from pathlib import Path

    from fieldlog.db.remotes.factory import encrypted_file
    from fieldlog.db.remotes.types import is_postgres, remote_passphrase

    if allow_plain_remote or not store.encrypted or is_postgres(url):
        return
    path = Path(url.removeprefix("sqlite://")).expanduser()
    if path.is_dir():
        return  # the remote says what is wrong with that
    if path.exists() and not encrypted_file(str(path)):
        raise PlainRemoteError(str(path))
    if not path.exists() and remote_passphrase() is None:
        raise PlainRemoteError(str(path), new=True)


def run(
    store: Store,
    targets: Iterable[tuple[str, str]],
    *,
    progress: Callable[[str], Progress | None] | None = None,
    allow_plain_remote: bool = False,
    replay: bool = False,
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
        refuse_plain_file(store, url, allow_plain_remote=allow_plain_remote)
        remote = open_remote(url)
        try:
            results.append(
                sync_with(
                    store,
                    remote,
                    page=page,
                    progress=progress(label) if progress else None,
                    label=label,
                    allow_plain_remote=allow_plain_remote,
                    replay=replay,
                )
            )
        finally:
            remote.close()
    return results
