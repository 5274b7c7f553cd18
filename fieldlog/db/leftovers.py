"""Temporary copies of a log, and what a crash leaves of them.

Encrypt, decrypt, restore and backup each write a whole copy of the log beside its target
under a hidden name that carries the writing process's id (``.log.db.decrypt-4242.tmp``),
then rename it into place. A process killed in between leaves that copy behind: for a
decrypt, the log in clear. :func:`sweep` finds such copies beside a log (or a backup) whose
process is gone, overwrites a copy in clear with zeros, removes it with its SQLite side files,
and returns one line per copy for the caller to say. The store sweeps on every open
(``Store.notices``); the CLI prints the lines on stderr.

Whether the owner is gone: on POSIX, signal 0 to its process id (the name also tells apart
our own process's copies in flight from a dead process that had the same id, as happens in
containers). Elsewhere (Windows, where that call would end the process) a copy untouched for
:data:`STALE_SECONDS` counts as abandoned. A copy that is still the log's own file (the second
name an interrupted encrypt gave the old log) only loses that name: it is never wiped.

Standard library only: the store imports this on every open (the quick ``add`` path too).
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import time
from pathlib import Path

# Tags in temporary names, and the operation that makes each (``convert`` and ``old`` are the
# names fieldlog used before issue 12, kept so their leftovers are swept too).
OPERATIONS = {
    "encrypt": "encrypt",
    "encrypt-old": "encrypt",
    "decrypt": "decrypt",
    "convert": "encrypt or decrypt",
    "old": "encrypt",
    "restore": "restore",
    "keep": "restore",
    "part": "backup",
    "backup": "backup",
}
SIDE_FILES = ("-wal", "-shm", "-journal")
STALE_SECONDS = 10 * 60  # where no process id can be checked: untouched this long = abandoned
SQLITE_HEADER = b"SQLite format 3\x00"
CAN_SIGNAL = os.name == "posix"  # signal 0 tests a process id; a test forces the fallback
# Compiled only when a name beside the log looks like one of ours (rare): not on every open.
_NAME = r"^\.(?P<base>.+)\.(?P<tag>[a-z-]+)-(?P<pid>\d{1,10})\.tmp$"
_ACTIVE: set[str] = set()  # this process's temporary copies in flight (never swept)


def temp_path(target: Path, tag: str) -> Path:
    """The hidden temporary name beside ``target`` (same folder: the rename is atomic) for
    ``tag`` (one of :data:`OPERATIONS`), registered as this process's until :func:`release`."""
    path = target.with_name(f".{target.name}.{tag}-{os.getpid()}.tmp")
    _ACTIVE.add(os.path.abspath(path))
    return path


def release(path: Path) -> None:
    """The temporary copy ``path`` is no longer in flight (renamed or removed)."""
    _ACTIVE.discard(os.path.abspath(path))


def pid_alive(pid: int) -> bool | None:
    """Whether process ``pid`` runs; None where that cannot be asked safely (not POSIX)."""
    if not CAN_SIGNAL or pid <= 0:
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    except OSError:
        return None
    return True


def _abandoned(path: Path, pid: int) -> bool:
    if pid == os.getpid():
        return os.path.abspath(path) not in _ACTIVE  # a dead process that had our id
    alive = pid_alive(pid)
    if alive is not None:
        return not alive
    try:
        st = path.stat()
    except OSError:
        return False
    return time.time() - max(st.st_mtime, st.st_ctime) > STALE_SECONDS


def _size(n: int) -> str:
    if n >= 1 << 20:
        return f"{n / (1 << 20):.1f} MB"
    if n >= 1 << 10:
        return f"{n / (1 << 10):.0f} KB"
    return f"{n} bytes"


def _is_plain(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            return fh.read(len(SQLITE_HEADER)) == SQLITE_HEADER
    except OSError:
        return False


def _regular(path: Path) -> bool:
    """A regular file under its own name (not a symbolic link someone planted)."""
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def wipe(path: Path) -> None:
    """Overwrite ``path`` with zeros (best effort: an SSD or a copy-on-write file system may
    keep the old blocks; docs/encryption.md), then remove it. Only a regular file that has no
    other name is overwritten (never through a symbolic link, never a file that another name
    still needs); anything else only loses this name."""
    flags = os.O_WRONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags) if _regular(path) else -1
    except OSError:
        fd = -1
    if fd >= 0:
        zero_and_close(fd)
    with contextlib.suppress(OSError):
        path.unlink()


def zero_and_close(fd: int) -> None:
    """Overwrite the open file ``fd`` with zeros, flush it to the disk, and close it (best
    effort, never raises). Only a regular file with no other name (one name, or none left:
    unlinked) is overwritten; anything else is only closed."""
    try:
        st = os.fstat(fd)
        left = st.st_size if stat.S_ISREG(st.st_mode) and st.st_nlink <= 1 else 0
        os.lseek(fd, 0, os.SEEK_SET)
        block = b"\0" * (1 << 20)
        while left > 0:
            left -= os.write(fd, block[: min(left, len(block))])
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def sweep(target: Path | str) -> list[str]:
    """Remove the temporary copies of ``target`` (a log or a backup file) that a process
    killed mid-way left beside it; one line per copy removed, saying what it was. Never
    raises: a copy that cannot be removed stays for the next open."""
    if str(target) in ("", ":memory:"):
        return []
    target = Path(target)
    prefix = f".{target.name}."
    try:
        names = [e.name for e in os.scandir(target.parent or Path("."))]
    except OSError:
        return []
    found: dict[str, tuple[str, int]] = {}
    for name in names:
        if not name.startswith(prefix):
            continue
        base = next((name[: -len(s)] for s in SIDE_FILES if name.endswith(s)), name)
        m = re.match(_NAME, base)
        if m and m["base"] == target.name and m["tag"] in OPERATIONS:
            found[base] = (m["tag"], int(m["pid"]))
    notices = []
    for base, (tag, pid) in sorted(found.items()):
        path = target.with_name(base)
        if not _abandoned(path, pid):
            continue
        files = [p for p in (path, *(path.with_name(base + s) for s in SIDE_FILES)) if _regular(p)]
        if not files:
            continue  # nothing of ours (a planted link is left as it is)
        plain = _is_plain(path)
        size = sum(os.lstat(p).st_size for p in files)
        if _same_file(path, target):  # still the log's own file: only drop the extra name
            with contextlib.suppress(OSError):
                path.unlink()
            continue
        for p in files:
            if plain and not _same_file(p, target):
                wipe(p)
            else:
                with contextlib.suppress(OSError):
                    p.unlink()
        if any(os.path.lexists(p) for p in files):
            continue
        op = OPERATIONS[tag]
        if tag == "convert":
            op = "decrypt" if plain else "encrypt"
        what = "a plaintext copy" if plain else "an encrypted copy" if size else "an empty file"
        wiped = " (overwritten with zeros first)" if plain else ""
        notices.append(
            f"Removed {what} left by an interrupted {op} (process {pid}, {_size(size)}){wiped}: "
            f"{path}"
        )
    return notices
