"""Editing a contact in the TUI applies the entry rule the CLI's add applies, in one transaction.

One concern and a referral added together: the referral answers the concern (``concern_id``),
takes its category as service, and the concern becomes "referred". The contact's changes, the
new items and the dropped draft commit together, so a failure leaves nothing half-saved.
"""

from __future__ import annotations

from textual.widgets import Input

from fieldlog.db.store import Store
from fieldlog.tui.app import make_app
from fieldlog.tui.screens.detail import DetailScreen
from fieldlog.tui.screens.form import ContactFormScreen
from tests.lib.tui import SIZE, run, settle

SUMMARY = "Tenants' association meeting"


def _log(path) -> str:
    with Store.open(path) as store:
        return store.contacts.add({"summary": SUMMARY, "neighborhood": "Eastside"})


async def _edit(app, pilot, cid: str) -> ContactFormScreen:
    """Open the contact's form from its detail, change the summary, add one concern (housing)
    and one referral with no service."""
    app.push_screen(DetailScreen(cid))
    await settle(app, pilot)
    await pilot.press("e")
    await settle(app, pilot)
    form = app.screen
    assert isinstance(form, ContactFormScreen)
    form.query_one("#summary", Input).value = "Tenants asked about repairs"
    form.query_one("#concern-category", Input).value = "housing"
    form.query_one("#concern-description", Input).value = "no heat in 4B"
    form.query_one("#referral-agency", Input).value = "Housing Authority"
    form.query_one("#referral-reason", Input).value = "repairs"
    await settle(app, pilot)
    assert len(form.concerns) == 1 and len(form.referrals) == 1
    return form


def test_edit_links_the_referral_to_the_concern_in_one_transaction(tmp_path):
    path = tmp_path / "log.db"
    cid = _log(path)
    begins: list[str] = []

    async def flow():
        app = make_app(path)
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            await _edit(app, pilot, cid)
            with app.db_lock:  # no draft write in flight while the trace is set
                app.store.conn.set_trace_callback(
                    lambda sql: begins.append(sql) if sql.lstrip().upper().startswith("BEGIN")
                    else None
                )  # fmt: skip
            await pilot.press("ctrl+s")
            await settle(app, pilot)
            with app.db_lock:
                app.store.conn.set_trace_callback(None)
            assert isinstance(app.screen, DetailScreen)

    run(flow)
    assert len(begins) == 1, begins  # was 4: update, concern, referral, draft
    with Store.open(path) as store:
        c = store.contacts.get(cid)
        assert c["summary"] == "Tenants asked about repairs"
        [concern] = c["concerns"]
        [referral] = c["referrals"]
        assert concern["status"] == "referred"
        assert referral["concern_id"] == concern["id"]
        assert referral["service"] == "housing"
        assert store.drafts.names() == []


def test_a_failing_referral_leaves_nothing_half_saved(tmp_path):
    path = tmp_path / "log.db"
    cid = _log(path)

    async def flow():
        app = make_app(path)
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            form = await _edit(app, pilot, cid)
            with app.db_lock:
                app.store.conn.execute(
                    "CREATE TEMP TRIGGER fail_referral BEFORE INSERT ON referrals "
                    "BEGIN SELECT RAISE(ABORT, 'injected failure'); END"
                )
            await pilot.press("ctrl+s")
            await settle(app, pilot)
            assert app.screen is form  # still open: the typed work is not lost

    run(flow)
    with Store.open(path) as store:
        c = store.contacts.get(cid)
        assert c["summary"] == SUMMARY
        assert c["concerns"] == [] and c["referrals"] == []
