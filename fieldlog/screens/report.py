"""TEMP-SHIM issue 9: moved to fieldlog.tui.screens.report."""

from fieldlog.tui.screens.report import *  # noqa: F401,F403  TEMP-SHIM issue 9
