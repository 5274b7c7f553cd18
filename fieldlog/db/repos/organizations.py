"""Partner organizations (``store.orgs``): found by name as often as by id."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fieldlog import dates, ids, models, records
from fieldlog.db.repos.base import Row, Rows
from fieldlog.errors import NotFoundError, ValidationError

if TYPE_CHECKING:
    from fieldlog.db.store import Store

TABLE = "organizations"
_WITH_COUNT = (
    "SELECT o.*, (SELECT count(*) FROM referrals r WHERE r.organization_id = o.id "
    "AND r.deleted = 0) AS referral_count FROM organizations o"
)


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
        """One partner with the number of live referrals made to it."""
        rid = self.resolve(ref)
        rows = self.store.query(f"{_WITH_COUNT} WHERE o.id = ?", [rid])
        return self.store.records.with_short_ids(TABLE, rows)[0]

    def _listing(
        self, *, kind: str | None = None, hood: str | None = None, service: str | None = None
    ) -> tuple[str, list[Any]]:
        """The query of :meth:`list` and :meth:`count` (by name, no limit)."""
        where, params = ["o.deleted = 0"], []
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
        return f"{_WITH_COUNT} WHERE {' AND '.join(where)} ORDER BY o.name COLLATE NOCASE", params

    def list(self, *, limit: int | None = None, **filters: str | None) -> Rows:
        """Partners by name, filtered (``kind``, ``hood``, ``service``; any case)."""
        sql, params = self._listing(**filters)
        if limit:
            sql += f" LIMIT {int(limit)}"
        return self.store.records.with_short_ids(TABLE, self.store.query(sql, params))

    def count(self, **filters: str | None) -> int:
        """How many partners :meth:`list` finds with the same filters, without a limit."""
        return self.store.records.count_of(*self._listing(**filters))
