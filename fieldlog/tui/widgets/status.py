"""The status line every main screen shows above its footer: the log file, the officer, the
last sync and the changes not yet synced.

The app keeps the latest :class:`Status` (``FieldlogApp.status``) and publishes each new one
on its ``status_changed`` signal: a StatusLine reads the latest when it mounts and follows the
signal after, so every screen shows the same figures without a store call of its own. The
app reloads them (``read_status``, in a worker) after its own writes, after an undo and when
another process wrote to the log.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.widgets import Static

from fieldlog import dates
from fieldlog.db.synclog import PENDING_CAP
from fieldlog.text import printable

if TYPE_CHECKING:
    from pathlib import Path

    from fieldlog.db.store import Store

FILE_WIDTH = 24  # the longest log file name shown whole; the rest is clipped with "…"
OFFICER_WIDTH = 22


@dataclass(frozen=True)
class Status:
    """What the status line says (``pending`` counted up to ``cap``: ``cap`` means more)."""

    file: str
    officer: str
    last_sync: str | None
    pending: int
    cap: int


def read_status(store: Store, path: Path) -> Status:
    """The figures, read in a worker: the officer and last sync come from the cached meta,
    the pending count from the outbox's primary key (``SyncLog.pending``), so this costs well
    under a millisecond on any log."""
    meta = store.meta()
    return Status(
        file=path.name,
        officer=store.officer(),
        last_sync=meta.get("last_sync"),
        pending=store.sync.pending(PENDING_CAP),
        cap=PENDING_CAP,
    )


def _clip(value: str, width: int) -> str:
    return value if len(value) <= width else value[: width - 1] + "…"


def status_text(status: Status | None) -> Text:
    """One line: ``fieldlog.db · Ofc. Ana Lee · last sync 2026-05-01 14:03 · 3 to sync``
    (user text as data: a name with ``[`` is shown as typed)."""
    out = Text(no_wrap=True, overflow="ellipsis")
    if status is None:
        return out
    sep = (" · ", "dim")
    out.append(_clip(printable(status.file, newlines=False), FILE_WIDTH), style="bold")
    out.append(*sep)
    out.append(_clip(printable(status.officer, newlines=False), OFFICER_WIDTH))
    out.append(*sep)
    if status.last_sync:
        out.append(f"last sync {dates.show_local(status.last_sync)}")
    else:
        out.append("never synced")
    out.append(*sep)
    if not status.pending:
        out.append("nothing to sync")
    else:
        more = "+" if status.pending >= status.cap else ""
        out.append(f"{status.pending:,}{more} to sync", style="bold")
    return out


class StatusLine(Static):
    """One line just above the footer (docked, so it sits there whatever the screen's
    layout); shows the app's latest :class:`Status` and follows its ``status_changed``."""

    DEFAULT_CSS = """
    StatusLine {
        dock: bottom;
        margin-bottom: 1;
        height: 1;
        width: 1fr;
        color: $text-muted;
        background: $panel;
        padding: 0 1;
    }
    """

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("markup", False)
        super().__init__(**kwargs)
        self.status: Status | None = None

    def on_mount(self) -> None:
        app: Any = self.app  # a FieldlogApp; screens and widgets never import tui.app
        signal = getattr(app, "status_changed", None)
        if signal is not None:
            signal.subscribe(self, self.show)
        self.show(getattr(app, "status", None))

    def show(self, status: Status | None) -> None:
        self.status = status
        self.update(status_text(status))
