"""Follow-ups, partner directory and export dialog, driven through Textual's pilot at 80x24."""

from __future__ import annotations

import csv

import pytest
from textual.widgets import DataTable, Input, Select, Static

from fieldlog.db.store import Store
from fieldlog.tui.app import make_app
from fieldlog.tui.dialogs.choice import ChoiceDialog
from fieldlog.tui.dialogs.date import DateDialog
from fieldlog.tui.dialogs.export import ExportDialog
from fieldlog.tui.dialogs.org_form import OrgForm
from fieldlog.tui.dialogs.text import TextDialog
from fieldlog.tui.screens.followups import FollowupsScreen
from fieldlog.tui.screens.orgs import OrgsScreen
from tests.lib.tui import SIZE, run, settle, static_text, table_text


def build_followups(path) -> dict[str, str]:
    """An overdue contact follow-up, an overdue referral, and a referral due today."""
    with Store.open(path) as store:
        late = store.contacts.add(
            {"summary": "Check the [b]lights on Elm", "follow_up_on": "2020-01-02"}
        )
        cid = store.contacts.add({"summary": "Pastor Reyes, youth league"})
        old_ref = store.referrals.add(
            cid, "Parks", reason="court lighting", follow_up_on="2020-01-01"
        )
        today_ref = store.referrals.add(cid, "Food Bank", follow_up_on="today")
        store.contacts.add({"summary": "No follow-up here"})
    return {"late": late, "cid": cid, "old_ref": old_ref, "today_ref": today_ref}


async def open_followups(app, pilot) -> DataTable:
    await settle(app, pilot)
    await pilot.press("f")
    await settle(app, pilot)
    assert isinstance(app.screen, FollowupsScreen)
    return app.screen.query_one("#fu-table", DataTable)


@pytest.mark.slow
def test_followups_overdue_first_and_marked(tmp_path):
    path = tmp_path / "log.db"
    ids = build_followups(path)

    async def flow():
        app = make_app(path)
        async with app.run_test(size=SIZE) as pilot:
            table = await open_followups(app, pilot)
            rows = table_text(table)
            assert len(rows) == 3
            assert rows[0].startswith("!2020-01-01 referral made Parks")
            assert rows[1].startswith("!2020-01-02 contact")
            assert "Check the [b]li" in rows[1]  # user text is data, not markup
            assert not rows[2].startswith("!") and "Food Bank" in rows[2]
            assert "bold red" in str(table.get_row_at(0)[0].style)
            title = app.screen.query_one("#fu-title", Static)
            # counted as the dashboard counts: 1 due this week (today), 2 overdue
            assert "1 due within 7 days, 2 overdue" in str(title.render())
            assert list(table.rows)[0].value == f"referral:{ids['old_ref']}"

            await pilot.press("enter")  # opens the referral behind the follow-up
            await settle(app, pilot)
            assert getattr(app.screen, "record_id", None) == ids["old_ref"]
            await pilot.press("escape")
            await settle(app, pilot)
            assert isinstance(app.screen, FollowupsScreen)
            await pilot.press("down", "enter")  # a contact's follow-up opens the contact
            await settle(app, pilot)
            assert getattr(app.screen, "contact_id", None) == ids["late"]
            await pilot.press("escape")
            await settle(app, pilot)
            assert isinstance(app.screen, FollowupsScreen)

    run(flow)


@pytest.mark.slow
def test_referral_status_change_persists_and_keeps_cursor(tmp_path):
    path = tmp_path / "log.db"
    ids = build_followups(path)

    async def flow():
        app = make_app(path)
        async with app.run_test(size=SIZE) as pilot:
            table = await open_followups(app, pilot)
            await pilot.press("s")
            await pilot.pause()
            assert isinstance(app.screen, ChoiceDialog)
            await pilot.press("down", "enter")  # made -> accepted: still open, stays listed
            await settle(app, pilot)
            assert "accepted" in table_text(table)[0]
            assert table.cursor_row == 0
            await pilot.press("m")  # done on a referral: completed, and its outcome asked
            await pilot.pause()
            assert isinstance(app.screen, TextDialog)
            await pilot.press(*"lit", "enter")
            await settle(app, pilot)
            assert table.row_count == 2
            assert table.cursor_row == 0 and "contact" in table_text(table)[0]
        with Store.open(path) as store:
            ref = store.records.get("referrals", ids["old_ref"])
            assert (ref["status"], ref["outcome"]) == ("completed", "lit")

    run(flow)


