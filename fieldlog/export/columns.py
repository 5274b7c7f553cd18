"""The columns of each export, from the record registry, and the table names it accepts.

The names are stable: scripts, spreadsheets and ``fieldlog import`` depend on them (the
importer reads them from here, so both directions share one definition).
"""

from __future__ import annotations

from fieldlog import records
from fieldlog.errors import FieldlogError

# Stable column names, per table: scripts, spreadsheets and ``fieldlog import`` depend on them.
FLAT_COLUMNS = (
    "record_type", "record_id", "contact_id", "occurred_at", "officer", "neighborhood",
    "kind", "summary", "category", "priority", "status", "description", "agency", "service",
    "reason", "follow_up_on", "outcome", "resolved_at",
)  # fmt: skip
COLUMNS: dict[str, tuple[str, ...]] = {
    **{t: r.export_columns for t, r in records.REGISTRY.items()},
    "flat": FLAT_COLUMNS,  # one row per concern or referral with its contact: a view, not a table
}
CONTACT_COLUMNS = COLUMNS["contacts"]
TABLES = tuple(COLUMNS)  # what ``fieldlog export TABLE`` accepts, besides "all"


def check_table(table: str) -> None:
    """Raise the message a person reads for a table name the export does not know."""
    if table not in COLUMNS and table != "all":
        raise FieldlogError(f"Unknown table '{table}': use one of {', '.join((*TABLES, 'all'))}.")
