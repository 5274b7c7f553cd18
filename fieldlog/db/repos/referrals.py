"""Referrals (``store.referrals``): a person sent to a partner, followed up until it is done."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from fieldlog import dates, entry, ids, models, records
from fieldlog.db.repos.base import NO_DATE, Row, Rows, day
from fieldlog.errors import ValidationError

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
            days = timedelta(days=self.store.follow_up_days())
            due = (dates.now_local().date() + days).isoformat()
            clean["follow_up_on"] = default_follow_up or due
        return clean

    def check_concern(self, contact_id: str, concern_id: str | None) -> None:
        """Refuse a referral of one contact answering another contact's concern: it would
        mark that concern referred, and a report would count it for the wrong person. Every
        path that links a referral to a concern (``refer``, ``referral update``, the TUI)
        comes here; ``fieldlog verify`` lists such links stored before this check."""
        if concern_id is None:
            return
        owner = self.store.scalar("SELECT contact_id FROM concerns WHERE id = ?", [concern_id])
        if owner is None or owner == contact_id:
            return
        rec = self.store.records
        concern, mine, theirs = (
            rec.short_id("concerns", concern_id),
            rec.short_id("contacts", contact_id),
            rec.short_id("contacts", owner),
        )
        raise ValidationError(
            "concern",
            f"Concern {concern} was raised at contact {theirs}, not at contact {mine}: refer "
            f"from contact {theirs} (fieldlog refer {theirs} AGENCY --concern {concern}), or "
            f"give a concern of contact {mine} (fieldlog show {mine} lists them).",
        )

    def add(self, contact_ref: str, agency: str, **values: Any) -> str:
        """A referral made at a contact; naming a concern (of the same contact) answers it by
        the entry rule: the referral takes the concern's service, open becomes referred."""
        cid = self.store.records.resolve("contacts", contact_ref)
        concern_ref = values.pop("concern", None)
        concern: Row | None = None
        if concern_ref:
            kid = self.store.records.resolve("concerns", concern_ref)
            self.check_concern(cid, kid)
            values["concern_id"] = kid
            concern = self.store.query(
                "SELECT id, category, status FROM concerns WHERE id = ?", [kid]
            )[0]
        clean = self.values({**values, "agency": agency}, partial=False)
        linked = entry.link({}, [dict(concern)] if concern else [], [clean])
        clean = linked.referrals[0]
        with self.store.write() as tx:
            rid = tx.insert(TABLE, {**clean, "contact_id": cid})
            if concern is not None and linked.concerns[0]["status"] != concern["status"]:
                tx.update("concerns", concern["id"], {"status": linked.concerns[0]["status"]})
        return rid

    def update(self, ref: str, **values: Any) -> Row:
        """An edit; ``concern`` (an id, or a ``NO_DATE`` word such as ``none`` to unlink)
        moves the referral to another concern of its contact."""
        rid = self.store.records.resolve(TABLE, ref)
        concern_ref = values.pop("concern", None)
        if concern_ref is not None:
            values["concern_id"] = (
                None
                if str(concern_ref).strip().lower() in NO_DATE
                else self.store.records.resolve("concerns", str(concern_ref))
            )
        clean = self.values(values, partial=True)
        if clean.get("concern_id"):
            owner = self.store.scalar("SELECT contact_id FROM referrals WHERE id = ?", [rid])
            self.check_concern(owner, clean["concern_id"])
        with self.store.write() as tx:
            tx.update(TABLE, rid, clean)
        return self.store.records.get(TABLE, rid)

    def complete(self, ref: str, outcome: str | None = None) -> tuple[Row, bool]:
        """A referral's follow-up done (``fieldlog done``): status completed, with its outcome
        when one is given (the loop closed). Returns the referral and whether it changed; one
        already completed only takes a new outcome, and a declined one is refused (nothing
        to follow up: the fix is to say what really happened)."""
        row = self.store.records.get(TABLE, ref)
        if row["status"] == "declined":
            raise ValidationError(
                "status",
                f"Referral {row['short_id']} was declined: there is no follow-up to mark done. "
                f"To change that, fieldlog referral update {row['short_id']} --status completed.",
            )
        values: dict[str, Any] = {"status": "completed"}
        if outcome is not None:
            values["outcome"] = outcome
        clean = self.values(values, partial=True)
        with self.store.write() as tx:
            changed = tx.update(TABLE, row["id"], clean)
        return self.store.records.get(TABLE, row["id"]), bool(changed)

    # ------------------------------------------------------------------ partner sheets
    def sheet_rows(self, org_id: str) -> Rows:
        """The open referrals made to the partner ``org_id`` (live, of a live contact, status
        one of :data:`~fieldlog.models.REFERRAL_OPEN_STATUSES`), oldest first, with their
        contact's person and neighborhood: the rows of its referral sheet
        (:mod:`fieldlog.export.sheet`)."""
        return self.store.query(
            "SELECT r.id, r.created_at, r.service, r.reason, r.status, r.follow_up_on, "
            "r.outcome, c.person_name, c.neighborhood FROM referrals r "
            "JOIN contacts c ON c.id = r.contact_id "
            "WHERE r.deleted = 0 AND c.deleted = 0 AND r.organization_id = ? "
            f"AND r.status IN {models.REFERRAL_OPEN_STATUSES!r} ORDER BY r.created_at, r.id",
            [org_id],
        )

    def returned(self, refs: Sequence[str]) -> dict[str, Rows]:
        """What a partner's returned sheet names: each id (or prefix) -> the referrals whose
        id starts with it (none, one, or two when it fits several), deleted ones too
        (``deleted``), with the referral's field clocks (``field_clocks``, JSON) and its
        contact's person, neighborhood and clocks (``contact_clocks``)."""
        sql = (
            "SELECT r.*, r.clocks AS field_clocks, c.person_name, c.neighborhood, "
            "c.clocks AS contact_clocks FROM referrals r JOIN contacts c ON c.id = r.contact_id "
            "WHERE r.id >= ? AND r.id < ? ORDER BY r.id LIMIT 2"
        )
        out: dict[str, Rows] = {}
        for ref in dict.fromkeys(refs):
            prefix = ids.normalize_prefix(ref)
            ok = len(prefix) >= ids.MIN_PREFIX and ids.is_hex(prefix)
            out[ref] = self.store.query(sql, [prefix, prefix + "g"]) if ok else []
        return out

    def apply_returned(self, changes: Sequence[tuple[str, Mapping[str, Any]]], source: str) -> int:
        """Write a partner's status and outcome updates (``(id, cleaned values)``) in one
        transaction, each audited with ``source``; returns how many referrals changed (a
        value the referral already holds writes nothing)."""
        n = 0
        with self.store.write() as tx:
            for rid, values in changes:
                if tx.update(TABLE, rid, values, source=source):
                    n += 1
        return n

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

    def _listing(
        self,
        *,
        status: str | None = None,
        service: str | None = None,
        organization: str | None = None,
        agency: str | None = None,
        hood: str | None = None,
        contact: str | None = None,
    ) -> tuple[str, list[Any]]:
        """The query of :meth:`list` and :meth:`count` (newest first, no limit)."""
        where, params = ["r.deleted = 0"], []
        if status:
            if models.norm_word(status) == "open":
                where.append(f"r.status IN {models.REFERRAL_OPEN_STATUSES!r}")
            else:
                where.append("r.status = ?")
                params.append(models.choice("status", status, models.REFERRAL_STATUSES))
        if service:
            where.append("r.service = ? COLLATE NOCASE")
            params.append(models.choice("service", service, models.REFERRAL_SERVICES))
        if organization:
            where.append("r.organization_id = ?")
            params.append(self.store.orgs.resolve(organization))
        if agency:  # the name as typed on the referral, partner or not, any case
            where.append("r.agency = ? COLLATE NOCASE")
            params.append(agency.strip())
        if hood:
            where.append("c.neighborhood = ? COLLATE NOCASE")
            params.append(hood.strip())
        if contact:
            where.append("r.contact_id = ?")
            params.append(self.store.records.resolve("contacts", contact))
        sql = (
            "SELECT r.*, c.occurred_at AS contact_occurred_at, c.neighborhood, "
            "c.person_name, c.summary AS contact_summary FROM referrals r "
            f"JOIN contacts c ON c.id = r.contact_id WHERE {' AND '.join(where)} "
            "ORDER BY r.id DESC"
        )
        return sql, params

    def list(self, *, limit: int | None = None, **filters: str | None) -> Rows:
        """Referrals, newest first, filtered (``status``, ``service``, ``organization``,
        ``agency``, ``hood``, ``contact``; words in any case); all unless ``limit``."""
        sql, params = self._listing(**filters)
        if limit:
            sql += f" LIMIT {int(limit)}"
        return self.store.records.with_short_ids(TABLE, self.store.query(sql, params))

    def count(self, **filters: str | None) -> int:
        """How many referrals :meth:`list` finds with the same filters, without a limit."""
        return self.store.records.count_of(*self._listing(**filters))
