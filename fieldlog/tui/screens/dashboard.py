"""The start screen: today's figures, the partners going cold, the contacts a supervisor
returned for changes (each with its comment) and the follow-ups that are due.

Its footer also shows the way to the other lists (``l``, ``f``, ``o``): those keys work on
every screen (the app's bindings) but only here is there room to show them at 80 columns.

It is usable at once: the layout, the table's focus and every key are there on the first
frame, before any count has run. The figures come from one store call and are drawn as soon
as they arrive (a dim "counting…" stands in for each until then: never a wrong "0"); the
follow-ups table fills from a second call started after them, so the figures are not held
back by the slower list (bench/bench_tui.py times both). The returned contacts come in that
second call and lead the table: Enter opens one, to change what the comment asks. The
partners going cold (active partners with no contact in :data:`COLD_DAYS` days, the longest
silent first: :func:`fieldlog.partners.cold`) come in that second call too, into a panel whose
height is kept from the first frame (:data:`COLD_SHOWN` lines under its title).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable, Footer, Header, Static

from fieldlog import dates
from fieldlog.tui.base import StoreScreen
from fieldlog.tui.widgets.cells import add_columns, clip
from fieldlog.tui.widgets.status import StatusLine
from fieldlog.tui.widgets.table import ListTable

if TYPE_CHECKING:
    from fieldlog.db.store import Store

EMPTY = "Your log is empty: press n to log your first contact."
EMPTY_DEMO = (
    "To practise first, quit (q) and open a practice log:\n"
    "fieldlog --db demo.db demo   then   fieldlog --db demo.db tui"
)
NO_FOLLOWUPS = "Follow-ups: none due. Set one with a date in a contact's follow-up field."
COUNTING = "counting…"
# The figures' lines, in order: the placeholder has the same lines, so nothing moves when the
# figures arrive.
FIGURE_LINES = ("Contacts", "Open concerns", "Referrals")
FOLLOWUPS_SHOWN = 50
COLD_DAYS = 60  # the dashboard's "going cold": no contact in this many days
COLD_SHOWN = 3  # partners named under the panel's title (the rest counted)
COLD_TITLE = "Partners going cold"


def count_figures(store: Store) -> dict[str, Any]:
    """The dashboard's figures (the conflicts to resolve among them): one statement."""
    return store.reports.dashboard()


def due_followups(store: Store) -> list[dict[str, Any]]:
    return store.followups.due(limit=FOLLOWUPS_SHOWN)


Todo = tuple[list[dict[str, Any]], list[dict[str, Any]], "tuple[int, list[dict[str, Any]], int]"]


def todo(store: Store) -> Todo:
    """The follow-ups due and this officer's contacts a supervisor returned for changes
    (what the table lists, the returned contacts first), and the partners going cold
    (:func:`cold_partners`): one call, so the dashboard's second read is one worker."""
    returned = store.contacts.returned()[:FOLLOWUPS_SHOWN]
    return due_followups(store), returned, cold_partners(store)


def cold_partners(store: Store) -> tuple[int, list[dict[str, Any]], int]:
    """How many live partners there are, the first :data:`COLD_SHOWN` going cold, and how
    many are going cold in all."""
    from fieldlog import partners

    since = partners.cold_since(f"{COLD_DAYS}d")
    total = store.orgs.count()
    if not total:
        return 0, [], 0
    rows = partners.with_days(store.orgs.cold(since, limit=COLD_SHOWN))
    return total, rows, store.orgs.count_cold(since) if len(rows) == COLD_SHOWN else len(rows)


class EarlyRead(Message):
    """One of the app's early reads finished (posted from the thread that read it)."""

    def __init__(self, name: str, future: Future[Any]) -> None:
        super().__init__()
        self.name = name
        self.future = future


