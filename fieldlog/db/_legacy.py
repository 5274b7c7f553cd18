"""TEMP-SHIM issue 9: the old flat ``Store`` API, one delegate per old name.

``Store`` inherits :class:`LegacyStoreAPI` while call sites move to the split store
(``store.add_contact(...)`` -> ``store.contacts.add(...)``); /tmp/issue9/rename_store_calls.py
rewrites them, then this module and the base class go. Four old names are attributes now
(``store.search``, ``store.drafts``, ``store.followups``, ``store.conflicts``): those objects
are callable for the time being (their ``__call__``, also marked TEMP-SHIM issue 9).
Nothing new may call these.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from fieldlog.db.store import Store
    from fieldlog.db.tx import Tx


def _s(obj: object) -> Store:
    return cast("Store", obj)


def _open_tx(obj: object) -> Tx:
    tx = _s(obj)._tx
    if tx is None:
        raise RuntimeError("insert_many and bulk_index run inside store.write()")
    return tx


def _split_min_rows() -> int | None:
    # Tests patch ``fieldlog.db.store.EXPORT_SPLIT_MIN_ROWS``; the value lives in export_sql
    # (None: use it).
    store = sys.modules["fieldlog.db.store"]  # (loaded: it imports this module)
    patched = vars(store).get("EXPORT_SPLIT_MIN_ROWS")
    return None if patched is None else int(patched)


class LegacyStoreAPI:  # TEMP-SHIM issue 9
    """Old method name -> its new place (see the module docstring)."""

    def add_contact(self, *a: Any, **k: Any) -> Any:
        return _s(self).contacts.add(*a, **k)

    def update_contact(self, *a: Any, **k: Any) -> Any:
        return _s(self).contacts.update(*a, **k)

    def delete_contact(self, *a: Any, **k: Any) -> Any:
        return _s(self).contacts.delete(*a, **k)

    def get_contact(self, *a: Any, **k: Any) -> Any:
        return _s(self).contacts.get(*a, **k)

    def list_contacts(self, *a: Any, **k: Any) -> Any:
        return _s(self).contacts.list(*a, **k)

    def count_contacts(self, *a: Any, **k: Any) -> Any:
        return _s(self).contacts.count(*a, **k)

    def _contact_values(self, *a: Any, **k: Any) -> Any:
        return _s(self).contacts.values(*a, **k)

    def add_concern(self, *a: Any, **k: Any) -> Any:
        return _s(self).concerns.add(*a, **k)

    def update_concern(self, *a: Any, **k: Any) -> Any:
        return _s(self).concerns.update(*a, **k)

    def list_concerns(self, *a: Any, **k: Any) -> Any:
        return _s(self).concerns.list(*a, **k)

    def _concern_values(self, *a: Any, **k: Any) -> Any:
        return _s(self).concerns.values(*a, **k)

    def add_referral(self, *a: Any, **k: Any) -> Any:
        return _s(self).referrals.add(*a, **k)

    def update_referral(self, *a: Any, **k: Any) -> Any:
        return _s(self).referrals.update(*a, **k)

    def list_referrals(self, *a: Any, **k: Any) -> Any:
        return _s(self).referrals.list(*a, **k)

    def _referral_values(self, *a: Any, **k: Any) -> Any:
        return _s(self).referrals.values(*a, **k)

    def add_org(self, *a: Any, **k: Any) -> Any:
        return _s(self).orgs.add(*a, **k)

    def update_org(self, *a: Any, **k: Any) -> Any:
        return _s(self).orgs.update(*a, **k)

    def get_org(self, *a: Any, **k: Any) -> Any:
        return _s(self).orgs.get(*a, **k)

    def list_orgs(self, *a: Any, **k: Any) -> Any:
        return _s(self).orgs.list(*a, **k)

    def find_org(self, *a: Any, **k: Any) -> Any:
        return _s(self).orgs.find(*a, **k)

    def org_id(self, *a: Any, **k: Any) -> Any:
        return _s(self).orgs.id_of(*a, **k)

    def resolve_org_ref(self, *a: Any, **k: Any) -> Any:
        return _s(self).orgs.resolve(*a, **k)

    def save_entry(self, *a: Any, **k: Any) -> Any:
        return _s(self).entries.save(*a, **k)

    def clean_contact_entry(self, *a: Any, **k: Any) -> Any:
        return _s(self).entries.clean(*a, **k)

    def resolve(self, *a: Any, **k: Any) -> Any:
        return _s(self).records.resolve(*a, **k)

    def short_id(self, *a: Any, **k: Any) -> Any:
        return _s(self).records.short_id(*a, **k)

    def with_short_ids(self, *a: Any, **k: Any) -> Any:
        return _s(self).records.with_short_ids(*a, **k)

    def get(self, *a: Any, **k: Any) -> Any:
        return _s(self).records.get(*a, **k)

    def iter_rows(self, *a: Any, **k: Any) -> Any:
        return _s(self).records.iter_rows(*a, **k)

    def suggestions(self, *a: Any, **k: Any) -> Any:
        return _s(self).records.suggestions(*a, **k)

    def save_draft(self, *a: Any, **k: Any) -> Any:
        return _s(self).drafts.save(*a, **k)

    def load_draft(self, *a: Any, **k: Any) -> Any:
        return _s(self).drafts.load(*a, **k)

    def drop_draft(self, *a: Any, **k: Any) -> Any:
        return _s(self).drafts.drop(*a, **k)

    def dashboard(self, *a: Any, **k: Any) -> Any:
        return _s(self).reports.dashboard(*a, **k)

    def report_contacts(self, *a: Any, **k: Any) -> Any:
        return _s(self).reports.contacts(*a, **k)

    def report_concerns(self, *a: Any, **k: Any) -> Any:
        return _s(self).reports.concerns(*a, **k)

    def report_referrals(self, *a: Any, **k: Any) -> Any:
        return _s(self).reports.referrals(*a, **k)

    def report_overdue(self, *a: Any, **k: Any) -> Any:
        return _s(self).reports.overdue(*a, **k)

    def report_summary(self, *a: Any, **k: Any) -> Any:
        return _s(self).reports.summary(*a, **k)

    def export_check(self, *a: Any, **k: Any) -> Any:
        return _s(self).exports.check(*a, **k)

    def export_count(self, *a: Any, **k: Any) -> Any:
        return _s(self).exports.count(*a, **k)

    def export_rows(self, *a: Any, **k: Any) -> Any:
        return _s(self).exports.rows(*a, **k)

    def export_raw_rows(self, *a: Any, **k: Any) -> Any:
        return _s(self).exports.raw_rows(*a, **k)

    def export_split_rowid(self, *a: Any, **k: Any) -> Any:
        return _s(self).exports.split_rowid(*a, min_rows=_split_min_rows(), **k)

    def export_rowid_chunks(self, *a: Any, **k: Any) -> Any:
        return _s(self).exports.rowid_chunks(*a, min_rows=_split_min_rows(), **k)

    def export_value(self, *a: Any, **k: Any) -> Any:
        return _s(self).exports.value(*a, **k)

    def export_private_values(self, *a: Any, **k: Any) -> Any:
        return _s(self).exports.private_values(*a, **k)

    @staticmethod
    def sql_local_iso(*a: Any, **k: Any) -> Any:
        from fieldlog.db import export_sql

        return export_sql.sql_local_iso(*a, **k)

    @staticmethod
    def sql_csv_cell(*a: Any, **k: Any) -> Any:
        from fieldlog.db import export_sql

        return export_sql.sql_csv_cell(*a, **k)

    @staticmethod
    def _tz_spans(*a: Any, **k: Any) -> Any:
        from fieldlog.db import export_sql

        return export_sql.tz_spans(*a, **k)

    def import_present(self, *a: Any, **k: Any) -> Any:
        return _s(self).imports.present(*a, **k)

    def import_records(self, *a: Any, **k: Any) -> Any:
        return _s(self).imports.write(*a, **k)

    def insert_many(self, *a: Any, **k: Any) -> Any:  # inside store.write()
        return _open_tx(self).insert_many(*a, **k)

    def bulk_index(self, *a: Any, **k: Any) -> Any:  # inside store.write()
        return _open_tx(self).bulk_index(*a, **k)

    def remotes(self, *a: Any, **k: Any) -> Any:
        return _s(self).sync.remotes(*a, **k)

    def add_remote(self, *a: Any, **k: Any) -> Any:
        return _s(self).sync.add_remote(*a, **k)

    def remove_remote(self, *a: Any, **k: Any) -> Any:
        return _s(self).sync.remove_remote(*a, **k)

    def sync_cursors(self, *a: Any, **k: Any) -> Any:
        return _s(self).sync.cursors(*a, **k)

    def sync_set_pushed(self, *a: Any, **k: Any) -> Any:
        return _s(self).sync.set_pushed(*a, **k)

    def sync_done(self, *a: Any, **k: Any) -> Any:
        return _s(self).sync.done(*a, **k)

    def sync_check_origin(self, *a: Any, **k: Any) -> Any:
        return _s(self).sync.check_origin(*a, **k)

    def sync_apply(self, *a: Any, **k: Any) -> Any:
        return _s(self).sync.apply(*a, **k)

    def sync_retry_held(self, *a: Any, **k: Any) -> Any:
        return _s(self).sync.retry_held(*a, **k)

    def outbox_count(self, *a: Any, **k: Any) -> Any:
        return _s(self).sync.outbox_count(*a, **k)

    def outbox_page(self, *a: Any, **k: Any) -> Any:
        return _s(self).sync.outbox_page(*a, **k)

    def conflict_count(self, *a: Any, **k: Any) -> Any:
        return _s(self).conflicts.count(*a, **k)

    def resolve_conflict(self, *a: Any, **k: Any) -> Any:
        return _s(self).conflicts.resolve(*a, **k)
