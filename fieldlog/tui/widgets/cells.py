"""DataTable cells and columns: user text as data (never markup), one line, clipped.

Stored text may hold terminal escapes (``ESC ] 0 ;`` sets the window title, ``ESC [ 2 J``
clears the screen): typing refuses them, but a sync or an old log can still bring them in.
Every helper here shows them as visible escapes (``\\x1b``, :func:`fieldlog.text.printable`);
:func:`shown` and :func:`wrapped` do the same for text that keeps its line breaks.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import DataTable

from fieldlog.text import printable


def one_line(value: Any) -> str:
    """``value`` as one line of text (runs of whitespace and newlines become one space),
    control characters shown as escapes."""
    return printable(" ".join(str(value or "").split()), newlines=False)


def shown(value: Any) -> str:
    """Stored text to show as it is, line breaks kept, control characters as escapes."""
    if value is None:
        return ""
    if isinstance(value, list):
        value = ", ".join(str(v) for v in value)
    return printable(str(value))


def wrapped(value: Any, style: str = "") -> Text:
    """Stored text as a Text that keeps its line breaks and wraps (never markup)."""
    return Text(shown(value), style=style)


def text(value: Any, style: str = "") -> Text:
    """User data as a Text (never parsed as markup), one line."""
    if value is None:
        return Text("")
    if isinstance(value, list):
        value = ", ".join(str(v) for v in value)
    return Text(printable(" ".join(str(value).split()), newlines=False), style=style)


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
