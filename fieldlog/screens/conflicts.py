"""TEMP-SHIM issue 9: moved to fieldlog.tui.screens.conflicts."""

from fieldlog.tui.screens.conflicts import *  # noqa: F401,F403  TEMP-SHIM issue 9
