"""The environment settings: every ``FIELDLOG_*`` variable fieldlog reads, checked in one place.

An environment variable is typed once in a shell profile and forgotten, so a bad value must
not be ignored (a lock that never comes, a busy timeout silently back at its default) nor crash
with a traceback: each reader here returns the value, its default when the variable is unset
or empty, or raises :class:`~fieldlog.errors.SettingError` as one line in one form::

    FIELDLOG_...='...' is not <what it must be>: set it to <an example> or unset it

The CLI calls :func:`check` before any command runs, so a bad value stops every command the
same way; the readers check again where the value is used (the TUI, the library, tests).
``PG*`` variables belong to libpq: :func:`check_postgres` looks at the two fieldlog relies on,
only when a PostgreSQL remote is used. The passphrase variables hold any text: nothing to check.

The bottom of the layers with :mod:`fieldlog.errors` and :mod:`fieldlog.text` (``paths``,
``config``, ``dates`` and the store import it); it imports nothing heavy, and nothing at all
that ``fieldlog add`` would not load anyway.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from fieldlog.errors import SettingError

HOME = "FIELDLOG_HOME"
DB = "FIELDLOG_DB"
CONFIG = "FIELDLOG_CONFIG"
NOW = "FIELDLOG_NOW"
BUSY_TIMEOUT_MS = "FIELDLOG_BUSY_TIMEOUT_MS"
SYNC_PAGE = "FIELDLOG_SYNC_PAGE"
LOCK_MINUTES = "FIELDLOG_LOCK_MINUTES"
PG_CONNECT_TIMEOUT = "FIELDLOG_PG_CONNECT_TIMEOUT"
# Read as text anywhere (no wrong value): listed for docs/config.md and `check`'s completeness.
PASSPHRASES = ("FIELDLOG_PASSPHRASE", "FIELDLOG_NEW_PASSPHRASE", "FIELDLOG_REMOTE_PASSPHRASE")

BUSY_TIMEOUT_DEFAULT = 10_000  # ms: another fieldlog's write rarely takes a second
MIN_YEAR, MAX_YEAR = 1900, 2999  # as fieldlog.dates: stored times sort as text


def raw(name: str) -> str | None:
    """The variable's value, stripped; None when it is unset or blank (blank means unset, as
    ``FIELDLOG_DB= fieldlog ...`` in a shell reads)."""
    value = os.environ.get(name)
    if value is None or not value.strip():
        return None
    return value.strip()


def bad(name: str, value: str, what: str, fix: str) -> SettingError:
    """The one-line error for a variable's bad value (shown escaped, and cut when long)."""
    from fieldlog.text import printable  # only for an error: not on every run's path

    shown = printable(value, newlines=False)
    if len(shown) > 60:
        shown = shown[:59] + "…"
    return SettingError(f"{name}={shown!r} is not {what}: set it to {fix} or unset it")


class Number:
    """A numeric variable: whole (``whole``) or not, between ``low`` and ``high``. (A plain
    class, not a dataclass: this module is on ``fieldlog add``'s path, and making a dataclass
    costs more than everything else here.)"""

    __slots__ = ("name", "what", "low", "high", "example", "whole")

    def __init__(
        self, name: str, what: str, low: float, high: float, example: str, whole: bool = True
    ) -> None:
        self.name, self.what, self.low, self.high = name, what, low, high
        self.example, self.whole = example, whole

    def read(self, default: float) -> float:
        value = raw(self.name)
        if value is None:
            return default
        try:
            number = float(int(value)) if self.whole else float(value)
        except ValueError:
            number = float("nan")
        if not self.low <= number <= self.high:  # NaN fails too
            kind = "whole number" if self.whole else "number"
            span = f"a {kind} from {_num(self.low)} to {_num(self.high)}"
            raise bad(self.name, value, self.what, f"{span} (e.g. {self.example})")
        return number


def _num(x: float) -> str:
    return str(int(x)) if x == int(x) else str(x)


