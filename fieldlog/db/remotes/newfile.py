"""A new SQLite remote file: created owner-only, and removed again when creating it fails.

SQLite would create the file with the umask's mode (often 0644: readable by every account on
the machine that holds the share) and gives its journal the file's mode, so the empty file is
made first, 0600, where files have such modes (on Windows the mode means nothing: the folder's
permissions protect the file). A first sync that fails part-way (a full drive) removes the file
it made, so no empty or half-made remote is left for the next sync to trip over.

A helper of :mod:`fieldlog.db.remotes.sqlite`; it imports only the types.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Any

from fieldlog.db.remotes.types import SyncError

__all__ = ["PRIVATE_MODES", "create", "discard"]

# False where files have no owner-only mode (Windows); tests set it to run that fallback.
PRIVATE_MODES = os.name == "posix"


def create(path: Path) -> bool:
    """Create the empty file (0600 where modes exist). False when it appeared in between
    (another laptop's first sync); an OS error is one line."""
    mode = 0o600 if PRIVATE_MODES else 0o666
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags, mode)
    except FileExistsError:
        return False
    except OSError as exc:
        raise _os_error(exc, path) from None
    os.close(fd)
    return True


def _os_error(exc: OSError, path: Path) -> SyncError:
    if exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        return SyncError(f"The drive holding the remote {path} is full: free some space.")
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return SyncError(
            f"Cannot create the remote {path}: the folder is read-only for you; check the "
            "share's permissions or the stick's write-protect switch."
        )
    return SyncError(f"Cannot create the remote {path}: {exc.strerror or exc}.")


def discard(conn: Any, path: Path, created: bool) -> None:
    """Close ``conn`` after a failed open; when that open created the file and nothing is
    committed in it, remove it and its journal."""
    empty = False
    if created:
        try:
            if conn is not None and conn.in_transaction:
                conn.execute("ROLLBACK")
            empty = (
                conn is not None
                and not conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
            )
        except Exception:  # an unusable connection: judge by the file alone
            empty = False
        try:
            empty = empty or path.stat().st_size == 0
        except OSError:
            empty = False
    if conn is not None:
        try:
            conn.close()
        except Exception:  # closing after a failure: nothing more to do
            pass
    if empty:
        for leftover in (path, path.with_name(path.name + "-journal")):
            try:
                leftover.unlink()
            except OSError:
                pass
