"""Referral sheets: ``fieldlog referral sheet PARTNER`` writes a partner's open referrals
(.xlsx or .csv) with two columns for them to fill in; ``fieldlog import`` recognises the
returned sheet and applies its status and outcome updates (validated, only those two fields,
audited as the partner's, synced like any edit, a re-import a no-op)."""

from __future__ import annotations

import csv
import json
import os
import sqlite3
import subprocess
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from fieldlog import dates, models
from fieldlog.cli import app
from fieldlog.export import sheet as layout
from tests.lib.soffice import soffice_or_skip

HEADER = list(layout.HEADER)
STATUS, OUTCOME = HEADER.index("status"), HEADER.index("outcome")
REASON, RESIDENT = HEADER.index("reason"), HEADER.index("resident")


# ---------------------------------------------------------------------- helpers
@pytest.fixture(scope="module")
def template(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """Parks Dept with two open referrals (one accepted), one completed and one deleted;
    Food Bank with one of its own. Made once (some 20 commands); each test gets a copy."""
    folder = tmp_path_factory.mktemp("sheet-log")
    db = folder / "log.db"
    runner = CliRunner()

    def run(*args: str) -> str:
        result = runner.invoke(app, ["--db", str(db), *args])
        assert result.exit_code == 0, (args, result.stdout, result.stderr)
        return result.stdout

    def new(*args: str) -> str:
        return json.loads(run(*args, "--json"))["id"]

    with pytest.MonkeyPatch.context() as mp:  # never the developer's own home or settings
        mp.setenv("FIELDLOG_HOME", str(folder / "home"))
        mp.setenv("FIELDLOG_CONFIG", str(folder / "config.toml"))
        mp.setenv("TZ", "America/Chicago")
        for name in ("FIELDLOG_NOW", "FIELDLOG_PASSPHRASE", "FIELDLOG_DB"):
            mp.delenv(name, raising=False)
        run("init", "--officer", "Dana Ruiz")
        run("org", "add", "Parks Dept", "--services", "youth")
        run("org", "add", "Food Bank", "--services", "food")

        def refer(summary: str, name: str, hood: str, agency: str, reason: str) -> str:
            cid = new("add", summary, "--name", name, "--hood", hood)
            return new("refer", cid, agency, "--reason", reason)

        ids = {
            "ana": refer("Met Ana about the court", "Ana Diaz", "Eastside", "Parks Dept",
                         "court lighting; Ana Diaz asked, call 555-0101"),
            "bo": refer("Bo wants a league", "Bo Li", "Harbor", "Parks Dept", "youth league"),
            "done": refer("Cy finished", "Cy Moe", "Harbor", "Parks Dept", "summer camp"),
            "gone": refer("Entered by mistake", "Di Fox", "Harbor", "Parks Dept", "mistake"),
            "food": refer("Ed needs food", "Ed Ng", "Harbor", "Food Bank", "groceries"),
        }  # fmt: skip
        run("referral", "update", ids["bo"], "--status", "accepted")
        run("done", ids["done"], "--outcome", "went all summer")
        rows = json.loads(run("referral", "list", "--agency", "Parks Dept", "--json"))
        run("delete", next(r["contact_id"] for r in rows if r["id"] == ids["gone"]), "--yes")
    return db, ids


@pytest.fixture
def log(template, db_path, tmp_path, monkeypatch) -> dict[str, str]:
    """A copy of the template log at this test's log path; the current folder is tmp_path."""
    src, ids = template
    with sqlite3.connect(src) as a, sqlite3.connect(db_path) as b:
        a.backup(b)
    a.close()
    b.close()
    monkeypatch.chdir(tmp_path)
    return ids


def referral(db: Path, rid: str) -> dict:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        return dict(conn.execute("SELECT * FROM referrals WHERE id = ?", [rid]).fetchone())
    finally:
        conn.close()


def counts(db: Path) -> tuple[int, int]:
    """(audit entries, outbox rows): what a write adds."""
    conn = sqlite3.connect(db)
    try:
        return (
            conn.execute("SELECT count(*) FROM audit").fetchone()[0],
            conn.execute("SELECT count(*) FROM changes").fetchone()[0],
        )
    finally:
        conn.close()


def read_csv(path: Path) -> list[list[str]]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.reader(fh))


