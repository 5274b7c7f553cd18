"""Launch speed (issue 10, bench/bench_tui.py): the dashboard takes keys before its figures are
counted, the figures come before the follow-ups list, and importing the app leaves the other
screens unimported until they are first shown."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

from fieldlog import dates
from fieldlog.db.store import Store
from fieldlog.tui.app import FieldlogApp, make_app
from fieldlog.tui.screens.contacts import ContactsScreen
from fieldlog.tui.screens.dashboard import COUNTING, DashboardScreen
from fieldlog.tui.screens.form import ContactFormScreen
from tests.lib.tui import SIZE, build_log, run, settle, static_text, table_text, until

ROOT = Path(__file__).resolve().parents[2]


class Held:
    """A store call made to wait (in its worker, under the app's lock) until the test lets it
    go: as slow as the test wants. ``late`` counts the calls that waited in vain (``seconds``,
    far longer than a test on a loaded machine takes): the UI thread was stuck and the test
    could not run to let them go."""

    def __init__(self, call: Callable[..., object], seconds: float = 60.0) -> None:
        self.call, self.seconds = call, seconds
        self.gate = threading.Event()
        self.late = 0

    def __call__(self, *args: object, **kwargs: object) -> object:
        if not self.gate.wait(self.seconds):
            self.late += 1
        return self.call(*args, **kwargs)


class Watched:
    """The app's lock, watched: ``ui_waits`` counts the times the UI thread asked for it while
    a worker held it (the UI would freeze for as long as the held call takes). Such a wait
    lets every ``Held`` call go at once, so it is told by its count, never by a timeout."""

    def __init__(self, lock: threading.Lock, *held: Held) -> None:
        self.lock, self.held = lock, held
        self.ui = threading.get_ident()  # made on the UI thread (the test's event loop)
        self.ui_waits = 0

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        if self.lock.acquire(False):
            return True
        if not blocking:
            return False
        if threading.get_ident() == self.ui:
            self.ui_waits += 1
            for h in self.held:
                h.gate.set()
        return self.lock.acquire(True, timeout)

    def release(self) -> None:
        self.lock.release()

    def locked(self) -> bool:
        return self.lock.locked()

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def watch(app: FieldlogApp, *held: Held) -> Watched:
    """Watch ``app``'s lock (the early reads already started keep the same lock inside)."""
    app.db_lock = watched = Watched(app.db_lock, *held)  # type: ignore[assignment]
    return watched


def usable(app: FieldlogApp) -> bool:
    screen = app.screen
    return isinstance(screen, DashboardScreen) and screen.is_mounted and bool(screen.focused)


def test_dashboard_takes_keys_while_its_figures_are_counted(tmp_path):
    path = tmp_path / "log.db"
    build_log(path, "Second contact")

    async def flow():
        store = Store.open(path)  # slowed before the app starts its first reads
        store.reports.dashboard = held = Held(store.reports.dashboard)  # type: ignore[method-assign]
        app = FieldlogApp(store)
        lock = watch(app, held)
        try:
            async with app.run_test(size=SIZE) as pilot:
                await until(pilot, lambda: usable(app), "the dashboard with its focus")
                dashboard = app.screen
                assert isinstance(dashboard, DashboardScreen) and not dashboard.loaded
                stats = static_text(dashboard, "#stats")
                # labels and a dim "counting…" for each figure: no number yet, no wrong 0
                assert stats.count(COUNTING) == 4, stats
                assert "Contacts" in stats and "Referrals" in stats
                assert not any(ch.isdigit() for ch in stats), stats

                await pilot.press("n")  # the form opens while the counts are held
                await until(
                    pilot,
                    lambda: isinstance(app.screen, ContactFormScreen) and app.screen.focused,
                    "the contact form with its focus",
                )
                await pilot.press("escape")
                await until(pilot, lambda: app.screen is dashboard, "the dashboard back")
                await pilot.press("l")  # and the list (its rows wait for the log's lock)
                await until(pilot, lambda: isinstance(app.screen, ContactsScreen), "the list")
                await pilot.press("d")
                await until(pilot, lambda: app.screen is dashboard, "the dashboard again")
                assert not dashboard.loaded
                assert COUNTING in static_text(dashboard, "#stats")

                held.gate.set()
                await settle(app, pilot)
                assert not lock.ui_waits and not held.late, "the UI thread waited for the counts"
                stats = static_text(dashboard, "#stats")
                assert COUNTING not in stats
                assert "total 2" in stats and "noise 1" in stats and "made 1" in stats
                assert dashboard.loaded and dashboard.followups_loaded
        finally:
            held.gate.set()  # a failed assertion must not leave the worker (and lock) held

    run(flow)


def test_figures_are_drawn_before_the_follow_ups_are_listed(tmp_path):
    path = tmp_path / "log.db"
    with Store.open(path) as store:
        today = dates.today_local()
        yesterday = (date.fromisoformat(today) - timedelta(days=1)).isoformat()
        store.contacts.add({"summary": "Youth league", "follow_up_on": yesterday})
        store.contacts.add({"summary": "Park lights", "follow_up_on": today})

    async def flow():
        store = Store.open(path)
        store.followups.due = held = Held(store.followups.due)  # type: ignore[method-assign]
        app = FieldlogApp(store)
        lock = watch(app, held)
        try:
            async with app.run_test(size=SIZE) as pilot:
                await until(pilot, lambda: getattr(app.screen, "loaded", False), "the figures")
                dashboard = app.screen
                assert isinstance(dashboard, DashboardScreen)
                assert "total 2" in static_text(dashboard, "#stats")
                # the title's counts come with the figures; the rows with the second call
                title = static_text(dashboard, "#followups-title")
                assert "1 due today, 1 overdue" in title
                table = dashboard.query_one("#followups")
                assert table.row_count == 0 and not dashboard.followups_loaded

                held.gate.set()
                await settle(app, pilot)
                assert dashboard.followups_loaded and not held.late and not lock.ui_waits
                rows = table_text(table)  # type: ignore[arg-type]
                assert len(rows) == 2 and "Youth league" in rows[0]  # the overdue one first
        finally:
            held.gate.set()

    run(flow)


def test_early_figures_show_when_counted_after_the_dashboard_mounted(tmp_path):
    """The dashboard mounted before the app's early count was done: the figures show the
    moment it is, then the follow-ups are read (in a worker, holding the log's lock)."""
    path = tmp_path / "log.db"
    build_log(path, "Second contact")

    async def flow():
        store = Store.open(path)
        store.reports.dashboard = counts = Held(store.reports.dashboard)  # type: ignore[method-assign]
        store.followups.due = due = Held(store.followups.due)  # type: ignore[method-assign]
        app = FieldlogApp(store)
        lock = watch(app, counts, due)
        try:
            async with app.run_test(size=SIZE) as pilot:
                await until(pilot, lambda: usable(app), "the dashboard with its focus")
                dashboard = app.screen
                assert isinstance(dashboard, DashboardScreen) and not dashboard.loaded
                counts.gate.set()  # the follow-ups read now takes the lock and holds it
                await until(pilot, lambda: dashboard.loaded, "the figures")
                assert "total 2" in static_text(dashboard, "#stats")
                assert not dashboard.followups_loaded and app.db_lock.locked()
                due.gate.set()
                await until(pilot, lambda: dashboard.followups_loaded, "the follow-ups")
                assert not counts.late and not due.late and not lock.ui_waits
        finally:
            counts.gate.set()
            due.gate.set()

    run(flow)


def test_the_first_figures_are_read_while_the_app_starts(tmp_path, monkeypatch):
    """The app counts the dashboard's figures as soon as the log is open (a thread of its
    own, before Textual runs): the first load takes them, done, with no worker of its own
    (the follow-ups come from one); a later load (back on the dashboard) counts afresh."""
    path = tmp_path / "log.db"
    build_log(path, "Second contact")
    loads: list[str] = []
    real_db = DashboardScreen.db

    def db(self, call, then=None, *, group="load", failed=None):
        loads.append(group)
        real_db(self, call, then, group=group, failed=failed)

    monkeypatch.setattr(DashboardScreen, "db", db)

    async def flow():
        app = make_app(path)
        for future in app._early.values():  # the reads run while the app is built
            future.result(timeout=10)
        async with app.run_test(size=SIZE) as pilot:
            dashboard = app.screen
            assert isinstance(dashboard, DashboardScreen) and dashboard.loaded
            await settle(app, pilot)  # the second read (follow-ups, partners going cold)
            assert dashboard.followups_loaded and loads == ["followups"]
            assert "total 2" in static_text(dashboard, "#stats")
            assert app.early_read("figures") is None  # taken once
            with Store.open(path) as other:
                other.contacts.add({"summary": "Third contact"})
            await pilot.press("l")
            await settle(app, pilot)
            await pilot.press("d")
            await settle(app, pilot)
            # (a change polled from the other connection may count the figures once more)
            assert loads[1] == "figures" and "followups" in loads[2:]
            assert "total 3" in static_text(dashboard, "#stats")

    run(flow)


def test_follow_ups_due_with_a_limit_are_the_first_of_the_whole_list(tmp_path):
    """``followups.due(limit=N)`` only joins rows up to the N-th date of each side: the same
    rows, in the same order, as the first N of the unlimited list (ties on a date included)."""
    from fieldlog import demo

    with Store.open(tmp_path / "log.db") as store:
        demo.fill(store, 400, seed=3)
        whole = store.followups.due(until="in 30 days")
        assert len(whole) > 60
        for n in (1, 7, 50, len(whole), len(whole) + 5):
            assert store.followups.due(until="in 30 days", limit=n) == whole[:n], n
        dates_ = [r["follow_up_on"] for r in whole]
        assert len(set(dates_)) < len(dates_)  # the log has ties for the order by id to keep


def test_importing_the_app_leaves_the_other_screens_for_their_first_use(tmp_path):
    path = tmp_path / "log.db"
    build_log(path)
    code = f"""
import asyncio, json, sys, time
import fieldlog.tui.app as app_module
before = sorted(m for m in sys.modules if m.startswith("fieldlog.tui"))

async def until(pilot, cond):  # by the clock: a loaded machine draws later
    deadline = time.monotonic() + 60
    while not cond() and time.monotonic() < deadline:
        await pilot.pause(0.05)

async def main():
    app = app_module.make_app({str(path)!r})
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: getattr(app.screen, "loaded", False))
        await pilot.press("C")
        await until(pilot, lambda: type(app.screen).__name__ == "ConflictsScreen")
        shown = type(app.screen).__name__
    after = sorted(m for m in sys.modules if m.startswith("fieldlog.tui"))
    print(json.dumps({{"before": before, "after": after, "shown": shown}}))

asyncio.run(main())
"""
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout
    got = json.loads(out.splitlines()[-1])
    before = set(got["before"])
    assert "fieldlog.tui.screens.dashboard" in before
    for lazy in (
        "fieldlog.tui.screens.conflicts",
        "fieldlog.tui.screens.report",
        "fieldlog.tui.dialogs.export",
        "fieldlog.tui.screens.followups",
        "fieldlog.tui.screens.orgs",
        "fieldlog.tui.screens.contacts",
        "fieldlog.tui.screens.record",
        "fieldlog.tui.screens.help",
        "fieldlog.tui.screens.form",
    ):
        assert lazy not in before, lazy
    # imported on first use: C opened the conflicts screen from its lazily imported module
    assert got["shown"] == "ConflictsScreen"
    assert "fieldlog.tui.screens.conflicts" in got["after"]
    assert "fieldlog.tui.dialogs.export" not in got["after"]
