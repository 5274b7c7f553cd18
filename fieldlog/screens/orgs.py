"""TEMP-SHIM issue 9: moved to fieldlog.tui.screens.orgs, fieldlog.tui.dialogs.org_form."""

from fieldlog.tui.dialogs.org_form import *  # noqa: F401,F403  TEMP-SHIM issue 9
from fieldlog.tui.screens.orgs import *  # noqa: F401,F403  TEMP-SHIM issue 9
