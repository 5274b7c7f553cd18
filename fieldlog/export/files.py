"""Export files on disk: one CSV written whole or not at all, and ``export all`` to a folder
or a zip (one file per table).

A half-written export is worse than none (a spreadsheet opens it and nobody notices the
missing rows), so every file is written under a ``.part`` name and renamed when complete. An
export holds personal data: its files are owner-only (0600; a new folder 0700) on POSIX, so
another account on the machine cannot read them; on Windows the folder's permissions (the user
profile's) protect them (docs/install.md). Each file is closed before its rename (Windows
cannot replace an open file).
"""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from fieldlog.errors import FieldlogError
from fieldlog.export.columns import TABLES
from fieldlog.export.redact import Redactor
from fieldlog.export.table import write_table

if TYPE_CHECKING:
    from fieldlog.db.store import Store


def private_fd(path: Path) -> int:
    """A new, empty file only its owner can read and write (0600 on POSIX; Windows ignores the
    mode), opened for writing in binary (no CRLF added by Windows' C library). A leftover file
    of that name is removed first: it would keep its own, wider mode."""
    path.unlink(missing_ok=True)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    return os.open(path, flags, 0o600)


@contextmanager
def atomic_text(path: Path) -> Iterator[TextIO]:
    """A text file written as ``PATH.part`` (owner-only) and renamed onto ``path`` only when
    complete: any error (or Ctrl+C) leaves no partial file behind."""
    part = path.with_name(path.name + ".part")
    try:
        out = open(private_fd(part), "w", encoding="utf-8", newline="")  # noqa: SIM115
    except OSError as exc:
        raise FieldlogError(f"Cannot write {path}: {exc.strerror or exc}.") from None
    try:
        with out:
            yield out
        os.replace(part, path)
    except OSError as exc:
        part.unlink(missing_ok=True)
        raise FieldlogError(f"Cannot write {path}: {exc.strerror or exc}.") from None
    except BaseException:
        part.unlink(missing_ok=True)
        raise


def export_all(
    store: Store,
    dest: Path,
    *,
    filters: Mapping[str, str | None] | None = None,
    excel: bool = False,
    raw: bool = False,
    redact: bool = False,
    progress: Callable[[str, int], None] | None = None,
) -> dict[str, int]:
    """Every table into the folder ``dest`` (made if missing) or, when it ends with ``.zip``,
    into that zip file: ``contacts.csv`` ... ``flat.csv``. Filters apply where they mean
    something (see docs/export.md). Returns the rows per table. One redaction key for all
    the files, so a person keeps one pseudonym across them."""
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
        part = dest.with_name(dest.name + ".part")
        try:
            with (
                open(private_fd(part), "wb") as fh,
                zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_DEFLATED) as zf,
            ):
                for table in TABLES:
                    with zf.open(f"{table}.csv", "w", force_zip64=True) as raw_out:
                        text = io.TextIOWrapper(raw_out, encoding="utf-8", newline="")
                        one(table, text)
                        text.flush()
                        text.detach()
            os.replace(part, dest)
        except OSError as exc:
            part.unlink(missing_ok=True)
            raise FieldlogError(f"Cannot write {dest}: {exc.strerror or exc}.") from None
        except BaseException:
            part.unlink(missing_ok=True)
            raise
        return counts
    if dest.exists() and not dest.is_dir():
        raise FieldlogError(f"{dest} is a file: give a folder (or a name ending in .zip).")
    try:
        dest.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise FieldlogError(f"Cannot make the folder {dest}: {exc.strerror or exc}.") from None
    for table in TABLES:
        with atomic_text(dest / f"{table}.csv") as out:
            one(table, out)
    return counts
