"""Writing an import (``store.imports``): which records are here already, and the whole
import in one transaction (all of it or none), through :meth:`fieldlog.db.tx.Tx.import_row`.

fieldlog's importer reads and checks the file, cleaning each contact line with
``store.entries.clean`` (the entry rule), and plans the writes; this module only writes them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import nullcontext
from typing import TYPE_CHECKING, Any

from fieldlog import records

if TYPE_CHECKING:
    from fieldlog.db.store import Store

BULK_INDEX_OVER = 1000  # more rows than this: index them in one statement at the end


class Imports:
    def __init__(self, store: Store) -> None:
        self.store = store

    def present(self, table: str, rids: Sequence[str]) -> dict[str, tuple[str, bool]]:
        """``id -> (updated_at, deleted)`` for those of ``rids`` already in ``table``."""
        if table not in records.TABLE_FIELDS:
            raise ValueError(table)
        found: dict[str, tuple[str, bool]] = {}
        unique = list(dict.fromkeys(rids))
        for i in range(0, len(unique), 500):
            chunk = unique[i : i + 500]
            for r in self.store.query(
                f"SELECT id, updated_at, deleted FROM {table} WHERE id IN "
                f"({', '.join('?' * len(chunk))})",
                chunk,
            ):
                found[r["id"]] = (r["updated_at"], r["deleted"])
        return found

    def write(
        self,
        plan: Iterable[tuple[str, str, Mapping[str, Any]]],
        *,
        progress: Callable[[int], Any] | None = None,
    ) -> dict[str, int]:
        """Write imported records in one transaction: all of them or none.

        ``plan`` holds ``(action, table, row)`` (see :meth:`~fieldlog.db.tx.Tx.import_row`).
        Each write gets a ``changes`` outbox row, so sync pushes imported records like typed
        ones. ``progress(n)`` is called with the number of records written so far.
        Returns ``{"inserted": n, "updated": n}``.
        """
        plan = list(plan)
        counts = {"inserted": 0, "updated": 0}
        tables = sorted({t for a, t, _ in plan if a == "insert"})
        with self.store.write() as tx:
            with tx.bulk_index(tables) if len(plan) > BULK_INDEX_OVER else nullcontext():
                for n, (action, table, row) in enumerate(plan, 1):
                    counts[tx.import_row(action, table, row)] += 1
                    if progress is not None and n % 500 == 0:
                        progress(n)
        if progress is not None:
            progress(len(plan))
        return counts
