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
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from textual import events
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import ModalScreen, Screen

from fieldlog.db.store import Store
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
    from fieldlog.tui.base import Shell

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
        if store is None:
            self.add_mode("login", LoginScreen)

    def on_mount(self) -> None:
        self.locker.start()
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
        if isinstance(event, events.InputEvent):
            self.locker.touch()  # the idle lock counts from the last key or mouse event
        await super().on_event(event)

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
