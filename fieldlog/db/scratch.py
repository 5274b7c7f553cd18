"""Where fieldlog may put a temporary copy of personal data: a folder held in memory.

The store asks for it (``Store.scratch_dir``) before an export of an encrypted log writes a
half-file, so no plaintext of an encrypted log reaches a disk. It is a leaf: it imports only
the standard library, so the store and the conversions (:mod:`fieldlog.db.crypto`) both use it
without importing each other.
"""

from __future__ import annotations

import os


def ram_dir() -> str | None:
    """A folder held in memory (tmpfs) that this user may write: ``$XDG_RUNTIME_DIR``, else
    ``/dev/shm``; None when there is none (not Linux, or neither is mounted as tmpfs)."""
    try:
        with open("/proc/self/mounts", encoding="utf-8") as fh:
            mounts = {
                parts[1].replace("\\040", " "): parts[2]
                for parts in (line.split() for line in fh)
                if len(parts) >= 3
            }
    except OSError:
        return None
    for cand in (os.environ.get("XDG_RUNTIME_DIR"), "/dev/shm"):
        if not cand or not os.path.isdir(cand) or not os.access(cand, os.W_OK | os.X_OK):
            continue
        real = os.path.realpath(cand)
        mount = max(
            (m for m in mounts if real == m or real.startswith(m.rstrip("/") + "/")),
            key=len,
            default=None,
        )
        if mount is not None and mounts[mount] in ("tmpfs", "ramfs"):
            return cand
    return None
