"""TEMP-SHIM issue 9: moved to fieldlog.tui.dialogs.export."""

from fieldlog.tui.dialogs.export import *  # noqa: F401,F403  TEMP-SHIM issue 9