def write_csv(path: Path, rows: list[list[str]]) -> None:
    """As a spreadsheet saves it: no BOM, LF line ends."""
    with open(path, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)


def fill_csv(src: Path, dest: Path, updates: dict[str, tuple[str, str]]) -> None:
    """Fill in status and outcome for referral id -> (status, outcome)."""
    rows = read_csv(src)
    for row in rows[2:]:
        if row[0] in updates:
            row[STATUS], row[OUTCOME] = updates[row[0]]
    write_csv(dest, rows)


def fill_xlsx(src: Path, dest: Path, updates: dict[str, tuple[str | None, str | None]]) -> None:
    wb = openpyxl.load_workbook(src)
    ws = wb[layout.SHEET_NAME]
    for row in ws.iter_rows(min_row=2):
        if row[0].value in updates:
            row[STATUS].value, row[OUTCOME].value = updates[row[0].value]
    wb.save(dest)


# ---------------------------------------------------------------------- the sheet
def test_csv_sheet_lists_the_partners_open_referrals(cli, log, tmp_path):
    out = cli("referral", "sheet", "parks dept", "--out", "parks.csv").stdout
    assert "parks.csv: 2 open referrals to Parks Dept" in out
    assert "fieldlog import parks.csv" in out
    raw = (tmp_path / "parks.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbffieldlog-sheet,referrals/1,") and b"\r\n" in raw
    rows = read_csv(tmp_path / "parks.csv")
    marker = layout.Marker.parse(rows[0])
    assert marker is not None and marker.partner == "Parks Dept" and not marker.redacted
    assert rows[1] == HEADER
    body = {r[0]: r for r in rows[2:]}
    # open ones only (made, accepted, unreachable): not the completed, deleted or Food Bank's
    assert set(body) == {log["ana"], log["bo"]}
    ana = body[log["ana"]]
    assert ana[RESIDENT] == "Ana Diaz" and ana[HEADER.index("neighborhood")] == "Eastside"
    assert ana[HEADER.index("current status")] == "made"
    assert ana[HEADER.index("service")] == "youth"
    assert ana[HEADER.index("date made")] == dates.today_local()  # the local day it was made
    assert ana[STATUS] == "" and ana[OUTCOME] == ""
    assert body[log["bo"]][HEADER.index("current status")] == "accepted"


def test_xlsx_sheet_has_typed_cells_a_drop_down_and_editable_columns(cli, log, tmp_path):
    out = cli("referral", "sheet", "Parks Dept").stdout  # the default: a workbook here
    name = next(p.name for p in tmp_path.glob("referrals-parks-dept-*.xlsx"))
    assert name in out
    wb = openpyxl.load_workbook(tmp_path / name)
    assert wb.sheetnames[:2] == [layout.SHEET_NAME, layout.ABOUT_NAME]
    ws = wb[layout.SHEET_NAME]
    assert [c.value for c in ws[1]] == HEADER
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref
    first = ws[2]
    assert first[0].data_type == "s" and first[0].value in (log["ana"], log["bo"])
    assert first[1].is_date and first[HEADER.index("follow up by")].is_date
    for i, cell in enumerate(first):
        editable = i in (STATUS, OUTCOME)
        assert cell.protection.locked is not editable, HEADER[i]
    assert ws.protection.sheet
    (dv,) = ws.data_validations.dataValidation
    assert dv.type == "list" and str(dv.sqref).startswith(f"{first[STATUS].column_letter}2")
    assert dv.formula1 == '"' + ",".join(models.REFERRAL_STATUSES) + '"'
    about = [c.value for c in wb[layout.ABOUT_NAME][1]]
    assert layout.Marker.parse(about).partner == "Parks Dept"
    # written whole, owner-only, never replaced without --force
    assert (tmp_path / name).stat().st_mode & 0o777 == 0o600
    err = cli("referral", "sheet", "Parks Dept", code=1).stderr
    assert "already exists" in err and "--force" in err
    cli("referral", "sheet", "Parks Dept", "--force")