@pytest.mark.slow
def test_mark_done_and_new_date(tmp_path):
    path = tmp_path / "log.db"
    ids = build_followups(path)

    async def flow():
        app = make_app(path)
        async with app.run_test(size=SIZE) as pilot:
            table = await open_followups(app, pilot)
            await pilot.press("down")  # the contact follow-up
            await pilot.press("m")
            await settle(app, pilot)
            assert table.row_count == 2
            assert not any("lights" in r for r in table_text(table))
            assert table.cursor_row == 1  # the next one moved up under the cursor

            await pilot.press("u")
            await pilot.pause()
            assert isinstance(app.screen, DateDialog)
            await pilot.press(*"whenever", "enter")
            await pilot.pause()
            error = app.screen.query_one("#day-error", Static)
            assert "Cannot read the date" in str(error.render())
            app.screen.query_one("#day", Input).value = "2031-05-06"
            await pilot.press("enter")
            await settle(app, pilot)
            assert table.row_count == 1  # no longer due this week
        with Store.open(path) as store:
            assert store.contacts.get(ids["late"])["follow_up_on"] is None
            assert store.records.get("referrals", ids["today_ref"])["follow_up_on"] == "2031-05-06"

    run(flow)


def build_orgs(path) -> str:
    with Store.open(path) as store:
        oid = store.orgs.add(name="Harbor Food Bank", kind="nonprofit", services=["food"])
        store.orgs.add(name="Legal Aid", kind="nonprofit", phone="555-0110")
        cid = store.contacts.add({"summary": "Family short on groceries"})
        store.referrals.add(cid, "Harbor Food Bank")
        store.referrals.add(cid, "Harbor Food Bank", reason="again")
    return oid


async def open_orgs(app, pilot) -> DataTable:
    await settle(app, pilot)
    await pilot.press("o")
    await settle(app, pilot)
    assert isinstance(app.screen, OrgsScreen)
    return app.screen.query_one("#orgs-table", DataTable)


def test_orgs_list_with_upkeep_figures(tmp_path):
    """Each partner's last contact, contacts and referrals of 90 days, open referrals and
    whether it was verified within a year (issue 14); the rest in the detail lines."""
    path = tmp_path / "log.db"
    build_orgs(path)

    async def flow():
        app = make_app(path)
        async with app.run_test(size=SIZE) as pilot:
            table = await open_orgs(app, pilot)
            rows = table_text(table)
            assert rows[0].split() == ["Harbor", "Food", "Bank", "never", "0", "2", "2", "yes"]
            assert rows[1].split() == ["Legal", "Aid", "never", "0", "0", "0", "yes"]
            detail = static_text(app.screen, "#orgs-detail")
            assert "Last contact never · 90 days: 0 contacts, 2 referrals" in detail
            assert "Open referrals 2 of 2 · Verified" in detail and "nonprofit · food" in detail

    run(flow)


@pytest.mark.slow
def test_add_and_edit_partner_through_the_form(tmp_path):
    path = tmp_path / "log.db"
    build_orgs(path)

    async def flow():
        app = make_app(path)
        async with app.run_test(size=SIZE) as pilot:
            table = await open_orgs(app, pilot)
            await pilot.press("a")
            await pilot.pause()
            form = app.screen
            assert isinstance(form, OrgForm)
            assert isinstance(app.focused, Input) and app.focused.id == "name"
            await pilot.press(*"Westview Clinic")
            form.query_one("#kind", Select).value = "health"
            form.query_one("#services", Input).value = "medical, Mental Health"
            form.query_one("#phone", Input).value = "555-0199"
            await pilot.press("ctrl+s")
            await settle(app, pilot)
            assert isinstance(app.screen, OrgsScreen)
            assert table.row_count == 3
            assert "Westview Clinic" in table_text(table)[table.cursor_row]

            await pilot.press("e")
            await pilot.pause()
            form = app.screen
            assert isinstance(form, OrgForm)
            assert form.query_one("#services", Input).value == "medical, mental_health"
            form.query_one("#status", Select).value = "inactive"
            form.query_one("#neighborhood", Input).value = "Westview"
            await pilot.press("ctrl+s")
            await settle(app, pilot)
            assert isinstance(app.screen, OrgsScreen)

            await pilot.press("enter")  # Enter edits too; Escape cancels without writing
            await pilot.pause()
            assert isinstance(app.screen, OrgForm)
            app.screen.query_one("#name", Input).value = "Not saved"
            await pilot.press("escape")
            await settle(app, pilot)
            assert isinstance(app.screen, OrgsScreen)
        with Store.open(path) as store:
            org = store.orgs.get("Westview Clinic")
            assert org["kind"] == "health"
            assert org["services"] == ["medical", "mental_health"]
            assert org["phone"] == "555-0199"
            assert org["status"] == "inactive"
            assert org["neighborhood"] == "Westview"
            assert len(store.orgs.list()) == 3

    run(flow)


