"""One write path: only fieldlog/db/tx.py writes record rows, the outbox and the audit chain,
and the entry rule holds (in one transaction) on every path that records an entry."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fieldlog import importer, records
from fieldlog.db.store import Store

PACKAGE = Path(__file__).resolve().parents[2] / "fieldlog"
# The write path, and its two deliberate exceptions: the schema migrations, and the retention
# purge's physical removal of rows every remote already holds.
ALLOWED = {"db/tx.py", "db/migrations.py", "db/retention.py"}
WRITE = re.compile(
    r"\b(?:INSERT(?:\s+OR\s+\w+)?\s+INTO|REPLACE\s+INTO|UPDATE|DELETE\s+FROM)\s+"
    r"(\{[^}]*\}\w*|[\w.]+)"
)
AUDIT_CALL = re.compile(r"\baudit\.(?:record|append|append_inserted)\(")
AUDIT_IMPORT = re.compile(
    r"from fieldlog\.db\.audit(?:\.\w+)? import[^\n]*\b(?:record|append|append_inserted)\b"
)


def sources() -> list[tuple[str, str]]:
    out = []
    for p in sorted(PACKAGE.rglob("*.py")):
        rel = p.relative_to(PACKAGE).as_posix()
        if rel not in ALLOWED:
            out.append((rel, p.read_text(encoding="utf-8")))
    return out


def test_only_the_tx_writes_record_rows_and_the_outbox():
    guarded = {*records.TABLES, "changes"}
    found = []
    for rel, text in sources():
        # The remotes write their own stores (a shared file, the department's database,
        # whose current-state tables share the record tables' names), never this log.
        if rel.startswith("db/remotes/"):
            assert "store.conn" not in text and "tx.conn" not in text, rel
            continue
        for m in WRITE.finditer(text):
            target = m.group(1).split(".")[-1]
            # verify's FTS5 'integrity-check' command is written as an INSERT into the index.
            if target.split("}")[-1] == "_fts":
                continue
            # A table named at run time ("{table}") could be any of them.
            if target in guarded or target.startswith("{"):
                line = text.count("\n", 0, m.start()) + 1
                found.append(f"fieldlog/{rel}:{line}: {m.group(0)}")
    assert found == [], "SQL writes to record tables or the outbox outside db/tx.py"


def test_only_the_tx_appends_to_the_audit_chain():
    found = [
        f"fieldlog/{rel}"
        for rel, text in sources()
        if not rel.startswith("db/audit") and (AUDIT_CALL.search(text) or AUDIT_IMPORT.search(text))
    ]
    assert found == []


def test_the_scan_sees_a_write():
    """The patterns catch the forms the write path itself uses (a guard for the guard)."""
    tx = (PACKAGE / "db/tx.py").read_text(encoding="utf-8")
    targets = {m.group(1) for m in WRITE.finditer(tx)}
    assert {"{table}", "changes"} <= targets and AUDIT_CALL.search(tx)


# ---------------------------------------------------------------------- the entry rule
def count_begins(store: Store) -> list[str]:
    """Every BEGIN the store's connection runs from now on."""
    seen: list[str] = []
    store.conn.set_trace_callback(
        lambda sql: seen.append(sql) if sql.lstrip().upper().startswith("BEGIN") else None
    )
    return seen


def answered(store: Store, cid: str) -> tuple[dict, dict]:
    c = store.contacts.get(cid)
    (concern,) = c["concerns"]
    (referral,) = c["referrals"]
    return concern, referral


def test_cli_add_applies_the_rule(cli, db_path):
    cid = cli.new(
        "add", "Met the pastor", "--concern", "youth:no lit court", "--refer", "Parks Dept:lights"
    )
    with Store.open(db_path) as store:
        concern, referral = answered(store, cid)
    assert referral["concern_id"] == concern["id"]
    assert referral["service"] == "youth" and concern["status"] == "referred"


def test_a_new_entry_is_one_transaction(store):
    begins = count_begins(store)
    cid = store.entries.save(
        {"summary": "Door-knock"},
        [{"category": "housing", "description": "no heat"}],
        [{"agency": "Hope Housing"}],
    )
    store.conn.set_trace_callback(None)
    assert len(begins) == 1
    concern, referral = answered(store, cid)
    assert referral["concern_id"] == concern["id"] and referral["service"] == "housing"
    assert concern["status"] == "referred"


