"""TEMP-SHIM issue 9: moved to fieldlog.tui.screens.dashboard."""

from fieldlog.tui.screens.dashboard import *  # noqa: F401,F403  TEMP-SHIM issue 9
