"""Partner organizations (``store.orgs``): found by name as often as by id.

Every partner read here carries its upkeep figures (docs/partners.md), computed in SQL in the
same query as the partners themselves: one pass over the contacts and one over the referrals
that name a partner, grouped by partner (indexes ``contacts_org`` and ``referrals_org``), never
a query per partner.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from fieldlog import dates, ids, models, records
from fieldlog.db.repos.base import Row, Rows
from fieldlog.errors import NotFoundError, ValidationError

if TYPE_CHECKING:
    from fieldlog.db.store import Store

TABLE = "organizations"
RECENT_DAYS = 90  # "contacts and referrals in the last 90 days"
VERIFIED_DAYS = 365  # details checked within a year count as verified
_OPEN = ", ".join(f"'{s}'" for s in models.REFERRAL_OPEN_STATUSES)


def _upkeep_sql(one: bool) -> str:
    """Partners with their upkeep figures. Parameters, in order: the day from which a
    verification counts, the stamp from which a contact or referral is recent (twice), and
    with ``one`` the partner's id (three times: each grouped pass reads only its rows)."""
    only = " AND organization_id = ?" if one else ""
    only_r = " AND r.organization_id = ?" if one else ""
    return (
        "SELECT o.*, coalesce(rs.referral_count, 0) AS referral_count, "
        "cs.last_contact_at AS last_contact_at, "
        "coalesce(cs.recent, 0) AS contacts_90d, "
        "coalesce(rr.recent, 0) AS referrals_90d, "
        "coalesce(rs.open, 0) AS open_referrals, "
        "coalesce(o.last_verified >= ?, 0) AS verified_within_year "
        "FROM organizations o "
        "LEFT JOIN (SELECT organization_id, max(occurred_at) AS last_contact_at, "
        "sum(occurred_at >= ?) AS recent FROM contacts "
        f"WHERE deleted = 0 AND organization_id IS NOT NULL{only} GROUP BY organization_id"
        ") cs ON cs.organization_id = o.id "
        # A referral is as recent as the contact it was made at (typed later, imported...):
        # the recent contacts (index contacts_live), then their referrals (referrals_contact).
        # (CROSS JOIN keeps that order; + keeps the partner index out of it.)
        "LEFT JOIN (SELECT r.organization_id, count(*) AS recent FROM contacts k "
        "CROSS JOIN referrals r ON r.contact_id = k.id WHERE k.deleted = 0 "
        f"AND k.occurred_at >= ? AND r.deleted = 0 AND +r.organization_id IS NOT NULL{only_r} "
        "GROUP BY r.organization_id) rr ON rr.organization_id = o.id "
        "LEFT JOIN (SELECT r.organization_id, count(*) AS referral_count, "
        f"sum(r.status IN ({_OPEN})) AS open FROM referrals r "
        f"WHERE r.deleted = 0 AND r.organization_id IS NOT NULL{only_r} "
        "GROUP BY r.organization_id) rs ON rs.organization_id = o.id"
    )


def upkeep_params(today: date | None = None) -> list[str]:
    """The window parameters of :func:`_upkeep_sql`: a year of verification (local days), 90
    days of contacts (UTC stamps, as stored)."""
    today = today or dates.now_local().date()
    verified_since = (today - timedelta(days=VERIFIED_DAYS)).isoformat()
    recent = dates.to_storage(dates.now() - timedelta(days=RECENT_DAYS))
    return [verified_since, recent, recent]


def _figures(rows: Rows) -> Rows:
    for r in rows:
        r["verified_within_year"] = bool(r["verified_within_year"])
    return rows


