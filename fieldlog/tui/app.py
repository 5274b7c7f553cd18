"""The full-screen interface: a thin Textual shell over :class:`fieldlog.db.store.Store`.

Screens hold no SQL: they call store methods in thread workers (``StoreScreen.db`` in
``tui/base.py``) and render the rows they get back. Every :class:`FieldlogError` becomes a red
notification, never a crash. One lock serialises store calls, because a thread worker cannot be
stopped once it runs and the store's transactions must not interleave on the shared connection.
Screens never import this module (it imports them); what they use of the app is the ``Shell``
protocol in ``tui/base.py``.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from functools import partial
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import events
from textual.app import SystemCommand
from textual.binding import Binding
from textual.screen import ModalScreen, Screen
from textual.signal import Signal

from fieldlog.db.store import Store
from fieldlog.tui.base import StoreScreen, run_store
from fieldlog.tui.keys import KeysInOrderApp
from fieldlog.tui.screens.dashboard import DashboardScreen
from fieldlog.tui.screens.login import IdleLock, LoginScreen
from fieldlog.tui.widgets.status import Status, read_status
from fieldlog.tui.widgets.table import ListTable

if TYPE_CHECKING:
    from textual.dom import DOMNode
    from textual.theme import Theme

    from fieldlog.tui.base import Shell

THEME_SETTING = "tui_theme"  # the meta key the chosen theme is kept under
POLL_SECONDS = 0.5  # how often the TUI looks for writes by other processes
UNDO_DEPTH = 20
WARM_SECONDS = 0.5  # after the dashboard is drawn, when the contact form is imported (_warm_up)


@dataclass(frozen=True)
class LazyMode:
    """A mode of the app (a main screen, with an app-wide key) whose module is imported when
    the mode is first shown, never at launch: ``screen`` is ``"module:Class"``, the module
    under ``fieldlog.tui.screens``. One line of :data:`LAZY_MODES` makes the mode, its
    key (hidden from the footer), its action (``action_<mode>``), its palette command and its
    place in :data:`NAV_ACTIONS`."""

    screen: str
    key: str
    label: str  # the binding's description (the Help screen lists it)
    tooltip: str
    palette: str  # the palette command's title; its help is the tooltip and the key

    def factory(self) -> Callable[[], Screen[Any]]:
        """The mode's screen factory (Textual's ``MODES`` takes any callable returning a
        Screen): the import happens in it, on the mode's first show."""
        module, name = self.screen.split(":")

        def make() -> Screen[Any]:
            cls: type[Screen[Any]] = getattr(import_module(f"fieldlog.tui.screens.{module}"), name)
            return cls()

        make.__name__ = make.__qualname__ = name  # what Textual's logs and errors name it by
        return make


# The modes besides the dashboard, in the order of their keys in Help and of the palette.
# A new main screen is one line here (its module is imported on its first show).
LAZY_MODES: dict[str, LazyMode] = {
    "contacts": LazyMode(
        "contacts:ContactsScreen", "l", "List", "Every contact, newest first", "Contacts"
    ),
    "followups": LazyMode(
        "followups:FollowupsScreen", "f", "Follow-ups", "The follow-ups table", "Follow-ups"
    ),
    "orgs": LazyMode(
        "orgs:OrgsScreen", "o", "Orgs", "Community partners directory", "Organizations"
    ),
    "report": LazyMode(
        "report:ReportScreen", "R", "Report", "Report: figures for a period", "Report"
    ),
    "conflicts": LazyMode(
        "conflicts:ConflictsScreen", "C", "Conflicts", "Resolve sync conflicts", "Sync conflicts"
    ),
    "review": LazyMode(
        "review:ReviewScreen", "V", "Review", "Supervisor review of contacts", "Review"
    ),
    "problems": LazyMode(
        "problems:ProblemsScreen", "p", "Problems", "SARA problems by phase", "Problems"
    ),
}

# Actions that leave the current screen: not while a dialog is open (it owns the keys).
NAV_ACTIONS = {
    "new",
    "repeat_last",
    "search",
    "help",
    "dashboard",
    *LAZY_MODES,
    "export",
    "back",
    "leave",
    "undo",
}


def _mode_action(mode: str) -> Callable[[FieldlogApp], None]:
    def action(self: FieldlogApp) -> None:
        self._to_mode(mode)

    action.__name__ = action.__qualname__ = f"action_{mode}"
    action.__doc__ = f"Show the {mode} mode's screen (its module imported on first use)."
    return action


