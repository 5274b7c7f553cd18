"""TEMP-SHIM issue 9: moved to fieldlog.tui.screens.help."""

from fieldlog.tui.screens.help import *  # noqa: F401,F403  TEMP-SHIM issue 9
from fieldlog.tui.screens.help import _bindings, _keys  # noqa: F401,F403  TEMP-SHIM issue 9
