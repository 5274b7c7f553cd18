"""`fieldlog export`: every table, the filters, injection, Excel, redaction, all, errors, and
the SQL-side quoting and local times against Python's csv and datetime."""

from __future__ import annotations

import csv
import io
import os
import shutil
import sqlite3
import subprocess
import zipfile
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fieldlog import export
from fieldlog.db import export_sql
from fieldlog.export import COLUMNS, FORMULA_PREFIXES
from tests.lib.export_helpers import local_iso, stored_utc
from tests.lib.portable import needs_tzset, tzset


def rows_of(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"), newline="")))


def dump(store, table="contacts", **kw) -> str:
    buf = io.StringIO(newline="")
    export.write_table(store, table, buf, **kw)
    return buf.getvalue()


@pytest.fixture
def log(store):
    """A small log: two contacts, a partner, concerns and referrals."""
    org = store.orgs.add(
        name="Harbor Food Bank", kind="nonprofit", contact_person="Maria Ortega",
        phone="555-0199", email="maria@harborfood.org", address="12 Wharf Rd",
        neighborhood="Harbor", services=["food"],
    )  # fmt: skip
    a = store.contacts.add({
        "summary": "Talked with Ana Díaz about speeding", "person_name": "Ana Díaz",
        "neighborhood": "Eastside", "location": "41 Elm St", "tags": ["traffic", "night"],
        "occurred_at": "2026-03-02 14:30", "notes": "Ana Díaz called 555-0123 later",
    })  # fmt: skip
    b = store.contacts.add({
        "summary": "Block party planning", "neighborhood": "Harbor", "kind": "event",
        "occurred_at": "2026-07-10 09:00", "organization_id": org,
    })  # fmt: skip
    k1 = store.concerns.add(a, category="traffic", description="Cars speed; Ana Díaz worried")
    store.concerns.add(b, category="noise", description="Music late", status="resolved",
                      resolution="Talked to the DJ")  # fmt: skip
    store.referrals.add(a, "Harbor Food Bank", service="food", reason="Needs groceries",
                       concern_id=k1)  # fmt: skip
    pid = store.problems.add("Speeding on Elm St", neighborhood="Eastside", category="traffic",
                             links=[f"contact:{a}"])  # fmt: skip
    store.problems.log(pid, "Asked for a speed trailer")
    return {"org": org, "a": a, "b": b, "k1": k1, "problem": pid}


# ---------------------------------------------------------------- tables
@pytest.mark.parametrize("table", list(COLUMNS))
def test_every_table_has_its_header_and_rows(store, log, table):
    text = dump(store, table)
    assert text.splitlines()[0] == ",".join(COLUMNS[table])
    rows = rows_of(text)
    assert rows and list(rows[0]) == list(COLUMNS[table])


def test_row_contents(store, log):
    (a, b) = rows_of(dump(store))
    assert a["id"] == log["a"] and a["tags"] == "traffic;night"
    assert a["occurred_at"] == "2026-03-02T14:30:00-06:00"
    assert b["occurred_at"] == "2026-07-10T09:00:00-05:00"  # summer time
    assert b["organization_id"] == log["org"]
    (org,) = rows_of(dump(store, "organizations"))
    assert org["services"] == "food" and org["email"] == "maria@harborfood.org"
    concerns = rows_of(dump(store, "concerns"))
    done = next(c for c in concerns if c["status"] == "resolved")
    assert done["resolved_at"].endswith(("-06:00", "-05:00")) and done["resolution"]
    (ref,) = rows_of(dump(store, "referrals"))
    assert ref["concern_id"] == log["k1"] and ref["organization_id"] == log["org"]
    assert ref["follow_up_on"] and len(ref["follow_up_on"]) == 10
    flat = rows_of(dump(store, "flat"))
    assert sorted(r["record_type"] for r in flat) == ["concern", "concern", "referral"]
    r = next(r for r in flat if r["record_type"] == "referral")
    assert r["contact_id"] == log["a"] and r["category"] == "traffic"
    assert r["occurred_at"] == "2026-03-02T14:30:00-06:00" and r["agency"] == "Harbor Food Bank"


def test_deleted_records_are_left_out(store, log):
    store.contacts.delete(log["a"])
    assert [r["id"] for r in rows_of(dump(store))] == [log["b"]]
    assert all(r["contact_id"] == log["b"] for r in rows_of(dump(store, "flat")))
    assert rows_of(dump(store, "referrals")) == []


# ---------------------------------------------------------------- filters
def ids(store, table="contacts", key="id", **filters):
    return [r[key] for r in rows_of(dump(store, table, filters=filters))]


def test_filters(store, log):
    a, b = log["a"], log["b"]
    assert ids(store, since="2026-06-01") == [b]
    assert ids(store, until="2026-03-02") == [a]  # a day includes the day
    assert ids(store, until="2026-03-01") == []
    assert ids(store, hood="eastside") == [a]
    assert ids(store, tag="Night") == [a]
    assert ids(store, category="noise") == [b]
    assert ids(store, officer="nobody") == []
    assert ids(store, "concerns", key="category", hood="Harbor") == ["noise"]
    assert ids(store, "concerns", key="category", status="resolved") == ["noise"]
    assert ids(store, "referrals", key="contact_id", category="traffic") == [a]
    assert ids(store, "referrals", key="contact_id", category="noise") == []
    assert ids(store, "referrals", key="contact_id", since="2026-06-01") == []
    assert ids(store, "flat", key="record_type", status="made") == ["referral"]
    assert ids(store, "flat", key="record_type", category="traffic") == ["concern", "referral"]
    assert ids(store, "organizations", key="name", hood="Harbor") == ["Harbor Food Bank"]
    assert ids(store, "organizations", key="name", status="inactive") == []


def test_filter_errors_name_what_is_accepted(cli, log):
    r = cli("export", "--category", "nois", code=1)
    assert "traffic, noise" in r.stderr and r.stderr.count("\n") == 1
    assert "made, accepted" in cli("export", "referrals", "--status", "x", code=1).stderr
    assert "Cannot read the date" in cli("export", "--since", "someday", code=1).stderr
    assert "does not apply" in cli("export", "organizations", "--since", "3d", code=1).stderr
    assert "does not apply" in cli("export", "contacts", "--status", "open", code=1).stderr
    assert "Unknown table" in cli("export", "people", code=1).stderr


# ---------------------------------------------------------------- formula injection
TEXT_KINDS = {  # one column of each kind of text cell, per table
    "contacts": ("person_name", "summary", "notes", "location", "neighborhood", "beat"),
    "concerns": ("description", "resolution"),
    "referrals": ("agency", "reason", "outcome"),
    "organizations": ("name", "contact_person", "phone", "email", "address", "notes"),
}


@pytest.mark.parametrize("prefix", FORMULA_PREFIXES)
def test_every_dangerous_prefix_in_every_text_column_is_neutralised(store, log, prefix):
    payload = f'{prefix}HYPERLINK("http://x",1)'
    with store.write() as tx:  # as a synced record could hold it (forms strip blanks)
        for col in TEXT_KINDS["contacts"]:
            tx.update("contacts", log["a"], {col: payload})
        tx.update("contacts", log["a"], {"tags": [f"{prefix}tag"]})
        for col in TEXT_KINDS["concerns"]:
            tx.update("concerns", log["k1"], {col: payload})
        ref = store.query("SELECT id FROM referrals")[0]["id"]
        for col in TEXT_KINDS["referrals"]:
            tx.update("referrals", ref, {col: payload})
        for col in TEXT_KINDS["organizations"]:
            tx.update("organizations", log["org"], {col: payload})
    for table, cols in TEXT_KINDS.items():
        for raw in (False, True):
            rows = rows_of(dump(store, table, raw=raw))
            row = next(r for r in rows if payload in r.values() or "'" + payload in r.values())
            for col in cols:
                assert row[col] == (payload if raw else "'" + payload), (table, col, raw)
    contact = next(r for r in rows_of(dump(store)) if r["id"] == log["a"])
    assert contact["tags"] == f"'{prefix}tag"
    flat = rows_of(dump(store, "flat"))
    assert any(r["summary"] == "'" + payload for r in flat)
    assert any(r["reason"] == "'" + payload for r in flat)
    # Through the redaction path too.
    redacted = rows_of(dump(store, "concerns", redactor=export.Redactor(set(), set())))
    assert any(r["description"] == "'" + payload for r in redacted)


def test_raw_flag_on_the_command_line(cli, store, log):
    with store.write() as tx:
        tx.update("contacts", log["a"], {"summary": "=1+1"})
    assert "'=1+1" in cli("export").stdout
    out = cli("export", "--raw").stdout
    assert "=1+1" in out and "'=1+1" not in out


# ---------------------------------------------------------------- excel
TRICKY = 'He said "hi", then\nleft; café ñandú, 1 + 1\r\nend'


def test_excel_bom_crlf_and_the_excel_dialect_reads_it_back(store, log):
    with store.write() as tx:
        tx.update("contacts", log["a"], {"notes": TRICKY, "summary": "a,b"})
    data = dump(store, excel=True)
    assert data.startswith("\ufeff" + ",".join(COLUMNS["contacts"]) + "\r\n")
    assert data.endswith("\r\n")
    assert data.count("\r\n") == 3 + 1  # header, two rows, and the one inside the note
    rows = list(csv.reader(io.StringIO(data[1:], newline=""), dialect="excel"))
    assert rows[0] == list(COLUMNS["contacts"])
    row = dict(zip(rows[0], next(r for r in rows if r[0] == log["a"]), strict=True))
    assert row["notes"] == TRICKY and row["summary"] == "a,b"
    assert row["person_name"] == "Ana Díaz"
    plain = dump(store)
    assert not plain.startswith("\ufeff") and plain.count("\r\n") == 1  # only in the note


def test_excel_file_on_disk_is_utf8_with_bom(cli, tmp_path, log):
    path = tmp_path / "c.csv"
    cli("export", "--excel", "--out", str(path))
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfid,") and b"D\xc3\xadaz" in raw
    with open(path, encoding="utf-8-sig", newline="") as fh:
        assert len(list(csv.reader(fh, dialect="excel"))) == 3


def soffice(tmp_path, *csv_paths) -> None:
    """Open exported CSVs in LibreOffice as an officer would (UTF-8, comma, double quote) and
    save each as .xlsx beside it (one run: LibreOffice starts once)."""
    profile = (tmp_path / "lo-profile").as_uri()  # its own profile: runs never share a lock
    subprocess.run(
        ["soffice", f"-env:UserInstallation={profile}", "--headless",
         "--infilter=CSV:44,34,76,1", "--convert-to", "xlsx", "--outdir", str(tmp_path),
         *map(str, csv_paths)],
        check=True, timeout=180, capture_output=True,
    )  # fmt: skip


def xlsx_cells(path) -> list[dict[str, tuple[str, str]]]:
    """Each data row of a sheet LibreOffice saved, as {header: (cell type, cell text)} read
    from the sheet's XML: "s" is a text cell, "n" a number, "f" a formula."""
    import xml.etree.ElementTree as ET

    ns = {"x": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
    with zipfile.ZipFile(path) as book:
        shared = [
            "".join(t.text or "" for t in si.iter(f"{{{ns['x']}}}t"))
            for si in ET.fromstring(book.read("xl/sharedStrings.xml")).findall("x:si", ns)
        ]
        sheet = ET.fromstring(book.read("xl/worksheets/sheet1.xml"))
    rows = []
    for row in sheet.find("x:sheetData", ns).findall("x:row", ns):
        cells = {}  # column letters -> cell; an empty cell has no element at all
        for c in row.findall("x:c", ns):
            column = c.get("r").rstrip("0123456789")
            value = c.findtext("x:v", "", ns)
            if c.find("x:f", ns) is not None:
                cells[column] = ("f", c.findtext("x:f", "", ns))
            elif c.get("t") == "s":
                cells[column] = ("s", shared[int(value)])
            else:
                cells[column] = (c.get("t", "n"), value)
        rows.append(cells)
    header = {column: text for column, (_, text) in rows[0].items()}
    return [{header[k]: cell for k, cell in r.items()} for r in rows[1:]]


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
def test_libreoffice_converts_it(cli, store, tmp_path, log):
    payload = '=HYPERLINK("http://x",1)'
    with store.write() as tx:
        tx.update(
            "contacts",
            log["a"],
            {
                "summary": payload,
                "notes": TRICKY,
                "location": "0042 Elm St",
                "tags": ["+1", "night"],
            },
        )
        tx.update("organizations", log["org"], {"phone": "0161 496 0000", "address": "@home"})
    path, orgs = tmp_path / "c.csv", tmp_path / "o.csv"
    cli("export", "--excel", "--out", str(path))
    cli("export", "organizations", "--excel", "--out", str(orgs))
    soffice(tmp_path, path, orgs)
    contacts = {row["id"][1]: row for row in xlsx_cells(tmp_path / "c.xlsx")}
    assert set(contacts) == {log["a"], log["b"]}  # the BOM is not part of the first header
    a = contacts[log["a"]]
    assert a["summary"] == ("s", "'" + payload)  # neutralised: text, never a formula
    assert a["tags"] == ("s", "'+1;night")
    assert a["notes"][0] == "s" and a["notes"][1].replace("\r\n", "\n") == TRICKY.replace(
        "\r\n", "\n"
    )  # quotes, commas and line breaks inside one cell; UTF-8 read as UTF-8
    assert a["person_name"] == ("s", "Ana Díaz") and a["location"] == ("s", "0042 Elm St")
    assert a["occurred_at"][1] == "2026-03-02T14:30:00-06:00"
    assert contacts[log["b"]]["organization_id"] == ("s", log["org"])
    assert all(kind != "f" for row in contacts.values() for kind, _ in row.values())
    (org,) = xlsx_cells(tmp_path / "o.xlsx")
    assert org["phone"] == ("s", "0161 496 0000")  # the leading zero kept
    assert org["address"] == ("s", "'@home") and org["email"] == ("s", "maria@harborfood.org")
    assert org["contact_person"] == ("s", "Maria Ortega")


# ---------------------------------------------------------------- redaction
SECRETS = ("Ana Díaz", "ana díaz", "Maria Ortega", "555-0199", "555-0123",
           "maria@harborfood.org", "12 Wharf Rd", "41 Elm St")  # fmt: skip


def test_redact_leaves_no_personal_data_anywhere(cli, store, log, tmp_path):
    store.contacts.add({"summary": "Saw ANA DÍAZ again at 12 Wharf Rd", "person_name": "ana díaz",
                       "notes": "mail maria@harborfood.org"})  # fmt: skip
    cli("export", "all", "--redact", "--out", str(tmp_path / "out"))
    texts = {p.name: p.read_text(encoding="utf-8") for p in (tmp_path / "out").iterdir()}
    assert set(texts) == {f"{t}.csv" for t in COLUMNS}
    for name, text in texts.items():
        for secret in SECRETS:
            assert secret.lower() not in text.lower(), (name, secret)
    contacts = rows_of(texts["contacts.csv"])
    pseudo = {r["person_name"] for r in contacts if r["person_name"]}
    assert len(pseudo) == 1 and next(iter(pseudo)).startswith("Person-")  # same person
    p = next(iter(pseudo))
    assert p in contacts[0]["summary"] and p in contacts[2]["summary"]
    assert all(r["location"] == "" for r in contacts)
    (org,) = rows_of(texts["organizations.csv"])
    assert org["contact_person"].startswith("Person-") and org["contact_person"] != p
    assert org["phone"] == org["email"] == org["address"] == ""
    assert org["name"] == "Harbor Food Bank"  # a partner's name is not personal
    concern = next(r for r in rows_of(texts["concerns.csv"]) if r["category"] == "traffic")
    assert p in concern["description"]
    # A new export, a new key: the pseudonym cannot be linked across exports.
    again = cli("export", "--redact").stdout
    assert p not in again and "Person-" in again


def test_redactor_scrubs_whole_names_only():
    r = export.Redactor({"Ana", "Ana Díaz"}, {"12 Wharf Rd"}, key=b"k")
    assert r.scrub("Anabel met ana díaz at 12 wharf rd.") == (
        f"Anabel met {r.pseudonym('Ana Díaz')} at [redacted]."
    )
    assert r.pseudonym("ANA  díaz") == r.pseudonym("ana díaz")
    assert r.scrub("call +1 (555) 010-9999 or x@y.org") == "call [redacted] or [redacted]"


# ---------------------------------------------------------------- all, stdout, errors
def test_all_to_a_zip(cli, tmp_path, log):
    path = tmp_path / "export.zip"
    summary = cli.json("export", "all", "--out", str(path))
    assert summary["rows"]["contacts"] == 2 and summary["rows"]["flat"] == 3
    with zipfile.ZipFile(path) as zf:
        assert sorted(zf.namelist()) == sorted(f"{t}.csv" for t in COLUMNS)
        text = zf.read("concerns.csv").decode()
    assert text.startswith(",".join(COLUMNS["concerns"]) + "\n")
    assert not (tmp_path / "export.zip.part").exists()


def test_all_filters_apply_where_meaningful(cli, tmp_path, log):
    summary = cli.json("export", "all", "--out", str(tmp_path / "d"), "--since", "2026-06-01")
    # a period is a contact's: partners and problems (their own records) all go
    assert summary["rows"] == {"contacts": 1, "concerns": 1, "referrals": 0,
                               "organizations": 1, "problems": 1, "problem_links": 1,
                               "problem_entries": 1, "flat": 1}  # fmt: skip


def test_stdout_and_json_summary(cli, tmp_path, log):
    out = cli("export", "concerns", "--out", "-").stdout
    assert out.startswith("id,contact_id,") and len(rows_of(out)) == 2
    assert cli("export", "concerns").stdout == out
    path = tmp_path / "x.csv"
    summary = cli.json("export", "flat", "--out", str(path))
    assert summary == {"table": "flat", "rows": 3, "out": str(path)}
    assert "stdout" in cli("export", "--json", code=1).stderr
    assert "--out" in cli("export", "all", code=1).stderr


def test_errors_leave_no_file(cli, tmp_path, log):
    path = tmp_path / "c.csv"
    cli("export", "--since", "whenever", "--out", str(path), code=1)
    cli("export", "--category", "nope", "--out", str(path), code=1)
    assert list(tmp_path.glob("c.csv*")) == []
    r = cli("export", "--out", str(tmp_path / "missing" / "c.csv"), code=1)
    assert r.stderr.startswith("Error: Cannot write")
    cli("export", "all", "--out", str(tmp_path / "z.zip"), "--status", "bogus", code=1)
    assert not list(tmp_path.glob("z.zip*"))


def test_a_failure_mid_export_leaves_no_file(store, log, tmp_path):
    path = tmp_path / "c.csv"

    def boom(n: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt), export.atomic_text(path) as out:
        export.write_table(store, "contacts", out, progress=boom)
    assert list(tmp_path.glob("c.csv*")) == []


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0,
    reason="a folder's POSIX mode (root writes anywhere; Windows has ACLs instead)",
)
def test_readonly_folder(cli, tmp_path, log):
    ro = tmp_path / "ro"
    ro.mkdir(mode=0o500)
    assert "Cannot write" in cli("export", "--out", str(ro / "c.csv"), code=1).stderr


# ---------------------------------------------------------------- SQL == Python
def sql_cell(value: str | None, raw: bool) -> str:
    con = sqlite3.connect(":memory:")
    return con.execute(f"SELECT {export_sql.sql_csv_cell('?1', raw=raw)}", [value]).fetchone()[0]


def py_cell(value: str, raw: bool) -> str:
    buf = io.StringIO(newline="")
    csv.writer(buf, lineterminator="\r\n").writerow(
        ["x", value if raw else export.neutralise(value)]
    )
    return buf.getvalue()[2:-2]


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.sampled_from("ab ,\"\n\r\t=+-@'é;\\x"), max_size=12), st.booleans())
def test_sql_quoting_equals_python_csv(value, raw):
    assert sql_cell(value, raw) == py_cell(value, raw)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=20), st.booleans())