class FieldlogApp(KeysInOrderApp):
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
    # Only the dashboard's module is imported with the app; every other mode's screen on its
    # first use (``LAZY_MODES``): importing them all cost ~150 ms of the launch
    # (bench/README.md). The dashboard is the app's default screen (``get_default_screen``)
    # and becomes the "dashboard" mode once shown (``on_mount``): a first screen made from
    # ``MODES`` makes Textual parse the whole stylesheet twice more at start.
    MODES = {name: mode.factory() for name, mode in LAZY_MODES.items()}
    DEFAULT_MODE = "dashboard"
    BINDINGS = [
        Binding("n", "new", "New", tooltip="Log a new contact"),
        Binding(
            "ctrl+r",
            "repeat_last",
            "Repeat last",
            show=False,
            tooltip="Next contact at the same place, time now",
        ),
        Binding("slash", "search", "Search", tooltip="Search contacts"),
        Binding("question_mark", "help", "Help", tooltip="Every key"),
        # d, l and f are in the dashboard's footer (its own bindings to these actions); the
        # footer of every other screen keeps its width for that screen's keys (80 columns).
        Binding("d", "dashboard", "Home", show=False, tooltip="Figures and follow-ups due"),
        *(
            Binding(m.key, name, m.label, show=False, tooltip=m.tooltip)
            for name, m in LAZY_MODES.items()
        ),
        Binding("ctrl+e", "export", "Export", show=False, tooltip="Export contacts to CSV"),
        Binding("escape", "back", "Back", show=False, tooltip="Back / close"),
        Binding("u,ctrl+z", "undo", "Undo", show=False, tooltip="Undo the last one-key action"),
        Binding("q", "leave", "Quit", tooltip="Quit fieldlog (also Ctrl+Q)"),
        # Textual's own palette key, under a name that says what it holds here: every action
        # of the screen shown, by name (get_system_commands).
        Binding(
            "ctrl+p",
            "command_palette",
            "Actions",
            show=False,
            priority=True,
            tooltip="Command palette: every action by name",
        ),
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
        # The status line's figures (widgets/status.py): the latest, and a signal to follow.
        self.status: Status | None = None
        self.status_changed: Signal[Status] = Signal(self, "status_changed")
        self._status_commits = -1  # store.commits when the figures were last asked for
        self._saved_theme: str | None = None  # the theme the log keeps (None: not read yet)
        self._start_theme: str | None = None  # the theme the log held at start (_read_start)
        self._early: dict[str, Future[Any]] = {}  # the dashboard's first reads (early_read)
        if store is None:
            self.add_mode("login", LoginScreen)
            self.add_mode("dashboard", DashboardScreen)
        else:
            self._read_start(store)

    def get_default_screen(self) -> Screen[Any]:
        """The dashboard, as the first screen of a log opened at start (see ``MODES``)."""
        return DashboardScreen()

    def _read_start(self, store: Store) -> None:
        """Read what start-up needs from the log before any screen does: the poll's baseline
        (a write from now on is seen by the next poll) and the theme the officer chose. Here
        and not in ``on_mount``: by then the dashboard's first reads may hold the lock, and
        the UI thread would wait for them (no worker runs yet here). Then start those reads
        (``early_read``)."""
        with self.db_lock:
            store.changed_elsewhere()
            self._start_theme = store.meta().get(THEME_SETTING)
        self._early = start_early_reads(store, self.db_lock, DashboardScreen.EARLY_READS)

    def early_read(self, name: str) -> Future[Any] | None:
        """The result of the dashboard's first read ``name`` (see ``start_early_reads``), for
        the one screen load that asks first; None once taken, or if none was started."""
        return self._early.pop(name, None)

    def on_mount(self) -> None:
        if self.store is not None:  # the default screen is the dashboard: now the mode of d
            self.add_mode("dashboard", DashboardScreen)
            # it has the stylesheet as it is now (else the first return to it reparses it all;
            # private, Textual is pinned to a minor version)
            self.screen._css_update_count = self._css_update_count
        self.locker.start()
        self.set_interval(POLL_SECONDS, self._poll)
        if self.store is not None:
            self._opened()

    def _opened(self) -> None:
        """The log is open and the dashboard shown: nothing here waits for the log's lock
        (the dashboard's counts may hold it), so the keys work at once."""
        self._restore_theme()
        self.refresh_status()
        # Leftovers of an interrupted encrypt/decrypt/restore the open swept away: say so.
        for line in getattr(self.store, "notices", ()):
            self.notify(line, severity="warning", markup=False, timeout=10)
        # A contact form left unsaved by a crash or a closed terminal is offered back. The
        # offer's module imports the contact form (~40 ms): only when the log holds a draft,
        # else once the dashboard is up (``_warm_up``), so the first ``n`` does not wait.
        run_store(self, lambda s: bool(s.drafts.names()), self._offer_drafts, group="drafts")
        self.set_timer(WARM_SECONDS, self._warm_up)

    def _offer_drafts(self, any_draft: bool) -> None:
        if any_draft:
            from fieldlog.tui.screens.drafts import offer_drafts

            offer_drafts(self)

    def _warm_up(self) -> None:
        """Import the contact form while the officer reads the dashboard (``n`` is the key
        most pressed; the other screens are imported on their first use). Not before the
        dashboard's table is filled: the import (~50 ms) would hold its first full frame."""
        try:
            stack = self.screen_stack
        except KeyError:  # no mode any more
            return
        if not stack or "fieldlog.tui.screens.drafts" in sys.modules:
            return  # the app is closing, or the form is in already
        if isinstance(stack[-1], DashboardScreen) and not stack[-1].followups_loaded:
            self.set_timer(WARM_SECONDS / 5, self._warm_up)  # looked at again shortly
            return
        import_module("fieldlog.tui.screens.drafts")

    def logged_in(self, store: Store) -> None:
        """The passphrase screen opened the log: on to the dashboard."""
        self.store = store
        self._read_start(store)
        self.locker.unlocked()
        self.switch_mode("dashboard")
        self.remove_mode("login")
        self._opened()

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.InputEvent) and not event.is_forwarded:
            self.locker.touch()  # the idle lock counts from the last key or mouse event
        await super().on_event(event)

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
        elif self.store.commits != self._status_commits:
            self.refresh_status()  # the TUI wrote (a save, a one-key action, a draft...)

    def data_changed(self) -> None:
        """The log changed under the TUI: the screen shown reloads, the rest when shown."""
        self.refresh_status()
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
            self.refresh_status()
            top = self.screen
            if isinstance(top, StoreScreen):
                top.refresh_data()

        run_store(self, undo, done, group="undo")

    # ------------------------------------------------------------------ status line
    def refresh_status(self) -> None:
        """Reload the status line's figures in a worker; every StatusLine follows.

        Called when the log opens, after another process wrote (``data_changed``), after an
        undo, and by ``_poll`` whenever the store has committed since the last load: so after
        every write of the TUI's own, whichever screen or dialog made it."""
        if self.store is None:
            return
        self._status_commits = self.store.commits
        path = self.db_path
        run_store(self, lambda s: read_status(s, path), self._show_status, group="status")

    def _show_status(self, status: Status) -> None:
        self.status = status
        self.status_changed.publish(status)

    # ------------------------------------------------------------------ theme
    def _restore_theme(self) -> None:
        """Put back the theme the officer chose last time (kept in the log's meta, see
        ``Store.set_setting``; read by ``_read_start``), then keep each new choice."""
        if self._saved_theme is not None:
            return  # once per run (the passphrase screen may open the log after a lock)
        # The log's own choice, else the settings file's default (``fieldlog config set theme``,
        # checked when set; a name this Textual lacks is skipped): applied before the choice
        # is followed, so a default is never written into the log as the officer's choice.
        name = self._start_theme or config_theme()
        if name and name in self.available_themes:
            self.theme = name
        self._saved_theme = self.theme
        self.theme_changed_signal.subscribe(self, self._theme_changed)

    def _theme_changed(self, theme: Theme) -> None:
        if theme.name == self._saved_theme:
            return
        self._saved_theme = name = theme.name
        run_store(self, lambda s: s.set_setting(THEME_SETTING, name), group="theme")

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

    def _on_screen(self, method: str) -> None:
        """Call ``method`` of the screen now shown, if it has one (after a mode switch)."""
        call = getattr(self.screen, method, None)
        if call is not None:
            call()

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
        from fieldlog.tui.screens.help import HelpScreen

        self.push_screen(HelpScreen(self.screen))

    def action_new(self) -> None:
        from fieldlog.tui.screens.drafts import open_new_contact

        open_new_contact(self)

    def action_repeat_last(self) -> None:
        from fieldlog.tui.screens.drafts import open_new_contact

        open_new_contact(self, repeat=True)

    def action_export(self) -> None:
        from fieldlog.tui.dialogs.export import ExportDialog

        self.push_screen(ExportDialog())

    def open_record(self, noun: str, rid: str, then: Callable[[Any], None] | None = None) -> None:
        """Push the screen of record ``rid`` of type ``noun`` (a registry noun: contact,
        concern, referral, organization, problem); ``then`` gets what the screen dismisses with.
        Screens open records through here (the ``Shell``), so screens that open each other
        (a contact and its concerns) never import each other."""
        if noun == "contact":
            from fieldlog.tui.screens.detail import DetailScreen

            self.push_screen(DetailScreen(rid), then)
        elif noun == "concern":
            from fieldlog.tui.screens.record import ConcernScreen

            self.push_screen(ConcernScreen(rid), then)
        elif noun == "referral":
            from fieldlog.tui.screens.record import ReferralScreen

            self.push_screen(ReferralScreen(rid), then)
        elif noun == "organization":
            from fieldlog.tui.screens.orgs import open_org

            open_org(self, rid, then)
        elif noun == "problem":
            from fieldlog.tui.screens.problem_detail import ProblemDetailScreen

            self.push_screen(ProblemDetailScreen(rid), then)
        else:
            raise ValueError(f"no screen for {noun!r} records")

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand(
            "Dashboard", "Today's figures and follow-ups (d)", self.action_dashboard
        )
        yield SystemCommand("Search contacts", "Find contacts by any word (/)", self.action_search)
        yield SystemCommand("New contact", "Log a new contact (n)", self.action_new)
        yield SystemCommand("Export CSV", "Contacts to a CSV file (Ctrl+E)", self.action_export)
        for name, mode in LAZY_MODES.items():
            yield SystemCommand(
                mode.palette, f"{mode.tooltip} ({mode.key})", partial(self._to_mode, name)
            )
        yield SystemCommand("Help", "Every key (?)", self.action_help)
        yield from self.screen_commands(screen)

    def screen_commands(self, screen: Screen) -> Iterator[SystemCommand]:
        """One palette command per key of ``screen`` and of its focused widget, made from
        their bindings (so none is missed and none drifts): each record action is there by
        name, also those the footer has no room for. Left out: the app's own keys (listed
        above with their own words), Textual's built-in widget keys and table movement
        (Help lists it), and keys that cannot act now (``check_action`` says so)."""
        found: dict[tuple[int, str], tuple[DOMNode, Binding, list[str]]] = {}
        for node, binding, enabled, _tip in screen.active_bindings.values():
            if node is self or not enabled or not binding.description or binding.system:
                continue
            if binding.action.startswith("app.") or not _declared_by_fieldlog(node, binding):
                continue
            if isinstance(node, ListTable) and binding.action in TABLE_MOVES:
                continue
            _, _, keys = found.setdefault((id(node), binding.action), (node, binding, []))
            keys.append(self.get_key_display(binding))
        for node, binding, keys in found.values():
            title = binding.tooltip or binding.description
            yield SystemCommand(
                title[:1].upper() + title[1:],
                f"Press {' / '.join(keys)} on this screen",
                partial(self.run_action, binding.action, node),
            )


