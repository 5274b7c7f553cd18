"""TEMP-SHIM issue 9: moved to fieldlog.tui.screens.login."""

from fieldlog.tui.screens.login import *  # noqa: F401,F403  TEMP-SHIM issue 9
