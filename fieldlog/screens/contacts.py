"""TEMP-SHIM issue 9: moved to fieldlog.tui.screens.contacts."""

from fieldlog.tui.screens.contacts import *  # noqa: F401,F403  TEMP-SHIM issue 9
