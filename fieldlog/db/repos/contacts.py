"""Contacts (``store.contacts``): the log's main record; concerns and referrals belong to one."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from fieldlog import dates, models, records
from fieldlog.db.repos.base import Row, Rows, day, parent_column, when

if TYPE_CHECKING:
    from fieldlog.db.store import Store

TABLE = "contacts"
# What a review list shows of each contact (store.contacts.reviews; the same keys as the
# department store's list, fieldlog.remote_review).
REVIEW_COLUMNS = (
    "c.id, c.occurred_at, c.officer, c.summary, c.neighborhood, c.review_status, "
    "c.review_comment, c.reviewed_by, c.reviewed_at"
)
Where = list[str]  # WHERE terms (the class's ``list`` method hides the builtin in it)
Params = list[Any]


class Contacts:
    def __init__(self, store: Store) -> None:
        self.store = store

    def values(self, values: Mapping[str, Any], *, partial: bool) -> dict[str, Any]:
        """A contact as typed, cleaned: the partner by name or id, dates read, and for a new
        one the time "now" and the officer's default neighborhood."""
        vals = dict(values)
        org_ref = vals.pop("organization", None)
        if org_ref is not None:
            vals["organization_id"] = self.store.orgs.id_of(org_ref)
        if "occurred_at" in vals:
            vals["occurred_at"] = when(vals["occurred_at"], "date")
        if "follow_up_on" in vals:
            vals["follow_up_on"] = day(vals["follow_up_on"], "follow-up")
        clean = records.clean(TABLE, vals, partial=partial)
        if clean.get("neighborhood"):  # the log's own spelling of a name typed in another case
            from fieldlog.db.spellings import stored_spelling

            clean["neighborhood"] = stored_spelling(self.store, clean["neighborhood"])
        if not partial:
            clean.setdefault("occurred_at", dates.to_storage(dates.now()))
            if not clean.get("neighborhood"):
                hood = self.store.default_hood()
                if hood:
                    clean["neighborhood"] = hood
        return clean

    def add(
        self,
        values: Mapping[str, Any],
        concerns: Iterable[Mapping[str, Any]] = (),
        referrals: Iterable[Mapping[str, Any]] = (),
    ) -> str:
        """A contact with its concerns and referrals, in one transaction; returns its id."""
        return self.store.entries.save(values, concerns, referrals)

    def update(self, ref: str, values: Mapping[str, Any]) -> Row:
        rid = self.store.records.resolve(TABLE, ref)
        clean = self.values(values, partial=True)
        with self.store.write() as tx:
            tx.update(TABLE, rid, clean)
        return self.get(rid)

    # ------------------------------------------------------------------ review
    def review(self, ref: str, values: Mapping[str, Any]) -> Row:
        """Write a review (:func:`fieldlog.review.approve_values` or ``return_values``) to a
        contact: one write of the review fields only, audited and synced like any edit.
        Whether this laptop may review is the caller's check (:func:`fieldlog.review.
        may_review`)."""
        (rid,) = self.review_all([ref], values)
        return self.get(rid)

    def review_all(self, refs: Sequence[str], values: Mapping[str, Any]) -> list[str]:
        """The same review written to several contacts in one transaction (every id is
        resolved first: a wrong one writes nothing); returns their ids."""
        from fieldlog import review

        review.check_review(values)
        rids = list(dict.fromkeys(self.store.records.resolve(TABLE, ref) for ref in refs))
        clean = records.clean(TABLE, values, partial=True)
        with self.store.write() as tx:
            for rid in rids:
                tx.update(TABLE, rid, clean)
        return rids

    def reviews(self, status: str | None = None, officer: str | None = None) -> Rows:
        """Live contacts with their review state, oldest first (the order a supervisor works
        through them): ``status`` one of the review statuses, ``officer`` any case. Each row
        holds ``REVIEW_COLUMNS`` and its ``short_id``."""
        return self._reviews(REVIEW_COLUMNS, status, officer)

    def _reviews(self, columns: str, status: str | None, officer: str | None) -> Rows:
        where: Where = ["c.deleted = 0"]
        params: Params = []
        if status:  # a vocabulary word, spliced in: the partial index of returned ones
            word = models.choice("status", status, models.REVIEW_STATUSES)
            where.append(f"c.review_status = '{word}'")
        if officer:
            where.append("c.officer = ? COLLATE NOCASE")
            params.append(officer.strip())
        rows = self.store.query(
            f"SELECT {columns} FROM contacts c WHERE {' AND '.join(where)} "
            "ORDER BY c.occurred_at, c.id",
            params,
        )
        return self.store.records.with_short_ids(TABLE, rows)

    def returned(self, *, everyone: bool = False) -> Rows:
        """The live contacts a supervisor returned, with the comment, oldest first: this
        laptop's officer's (what they have to fix; ``fieldlog followups`` and the dashboard),
        or ``everyone``'s."""
        officer = None if everyone else self.store.officer()
        columns = f"{REVIEW_COLUMNS}, c.person_name, c.follow_up_on"
        return self._reviews(columns, "returned", officer)

    def delete(self, ref: str) -> str:
        """Tombstone a contact with the records that belong to it (its concerns, referrals)."""
        rid = self.store.records.resolve(TABLE, ref)
        with self.store.write() as tx:
            for table in records.children(TABLE):
                for child in self.store.query(
                    f"SELECT id FROM {table} WHERE {parent_column(table)} = ? AND deleted = 0",
                    [rid],
                ):
                    tx.tombstone(table, child["id"])
            tx.tombstone(TABLE, rid)
        return rid

    def get(self, ref: str) -> Row:
        """A contact with its partner's name and its live concerns and referrals."""
        rec = self.store.records
        rid = rec.resolve(TABLE, ref)
        rows = self.store.query(
            "SELECT c.*, o.name AS organization_name FROM contacts c "
            "LEFT JOIN organizations o ON o.id = c.organization_id WHERE c.id = ?",
            [rid],
        )
        contact = rec.with_short_ids(TABLE, rows)[0]
        for table in records.children(TABLE):
            sql = f"SELECT * FROM {table} WHERE {parent_column(table)} = ? AND deleted = 0"
            contact[table] = rec.with_short_ids(
                table, self.store.query(f"{sql} ORDER BY id", [rid])
            )
        return contact

    def list(
        self,
        *,
        since: str | None = None,
        until: str | None = None,
        hood: str | None = None,
        officer: str | None = None,
        tag: str | None = None,
        kind: str | None = None,
        query: str | None = None,
        limit: int | None = 50,
        offset: int = 0,
        ids: Sequence[str] | None = None,
    ) -> Rows:
        """Contacts, newest first, with their concern and referral counts. ``ids``: only
        these contacts (a list re-reading the rows it shows, e.g. one just edited)."""
        where, params = self.filters(
            since=since, until=until, hood=hood, officer=officer, tag=tag, kind=kind
        )
        if ids is not None:
            where.append(f"c.id IN ({', '.join('?' * len(ids)) or 'NULL'})")
            params.extend(ids)
        if query and query.strip():
            where.append(
                "c.id IN (SELECT contact_id FROM search_hits WHERE contact_id IS NOT NULL)"
            )
        counts = "".join(
            f"(SELECT count(*) FROM {t} x WHERE x.{parent_column(t)} = c.id "
            f"AND x.deleted = 0) AS {records.get(t).noun}_count, "
            for t in records.children(TABLE)
        )
        sql = (
            f"SELECT c.*, o.name AS organization_name, {counts.removesuffix(', ')} "
            "FROM contacts c LEFT JOIN organizations o ON o.id = c.organization_id "
            f"WHERE {' AND '.join(where)} ORDER BY c.occurred_at DESC, c.id DESC"
        )
        if limit:
            sql += f" LIMIT {int(limit)} OFFSET {int(offset)}"
        if query and query.strip():
            from fieldlog.db.search import fts_query, hits_sql

            sql = f"WITH search_hits AS ({hits_sql()}) {sql}"
            params = [fts_query(query)] * len(records.FTS_COLUMNS) + params
        return self.store.records.with_short_ids(TABLE, self.store.query(sql, params))

    def filters(
        self,
        *,
        since: str | None = None,
        until: str | None = None,
        hood: str | None = None,
        officer: str | None = None,
        tag: str | None = None,
        kind: str | None = None,
        alias: str = "c",
    ) -> tuple[Where, Params]:
        """The WHERE terms (over contacts as ``alias``) and their parameters for the list's
        filters: :meth:`list` and the ranked search (``store.search.ranked``) narrow the same
        way, so the filter bar means one thing on both."""
        c = alias
        where: Where = [f"{c}.deleted = 0"]
        params: Params = []
        if since:
            where.append(f"{c}.occurred_at >= ?")
            params.append(dates.to_storage(dates.parse_when(since, field="since").at))
        if until:
            where.append(f"{c}.occurred_at < ?")
            params.append(dates.to_storage(dates.parse_when(until, field="until").end()))
        if hood:  # any spelling of the name (Eastside, EASTSIDE, "East  side"), by the index
            from fieldlog.db.spellings import matching

            names = matching(self.store, hood)
            where.append(f"{c}.neighborhood IN ({', '.join('?' * len(names))})" if names else "0")
            params.extend(names)
        if officer:
            where.append(f"{c}.officer = ? COLLATE NOCASE")
            params.append(officer.strip())
        if tag:  # tags are stored in lower case; NOCASE also matches an older or synced one
            where.append(
                f"EXISTS (SELECT 1 FROM json_each({c}.tags) WHERE value = ? COLLATE NOCASE)"
            )
            params.append(next(iter(models.tag_list([tag])), tag))
        if kind:
            where.append(f"{c}.kind = ?")
            params.append(models.choice("kind", kind, models.CONTACT_KINDS))
        return where, params

    def count(
        self,
        *,
        since: str | None = None,
        until: str | None = None,
        hood: str | None = None,
        officer: str | None = None,
        tag: str | None = None,
        kind: str | None = None,
    ) -> int:
        """Live contacts (the start screen, the demo's "fresh log" test), or those that
        :meth:`list` with the same filters shows: "Showing 50 of 700" under a list."""
        where, params = self.filters(
            since=since, until=until, hood=hood, officer=officer, tag=tag, kind=kind
        )
        sql = f"SELECT count(*) FROM contacts c WHERE {' AND '.join(where)}"
        return int(self.store.scalar(sql, params) or 0)
