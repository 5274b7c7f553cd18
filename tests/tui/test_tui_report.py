"""The TUI Report screen on the report command's small log (tests/cli/test_report.py)."""

from __future__ import annotations

import asyncio

import pytest

from fieldlog.tui.app import make_app
from fieldlog.tui.screens.report import ReportScreen
from tests.lib.report_log import build_report_log
from tests.lib.tui import SIZE, settle, static_text


@pytest.fixture
def log(cli, monkeypatch):
    """Six contacts; four inside the default period (2026-11-19 to 2026-11-25, whole days)."""
    return build_report_log(cli, monkeypatch)


@pytest.mark.slow
def test_tui_report_screen(cli, log, db_path):
    async def flow():
        app = make_app(db_path)
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            await pilot.press("R")
            await settle(app, pilot)
            assert isinstance(app.screen, ReportScreen)
            title = static_text(app.screen, "#rep-title")
            assert "Last 7 days" in title and "4 contacts" in title
            figures = static_text(app.screen, "#rep-figures")
            assert "Summary by neighborhood" in figures and "█" in figures
            assert "Eastside" in figures and "[b]x" in figures
            await pilot.press("3")
            await settle(app, pilot)
            assert "6 contacts" in static_text(app.screen, "#rep-title")
            await pilot.press("b")
            await settle(app, pilot)
            assert "by officer" in static_text(app.screen, "#rep-title")
            assert "Summary by officer" in static_text(app.screen, "#rep-figures")

    asyncio.run(flow())
