"""The SQL of reports (``store.reports``): the period report, the start screen's figures, and
the follow-ups due (``store.followups``).

Each figure is one GROUP BY query. ``since``/``until`` are stored UTC times (until exclusive);
``today`` a local day for "overdue". Concerns and referrals belong to the period,
neighborhood and officer of the contact they were raised at.

Neighborhoods are counted by name, not by spelling: SQL groups by the stored value, then
:func:`fieldlog.db.spellings.merge` adds up the spellings of one name ("Eastside",
"EASTSIDE", "East  side") under its first spelling (see that module for why not in SQL).
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from fieldlog import dates, models, records
from fieldlog.db.spellings import Names, merge

if TYPE_CHECKING:
    from fieldlog.db.repos.base import Row, Rows
    from fieldlog.db.store import Store


SUMMARY_MEASURES = (
    "contacts", "concerns_opened", "concerns_resolved", "concerns_still_open", "referrals",
    "followups_overdue",
)  # fmt: skip


class Reports:
    def __init__(self, store: Store) -> None:
        self.store = store

    def names(self) -> Names:
        """How neighborhoods are shown: each name in its first spelling."""
        return Names.of(self.store)

    def contacts(self, since: str, until: str, names: Names | None = None) -> Rows:
        """Contacts in the period by neighborhood (its spellings together, ``names``) and
        kind."""
        rows = self.store.query(
            "SELECT coalesce(neighborhood, '') AS neighborhood, kind, count(*) AS n "
            "FROM contacts WHERE deleted = 0 AND occurred_at >= ? AND occurred_at < ? "
            "GROUP BY 1, 2",
            [since, until],
        )
        rows = merge(rows, "neighborhood", ["n"], names or self.names(), also=("kind",))
        return sorted(rows, key=lambda r: (r["neighborhood"], r["kind"]))

    def concerns(self, since: str, until: str) -> Rows:
        """``measure`` 'opened' (raised in the period, by category and current status) and
        'resolved' (resolved in the period, whenever raised, by category)."""
        return self.store.query(
            "SELECT 'opened' AS measure, k.category, k.status, count(*) AS n "
            "FROM contacts c JOIN concerns k ON k.contact_id = c.id "
            "WHERE c.deleted = 0 AND k.deleted = 0 AND c.occurred_at >= :since "
            "AND c.occurred_at < :until GROUP BY 2, 3 "
            "UNION ALL SELECT 'resolved', k.category, NULL, count(*) FROM concerns k "
            "WHERE k.deleted = 0 AND k.status = 'resolved' AND k.resolved_at >= :since "
            "AND k.resolved_at < :until GROUP BY 2 ORDER BY 1, 2, 3",
            {"since": since, "until": until},
        )

    def referrals(self, since: str, until: str) -> Rows:
        """Referrals made at contacts in the period, by service and status."""
        return self.store.query(
            "SELECT coalesce(r.service, '') AS service, r.status, count(*) AS n "
            "FROM contacts c JOIN referrals r ON r.contact_id = c.id "
            "WHERE c.deleted = 0 AND r.deleted = 0 AND c.occurred_at >= ? "
            "AND c.occurred_at < ? GROUP BY 1, 2 ORDER BY 1, 2",
            [since, until],
        )

    def overdue(self, today: str) -> Row:
        """Follow-ups overdue now (dated before ``today``): open referrals and contacts."""
        return self.store.query(
            "SELECT (SELECT count(*) FROM referrals WHERE deleted = 0 AND follow_up_on < :d "
            f"AND status IN {models.REFERRAL_OPEN_STATUSES!r}) AS referrals, (SELECT count(*) "
            "FROM contacts WHERE deleted = 0 AND follow_up_on < :d) AS contacts",
            {"d": today},
        )[0]

    def summary(
        self, since: str, until: str, today: str, by: str, names: Names | None = None
    ) -> Rows:
        """Per neighborhood (its spellings together, ``names``), officer or concern
        category: contacts, concerns opened, resolved and still open, referrals and overdue
        follow-ups, in one statement."""
        if by not in ("hood", "officer", "category"):
            raise ValueError(by)
        period = "c.occurred_at >= :since AND c.occurred_at < :until"
        opened = f"{models.REFERRAL_OPEN_STATUSES!r}"
        if by == "category":
            g = "coalesce(k.category, '')"
            contacts = (
                f"SELECT {g} AS g, count(DISTINCT c.id) AS n FROM contacts c LEFT JOIN "
                f"concerns k ON k.contact_id = c.id AND k.deleted = 0 "
                f"WHERE c.deleted = 0 AND {period} GROUP BY 1"
            )
            refs = (
                "referrals r JOIN contacts c ON c.id = r.contact_id LEFT JOIN concerns k "
                "ON k.id = r.concern_id AND k.deleted = 0"
            )
            late_contacts = (
                f"SELECT {g}, count(DISTINCT c.id) FROM contacts c LEFT JOIN concerns k "
                "ON k.contact_id = c.id AND k.deleted = 0 WHERE c.deleted = 0 "
                "AND c.follow_up_on < :today GROUP BY 1"
            )
        else:
            g = "coalesce(c.neighborhood, '')" if by == "hood" else "c.officer"
            contacts = (
                f"SELECT {g} AS g, count(*) AS n FROM contacts c "
                f"WHERE c.deleted = 0 AND {period} GROUP BY 1"
            )
            refs = "referrals r JOIN contacts c ON c.id = r.contact_id"
            late_contacts = (
                f"SELECT {g}, count(*) FROM contacts c WHERE c.deleted = 0 "
                "AND c.follow_up_on < :today GROUP BY 1"
            )
        sql = f"""
            SELECT g AS "group", total(CASE m WHEN 'c' THEN n END) AS contacts,
                   total(CASE m WHEN 'o' THEN n END) AS concerns_opened,
                   total(CASE m WHEN 'r' THEN n END) AS concerns_resolved,
                   total(CASE m WHEN 's' THEN n END) AS concerns_still_open,
                   total(CASE m WHEN 'f' THEN n END) AS referrals,
                   total(CASE m WHEN 'l' THEN n END) AS followups_overdue
            FROM (
                SELECT 'c' AS m, g, n FROM ({contacts})
                UNION ALL SELECT 'o', {g}, count(*) FROM concerns k JOIN contacts c
                    ON c.id = k.contact_id WHERE k.deleted = 0 AND c.deleted = 0 AND {period}
                    GROUP BY 2
                UNION ALL SELECT 's', {g}, count(*) FROM concerns k JOIN contacts c
                    ON c.id = k.contact_id WHERE k.deleted = 0 AND c.deleted = 0 AND {period}
                    AND k.status != 'resolved' GROUP BY 2
                UNION ALL SELECT 'r', {g}, count(*) FROM concerns k JOIN contacts c
                    ON c.id = k.contact_id WHERE k.deleted = 0 AND k.status = 'resolved'
                    AND k.resolved_at >= :since AND k.resolved_at < :until GROUP BY 2
                UNION ALL SELECT 'f', {g}, count(*) FROM {refs}
                    WHERE r.deleted = 0 AND c.deleted = 0 AND {period} GROUP BY 2
                UNION ALL SELECT 'l', {g}, count(*) FROM {refs}
                    WHERE r.deleted = 0 AND r.follow_up_on < :today
                    AND r.status IN {opened} GROUP BY 2
                UNION ALL SELECT 'l', * FROM ({late_contacts})
            )
            GROUP BY g ORDER BY contacts DESC, concerns_opened DESC, g
        """
        rows = self.store.query(sql, {"since": since, "until": until, "today": today})
        for r in rows:
            for k, v in r.items():
                if isinstance(v, float):
                    r[k] = int(v)
        if by == "hood":
            rows = merge(rows, "group", SUMMARY_MEASURES, names or self.names())
            rows.sort(key=lambda r: (-r["contacts"], -r["concerns_opened"], r["group"]))
        return rows

    def dashboard(self) -> dict[str, Any]:
        """The figures of the start screen, all counted in SQL on indexes (no full reads),
        sync conflicts to resolve included (``conflicts``, as ``store.conflicts.count()``).

        One statement: the TUI reads them in a thread while its UI thread is busy (starting,
        painting), and each statement (each row fetched, too) costs that thread a wait for
        the GIL, up to the 5 ms switch interval: for the eight statements this was, more
        than the counting itself."""
        now_local = dates.now_local()
        today = dates.localize(
            now_local.replace(tzinfo=None, hour=0, minute=0, second=0, microsecond=0)
        )
        week = today - timedelta(days=today.weekday())
        opened = models.REFERRAL_OPEN_STATUSES
        row = self.store.query(
            f"""
            SELECT
              (SELECT count(*) FROM contacts WHERE deleted = 0 AND occurred_at >= :today)
                AS contacts_today,
              (SELECT count(*) FROM contacts WHERE deleted = 0 AND occurred_at >= :week)
                AS contacts_week,
              (SELECT count(*) FROM contacts WHERE deleted = 0) AS contacts_total,
              (SELECT json_group_object(category, n) FROM (SELECT category, count(*) AS n
                 FROM concerns WHERE deleted = 0 AND status != 'resolved'
                 GROUP BY category ORDER BY n DESC, category)) AS open_concerns,
              (SELECT json_group_object(status, n) FROM (SELECT status, count(*) AS n
                 FROM referrals WHERE deleted = 0
                 GROUP BY status ORDER BY n DESC, status)) AS referrals,
              (SELECT count(*) FROM referrals WHERE deleted = 0 AND follow_up_on = :day
                 AND status IN {opened!r})
              + (SELECT count(*) FROM contacts WHERE deleted = 0 AND follow_up_on = :day)
                AS followups_due,
              (SELECT count(*) FROM referrals WHERE deleted = 0 AND follow_up_on < :day
                 AND status IN {opened!r})
              + (SELECT count(*) FROM contacts WHERE deleted = 0 AND follow_up_on < :day)
                AS followups_overdue,
              (SELECT count(*) FROM conflicts WHERE resolved_at IS NULL) AS conflicts
            """,
            {
                "today": dates.to_storage(today),
                "week": dates.to_storage(week),
                "day": dates.today_local(),
            },
        )[0]
        for name in ("open_concerns", "referrals"):  # JSON objects, biggest first
            row[name] = json.loads(row[name] or "{}")
        row["last_sync"] = self.store.meta().get("last_sync")
        return row


class Followups:
    """What is due: open referrals and contacts with a follow-up date."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def counts(self, *, until: str | None = None) -> dict[str, int]:
        """How many follow-ups there are, whatever a list shows of them: ``overdue`` (before
        today), ``today`` (due today) and ``due`` (due by ``until``, default today, overdue
        included). Overdue and today are the dashboard's ``followups_overdue`` and
        ``followups_due``, counted the same way, so a title and the dashboard agree."""
        end = dates.parse_day(until, future=True, field="until") if until else dates.today_local()
        opened = models.REFERRAL_OPEN_STATUSES
        out = {}
        for name, test in (("overdue", "< :d"), ("today", "= :d"), ("due", "<= :end")):
            out[name] = int(
                self.store.scalar(
                    "SELECT (SELECT count(*) FROM referrals WHERE deleted = 0 "
                    f"AND follow_up_on {test} AND status IN {opened!r}) + (SELECT count(*) "
                    f"FROM contacts WHERE deleted = 0 AND follow_up_on {test})",
                    {"d": dates.today_local(), "end": end},
                )
            )
        return out

    def due(
        self, *, until: str | None = None, limit: int | None = None, outcomes: bool = False
    ) -> Rows:
        """Open referrals and contacts whose follow-up date is due by ``until`` (default today).

        Oldest first; ``overdue`` is true when the date is before today. ``outcomes``: each
        row's ``outcome`` too (a referral's so far, None for a contact), for a screen that
        asks for it when the follow-up is done.
        """
        end = dates.parse_day(until, future=True, field="until") if until else dates.today_local()
        today = dates.today_local()
        outcome = (", r.outcome", ", NULL") if outcomes else ("", "")
        cut_r = cut_c = ""
        if limit and limit > 0:
            # The first ``limit`` rows can only have dates up to each side's limit-th date,
            # read from its index alone: only the rows up to that date (ties included, so the
            # order by id is kept) are joined and sorted, not every follow-up due (the join
            # drops none: a referral's contact always exists, by foreign key, and contacts
            # are only ever soft-deleted). On 100,000 contacts, 7,000 referrals due: 7 ms
            # instead of 33 ms, the same rows.
            nth = f"ORDER BY follow_up_on LIMIT 1 OFFSET {int(limit) - 1}"
            opened = models.REFERRAL_OPEN_STATUSES
            due = "deleted = 0 AND follow_up_on IS NOT NULL AND follow_up_on <= :end"
            cut_r = (
                "AND r.follow_up_on <= coalesce((SELECT follow_up_on FROM referrals "
                f"WHERE {due} AND status IN {opened!r} {nth}), :end)"
            )
            cut_c = (
                "AND c.follow_up_on <= coalesce((SELECT follow_up_on FROM contacts "
                f"WHERE {due} {nth}), :end)"
            )
        sql = f"""
            SELECT 'referral' AS type, r.id, r.follow_up_on, r.contact_id, r.status,
                   r.agency AS subject, r.reason AS detail, c.person_name, c.neighborhood,
                   r.officer{outcome[0]}
            FROM referrals r JOIN contacts c ON c.id = r.contact_id
            WHERE r.deleted = 0 AND r.follow_up_on IS NOT NULL AND r.follow_up_on <= :end
              AND r.status IN {models.REFERRAL_OPEN_STATUSES!r} {cut_r}
            UNION ALL
            SELECT 'contact', c.id, c.follow_up_on, c.id, NULL, c.summary, c.notes,
                   c.person_name, c.neighborhood, c.officer{outcome[1]}
            FROM contacts c
            WHERE c.deleted = 0 AND c.follow_up_on IS NOT NULL AND c.follow_up_on <= :end
              {cut_c}
            ORDER BY 3, 2
        """
        if limit:
            sql += f" LIMIT {int(limit)}"
        rows = self.store.query(sql, {"end": end})
        short = {
            noun: self.store.records.short_ids(
                records.by_noun(noun).table, [r["id"] for r in rows if r["type"] == noun]
            )
            for noun in {r["type"] for r in rows}
        }
        for r in rows:
            r["overdue"] = r["follow_up_on"] < today
            r["short_id"] = short[r["type"]][r["id"]]
        return rows
