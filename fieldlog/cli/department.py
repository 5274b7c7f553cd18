"""What ``report`` and ``export`` share for ``--remote NAME``: the log a command runs on.

:func:`department_or_local` gives this run's log, or the department store's state as a
throwaway log (:func:`fieldlog.remote_review.department_log`), read with a progress bar on a
terminal that is gone before the command prints anything. A helper the command groups import,
like :mod:`fieldlog.cli.common`; it imports no group.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

import typer

from fieldlog.cli.common import progress, state_of, store_of

if TYPE_CHECKING:
    from fieldlog.db.store import Store


@contextlib.contextmanager
def department_or_local(ctx: typer.Context, remote: str | None, *, quiet: bool) -> Iterator[Store]:
    """This run's log, or with ``remote`` the department store's state as a throwaway log."""
    if remote is None:
        yield store_of(ctx)
        return
    from fieldlog.remote_review import department_log

    state = state_of(ctx)
    local = state.store() if state.exists() else None
    saved = local.sync.remotes() if local is not None else {}
    encrypted = local is not None and local.encrypted
    with contextlib.ExitStack() as stack:
        with progress(quiet=quiet, counts=True) as bars:
            tick = bars.task("Reading the department store")
            log = stack.enter_context(
                department_log(saved, remote, encrypted=encrypted, progress=tick)
            )
        yield log
