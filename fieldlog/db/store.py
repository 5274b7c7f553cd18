"""The one gateway for reads and writes of the local log.

Every write runs in one ``BEGIN IMMEDIATE`` transaction that stamps the row with the device's
hybrid logical clock (row ``hlc`` and the per-field ``clocks``), records the change in the
``changes`` outbox that sync pushes from, and (through triggers) keeps the search index in
step. Nothing else in fieldlog writes SQL for the local log.

Methods take what a person typed (strings); validation lives in :mod:`fieldlog.models` and
date reading in :mod:`fieldlog.dates`, so the CLI and the TUI behave the same.
"""

from __future__ import annotations

import getpass
import json
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from fieldlog import dates, ids, models, records
from fieldlog.clock import HLC
from fieldlog.db import audit
from fieldlog.db.connect import AskPassphrase, connect, db_error, explain, passphrase_of, use_wal
from fieldlog.db.migrations import ensure_schema
from fieldlog.db.store_sync import SyncStore
from fieldlog.errors import AmbiguousIdError, NotFoundError, StorageError, ValidationError

Row = dict[str, Any]

# Below this many rows an export runs in one process (a fork costs more than it saves).
EXPORT_SPLIT_MIN_ROWS = 50_000
REFERRAL_FOLLOW_UP_DAYS = 7  # a referral nobody chases is a referral that fell through
NO_DATE = {"", "none", "no", "clear", "-"}


def _enc(field: str, value: Any) -> Any:
    if field in records.LIST_FIELDS:
        return json.dumps(value or [])
    return value


def _row(cur: sqlite3.Cursor, raw: tuple) -> Row:
    row = {d[0]: v for d, v in zip(cur.description, raw, strict=True)}
    for f in records.LIST_FIELDS:
        if f in row and isinstance(row[f], str):
            row[f] = json.loads(row[f])
    if "clocks" in row:
        row.pop("clocks")
    if "deleted" in row:
        row["deleted"] = bool(row["deleted"])
    return row


