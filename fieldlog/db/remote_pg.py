"""TEMP-SHIM issue 9: moved to :mod:`fieldlog.db.remotes.postgres`.

The old name is made the same module object, not a copy, so a test that monkeypatches a
constant here (``LOCK_TIMEOUT``) changes the one the backend reads.
"""

import sys

from fieldlog.db.remotes import postgres as _moved
from fieldlog.db.remotes.postgres import *  # noqa: F401,F403  TEMP-SHIM issue 9

sys.modules[__name__] = _moved  # TEMP-SHIM issue 9
