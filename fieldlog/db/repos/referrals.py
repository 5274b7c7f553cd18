"""Referrals (``store.referrals``): a person sent to a partner, followed up until it is done."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from fieldlog import dates, entry, models, records
from fieldlog.db.repos.base import Row, Rows, day

if TYPE_CHECKING:
    from fieldlog.db.store import Store

TABLE = "referrals"
REFERRAL_FOLLOW_UP_DAYS = 7  # a referral nobody chases is a referral that fell through


class Referrals:
    def __init__(self, store: Store) -> None:
        self.store = store

    def values(
        self, values: Mapping[str, Any], *, partial: bool, default_follow_up: str | None = None
    ) -> dict[str, Any]:
        """A referral as typed, cleaned: an agency that names a partner links it (and takes
        its only service); a new one is followed up in a week unless a day is given."""
        vals = dict(values)
        if "follow_up_on" in vals:
            vals["follow_up_on"] = day(vals["follow_up_on"], "follow-up")
        agency = vals.get("agency")
        if agency is not None and str(agency).strip() and "organization_id" not in vals:
            org = self.store.orgs.find(str(agency))
            if org is not None:
                vals["organization_id"] = org["id"]
                vals["agency"] = org["name"]
                if not vals.get("service") and len(org["services"]) == 1:
                    vals["service"] = org["services"][0]
        clean = records.clean(TABLE, vals, partial=partial)
        if not partial and "follow_up_on" not in vals:
            clean["follow_up_on"] = (
                default_follow_up
                or (dates.now_local().date() + timedelta(days=REFERRAL_FOLLOW_UP_DAYS)).isoformat()
            )
        return clean

    def add(self, contact_ref: str, agency: str, **values: Any) -> str:
        """A referral made at a contact; naming a concern answers it (open becomes referred)."""
        cid = self.store.records.resolve("contacts", contact_ref)
        concern = values.pop("concern", None)
        if concern:
            values["concern_id"] = self.store.records.resolve("concerns", concern)
        clean = self.values({**values, "agency": agency}, partial=False)
        with self.store.write() as tx:
            rid = tx.insert(TABLE, {**clean, "contact_id": cid})
            if clean.get("concern_id"):
                status = self.store.scalar(
                    "SELECT status FROM concerns WHERE id = ?", [clean["concern_id"]]
                )
                if status is not None and entry.referred_status(status) != status:
                    tx.update(
                        "concerns", clean["concern_id"], {"status": entry.referred_status(status)}
                    )
        return rid

    def update(self, ref: str, **values: Any) -> Row:
        rid = self.store.records.resolve(TABLE, ref)
        clean = self.values(values, partial=True)
        with self.store.write() as tx:
            tx.update(TABLE, rid, clean)
        return self.store.records.get(TABLE, rid)

    def get(self, ref: str) -> Row:
        """One live referral with what its own screen shows beside it: its contact's summary,
        person, organization, neighborhood and short id, and the live concern it answers
        (``concern``: the concern row with its short id, or None)."""
        rec = self.store.records
        rid = rec.resolve(TABLE, ref)
        row = rec.with_short_ids(
            TABLE,
            self.store.query(
                "SELECT r.*, c.summary AS contact_summary, c.person_name, c.neighborhood, "
                "c.occurred_at AS contact_occurred_at, o.name AS contact_organization "
                "FROM referrals r JOIN contacts c ON c.id = r.contact_id "
                "LEFT JOIN organizations o ON o.id = c.organization_id WHERE r.id = ?",
                [rid],
            ),
        )[0]
        row["contact_short_id"] = rec.short_id("contacts", row["contact_id"])
        concern = self.store.query(
            "SELECT * FROM concerns WHERE id = ? AND deleted = 0", [row["concern_id"]]
        )
        row["concern"] = rec.with_short_ids("concerns", concern)[0] if concern else None
        return row

    def list(
        self,
        *,
        status: str | None = None,
        service: str | None = None,
        organization: str | None = None,
        contact: str | None = None,
        limit: int | None = 100,
    ) -> Rows:
        where, params = ["r.deleted = 0"], []
        if status:
            if models.norm_word(status) == "open":
                where.append(f"r.status IN {models.REFERRAL_OPEN_STATUSES!r}")
            else:
                where.append("r.status = ?")
                params.append(models.choice("status", status, models.REFERRAL_STATUSES))
        if service:
            where.append("r.service = ?")
            params.append(models.choice("service", service, models.REFERRAL_SERVICES))
        if organization:
            where.append("r.organization_id = ?")
            params.append(self.store.orgs.resolve(organization))
        if contact:
            where.append("r.contact_id = ?")
            params.append(self.store.records.resolve("contacts", contact))
        sql = (
            "SELECT r.*, c.occurred_at AS contact_occurred_at, c.neighborhood, "
            "c.person_name, c.summary AS contact_summary FROM referrals r "
            f"JOIN contacts c ON c.id = r.contact_id WHERE {' AND '.join(where)} "
            "ORDER BY r.id DESC"
        )
        if limit:
            sql += f" LIMIT {int(limit)}"
        return self.store.records.with_short_ids(TABLE, self.store.query(sql, params))
