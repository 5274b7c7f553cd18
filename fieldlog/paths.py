"""Where fieldlog keeps its files: the one module that knows about platformdirs.

``--db PATH`` beats ``FIELDLOG_DB``, which beats the per-user data directory
(``$FIELDLOG_HOME`` moves that directory: tests, a portable install on a USB stick).
"""

from __future__ import annotations

import os
from pathlib import Path

from fieldlog import settings

APP_NAME = "fieldlog"
DB_FILENAME = "fieldlog.db"


def data_dir() -> Path:
    """The per-user data directory (``~/.local/share/fieldlog`` on Linux,
    ``~/Library/Application Support/fieldlog`` on macOS, ``%LOCALAPPDATA%\\fieldlog`` on
    Windows)."""
    override = settings.path_setting(settings.HOME, folder=True)
    if override is not None:
        return override
    import platformdirs  # lazy: ~10-25 ms, only needed without --db / FIELDLOG_DB

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def default_db_path() -> Path:
    env = settings.path_setting(settings.DB, folder=False)
    if env is not None:
        return env
    return data_dir() / DB_FILENAME


def db_source(cli_value: str | os.PathLike[str] | None) -> str:
    """Where the log's path came from, for messages: ``--db``, ``FIELDLOG_DB`` or
    ``default`` (the per-user data folder)."""
    if cli_value:
        return "--db"
    if settings.raw(settings.DB) is not None:
        return settings.DB
    return "default"


def resolve_db_path(cli_value: str | os.PathLike[str] | None) -> Path:
    """The log to open: the ``--db`` value if given, else ``FIELDLOG_DB``, else the default."""
    if cli_value:
        return Path(cli_value).expanduser()
    return default_db_path()
