"""Concerns (``store.concerns``): what a person raised at a contact, open until resolved."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from fieldlog import dates, models, records
from fieldlog.db.repos.base import Row, Rows, when

if TYPE_CHECKING:
    from fieldlog.db.store import Store

TABLE = "concerns"


class Concerns:
    def __init__(self, store: Store) -> None:
        self.store = store

    def values(self, values: Mapping[str, Any], *, partial: bool) -> dict[str, Any]:
        """A concern as typed, cleaned; one resolved without a time is resolved now."""
        vals = dict(values)
        if "resolved_at" in vals and vals["resolved_at"] is not None:
            vals["resolved_at"] = when(vals["resolved_at"], "resolved date")
        clean = records.clean(TABLE, vals, partial=partial)
        if clean.get("status") == "resolved" and not clean.get("resolved_at"):
            clean["resolved_at"] = dates.to_storage(dates.now())
        return clean

    def add(self, contact_ref: str, **values: Any) -> str:
        cid = self.store.records.resolve("contacts", contact_ref)
        clean = self.values(values, partial=False)
        with self.store.write() as tx:
            return tx.insert(TABLE, {**clean, "contact_id": cid})

    def update(self, ref: str, **values: Any) -> Row:
        """An edit; a resolution resolves the concern, and a status other than resolved
        reopens it: its resolved time and its resolution go (the audit keeps them), so a
        reopened concern never shows how it was "resolved" before."""
        rid = self.store.records.resolve(TABLE, ref)
        clean = self.values(values, partial=True)
        current = self.store.query(
            "SELECT status, resolution, resolved_at FROM concerns WHERE id = ?", [rid]
        )[0]
        if clean.get("resolution") and "status" not in clean and current["status"] != "resolved":
            clean["status"] = "resolved"
            clean["resolved_at"] = dates.to_storage(dates.now())
        if clean.get("status") and clean["status"] != "resolved":
            if current["resolved_at"] is not None:
                clean.setdefault("resolved_at", None)
            # Reopened: the old resolution goes, also when a form sends it back unchanged.
            reopened = current["status"] == "resolved"
            if reopened and clean.get("resolution", current["resolution"]) == current["resolution"]:
                clean["resolution"] = None
        with self.store.write() as tx:
            tx.update(TABLE, rid, clean)
        return self.store.records.get(TABLE, rid)

    def get(self, ref: str) -> Row:
        """One live concern with what its own screen shows beside it: its contact's summary,
        person, organization, neighborhood and short id, and the live referrals made for it
        (``referrals``, oldest first)."""
        rec = self.store.records
        rid = rec.resolve(TABLE, ref)
        row = rec.with_short_ids(
            TABLE,
            self.store.query(
                "SELECT k.*, c.summary AS contact_summary, c.person_name, c.neighborhood, "
                "c.occurred_at AS contact_occurred_at, o.name AS contact_organization "
                "FROM concerns k JOIN contacts c ON c.id = k.contact_id "
                "LEFT JOIN organizations o ON o.id = c.organization_id WHERE k.id = ?",
                [rid],
            ),
        )[0]
        row["contact_short_id"] = rec.short_id("contacts", row["contact_id"])
        row["referrals"] = rec.with_short_ids(
            "referrals",
            self.store.query(
                "SELECT * FROM referrals WHERE concern_id = ? AND deleted = 0 ORDER BY id", [rid]
            ),
        )
        return row

    def _listing(
        self,
        *,
        status: str | None = None,
        category: str | None = None,
        hood: str | None = None,
        contact: str | None = None,
    ) -> tuple[str, list[Any]]:
        """The query of :meth:`list` and :meth:`count` (newest first, no limit)."""
        where, params = ["k.deleted = 0"], []
        if status:
            if models.norm_word(status) == "unresolved":
                where.append("k.status != 'resolved'")
            else:
                where.append("k.status = ?")
                params.append(models.choice("status", status, models.CONCERN_STATUSES))
        if category:
            where.append("k.category = ? COLLATE NOCASE")
            params.append(models.choice("category", category, models.CONCERN_CATEGORIES))
        if hood:
            where.append("c.neighborhood = ? COLLATE NOCASE")
            params.append(hood.strip())
        if contact:
            where.append("k.contact_id = ?")
            params.append(self.store.records.resolve("contacts", contact))
        sql = (
            "SELECT k.*, c.occurred_at AS contact_occurred_at, c.neighborhood, "
            "c.summary AS contact_summary FROM concerns k JOIN contacts c ON c.id = k.contact_id "
            f"WHERE {' AND '.join(where)} ORDER BY k.id DESC"
        )
        return sql, params

    def list(self, *, limit: int | None = None, **filters: str | None) -> Rows:
        """Concerns, newest first, filtered (``status``, ``category``, ``hood``,
        ``contact``; words in any case); all of them unless ``limit``."""
        sql, params = self._listing(**filters)
        if limit:
            sql += f" LIMIT {int(limit)}"
        return self.store.records.with_short_ids(TABLE, self.store.query(sql, params))

    def count(self, **filters: str | None) -> int:
        """How many concerns :meth:`list` finds with the same filters, without a limit."""
        return self.store.records.count_of(*self._listing(**filters))
