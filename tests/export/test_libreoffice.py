"""The exports as LibreOffice reads them (headless ``soffice``): the workbook's cells come out
typed (leading zeros, ``+1 555``, local times, a formula-looking text as text), and the CSV
recipe of docs/export.md (UTF-8, the id and phone columns as Text) keeps the leading zeros
that a plain open loses.

Needs ``soffice`` (Debian: libreoffice-calc-nogui; .ci/run installs it). Without it the tests
are skipped on a developer's machine, and fail in CI (``CI`` set), so CI cannot skip them
silently. Each run uses its own throwaway LibreOffice profile
(``-env:UserInstallation=file:///...``): parallel runs never share one. All the conversions
run in one worker, one after the other (one profile, started once)."""

from __future__ import annotations

import csv
import os
import subprocess
from pathlib import Path

import openpyxl
import pytest

from fieldlog.export.columns import TABLES
from tests.lib.soffice import soffice_or_skip

pytestmark = [pytest.mark.xdist_group("libreoffice"), pytest.mark.slow]

HYPER = '=HYPERLINK("http://evil.example/","click me")'
# LibreOffice's CSV filter (docs/export.md; LibreOffice help, "CSV Filter Options"): comma,
# double quote, UTF-8 (76), from row 1; token 5 gives column types (2 = Text), token 7 "quoted
# field as text", token 8 "detect special numbers". Export: token 9 "save cell contents as
# shown", token 12 -1 = every sheet to its own file (LibreOffice 7.2 or later).
CSV_OUT = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,true,false,false"
CSV_OUT_ALL = CSV_OUT + ",-1"
CSV_IN_AS_IS = "CSV:44,34,76,1,,0,false,true"
# The recipe for the organizations CSV: id (1), phone (5), neighborhood (8) as Text.
CSV_IN_TEXT = "CSV:44,34,76,1,1/2/5/2/8/2,0,false,true"


@pytest.fixture(scope="module")
def soffice(tmp_path_factory) -> tuple[str, str, str]:
    exe = soffice_or_skip()
    profile = tmp_path_factory.mktemp("lo-profile")
    home = tmp_path_factory.mktemp("lo-home")  # its caches too stay out of the real HOME
    return exe, f"-env:UserInstallation={profile.as_uri()}", str(home)


def convert(
    soffice: tuple[str, str, str], src: Path, to: str, outdir: Path, infilter: str = ""
) -> None:
    exe, profile, home = soffice
    cmd = [exe, profile, "--headless", "--norestore", "--convert-to", to, "--outdir", str(outdir)]
    if infilter:
        cmd.append(f"--infilter={infilter}")
    r = subprocess.run(
        [*cmd, str(src)], capture_output=True, text=True, timeout=180,
        env={**os.environ, "HOME": home},
    )  # fmt: skip
    assert r.returncode == 0, (cmd, r.stdout, r.stderr)


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture
def log(cli):
    cli("org", "add", "Zero Lead", "--phone", "0123555", "--hood", "007")
    cli("org", "add", "Café Nuñez", "--phone", "+1 555", "--notes", HYPER)
    cli("org", "add", "Spaced", "--phone", "0123 555")
    cli(
        "add", HYPER, "--name", "0042", "--at", "2026-03-08 03:30", "--follow-up", "2026-12-24",
        "--hood", "Eastside", "--concern", "noise:=1+1 loud",
    )  # fmt: skip
    return cli


def test_libreoffice_reads_the_workbook_typed(log, soffice, tmp_path):
    book = tmp_path / "all.xlsx"
    log("export", "all", "--out", str(book))
    out = tmp_path / "csv"
    convert(soffice, book, CSV_OUT_ALL, out)
    assert sorted(p.name for p in out.iterdir()) == sorted(f"all-{t}.csv" for t in TABLES)
    orgs = {r["name"]: r for r in read_csv(out / "all-organizations.csv")}
    assert {n: r["phone"] for n, r in orgs.items()} == {
        "Zero Lead": "0123555", "Café Nuñez": "+1 555", "Spaced": "0123 555",
    }  # fmt: skip
    assert orgs["Zero Lead"]["neighborhood"] == "007"
    assert orgs["Café Nuñez"]["notes"] == HYPER  # text, not run (it would show "click me")
    (contact,) = read_csv(out / "all-contacts.csv")
    assert contact["summary"] == HYPER and contact["person_name"] == "0042"
    assert contact["occurred_at"] == "2026-03-08 03:30:00"  # local (CDT), as a date cell shows
    assert contact["follow_up_on"] == "2026-12-24"
    assert len(contact["id"]) == 32 and contact["id"].startswith("0")
    (concern,) = read_csv(out / "all-concerns.csv")
    assert concern["description"] == "=1+1 loud" and concern["contact_id"] == contact["id"]
    # What LibreOffice made of each cell, saved again as xlsx: text stays text, dates dates.
    again = tmp_path / "again"
    convert(soffice, book, "xlsx:Calc MS Excel 2007 XML", again)
    wb = openpyxl.load_workbook(again / "all.xlsx")
    ws = wb["organizations"]
    header = [c.value for c in ws[1]]
    for row in ws.iter_rows(min_row=2):
        cell = row[header.index("phone")]
        assert cell.data_type == "s" and cell.value in ("0123555", "+1 555", "0123 555")
    ws = wb["contacts"]
    header = [c.value for c in ws[1]]
    at = ws.cell(row=2, column=header.index("occurred_at") + 1)
    assert at.is_date and at.value.isoformat() == "2026-03-08T03:30:00"
    assert ws.cell(row=2, column=header.index("summary") + 1).data_type == "s"


def test_the_csv_recipe_keeps_the_leading_zeros(log, soffice, tmp_path):
    """docs/export.md: open the CSV as UTF-8 with the id and phone columns as Text."""
    src = tmp_path / "organizations.csv"
    log("export", "organizations", "--out", str(src))
    plain, recipe = tmp_path / "plain", tmp_path / "recipe"
    convert(soffice, src, CSV_OUT, plain, CSV_IN_AS_IS)
    convert(soffice, src, CSV_OUT, recipe, CSV_IN_TEXT)
    as_is = {r["name"]: r for r in read_csv(plain / "organizations.csv")}
    typed = {r["name"]: r for r in read_csv(recipe / "organizations.csv")}
    # Opened as it is, a number-looking phone and neighborhood lose their zeros ...
    assert as_is["Zero Lead"]["phone"] == "123555" and as_is["Zero Lead"]["neighborhood"] == "7"
    # ... and with the recipe they keep them; UTF-8 keeps the accents either way.
    assert typed["Zero Lead"]["phone"] == "0123555" and typed["Zero Lead"]["neighborhood"] == "007"
    assert typed["Spaced"]["phone"] == "0123 555" and "Café Nuñez" in typed
    # The CSV's guard against formulas stays visible in a spreadsheet (the workbook has none).
    assert typed["Café Nuñez"]["phone"] == "'+1 555"
    assert typed["Café Nuñez"]["notes"] == "'" + HYPER
