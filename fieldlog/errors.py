"""The one exception type the shells turn into a one-line message.

Every error a user can cause (bad input, a missing record, a locked file) is raised as a
:class:`FieldlogError` whose text names the problem *and* the fix. The CLI prints it on one line
and exits 1; the TUI shows it as a notification. Nothing else should reach the user.
"""


class FieldlogError(Exception):
    """A problem the user can fix. ``str(err)`` is the whole message."""

    exit_code = 1


class ValidationError(FieldlogError):
    """A field value is not acceptable; ``field`` names it (for forms)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class NotFoundError(FieldlogError):
    """No record matches an id or prefix."""


class AmbiguousIdError(FieldlogError):
    """An id prefix matches more than one record."""

    def __init__(self, message: str, matches: list[str]) -> None:
        super().__init__(message)
        self.matches = matches


class StorageError(FieldlogError):
    """The log file cannot be opened or written (not a log, locked, read-only, too new)."""


class SettingError(FieldlogError):
    """A setting is unusable: an environment variable or a line of ``config.toml``."""