@pytest.mark.slow
def test_form_errors_show_beside_the_field_and_write_nothing(tmp_path):
    path = tmp_path / "log.db"
    build_orgs(path)

    async def flow():
        app = make_app(path)
        async with app.run_test(size=SIZE) as pilot:
            await open_orgs(app, pilot)
            await pilot.press("a")
            await pilot.pause()
            form = app.screen
            form.query_one("#phone", Input).value = "555-0100"
            await pilot.press("ctrl+s")
            await settle(app, pilot)
            assert app.screen is form
            error = form.query_one("#name-error", Static)
            assert error.has_class("-shown") and "name is empty" in str(error.render())
            assert app.focused is form.query_one("#name", Input)

            form.query_one("#name", Input).value = "New Place"
            form.query_one("#services", Input).value = "food, bogus"
            await pilot.press("ctrl+s")
            await settle(app, pilot)
            assert app.screen is form
            assert not error.has_class("-shown")
            services_error = form.query_one("#services-error", Static)
            assert "Unknown service 'bogus'" in str(services_error.render())

            form.query_one("#services", Input).value = ""
            form.query_one("#name", Input).value = "harbor food bank"  # taken (any case)
            await pilot.press("ctrl+s")
            await settle(app, pilot)
            assert app.screen is form
            assert "already in the directory" in str(error.render())
        with Store.open(path) as store:
            assert len(store.orgs.list()) == 2

    run(flow)


@pytest.mark.slow
def test_export_dialog_writes_the_csv(tmp_path):
    path = tmp_path / "log.db"
    build_followups(path)
    out = tmp_path / "out.csv"

    async def flow():
        app = make_app(path)
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            await pilot.press("ctrl+e")
            await pilot.pause()
            dialog = app.screen
            assert isinstance(dialog, ExportDialog)
            assert dialog.query_one("#path", Input).value.startswith("~/fieldlog-contacts-")
            dialog.query_one("#path", Input).value = str(out)
            dialog.query_one("#since", Input).value = "last week sometime"
            await pilot.press("ctrl+s")
            await settle(app, pilot)
            assert app.screen is dialog and not out.exists()
            assert "Cannot read" in str(dialog.query_one("#since-error", Static).render())
            dialog.query_one("#since", Input).value = "30d"
            await pilot.press("ctrl+s")
            await settle(app, pilot)
            assert not isinstance(app.screen, ExportDialog)
            messages = [n.message for n in app._notifications]
            assert f"Exported 3 contacts to {out}" in messages
            titles = [c.title for c in app.get_system_commands(app.screen)]
            assert "Export CSV" in titles
        with open(out, newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        assert len(rows) == 3
        assert {r["summary"] for r in rows} >= {"Check the [b]lights on Elm"}
        assert not (tmp_path / "out.csv.part").exists()

    run(flow)


def test_export_dialog_writes_a_workbook_for_an_xlsx_name(tmp_path):
    """A file name ending in .xlsx gets an Excel workbook (as ``export --out X.xlsx``): typed
    cells, the header row first, one row per contact."""
    from openpyxl import load_workbook

    path = tmp_path / "log.db"
    build_followups(path)
    out = tmp_path / "out.xlsx"

    async def flow():
        app = make_app(path)
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            await pilot.press("ctrl+e")
            await pilot.pause()
            dialog = app.screen
            assert isinstance(dialog, ExportDialog)
            dialog.query_one("#path", Input).value = str(out)
            await pilot.press("ctrl+s")
            await settle(app, pilot)
            assert not isinstance(app.screen, ExportDialog)
            assert f"Exported 3 contacts to {out}" in [n.message for n in app._notifications]

    run(flow)
    sheet = load_workbook(out, read_only=True).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "id" and len(rows) == 4
    assert "Check the [b]lights on Elm" in {str(c) for r in rows[1:] for c in r}