def test_redacted_sheet_keeps_the_ids_and_hides_the_people(cli, log, tmp_path):
    cli("referral", "sheet", "Parks Dept", "--out", "r.csv", "--redact")
    rows = read_csv(tmp_path / "r.csv")
    assert layout.Marker.parse(rows[0]).redacted
    body = {r[0]: r for r in rows[2:]}
    assert set(body) == {log["ana"], log["bo"]}  # the real ids: the sheet comes back
    text = (tmp_path / "r.csv").read_text(encoding="utf-8-sig")
    assert "Ana Diaz" not in text and "555-0101" not in text and "Bo Li" not in text
    assert body[log["ana"]][RESIDENT].startswith("Person-")
    assert body[log["ana"]][HEADER.index("neighborhood")] == "Eastside"
    # filled in and returned: the pseudonyms and scrubbed reasons are not edits
    fill_csv(tmp_path / "r.csv", tmp_path / "r-back.csv", {log["ana"]: ("completed", "lit")})
    out = cli("import", "r-back.csv").stdout
    assert "updated 1 referral" in out and "ignored" not in out


@pytest.mark.parametrize(
    "args,needle",
    [
        (["Nope"], "No partner organization is named or numbered 'Nope'"),
        (["Parks Dept", "--out", "x.txt"], "ending in .xlsx or .csv"),
    ],
)
def test_sheet_errors_are_one_line(cli, log, args, needle):
    err = cli("referral", "sheet", *args, code=1).stderr
    assert needle in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


# ---------------------------------------------------------------------- the round trip
@pytest.mark.parametrize("form", ["csv", "xlsx"])
def test_round_trip_updates_audits_syncs_and_a_reimport_is_a_noop(cli, log, db_path, tmp_path,
                                                                  form):  # fmt: skip
    cli("referral", "sheet", "Parks Dept", "--out", f"s.{form}")
    back = tmp_path / f"back.{form}"
    updates = {log["ana"]: ("Completed", "Lights fixed, Ana thanked us"), log["bo"]: ("", "")}
    if form == "csv":
        fill_csv(tmp_path / "s.csv", back, updates)
    else:
        fill_xlsx(tmp_path / "s.xlsx", back, {k: (v[0] or None, v[1] or None)
                                              for k, v in updates.items()})  # fmt: skip
    before_bo = referral(db_path, log["bo"])
    audit_before, outbox_before = counts(db_path)

    dry = cli("import", str(back), "--dry-run").stdout
    assert "would update 1 referral" in dry and counts(db_path) == (audit_before, outbox_before)

    out = cli("import", str(back)).stdout
    assert "partner sheet from Parks Dept: updated 1 referral (1 status, 1 outcome)" in out
    ana = referral(db_path, log["ana"])
    assert ana["status"] == "completed" and ana["outcome"] == "Lights fixed, Ana thanked us"
    assert referral(db_path, log["bo"]) == before_bo  # nothing filled in: untouched
    # synced like any edit: one outbox row with the two fields, stamped by this device
    conn = sqlite3.connect(db_path)
    try:
        tbl, fields = conn.execute(
            "SELECT tbl, fields FROM changes ORDER BY seq DESC LIMIT 1"
        ).fetchone()
        (action, changes) = conn.execute(
            "SELECT action, changes FROM audit ORDER BY seq DESC LIMIT 1"
        ).fetchone()
    finally:
        conn.close()
    assert (tbl, sorted(fields.split(","))) == ("referrals", ["outcome", "status"])
    assert json.loads(ana["clocks"])["status"] == ana["hlc"]
    # audited as coming from the partner's sheet
    assert action == "update"
    assert json.loads(changes)["$source"] == f"partner sheet: Parks Dept (back.{form})"
    history = cli("history", log["ana"], "--type", "referral").stdout
    assert f"from partner sheet: Parks Dept (back.{form})" in history
    assert "status: made → completed" in history
    trail = cli.json("history", log["ana"], "--type", "referral")
    assert trail["entries"][-1]["source"] == f"partner sheet: Parks Dept (back.{form})"
    assert "$source" not in trail["entries"][-1]["changes"]
    assert cli("verify").stdout.startswith("OK: ")

    # the same sheet again: nothing written, and said so
    after = counts(db_path)
    again = cli("import", str(back)).stdout
    assert "nothing new" in again and "imported before?" in again
    assert counts(db_path) == after
    assert cli.json("import", str(back))["format"] == "partner sheet"

    # an officer can take it back like any write of theirs
    cli("undo", "--yes")
    assert referral(db_path, log["ana"])["status"] == "made"


