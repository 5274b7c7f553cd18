"""Contact entries (``store.entries``): a contact with the concerns and referrals typed with it.

Every path that records an entry comes here: CLI ``add``, the TUI's new and edit forms (with
their draft), and ``import`` (which cleans here and writes in bulk). Each part is cleaned by
its repository, the entry rule of :mod:`fieldlog.entry` links them, and :meth:`Entries.save`
writes the whole entry in one transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from fieldlog import entry, models
from fieldlog.db.repos.base import Row

if TYPE_CHECKING:
    from fieldlog.db.store import Store

_CONTACT_LINK = models.PROBLEM_LINK_COLUMNS["contacts"]  # problem_links' column for a contact


class Entries:
    def __init__(self, store: Store) -> None:
        self.store = store

    def _link(
        self,
        head: dict[str, Any],
        concerns: Iterable[Mapping[str, Any]],
        referrals: Iterable[Mapping[str, Any]],
        *,
        follow_up: str | None,
    ) -> entry.Entry:
        """The concerns and referrals cleaned (a referral's default follow-up is the
        contact's, when it has one), then linked by the entry rule."""
        s = self.store
        clean_concerns = [s.concerns.values(c, partial=False) for c in concerns]
        clean_refs = [
            s.referrals.values(r, partial=False, default_follow_up=follow_up) for r in referrals
        ]
        return entry.link(head, clean_concerns, clean_refs)

    def clean(
        self,
        values: Mapping[str, Any],
        concerns: Sequence[Mapping[str, Any]] = (),
        referrals: Sequence[Mapping[str, Any]] = (),
    ) -> tuple[Row, list[Row], list[Row]]:
        """A new contact with its concerns and referrals as :meth:`save` stores them (partner
        match, default neighborhood and follow-up, the entry rule), writing nothing: import
        checks every row with it before it writes any."""
        head = self.store.contacts.values(values, partial=False)
        e = self._link(head, concerns, referrals, follow_up=head.get("follow_up_on"))
        return e.contact, e.concerns, e.referrals

    def save(
        self,
        values: Mapping[str, Any],
        concerns: Iterable[Mapping[str, Any]] = (),
        referrals: Iterable[Mapping[str, Any]] = (),
        *,
        contact: str | None = None,
        draft: str | None = None,
        problems: Sequence[str] = (),
    ) -> str:
        """One entry, in one transaction: a new contact (``contact=None``) or the fields of
        ``values`` changed on ``contact``, with the concerns and referrals typed with it.

        The entry rule applies to the concerns and referrals of this entry alike on every
        path: one concern and referrals on the same entry, and the referrals answer that
        concern. ``draft`` names a TUI draft dropped in the same transaction. ``problems``
        (ids or titles, ``fieldlog add --problem``) are resolved before anything is written
        and the contact is linked to each in the same transaction (one it is linked to
        already is left as it is). Returns the contact id.
        """
        s = self.store
        rid: str | None = None
        if contact is None:
            head = s.contacts.values(values, partial=False)
            follow_up = head.get("follow_up_on")
        else:
            rid = s.records.resolve("contacts", contact)
            head = s.contacts.values(values, partial=True)
            follow_up = (
                head["follow_up_on"]
                if "follow_up_on" in head
                else s.scalar("SELECT follow_up_on FROM contacts WHERE id = ?", [rid])
            )
        e = self._link(head, concerns, referrals, follow_up=follow_up)
        problem_ids = self._problems(problems, rid)
        with s.write() as tx:
            if rid is None:
                rid = tx.insert("contacts", e.contact)
            elif e.contact:
                tx.update("contacts", rid, e.contact)
            concern_ids = [tx.insert("concerns", {**c, "contact_id": rid}) for c in e.concerns]
            for r in e.referrals_for(concern_ids):
                tx.insert("referrals", {**r, "contact_id": rid})
            for pid in problem_ids:
                tx.insert("problem_links", {"problem_id": pid, _CONTACT_LINK: rid})
            if draft is not None:
                tx.delete_meta(s.drafts.key(draft))
        return rid

    def _problems(self, refs: Sequence[str], rid: str | None) -> list[str]:
        """The ids of the live problems ``refs`` name (a wrong one raises before anything is
        written), without those the contact ``rid`` (when it exists) is linked to already."""
        if not refs:
            return []  # the problems repository is not even imported (fieldlog add stays quick)
        pids = list(dict.fromkeys(self.store.problems.resolve(ref) for ref in refs))
        if rid is not None:
            have = {p["id"] for p in self.store.problems.of_record("contacts", rid)}
            pids = [p for p in pids if p not in have]
        return pids

    def last(self) -> Row | None:
        """The contact this device logged last (newest written, whatever its date), for the
        TUI's repeat-last; None on a log with none. Reads from the end of the table, so it
        stays instant on a big log."""
        rid = self.store.scalar(
            "SELECT id FROM contacts WHERE deleted = 0 AND origin = ? ORDER BY rowid DESC LIMIT 1",
            [self.store.device_id()],
        )
        return None if rid is None else self.store.contacts.get(rid)
