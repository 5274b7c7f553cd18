"""TEMP-SHIM issue 9: the old module name of :mod:`fieldlog.cli.audit` (tests/store/test_purge.py
monkeypatches ``cli_audit._interactive``, so this is the same module object, not a copy)."""

import sys

from fieldlog.cli import audit

sys.modules[__name__] = audit  # TEMP-SHIM issue 9
