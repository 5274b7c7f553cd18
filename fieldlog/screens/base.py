"""What every fieldlog screen shares: store calls in thread workers, errors as notifications."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.dom import DOMNode
from textual.screen import Screen
from textual.widgets import DataTable
from textual.worker import get_current_worker

from fieldlog.errors import FieldlogError

if TYPE_CHECKING:
    from fieldlog.app import FieldlogApp
    from fieldlog.db.store import Store


def text(value: Any, style: str = "") -> Text:
    """User data as a Text (never parsed as markup), one line."""
    if value is None:
        return Text("")
    if isinstance(value, list):
        value = ", ".join(str(v) for v in value)
    return Text(" ".join(str(value).split()), style=style)


def add_columns(table: DataTable, spec: list[tuple[str, str, int | None]]) -> None:
    """Columns as (label, key, width) triples; width None fits the content."""
    for label, key, width in spec:
        table.add_column(label, key=key, width=width)


def cursor_key(table: DataTable) -> str | None:
    """The row key under a table's cursor (None when the table is empty)."""
    if not table.row_count:
        return None
    return str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)


def clip(value: Any, width: int) -> Text:
    t = text(value)
    t.truncate(width, overflow="ellipsis")
    return t


def run_store(
    node: DOMNode,
    call: Callable[[Store], Any],
    then: Callable[[Any], None] | None = None,
    *,
    group: str = "load",
    failed: Callable[[], None] | None = None,
    on_error: Callable[[FieldlogError], bool] | None = None,
) -> None:
    """The one way the TUI touches the log: ``call(store)`` in a thread worker of ``node``
    under the app's lock, then ``then(result)`` on the UI thread.

    A newer call in the same group supersedes an older one: the older result is dropped.
    A FieldlogError goes to ``on_error`` (which returns True when it showed it itself, e.g.
    beside a form field), else becomes an error notification; then ``failed()`` runs.
    """
    app: Any = node.app

    def job() -> None:
        worker = get_current_worker()
        with app.db_lock:
            if worker.is_cancelled:
                return
            try:
                result = call(app.store)
            except FieldlogError as err:
                if on_error is None or not app.call_from_thread(on_error, err):
                    app.call_from_thread(app.notify, str(err), severity="error", markup=False)
                if failed is not None:
                    app.call_from_thread(failed)
                return
        if then is not None and not worker.is_cancelled:
            app.call_from_thread(then, result)

    node.run_worker(job, thread=True, exclusive=True, group=group, exit_on_error=False)


class StoreScreen(Screen[Any]):
    """A screen that reads and writes the log through the app's one store."""

    @property
    def fl_app(self) -> FieldlogApp:
        return self.app  # type: ignore[return-value]

    def db(
        self,
        call: Callable[[Store], Any],
        then: Callable[[Any], None] | None = None,
        *,
        group: str = "load",
        failed: Callable[[], None] | None = None,
    ) -> None:
        """Run ``call(store)`` in a thread worker, then ``then(result)`` on the UI thread
        (see :func:`run_store`)."""
        run_store(self, call, then, group=group, failed=failed)
