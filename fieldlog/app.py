"""TEMP-SHIM issue 9: the app moved to fieldlog.tui.app; this keeps the old import path."""

from fieldlog.tui.app import *  # noqa: F401,F403  TEMP-SHIM issue 9
from fieldlog.tui.app import NAV_ACTIONS, FieldlogApp, make_app  # noqa: F401,F403  TEMP-SHIM issue 9