def test_bad_rows_are_each_named_and_nothing_is_applied(cli, log, db_path, tmp_path):
    cli("referral", "sheet", "Parks Dept", "--out", "s.csv")
    rows = read_csv(tmp_path / "s.csv")
    ana = next(r for r in rows[2:] if r[0] == log["ana"])
    bo = next(r for r in rows[2:] if r[0] == log["bo"])
    ana[STATUS], ana[OUTCOME] = "accepted", "called her"  # good
    bo[STATUS] = "closed"  # not a status
    blank = [""] * len(HEADER)
    food = [log["food"], *blank[1:]]
    food[STATUS] = "completed"  # another partner's referral
    unknown = ["0" * 31 + "1", *blank[1:]]
    unknown[OUTCOME] = "who?"
    dup = list(ana)
    gone = [log["gone"], *blank[1:]]
    gone[STATUS] = "declined"
    rows += [food, unknown, dup, gone]
    write_csv(tmp_path / "bad.csv", rows)
    before = (referral(db_path, log["ana"]), counts(db_path))

    err = cli("import", "bad.csv", code=1).stderr
    assert "5 bad rows; nothing was written" in err
    assert "line 4: Unknown status 'closed'" in err
    assert f"line 5: referral {log['food'][:8]}" in err and "not to Parks Dept" in err
    assert "line 6: no referral has the id '" in err
    assert "line 7: referral" in err and "is on line 3 too" in err
    assert "line 8: referral" in err and "was deleted" in err
    assert "Traceback" not in err
    assert (referral(db_path, log["ana"]), counts(db_path)) == before

    # --skip-bad: the good row goes in, the bad ones are listed
    res = cli.json("import", "bad.csv", "--skip-bad")
    assert res["bad_count"] == 5 and res["referrals"] == 1
    assert referral(db_path, log["ana"])["status"] == "accepted"
    assert referral(db_path, log["food"])["status"] == "made"


