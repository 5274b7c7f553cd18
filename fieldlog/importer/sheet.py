"""The officer sheet: one contact a line (date, name, neighborhood, summary, and at most one
concern and one referral), checked by the same entry rule as ``fieldlog add``.

A sheet has no ids, so each line's records get ids derived from the line's content: the same
sheet imported twice adds nothing, and a corrected line is a new contact.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from fieldlog import dates, ids, models, records
from fieldlog.errors import FieldlogError, ValidationError
from fieldlog.importer.plan import Batch, unneutralise
from fieldlog.importer.read import SHEET_COLUMNS, norm_header


def _sheet_ids(occurred_at: str, content: list[str]) -> tuple[str, str, str]:
    """Stable ids for a sheet line: UUIDv7-shaped, timestamp = the line's date, random bits
    from a hash of the line, so the same line always gets the same ids."""
    ms = int(dates.from_storage(occurred_at).timestamp() * 1000)
    key = json.dumps([occurred_at, *content], ensure_ascii=False)

    def one(salt: str) -> str:
        digest = hashlib.sha256(f"{salt}\x00{key}".encode()).digest()
        return ids.uuid7_hex(ms, int.from_bytes(digest[:10], "big"))

    return one("contact"), one("concern"), one("referral")


def check_sheet_batch(job: Batch) -> None:
    """Check a batch of an officer sheet's lines into its plan: each line is one entry (a
    contact with its concern and referral) through ``store.entries.clean``, the rule every
    path of entry applies; a line already imported (same ids, in the log or earlier in the
    file) is skipped."""
    store, writer, plan = job.store, job.writer, job.plan
    cols = [norm_header(h) for h in job.sheet.header]
    # Per line: table -> (the id of its records, the records checked), parents first.
    checked: list[dict[str, tuple[str, list[dict[str, Any]]]]] = []
    for where, cells in job.lines(len(cols)):
        cell = {c: unneutralise(v).strip() for c, v in zip(cols, cells, strict=True)}

        def get(name: str, cell: dict[str, str] = cell) -> str:
            return cell.get(name, "")

        try:
            when = dates.parse_when(get("date"), field="date")
            occurred_at = dates.to_storage(when.at)
            values: dict[str, Any] = {"occurred_at": occurred_at, "summary": get("summary")}
            if get("name"):
                values["person_name"] = get("name")
            if get("neighborhood"):
                values["neighborhood"] = get("neighborhood")
            concerns = []
            if get("concern category") or get("concern text"):
                if not get("concern category"):
                    raise ValidationError(
                        "category",
                        "concern text without a concern category: use one of "
                        f"{', '.join(models.CONCERN_CATEGORIES)}.",
                    )
                concerns.append(
                    {"category": get("concern category"), "description": get("concern text")}
                )
            referrals = []
            if get("referral agency") or get("referral reason"):
                if not get("referral agency"):
                    raise ValidationError(
                        "agency", "referral reason without a referral agency: name the agency."
                    )
                referrals.append(
                    {"agency": get("referral agency"), "reason": get("referral reason") or None}
                )
            contact, clean_concerns, clean_refs = store.entries.clean(values, concerns, referrals)
        except FieldlogError as exc:
            plan.error(f"{where}: {exc}")
            continue
        content = [get(c) for c in SHEET_COLUMNS[1:]]
        cid, kid, rid = _sheet_ids(occurred_at, content)
        # The entry rule's three parts with this line's ids, in sync order (parents first).
        entry = {"contacts": (cid, [contact]), "concerns": (kid, clean_concerns),
                 "referrals": (rid, clean_refs)}  # fmt: skip
        checked.append({t: entry[t] for t in records.in_sync_order() if t in entry})

    tables = list(checked[0]) if checked else []
    present = {t: writer.exists(t, [e[t][0] for e in checked]) for t in tables}
    for entry in checked:
        for table, (rec_id, recs) in entry.items():
            rtype = records.get(table)
            for rec in recs:
                if rec_id in present[table]:
                    plan.result.skipped += 1
                    continue
                present[table].add(rec_id)
                row = {**rec, "id": rec_id}
                if rtype.parent is not None:  # the line's contact
                    parent_table, parent_column = rtype.parent
                    row[parent_column] = entry[parent_table][0]
                # A record pointing at another table of the line (the referral at the line's
                # concern, which it answers) points at that record unless it names one.
                for column, target in rtype.refs.items():
                    if target in entry and entry[target][1] and not row.get(column):
                        row[column] = entry[target][0]
                plan.add("insert", table, row)
