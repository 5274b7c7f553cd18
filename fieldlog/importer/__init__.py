"""Reading CSV files back into the log: our own export, and the sheet an officer types.

Two formats, told apart by the header (see docs/import.md):

- a table of ``fieldlog export`` (contacts, concerns, referrals, organizations), or a folder /
  zip made by ``fieldlog export all``. Records keep their id, officer, created_at and
  updated_at, so export -> import into an empty log -> export gives the same file;
- the officer sheet (date, name, neighborhood, summary, concern category, concern text,
  referral agency, referral reason), one contact per line, with ids derived from the line's
  content so the same sheet imported twice adds nothing.

A folder or zip holding an Open Referral HSDS 3.0 dataset (a 2-1-1 or county directory, or
``fieldlog export hsds``) is handed to :mod:`~fieldlog.importer.hsds` before any of this: its
organizations become partners, idempotent by HSDS id (docs/hsds.md).

Files are streamed: read, checked and written :data:`BATCH` rows at a time inside one
transaction (:meth:`Imports.session`), which commits only when every row passed (or with
``skip_bad``), so memory stays flat however big the file and the import is still all or
nothing. This package never imports Typer, Rich or Textual.

The package: :mod:`~fieldlog.importer.read` (files, encodings, headers),
:mod:`~fieldlog.importer.unzip` (zips and their expansion caps),
:mod:`~fieldlog.importer.sources` (the files a path stands for),
:mod:`~fieldlog.importer.plan` (checking exported tables), :mod:`~fieldlog.importer.sheet`
(the officer sheet), :mod:`~fieldlog.importer.result` (what an import reports),
:mod:`~fieldlog.importer.returned` (a partner's referral sheet sent back: a file of its own,
recognised before the others); this module runs them (:func:`import_path`).
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING

from fieldlog.errors import FieldlogError
from fieldlog.importer import hsds, returned
from fieldlog.importer.plan import (
    DATETIME_FIELDS,
    DAY_FIELDS,
    ID_FIELDS,
    STAMP_FIELDS,
    Batch,
    Plan,
    check_export_batch,
    unneutralise,
)
from fieldlog.importer.read import (
    SAVE_AS,
    SHEET_COLUMNS,
    TABLE_ORDER,
    Sheet,
    detect,
    export_columns,
)
from fieldlog.importer.result import ImportRejected, ImportResult
from fieldlog.importer.sheet import check_sheet_batch
from fieldlog.importer.sources import iter_sources, survey
from fieldlog.importer.unzip import ZipLimits
from fieldlog.models import FORMULA_PREFIXES

if TYPE_CHECKING:
    from fieldlog.db.store import Store

__all__ = [
    "DATETIME_FIELDS",
    "DAY_FIELDS",
    "FORMULA_PREFIXES",
    "ID_FIELDS",
    "SAVE_AS",
    "SHEET_COLUMNS",
    "STAMP_FIELDS",
    "TABLE_ORDER",
    "ImportRejected",
    "ImportResult",
    "ZipLimits",
    "detect",
    "export_columns",
    "import_path",
    "iter_sources",
    "unneutralise",
]

BATCH = 2000  # rows checked and written at a time
BULK_OVER = 256 << 10  # files bigger than this are indexed for search in one go at the end


def import_path(
    store: Store,
    path: Path | str,
    *,
    dry_run: bool = False,
    skip_bad: bool = False,
    progress: Callable[[int, int], None] | None = None,
    limits: ZipLimits | None = None,
) -> ImportResult:
    """Import a CSV file, or a folder / zip from ``fieldlog export all``.

    Every row is checked. Any bad row and not ``skip_bad``: raise :class:`ImportRejected`
    listing them (``line N: reason``; the first :data:`~fieldlog.importer.plan.MAX_LISTED`)
    and write nothing. ``dry_run``: check and count only, write nothing.
    ``progress(done, total)`` is called after each batch, in bytes of the files read.
    ``limits``: how far a zip may expand (:class:`ZipLimits`). Running out of memory or a
    read error is a :class:`FieldlogError` too (one line), never a traceback.
    """
    path = Path(path)
    try:
        return _import(store, path, dry_run, skip_bad, progress, limits)
    except MemoryError:
        raise FieldlogError(
            f"Ran out of memory importing {path.name}; nothing was written. Close other "
            "programs, or split the file and import the parts."
        ) from None
    except OSError as exc:
        raise FieldlogError(
            f"Cannot read {exc.filename or path}: {exc.strerror or exc}. Nothing was written."
        ) from None


def _import(
    store: Store,
    path: Path,
    dry_run: bool,
    skip_bad: bool,
    progress: Callable[[int, int], None] | None,
    limits: ZipLimits | None,
) -> ImportResult:
    if returned.is_returned_sheet(path):  # a partner's referral sheet sent back
        return returned.import_sheet(store, path, dry_run=dry_run, skip_bad=skip_bad, limits=limits)
    if hsds.is_dataset(path):  # an Open Referral HSDS 3.0 dataset (a 2-1-1 directory)
        return hsds.import_dataset(
            store, path, dry_run=dry_run, skip_bad=skip_bad, limits=limits, progress=progress
        )
    sources = iter_sources(path, limits)
    try:
        return _run(store, path, sources, dry_run, skip_bad, progress)
    finally:
        sources.close()  # the files it has open


def _run(
    store: Store,
    path: Path,
    sources: Generator[Sheet, None, None],
    dry_run: bool,
    skip_bad: bool,
    progress: Callable[[int, int], None] | None,
) -> ImportResult:
    first = next(sources)  # opens the first file: a bad file is refused before any write
    count, total = survey(path)
    single = count == 1
    plan = Plan()
    plan.result.dry_run = dry_run
    kinds: set[str] = set()
    done_before = 0
    with store.imports.session(bulk=total > BULK_OVER) as writer:
        sheet: Sheet | None = first
        while sheet is not None:
            kinds.add(sheet.kind)
            check = check_sheet_batch if sheet.kind == "sheet" else check_export_batch
            rows = iter(sheet.rows)
            while batch := list(islice(rows, BATCH)):
                check(Batch(store, writer, sheet, batch, plan, single))
                writer.write(plan.writes, plan.conflicts)
                plan.writes, plan.conflicts = [], []
                if progress is not None and sheet.stream is not None:
                    done = done_before + sheet.stream.done
                    progress(min(done, total), max(total, done))
            done_before += sheet.stream.done if sheet.stream is not None else sheet.size
            sheet = next(sources, None)
        plan.result.conflicts = writer.counts["conflicts"]
        writer.keep = not dry_run and (skip_bad or not plan.bad)
    result = plan.result
    result.format = "sheet" if kinds == {"sheet"} else "export"
    result.bad, result.bad_count = list(plan.errors), plan.bad
    if plan.bad and not skip_bad:
        raise ImportRejected.of(list(plan.errors), plan.bad, dry_run=dry_run)
    if progress is not None:
        progress(max(total, done_before), max(total, done_before))
    return result