def test_sql_quoting_equals_python_csv_any_text(value, raw):
    value = value.replace("\x00", "")
    assert sql_cell(value, raw) == py_cell(value, raw)


def test_sql_null_is_an_empty_cell():
    assert sql_cell(None, False) == "" and sql_cell(None, True) == ""


@pytest.mark.slow
@needs_tzset
@pytest.mark.parametrize("zone", ["America/Chicago", "UTC", "Asia/Kolkata", "Pacific/Marquesas",
                                  "Australia/Lord_Howe", "Europe/London"])  # fmt: skip
def test_sql_local_time_equals_python(monkeypatch, zone):
    monkeypatch.setenv("TZ", zone)
    tzset()
    con = sqlite3.connect(":memory:")
    start = datetime(2025, 1, 1, tzinfo=UTC)
    stamps = [start + timedelta(hours=7 * i, minutes=13 * i) for i in range(1400)]  # ~14 months
    stamps += [
        datetime(2026, 3, 8, 7, 59, 59, tzinfo=UTC),
        datetime(2026, 3, 8, 8, tzinfo=UTC),
        datetime(2026, 11, 1, 6, 59, 59, tzinfo=UTC),
        datetime(2026, 11, 1, 7, tzinfo=UTC),
    ]
    stamps += [
        datetime(1985, 7, 4, 12, tzinfo=UTC),
        datetime(2061, 1, 5, 3, tzinfo=UTC),
    ]  # outside the table
    for dt in stamps:
        for text in (
            dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
            dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000 + 7:03d}Z",
        ):
            ms = "." in text
            got = con.execute(f"SELECT {export_sql.sql_local_iso('?1', ms=ms)}", [text]).fetchone()[
                0
            ]
            assert got == local_iso(text), (zone, text)
            assert stored_utc(got) == text


