"""What the TUI tests share: the screen size, small logs built with Store methods, and
helpers that let workers settle, wait for what a screen shows, and read it.

Waits are on conditions, never on fixed sleeps: the suite runs in several worker processes at
once (pytest-xdist), and a loaded machine draws a screen seconds later than an idle one."""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from textual.css.query import NoMatches
from textual.widgets import DataTable, Static

from fieldlog import demo
from fieldlog.db.remotes.factory import open_remote
from fieldlog.db.store import Store
from fieldlog.sync import sync_with
from fieldlog.tui.app import FieldlogApp

SIZE = (80, 24)
WAIT_SECONDS = 60.0  # the longest `until` waits: a failure, not a slow machine, takes that long


def build_log(path, *extra: str) -> str:
    """One contact with a concern and a referral (returns its id), plus plain contacts."""
    with Store.open(path) as store:
        cid = store.contacts.add(
            {"summary": "Met Pastor Reyes about the youth league", "neighborhood": "Eastside"},
            [{"category": "noise", "description": "late music on 5th"}],
            [{"agency": "Parks", "reason": "court lighting"}],
        )
        for summary in extra:
            store.contacts.add({"summary": summary, "neighborhood": "Westside"})
    return cid


async def settle(app: FieldlogApp, pilot) -> None:
    """Let workers finish and their results reach the screen."""
    for _ in range(3):
        await pilot.pause()
        await app.workers.wait_for_complete()
    await pilot.pause()


async def until(
    pilot, cond: Callable[[], object], what: str = "the condition", timeout: float = WAIT_SECONDS
) -> None:
    """Pause until ``cond()`` holds, by the clock (workers are not waited for: a test may hold
    one on purpose). A widget ``cond`` looks for that is not mounted yet (a loaded machine
    composes a screen later) counts as "not yet", not as a failure."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if cond():
                return
        except NoMatches:
            pass
        assert time.monotonic() < deadline, f"waited {timeout:.0f} s for {what}"
        await pilot.pause(0.02)


def palette_highlighted(app) -> str:
    """The first line of the option the command palette has highlighted (what Enter would
    run); "" while no palette, or no option, is up."""
    from textual.command import CommandList

    lists = app.screen.query(CommandList)
    found = lists.first() if lists else None
    if found is None or found.highlighted is None:
        return ""
    prompt = found.get_option_at_index(found.highlighted).prompt
    return (getattr(prompt, "plain", str(prompt)).strip().splitlines() or [""])[0]


def palette_offers(app, words: str) -> bool:
    """The command palette is up with the results for ``words`` (the option highlighted
    starts with them)."""
    return palette_highlighted(app).lower().startswith(words.lower())


def read_draft(path, name: str = "contact-new") -> dict | None:
    """The draft ``name`` as the log holds it now, read beside the app (not through its store:
    a worker of the app may be using that one)."""
    import json
    import sqlite3

    from fieldlog.db.drafts import Drafts

    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        row = conn.execute("SELECT value FROM meta WHERE key = ?", [Drafts.key(name)]).fetchone()
    finally:
        conn.close()
    return json.loads(row[0]) if row else None


async def open_form(app: FieldlogApp, pilot):
    """Settle the app, press ``n`` as an officer would, and return the new-contact form."""
    from fieldlog.tui.screens.form import ContactFormScreen

    await settle(app, pilot)
    await pilot.press("n")
    await settle(app, pilot)
    form = app.screen
    assert isinstance(form, ContactFormScreen), form
    return form


def static_text(screen, selector: str = "Static") -> str:
    """What a Static shows, as plain text (Rich renderables rendered at 80 columns)."""
    content = screen.query_one(selector, Static).content
    if isinstance(content, str):
        return content
    console = Console(width=80, record=True, file=io.StringIO())
    console.print(content)
    return console.export_text()


def table_text(table: DataTable) -> list[str]:
    return [" ".join(str(c) for c in table.get_row_at(i)) for i in range(table.row_count)]


def run(flow) -> None:
    asyncio.run(flow())


def build_conflicts(folder: Path, *, demo_contacts: int = 0) -> tuple[Path, str]:
    """Two logs A and B on one remote; the same contact's summary and tags edited on both,
    A first: B holds two conflicts (summary, then tags), each kept "mine" (B's edit is
    later). With ``demo_contacts``, the contact is the first of a seeded demo log (its id is
    the same on every run). Returns B's path and the contact's id."""
    a_path, b_path = folder / "a.db", folder / "b.db"
    remote = open_remote(str(folder / "remote.fieldlog"))
    with Store.open(a_path) as a, Store.open(b_path) as b:
        a.set_officer("Ofc. Ana Lee", "1201")
        b.set_officer("Ofc. Ben Cho", "3310")
        if demo_contacts:
            demo.fill(a, demo_contacts, seed=7)
            cid = sorted(r["id"] for r in a.contacts.list(limit=None))[0]
        else:
            cid = a.contacts.add({"summary": "Met the pastor", "tags": ["youth"]})
        sync_with(a, remote)
        sync_with(b, remote)
        a.contacts.update(cid, {"summary": "Pastor asked for lights", "tags": ["lights"]})
        time.sleep(0.01)  # B's edit is later by the clock: sync keeps it on B
        b.contacts.update(cid, {"summary": "Pastor wants a league", "tags": ["youth", "sports"]})
        sync_with(a, remote)
        sync_with(b, remote)
        assert b.conflicts.count() == 2
    remote.close()
    return b_path, cid