def test_an_edit_with_a_new_concern_and_referral_is_one_transaction(store):
    cid = store.contacts.add({"summary": "First visit", "follow_up_on": "2031-05-06"})
    store.drafts.save("contact-edit", {"summary": "Second visit"})
    begins = count_begins(store)
    same = store.entries.save(
        {"summary": "Second visit"},
        [{"category": "noise", "description": "parties"}],
        [{"agency": "Parks Dept"}],
        contact=cid[:8],
        draft="contact-edit",
    )
    store.conn.set_trace_callback(None)
    assert same == cid and len(begins) == 1
    contact = store.contacts.get(cid)
    concern, referral = answered(store, cid)
    assert contact["summary"] == "Second visit"
    # noise is no referral service: the referral keeps none, but it answers the concern
    assert (
        referral["concern_id"] == concern["id"] and referral["service"] == "other"
    )  # never empty (issue 11)
    assert concern["status"] == "referred"
    assert referral["follow_up_on"] == "2031-05-06"  # the contact's follow-up, kept
    assert store.drafts.names() == []  # dropped in the same transaction


def test_an_edit_of_fields_only_writes_what_changed(store):
    cid = store.contacts.add({"summary": "Visit", "neighborhood": "Eastside"})
    before = store.scalar("SELECT count(*) FROM changes")
    store.entries.save({"neighborhood": "Eastside"}, contact=cid)  # the same value
    assert store.scalar("SELECT count(*) FROM changes") == before
    store.entries.save({"neighborhood": "Riverside"}, contact=cid)
    rows = store.query("SELECT fields FROM changes ORDER BY seq DESC LIMIT 1")
    assert rows == [{"fields": "neighborhood"}]


def test_two_concerns_are_not_guessed(store):
    cid = store.entries.save(
        {"summary": "Block meeting"},
        [{"category": "youth", "description": "a"}, {"category": "traffic", "description": "b"}],
        [{"agency": "Parks Dept"}],
    )
    c = store.contacts.get(cid)
    assert [k["status"] for k in c["concerns"]] == ["open", "open"]
    assert c["referrals"][0]["concern_id"] is None and c["referrals"][0]["service"] == "other"


def test_a_bad_part_writes_nothing(store):
    with pytest.raises(Exception, match="category"):
        store.entries.save(
            {"summary": "Visit"}, [{"category": "not-a-category", "description": "x"}]
        )
    assert store.contacts.count() == 0 and store.scalar("SELECT count(*) FROM changes") == 0


def test_import_applies_the_rule_in_one_transaction(store, tmp_path):
    sheet = tmp_path / "sheet.csv"
    sheet.write_text(
        "date,name,neighborhood,summary,concern category,concern text,referral agency,"
        "referral reason\n2026-11-20 10:00,Ana,Eastside,Met Ana,youth,no court,Parks Dept,"
        "lights\n",
        encoding="utf-8",
    )
    begins = count_begins(store)
    importer.import_path(store, sheet)
    store.conn.set_trace_callback(None)
    assert len(begins) == 1
    (row,) = store.contacts.list()
    concern, referral = answered(store, row["id"])
    assert referral["concern_id"] == concern["id"] and referral["service"] == "youth"
    assert concern["status"] == "referred"


# ---------------------------------------------------------------------- the store's parts
def test_the_store_composes_its_parts_on_first_use(store):
    assert "contacts" not in vars(store)  # nothing built before it is used
    assert store.contacts is store.contacts  # then built once
    parts = "records contacts concerns referrals orgs entries imports search drafts exports"
    for name in (*parts.split(), "reports", "followups", "sync", "conflicts"):
        assert getattr(store, name).store is store, name


def test_bulk_writes_go_through_the_tx(store):
    """demo's bulk load: rows made by the Tx, one outbox row and one audit entry each."""
    with store.write() as tx, tx.bulk_index(["organizations"]):
        rows = [{**tx.new_row(f"{i:032x}"), "name": f"Partner {i}"} for i in range(1, 4)]
        assert tx.insert_many("organizations", rows) == 3
    assert [o["name"] for o in store.orgs.list()] == ["Partner 1", "Partner 2", "Partner 3"]
    assert store.scalar("SELECT count(*) FROM changes WHERE tbl = 'organizations'") == 3
    assert store.scalar("SELECT count(*) FROM audit WHERE tbl = 'organizations'") == 3
    assert [h["type"] for h in store.search.hits("partner")] == ["organization"] * 3


def test_a_database_error_while_a_write_starts_is_one_line_and_rolls_back(tmp_path, monkeypatch):
    """Tx reads the device clock as the transaction opens: a broken file (a deleted log's
    stale -wal beside a new one gave "disk I/O error") was a traceback there."""
    import sqlite3

    import pytest

    from fieldlog.db import store as store_module
    from fieldlog.db.store import Store
    from fieldlog.errors import FieldlogError

    with Store.open(tmp_path / "log.db") as store:

        def broken(_store):
            raise sqlite3.OperationalError("disk I/O error")

        monkeypatch.setattr(store_module, "Tx", broken)
        with pytest.raises(FieldlogError) as caught, store.write():
            pass
        assert "\n" not in str(caught.value)
        assert not store.conn.in_transaction
        monkeypatch.undo()
        store.contacts.add({"summary": "still writable"})
        assert store.contacts.count() == 1
