"""Contacts to CSV: columns, one row, formula neutralisation, the since filter, Excel mode."""

from __future__ import annotations

import csv
import io
import re

import pytest

from fieldlog.errors import ValidationError
from fieldlog.export import CONTACT_COLUMNS, FORMULA_PREFIXES, export_contacts_csv


def export(store, **kw) -> tuple[int, str]:
    buf = io.StringIO(newline="")
    n = export_contacts_csv(store, buf, **kw)
    return n, buf.getvalue()


def read_back(data: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data, newline=""), dialect="excel"))


def test_header_and_one_row(store):
    cid = store.contacts.add(
        {
            "summary": 'Met the "Block Watch", then, coffee',
            "notes": "two\nlines",
            "person_name": "Ana Díaz",
            "neighborhood": "Eastside",
            "tags": ["youth", "night"],
            "occurred_at": "2026-03-02 14:30",
            "follow_up_on": "2026-03-09",
        }
    )
    n, data = export(store)
    assert n == 1
    assert data.splitlines()[0] == ",".join(CONTACT_COLUMNS)
    assert "\r\n" not in data
    (row,) = read_back(data)
    assert list(row) == list(CONTACT_COLUMNS)
    assert row["id"] == cid
    assert row["summary"] == 'Met the "Block Watch", then, coffee'
    assert row["notes"] == "two\nlines"
    assert row["person_name"] == "Ana Díaz"
    assert row["tags"] == "youth;night"
    assert row["follow_up_on"] == "2026-03-09"
    assert row["occurred_at"] == "2026-03-02T14:30:00-06:00"  # local time with its offset
    assert row["organization_id"] == ""
    # created_at/updated_at: local time too, milliseconds kept (the export contract)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}-0[56]:00", row["created_at"])


@pytest.mark.parametrize("prefix", FORMULA_PREFIXES)
def test_formula_prefixes_are_neutralised(store, prefix):
    cid = store.contacts.add({"summary": "safe summary"})
    with store.write() as tx:  # as a synced record could hold it (the forms strip blanks)
        tx.update("contacts", cid, {"person_name": f"{prefix}SUM(A1:A9)"})
    _, data = export(store)
    assert read_back(data)[0]["person_name"] == f"'{prefix}SUM(A1:A9)"
    assert read_back(data)[0]["summary"] == "safe summary"
    _, data = export(store, raw=True)
    assert read_back(data)[0]["person_name"] == f"{prefix}SUM(A1:A9)"


def test_since_filters_by_occurred_at(store):
    store.contacts.add({"summary": "old one", "occurred_at": "2026-01-05 09:00"})
    store.contacts.add({"summary": "new one", "occurred_at": "2026-02-10 09:00"})
    n, data = export(store, since="2026-02-01")
    assert n == 1
    assert [r["summary"] for r in read_back(data)] == ["new one"]
    assert export(store, since="2026-03-01")[0] == 0
    with pytest.raises(ValidationError) as err:
        export(store, since="the other day")
    assert err.value.field == "since"


def test_excel_mode_has_bom_and_crlf(store):
    store.contacts.add({"summary": "café visit", "notes": "a\nb"})
    n, data = export(store, excel=True)
    assert n == 1
    assert data.startswith("\ufeffid,occurred_at,")
    assert data.endswith("\r\n")
    assert data.count("\r\n") == 2  # header and row; the note keeps its bare newline
    rows = read_back(data.removeprefix("\ufeff"))
    assert rows[0]["summary"] == "café visit"
    assert rows[0]["notes"] == "a\nb"


def test_deleted_contacts_are_left_out(store):
    keep = store.contacts.add({"summary": "keep"})
    gone = store.contacts.add({"summary": "gone"})
    store.contacts.delete(gone)
    _, data = export(store)
    assert [r["id"] for r in read_back(data)] == [keep]


def test_a_lone_carriage_return_inside_a_cell_is_quoted(store):
    cid = store.contacts.add({"summary": "x"})
    with store.write() as tx:
        tx.update("contacts", cid, {"notes": "one\rtwo"})
    _, data = export(store, raw=True)
    assert '"one\rtwo"' in data
    assert read_back(data)[0]["notes"] == "one\rtwo"


def test_export_module_imports_no_ui():
    import subprocess
    import sys

    code = "import fieldlog.export, sys; print(' '.join(sys.modules))"
    loaded = set(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                check=True).stdout.split())  # fmt: skip
    for banned in ("textual", "typer", "rich", "click"):
        assert banned not in loaded, banned