@needs_tzset
def test_local_iso_examples(monkeypatch):
    assert local_iso("2026-11-25T22:11:15.975Z") == "2026-11-25T16:11:15.975-06:00"
    assert local_iso("2026-07-01T12:00:00Z") == "2026-07-01T07:00:00-05:00"
    assert stored_utc("2026-11-25T16:11:15.975-06:00") == "2026-11-25T22:11:15.975Z"
    monkeypatch.setenv("TZ", "UTC")
    tzset()
    assert local_iso("2026-07-01T12:00:00Z") == "2026-07-01T12:00:00+00:00"


def test_tui_wrapper_still_counts_and_filters(store, log):
    buf = io.StringIO(newline="")
    assert export.export_contacts_csv(store, buf, since="2026-06-01") == 1
    assert rows_of(buf.getvalue())[0]["id"] == log["b"]


def test_two_process_export_writes_the_same_bytes(cli, store, monkeypatch, tmp_path):
    """The CLI splits a big table across two processes; the file must not change."""
    import fieldlog.db.export_sql as store_mod
    from fieldlog import export

    cli("demo", "--contacts", "300")
    one, two = io.StringIO(newline=""), io.StringIO(newline="")
    n1 = export.write_table(store, "contacts", one, processes=2)  # too small: one process
    monkeypatch.setattr(store_mod, "EXPORT_SPLIT_MIN_ROWS", 10)
    assert store.exports.split_rowid("contacts") is not None
    for table in ("contacts", "concerns", "referrals"):
        a, b = io.StringIO(newline=""), io.StringIO(newline="")
        na = export.write_table(store, table, a, processes=1, filters={"hood": "Eastside"})
        nb = export.write_table(store, table, b, processes=2, filters={"hood": "Eastside"})
        assert (na, a.getvalue()) == (nb, b.getvalue()) and na > 0
    n2 = export.write_table(store, "contacts", two, processes=2, excel=True)
    assert n1 == n2 == 300
    out = tmp_path / "c.csv"
    cli("export", "--out", str(out))  # the CLI path (processes=2)
    assert out.read_text(encoding="utf-8") == one.getvalue()