def test_a_csv_saved_with_semicolons_is_read(cli, log, db_path, tmp_path):
    """Excel in a European locale saves "CSV" with semicolons."""
    cli("referral", "sheet", "Parks Dept", "--out", "s.csv")
    rows = read_csv(tmp_path / "s.csv")
    ana = next(r for r in rows[2:] if r[0] == log["ana"])
    ana[STATUS], ana[OUTCOME] = "declined", "moved away; no new address"
    with open(tmp_path / "semi.csv", "w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh, delimiter=";", lineterminator="\r\n").writerows(rows)
    assert "updated 1 referral" in cli("import", "semi.csv").stdout
    row = referral(db_path, log["ana"])
    assert (row["status"], row["outcome"]) == ("declined", "moved away; no new address")


def test_other_edited_cells_are_ignored_and_said(cli, log, db_path, tmp_path):
    cli("referral", "sheet", "Parks Dept", "--out", "s.csv")
    rows = read_csv(tmp_path / "s.csv")
    ana = next(r for r in rows[2:] if r[0] == log["ana"])
    ana[REASON] = "we rewrote the reason"
    ana[RESIDENT] = "Anna Dias"
    ana[STATUS] = "unreachable"
    write_csv(tmp_path / "e.csv", rows)
    out = cli("import", "e.csv").stdout
    assert "2 other edited cells ignored (only status and outcome are read)" in out
    assert "line 3 (reason)" in out and "line 3 (resident)" in out
    row = referral(db_path, log["ana"])
    assert row["status"] == "unreachable" and row["reason"].startswith("court lighting")


def test_a_later_change_in_the_log_is_not_overwritten_by_an_older_sheet(cli, log, db_path,
                                                                        tmp_path):  # fmt: skip
    cli("referral", "sheet", "Parks Dept", "--out", "s.csv")
    cli("referral", "update", log["ana"], "--status", "completed", "--outcome", "done by phone")
    fill_csv(tmp_path / "s.csv", tmp_path / "late.csv", {log["ana"]: ("accepted", "")})
    err = cli("import", "late.csv", code=1).stderr
    assert "had its status changed in the log after the sheet was made" in err
    assert "now 'completed'" in err and "fieldlog referral update" in err
    assert referral(db_path, log["ana"])["status"] == "completed"
    # the same value as the log's is no conflict: nothing to do
    fill_csv(tmp_path / "s.csv", tmp_path / "same.csv", {log["ana"]: ("completed", "")})
    assert "nothing new" in cli("import", "same.csv").stdout
    # nor is an edit of what the log did not change since (the outcome of another row)
    fill_csv(tmp_path / "s.csv", tmp_path / "bo.csv", {log["bo"]: ("", "joined the league")})
    assert "updated 1 referral (1 outcome)" in cli("import", "bo.csv").stdout


def test_files_that_look_like_a_sheet_but_are_not_say_what_to_do(cli, log, tmp_path):
    cli("referral", "sheet", "Parks Dept", "--out", "s.xlsx")
    # the referrals sheet saved alone as CSV: the marker (on the about sheet) is gone
    wb = openpyxl.load_workbook(tmp_path / "s.xlsx")
    write_csv(tmp_path / "alone.csv", [[str(c.value or "") for c in r]
                                       for r in wb[layout.SHEET_NAME].iter_rows()])  # fmt: skip
    err = cli("import", "alone.csv", code=1).stderr
    assert "not its first row (fieldlog-sheet" in err and len(err.strip().splitlines()) == 1
    # a workbook fieldlog did not make as a sheet (an export): refused as any workbook is
    cli("export", "contacts", "--out", "contacts.xlsx")
    err = cli("import", "contacts.xlsx", code=1).stderr
    assert "is a spreadsheet workbook, not CSV" in err and "Traceback" not in err
    # the sheets of a referral sheet, the marker gone: said what is missing
    wb = openpyxl.load_workbook(tmp_path / "s.xlsx")
    wb["about"]["A1"] = "notes"
    wb.save(tmp_path / "no-marker.xlsx")
    err = cli("import", "no-marker.xlsx", code=1).stderr
    assert "is an Excel workbook but not a referral sheet fieldlog made" in err
    # a marker row someone edited
    cli("referral", "sheet", "Parks Dept", "--out", "m.csv")
    rows = read_csv(tmp_path / "m.csv")
    rows[0] = [layout.MARK, layout.KIND, "partner=", "name=x"]
    write_csv(tmp_path / "m2.csv", rows)
    err = cli("import", "m2.csv", code=1).stderr
    assert "fieldlog-sheet row (its first row) was changed" in err
    # a workbook that is not a workbook
    (tmp_path / "junk.xlsx").write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    err = cli("import", "junk.xlsx", code=1).stderr
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_the_sheet_of_a_partner_merged_away_since_is_refused(cli, log, db_path, tmp_path):
    cli("org", "add", "Parks Department", "--new")
    cli("refer", cli.new("add", "Fay asked about the pool"), "Parks Department", "--new-agency")
    cli("referral", "sheet", "Parks Department", "--out", "old.csv")
    rows = read_csv(tmp_path / "old.csv")
    rows[2][STATUS] = "accepted"
    write_csv(tmp_path / "old-back.csv", rows)
    cli("org", "merge", "Parks Dept", "Parks Department", "--yes")
    before = counts(db_path)
    err = cli("import", "old-back.csv", code=1).stderr
    assert "no longer in the log (deleted, or merged into another partner)" in err
    assert counts(db_path) == before


@pytest.mark.slow
@pytest.mark.xdist_group("libreoffice")  # one soffice at a time (tests/export/test_libreoffice)
def test_a_sheet_filled_in_and_saved_by_libreoffice_imports(cli, log, db_path, tmp_path):
    """The partner's LibreOffice keeps what the import reads: both sheets, the marker, the
    ids as text; a status picked and an outcome typed come back. Skipped without soffice on a
    developer's machine, never in CI (``CI`` set)."""
    exe = soffice_or_skip()
    cli("referral", "sheet", "Parks Dept", "--out", "s.xlsx")
    fill_xlsx(tmp_path / "s.xlsx", tmp_path / "filled.xlsx", {log["bo"]: ("completed", "joined")})
    profile, home, out = (tmp_path / "lo-profile", tmp_path / "lo-home", tmp_path / "lo")
    r = subprocess.run(
        [exe, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
         "--convert-to", "xlsx:Calc MS Excel 2007 XML", "--outdir", str(out),
         str(tmp_path / "filled.xlsx")],
        capture_output=True, text=True, timeout=180, env={**os.environ, "HOME": str(home)},
    )  # fmt: skip
    assert r.returncode == 0 and (out / "filled.xlsx").exists(), (r.stdout, r.stderr)
    assert (
        "updated 1 referral (1 status, 1 outcome)" in cli("import", str(out / "filled.xlsx")).stdout
    )
    row = referral(db_path, log["bo"])
    assert (row["status"], row["outcome"]) == ("completed", "joined")


CELLS = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=20) | (
    st.sampled_from(
        ["", " ", "Completed", "done", "made", "declined", "=1+1", "'=SUM(A1)", "x" * 5000,
         "line\nbreak", "a\x1b]0;x", "0" * 32, "01a2"]
    )
)  # fmt: skip


