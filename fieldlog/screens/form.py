"""TEMP-SHIM issue 9: the form moved to fieldlog.tui (screens/form.py, form_fields.py,
drafts.py; dialogs/item.py, concern.py, referral.py, restore.py; widgets/)."""

from fieldlog.tui.dialogs.concern import *  # noqa: F401,F403  TEMP-SHIM issue 9
from fieldlog.tui.dialogs.item import *  # noqa: F401,F403  TEMP-SHIM issue 9
from fieldlog.tui.dialogs.referral import *  # noqa: F401,F403  TEMP-SHIM issue 9
from fieldlog.tui.dialogs.restore import *  # noqa: F401,F403  TEMP-SHIM issue 9
from fieldlog.tui.screens.drafts import *  # noqa: F401,F403  TEMP-SHIM issue 9
from fieldlog.tui.screens.drafts import _offer_next  # noqa: F401,F403  TEMP-SHIM issue 9
from fieldlog.tui.screens.form import *  # noqa: F401,F403  TEMP-SHIM issue 9
from fieldlog.tui.screens.form_fields import *  # noqa: F401,F403  TEMP-SHIM issue 9
from fieldlog.tui.widgets.cells import *  # noqa: F401,F403  TEMP-SHIM issue 9
from fieldlog.tui.widgets.items import *  # noqa: F401,F403  TEMP-SHIM issue 9
from fieldlog.tui.widgets.selects import *  # noqa: F401,F403  TEMP-SHIM issue 9
from fieldlog.tui.widgets.suggest import *  # noqa: F401,F403  TEMP-SHIM issue 9
