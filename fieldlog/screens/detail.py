"""TEMP-SHIM issue 9: moved to fieldlog.tui.screens.detail."""

from fieldlog.tui.screens.detail import *  # noqa: F401,F403  TEMP-SHIM issue 9