class DashboardScreen(StoreScreen):
    """Figures from ``store.reports.dashboard()`` and due follow-ups; Enter opens the contact."""

    # What the app reads for this screen as soon as the log is open, before the screen
    # exists (``FieldlogApp.early_read``): its first load then takes the result. The figures
    # only: one statement and one row, so the thread barely competes with the starting UI
    # for the GIL; the follow-ups' 50 rows would (Python's sqlite3 gives the GIL up at each
    # row fetched), and measured later, and slowed the first frame (bench/README.md).
    EARLY_READS: dict[str, Callable[[Store], Any]] = {"figures": count_figures}

    BINDINGS = [  # the app's own keys, shown in this footer (see the module's docstring)
        Binding("l", "app.contacts", "List", tooltip="Every contact, newest first"),
        Binding("f", "app.followups", "Follow-ups", tooltip="The follow-ups table"),
        Binding("o", "app.orgs", "Orgs", tooltip="Community partners directory"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.contact_of: dict[str, str] = {}  # follow-up row key -> contact id
        # What is on screen (bench/bench_tui.py and the tests wait on these): the figures,
        # then the follow-ups table.
        self.loaded = False
        self.followups_loaded = False
        self.followups_title = ""  # the title show_figures gave (show_returned adds to it)
        self.returned = 0  # contacts returned for changes, as last loaded
        self.cold_loaded = False  # the partners going cold are on screen
        # early reads still running: name -> (call, then, failed) of the load that waits
        self._waiting: dict[str, tuple[Callable[[Store], Any], Callable[[Any], None], Any]] = {}

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(self.placeholder_text(), id="stats")
        yield Static(self.cold_placeholder(), id="cold")
        yield Static("Follow-ups due", id="followups-title", classes="section-title")
        yield ListTable(id="followups")
        yield StatusLine()
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "Dashboard"
        table = self.query_one("#followups", ListTable)
        add_columns(
            table,
            [("Due", "due", 10), ("What", "type", 8), ("Subject", "subject", 26),
             ("Who", "who", 13), ("Hood", "hood", 10)],
        )  # fmt: skip
        table.focus()

    def on_screen_resume(self) -> None:
        self.reload()  # every time: the TUI's own writes elsewhere change the figures too

    def refresh_data(self) -> None:
        """Another process wrote: new figures, the cursor staying on its follow-up."""
        self.stale = False
        self.reload()

    def reload(self) -> None:
        """The figures first (one call), then the follow-ups list (a second call, started
        once the figures are drawn: the store's calls take turns under the app's lock, so
        starting both at once could let the list go first)."""
        self._load("figures", count_figures, self.show_figures, failed=self.load_followups)

    def load_followups(self) -> None:
        self._load("followups", todo, self.show_followups)

    def _load(
        self,
        name: str,
        call: Callable[[Store], Any],
        then: Callable[[Any], None],
        failed: Callable[[], None] | None = None,
    ) -> None:
        """``call`` in a worker, then ``then``. The first time, the app's early read of it
        instead (started when the log opened): shown at once if it is done, else as soon as
        it is (it does not wait for the log's lock); read again in a worker if it failed, so
        an error is reported as any other."""
        self._waiting.pop(name, None)  # a newer load: an early result still to come is stale
        take = getattr(self.app, "early_read", None)  # FieldlogApp's; screens never import it
        early: Future[Any] | None = take(name) if take is not None else None
        if early is None:
            self.db(call, then, group=name, failed=failed)
        elif early.done() and early.exception() is None:
            then(early.result())
        else:
            self._waiting[name] = (call, then, failed)
            early.add_done_callback(lambda done: self.post_message(EarlyRead(name, done)))

    def on_early_read(self, message: EarlyRead) -> None:
        waiting = self._waiting.pop(message.name, None)
        if waiting is None:
            return  # a newer load took over
        call, then, failed = waiting
        if message.future.exception() is None:
            then(message.future.result())
        else:
            self.db(call, then, group=message.name, failed=failed)

    def focus_followups(self) -> None:
        self.query_one("#followups", ListTable).focus()

    def show_figures(self, figures: dict[str, Any]) -> None:
        """The counts on screen, and the follow-ups title (its figures are among them:
        the table lists the same due and overdue follow-ups, so they agree)."""
        self.query_one("#stats", Static).update(self.stats_text(figures))
        due, overdue = figures["followups_due"], figures["followups_overdue"]
        if due or overdue:
            self.followups_title = f"Follow-ups: {due} due today, {overdue} overdue"
        else:
            self.followups_title = NO_FOLLOWUPS if figures["contacts_total"] else ""
        self.show_returned(self.returned)
        table = self.query_one("#followups", ListTable)
        table.display = bool(due or overdue or figures["contacts_total"])
        self.loaded = True
        self.load_followups()

    def show_followups(self, result: Todo) -> None:
        """The table: the contacts returned for changes first (the comment as the subject:
        what to change), then the follow-ups due; the title says how many are returned."""
        followups, returned, cold = result
        table = self.query_one("#followups", ListTable)
        if followups or returned:
            table.display = True
        self.contact_of = {f"{r['type']}:{r['id']}": r["contact_id"] for r in followups}
        self.contact_of.update({f"returned:{r['id']}": r["id"] for r in returned})
        rows = [
            (
                f"returned:{r['id']}",
                (
                    Text(dates.show_local(r.get("reviewed_at"))[:10], style="bold yellow"),
                    Text("returned", style="bold yellow"),
                    clip(r.get("review_comment") or r.get("summary"), 26),
                    clip(r.get("person_name"), 13),
                    clip(r.get("neighborhood"), 10),
                ),
            )
            for r in returned
        ]
        rows.extend(
            (
                f"{r['type']}:{r['id']}",
                (
                    Text(r["follow_up_on"] or "", style="bold red" if r["overdue"] else ""),
                    Text(r["type"]),
                    clip(r["subject"], 26),
                    clip(r["person_name"], 13),
                    clip(r["neighborhood"], 10),
                ),
            )
            for r in followups
        )
        table.replace_rows(rows)
        self.returned = len(returned)
        self.show_returned(self.returned)
        self.followups_loaded = True
        self.show_cold(cold)

    def show_cold(self, result: tuple[int, list[dict[str, Any]], int]) -> None:
        """The partners going cold under their title; the panel is hidden when the directory
        is empty (nothing can go cold)."""
        total, rows, cold = result
        panel = self.query_one("#cold", Static)
        panel.display = bool(total)
        panel.update(self.cold_text(rows, cold))
        self.cold_loaded = True

    @staticmethod
    def cold_placeholder() -> Text:
        out = Text()
        out.append(f"{COLD_TITLE}  ", style="bold")
        out.append(COUNTING, style="dim")
        return out

    @staticmethod
    def cold_text(rows: list[dict[str, Any]], cold: int) -> Text:
        """``Partners going cold  5 with no contact in 60 days (o: the directory)`` and the
        longest silent, one a line: ``City Housing Authority   208 days``."""
        out = Text()
        out.append(f"{COLD_TITLE}  ", style="bold")
        if not cold:
            out.append(f"none: every active partner was contacted in {COLD_DAYS} days")
            return out
        out.append(f"{cold} with no contact in {COLD_DAYS} days", style="bold yellow")
        out.append("   (o: partners)", style="dim")
        for r in rows:
            days = r["days_since_contact"]
            out.append("\n  ")
            out.append_text(clip(r["name"], 40))
            out.append(" " * max(1, 42 - min(len(r["name"]), 40)))
            out.append("never contacted" if days is None else f"{days} days", style="yellow")
        return out

    def show_returned(self, n: int) -> None:
        """The follow-ups' title, after the contacts returned for changes when there are
        some ("2 returned for changes · Follow-ups: 1 due today, 0 overdue")."""
        said = self.followups_title
        if n:
            due = said if said and said != NO_FOLLOWUPS else "Follow-ups: none due"
            said = f"{n} returned for changes · {due}"
        self.query_one("#followups-title", Static).update(said)

    @staticmethod
    def placeholder_text() -> Text:
        """What the figures' place shows until they arrive: their labels, each with a dim
        "counting…" (the same lines as the figures, so nothing moves when they come)."""
        out = Text()
        for label in FIGURE_LINES:
            out.append(f"{label}  ", style="bold")
            out.append(COUNTING, style="dim")
            out.append("\n")
        out.append("Last sync  ", style="bold")
        out.append("…", style="dim")
        out.append("   ")
        out.append("Conflicts  ", style="bold")
        out.append(COUNTING, style="dim")
        return out

    @staticmethod
    def stats_text(f: dict[str, Any]) -> Text:
        if not f["contacts_total"]:
            out = Text()
            out.append(EMPTY, style="bold")
            out.append("\n")
            out.append(EMPTY_DEMO, style="dim")
            if f.get("conflicts"):
                out.append("\n")
                DashboardScreen.conflicts_text(out, f["conflicts"])
            return out
        out = Text()
        out.append("Contacts  ", style="bold")
        out.append(f"today {f['contacts_today']}   this week {f['contacts_week']}   ")
        out.append(f"total {f['contacts_total']}\n")
        out.append("Open concerns  ", style="bold")
        concerns = f["open_concerns"]
        out.append(
            "  ".join(f"{k} {n}" for k, n in concerns.items()) if concerns else "none", style=""
        )
        out.append("\nReferrals  ", style="bold")
        refs = f["referrals"]
        out.append("  ".join(f"{k} {n}" for k, n in refs.items()) if refs else "none")
        out.append("\nLast sync  ", style="bold")
        out.append(dates.show_local(f["last_sync"]) if f["last_sync"] else "never")
        out.append("   ")
        DashboardScreen.conflicts_text(out, f.get("conflicts", 0))
        return out

    @staticmethod
    def conflicts_text(out: Text, n: int) -> None:
        """Sync conflicts left to resolve; when there are some, a red figure that opens them
        (so does C anywhere)."""
        out.append("Conflicts  ", style="bold")
        if not n:
            out.append("0")
            return
        click = {"@click": "app.conflicts"}
        out.append(f" {n} to resolve ", Style(bold=True, color="white", bgcolor="red", meta=click))
        out.append(" press C", Style(meta=click))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        contact_id = self.contact_of.get(str(event.row_key.value))
        if contact_id:
            from fieldlog.tui.screens.detail import DetailScreen

            self.app.push_screen(DetailScreen(contact_id))