STATUSES = st.sampled_from([*models.REFERRAL_STATUSES, "", "Completed", " made "]) | CELLS


@pytest.mark.slow
@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    edits=st.lists(st.tuples(st.integers(0, 3), STATUSES, CELLS, CELLS), max_size=5),
    skip_bad=st.booleans(),
)
def test_fuzz_returned_sheet_never_tracebacks_nor_writes_partly(
    cli, template, log, db_path, tmp_path, edits, skip_bad
):
    """Whatever a partner types in a sheet: exit 0 with what was written said exactly, or one
    error and nothing written; never a traceback."""
    with sqlite3.connect(template[0]) as a, sqlite3.connect(db_path) as b:
        a.backup(b)  # each example starts from the template log
    a.close()
    b.close()
    cli("referral", "sheet", "Parks Dept", "--out", "s.csv", "--force")
    rows = read_csv(tmp_path / "s.csv")
    for i, status, outcome, rid in edits:
        if i < 2 and 2 + i < len(rows):  # one of the sheet's rows (still open)
            rows[2 + i][STATUS], rows[2 + i][OUTCOME] = status, outcome
        else:  # a row the partner added
            row = [""] * len(HEADER)
            row[0], row[STATUS], row[OUTCOME] = rid, status, outcome
            rows.append(row)
    write_csv(tmp_path / "fuzz.csv", rows)
    before = counts(db_path)
    args = ["import", "fuzz.csv", "--json"] + (["--skip-bad"] if skip_bad else [])
    result = cli.runner.invoke(app, args)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.stderr
    audit, outbox = counts(db_path)
    if result.exit_code == 0:
        changed = json.loads(result.stdout)["referrals"]
        event("wrote" if changed else "wrote nothing")
        assert (audit - before[0], outbox - before[1]) == (changed, changed)
    else:
        event("refused")
        assert result.exit_code == 1 and result.stderr.startswith("Error: ")
        assert (audit, outbox) == before


def test_a_marker_moved_into_the_future_cannot_switch_off_the_later_change_check(
    cli, log, db_path, tmp_path
):
    """The marker's clock says when the sheet was made; a clock moved ahead (by hand, to
    make every change in the log look older than the sheet) is a changed marker, refused."""
    import re

    cli("referral", "sheet", "Parks Dept", "--out", "s.csv")
    cli("referral", "update", log["ana"], "--status", "completed", "--outcome", "done by phone")
    fill_csv(tmp_path / "s.csv", tmp_path / "late.csv", {log["ana"]: ("accepted", "")})
    text = (tmp_path / "late.csv").read_text(encoding="utf-8-sig")
    forged = re.sub(r"clock=\d+", "clock=9999999999999", text, count=1)
    assert forged != text
    (tmp_path / "forged.csv").write_text(forged, encoding="utf-8-sig")
    err = cli("import", "forged.csv", code=1).stderr
    assert "first row" in err and "was changed" in err
    assert referral(db_path, log["ana"])["status"] == "completed"
