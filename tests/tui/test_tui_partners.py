"""The partners going cold on the dashboard (issue 14), through Textual's pilot."""

from __future__ import annotations

from fieldlog.db.store import Store
from fieldlog.tui.app import make_app
from fieldlog.tui.screens.dashboard import COLD_TITLE, DashboardScreen
from tests.lib.tui import SIZE, run, settle, static_text, until

NOW = "2026-11-25T16:00:00Z"


def build(path) -> None:
    with Store.open(path) as store:
        for name in ("Harbor Food Bank", "Parks Dept", "Legal Aid Society", "Hope House"):
            store.orgs.add(name=name)
        store.orgs.add(name="Old Mill Club", status="inactive")  # inactive: never cold
        for org, at in (
            ("Harbor Food Bank", "2026-11-20T15:00:00Z"),
            ("Parks Dept", "2026-08-17T15:00:00Z"),
            ("Hope House", "2026-09-01T15:00:00Z"),
        ):
            store.contacts.add({"summary": f"Met {org}", "organization": org, "occurred_at": at})


def test_dashboard_names_the_partners_going_cold(tmp_path, monkeypatch):
    monkeypatch.setenv("FIELDLOG_NOW", NOW)
    path = tmp_path / "log.db"
    build(path)

    async def flow():
        app = make_app(path)
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            screen = app.screen
            assert isinstance(screen, DashboardScreen)
            await until(pilot, lambda: screen.cold_loaded, "the cold partners")
            lines = static_text(screen, "#cold").splitlines()
            assert lines[0].startswith(f"{COLD_TITLE}  3 with no contact in 60 days")
            assert [line.split()[0] for line in lines[1:]] == ["Legal", "Parks", "Hope"]
            assert lines[1].endswith("never contacted") and lines[2].endswith("100 days")
            assert "Harbor" not in static_text(screen, "#cold")
            # it fits 80x24 beside the figures and the follow-ups
            panel = screen.query_one("#cold")
            assert panel.region.height == 4 and panel.region.bottom < SIZE[1] - 3

    run(flow)


def test_no_panel_without_partners_and_none_cold(tmp_path, monkeypatch):
    monkeypatch.setenv("FIELDLOG_NOW", NOW)
    path = tmp_path / "log.db"
    with Store.open(path) as store:
        store.contacts.add({"summary": "A resident"})

    async def flow():
        app = make_app(path)
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            await until(pilot, lambda: app.screen.cold_loaded, "the cold partners")
            assert not app.screen.query_one("#cold").display
        with Store.open(path) as store:
            store.orgs.add(name="Harbor Food Bank")
            store.contacts.add(
                {"summary": "Met", "organization": "Harbor Food Bank", "occurred_at": NOW}
            )
        app = make_app(path)
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            await until(pilot, lambda: app.screen.cold_loaded, "the cold partners")
            text = static_text(app.screen, "#cold")
            assert "none: every active partner was contacted in 60 days" in text

    run(flow)
