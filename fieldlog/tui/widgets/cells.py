"""DataTable cells and columns: user text as data (never markup), one line, clipped."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import DataTable


def one_line(value: Any) -> str:
    """``value`` as one line of text (runs of whitespace and newlines become one space)."""
    return " ".join(str(value or "").split())


def text(value: Any, style: str = "") -> Text:
    """User data as a Text (never parsed as markup), one line."""
    if value is None:
        return Text("")
    if isinstance(value, list):
        value = ", ".join(str(v) for v in value)
    return Text(" ".join(str(value).split()), style=style)


def clip(value: Any, width: int) -> Text:
    """:func:`text`, cut to ``width`` cells with an ellipsis (table columns are fixed)."""
    t = text(value)
    t.truncate(width, overflow="ellipsis")
    return t


def add_columns(table: DataTable, spec: list[tuple[str, str, int | None]]) -> None:
    """Columns as (label, key, width) triples; width None fits the content."""
    for label, key, width in spec:
        table.add_column(label, key=key, width=width)


def cursor_key(table: DataTable) -> str | None:
    """The row key under a table's cursor (None when the table is empty)."""
    if not table.row_count:
        return None
    return str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)