def test_export_without_fork_or_sendfile_writes_the_same_bytes(cli, store, monkeypatch, tmp_path):
    """Windows has neither fork nor os.sendfile: one process writes the table, and the
    split's half-file append copies by hand; both give the bytes of the two-process export."""
    import multiprocessing
    import os

    import fieldlog.db.export_sql as store_mod
    from fieldlog import export
    from fieldlog.export import split, table

    cli("demo", "--contacts", "300")
    monkeypatch.setattr(store_mod, "EXPORT_SPLIT_MIN_ROWS", 10)
    forked = tmp_path / "forked.csv"
    cli("export", "--out", str(forked))
    half = tmp_path / "half.bin"
    half.write_bytes(b"0123456789abcdef")
    monkeypatch.delattr(os, "sendfile")
    with open(tmp_path / "spans.bin", "w", encoding="utf-8", newline="") as out:
        split.append_spans(out, half, [(10, 16), (0, 4)], "utf-8", "strict")
    assert (tmp_path / "spans.bin").read_bytes() == b"abcdef0123"
    monkeypatch.setattr(multiprocessing, "get_all_start_methods", lambda: ["spawn"])
    assert not split.can_split()
    calls = []
    monkeypatch.setattr(table, "write_split", lambda *a, **k: calls.append(a))
    single = tmp_path / "single.csv"
    cli("export", "--out", str(single))
    assert calls == [] and single.read_bytes() == forked.read_bytes()
    buf = io.StringIO(newline="")
    assert export.write_table(store, "contacts", buf, processes=2) == 300
