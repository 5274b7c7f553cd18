"""TEMP-SHIM issue 9: the sync log moved to fieldlog/db/synclog.py (store.sync, store.conflicts)."""

from fieldlog.db.synclog import *  # noqa: F401,F403  TEMP-SHIM issue 9
