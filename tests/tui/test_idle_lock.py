"""The idle lock on a fake clock: no real timer, no sleeping, the same answer under load."""

from __future__ import annotations

from fieldlog.db.store import Store
from fieldlog.tui.app import make_app
from fieldlog.tui.screens.dashboard import DashboardScreen
from fieldlog.tui.screens.login import LoginScreen
from tests.lib.tui import SIZE, run, settle

PASS = "correct horse battery"


class FakeClock:
    """A monotonic clock that moves only when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def _keys(text: str) -> list[str]:
    return ["space" if ch == " " else ch for ch in text]


def test_locks_after_the_quiet_spell_and_a_key_restarts_it(tmp_path):
    path = tmp_path / "enc.db"
    with Store.open(path, passphrase=PASS, encrypt=True) as store:
        store.contacts.add({"summary": "Met at the bakery"})
    clock = FakeClock()

    async def flow():
        app = make_app(path, passphrase=PASS, lock_minutes=1)
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            locker = app.locker
            locker.clock = clock
            locker.touch()
            clock.advance(59.9)
            locker.check()
            assert not locker.locked
            await pilot.press("d")  # a key: the quiet spell starts again
            clock.advance(59.9)
            locker.check()
            assert not locker.locked
            clock.advance(0.2)
            locker.check()
            assert locker.locked
            await pilot.pause()
            assert isinstance(app.screen, LoginScreen) and app.screen.relock
            await pilot.press(*_keys(PASS), "enter")
            await settle(app, pilot)
            assert not locker.locked and isinstance(app.screen, DashboardScreen)
            clock.advance(30)  # unlocking counts as use
            locker.check()
            assert not locker.locked

    run(flow)


def test_a_plain_log_never_locks(tmp_path):
    path = tmp_path / "plain.db"
    Store.open(path).close()
    clock = FakeClock()

    async def flow():
        app = make_app(path, lock_minutes=1)
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            app.locker.clock = clock
            clock.advance(3600)
            app.locker.check()
            assert not app.locker.locked and isinstance(app.screen, DashboardScreen)

    run(flow)
