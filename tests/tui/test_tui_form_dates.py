"""The form reads its When and Follow up on as a person typed them (issue 11): a time in the
future is refused beside the field with nothing saved, a follow-up already past is saved with
a warning."""

from __future__ import annotations

from textual.widgets import Input

from fieldlog.db.store import Store
from fieldlog.tui.app import make_app
from tests.lib.tui import SIZE, build_log, open_form, run, settle
from tests.tui.test_tui_form import error_text


def _fill(form, **values: str) -> None:
    for fid, value in values.items():
        form.query_one(f"#{fid}", Input).value = value


def test_a_when_in_the_future_is_refused_beside_the_field(tmp_path, monkeypatch):
    monkeypatch.setenv("FIELDLOG_NOW", "2026-11-25T10:00:00-06:00")
    path = tmp_path / "log.db"
    build_log(path)
    with Store.open(path) as s:
        before = s.contacts.count()

    async def flow():
        app = make_app(path)
        async with app.run_test(size=SIZE) as pilot:
            form = await open_form(app, pilot)
            _fill(form, summary="Walked the market", when="2036-01-01 09:00")
            await pilot.press("ctrl+s")
            await settle(app, pilot)
            assert app.screen is form  # not saved: the form stays open
            assert "is in the future" in error_text(form, "when")
            assert app.focused is form.query_one("#when", Input)

    run(flow)
    with Store.open(path) as s:
        assert s.contacts.count() == before


def test_a_past_follow_up_is_saved_with_a_warning(tmp_path, monkeypatch):
    monkeypatch.setenv("FIELDLOG_NOW", "2026-11-25T10:00:00-06:00")
    path = tmp_path / "log.db"
    build_log(path)
    said: list[str] = []

    async def flow():
        app = make_app(path)
        async with app.run_test(size=SIZE) as pilot:
            form = await open_form(app, pilot)
            real_notify = app.notify

            def notify(message, *args, **kw):
                said.append(str(message))
                return real_notify(message, *args, **kw)

            app.notify = notify  # type: ignore[method-assign]
            form.notify = notify  # type: ignore[method-assign]
            _fill(form, summary="Called the landlord", follow_up="2026-11-01")
            await pilot.press("ctrl+s")
            await settle(app, pilot)
            assert app.screen is not form

    run(flow)
    assert any("is in the past" in m for m in said), said
    with Store.open(path) as s:
        last = s.query("SELECT follow_up_on FROM contacts ORDER BY rowid DESC LIMIT 1")[0]
    assert last["follow_up_on"] == "2026-11-01"
