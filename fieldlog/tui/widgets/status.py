"""The status line every main screen shows above its footer: the log file, the officer, the
last sync and the changes not yet synced. (Stub: issue 10's shell work fills it in.)"""

from __future__ import annotations

from textual.widgets import Static


class StatusLine(Static):
    """One line; the app updates every StatusLine when the log changes."""

    DEFAULT_CSS = """
    StatusLine {
        height: 1;
        width: 1fr;
        color: $text-muted;
        padding: 0 1;
    }
    """
