"""The Python reference for the export's local times: what the SQL of
``Exports.sql_local_iso`` must write for a stored UTC time, and its inverse. No code in
fieldlog/ needs them (the export converts times in SQL and in ``fieldlog.export.lines``), so
they live with the tests that compare the two."""

from __future__ import annotations

from datetime import UTC, datetime

from fieldlog import dates


def local_iso(stored_utc_text: str) -> str:
    """A stored UTC time (``2026-11-25T22:11:15.975Z``) as exported: local ISO 8601 with the
    offset in force at that instant (``2026-11-25T16:11:15.975-06:00``); milliseconds are kept
    when the stored text has a fraction. Inverse: :func:`stored_utc`."""
    dt = dates.from_storage(stored_utc_text).astimezone()
    return dt.isoformat(timespec="milliseconds" if "." in stored_utc_text else "seconds")


def stored_utc(local_iso_text: str) -> str:
    """The inverse of :func:`local_iso`: an exported time back to the stored UTC text."""
    dt = datetime.fromisoformat(local_iso_text)
    if dt.tzinfo is None:
        dt = dates.localize(dt)
    dt = dt.astimezone(UTC)
    if "." in local_iso_text:
        return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")
