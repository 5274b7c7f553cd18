"""Which remote a URL names: the one module that knows the backends.

TaskChampion's pattern: the interface lives in :mod:`fieldlog.db.remotes.types`, every backend
imports only that, and this factory imports the backends, so a backend never imports another
or the factory and adding one (a third kind of remote) touches this file and its own module.

Importing this module imports both backends but not psycopg: the PostgreSQL backend imports it
inside the functions that connect, so a sync with a SQLite file never loads it.
"""

from __future__ import annotations

from pathlib import Path

from fieldlog.db.remotes.postgres import PostgresRemote
from fieldlog.db.remotes.sqlite import SQLiteRemote, looks_encrypted
from fieldlog.db.remotes.types import Remote, is_postgres

__all__ = ["encrypted_file", "open_remote"]


def open_remote(url: str, *, create: bool = True) -> Remote:
    """Open (and on first use create) the remote a URL or a path names: a ``postgresql://``
    (or ``postgres://``) URL is a PostgreSQL database, anything else a SQLite file."""
    if is_postgres(url):
        from fieldlog import settings

        # The variables the connection reads, checked first: a bad one is one line naming it,
        # not libpq's "invalid integer value" nor a timeout silently back at its default.
        settings.check_postgres()
        settings.pg_connect_timeout()
        return PostgresRemote.open(url, create=create)
    return SQLiteRemote.open(url, create=create)


def encrypted_file(url: str) -> bool:
    """Whether ``url`` names an existing encrypted SQLite remote file, so a sync from a
    terminal asks for the department's passphrase first (a PostgreSQL remote never does)."""
    return not is_postgres(url) and looks_encrypted(Path(url.removeprefix("sqlite://")))
