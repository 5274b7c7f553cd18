"""The full-screen interface: a thin Textual shell over :class:`fieldlog.db.store.Store`.

Screens hold no SQL: they call store methods in thread workers (``StoreScreen.db`` in
``tui/base.py``) and render the rows they get back. Every :class:`FieldlogError` becomes a red
notification, never a crash. One lock serialises store calls, because a thread worker cannot be
stopped once it runs and the store's transactions must not interleave on the shared connection.
Screens never import this module (it imports them); what they use of the app is the ``Shell``
protocol in ``tui/base.py``.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from textual import events
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import ModalScreen, Screen

from fieldlog.db.store import Store
from fieldlog.tui.base import StoreScreen, run_store
from fieldlog.tui.dialogs.export import ExportDialog
from fieldlog.tui.screens.conflicts import ConflictsScreen
from fieldlog.tui.screens.contacts import ContactsScreen
from fieldlog.tui.screens.dashboard import DashboardScreen
from fieldlog.tui.screens.followups import FollowupsScreen
from fieldlog.tui.screens.help import HelpScreen
from fieldlog.tui.screens.login import IdleLock, LoginScreen
from fieldlog.tui.screens.orgs import OrgsScreen
from fieldlog.tui.screens.report import ReportScreen

if TYPE_CHECKING:
    from textual.message_pump import MessagePump

    from fieldlog.tui.base import Shell

POLL_SECONDS = 0.5  # how often the TUI looks for writes by other processes
SETTLE_SECONDS = 0.5  # longest a key waits for a screen that is opening to take the focus
UNDO_DEPTH = 20

# Actions that leave the current screen: not while a dialog is open (it owns the keys).
NAV_ACTIONS = {
    "new",
    "search",
    "help",
    "dashboard",
    "contacts",
    "followups",
    "orgs",
    "report",
    "conflicts",
    "export",
    "back",
    "leave",
    "undo",
}


class FieldlogApp(App[None]):
    """Dashboard and contact list are modes; detail screens are pushed on top of them."""

    TITLE = "fieldlog"
    CSS_PATH = [
        "styles/fieldlog.tcss",
        "styles/form.tcss",
        "styles/screens2.tcss",
        "styles/report.tcss",
        "styles/conflicts.tcss",
        "styles/lists.tcss",
        "styles/records.tcss",
    ]
    MODES = {
        "dashboard": DashboardScreen,
        "contacts": ContactsScreen,
        "followups": FollowupsScreen,
        "orgs": OrgsScreen,
        "report": ReportScreen,
        "conflicts": ConflictsScreen,
    }
    DEFAULT_MODE = "dashboard"
    BINDINGS = [
        Binding("n", "new", "New", tooltip="Log a new contact"),
        Binding("slash", "search", "Search", tooltip="Search contacts"),
        Binding("question_mark", "help", "Help", tooltip="Every key"),
        Binding("d", "dashboard", "Home", tooltip="Figures and follow-ups due"),
        Binding("l", "contacts", "List", tooltip="Every contact, newest first"),
        Binding("f", "followups", "Follow-ups", tooltip="The follow-ups table"),
        Binding("o", "orgs", "Orgs", show=False, tooltip="Community partners directory"),
        Binding("R", "report", "Report", show=False, tooltip="Report: figures for a period"),
        Binding("C", "conflicts", "Conflicts", show=False, tooltip="Resolve sync conflicts"),
        Binding("ctrl+e", "export", "Export", show=False, tooltip="Export contacts to CSV"),
        Binding("escape", "back", "Back", show=False, tooltip="Back / close"),
        Binding("u,ctrl+z", "undo", "Undo", show=False, tooltip="Undo the last one-key action"),
        Binding("q", "leave", "Quit", tooltip="Quit fieldlog (also Ctrl+Q)"),
    ]

    def __init__(
        self,
        store: Store | None,
        *,
        db_path: Path | str | None = None,
        lock_minutes: float | None = None,
    ) -> None:
        """``store`` None: an encrypted log not open yet; the app starts on the passphrase
        screen (tui/screens/login.py) for ``db_path``. ``lock_minutes``: see ``IdleLock``."""
        if store is None:
            self.DEFAULT_MODE = "login"  # type: ignore[misc]  # App.__init__ starts there
        super().__init__()
        self.store: Store = store  # type: ignore[assignment]  # set by logged_in()
        self.db_path = Path(db_path if db_path is not None else store.path)  # type: ignore[union-attr]
        self.db_lock = threading.Lock()
        self.locker = IdleLock(self, lock_minutes)
        self.undo_stack: list[tuple[str, Callable[[Store], object]]] = []
        # Keys wait here until the one before has been handled (see on_event).
        self._keys: deque[events.Key] = deque()
        self._key_busy = 0.0  # monotonic time the key in flight was sent; 0 for none
        self._settle: tuple[Screen[object], float] | None = None
        if store is None:
            self.add_mode("login", LoginScreen)

    def on_mount(self) -> None:
        self.locker.start()
        self.set_interval(POLL_SECONDS, self._poll)
        if self.store is not None:
            self._opened()

    def _opened(self) -> None:
        from fieldlog.tui.screens.drafts import offer_drafts

        offer_drafts(self)  # a contact form left unsaved by a crash or a closed terminal

    def logged_in(self, store: Store) -> None:
        """The passphrase screen opened the log: on to the dashboard."""
        self.store = store
        self.locker.unlocked()
        self.switch_mode("dashboard")
        self.remove_mode("login")
        self._opened()

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.InputEvent) and not event.is_forwarded:
            self.locker.touch()  # the idle lock counts from the last key or mouse event
        if isinstance(event, events.Key) and not event.is_forwarded:
            if not getattr(event, "_fieldlog_go", False):
                self._keys.append(event)  # typed: waits its turn
                self._next_key()
                return
            await super().on_event(event)
            target = self.focused or self.screen
            if event.is_forwarded:
                self._after_key(target)  # done when it has bubbled up to the app
            else:
                self._key_done()  # a priority binding took it here
            return
        await super().on_event(event)

    # ------------------------------------------------------------------ keys in order
    # Textual hands a key to the focused widget's queue and goes on to the next key at once;
    # a Tab then moves the focus only once the field has handled it, so under load the next
    # letters went to the field the officer had left (or, while a screen opened, nowhere).
    # Here each key waits until the one before has been handled all the way up to the app,
    # and while a new screen is taking the focus: keys land where the cursor is shown.
    def _next_key(self) -> None:
        if not self._keys:
            return
        now = time.monotonic()
        if self._key_busy and now - self._key_busy < SETTLE_SECONDS:
            return  # the last key is still on its way (a lost one times out)
        if self._settling(now):
            self.set_timer(0.02, self._next_key)
            return
        typed = self._keys.popleft()
        key = events.Key(typed.key, typed.character)
        key._fieldlog_go = True  # type: ignore[attr-defined]
        self._key_busy = now
        self.post_message(key)

    def _settling(self, now: float) -> bool:
        """True while the screen on top is opening and has not taken the focus yet."""
        screen = self.screen
        if screen.focused is not None:
            return False
        if self._settle is None or self._settle[0] is not screen:
            self._settle = (screen, now)
        return now - self._settle[1] < SETTLE_SECONDS and screen.AUTO_FOCUS is not None

    def _after_key(self, node: MessagePump) -> None:
        """Once ``node`` has handled the key (its queue is in order), follow it to the parent."""
        parent = node._parent
        if parent is None or node is self:
            self._key_done()
            return
        if not node.call_later(self._after_key, parent):
            self._after_key(parent)  # closed meanwhile: the key went no further there

    def _key_done(self) -> None:
        self._key_busy = 0.0
        self._next_key()

    # ------------------------------------------------------------------ live
    def _poll(self) -> None:
        """Another process wrote to the log: refresh the screen shown, mark the others."""
        self._next_key()  # a key whose handler never reported back times out here
        if self.store is None or self.locker.locked or not self.db_lock.acquire(blocking=False):
            return
        try:
            changed = self.store.changed_elsewhere()
        except Exception:  # noqa: BLE001 - a busy or closing log: look again next time
            changed = False
        finally:
            self.db_lock.release()
        if changed:
            self.data_changed()

    def data_changed(self) -> None:
        """The log changed under the TUI: the screen shown reloads, the rest when shown."""
        for screen in self.screen_stack:
            if isinstance(screen, StoreScreen):
                screen.stale = True
        top = self.screen
        if isinstance(top, StoreScreen):
            top.refresh_data()

    # ------------------------------------------------------------------ undo
    def remember_undo(self, label: str, undo: Callable[[Store], object]) -> None:
        self.undo_stack.append((label, undo))
        del self.undo_stack[:-UNDO_DEPTH]

    def action_undo(self) -> None:
        if not self.undo_stack:
            self.notify("Nothing to undo.")
            return
        label, undo = self.undo_stack.pop()

        def done(_: object) -> None:
            self.notify(f"Undone: {label}", markup=False)
            top = self.screen
            if isinstance(top, StoreScreen):
                top.refresh_data()

        run_store(self, undo, done, group="undo")

    def on_unmount(self) -> None:
        with self.db_lock:
            if self.store is not None:
                self.store.close()

    # ------------------------------------------------------------------ actions
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if self.locker.locked:  # the passphrase screen is up: only quitting
            return action == "quit"
        if action in NAV_ACTIONS and isinstance(self.screen, ModalScreen):
            return False
        return True

    def _to_mode(self, mode: str) -> None:
        """Show a mode's main screen, closing any detail screen opened inside it."""
        if self.current_mode != mode:
            self.switch_mode(mode)
        while len(self.screen_stack) > 1:
            self.pop_screen()

    def action_dashboard(self) -> None:
        self._to_mode("dashboard")

    def action_followups(self) -> None:
        self._to_mode("followups")

    def _on_screen(self, method: str) -> None:
        """Call ``method`` of the screen now shown, if it has one (after a mode switch)."""
        call = getattr(self.screen, method, None)
        if call is not None:
            call()

    def action_contacts(self) -> None:
        self._to_mode("contacts")

    def action_search(self) -> None:
        self._to_mode("contacts")
        self._on_screen("focus_search")  # the mode's screen exists at once, mounted or not

    def action_back(self) -> None:  # type: ignore[override]  # sync: screens call it too
        if len(self.screen_stack) > 1:
            self.pop_screen()
        elif self.current_mode != "dashboard":
            self.switch_mode("dashboard")

    async def action_leave(self) -> None:
        self.exit()

    def action_help(self) -> None:
        self.push_screen(HelpScreen(self.screen))

    def action_new(self) -> None:
        from fieldlog.tui.screens.drafts import open_new_contact

        open_new_contact(self)

    def action_orgs(self) -> None:
        self._to_mode("orgs")

    def action_report(self) -> None:
        self._to_mode("report")

    def action_conflicts(self) -> None:
        self._to_mode("conflicts")

    def action_export(self) -> None:
        self.push_screen(ExportDialog())

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand(
            "Dashboard", "Today's figures and follow-ups (d)", self.action_dashboard
        )
        yield SystemCommand("Contacts", "Every contact, newest first (l)", self.action_contacts)
        yield SystemCommand("Search contacts", "Find contacts by any word (/)", self.action_search)
        yield SystemCommand("Follow-ups", "Due and overdue follow-ups (f)", self.action_followups)
        yield SystemCommand("New contact", "Log a new contact (n)", self.action_new)
        yield SystemCommand("Organizations", "Community partners (o)", self.action_orgs)
        yield SystemCommand("Export CSV", "Contacts to a CSV file (Ctrl+E)", self.action_export)
        yield SystemCommand(
            "Report", "Contacts, concerns, referrals for a period (R)", self.action_report
        )
        yield SystemCommand(
            "Sync conflicts", "Fields changed here and elsewhere (C)", self.action_conflicts
        )
        yield SystemCommand("Help", "Every key (?)", self.action_help)


def make_app(
    db_path: Path | str, *, passphrase: str | None = None, lock_minutes: float | None = None
) -> FieldlogApp:
    """The app on one log file (the CLI and the tests both come through here). An encrypted
    log opens with ``passphrase``, else ``$FIELDLOG_PASSPHRASE``, else the app asks for it."""
    from fieldlog.db.connect import env_passphrase, is_encrypted

    if passphrase is None and env_passphrase() is None and is_encrypted(db_path):
        return FieldlogApp(None, db_path=db_path, lock_minutes=lock_minutes)
    return FieldlogApp(Store.open(db_path, passphrase=passphrase), lock_minutes=lock_minutes)


if TYPE_CHECKING:

    def _is_a_shell(app: FieldlogApp) -> Shell:
        """mypy checks here that the app has what screens read of it (``tui/base.py``)."""
        return app
