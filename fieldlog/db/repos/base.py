"""What every record table shares: ids (full from a prefix, shortest unique prefix), reading a
record or a whole table, earlier values for autocompletion, and reading typed dates.

``store.records`` is a :class:`Records`; the per-type repositories use it. Nouns and the
command named in "no such id" messages come from the record registry.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from fieldlog import dates, ids, models, records
from fieldlog.errors import AmbiguousIdError, NotFoundError, ValidationError

if TYPE_CHECKING:
    from fieldlog.db.store import Store

Row = dict[str, Any]
Rows = list[Row]  # (repositories have a ``list`` method: this name keeps the builtin)
NO_DATE = models.NO_DATE


def _unique_prefix(full: str, neighbours: list[str]) -> str:
    """The shortest prefix of ``full`` (``ids.SHORT_LEN`` or more) that none of its
    neighbours in id order shares (then no other id of the table does)."""
    n = ids.SHORT_LEN
    for other in neighbours:
        common = 0
        for a, b in zip(full, other, strict=False):
            if a != b:
                break
            common += 1
        n = max(n, common + 1)
    return full[:n]


def when(value: Any, field: str) -> str:
    """A time as typed (words, a ``When``, a datetime) as stored UTC text."""
    if isinstance(value, dates.When):
        return dates.to_storage(value.at)
    if hasattr(value, "tzinfo"):
        return dates.to_storage(value)
    return dates.to_storage(dates.parse_when(str(value), field=field).at)


def day(value: Any, field: str) -> str | None:
    """A local day as typed (``NO_DATE`` words clear it)."""
    if value is None or str(value).strip().lower() in NO_DATE:
        return None
    return dates.parse_day(str(value), future=True, field=field)


def parent_column(table: str) -> str:
    """The column of a child table that holds its parent's id (registry: ``parent``)."""
    parent = records.get(table).parent
    if parent is None:
        raise ValueError(f"{table} has no parent")
    return parent[1]


# Earlier values people typed, per suggestion field: (SELECT v, n) with n how often it is used.
_SUGGESTIONS = {
    "neighborhood": "SELECT neighborhood AS v, count(*) AS n FROM contacts WHERE "
    "deleted = 0 AND neighborhood IS NOT NULL GROUP BY neighborhood",
    "beat": "SELECT beat AS v, count(*) AS n FROM contacts WHERE deleted = 0 "
    "AND beat IS NOT NULL GROUP BY beat",
    "location": "SELECT location AS v, count(*) AS n FROM contacts WHERE deleted = 0 "
    "AND location IS NOT NULL GROUP BY location",
    "person_name": "SELECT person_name AS v, count(*) AS n FROM contacts WHERE "
    "deleted = 0 AND person_name IS NOT NULL GROUP BY person_name",
    "tag": "SELECT j.value AS v, count(*) AS n FROM contacts c, json_each(c.tags) j "
    "WHERE c.deleted = 0 GROUP BY j.value",
    "organization": "SELECT name AS v, 0 AS n FROM organizations WHERE deleted = 0",
    "agency": "SELECT agency AS v, count(*) AS n FROM referrals WHERE deleted = 0 "
    "GROUP BY agency UNION ALL SELECT name, 0 FROM organizations WHERE deleted = 0",
}


