"""TEMP-SHIM issue 9: moved to fieldlog.tui.dialogs (confirm.py, choice.py, text.py)."""

from fieldlog.tui.dialogs.choice import *  # noqa: F401,F403  TEMP-SHIM issue 9
from fieldlog.tui.dialogs.confirm import *  # noqa: F401,F403  TEMP-SHIM issue 9
from fieldlog.tui.dialogs.text import *  # noqa: F401,F403  TEMP-SHIM issue 9
