"""What a problem links, named as an officer types it (``store.problems.targets``): an id
prefix looked up among contacts, concerns, referrals and partners, ``kind:ID`` to say which,
a partner by its name (docs/problems.md, "Naming what to link")."""

from __future__ import annotations

import builtins
from typing import TYPE_CHECKING

from fieldlog import ids, models, records
from fieldlog.errors import AmbiguousIdError, NotFoundError, ValidationError

if TYPE_CHECKING:
    from fieldlog.db.store import Store

LINK_COLUMNS = models.PROBLEM_LINK_COLUMNS  # linked table -> its column in problem_links
# The tables a link may name, in the order an id prefix is looked up.
LINKABLE = tuple(LINK_COLUMNS)
# ``kind:ID`` in a link: the words an officer may use for each table.
_KINDS = {
    **{records.NOUN[t]: t for t in LINK_COLUMNS},
    **{t: t for t in LINK_COLUMNS},
    "partner": "organizations", "org": "organizations", "partners": "organizations",
}  # fmt: skip


class Targets:
    def __init__(self, store: Store) -> None:
        self.store = store

    def target(self, ref: str) -> tuple[str, str]:
        """(table, id) of the live contact, concern, referral or partner an id prefix names
        (a partner also by its name; ``concern:ID`` says which kind). The records of one
        entry share their first characters: when a prefix starts records of two kinds, the
        one whose shown (short) id it is wins; else it is one line asking for ``kind:ID``."""
        kind, sep, rest = ref.partition(":")
        if sep and kind.strip().lower() in _KINDS:
            table = _KINDS[kind.strip().lower()]
            if not rest.strip():
                raise ValidationError(
                    "id",
                    f"Nothing follows '{kind.strip()}:': give the {records.NOUN[table]}'s "
                    f"id{' or name' if table == 'organizations' else ''}, like {kind.strip()}:ID.",
                )
            if table == "organizations":
                return table, self.store.orgs.resolve(rest)
            return table, self.store.records.resolve(table, rest)
        found: list[tuple[str, str]] = []
        for table in LINKABLE:
            try:
                found.append((table, self.store.records.resolve(table, ref)))
            except NotFoundError:
                continue
            except ValidationError:
                break  # too short: a partner's name, maybe
            except AmbiguousIdError:
                raise
        if not found:
            org = self.store.orgs.find(ref)
            if org is not None:
                return "organizations", str(org["id"])
            raise NotFoundError(
                f"No contact, concern, referral or partner has the id '{ref}': check it "
                "(fieldlog list, concern list, referral list, org list show them)."
            )
        if len(found) > 1:
            typed = ids.normalize_prefix(ref)
            shown = [(t, r) for t, r in found if self.store.records.short_id(t, r) == typed]
            if len(shown) == 1:
                return shown[0]
            head = self._entry_head(found)
            if head is not None:
                return head
            kinds = " and a ".join(records.NOUN[t] for t, _ in found)
            first = records.NOUN[found[0][0]]
            raise AmbiguousIdError(
                f"The id '{ref}' starts a {kinds}: say which, like {first}:{ref.strip()}.",
                [rid for _, rid in found],
            )
        return found[0]

    def _entry_head(self, found: builtins.list[tuple[str, str]]) -> tuple[str, str] | None:
        """The contact among ``found`` when every other record found is its own concern or
        referral: the records of one entry share their short id, and the id ``fieldlog add``
        printed is the contact's (``concern:ID`` still names the concern)."""
        contacts = [rid for t, rid in found if t == "contacts"]
        if len(contacts) != 1:
            return None
        for table, rid in found:
            if table == "contacts":
                continue
            parent = records.get(table).parent
            if parent is None or parent[0] != "contacts":
                return None
            owner = self.store.scalar(f"SELECT {parent[1]} FROM {table} WHERE id = ?", [rid])
            if owner != contacts[0]:
                return None
        return "contacts", contacts[0]

    def target_any(self, ref: str) -> tuple[str, str]:
        """Like :meth:`target`, also for a record deleted since it was linked (so a link to
        it can still go)."""
        try:
            return self.target(ref)
        except NotFoundError:
            prefix = ids.normalize_prefix(ref)
            if len(prefix) >= ids.MIN_PREFIX and ids.is_hex(prefix):
                for table, col in LINK_COLUMNS.items():
                    hit = self.store.query(
                        f"SELECT {col} AS id FROM problem_links WHERE deleted = 0 AND "
                        f"{col} >= ? AND {col} < ? LIMIT 2",
                        [prefix, prefix + "g"],
                    )
                    if len(hit) == 1:
                        return table, str(hit[0]["id"])
            raise