BUSY = Number(BUSY_TIMEOUT_MS, "a number of milliseconds", 0, 600_000, "10000")
PAGE = Number(SYNC_PAGE, "a number of changes per page", 1, 1_000_000, "2000")
LOCK = Number(LOCK_MINUTES, "a number of minutes", 0, 24 * 60, "15, or 0 never to lock", False)
PG_TIMEOUT = Number(PG_CONNECT_TIMEOUT, "a number of seconds", 1, 3600, "10", False)


def busy_timeout_ms() -> int:
    """How long a write waits for another fieldlog's (``$FIELDLOG_BUSY_TIMEOUT_MS``)."""
    return int(BUSY.read(BUSY_TIMEOUT_DEFAULT))


def sync_page(default: int) -> int:
    """Changes per sync page (``$FIELDLOG_SYNC_PAGE``; tests make it small)."""
    return int(PAGE.read(default))


def lock_minutes() -> float | None:
    """The TUI's idle lock (``$FIELDLOG_LOCK_MINUTES``), None when unset (the config file or
    the default decides then)."""
    if raw(LOCK_MINUTES) is None:
        return None
    return LOCK.read(0)


def pg_connect_timeout() -> int | None:
    """Seconds to wait for a PostgreSQL server (``$FIELDLOG_PG_CONNECT_TIMEOUT``), None when
    unset."""
    if raw(PG_CONNECT_TIMEOUT) is None:
        return None
    return max(1, int(PG_TIMEOUT.read(0)))


def fixed_now() -> datetime | None:
    """``$FIELDLOG_NOW`` as an aware UTC time (a time without a zone is local), or None.

    For demos, tests and training: :func:`fieldlog.dates.now` uses it instead of the clock.
    Read each time (microseconds): a local time's offset follows the zone, which tests change."""
    value = raw(NOW)
    if value is None:
        return None
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
        if not MIN_YEAR <= dt.year <= MAX_YEAR:
            raise ValueError
        if dt.tzinfo is None:
            dt = dt.astimezone()  # local wall-clock time, with the offset of that day
        dt = dt.astimezone(UTC)
    except (ValueError, OverflowError, OSError):
        raise bad(
            NOW,
            value,
            "a date and time",
            "an ISO time such as 2026-11-24T14:30 (local time; add Z for UTC)",
        ) from None
    return dt


def path_setting(name: str, *, folder: bool) -> Path | None:
    """A path variable (``~`` expanded), None when unset; refused when it names the wrong kind
    of thing (a file where a folder belongs, or the reverse): SQLite's own error would blame
    ``--db``, and the config reader would say "cannot read"."""
    value = raw(name)
    if value is None:
        return None
    path = Path(value).expanduser()
    if folder and path.exists() and not path.is_dir():
        raise bad(name, value, "a folder (it is a file)", "a folder's path")
    if not folder and path.is_dir():
        raise bad(name, value, "a file (it is a folder)", f"a file's path, e.g. {path / 'x'}")
    return path


def check() -> None:
    """Check every ``FIELDLOG_*`` variable that has a wrong value: the CLI runs this before any
    command (a few microseconds when they are unset), so none waits until deep in a command."""
    path_setting(HOME, folder=True)
    path_setting(DB, folder=False)
    path_setting(CONFIG, folder=False)
    fixed_now()
    for number in (BUSY, PAGE, LOCK, PG_TIMEOUT):
        number.read(0)


def check_postgres() -> None:
    """libpq's variables fieldlog relies on (the port it shows in messages, the connect
    timeout), checked before a PostgreSQL remote is opened; libpq reads all the others."""
    port = raw("PGPORT")
    if port is not None and not (port.isdigit() and 1 <= int(port) <= 65535):
        raise bad("PGPORT", port, "a port number", "a whole number from 1 to 65535 (e.g. 5432)")
    timeout = raw("PGCONNECT_TIMEOUT")
    if timeout is not None and not (timeout.lstrip("-").isdigit()):
        raise bad("PGCONNECT_TIMEOUT", timeout, "a number of seconds", "a whole number (e.g. 10)")
