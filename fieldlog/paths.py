"""Where fieldlog keeps its files: the one module that knows about platformdirs.

``--db PATH`` beats ``FIELDLOG_DB``, which beats the per-user data directory.
"""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "fieldlog"
DB_FILENAME = "fieldlog.db"


def data_dir() -> Path:
    """The per-user data directory (``~/.local/share/fieldlog`` on Linux)."""
    override = os.environ.get("FIELDLOG_HOME")
    if override:
        return Path(override)
    import platformdirs  # lazy: ~25 ms, only needed without --db / FIELDLOG_DB

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def default_db_path() -> Path:
    env = os.environ.get("FIELDLOG_DB")
    if env:
        return Path(env).expanduser()
    return data_dir() / DB_FILENAME


def resolve_db_path(cli_value: str | os.PathLike[str] | None) -> Path:
    """The log to open: the ``--db`` value if given, else ``FIELDLOG_DB``, else the default."""
    if cli_value:
        return Path(cli_value).expanduser()
    return default_db_path()
