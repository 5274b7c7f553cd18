"""Reading CSV files back into the log: our own export, and the sheet an officer types.

Two formats, told apart by the header (see docs/import.md):

- a table of ``fieldlog export`` (contacts, concerns, referrals, organizations), or a folder /
  zip made by ``fieldlog export all``. Records keep their id, officer, created_at and
  updated_at, so export -> import into an empty log -> export gives the same file;
- the officer sheet (date, name, neighborhood, summary, concern category, concern text,
  referral agency, referral reason), one contact per line, with ids derived from the line's
  content so the same sheet imported twice adds nothing.

Every row is checked before anything is written; the writing itself is one transaction in
:meth:`Imports.write`. This package never imports Typer, Rich or Textual.

The package: :mod:`~fieldlog.importer.read` (files, encodings, headers),
:mod:`~fieldlog.importer.plan` (checking exported tables), :mod:`~fieldlog.importer.sheet`
(the officer sheet), :mod:`~fieldlog.importer.result` (what an import reports); this module
runs them (:func:`import_path`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from fieldlog.importer.plan import (
    DATETIME_FIELDS,
    DAY_FIELDS,
    ID_FIELDS,
    STAMP_FIELDS,
    Plan,
    check_export_table,
    unneutralise,
)
from fieldlog.importer.read import (
    SAVE_AS,
    SHEET_COLUMNS,
    TABLE_ORDER,
    detect,
    export_columns,
    read_sources,
)
from fieldlog.importer.result import ImportRejected, ImportResult
from fieldlog.importer.sheet import check_sheet
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
    "detect",
    "export_columns",
    "import_path",
    "read_sources",
    "unneutralise",
]


def import_path(
    store: Store,
    path: Path | str,
    *,
    dry_run: bool = False,
    skip_bad: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> ImportResult:
    """Import a CSV file, or a folder / zip from ``fieldlog export all``.

    Every row is checked first. Any bad row and not ``skip_bad``: raise :class:`ImportRejected`
    listing each (``line N: reason``) and write nothing. ``dry_run``: check and count only.
    ``progress(done, total)`` is called as rows are checked and written (total = 2 x rows).
    """
    sources = read_sources(Path(path))
    total_rows = sum(len(s.rows) for _, s in sources)
    total = 2 * total_rows
    done = 0

    def tick() -> None:
        nonlocal done
        done += 1
        if progress is not None and done % 500 == 0:
            progress(done, total)

    plan = Plan()
    single = len(sources) == 1
    kinds = {k for k, _ in sources}
    plan.result.format = "sheet" if kinds == {"sheet"} else "export"
    plan.result.dry_run = dry_run
    for kind, sheet in sources:
        if kind == "sheet":
            check_sheet(store, sheet, plan, single, tick)
        else:
            check_export_table(store, kind, sheet, plan, single, tick)
    plan.result.bad = list(plan.errors)
    if plan.errors and not skip_bad:
        n = len(plan.errors)
        head = (
            f"{n} bad row{'s' if n != 1 else ''}; nothing was written"
            f"{' (dry run)' if dry_run else ''}. Fix them, or use --skip-bad to import the "
            "other rows:"
        )
        raise ImportRejected("\n".join([head, *(f"  {e}" for e in plan.errors)]), plan.errors)
    if progress is not None:
        progress(total_rows, total)
    if not dry_run and plan.writes:
        store.imports.write(
            plan.writes,
            progress=(lambda n: progress(total_rows + n, total)) if progress else None,
        )
    if progress is not None:
        progress(total, total)
    return plan.result
