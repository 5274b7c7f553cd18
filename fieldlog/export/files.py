"""Export files on disk: one CSV written whole or not at all, and ``export all`` to a folder
or a zip (one file per table).

A half-written export is worse than none (a spreadsheet opens it and nobody notices the
missing rows), so every file is written under a hidden temporary name beside it and renamed
when complete, after a flush and an fsync: a full disk is an error, never a short file. The
rules for ``--out FILE`` (docs/export.md):

- only a regular file, or nothing yet: a folder, a device (``/dev/null``), a FIFO or a symbolic
  link there is refused before anything is written;
- an existing file is replaced only with ``force`` (``--force``); without it the rename itself
  refuses an existing name (a hard link, which never overwrites), so a file that appears in
  the meantime is not replaced either;
- the temporary file is created exclusively (``O_CREAT | O_EXCL``, plus ``O_NOFOLLOW`` where
  the system has it) under a name with a random part: a symbolic link planted beside the
  target is never followed, and never removed either (it is not ours).

An export holds personal data: its files are owner-only (0600; a new folder 0700) on POSIX, so
another account on the machine cannot read them; on Windows the folder's permissions (the user
profile's) protect them (docs/install.md). Each file is closed before its rename (Windows
cannot replace an open file). A temporary file a killed export left (its process gone) is
removed by the next export to the same file.
"""

from __future__ import annotations

import io
import os
import re
import secrets
import stat
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO, TYPE_CHECKING, TextIO

from fieldlog.errors import FieldlogError
from fieldlog.export.columns import TABLES
from fieldlog.export.redact import Redactor
from fieldlog.export.table import write_table

if TYPE_CHECKING:
    from fieldlog.db.store import Store

# 0 where the system has no such flag (Windows): O_EXCL alone never follows a link either.
NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_ACTIVE: set[str] = set()  # this process's temporary files in flight


def _not_regular(path: Path, what: str) -> FieldlogError:
    return FieldlogError(f"{path} is not a regular file ({what}): give a file path.")


def check_out(path: Path, *, force: bool = False) -> None:
    """Refuse ``path`` as an export's file unless it is a regular file (or nothing yet), and
    refuse an existing one without ``force``. The link itself is looked at, not its target."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise FieldlogError(f"Cannot write {path}: {exc.strerror or exc}.") from None
    mode = st.st_mode
    if stat.S_ISLNK(mode):
        raise _not_regular(path, "it is a symbolic link")
    if stat.S_ISDIR(mode):
        raise _not_regular(path, "it is a folder")
    if not stat.S_ISREG(mode):
        kind = "a FIFO" if stat.S_ISFIFO(mode) else "a device" if stat.S_ISCHR(mode) or \
            stat.S_ISBLK(mode) else "a socket or other special file"  # fmt: skip
        raise _not_regular(path, f"it is {kind}")
    if not force:
        raise FieldlogError(
            f"{path} already exists: choose another name, or add --force to replace it."
        )


def private_fd(path: Path) -> int:
    """A new, empty file only its owner can read and write (0600 on POSIX; Windows ignores the
    mode), opened for writing in binary (no CRLF added by Windows' C library); created
    exclusively, never through a symbolic link. FileExistsError if the name is taken."""
    flags = (
        os.O_WRONLY | os.O_CREAT | os.O_EXCL | NOFOLLOW
        | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
    )  # fmt: skip
    return os.open(path, flags, 0o600)


def temp_name(path: Path) -> Path:
    """A hidden name beside ``path`` for its temporary file: this process's id (so a later
    export can tell a dead one's leftover) and a random part (so nobody can plant a link at
    it in advance)."""
    return path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}.part")


def _new_temp(path: Path) -> tuple[int, Path]:
    for _ in range(20):
        part = temp_name(path)
        try:
            fd = private_fd(part)
        except FileExistsError:
            continue
        _ACTIVE.add(str(part))
        return fd, part
    raise FileExistsError(f"no free temporary name beside {path}")


def _sweep(path: Path) -> None:
    """Remove the temporary files that killed exports of ``path`` left (their process gone),
    overwritten with zeros first: an export of an encrypted log is in clear."""
    from fieldlog.db.leftovers import pid_alive, wipe

    pattern = re.compile(r"^\." + re.escape(path.name) + r"\.(\d{1,10})-[0-9a-f]{8}\.part$")
    try:
        names = os.listdir(path.parent)
    except OSError:
        return
    for name in names:
        m = pattern.match(name)
        if not m:
            continue
        part = path.with_name(name)
        pid = int(m[1])
        gone = str(part) not in _ACTIVE if pid == os.getpid() else pid_alive(pid) is False
        with suppress(OSError):
            if gone and stat.S_ISREG(os.lstat(part).st_mode):
                wipe(part)


def _place(part: Path, path: Path, force: bool) -> None:
    """Give the finished temporary file the name ``path``: replacing it only with ``force``.
    Without, a hard link (never overwrites) then the temporary name removed; where links do
    not exist, Windows' rename (refuses an existing name) or a last look then the rename."""
    if force:
        check_out(path, force=True)  # still not a folder, device or link
        os.replace(part, path)
        return
    try:
        os.link(part, path)
    except FileExistsError:
        raise FieldlogError(
            f"{path} already exists: choose another name, or add --force to replace it."
        ) from None
    except (OSError, AttributeError, NotImplementedError):  # no hard links here (FAT, exFAT)
        check_out(path, force=False)
        if os.name == "nt":
            os.rename(part, path)  # refuses an existing name
        else:
            os.replace(part, path)
        return
    part.unlink()


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    with suppress(OSError):
        os.fsync(fd)
    os.close(fd)


