"""TEMP-SHIM issue 9: moved to fieldlog.tui.screens.followups, fieldlog.tui.dialogs.date."""

from fieldlog.tui.dialogs.date import *  # noqa: F401,F403  TEMP-SHIM issue 9
from fieldlog.tui.screens.followups import *  # noqa: F401,F403  TEMP-SHIM issue 9
