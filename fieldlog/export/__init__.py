"""CSV exports (RFC 4180, UTF-8, header row), streamed from the store in constant memory.

Tables: contacts, concerns, referrals, organizations, and ``flat`` (one row per concern and per
referral with its contact's date, officer, neighborhood, kind and summary). See docs/export.md.

Spreadsheets run a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
as a formula (CSV injection, OWASP), and a field log holds text that strangers said. So such
cells get a leading ``'`` unless ``raw=True`` asks for the stored text unchanged
(:data:`fieldlog.models.FORMULA_PREFIXES`).

The package, by what each part does:

- :mod:`~fieldlog.export.columns`: the columns of each table (from the record registry);
- :mod:`~fieldlog.export.lines`: stored rows to CSV text (quoting, neutralising, local times);
- :mod:`~fieldlog.export.split`: one table shared by two processes;
- :mod:`~fieldlog.export.redact`: ``--redact``;
- :mod:`~fieldlog.export.table`: one table to a stream (:func:`write_table`);
- :mod:`~fieldlog.export.files`: a file written whole or not at all, ``export all``.

Callers import from here (``from fieldlog import export``); the modules are the layout.
"""

from __future__ import annotations

from typing import Any

from fieldlog.export.columns import COLUMNS, CONTACT_COLUMNS, FLAT_COLUMNS, TABLES
from fieldlog.export.files import atomic_text, export_all
from fieldlog.export.lines import neutralise
from fieldlog.export.redact import (
    BLANKED_FIELDS,
    FREE_TEXT_FIELDS,
    NAME_FIELDS,
    REDACTED,
    Redactor,
)
from fieldlog.export.table import (
    BOM,
    EXPORT_CHUNKS,
    PROGRESS_EVERY,
    export_contacts_csv,
    write_table,
)
from fieldlog.models import FORMULA_PREFIXES

__all__ = [
    "BLANKED_FIELDS",
    "BOM",
    "COLUMNS",
    "CONTACT_COLUMNS",
    "EXPORT_CHUNKS",
    "FLAT_COLUMNS",
    "FORMULA_PREFIXES",
    "FREE_TEXT_FIELDS",
    "NAME_FIELDS",
    "PROGRESS_EVERY",
    "REDACTED",
    "TABLES",
    "Redactor",
    "atomic_text",
    "export_all",
    "export_contacts_csv",
    "neutralise",
    "write_table",
]

# TEMP-SHIM issue 9: local_iso and stored_utc are the tests' Python reference for the SQL's
# local times, used by no code in fieldlog/, so they moved to tests/lib/export_helpers.py.
# tests/cli/test_export.py still imports them from here until the lead rewrites that import.
_MOVED_TO_TESTS = frozenset({"local_iso", "stored_utc"})


def __getattr__(name: str) -> Any:  # TEMP-SHIM issue 9
    if name in _MOVED_TO_TESTS:
        try:
            from tests.lib import export_helpers  # TEMP-SHIM issue 9 (only tests ask for these)
        except ImportError as exc:  # outside the repository: as if the name never existed
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from exc
        return getattr(export_helpers, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
