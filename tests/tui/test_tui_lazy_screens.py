"""Issue 16: the launch to the dashboard imports no other screen, and a screen imported on
first use is one line of ``LAZY_MODES`` (fieldlog/tui/app.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from fieldlog.tui.app import LAZY_MODES, NAV_ACTIONS, make_app
from tests.lib.tui import SIZE, build_log, run, settle

ROOT = Path(__file__).resolve().parents[2]
TUI = ROOT / "fieldlog" / "tui"
AT_LAUNCH = {"fieldlog.tui.screens.dashboard", "fieldlog.tui.screens.login"}
# What the warm-up imports once the dashboard is drawn (the contact form, for the first n).
WARMED = "fieldlog.tui.screens.form"

CHILD = """
import asyncio, json, sys, threading, time
from textual.css.stylesheet import Stylesheet

reparsed = []
real_reparse = Stylesheet.reparse
def reparse(self):
    reparsed.append(1)
    return real_reparse(self)
Stylesheet.reparse = reparse

from fieldlog.db.store import Store
from fieldlog.tui.app import FieldlogApp, WARM_SECONDS

gate = threading.Event()
store = Store.open(sys.argv[1])
real_due = store.followups.due
def due(*args, **kwargs):  # the follow-ups read held until the test lets it go
    gate.wait(60)
    return real_due(*args, **kwargs)
store.followups.due = due

def tui():
    return sorted(m for m in sys.modules if m.startswith("fieldlog.tui"))

async def until(pilot, cond):  # by the clock: a loaded machine draws later
    deadline = time.monotonic() + 60
    while not cond() and time.monotonic() < deadline:
        await pilot.pause(0.05)

async def main():
    app = FieldlogApp(store)
    out = {}
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: getattr(app.screen, "loaded", False))
        # the figures are up, the table waits for its read: well past the warm-up's time
        await pilot.pause(WARM_SECONDS * 3)
        out["waiting"] = tui()
        out["reparsed"] = len(reparsed)
        gate.set()
        await until(pilot, lambda: app.screen.followups_loaded)
        await until(pilot, lambda: %(warmed)r in sys.modules)
        await pilot.pause()
        out["warm"] = tui()
        out["screen"] = type(app.screen).__name__
    print(json.dumps(out))

asyncio.run(main())
"""


def lazy_modules() -> set[str]:
    """Every screen and dialog module but the two the launch needs: a new one (a Problems
    screen...) is checked without changing this test."""
    found = set()
    for folder in ("screens", "dialogs"):
        for path in (TUI / folder).glob("*.py"):
            if path.stem != "__init__":
                found.add(f"fieldlog.tui.{folder}.{path.stem}")
    return found - AT_LAUNCH


def test_the_launch_to_the_dashboard_imports_no_other_screen(tmp_path):
    path = tmp_path / "log.db"
    build_log(path, "Second contact")
    code = CHILD % {"warmed": WARMED}
    done = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr[-3000:]
    got = json.loads(done.stdout.splitlines()[-1])
    lazy = lazy_modules()
    assert AT_LAUNCH <= set(got["waiting"])
    # the dashboard is up and its table is still loading: no other screen or dialog was
    # imported for it, not even the contact form the warm-up imports (it waits for the table)
    assert not lazy & set(got["waiting"]), sorted(lazy & set(got["waiting"]))
    # and Textual parsed the stylesheet once (a first screen made from MODES reparses it all)
    assert got["reparsed"] == 0
    # once the table is drawn the form is warmed up for the first n; every mode's screen,
    # the export dialog and Help wait for their first use
    assert got["screen"] == "DashboardScreen"
    warm = set(got["warm"])
    assert WARMED in warm
    later = {f"fieldlog.tui.screens.{m.screen.split(':')[0]}" for m in LAZY_MODES.values()}
    later |= {"fieldlog.tui.dialogs.export", "fieldlog.tui.screens.help"}
    assert later <= lazy
    assert not later & warm, sorted(later & warm)


def test_each_lazy_mode_is_one_registry_line(tmp_path):
    """Each line of LAZY_MODES gives its mode a key, an action, a palette command and a
    place among the navigation actions, and shows the screen it names."""
    path = tmp_path / "log.db"
    build_log(path)

    async def flow():
        app = make_app(path)
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            keys = {b.key: b.action for b in app.BINDINGS if not isinstance(b, tuple)}
            palette = {c.title for c in app.get_system_commands(app.screen)}
            for name, mode in LAZY_MODES.items():
                assert keys[mode.key] == name and name in NAV_ACTIONS
                assert mode.palette in palette
                module, cls = mode.screen.split(":")
                await pilot.press(mode.key)
                await settle(app, pilot)
                assert app.current_mode == name
                assert type(app.screen).__name__ == cls
                assert type(app.screen).__module__ == f"fieldlog.tui.screens.{module}"
                await app.run_action("dashboard")  # the dashboard is a mode too (d)
                await settle(app, pilot)
                assert app.current_mode == "dashboard"
                assert type(app.screen).__name__ == "DashboardScreen"

    run(flow)
