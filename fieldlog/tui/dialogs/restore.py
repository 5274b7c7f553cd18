"""Restore an unsaved contact form? (asked at start-up for each draft left in the log)."""

from __future__ import annotations

from fieldlog.tui.dialogs.confirm import ConfirmDialog


class RestoreDialog(ConfirmDialog):
    """Yes is the default here: Enter by reflex must not throw a draft away."""

    DEFAULT = "yes"
