"""TEMP-SHIM issue 9: moved to fieldlog.tui.base, fieldlog.tui.widgets.cells."""

from fieldlog.tui.base import *  # noqa: F401,F403  TEMP-SHIM issue 9
from fieldlog.tui.widgets.cells import *  # noqa: F401,F403  TEMP-SHIM issue 9
