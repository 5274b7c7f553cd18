"""What every fieldlog screen shares with the app: store calls in thread workers, errors as
notifications, and the app's own attributes as screens see them.

Screens never import :mod:`fieldlog.tui.app` (it imports them): the :class:`Shell` protocol
says what they read of the app, and ``FieldlogApp`` is checked against it in ``app.py``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, cast

from textual.dom import DOMNode
from textual.screen import Screen
from textual.worker import get_current_worker

from fieldlog.errors import FieldlogError

if TYPE_CHECKING:
    from fieldlog.db.store import Store


class Locker(Protocol):
    """The idle lock as the passphrase screen reads it (``screens/login.py``'s IdleLock)."""

    seconds: float
    locked: bool

    def unlocked(self) -> None: ...


class Shell(Protocol):
    """What screens use of ``FieldlogApp`` beyond Textual's ``App``: the one store, the lock
    that serialises store calls, the log's path, the idle lock and two navigation hooks."""

    store: Store
    db_path: Path
    db_lock: threading.Lock

    @property
    def locker(self) -> Locker: ...

    def logged_in(self, store: Store) -> None: ...

    def action_back(self) -> None: ...

    def remember_undo(self, label: str, undo: Callable[[Store], Any]) -> None: ...

    def open_record(
        self, noun: str, rid: str, then: Callable[[Any], None] | None = None
    ) -> None: ...


def shell(app: object) -> Shell:
    """``app`` (a running FieldlogApp) typed as the screens see it."""
    return cast(Shell, app)


def run_store(
    node: DOMNode,
    call: Callable[[Store], Any],
    then: Callable[[Any], None] | None = None,
    *,
    group: str = "load",
    failed: Callable[[], None] | None = None,
    on_error: Callable[[FieldlogError], bool] | None = None,
) -> None:
    """The one way the TUI touches the log: ``call(store)`` in a thread worker of ``node``
    under the app's lock, then ``then(result)`` on the UI thread.

    A newer call in the same group supersedes an older one: the older result is dropped.
    A FieldlogError goes to ``on_error`` (which returns True when it showed it itself, e.g.
    beside a form field), else becomes an error notification; then ``failed()`` runs.
    """
    app: Any = node.app

    def job() -> None:
        worker = get_current_worker()
        with app.db_lock:
            if worker.is_cancelled:
                return
            try:
                result = call(app.store)
            except FieldlogError as err:
                if on_error is None or not app.call_from_thread(on_error, err):
                    app.call_from_thread(app.notify, str(err), severity="error", markup=False)
                if failed is not None:
                    app.call_from_thread(failed)
                return
        if then is not None and not worker.is_cancelled:
            app.call_from_thread(then, result)

    node.run_worker(job, thread=True, exclusive=True, group=group, exit_on_error=False)


class StoreScreen(Screen[Any]):
    """A screen that reads and writes the log through the app's one store.

    Live: when another process writes to the log (the CLI, a sync), the app calls
    :meth:`refresh_data` on the screen shown and marks the screens under it ``stale``; a
    stale screen refreshes when it is shown again. Screens override ``refresh_data`` to
    reload what they show, keeping the cursor on its row.
    """

    stale = False

    def refresh_data(self) -> None:
        """Reload what the screen shows (default: its ``reload()``, if it has one)."""
        self.stale = False
        reload = getattr(self, "reload", None)
        if callable(reload):
            reload()

    def on_screen_resume(self) -> None:
        if self.stale:
            self.refresh_data()

    def remember_undo(self, label: str, undo: Callable[[Store], Any]) -> None:
        """Offer ``undo(store)`` to ``u`` / ``ctrl+z`` after a one-key action (``label`` says
        what it undoes, e.g. "resolve concern K-3F2A")."""
        self.fl_app.remember_undo(label, undo)

    @property
    def fl_app(self) -> Shell:
        return shell(self.app)

    def db(
        self,
        call: Callable[[Store], Any],
        then: Callable[[Any], None] | None = None,
        *,
        group: str = "load",
        failed: Callable[[], None] | None = None,
    ) -> None:
        """Run ``call(store)`` in a thread worker, then ``then(result)`` on the UI thread
        (see :func:`run_store`)."""
        run_store(self, call, then, group=group, failed=failed)