class Organizations:
    """The partner directory. Names are unique (any case): officers type them."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def find(self, ref: str) -> Row | None:
        """A partner by exact name (any case) or id prefix; None when nothing matches."""
        rows = self.store.query(
            "SELECT * FROM organizations WHERE deleted = 0 AND name = ? COLLATE NOCASE "
            "ORDER BY created_at LIMIT 1",
            [ref.strip()],
        )
        if rows:
            return rows[0]
        prefix = ids.normalize_prefix(ref)
        if len(prefix) >= ids.MIN_PREFIX and ids.is_hex(prefix):
            try:
                return self.store.records.get(TABLE, ref)
            except NotFoundError:
                return None
        return None

    def names(self) -> Rows:
        """Every live partner's ``id`` and ``name``, oldest first (for "did you mean")."""
        return self.store.query(
            "SELECT id, name FROM organizations WHERE deleted = 0 ORDER BY created_at, id"
        )

    def id_of(self, ref: str | None) -> str | None:
        """The id of the partner named or numbered ``ref`` (None for no partner given)."""
        if ref is None or not str(ref).strip():
            return None
        org = self.find(str(ref))
        if org is None:
            raise NotFoundError(
                f"No partner organization is named or numbered '{ref}': add it with "
                "'fieldlog org add', or see 'fieldlog org list'."
            )
        return str(org["id"])

    def resolve(self, ref: str) -> str:
        """A partner by name (any case) or id prefix; ambiguous prefixes still say so."""
        org = self.find(ref)
        if org is not None:
            return str(org["id"])
        prefix = ids.normalize_prefix(ref)
        if len(prefix) >= ids.MIN_PREFIX and ids.is_hex(prefix):
            return self.store.records.resolve(TABLE, ref)
        return self.id_of(ref)  # type: ignore[return-value]  # raises "no partner is named"

    def add(self, **values: Any) -> str:
        clean = records.clean(TABLE, values)
        if self.find(clean["name"]) is not None:
            raise ValidationError(
                "name",
                f"A partner named '{clean['name']}' is already in the directory: edit it with "
                "'fieldlog org edit'.",
            )
        clean.setdefault("last_verified", dates.today_local())
        with self.store.write() as tx:
            return tx.insert(TABLE, clean)

    def update(self, ref: str, **values: Any) -> Row:
        rid = self.resolve(ref)
        clean = records.clean(TABLE, values, partial=True)
        if "name" in clean:
            other = self.find(clean["name"])
            if other is not None and other["id"] != rid:
                raise ValidationError(
                    "name", f"Another partner is already named '{clean['name']}'."
                )
        with self.store.write() as tx:
            tx.update(TABLE, rid, clean)
        return self.get(rid)

    def get(self, ref: str) -> Row:
        """One partner with its upkeep figures (the number of live referrals made to it,
        last contact, contacts and referrals of the last 90 days, open referrals, verified
        within a year)."""
        rid = self.resolve(ref)
        params = upkeep_params()
        rows = self.store.query(
            f"{_upkeep_sql(True)} WHERE o.id = ?",
            [params[0], params[1], rid, params[2], rid, rid, rid],
        )
        return self.store.records.with_short_ids(TABLE, _figures(rows))[0]

    def _listing(self, **filters: str | None) -> tuple[str, list[Any]]:
        """The query of :meth:`list` (by name, no limit)."""
        where, params = self._where(**filters)
        sql = f"{_upkeep_sql(False)} WHERE {where} ORDER BY o.name COLLATE NOCASE"
        return sql, [*upkeep_params(), *params]

    def _where(
        self, *, kind: str | None = None, hood: str | None = None, service: str | None = None
    ) -> tuple[str, list[Any]]:
        """The filters of :meth:`list` and :meth:`count` on ``organizations o``."""
        where: list[str] = ["o.deleted = 0"]
        params: list[Any] = []
        if kind:
            where.append("o.kind = ?")
            params.append(models.choice("kind", kind, models.ORG_KINDS))
        if hood:
            where.append("o.neighborhood = ? COLLATE NOCASE")
            params.append(hood.strip())
        if service:
            where.append(
                "EXISTS (SELECT 1 FROM json_each(o.services) WHERE value = ? COLLATE NOCASE)"
            )
            params.append(models.choice("service", service, models.REFERRAL_SERVICES))
        return " AND ".join(where), params

    def list(self, *, limit: int | None = None, **filters: str | None) -> Rows:
        """Partners by name with their upkeep figures, filtered (``kind``, ``hood``,
        ``service``; any case)."""
        sql, params = self._listing(**filters)
        if limit:
            sql += f" LIMIT {int(limit)}"
        return self.store.records.with_short_ids(TABLE, _figures(self.store.query(sql, params)))

    def count(self, **filters: str | None) -> int:
        """How many partners :meth:`list` finds with the same filters, without a limit
        (counted on the partners alone: the upkeep figures' joins add no row, and computing
        them took ~100 ms on 100,000 contacts, at every dashboard load)."""
        where, params = self._where(**filters)
        return self.store.records.count_of(f"SELECT 1 FROM organizations o WHERE {where}", params)

    def cold(self, since: str, *, limit: int | None = None) -> Rows:
        """Active partners not contacted since ``since`` (a UTC stamp, as stored), never
        contacted first, then the longest silent: the relationships about to lapse. Each row
        has the upkeep figures of :meth:`list`."""
        sql = (
            f"{_upkeep_sql(False)} WHERE o.deleted = 0 AND o.status = 'active' "
            "AND (cs.last_contact_at IS NULL OR cs.last_contact_at < ?) "
            "ORDER BY cs.last_contact_at IS NOT NULL, cs.last_contact_at, o.name COLLATE NOCASE"
        )
        if limit:
            sql += f" LIMIT {int(limit)}"
        rows = self.store.query(sql, [*upkeep_params(), since])
        return self.store.records.with_short_ids(TABLE, _figures(rows))

    def count_cold(self, since: str) -> int:
        """How many partners :meth:`cold` finds, without a limit."""
        return int(
            self.store.scalar(
                "SELECT count(*) FROM organizations o WHERE o.deleted = 0 AND o.status = 'active' "
                "AND NOT EXISTS (SELECT 1 FROM contacts c WHERE c.organization_id = o.id "
                "AND c.deleted = 0 AND c.occurred_at >= ?)",
                [since],
            )
            or 0
        )

    def linked(self, rid: str) -> tuple[builtins.list[str], builtins.list[str]]:
        """The ids of the contacts and of the referrals naming partner ``rid`` (tombstoned
        ones too: undone, they must not point at a partner that is gone)."""
        contacts = [
            str(r["id"])
            for r in self.store.query(
                "SELECT id FROM contacts WHERE organization_id = ? ORDER BY id", [rid]
            )
        ]
        referrals = [
            str(r["id"])
            for r in self.store.query(
                "SELECT id FROM referrals WHERE organization_id = ? ORDER BY id", [rid]
            )
        ]
        return contacts, referrals

    def merge(
        self,
        keep: str,
        fold: str,
        values: dict[str, Any],
        contacts: Sequence[str],
        referrals: Sequence[str],
    ) -> None:
        """Write a merge planned by :func:`fieldlog.partners.plan_merge`, in one transaction
        of the one write path: ``keep`` takes ``values``; the ``contacts`` and ``referrals``
        of ``fold`` point at ``keep`` (a referral takes its name as agency); ``fold`` is
        tombstoned. Every change is stamped field by field, synced and audited."""
        name = values.get("name")
        with self.store.write() as tx:
            if values:
                tx.update(TABLE, keep, values)
            if name is None:
                name = self.store.scalar("SELECT name FROM organizations WHERE id = ?", [keep])
            for cid in contacts:
                # Moving a contact to the partner it was always with is bookkeeping, not an
                # edit of what the officer wrote: an approved contact stays approved.
                status = self.store.scalar("SELECT review_status FROM contacts WHERE id = ?", [cid])
                tx.update("contacts", cid, {"organization_id": keep, "review_status": status})
            for rid in referrals:
                tx.update("referrals", rid, {"organization_id": keep, "agency": name})
            tx.tombstone(TABLE, fold)
