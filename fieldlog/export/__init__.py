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
- :mod:`~fieldlog.export.redact`: ``--redact``, what each column becomes;
- :mod:`~fieldlog.export.scrub`: names, phones, e-mails found in text (with
  :mod:`~fieldlog.export.matching`, the folding and patterns, and
  :mod:`~fieldlog.export.words`, the honorifics and common words);
- :mod:`~fieldlog.export.table`: one table to a stream (:func:`write_table`);
- :mod:`~fieldlog.export.files`: a file written whole or not at all, ``export all``;
- :mod:`~fieldlog.export.sheet`: a partner's referral sheet (``fieldlog referral sheet``), and
  its layout, which :mod:`fieldlog.importer.returned` reads back.

Callers import from here (``from fieldlog import export``); the modules are the layout.
"""

from __future__ import annotations

from fieldlog.export.columns import COLUMNS, CONTACT_COLUMNS, FLAT_COLUMNS, TABLES
from fieldlog.export.files import atomic_text, export_all
from fieldlog.export.lines import neutralise
from fieldlog.export.redact import (
    BLANKED_FIELDS,
    FREE_TEXT_FIELDS,
    ID_FIELDS,
    KEPT_FIELDS,
    NAME_FIELDS,
    NAME_MARK,
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
    "ID_FIELDS",
    "KEPT_FIELDS",
    "NAME_FIELDS",
    "NAME_MARK",
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
