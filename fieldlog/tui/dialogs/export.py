"""The export dialog: contacts to a CSV file (or an Excel workbook, for a name ending in
``.xlsx``: :mod:`fieldlog.export.xlsx_tables`, as ``fieldlog export --out X.xlsx``), in a
worker, with progress.

The file is written under a temporary name (owner-only) and renamed when complete, after it
is closed (:func:`fieldlog.export.atomic_text`, :func:`fieldlog.export.xlsx.write_workbook`):
a cancelled or failed export leaves no file."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, ProgressBar, Static
from textual.worker import get_current_worker

from fieldlog import dates
from fieldlog.errors import FieldlogError, ValidationError
from fieldlog.export import atomic_text, export_contacts_csv
from fieldlog.tui.dialogs.confirm import ConfirmDialog


class Cancelled(Exception):
    """The officer pressed Escape while the export ran."""


def default_path() -> str:
    """``~/fieldlog-contacts-YYYYMMDD.csv`` (shown with ``~``; expanded when saving)."""
    return f"~/fieldlog-contacts-{dates.today_local().replace('-', '')}.csv"


class ExportDialog(ModalScreen[int | None]):
    """Pick a file and an optional WHEN; dismisses with the number of contacts written."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "export", "Export", priority=True),
    ]

    def __init__(self) -> None:
        super().__init__(classes="dialog-screen")
        self.running = False

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog fl-export"):
            yield Label("Export contacts (CSV; a .xlsx name: Excel)",
                        classes="dialog-question fl-form-title")  # fmt: skip
            with Horizontal(classes="fl-row"):
                yield Label("File", classes="fl-label")
                yield Input(default_path(), id="path", compact=True)
            yield Static("", id="path-error", classes="fl-error", markup=False)
            with Horizontal(classes="fl-row"):
                yield Label("Since", classes="fl-label")
                yield Input(placeholder="optional: 30d, 2026-01-01, monday", id="since",
                            compact=True)  # fmt: skip
            yield Static("", id="since-error", classes="fl-error", markup=False)
            yield Checkbox("For Excel (byte-order mark, CRLF)", id="excel", compact=True)
            yield ProgressBar(id="progress", show_eta=False)
            yield Static("", id="export-status", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Export (Ctrl+S)", id="go", variant="primary")
                yield Button("Cancel (Esc)", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#progress", ProgressBar).display = False
        self.query_one("#path", Input).focus()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        self.action_export()

    @on(Button.Pressed, "#go")
    def _go(self) -> None:
        self.action_export()

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.action_cancel()

    def error(self, field: str, message: str) -> None:
        error = self.query_one(f"#{field}-error", Static)
        error.update(message)
        error.add_class("-shown")
        self.query_one(f"#{field}", Input).focus()

    def action_export(self) -> None:
        if self.running:
            return
        for field in ("path", "since"):
            self.query_one(f"#{field}-error", Static).update("")
            self.query_one(f"#{field}-error", Static).remove_class("-shown")
        raw_path = self.query_one("#path", Input).value.strip()
        since = self.query_one("#since", Input).value.strip() or None
        if not raw_path:
            self.error("path", "Give a file to write, e.g. ~/contacts.csv.")
            return
        path = Path(os.path.expanduser(raw_path))
        if path.is_dir():
            path = path / Path(os.path.expanduser(default_path())).name
        if not path.parent.is_dir():
            self.error("path", f"The folder {path.parent} does not exist.")
            return
        if since:
            try:
                dates.parse_when(since, field="since")
            except ValidationError as err:
                self.error("since", str(err))
                return
        excel = self.query_one("#excel", Checkbox).value
        if path.exists():

            def answer(yes: bool | None) -> None:
                if yes:
                    self.start(path, since, excel, force=True)

            self.app.push_screen(ConfirmDialog(f"{path} exists. Replace it?"), answer)
            return
        self.start(path, since, excel)

    def start(self, path: Path, since: str | None, excel: bool, *, force: bool = False) -> None:
        self.running = True
        for widget in self.query(Input).results():
            widget.disabled = True
        self.query_one("#go", Button).disabled = True
        bar = self.query_one("#progress", ProgressBar)
        bar.display = True
        self.query_one("#export-status", Static).update(f"Writing {path} …")
        app: Any = self.app

        def job() -> None:
            worker = get_current_worker()
            try:
                with app.db_lock:
                    total = app.store.contacts.count()
                    app.call_from_thread(bar.update, total=max(total, 1), progress=0)

                    def progress(read: int) -> None:
                        if worker.is_cancelled:
                            raise Cancelled
                        app.call_from_thread(bar.update, progress=read)

                    # The file appears only when complete; it replaces one only when the
                    # officer said so (force).
                    if path.suffix.lower() == ".xlsx":
                        from fieldlog.export.xlsx_tables import write_table_xlsx

                        n = write_table_xlsx(
                            app.store, "contacts", path, force=force,
                            filters={"since": since}, progress=progress,
                        )  # fmt: skip
                    else:
                        with atomic_text(path, force=force) as out:
                            n = export_contacts_csv(
                                app.store, out, since=since, excel=excel, progress=progress
                            )
            except Cancelled:  # atomic_text removed the partial file
                return
            except (FieldlogError, OSError) as err:
                message = str(err) if isinstance(err, FieldlogError) else f"Cannot write: {err}"
                app.call_from_thread(self.failed, message)
                return
            app.call_from_thread(self.done, n, path)

        self.run_worker(job, thread=True, exclusive=True, group="export", exit_on_error=False)

    def done(self, n: int, path: Path) -> None:
        if not self.running:  # cancelled after the last row was read
            return
        noun = "contact" if n == 1 else "contacts"
        self.app.notify(f"Exported {n} {noun} to {path}", markup=False)
        self.dismiss(n)

    def failed(self, message: str) -> None:
        self.running = False
        for widget in self.query(Input).results():
            widget.disabled = False
        self.query_one("#go", Button).disabled = False
        self.query_one("#progress", ProgressBar).display = False
        self.query_one("#export-status", Static).update("")
        self.app.notify(message, severity="error", markup=False)

    def action_cancel(self) -> None:
        if self.running:
            self.running = False
            self.workers.cancel_group(self, "export")  # the worker drops its partial file
            self.app.notify("Export cancelled.")
        self.dismiss(None)