class Store(SyncStore):
    """A log file opened for use. ``Store.open(path)`` checks and migrates it."""

    def __init__(self, conn: sqlite3.Connection, path: Path | str) -> None:
        self.conn = conn
        self.path = path
        self._meta_cache: dict[str, str | None] | None = None
        # sqlite3's or sqlcipher3's DatabaseError (different classes): catch this one.
        self.db_error = db_error(conn)
        self.passphrase = passphrase_of(conn)  # None for a plain log

    # ------------------------------------------------------------------ opening
    @classmethod
    def open(
        cls,
        path: Path | str,
        *,
        passphrase: str | None = None,
        ask: AskPassphrase | None = None,
        encrypt: bool = False,
    ) -> Store:
        """Open, check and migrate a log; an encrypted one is keyed from ``passphrase``, else
        ``$FIELDLOG_PASSPHRASE``, else ``ask`` (see :func:`fieldlog.db.connect.connect`)."""
        conn = connect(path, passphrase=passphrase, ask=ask, encrypt=encrypt)
        try:
            ensure_schema(conn, path)
            use_wal(conn, path)
        except BaseException:
            conn.close()
            raise
        return cls(conn, path)

    def close(self) -> None:
        self.conn.close()

    @property
    def encrypted(self) -> bool:
        return self.passphrase is not None

    def reopen(self) -> Store:
        """A second store on the same log (another thread or process), with the same key."""
        return Store.open(self.path, passphrase=self.passphrase)

    def scratch_dir(self) -> str | None:
        """Where a temporary file of this log's records may go: the system's temp folder for
        a plain log; for an encrypted one a memory-backed folder (tmpfs), or None when there
        is none (then write no temporary file: nothing in clear may reach the disk)."""
        if not self.encrypted:
            return None
        from fieldlog.db.crypto import ram_dir

        return ram_dir()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ low level
    def query(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> list[Row]:
        try:
            cur = self.conn.execute(sql, params)
            return [_row(cur, r) for r in cur.fetchall()]
        except self.db_error as exc:
            raise explain(exc, self.path) from None

    def scalar(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> Any:
        try:
            r = self.conn.execute(sql, params).fetchone()
        except self.db_error as exc:
            raise explain(exc, self.path) from None
        return r[0] if r else None

    @contextmanager
    def write(self) -> Iterator[_Tx]:
        """One transaction: everything inside commits together or not at all."""
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except self.db_error as exc:
            raise explain(exc, self.path) from None
        tx = _Tx(self)
        try:
            yield tx
            tx.finish()
            self.conn.execute("COMMIT")
        except self.db_error as exc:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise explain(exc, self.path) from None
        except BaseException:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise
        finally:
            self._meta_cache = None

    # ------------------------------------------------------------------ meta
    def meta(self) -> dict[str, str | None]:
        if self._meta_cache is None:
            self._meta_cache = {
                r["key"]: r["value"] for r in self.query("SELECT key, value FROM meta")
            }
        return self._meta_cache

    def officer(self) -> str:
        name = self.meta().get("officer")
        if name:
            return name
        try:
            return getpass.getuser()
        except Exception:  # no login name (containers): still log something honest
            return "unknown"

    def set_officer(self, officer: str, badge: str | None = None, hood: str | None = None) -> None:
        name = models.text("officer", officer, limit=models.MAX_SHORT, required=True)
        with self.write() as tx:
            tx.set_meta("officer", name)
            if badge is not None:
                tx.set_meta("badge", models.text("badge", badge, limit=50) or None)
            if hood is not None:
                tx.set_meta("default_hood", models.text("hood", hood, limit=200) or None)

    # ------------------------------------------------------------------ drafts
    # An unsaved TUI form lives in the log itself (so it is as safe as the log, and
    # encrypted with it), under meta keys "draft:NAME". Drafts never sync.
    def save_draft(self, name: str, body: Mapping[str, Any]) -> None:
        with self.write() as tx:
            tx.set_meta(f"draft:{name}", json.dumps({"saved_at": dates.stamp_now(), **body}))

    def load_draft(self, name: str) -> dict[str, Any] | None:
        raw = self.scalar("SELECT value FROM meta WHERE key = ?", [f"draft:{name}"])
        return json.loads(raw) if raw else None

    def drop_draft(self, name: str) -> None:
        with self.write() as tx:
            tx.conn.execute("DELETE FROM meta WHERE key = ?", [f"draft:{name}"])

    def drafts(self) -> list[str]:
        return [
            r["key"].removeprefix("draft:")
            for r in self.query("SELECT key FROM meta WHERE key LIKE 'draft:%' ORDER BY key")
        ]

    # ------------------------------------------------------------------ suggestions
    def suggestions(self, field: str, *, limit: int = 200) -> list[str]:
        """Earlier values people typed, most used first: ``neighborhood``, ``beat``,
        ``location``, ``person_name``, ``tag``, ``organization`` or ``agency``."""
        sql = {
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
        }.get(field)
        if sql is None:
            raise ValueError(f"no suggestions for {field}")
        rows = self.query(
            f"SELECT v, sum(n) AS n FROM ({sql}) GROUP BY v ORDER BY n DESC, v LIMIT {int(limit)}"
        )
        return [r["v"] for r in rows]

    def iter_rows(self, table: str, *, batch: int = 2000) -> Iterator[Row]:
        """Every live row of a table in id order, read in batches (constant memory)."""
        if table not in records.TABLE_FIELDS:
            raise ValueError(table)
        last = ""
        while True:
            rows = self.query(
                f"SELECT * FROM {table} WHERE id > ? AND deleted = 0 ORDER BY id LIMIT {batch}",
                [last],
            )
            yield from rows
            if len(rows) < batch:
                return
            last = rows[-1]["id"]

    # ------------------------------------------------------------------ ids
    def resolve(self, table: str, ref: str) -> str:
        """A full id from a unique prefix (6+ characters) of a live record."""
        noun = records.NOUN[table]
        prefix = ids.normalize_prefix(ref)
        if len(prefix) < ids.MIN_PREFIX:
            raise ValidationError(
                "id", f"The id '{ref}' is too short: give at least {ids.MIN_PREFIX} characters."
            )
        hits = []
        if ids.is_hex(prefix):
            hits = self.query(
                f"SELECT id FROM {table} WHERE id >= ? AND id < ? AND deleted = 0 "
                "ORDER BY id LIMIT 11",
                [prefix, prefix + "g"],
            )
        if not hits:
            raise NotFoundError(
                f"No {noun} has an id starting with '{ref}': check the id "
                f"(fieldlog {_list_cmd(table)} shows them)."
            )
        if len(hits) > 1:
            matches = [h["id"] for h in hits]
            shown = ", ".join(self.short_id(table, m) for m in matches[:10])
            more = " and more" if len(matches) > 10 else ""
            raise AmbiguousIdError(
                f"The id '{ref}' matches {len(matches)}{'+' if more else ''} {noun}s "
                f"({shown}{more}): type more characters.",
                matches,
            )
        return hits[0]["id"]

    def short_id(self, table: str, full: str) -> str:
        """The shortest prefix (ids.SHORT_LEN or more) that no other record of the table shares."""
        neighbours = self.query(
            f"SELECT id FROM (SELECT id FROM {table} WHERE id < ? ORDER BY id DESC LIMIT 1) "
            f"UNION ALL SELECT id FROM (SELECT id FROM {table} WHERE id > ? ORDER BY id LIMIT 1)",
            [full, full],
        )
        n = ids.SHORT_LEN
        for other in (r["id"] for r in neighbours):
            common = 0
            for a, b in zip(full, other, strict=False):
                if a != b:
                    break
                common += 1
            n = max(n, common + 1)
        return full[:n]

    def with_short_ids(self, table: str, rows: list[Row]) -> list[Row]:
        for r in rows:
            r["short_id"] = self.short_id(table, r["id"])
        return rows

    def get(self, table: str, ref: str) -> Row:
        rid = self.resolve(table, ref)
        rows = self.query(f"SELECT * FROM {table} WHERE id = ?", [rid])
        return self.with_short_ids(table, rows)[0]

    # ------------------------------------------------------------------ organizations
    def find_org(self, ref: str) -> Row | None:
        """A partner by exact name (any case) or id prefix; None when nothing matches."""
        rows = self.query(
            "SELECT * FROM organizations WHERE deleted = 0 AND name = ? COLLATE NOCASE "
            "ORDER BY created_at LIMIT 1",
            [ref.strip()],
        )
        if rows:
            return rows[0]
        prefix = ids.normalize_prefix(ref)
        if len(prefix) >= ids.MIN_PREFIX and ids.is_hex(prefix):
            try:
                return self.get("organizations", ref)
            except NotFoundError:
                return None
        return None

    def org_id(self, ref: str | None) -> str | None:
        if ref is None or not str(ref).strip():
            return None
        org = self.find_org(str(ref))
        if org is None:
            raise NotFoundError(
                f"No partner organization is named or numbered '{ref}': add it with "
                "'fieldlog org add', or see 'fieldlog org list'."
            )
        return org["id"]

    def add_org(self, **values: Any) -> str:
        clean = records.clean("organizations", values)
        if self.find_org(clean["name"]) is not None:
            raise ValidationError(
                "name",
                f"A partner named '{clean['name']}' is already in the directory: edit it with "
                "'fieldlog org edit'.",
            )
        clean.setdefault("last_verified", dates.today_local())
        with self.write() as tx:
            return tx.insert("organizations", clean)

    def update_org(self, ref: str, **values: Any) -> Row:
        rid = self.resolve_org_ref(ref)
        clean = records.clean("organizations", values, partial=True)
        if "name" in clean:
            other = self.find_org(clean["name"])
            if other is not None and other["id"] != rid:
                raise ValidationError(
                    "name", f"Another partner is already named '{clean['name']}'."
                )
        with self.write() as tx:
            tx.update("organizations", rid, clean)
        return self.get_org(rid)

    def resolve_org_ref(self, ref: str) -> str:
        """A partner by name (any case) or id prefix; ambiguous prefixes still say so."""
        org = self.find_org(ref)
        if org is not None:
            return org["id"]
        prefix = ids.normalize_prefix(ref)
        if len(prefix) >= ids.MIN_PREFIX and ids.is_hex(prefix):
            return self.resolve("organizations", ref)
        return self.org_id(ref)  # raises the "no partner is named" message

    def get_org(self, ref: str) -> Row:
        rid = self.resolve_org_ref(ref)
        rows = self.query(
            "SELECT o.*, (SELECT count(*) FROM referrals r WHERE r.organization_id = o.id "
            "AND r.deleted = 0) AS referral_count FROM organizations o WHERE o.id = ?",
            [rid],
        )
        return self.with_short_ids("organizations", rows)[0]

    def list_orgs(
        self, *, kind: str | None = None, hood: str | None = None, service: str | None = None,
        limit: int | None = None,
    ) -> list[Row]:  # fmt: skip
        where, params = ["o.deleted = 0"], []
        if kind:
            where.append("o.kind = ?")
            params.append(models.choice("kind", kind, models.ORG_KINDS))
        if hood:
            where.append("o.neighborhood = ? COLLATE NOCASE")
            params.append(hood)
        if service:
            where.append("EXISTS (SELECT 1 FROM json_each(o.services) WHERE value = ?)")
            params.append(models.choice("service", service, models.REFERRAL_SERVICES))
        sql = (
            "SELECT o.*, (SELECT count(*) FROM referrals r WHERE r.organization_id = o.id "
            f"AND r.deleted = 0) AS referral_count FROM organizations o WHERE {' AND '.join(where)}"
            " ORDER BY o.name COLLATE NOCASE"
        )
        if limit:
            sql += f" LIMIT {int(limit)}"
        return self.with_short_ids("organizations", self.query(sql, params))

    # ------------------------------------------------------------------ contacts
    def _contact_values(self, values: Mapping[str, Any], *, partial: bool) -> dict[str, Any]:
        vals = dict(values)
        org_ref = vals.pop("organization", None)
        if org_ref is not None:
            vals["organization_id"] = self.org_id(org_ref)
        if "occurred_at" in vals:
            vals["occurred_at"] = _when(vals["occurred_at"], "date")
        if "follow_up_on" in vals:
            vals["follow_up_on"] = _day(vals["follow_up_on"], "follow-up")
        clean = records.clean("contacts", vals, partial=partial)
        if not partial:
            clean.setdefault("occurred_at", dates.to_storage(dates.now()))
            if not clean.get("neighborhood"):
                hood = self.meta().get("default_hood")
                if hood:
                    clean["neighborhood"] = hood
        return clean

    def add_contact(
        self,
        values: Mapping[str, Any],
        concerns: Iterable[Mapping[str, Any]] = (),
        referrals: Iterable[Mapping[str, Any]] = (),
    ) -> str:
        """A contact with its concerns and referrals, in one transaction; returns its id."""
        return self.save_entry(values, concerns, referrals)

    def save_entry(
        self,
        values: Mapping[str, Any],
        concerns: Iterable[Mapping[str, Any]] = (),
        referrals: Iterable[Mapping[str, Any]] = (),
        *,
        contact: str | None = None,
        draft: str | None = None,
    ) -> str:
        """One entry, in one transaction: a new contact (``contact=None``) or the fields of
        ``values`` changed on ``contact``, with the concerns and referrals typed with it.

        The entry rule applies to the concerns and referrals of this entry alike on every
        path (CLI add, TUI new and edit, import): one concern and referrals on the same
        entry, and the referrals answer that concern. ``draft`` names a TUI draft that goes
        in the same transaction. Returns the contact id.
        """
        if contact is None:
            head, clean_concerns, clean_refs = self.clean_contact_entry(
                values, list(concerns), list(referrals)
            )
            rid = None
        else:
            rid = self.resolve("contacts", contact)
            head = self._contact_values(values, partial=True)
            follow = self.scalar("SELECT follow_up_on FROM contacts WHERE id = ?", [rid])
            _, clean_concerns, clean_refs = self.clean_contact_entry(
                {"summary": "-", "follow_up_on": head.get("follow_up_on", follow)},
                list(concerns),
                list(referrals),
            )
        with self.write() as tx:
            if rid is None:
                rid = tx.insert("contacts", head)
            elif head:
                tx.update("contacts", rid, head)
            concern_ids = [tx.insert("concerns", {**c, "contact_id": rid}) for c in clean_concerns]
            for r in clean_refs:
                if len(concern_ids) == 1 and not r.get("concern_id"):
                    r["concern_id"] = concern_ids[0]
                tx.insert("referrals", {**r, "contact_id": rid})
            if draft is not None:
                tx.conn.execute("DELETE FROM meta WHERE key = ?", [f"draft:{draft}"])
        return rid

    def update_contact(self, ref: str, values: Mapping[str, Any]) -> Row:
        rid = self.resolve("contacts", ref)
        clean = self._contact_values(values, partial=True)
        with self.write() as tx:
            tx.update("contacts", rid, clean)
        return self.get_contact(rid)

    def delete_contact(self, ref: str) -> str:
        """Tombstone a contact with its concerns and referrals."""
        rid = self.resolve("contacts", ref)
        with self.write() as tx:
            for table in records.children("contacts"):
                for child in self.query(
                    f"SELECT id FROM {table} WHERE contact_id = ? AND deleted = 0", [rid]
                ):
                    tx.tombstone(table, child["id"])
            tx.tombstone("contacts", rid)
        return rid

    def get_contact(self, ref: str) -> Row:
        rid = self.resolve("contacts", ref)
        rows = self.query(
            "SELECT c.*, o.name AS organization_name FROM contacts c "
            "LEFT JOIN organizations o ON o.id = c.organization_id WHERE c.id = ?",
            [rid],
        )
        contact = self.with_short_ids("contacts", rows)[0]
        contact["concerns"] = self.with_short_ids(
            "concerns",
            self.query(
                "SELECT * FROM concerns WHERE contact_id = ? AND deleted = 0 ORDER BY id", [rid]
            ),
        )
        contact["referrals"] = self.with_short_ids(
            "referrals",
            self.query(
                "SELECT * FROM referrals WHERE contact_id = ? AND deleted = 0 ORDER BY id", [rid]
            ),
        )
        return contact

    def list_contacts(
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
    ) -> list[Row]:
        """Contacts, newest first, with their concern and referral counts."""
        where, params = ["c.deleted = 0"], []
        if since:
            where.append("c.occurred_at >= ?")
            params.append(dates.to_storage(dates.parse_when(since, field="since").at))
        if until:
            where.append("c.occurred_at < ?")
            params.append(dates.to_storage(dates.parse_when(until, field="until").end()))
        if hood:
            where.append("c.neighborhood = ? COLLATE NOCASE")
            params.append(hood.strip())
        if officer:
            where.append("c.officer = ? COLLATE NOCASE")
            params.append(officer.strip())
        if tag:
            where.append("EXISTS (SELECT 1 FROM json_each(c.tags) WHERE value = ?)")
            params.append(next(iter(models.tag_list([tag])), tag))
        if kind:
            where.append("c.kind = ?")
            params.append(models.choice("kind", kind, models.CONTACT_KINDS))
        if query and query.strip():
            where.append(
                "c.id IN (SELECT contact_id FROM search_hits WHERE contact_id IS NOT NULL)"
            )
        sql = (
            "SELECT c.*, o.name AS organization_name, "
            "(SELECT count(*) FROM concerns x WHERE x.contact_id = c.id AND x.deleted = 0) "
            "AS concern_count, "
            "(SELECT count(*) FROM referrals x WHERE x.contact_id = c.id AND x.deleted = 0) "
            "AS referral_count FROM contacts c "
            "LEFT JOIN organizations o ON o.id = c.organization_id "
            f"WHERE {' AND '.join(where)} ORDER BY c.occurred_at DESC, c.id DESC"
        )
        if limit:
            sql += f" LIMIT {int(limit)} OFFSET {int(offset)}"
        if query and query.strip():
            sql = f"WITH search_hits AS ({_hits_sql()}) {sql}"
            params = [fts_query(query)] * len(records.FTS_COLUMNS) + params
        return self.with_short_ids("contacts", self.query(sql, params))

    def dashboard(self) -> dict[str, Any]:
        """The figures of the start screen, all counted in SQL (indexes, no full reads)."""
        now_local = dates.now_local()
        today = dates.localize(
            now_local.replace(tzinfo=None, hour=0, minute=0, second=0, microsecond=0)
        )
        week = today - timedelta(days=today.weekday())
        today_s, week_s = dates.to_storage(today), dates.to_storage(week)
        day = dates.today_local()
        return {
            "contacts_today": self.scalar(
                "SELECT count(*) FROM contacts WHERE deleted = 0 AND occurred_at >= ?", [today_s]
            ),
            "contacts_week": self.scalar(
                "SELECT count(*) FROM contacts WHERE deleted = 0 AND occurred_at >= ?", [week_s]
            ),
            "contacts_total": self.count_contacts(),
            "open_concerns": {
                r["category"]: r["n"]
                for r in self.query(
                    "SELECT category, count(*) AS n FROM concerns WHERE deleted = 0 "
                    "AND status != 'resolved' GROUP BY category ORDER BY n DESC"
                )
            },
            "referrals": {
                r["status"]: r["n"]
                for r in self.query(
                    "SELECT status, count(*) AS n FROM referrals WHERE deleted = 0 "
                    "GROUP BY status ORDER BY n DESC"
                )
            },
            "followups_due": self.scalar(
                "SELECT (SELECT count(*) FROM referrals WHERE deleted = 0 AND follow_up_on = :d "
                f"AND status IN {models.REFERRAL_OPEN_STATUSES!r}) + (SELECT count(*) FROM "
                "contacts WHERE deleted = 0 AND follow_up_on = :d)",
                {"d": day},
            ),
            "followups_overdue": self.scalar(
                "SELECT (SELECT count(*) FROM referrals WHERE deleted = 0 AND follow_up_on < :d "
                f"AND status IN {models.REFERRAL_OPEN_STATUSES!r}) + (SELECT count(*) FROM "
                "contacts WHERE deleted = 0 AND follow_up_on < :d)",
                {"d": day},
            ),
            "last_sync": self.meta().get("last_sync"),
        }

    def count_contacts(self) -> int:
        return int(self.scalar("SELECT count(*) FROM contacts WHERE deleted = 0") or 0)

    # ------------------------------------------------------------------ concerns
    def _concern_values(self, values: Mapping[str, Any], *, partial: bool) -> dict[str, Any]:
        vals = dict(values)
        if "resolved_at" in vals and vals["resolved_at"] is not None:
            vals["resolved_at"] = _when(vals["resolved_at"], "resolved date")
        clean = records.clean("concerns", vals, partial=partial)
        if clean.get("status") == "resolved" and not clean.get("resolved_at"):
            clean["resolved_at"] = dates.to_storage(dates.now())
        return clean

    def add_concern(self, contact_ref: str, **values: Any) -> str:
        cid = self.resolve("contacts", contact_ref)
        clean = self._concern_values(values, partial=False)
        with self.write() as tx:
            return tx.insert("concerns", {**clean, "contact_id": cid})

    def update_concern(self, ref: str, **values: Any) -> Row:
        rid = self.resolve("concerns", ref)
        clean = self._concern_values(values, partial=True)
        current = self.query("SELECT status FROM concerns WHERE id = ?", [rid])[0]
        if clean.get("resolution") and "status" not in clean and current["status"] != "resolved":
            clean["status"] = "resolved"
            clean["resolved_at"] = dates.to_storage(dates.now())
        if clean.get("status") and clean["status"] != "resolved" and "resolved_at" not in clean:
            clean["resolved_at"] = None  # reopened
        with self.write() as tx:
            tx.update("concerns", rid, clean)
        return self.get("concerns", rid)

    def list_concerns(
        self,
        *,
        status: str | None = None,
        category: str | None = None,
        hood: str | None = None,
        contact: str | None = None,
        limit: int | None = 100,
    ) -> list[Row]:
        where, params = ["k.deleted = 0"], []
        if status:
            if models.norm_word(status) == "unresolved":
                where.append("k.status != 'resolved'")
            else:
                where.append("k.status = ?")
                params.append(models.choice("status", status, models.CONCERN_STATUSES))
        if category:
            where.append("k.category = ?")
            params.append(models.choice("category", category, models.CONCERN_CATEGORIES))
        if hood:
            where.append("c.neighborhood = ? COLLATE NOCASE")
            params.append(hood)
        if contact:
            where.append("k.contact_id = ?")
            params.append(self.resolve("contacts", contact))
        sql = (
            "SELECT k.*, c.occurred_at AS contact_occurred_at, c.neighborhood, "
            "c.summary AS contact_summary FROM concerns k JOIN contacts c ON c.id = k.contact_id "
            f"WHERE {' AND '.join(where)} ORDER BY k.id DESC"
        )
        if limit:
            sql += f" LIMIT {int(limit)}"
        return self.with_short_ids("concerns", self.query(sql, params))

    # ------------------------------------------------------------------ referrals
    def _referral_values(
        self, values: Mapping[str, Any], *, partial: bool, default_follow_up: str | None = None
    ) -> dict[str, Any]:
        vals = dict(values)
        if "follow_up_on" in vals:
            vals["follow_up_on"] = _day(vals["follow_up_on"], "follow-up")
        agency = vals.get("agency")
        if agency is not None and str(agency).strip() and "organization_id" not in vals:
            org = self.find_org(str(agency))
            if org is not None:
                vals["organization_id"] = org["id"]
                vals["agency"] = org["name"]
                if not vals.get("service") and len(org["services"]) == 1:
                    vals["service"] = org["services"][0]
        clean = records.clean("referrals", vals, partial=partial)
        if not partial and "follow_up_on" not in vals:
            clean["follow_up_on"] = (
                default_follow_up
                or (dates.now_local().date() + timedelta(days=REFERRAL_FOLLOW_UP_DAYS)).isoformat()
            )
        return clean

    def add_referral(self, contact_ref: str, agency: str, **values: Any) -> str:
        cid = self.resolve("contacts", contact_ref)
        concern = values.pop("concern", None)
        if concern:
            values["concern_id"] = self.resolve("concerns", concern)
        clean = self._referral_values({**values, "agency": agency}, partial=False)
        with self.write() as tx:
            rid = tx.insert("referrals", {**clean, "contact_id": cid})
            if clean.get("concern_id"):
                status = self.scalar(
                    "SELECT status FROM concerns WHERE id = ?", [clean["concern_id"]]
                )
                if status == "open":
                    tx.update("concerns", clean["concern_id"], {"status": "referred"})
        return rid

    def update_referral(self, ref: str, **values: Any) -> Row:
        rid = self.resolve("referrals", ref)
        clean = self._referral_values(values, partial=True)
        with self.write() as tx:
            tx.update("referrals", rid, clean)
        return self.get("referrals", rid)

    def list_referrals(
        self,
        *,
        status: str | None = None,
        service: str | None = None,
        organization: str | None = None,
        contact: str | None = None,
        limit: int | None = 100,
    ) -> list[Row]:
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
            params.append(self.resolve_org_ref(organization))
        if contact:
            where.append("r.contact_id = ?")
            params.append(self.resolve("contacts", contact))
        sql = (
            "SELECT r.*, c.occurred_at AS contact_occurred_at, c.neighborhood, "
            "c.person_name, c.summary AS contact_summary FROM referrals r "
            f"JOIN contacts c ON c.id = r.contact_id WHERE {' AND '.join(where)} "
            "ORDER BY r.id DESC"
        )
        if limit:
            sql += f" LIMIT {int(limit)}"
        return self.with_short_ids("referrals", self.query(sql, params))

    # ------------------------------------------------------------------ follow-ups
    def followups(self, *, until: str | None = None, limit: int | None = None) -> list[Row]:
        """Open referrals and contacts whose follow-up date is due by ``until`` (default today).

        Oldest first; ``overdue`` is true when the date is before today.
        """
        end = dates.parse_day(until, future=True, field="until") if until else dates.today_local()
        today = dates.today_local()
        sql = f"""
            SELECT 'referral' AS type, r.id, r.follow_up_on, r.contact_id, r.status,
                   r.agency AS subject, r.reason AS detail, c.person_name, c.neighborhood,
                   r.officer
            FROM referrals r JOIN contacts c ON c.id = r.contact_id
            WHERE r.deleted = 0 AND r.follow_up_on IS NOT NULL AND r.follow_up_on <= :end
              AND r.status IN {models.REFERRAL_OPEN_STATUSES!r}
            UNION ALL
            SELECT 'contact', c.id, c.follow_up_on, c.id, NULL, c.summary, c.notes,
                   c.person_name, c.neighborhood, c.officer
            FROM contacts c
            WHERE c.deleted = 0 AND c.follow_up_on IS NOT NULL AND c.follow_up_on <= :end
            ORDER BY 3, 2
        """
        if limit:
            sql += f" LIMIT {int(limit)}"
        rows = self.query(sql, {"end": end})
        for r in rows:
            r["overdue"] = r["follow_up_on"] < today
            r["short_id"] = self.short_id(r["type"] + "s", r["id"])
        return rows

    # ------------------------------------------------------------------ search
    def search(self, text: str, *, limit: int = 20) -> list[Row]:
        """Ranked full-text hits over every record type; ``snippet`` marks matches
        with the characters \\x02 and \\x03."""
        match = fts_query(text)
        if match is None:
            return []
        sql = f"{_hits_sql(snippets=True)} ORDER BY rank LIMIT {int(limit)}"
        rows = self.query(sql, [match] * len(records.FTS_COLUMNS))
        for r in rows:
            r["short_id"] = self.short_id(r["type"] + "s", r["id"])
        return rows

    # ------------------------------------------------------------------ bulk (demo, import)
    @contextmanager
    def bulk_index(self, tables: Sequence[str]) -> Iterator[None]:
        """Inside a write: suspend the per-row search triggers of ``tables`` and index the
        new rows in one statement at the end (15x faster for 100,000 rows).

        The triggers are dropped and re-created from their own stored SQL inside the caller's
        transaction, so other connections never see them missing and a rollback restores them.
        """
        from fieldlog.db.migrations import FTS_COLUMNS

        saved = []
        marks = {}
        self.conn.execute("PRAGMA cache_size = -262144")  # 256 MB while loading
        for table in tables:
            marks[table] = self.scalar(f"SELECT coalesce(max(rowid), 0) FROM {table}")
            for name, sql in self.conn.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ? "
                "AND name = ?",
                [table, f"{table}_ai"],
            ).fetchall():
                saved.append(sql)
                self.conn.execute(f"DROP TRIGGER {name}")
        yield
        for table in tables:
            cols = ", ".join(FTS_COLUMNS[table])
            self.conn.execute(
                f"INSERT INTO {table}_fts (rowid, {cols}) SELECT rowid, {cols} FROM {table} "
                "WHERE rowid > ? AND deleted = 0",
                [marks[table]],
            )
        for sql in saved:
            self.conn.execute(sql)
        self.conn.execute("PRAGMA cache_size = -2000")  # back to SQLite's default

    def insert_many(self, table: str, rows: Iterable[Row]) -> int:
        """Insert fully formed rows (sync columns included) in the current transaction."""
        n = 0
        cols: list[str] | None = None
        batch: list[tuple] = []
        changes: list[tuple] = []
        mark = self.scalar(f"SELECT coalesce(max(rowid), 0) FROM {table}")  # for the audit
        for row in rows:
            if cols is None:
                cols = list(row)
            batch.append(tuple(_enc(c, row[c]) for c in cols))
            changes.append((table, row["id"], row["hlc"], "*"))
            n += 1
        if cols:
            self.conn.executemany(
                f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                batch,
            )
            self.conn.executemany(
                "INSERT INTO changes (tbl, row_id, hlc, fields) VALUES (?, ?, ?, ?)", changes
            )
            audit.append_inserted(
                self.conn,
                table,
                mark,
                officer=self.officer(),
                origin=self.scalar("SELECT value FROM meta WHERE key = 'device_id'") or "",
                at=dates.stamp_now(),
            )
        return n

    # ------------------------------------------------------------------ export
    # (methods that stream rows for fieldlog/export.py go here)
    # ``export_raw_rows`` streams the cells as stored; fieldlog/export.py quotes, neutralises
    # and converts them. The SQL expressions here (``export_rows``: one CSV line per row, or
    # ``form="cells"`` converted but unquoted, for redaction) define the exact output, and
    # ``export_value`` applies them to the odd values export.py's fast path leaves.
    _EXPORT_TABLES = ("contacts", "concerns", "referrals", "organizations", "flat")
    _EXPORT_FILTERS = ("since", "until", "officer", "hood", "tag", "category", "status")
    # Which filters each table understands; the others are refused (or skipped by ``all``).
    _EXPORT_APPLIES = {
        "contacts": {"since", "until", "officer", "hood", "tag", "category"},
        "concerns": {"since", "until", "officer", "hood", "tag", "category", "status"},
        "referrals": {"since", "until", "officer", "hood", "tag", "category", "status"},
        "organizations": {"officer", "hood", "status"},
        "flat": {"since", "until", "officer", "hood", "tag", "category", "status"},
    }
    _EXPORT_FLAT_ARMS = {
        "concern": (
            "SELECT 'concern' AS record_type, k.id AS record_id, k.contact_id AS contact_id, "
            "c.occurred_at AS occurred_at, c.officer AS officer, c.neighborhood AS neighborhood, "
            "c.kind AS kind, c.summary AS summary, k.category AS category, "
            "k.priority AS priority, k.status AS status, k.description AS description, "
            "NULL AS agency, NULL AS service, NULL AS reason, NULL AS follow_up_on, "
            "NULL AS outcome, k.resolved_at AS resolved_at "
            "FROM concerns k JOIN contacts c ON c.id = k.contact_id"
        ),
        "referral": (
            "SELECT 'referral', r.id, r.contact_id, c.occurred_at, c.officer, c.neighborhood, "
            "c.kind, c.summary, (SELECT x.category FROM concerns x WHERE x.id = r.concern_id), "
            "NULL, r.status, NULL, r.agency, r.service, r.reason, r.follow_up_on, r.outcome, "
            "NULL FROM referrals r JOIN contacts c ON c.id = r.contact_id"
        ),
    }

    @staticmethod
    def _tz_spans(lo: int = 1990, hi: int = 2050) -> list[tuple[str, int]]:
        """The local zone's UTC offsets (minutes) from ``lo`` to ``hi``: (UTC start as
        ``YYYY-MM-DDTHH:MM:SS``, offset) per span, from ``time.localtime`` (what Python's
        ``astimezone()`` uses). Cached per zone."""
        import calendar
        import os
        import time

        key = (os.environ.get("TZ"), time.tzname, lo, hi)
        cached = Store._TZ_CACHE.get(key)
        if cached is not None:
            return cached

        def off(ts: int) -> int:
            return time.localtime(ts).tm_gmtoff

        start = calendar.timegm((lo, 1, 1, 0, 0, 0))
        end = calendar.timegm((hi, 1, 1, 0, 0, 0))
        spans = [(time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(start)), off(start))]
        step = 6 * 3600
        t, cur = start, off(start)
        while t < end:
            nxt = min(t + step, end)
            if off(nxt) != cur:
                a, b = t, nxt  # off(a) == cur != off(b): find the first second of the change
                while b - a > 1:
                    m = (a + b) // 2
                    a, b = (m, b) if off(m) == cur else (a, m)
                cur = off(b)
                spans.append((time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(b)), cur))
            t = nxt
        result = [(at, o // 60) for at, o in spans]
        if any(o % 60 for _, o in spans):
            result = []  # offsets with seconds (old local mean times): SQLite's own way
        Store._TZ_CACHE[key] = result
        return result

    _TZ_CACHE: dict[tuple, list[tuple[str, int]]] = {}

    @staticmethod
    def sql_local_iso(x: str, *, ms: bool = False) -> str:
        """SQL for a stored UTC text ``x`` as local ISO 8601 with the offset in force at that
        instant (NULL stays NULL); ``ms`` keeps the stored milliseconds, if any.

        Between 1990 and 2050 the offsets come from a table of the zone's transitions (a binary
        search of CASEs on the text, then a fixed shift), 10x faster than SQLite's
        ``localtime``, which the years outside use."""
        frac = f" || rtrim(substr({x}, 20, 4), 'Z')" if ms else ""

        def text(m: int) -> str:
            return f"{'-' if m < 0 else '+'}{abs(m) // 60:02d}:{abs(m) % 60:02d}"

        m = f"CAST(round((julianday({x}, 'localtime') - julianday({x})) * 1440) AS INTEGER)"
        generic = (
            f"strftime('%Y-%m-%dT%H:%M:%S', {x}, 'localtime'){frac} || CASE WHEN {m} < 0 "
            f"THEN '-' ELSE '+' END || printf('%02d:%02d', abs({m}) / 60, abs({m}) % 60)"
        )
        spans = Store._tz_spans()
        if not spans:
            return generic

        def node(a: int, b: int) -> str:
            if b - a == 1:
                shift = spans[a][1]
                return (
                    f"replace(datetime({x}, '{shift:+d} minutes'), ' ', 'T'){frac} "
                    f"|| '{text(shift)}'"
                )
            mid = (a + b) // 2
            return f"CASE WHEN {x} < '{spans[mid][0]}' THEN {node(a, mid)} ELSE {node(mid, b)} END"

        return (
            f"CASE WHEN {x} < '1990-01-01' OR {x} >= '2050-01-01' THEN {generic} "
            f"ELSE {node(0, len(spans))} END"
        )

    @staticmethod
    def sql_csv_cell(x: str, *, raw: bool = False) -> str:
        """SQL for ``x`` as one RFC 4180 cell ('' for NULL), with a leading ``'`` when it would
        run as a spreadsheet formula unless ``raw``. (Control characters are literal in the
        SQL text: a ``char(10)`` call per cell costs 10% of an export.)"""
        need = f"instr({x}, '\"') OR instr({x}, ',') OR instr({x}, '\n') OR instr({x}, '\r')"
        quoted = f"replace({x}, '\"', '\"\"')"
        if raw:
            return f"CASE WHEN {need} THEN '\"' || {quoted} || '\"' ELSE ifnull({x}, '') END"
        risky = f"substr({x}, 1, 1) IN ('=', '+', '-', '@', '\t', '\r')"
        # Cheap comparisons first: only text from '\t' to '-' or from '=' to '@' can be risky.
        maybe = f"{x} < '.' OR ({x} >= '=' AND {x} < 'A')"
        return (
            f"CASE WHEN {need} THEN '\"' || CASE WHEN {risky} THEN '''' ELSE '' END || {quoted} "
            f"|| '\"' WHEN {maybe} THEN CASE WHEN {risky} THEN '''' || {x} ELSE {x} END "
            f"ELSE ifnull({x}, '') END"
        )

    @staticmethod
    def _sql_list(x: str) -> str:
        # JSON list -> "a;b": plain string surgery for the usual '["a", "b"]', json_each else.
        return (
            f"CASE WHEN {x} IS NULL OR {x} = '[]' THEN '' "
            f"WHEN instr({x}, '\\') = 0 AND instr({x}, '\",\"') = 0 "
            f"THEN replace(substr({x}, 3, length({x}) - 4), '\", \"', ';') "
            f"ELSE (SELECT group_concat(j.value, ';') FROM json_each({x}) j) END"
        )

    def _export_where(
        self, table: str, filters: Mapping[str, str | None], *, strict: bool
    ) -> tuple[list[str], list[str], list[Any], list[Any]]:
        """WHERE terms and parameters: (contact-level, own-row) for the table."""
        given = {k: v for k, v in filters.items() if v not in (None, "")}
        unknown = set(given) - set(self._EXPORT_FILTERS)
        if unknown:
            raise ValueError(f"unknown export filters {sorted(unknown)}")
        skipped = set(given) - self._EXPORT_APPLIES[table]
        if skipped and strict:
            f = sorted(skipped)[0]
            raise ValidationError(
                f,
                f"--{f} does not apply to {table}: it applies to "
                + ", ".join(t for t, a in self._EXPORT_APPLIES.items() if f in a)
                + ".",
            )
        given = {k: v for k, v in given.items() if k not in skipped}
        c_where: list[str] = []
        c_params: list[Any] = []
        if table == "organizations":
            if "officer" in given:
                c_where.append("o.officer = ? COLLATE NOCASE")
                c_params.append(str(given["officer"]).strip())
            if "hood" in given:
                c_where.append("o.neighborhood = ? COLLATE NOCASE")
                c_params.append(str(given["hood"]).strip())
            if "status" in given:
                c_where.append("o.status = ?")
                c_params.append(
                    models.choice(
                        "status",
                        given["status"],
                        self._export_statuses(models.ORG_STATUSES, strict=strict),
                    )
                )
            return c_where, [], c_params, []
        if "since" in given:
            c_where.append("c.occurred_at >= ?")
            c_params.append(dates.to_storage(dates.parse_when(given["since"], field="since").at))
        if "until" in given:
            c_where.append("c.occurred_at < ?")
            c_params.append(dates.to_storage(dates.parse_when(given["until"], field="until").end()))
        if "officer" in given:
            c_where.append("c.officer = ? COLLATE NOCASE")
            c_params.append(str(given["officer"]).strip())
        if "hood" in given:
            c_where.append("c.neighborhood = ? COLLATE NOCASE")
            c_params.append(str(given["hood"]).strip())
        if "tag" in given:
            c_where.append("EXISTS (SELECT 1 FROM json_each(c.tags) WHERE value = ?)")
            c_params.append(next(iter(models.tag_list([given["tag"]])), given["tag"]))
        own: list[str] = []
        own_params: list[Any] = []
        if "category" in given:
            cat = models.choice("category", given["category"], models.CONCERN_CATEGORIES)
            if table == "contacts":
                c_where.append(
                    "EXISTS (SELECT 1 FROM concerns x WHERE x.contact_id = c.id "
                    "AND x.deleted = 0 AND x.category = ?)"
                )
                c_params.append(cat)
            else:
                own.append(f"category = {cat!r}")  # a vocabulary word: safe to inline
        if "status" in given:
            vocab = {
                "concerns": models.CONCERN_STATUSES,
                "referrals": models.REFERRAL_STATUSES,
                "flat": models.CONCERN_STATUSES
                + tuple(s for s in models.REFERRAL_STATUSES if s not in models.CONCERN_STATUSES),
            }.get(table)
            vocab = self._export_statuses(vocab or (), strict=strict)
            own.append(f"status = {models.choice('status', given['status'], vocab)!r}")
        return c_where, own, c_params, own_params

    def _export_inner(
        self,
        table: str,
        filters: Mapping[str, str | None],
        *,
        strict: bool,
        columns: Sequence[str] = (),
        with_lists: bool = True,
        rowids: tuple[int | None, int | None] = (None, None),
    ) -> tuple[str, list[Any]]:
        c_where, own, params, _ = self._export_where(table, filters, strict=strict)
        if table == "flat":
            arms = []
            all_params: list[Any] = []
            for name, arm in self._EXPORT_FLAT_ARMS.items():
                a = "k" if name == "concern" else "r"
                where = [f"{a}.deleted = 0", "c.deleted = 0", *c_where]
                for term in own:
                    if term.startswith("category"):
                        if name == "concern":
                            where.append(f"k.{term}")
                        else:
                            where.append(self._referral_category(term))
                    else:
                        where.append(f"{a}.{term}")
                arms.append(f"{arm} WHERE {' AND '.join(where)}")
                all_params += params
            sql = (
                f"SELECT * FROM ({' UNION ALL '.join(arms)}) "
                "ORDER BY occurred_at, contact_id, record_type, record_id"
            )
            return sql, all_params
        a = {"contacts": "c", "concerns": "k", "referrals": "r", "organizations": "o"}[table]
        src = {
            "contacts": "contacts c",
            "concerns": "concerns k JOIN contacts c ON c.id = k.contact_id",
            "referrals": "referrals r JOIN contacts c ON c.id = r.contact_id",
            "organizations": "organizations o",
        }[table]
        where = [f"{a}.deleted = 0"]
        if table in ("concerns", "referrals"):
            where.append("c.deleted = 0")
        where += c_where
        lo, hi = rowids  # a slice of the table, for an export split across processes
        if lo is not None:
            where.append(f"{a}.rowid >= {int(lo)}")
        if hi is not None:
            where.append(f"{a}.rowid < {int(hi)}")
        for term in own:
            if table == "referrals" and term.startswith("category"):
                where.append(self._referral_category(term))
            else:
                where.append(f"{a}.{term}")
        # Lists are joined here, once per row: the outer query reads the result (the ORDER BY
        # keeps this a co-routine) where inlining would repeat it in every test of the cell.
        lists = (
            ""
            if not with_lists
            else "".join(
                f", {self._sql_list(f'{a}.{f}')} AS _list_{f}"
                for f in sorted(records.LIST_FIELDS)
                if f in records.TABLE_FIELDS[table]
            )
        )
        # Only the exported columns: ``*`` would also decode the (large) per-field clocks.
        cols = ", ".join(f"{a}.{c}" for c in columns) if columns else f"{a}.*"
        sql = f"SELECT {cols}{lists} FROM {src} WHERE {' AND '.join(where)} ORDER BY {a}.rowid"
        return sql, params

    @staticmethod
    def _export_statuses(vocab: tuple[str, ...], *, strict: bool) -> tuple[str, ...]:
        # ``all`` takes any status word of any table (a table without it exports no rows).
        if strict:
            return vocab
        return tuple(
            dict.fromkeys(models.CONCERN_STATUSES + models.REFERRAL_STATUSES + models.ORG_STATUSES)
        )

    @staticmethod
    def _referral_category(term: str) -> str:
        # A referral's category: its concern's, or (no concern linked) any of its contact's.
        return (
            "CASE WHEN r.concern_id IS NOT NULL THEN EXISTS (SELECT 1 FROM concerns x "
            f"WHERE x.id = r.concern_id AND x.{term}) ELSE EXISTS (SELECT 1 FROM concerns x "
            f"WHERE x.contact_id = r.contact_id AND x.deleted = 0 AND x.{term}) END"
        )

    def export_check(self, table: str, filters: Mapping[str, str | None]) -> None:
        """Validate filters for ``table`` (or ``"all"``) without reading: raises ValidationError."""
        for t in self._EXPORT_TABLES if table == "all" else (table,):
            self._export_where(t, filters, strict=table != "all")

    def export_count(
        self, table: str, filters: Mapping[str, str | None], *, strict: bool = True
    ) -> int:
        inner, params = self._export_inner(table, filters, strict=strict)
        return int(self.scalar(f"SELECT count(*) FROM ({inner})", params) or 0)

    def export_rows(
        self,
        table: str,
        columns: Sequence[str],
        filters: Mapping[str, str | None],
        *,
        form: str = "line",
        raw: bool = False,
        eol: str = "\n",
        strict: bool = True,
        batch: int = 5000,
    ) -> Iterator[list[tuple]]:
        """Batches of rows of an export, streamed with ``fetchmany`` (constant memory).

        ``form="line"``: 1-tuples, each a whole CSV line ending in ``eol``. ``form="cells"``:
        one converted but unquoted text (or None) per column, local times and lists done.
        ``strict=False`` (``all``) skips filters that do not apply to ``table``.
        """
        if table not in self._EXPORT_TABLES:
            raise ValueError(table)
        inner, params = self._export_inner(table, filters, strict=strict, columns=columns)
        cells = []
        for col in columns:
            if col in ("created_at", "updated_at"):
                e = self.sql_local_iso(col, ms=True)
            elif col in ("occurred_at", "resolved_at"):
                e = self.sql_local_iso(col)
            elif col in records.LIST_FIELDS:
                e = f"_list_{col}"
                if form == "line":
                    e = self.sql_csv_cell(e, raw=raw)
            elif form == "line":
                e = self.sql_csv_cell(col, raw=raw)
            else:
                e = col
            cells.append(e)
        if form == "line":  # one printf: a single allocation per line
            select = f"printf('{','.join(['%s'] * len(cells))}{eol}', {', '.join(cells)})"
        else:
            select = ", ".join(cells)
        sql = f"SELECT {select} FROM ({inner})"
        try:
            cur = self.conn.execute(sql, params)
            while rows := cur.fetchmany(batch):
                yield rows
        except self.db_error as exc:
            raise explain(exc, self.path) from None

    def export_raw_rows(
        self,
        table: str,
        columns: Sequence[str],
        filters: Mapping[str, str | None],
        *,
        strict: bool = True,
        batch: int = 5000,
        rowids: tuple[int | None, int | None] = (None, None),
    ) -> Iterator[list[tuple]]:
        """Batches of an export's rows as stored (fetchmany, constant memory): NULL comes back
        as None (export.py makes it ``''`` where a column holds one: cheaper than an ``ifnull``
        per cell), times as stored UTC text and lists as stored JSON. fieldlog/export.py
        converts and quotes them, byte for byte as :meth:`export_rows` with ``form="line"``
        would (values it cannot convert exactly go through :meth:`export_value`)."""
        if table not in self._EXPORT_TABLES:
            raise ValueError(table)
        inner, params = self._export_inner(
            table, filters, strict=strict, columns=columns, with_lists=False, rowids=rowids
        )
        select = ", ".join(columns)
        try:
            cur = self.conn.execute(f"SELECT {select} FROM ({inner})", params)
            while rows := cur.fetchmany(batch):
                yield rows
        except self.db_error as exc:
            raise explain(exc, self.path) from None

    def export_split_rowid(self, table: str) -> int | None:
        """The rowid that splits a table in two (None for a small table or the flat view): the
        middle of its rowid range (see :meth:`export_rowid_chunks`)."""
        chunks = self.export_rowid_chunks(table, 2)
        return None if chunks is None else chunks[-1][0]

    def export_rowid_chunks(
        self, table: str, parts: int
    ) -> list[tuple[int | None, int | None]] | None:
        """Consecutive rowid ranges ``(from, below)`` (None: open) that cover a table, about
        ``parts`` of them, for an export shared between processes; None for the flat view or a
        table whose rowids span fewer than ``EXPORT_SPLIT_MIN_ROWS``. Two index lookups, no
        count: deleted or filtered-out rows make the ranges uneven, which the processes even
        out by taking ranges one at a time."""
        if table not in ("contacts", "concerns", "referrals", "organizations"):
            return None
        if self.encrypted and self.scratch_dir() is None:
            return None  # the forked part goes through a temp file: only in memory, or not at all
        lo = self.scalar(f"SELECT min(rowid) FROM {table}")
        hi = self.scalar(f"SELECT max(rowid) FROM {table}")
        if lo is None or hi is None or hi - lo + 1 < EXPORT_SPLIT_MIN_ROWS:
            return None
        step = (hi - lo + 1) / max(parts, 2)
        cuts = sorted({lo + round(step * i) for i in range(1, max(parts, 2))})
        bounds: list[int | None] = [None, *cuts, None]
        return list(zip(bounds[:-1], bounds[1:], strict=True))

    def export_value(self, kind: str, value: Any) -> str:
        """One stored value as :meth:`export_rows` converts it, before quoting: ``kind`` is
        ``time``, ``time_ms``, ``list`` or ``text``. For the rare values export.py's fast
        path does not handle (odd time texts, lists needing JSON decoding, non-text values)."""
        expr = {
            "time": self.sql_local_iso(":x"),
            "time_ms": self.sql_local_iso(":x", ms=True),
            "list": self._sql_list(":x"),
            "text": ":x",
        }[kind]
        got = self.conn.execute(f"SELECT printf('%s', {expr})", {"x": value}).fetchone()[0]
        return str(got)

    def export_private_values(self) -> tuple[set[str], set[str]]:
        """For ``--redact``: every distinct person name (contacts, partners' contact people),
        and every other personal value (partners' phones, e-mails, addresses, contact
        locations), as stored (non-empty)."""
        names = {
            r[0]
            for r in self.conn.execute(
                "SELECT person_name FROM contacts WHERE person_name IS NOT NULL "
                "AND person_name != '' UNION SELECT contact_person FROM organizations "
                "WHERE contact_person IS NOT NULL AND contact_person != ''"
            )
        }
        other = {
            r[0]
            for r in self.conn.execute(
                "SELECT phone FROM organizations UNION SELECT email FROM organizations "
                "UNION SELECT address FROM organizations UNION SELECT location FROM contacts"
            )
            if r[0]
        }
        return names, other

    # ------------------------------------------------------------------ import
    # (methods that write imported rows for fieldlog/importer.py go here)
    def import_present(self, table: str, rids: Sequence[str]) -> dict[str, tuple[str, bool]]:
        """``id -> (updated_at, deleted)`` for those of ``rids`` already in ``table``."""
        if table not in records.TABLE_FIELDS:
            raise ValueError(table)
        found: dict[str, tuple[str, bool]] = {}
        unique = list(dict.fromkeys(rids))
        for i in range(0, len(unique), 500):
            chunk = unique[i : i + 500]
            for r in self.query(
                f"SELECT id, updated_at, deleted FROM {table} WHERE id IN "
                f"({', '.join('?' * len(chunk))})",
                chunk,
            ):
                found[r["id"]] = (r["updated_at"], r["deleted"])
        return found

    def clean_contact_entry(
        self,
        values: Mapping[str, Any],
        concerns: Sequence[Mapping[str, Any]] = (),
        referrals: Sequence[Mapping[str, Any]] = (),
    ) -> tuple[Row, list[Row], list[Row]]:
        """Clean a contact with its concerns and referrals as :meth:`add_contact` stores them
        (partner match, default neighborhood and follow-up, concern status), writing nothing.
        One concern and referrals on the same line: the referrals answer that concern."""
        contact = self._contact_values(values, partial=False)
        clean_concerns = [self._concern_values(c, partial=False) for c in concerns]
        clean_refs = [
            self._referral_values(r, partial=False, default_follow_up=contact.get("follow_up_on"))
            for r in referrals
        ]
        if len(clean_concerns) == 1:
            category = clean_concerns[0]["category"]
            for r in clean_refs:
                if not r.get("service") and category in models.REFERRAL_SERVICES:
                    r["service"] = category
            if clean_refs and clean_concerns[0]["status"] == "open":
                clean_concerns[0]["status"] = "referred"
        return contact, clean_concerns, clean_refs

    def import_records(
        self,
        plan: Iterable[tuple[str, str, Mapping[str, Any]]],
        *,
        progress: Any = None,
    ) -> dict[str, int]:
        """Write imported records in one transaction: all of them or none.

        ``plan`` holds ``(action, table, row)``. ``row`` has the record's domain fields and
        may carry ``id``, ``officer``, ``created_at`` and ``updated_at`` (kept as given; a
        missing one is filled as for a new record). ``"insert"`` adds the row with this
        device's origin, a fresh HLC stamp and ``clocks {"*": stamp}``; ``"update"`` changes
        the domain fields that differ and sets ``updated_at`` from the row. Each write gets a
        ``changes`` outbox row, so sync pushes imported records like typed ones.
        ``progress(n)`` is called with the number of records written so far.
        Returns ``{"inserted": n, "updated": n}``.
        """
        plan = list(plan)
        counts = {"inserted": 0, "updated": 0}
        tables = sorted({t for a, t, _ in plan if a == "insert"})
        with self.write() as tx:
            bulk = self.bulk_index(tables) if len(plan) > 1000 else None
            if bulk is not None:
                bulk.__enter__()
            for n, (action, table, row) in enumerate(plan, 1):
                fields = [f for f in records.TABLE_FIELDS[table] if f in row]
                if action == "insert":
                    stamp = tx.tick()
                    full = {
                        "id": row.get("id") or ids.uuid7_hex(),
                        "created_at": row.get("created_at") or tx.now,
                        "updated_at": row.get("updated_at") or tx.now,
                        "officer": row.get("officer") or tx.officer,
                        "origin": tx.origin,
                        "hlc": stamp,
                        "deleted": 0,
                        "clocks": json.dumps({"*": stamp}),
                        **{f: _enc(f, row[f]) for f in fields},
                    }
                    self.conn.execute(
                        f"INSERT INTO {table} ({', '.join(full)}) "
                        f"VALUES ({', '.join('?' * len(full))})",
                        list(full.values()),
                    )
                    tx._log(table, full["id"], stamp, ["*"])
                    counts["inserted"] += 1
                elif action == "update":
                    changed = tx.update(table, row["id"], {f: row[f] for f in fields})
                    if changed and row.get("updated_at"):
                        self.conn.execute(
                            f"UPDATE {table} SET updated_at = ? WHERE id = ?",
                            [row["updated_at"], row["id"]],
                        )
                    counts["updated"] += 1
                else:
                    raise ValueError(action)
                if progress is not None and n % 500 == 0:
                    progress(n)
            if bulk is not None:
                bulk.__exit__(None, None, None)
        if progress is not None:
            progress(len(plan))
        return counts

    # ------------------------------------------------------------------ reports
    # The report's figures, each one GROUP BY query. ``since``/``until`` are stored UTC
    # times (until exclusive); ``today`` a local day for "overdue". Concerns and referrals
    # belong to the period, neighborhood and officer of the contact they were raised at.
    def report_contacts(self, since: str, until: str) -> list[Row]:
        """Contacts in the period by neighborhood and kind."""
        return self.query(
            "SELECT coalesce(neighborhood, '') AS neighborhood, kind, count(*) AS n "
            "FROM contacts WHERE deleted = 0 AND occurred_at >= ? AND occurred_at < ? "
            "GROUP BY 1, 2 ORDER BY 1, 2",
            [since, until],
        )

    def report_concerns(self, since: str, until: str) -> list[Row]:
        """``measure`` 'opened' (raised in the period, by category and current status) and
        'resolved' (resolved in the period, whenever raised, by category)."""
        return self.query(
            "SELECT 'opened' AS measure, k.category, k.status, count(*) AS n "
            "FROM contacts c JOIN concerns k ON k.contact_id = c.id "
            "WHERE c.deleted = 0 AND k.deleted = 0 AND c.occurred_at >= :since "
            "AND c.occurred_at < :until GROUP BY 2, 3 "
            "UNION ALL SELECT 'resolved', k.category, NULL, count(*) FROM concerns k "
            "WHERE k.deleted = 0 AND k.status = 'resolved' AND k.resolved_at >= :since "
            "AND k.resolved_at < :until GROUP BY 2 ORDER BY 1, 2, 3",
            {"since": since, "until": until},
        )

    def report_referrals(self, since: str, until: str) -> list[Row]:
        """Referrals made at contacts in the period, by service and status."""
        return self.query(
            "SELECT coalesce(r.service, '') AS service, r.status, count(*) AS n "
            "FROM contacts c JOIN referrals r ON r.contact_id = c.id "
            "WHERE c.deleted = 0 AND r.deleted = 0 AND c.occurred_at >= ? "
            "AND c.occurred_at < ? GROUP BY 1, 2 ORDER BY 1, 2",
            [since, until],
        )

    def report_overdue(self, today: str) -> Row:
        """Follow-ups overdue now (dated before ``today``): open referrals and contacts."""
        return self.query(
            "SELECT (SELECT count(*) FROM referrals WHERE deleted = 0 AND follow_up_on < :d "
            f"AND status IN {models.REFERRAL_OPEN_STATUSES!r}) AS referrals, (SELECT count(*) "
            "FROM contacts WHERE deleted = 0 AND follow_up_on < :d) AS contacts",
            {"d": today},
        )[0]

    def report_summary(self, since: str, until: str, today: str, by: str) -> list[Row]:
        """Per neighborhood, officer or concern category: contacts, concerns opened,
        resolved and still open, referrals and overdue follow-ups, in one statement."""
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
        rows = self.query(sql, {"since": since, "until": until, "today": today})
        for r in rows:
            for k, v in r.items():
                if isinstance(v, float):
                    r[k] = int(v)
        return rows

    # (aggregate queries for fieldlog/report.py go here)


class _Tx:
    """What a write transaction can do; it stamps every change with the device clock."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.conn = store.conn
        meta = {
            r[0]: r[1]
            for r in self.conn.execute(
                "SELECT key, value FROM meta WHERE key IN ('device_id', 'hlc', 'officer')"
            )
        }
        self.origin = meta.get("device_id") or ""
        if not self.origin:
            self.origin = ids.uuid7_hex()[-12:]
            self.set_meta("device_id", self.origin)
        self.clock = HLC.from_stamp(self.origin, meta.get("hlc"))
        self.officer = meta.get("officer") or store.officer()
        self.now = dates.stamp_now()
        self.last_stamp: str | None = None
        # (table, id, fields) of each record write, for the audit chain at commit (finish).
        self.audited: list[tuple[str, str, list[str]]] = []

    def tick(self) -> str:
        self.last_stamp = self.clock.tick()
        return self.last_stamp

    def finish(self) -> None:
        if self.last_stamp:
            self.set_meta("hlc", self.last_stamp)
        if self.audited:  # after every change of the transaction: entries hash committed rows
            audit.record(
                self.conn, self.audited, officer=self.officer, origin=self.origin, at=self.now
            )
            self.audited = []

    def set_meta(self, key: str, value: str | None) -> None:
        self.conn.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [key, value],
        )

    def insert(self, table: str, values: Mapping[str, Any], *, rid: str | None = None) -> str:
        stamp = self.tick()
        rid = rid or ids.uuid7_hex()
        row = {
            "id": rid,
            "created_at": self.now,
            "updated_at": self.now,
            "officer": self.officer,
            "origin": self.origin,
            "hlc": stamp,
            "deleted": 0,
            "clocks": json.dumps({"*": stamp}),
            **{k: _enc(k, v) for k, v in values.items()},
        }
        cols = ", ".join(row)
        self.conn.execute(
            f"INSERT INTO {table} ({cols}) VALUES ({', '.join('?' * len(row))})", list(row.values())
        )
        self._log(table, rid, stamp, ["*"])
        return rid

    def update(self, table: str, rid: str, values: Mapping[str, Any]) -> list[str]:
        """Change the fields that differ; returns their names (none: nothing is written)."""
        cur = self.conn.execute(f"SELECT * FROM {table} WHERE id = ?", [rid])
        raw = cur.fetchone()
        if raw is None:
            raise NotFoundError(f"No {records.NOUN[table]} has the id {rid}.")
        current = {d[0]: v for d, v in zip(cur.description, raw, strict=True)}
        changed = {k: _enc(k, v) for k, v in values.items() if _enc(k, v) != current[k]}
        if not changed:
            return []
        stamp = self.tick()
        clocks = json.loads(current["clocks"] or "{}")
        for k in changed:
            clocks[k] = stamp
        sets = ", ".join(f"{k} = ?" for k in changed)
        self.conn.execute(
            f"UPDATE {table} SET {sets}, updated_at = ?, hlc = ?, clocks = ? WHERE id = ?",
            [*changed.values(), self.now, stamp, json.dumps(clocks), rid],
        )
        self._log(table, rid, stamp, list(changed))
        return list(changed)

    def tombstone(self, table: str, rid: str) -> None:
        stamp = self.tick()
        clocks = json.loads(
            self.conn.execute(f"SELECT clocks FROM {table} WHERE id = ?", [rid]).fetchone()[0]
        )
        clocks["deleted"] = stamp
        self.conn.execute(
            f"UPDATE {table} SET deleted = 1, updated_at = ?, hlc = ?, clocks = ? WHERE id = ?",
            [self.now, stamp, json.dumps(clocks), rid],
        )
        self._log(table, rid, stamp, ["deleted"])

    def _log(self, table: str, rid: str, stamp: str, fields: list[str]) -> None:
        self.conn.execute(
            "INSERT INTO changes (tbl, row_id, hlc, fields) VALUES (?, ?, ?, ?)",
            [table, rid, stamp, ",".join(fields)],
        )
        self.audited.append((table, rid, list(fields)))


# ---------------------------------------------------------------------- helpers
def _list_cmd(table: str) -> str:
    return records.get(table).list_cmd


def _when(value: Any, field: str) -> str:
    if isinstance(value, dates.When):
        return dates.to_storage(value.at)
    if hasattr(value, "tzinfo"):
        return dates.to_storage(value)
    return dates.to_storage(dates.parse_when(str(value), field=field).at)


def _day(value: Any, field: str) -> str | None:
    if value is None or str(value).strip().lower() in NO_DATE:
        return None
    return dates.parse_day(str(value), future=True, field=field)


def fts_query(text: str) -> str | None:
    """What an officer typed, as an FTS5 query that cannot be a syntax error.

    Every word becomes a quoted string (so ``after-school``, ``"``, ``*``, ``NOT`` are data),
    all words must match, and the last one matches as a prefix (search as you type).
    """
    words = [w for w in text.replace('"', " ").split() if w.strip()]
    if not words:
        return None
    quoted = [f'"{w}"' for w in words]
    quoted[-1] += "*"
    return " ".join(quoted)


def _hits_sql(*, snippets: bool = False) -> str:
    """A UNION over the FTS tables of the registry: type, id, contact_id, rank (and snippets)."""

    def part(table: str, typ: str, contact: str, title: str, fts: str) -> str:
        extra = ""
        if snippets:
            extra = (
                f", {title} AS title, snippet({fts}, -1, char(2), char(3), ' … ', 12) AS snippet"
            )
        return (
            f"SELECT '{typ}' AS type, t.id, {contact} AS contact_id, {fts}.rank AS rank{extra} "
            f"FROM {fts} JOIN {table} t ON t.rowid = {fts}.rowid "
            f"WHERE {fts} MATCH ? AND t.deleted = 0"
        )

    def contact_of(r: records.RecordType) -> str:
        if r.table == "contacts":
            return "t.id"
        if r.parent and r.parent[0] == "contacts":
            return f"t.{r.parent[1]}"
        return "NULL"

    return " UNION ALL ".join(
        part(r.table, r.noun, contact_of(r), f"t.{r.title}", f"{r.table}_fts")
        for r in records.iter_types()
        if r.fts
    )


__all__ = ["Store", "StorageError", "fts_query"]
