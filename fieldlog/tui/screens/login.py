"""The passphrase screen of an encrypted log: at start-up, and again after idle time.

At start-up (no ``$FIELDLOG_PASSPHRASE``) the app begins in a ``login`` mode whose screen
opens the log in a thread worker (the key derivation takes ~0.1 s, a migration longer); the
dashboard appears only once the log is open. :class:`IdleLock` then covers the app with the
same screen after ``$FIELDLOG_LOCK_MINUTES``, else the settings file's ``lock_minutes``
(default 15), without a key press or mouse event; the screens under it stay as they were (an
unsaved form included) and come back unchanged.
A plain log has no passphrase and never locks.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Input, Static

from fieldlog import settings
from fieldlog.errors import FieldlogError
from fieldlog.tui.base import Shell, shell

if TYPE_CHECKING:
    from textual.app import App

    from fieldlog.db.store import Store

LOCK_ENV = settings.LOCK_MINUTES
DEFAULT_LOCK_MINUTES = 15.0
WRONG_DELAY = 1.0  # seconds the field stays disabled after a wrong passphrase


def lock_minutes(value: float | None = None) -> float:
    """Idle minutes before the app locks: ``value``, else ``$FIELDLOG_LOCK_MINUTES`` (for one
    session or one machine), else the settings file's ``lock_minutes`` (the officer's own),
    else 15; 0 (or less) never locks. A bad value in either is a SettingError (one line,
    said by the CLI before the app starts), never silently 15."""
    if value is None:
        value = settings.lock_minutes()
    if value is None:
        from fieldlog import config

        value = float(config.get("lock_minutes", DEFAULT_LOCK_MINUTES))
    return max(0.0, value)


class IdleLock:
    """Covers the app with a :class:`LoginScreen` after a quiet spell (encrypted logs only).

    The quiet spell is counted on two clocks and the larger count wins: ``clock`` (monotonic:
    immune to the wall clock being set, but on some systems it stops while the laptop is
    suspended) and ``wall`` (the time of day: it runs through a suspend). Each is counted
    in steps between checks, and a step back (the wall clock set back, a daylight or NTP
    correction) counts as nothing rather than undoing the time already counted, so a laptop
    closed for 20 minutes wakes locked whatever its clocks did meanwhile. A test passes fake
    clocks and calls :meth:`check` itself instead of waiting for the interval timer.
    """

    def __init__(
        self,
        app: App[Any],
        minutes: float | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.app = app
        self.clock = clock
        self.wall = wall
        self.seconds = lock_minutes(minutes) * 60
        self.locked = shell(app).store is None  # the start-up login counts as locked
        self.touch()

    def start(self) -> None:
        if self.seconds > 0:
            every = max(0.05, min(5.0, self.seconds / 4))
            self.app.set_interval(every, self.check, name="idle-lock")

    def touch(self) -> None:
        """A key press or a mouse event: the officer is there."""
        self._mono_at, self._wall_at = self.clock(), self.wall()
        self._mono_idle = self._wall_idle = 0.0

    def idle(self) -> float:
        """Seconds without use so far: the larger of the two clocks' counts, each summed
        over its forward steps since the last :meth:`touch`."""
        mono, wall = self.clock(), self.wall()
        self._mono_idle += max(0.0, mono - self._mono_at)
        self._wall_idle += max(0.0, wall - self._wall_at)
        self._mono_at, self._wall_at = mono, wall
        return max(self._mono_idle, self._wall_idle)

    def check(self) -> None:
        """Lock if the log is encrypted and nothing happened for ``seconds`` (the interval
        timer calls this; so can a test)."""
        store = shell(self.app).store
        if self.locked or store is None or not store.encrypted:
            return
        if self.idle() >= self.seconds:
            self.lock()

    def lock(self) -> None:
        self.locked = True
        self.app.clear_notifications()  # they may quote what was on screen
        self.app.push_screen(LoginScreen(relock=True))

    def unlocked(self) -> None:
        self.locked = False
        self.touch()


class LoginScreen(Screen[None]):
    """One hidden field for the passphrase. ``relock``: the idle lock of an open log (the
    passphrase is checked against the one in use); else the start-up login (it opens the log)."""

    CSS_PATH = "../styles/login.tcss"

    def __init__(self, relock: bool = False) -> None:
        super().__init__()
        self.relock = relock

    @property
    def fl_app(self) -> Shell:
        return shell(self.app)

    def compose(self) -> ComposeResult:
        path = self.fl_app.db_path
        if self.relock:
            minutes = self.fl_app.locker.seconds / 60
            said = f"{minutes:g} minute{'s' if minutes != 1 else ''}"
            message = f"Locked after {said} without use.\nType the passphrase to carry on."
        else:
            message = f"The log {path} is encrypted.\nType its passphrase to open it."
        with Vertical(id="login-box"):
            yield Static("fieldlog", id="login-title")
            yield Static(message, id="login-message", markup=False)
            yield Input(password=True, placeholder="Passphrase", id="passphrase")
            yield Static("", id="login-error", markup=False)
            yield Static("Enter: open   Ctrl+Q: quit", id="login-keys", markup=False)

    def on_mount(self) -> None:
        self.query_one("#passphrase", Input).focus()

    def _say(self, text: str) -> None:
        self.query_one("#login-error", Static).update(text)

    @on(Input.Submitted, "#passphrase")
    def _submitted(self, event: Input.Submitted) -> None:
        field = event.input
        typed = field.value
        field.value = ""
        if not typed:
            return
        if self.relock:
            self._unlock(typed)
        else:
            field.disabled = True
            self._say("Opening the log…")
            self.run_worker(
                lambda: self._open(typed), thread=True, exclusive=True, exit_on_error=False
            )

    def _unlock(self, typed: str) -> None:
        store = self.fl_app.store
        known = (store.passphrase or "") if store is not None else ""
        if known and hmac.compare_digest(typed.encode(), known.encode()):
            self.fl_app.locker.unlocked()
            self.dismiss()
            return
        self._wrong("Wrong passphrase: try again.")

    def _wrong(self, text: str) -> None:
        field = self.query_one("#passphrase", Input)
        self._say(text)
        field.disabled = True

        def again() -> None:
            field.disabled = False
            field.focus()

        self.set_timer(WRONG_DELAY, again)

    def _open(self, typed: str) -> None:
        """In a thread: open the log with the typed passphrase."""
        from fieldlog.db.connect import WrongPassphrase
        from fieldlog.db.store import Store

        app: Any = self.app
        try:
            store = Store.open(app.db_path, passphrase=typed)
        except WrongPassphrase:
            app.call_from_thread(self._wrong, "Wrong passphrase: try again.")
            return
        except FieldlogError as exc:
            app.call_from_thread(self._failed, str(exc))
            return
        app.call_from_thread(self._opened, store)

    def _failed(self, text: str) -> None:
        self._say(text)
        field = self.query_one("#passphrase", Input)
        field.disabled = False
        field.focus()

    def _opened(self, store: Store) -> None:
        self.fl_app.logged_in(store)