for _name in LAZY_MODES:  # each lazy mode's action: its key, the palette, "app.<mode>"
    if not hasattr(FieldlogApp, f"action_{_name}"):
        setattr(FieldlogApp, f"action_{_name}", _mode_action(_name))

TABLE_MOVES = {b.action for b in ListTable.BINDINGS if isinstance(b, Binding)}


def _declared_by_fieldlog(node: DOMNode, binding: Binding) -> bool:
    """Whether ``binding`` comes from the BINDINGS of one of fieldlog's own classes in
    ``node``'s hierarchy (not from a Textual widget: DataTable's cursor keys, Input's...)."""
    for cls in type(node).__mro__:
        if not cls.__module__.startswith("fieldlog."):
            continue
        for b in cls.__dict__.get("BINDINGS", ()):
            if isinstance(b, Binding) and (b.action, b.description) == (
                binding.action,
                binding.description,
            ):
                return True
    return False


def start_early_reads(
    store: Store, lock: threading.Lock, calls: Mapping[str, Callable[[Store], Any]]
) -> dict[str, Future[Any]]:
    """Run ``calls`` one after the other in a plain thread, each under ``lock``, as soon as
    the log is open: the dashboard's figures are counted while Textual starts
    (parses the CSS, builds and mounts the screen, ~0.1-0.2 s on a laptop) instead of once
    the screen asks, after its first frame. Not a Textual worker: none can run before the
    app does. Each result (or error) waits in its Future for ``FieldlogApp.early_read``."""
    reads = [(call, Future[Any]()) for call in calls.values()]

    def run() -> None:
        for call, future in reads:
            future.set_running_or_notify_cancel()
            try:
                with lock:
                    value = call(store)
            except BaseException as err:  # noqa: BLE001 - handed to the screen that takes it
                future.set_exception(err)
            else:
                future.set_result(value)

    threading.Thread(target=run, name="fieldlog-early-reads", daemon=True).start()
    return {name: future for name, (_, future) in zip(calls, reads, strict=True)}


def config_theme() -> str | None:
    """The settings file's ``theme`` (None when unset, or when the file cannot be read: the
    CLI has said so before the app started, and a theme is not worth a crash)."""
    from fieldlog import config
    from fieldlog.errors import SettingError

    try:
        value = config.get("theme")
    except SettingError:
        return None
    return str(value) if value else None


def theme_names() -> list[str]:
    """The themes the app can show (Textual's built-in ones), for ``fieldlog config set``."""
    from textual.theme import BUILTIN_THEMES

    return sorted(BUILTIN_THEMES)


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
