"""TEMP-SHIM issue 9: moved to :mod:`fieldlog.db.remotes` (``types`` and ``factory``)."""

from fieldlog.db.remotes.factory import *  # noqa: F401,F403  TEMP-SHIM issue 9
from fieldlog.db.remotes.types import *  # noqa: F401,F403  TEMP-SHIM issue 9
