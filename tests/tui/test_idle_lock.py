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


# ---------------------------------------------------------------- two clocks
class FakeApp:
    """Just what IdleLock touches: an encrypted store, and the screen it pushes on lock."""

    def __init__(self) -> None:
        self.store = type("S", (), {"encrypted": True})()
        self.pushed: list[object] = []

    def clear_notifications(self) -> None:
        pass

    def push_screen(self, screen: object) -> None:
        self.pushed.append(screen)


def _locker(minutes: float = 15):
    from fieldlog.tui.screens.login import IdleLock

    mono, wall = FakeClock(), FakeClock()
    wall.now = 1_780_000_000.0  # a time of day
    app = FakeApp()
    locker = IdleLock(app, minutes, clock=mono, wall=wall)  # type: ignore[arg-type]
    return locker, mono, wall, app


def test_a_suspend_that_stops_the_monotonic_clock_still_locks():
    """Closed for 20 minutes: the monotonic clock (stopped while suspended on some systems)
    says 0 s, the wall clock 20 minutes: it wakes locked."""
    locker, mono, wall, app = _locker(15)
    mono.advance(5)
    wall.advance(5)
    locker.check()
    assert not locker.locked
    wall.advance(20 * 60)  # suspended: only the wall clock ran
    locker.check()
    assert locker.locked and len(app.pushed) == 1


def test_the_wall_clock_set_back_neither_unlocks_nor_hides_a_suspend():
    locker, mono, wall, _ = _locker(15)
    mono.advance(10 * 60)
    wall.advance(10 * 60)
    locker.check()
    wall.advance(-3600)  # clock set back an hour (NTP, a time zone mix-up)
    mono.advance(1)
    locker.check()
    assert not locker.locked and locker.idle() >= 10 * 60  # the 10 minutes still count
    mono.advance(5 * 60)  # the monotonic clock alone carries on
    locker.check()
    assert locker.locked


def test_set_back_then_suspended_still_locks():
    """A step back is one step counted as nothing, not a debt the next 20 minutes repay."""
    locker, mono, wall, _ = _locker(15)
    wall.advance(-2 * 3600)
    locker.check()
    assert not locker.locked
    wall.advance(16 * 60)  # then suspended for 16 minutes
    locker.check()
    assert locker.locked


def test_a_key_restarts_both_counts():
    locker, mono, wall, _ = _locker(15)
    wall.advance(14 * 60)
    locker.check()
    locker.touch()
    wall.advance(14 * 60)
    mono.advance(14 * 60)
    locker.check()
    assert not locker.locked
    mono.advance(61)
    locker.check()
    assert locker.locked


def test_the_app_locks_after_a_suspend_on_the_wall_clock(tmp_path):
    path = tmp_path / "enc.db"
    with Store.open(path, passphrase=PASS, encrypt=True) as store:
        store.contacts.add({"summary": "Met at the bakery"})
    mono, wall = FakeClock(), FakeClock()

    async def flow():
        app = make_app(path, passphrase=PASS, lock_minutes=15)
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            locker = app.locker
            locker.clock, locker.wall = mono, wall
            locker.touch()
            wall.advance(20 * 60)  # the laptop slept; the monotonic clock did not move
            locker.check()
            await pilot.pause()
            assert locker.locked and isinstance(app.screen, LoginScreen)

    run(flow)
