"""What the TUI tests share: the screen size, small logs built with Store methods, and
helpers that let workers settle and read what a screen shows."""

from __future__ import annotations

import asyncio
import io
import time
from pathlib import Path

from rich.console import Console
from textual.widgets import DataTable, Static

from fieldlog import demo
from fieldlog.db.remotes.factory import open_remote
from fieldlog.db.store import Store
from fieldlog.sync import sync_with
from fieldlog.tui.app import FieldlogApp

SIZE = (80, 24)


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
