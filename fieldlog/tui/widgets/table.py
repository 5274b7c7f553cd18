"""The one table every list screen uses: a row-cursor DataTable with the keys Help promises
(j/k, g/G, Home/End to the first and last row) and a reload that keeps the cursor on its row."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from textual.binding import Binding
from textual.widgets import DataTable


class ListTable(DataTable[Any]):
    """A DataTable of records, one row per record key."""

    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
        Binding("g,home", "first_row", "First", show=False),
        Binding("G,end", "last_row", "Last", show=False),
    ]

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("cursor_type", "row")
        kwargs.setdefault("zebra_stripes", True)
        super().__init__(**kwargs)

    def action_first_row(self) -> None:
        if self.row_count:
            self.move_cursor(row=0)

    def action_last_row(self) -> None:
        if self.row_count:
            self.move_cursor(row=self.row_count - 1)

    @property
    def cursor_key(self) -> str | None:
        """The key of the row under the cursor (None when the table is empty)."""
        if not self.row_count:
            return None
        return str(self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value)

    def replace_rows(self, rows: Iterable[tuple[str, Sequence[Any]]]) -> None:
        """Show ``rows`` ((key, cells) pairs) instead of what is there, keeping the cursor on
        the same record if it is still listed, else on the same line."""
        key, line = self.cursor_key, self.cursor_row
        self.clear()
        for rkey, cells in rows:
            self.add_row(*cells, key=rkey)
        if not self.row_count:
            return
        if key is not None and key in self.rows:
            self.move_cursor(row=self.get_row_index(key), animate=False)
        else:
            self.move_cursor(row=min(line, self.row_count - 1), animate=False)

    def update_row(self, key: str, cells: Sequence[Any]) -> bool:
        """Change one row's cells in place (an edited record); False if it is not listed."""
        if key not in self.rows:
            return False
        for column, value in zip(self.ordered_columns, cells, strict=False):
            self.update_cell(key, column.key, value)
        return True