class Records:
    """Id lookups and plain reads over any record table (``store.records``)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def resolve(self, table: str, ref: str) -> str:
        """A full id from a unique prefix (6+ characters) of a live record."""
        rtype = records.get(table)
        prefix = ids.normalize_prefix(ref)
        if len(prefix) < ids.MIN_PREFIX:
            raise ValidationError(
                "id", f"The id '{ref}' is too short: give at least {ids.MIN_PREFIX} characters."
            )
        hits = []
        if ids.is_hex(prefix):
            hits = self.store.query(
                f"SELECT id FROM {table} WHERE id >= ? AND id < ? AND deleted = 0 "
                "ORDER BY id LIMIT 11",
                [prefix, prefix + "g"],
            )
        if not hits:
            raise NotFoundError(
                f"No {rtype.noun} has an id starting with '{ref}': check the id "
                f"(fieldlog {rtype.list_cmd} shows them)."
            )
        if len(hits) > 1:
            matches = [h["id"] for h in hits]
            shown = ", ".join(self.short_id(table, m) for m in matches[:10])
            more = " and more" if len(matches) > 10 else ""
            raise AmbiguousIdError(
                f"The id '{ref}' matches {len(matches)}{'+' if more else ''} {rtype.noun}s "
                f"({shown}{more}): type more characters.",
                matches,
            )
        return str(hits[0]["id"])

    def short_id(self, table: str, full: str) -> str:
        """The shortest prefix (ids.SHORT_LEN or more) that no other record of the table shares."""
        neighbours = self.store.query(
            f"SELECT id FROM (SELECT id FROM {table} WHERE id < ? ORDER BY id DESC LIMIT 1) "
            f"UNION ALL SELECT id FROM (SELECT id FROM {table} WHERE id > ? ORDER BY id LIMIT 1)",
            [full, full],
        )
        return _unique_prefix(full, [r["id"] for r in neighbours])

    def short_ids(self, table: str, fulls: list[str]) -> dict[str, str]:
        """``short_id`` of each of ``fulls``, in one statement (each id's two neighbours read
        from the id index): a list of 50 rows costs one query, not 50, which matters most in
        a TUI worker, where each statement also waits for the UI thread's GIL."""
        if not fulls:
            return {}
        found = self.store.query(
            f"SELECT j.value AS id, (SELECT max(id) FROM {table} WHERE id < j.value) AS prev, "
            f"(SELECT min(id) FROM {table} WHERE id > j.value) AS next FROM json_each(?) j",
            [json.dumps(fulls)],
        )
        return {
            r["id"]: _unique_prefix(r["id"], [o for o in (r["prev"], r["next"]) if o is not None])
            for r in found
        }

    def with_short_ids(self, table: str, rows: list[Row]) -> list[Row]:
        """``rows`` with each one's ``short_id`` (what the shells show and accept)."""
        short = self.short_ids(table, [r["id"] for r in rows])
        for r in rows:
            r["short_id"] = short[r["id"]]
        return rows

    def get(self, table: str, ref: str) -> Row:
        """One record (live, by id prefix) as stored, with its short id."""
        rid = self.resolve(table, ref)
        rows = self.store.query(f"SELECT * FROM {table} WHERE id = ?", [rid])
        return self.with_short_ids(table, rows)[0]

    def iter_rows(self, table: str, *, batch: int = 2000) -> Iterator[Row]:
        """Every live row of a table in id order, read in batches (constant memory)."""
        if table not in records.TABLE_FIELDS:
            raise ValueError(table)
        last = ""
        while True:
            rows = self.store.query(
                f"SELECT * FROM {table} WHERE id > ? AND deleted = 0 ORDER BY id LIMIT {batch}",
                [last],
            )
            yield from rows
            if len(rows) < batch:
                return
            last = rows[-1]["id"]

    def count_of(self, sql: str, params: list[Any] | tuple[Any, ...] = ()) -> int:
        """How many rows a listing's query (without its LIMIT) returns: a list cut at
        ``--limit`` says "Showing 100 of 700", and nothing is cut silently."""
        return int(self.store.scalar(f"SELECT count(*) FROM ({sql})", list(params)) or 0)

    def suggestions(self, field: str, *, limit: int = 200) -> list[str]:
        """Earlier values people typed, most used first: ``neighborhood``, ``beat``,
        ``location``, ``person_name``, ``tag``, ``organization`` or ``agency``."""
        sql = _SUGGESTIONS.get(field)
        if sql is None:
            raise ValueError(f"no suggestions for {field}")
        rows = self.store.query(
            f"SELECT v, sum(n) AS n FROM ({sql}) GROUP BY v ORDER BY n DESC, v "
            f"LIMIT {int(limit) * 2}"
        )
        # Eastside / eastside / "East  side" are one name: offer its most used spelling once.
        from fieldlog.db.spellings import fold

        seen: dict[str, str] = {}
        for r in rows:
            seen.setdefault(fold(r["v"]), r["v"])
        return list(seen.values())[:limit]