@contextmanager
def atomic_binary(path: Path, *, force: bool = False) -> Iterator[IO[bytes]]:
    """A binary file written under a temporary name (owner-only, created exclusively) and
    renamed onto ``path`` only when complete, flushed and synced to the disk: any error (a
    full disk) or Ctrl+C leaves nothing behind. ``path`` must be a regular file or nothing
    (:func:`check_out`); an existing one is replaced only with ``force``."""
    check_out(path, force=force)
    _sweep(path)
    try:
        fd, part = _new_temp(path)
    except OSError as exc:
        raise FieldlogError(f"Cannot write {path}: {exc.strerror or exc}.") from None
    try:
        try:
            with open(fd, "wb") as fh:
                yield fh
                fh.flush()
                os.fsync(fh.fileno())
            _place(part, path, force)
        except OSError as exc:
            raise FieldlogError(f"Cannot write {path}: {exc.strerror or exc}.") from None
        _fsync_dir(path.parent)
    finally:
        with suppress(OSError):
            part.unlink()
        _ACTIVE.discard(str(part))


@contextmanager
def atomic_text(path: Path, *, force: bool = False) -> Iterator[TextIO]:
    """:func:`atomic_binary` as UTF-8 text, line ends written as given (``newline=""``)."""
    with atomic_binary(path, force=force) as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
        try:
            yield text
            text.flush()  # a full disk raises here, before the file is renamed into place
        finally:
            with suppress(Exception):  # after an error: the file is removed anyway
                text.detach()


def export_all(
    store: Store,
    dest: Path,
    *,
    filters: Mapping[str, str | None] | None = None,
    excel: bool = False,
    raw: bool = False,
    redact: bool = False,
    progress: Callable[[str, int], None] | None = None,
    force: bool = False,
) -> dict[str, int]:
    """Every table into the folder ``dest`` (made if missing) or, when it ends with ``.zip``,
    into that zip file: ``contacts.csv`` ... ``flat.csv``. Filters apply where they mean
    something (see docs/export.md). Returns the rows per table. One redaction key for all
    the files, so a person keeps one pseudonym across them. Files that exist already (the
    zip, or a table's file in the folder) are replaced only with ``force``: without it,
    they are all checked before anything is written."""
    filters = dict(filters or {})
    store.exports.check("all", filters)
    redactor = Redactor.for_store(store) if redact else None
    counts: dict[str, int] = {}

    def one(table: str, out: TextIO) -> None:
        def tick(n: int) -> None:
            if progress is not None:
                progress(table, n)

        counts[table] = write_table(
            store, table, out, filters=filters, excel=excel, raw=raw, redactor=redactor,
            progress=tick if progress is not None else None, strict=False,
        )  # fmt: skip

    if dest.suffix.lower() == ".zip":
        with (
            atomic_binary(dest, force=force) as fh,
            zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_DEFLATED) as zf,
        ):
            for table in TABLES:
                with zf.open(f"{table}.csv", "w", force_zip64=True) as raw_out:
                    text = io.TextIOWrapper(raw_out, encoding="utf-8", newline="")
                    one(table, text)
                    text.flush()
                    text.detach()
        return counts
    prepare_folder(dest, [f"{table}.csv" for table in TABLES], force=force)
    for table in TABLES:
        with atomic_text(dest / f"{table}.csv", force=force) as out:
            one(table, out)
    return counts


def prepare_folder(dest: Path, names: Sequence[str], *, force: bool = False) -> None:
    """``dest`` as the folder of a set of export files (``export all``, ``export hsds``): a
    folder or nothing yet (then made, owner-only); none of ``names`` in it unless ``force``,
    all checked before anything is written."""
    try:
        st = os.stat(dest)  # a link to a folder is fine: each file in it is checked
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise FieldlogError(f"Cannot use the folder {dest}: {exc.strerror or exc}.") from None
    if st is not None and not stat.S_ISDIR(st.st_mode):
        raise FieldlogError(f"{dest} is not a folder: give a folder (or a name ending in .zip).")
    if st is not None:
        for name in names:
            check_out(dest / name, force=force)
    try:
        dest.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise FieldlogError(f"Cannot make the folder {dest}: {exc.strerror or exc}.") from None
