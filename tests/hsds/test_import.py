"""`fieldlog import` of an Open Referral HSDS 3.0 dataset: a county directory becomes
partners (services mapped, original terms kept, phones and e-mails gathered, status from the
services), validated first with every bad row named, idempotent by HSDS id, from a folder or
a zip; fieldlog's own organizations.csv still imports as before."""

from __future__ import annotations

import json
import sqlite3
import zipfile
from pathlib import Path

import pytest

from tests.hsds.conftest import CLINIC, PANTRY, SHELTER, write_dataset


def partners(db: Path) -> dict[str, dict]:
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        rows = conn.execute("SELECT * FROM organizations WHERE deleted = 0").fetchall()
    out = {}
    for r in rows:
        d = dict(r)
        d["services"] = json.loads(d["services"])
        out[d["name"]] = d
    return out


def changes(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT count(*) FROM changes").fetchone()[0]


@pytest.fixture
def log(cli, db_path) -> Path:
    cli("init", "--officer", "Sgt Ana Lee")
    return db_path


def test_a_county_directory_becomes_partners(cli, log, directory):
    out = cli.json("import", str(directory))
    assert out["format"] == "hsds" and out["organizations"] == 3 and out["bad"] == []
    got = partners(log)
    pantry = got["Eastside Food Pantry"]
    assert pantry["id"] == PANTRY.replace("-", "")  # the HSDS id is the partner's id
    assert pantry["services"] == ["housing", "food"] or pantry["services"] == ["food", "housing"]
    assert set(pantry["services"]) == {"food", "housing"}
    # several phones: the organization's, its service's (with the extension), the fax
    assert pantry["phone"] == "555-0100; 555-0101 ext. 12; 555-0102 (fax)"
    assert pantry["email"] == "info@eastsidepantry.org; rosa@eastsidepantry.org"
    assert pantry["contact_person"] == "Rosa Vega"
    assert pantry["address"] == "400 E 5th St, Springfield, IL 62701"
    assert pantry["status"] == "active" and pantry["last_verified"] == "2026-06-15"
    assert pantry["kind"] == "other"
    # the directory's own service names and taxonomy terms are kept, searchable, in the notes
    assert pantry["notes"] == (
        "Groceries for families, Tue and Thu.\n\nHSDS services: Emergency Food "
        "[BD-1800.2000 Food Pantries]; Rent Help [BH-3800.7000 Rent Payment Assistance]"
    )
    shelter = got["Harbor House"]
    assert shelter["status"] == "inactive"  # its only service is inactive
    assert set(shelter["services"]) == {"housing", "victim_services"}
    assert shelter["email"] == "intake@harborhouse.org" and shelter["phone"] is None
    assert "Domestic Violence Shelters" in shelter["notes"]
    clinic = got["Riverside Free Clinic"]
    assert clinic["status"] == "inactive"  # temporarily closed
    assert clinic["services"] == ["medical"]
    assert clinic["phone"] == "555-0300"  # the phone of the location its service is at
    assert clinic["address"] == "9 River Rd, Suite 2, Springfield, IL 62702"
    assert clinic["notes"] == "HSDS services: Walk-in Primary Care"  # description = name
    assert clinic["last_verified"] is None
    hits = cli.json("search", "pantries")
    assert "Eastside Food Pantry" in json.dumps(hits)


def test_reimport_changes_nothing_and_an_update_updates(cli, log, directory, tables):
    cli("import", str(directory))
    before = (partners(log), changes(log))
    again = cli.json("import", str(directory))
    assert again["organizations"] == 0 and again["skipped"] == 3 and again["updated"] == 0
    assert (partners(log), changes(log)) == before
    # The officer adds what the directory does not know; the directory changes a phone.
    cli("org", "edit", "Harbor House", "--hood", "Harborside", "--kind", "nonprofit")
    tables["phones.csv"][1][4] = "555-0199"
    write_dataset(directory, tables)
    upd = cli.json("import", str(directory))
    assert upd["updated"] == 1 and upd["skipped"] == 2
    got = partners(log)
    assert got["Eastside Food Pantry"]["phone"].startswith("555-0199; ")
    assert got["Harbor House"]["neighborhood"] == "Harborside"  # not emptied by the dataset
    assert got["Harbor House"]["kind"] == "nonprofit"
    assert cli.json("import", str(directory))["updated"] == 0
    cli("verify")


def test_every_bad_row_is_named_and_nothing_is_written(cli, log, directory, tables):
    tables["organizations.csv"][2][3] = "not an e-mail"  # Harbor House, row 3
    tables["services.csv"][4][3] = "closed"  # not an HSDS status, row 5
    tables["phones.csv"].append(
        [
            "9e0f1a2b-0000-4000-8000-00000000000f",
            "3f2b8c1e-9a4d-4e5f-8b6a-1c2d3e4f5aff",
            "",
            "",
            "555-0999",
            "",
            "",
        ]
    )  # a phone of an organization that is not in the dataset, row 6
    tables["contacts.csv"].append(["not-a-uuid", PANTRY, "Sam", "", ""])  # row 3
    write_dataset(directory, tables)
    r = cli("import", str(directory), code=1)
    err = r.stderr
    assert "4 bad rows; nothing was written" in err
    assert "organizations.csv row 3, field email: 'not an e-mail' is not an e-mail address" in err
    assert "services.csv row 5, field status: 'closed' is not one of active, inactive" in err
    assert (
        "phones.csv row 6: organization_id 3f2b8c1e-9a4d-4e5f-8b6a-1c2d3e4f5aff is not an id "
        "in organizations.csv" in err
    )
    assert "contacts.csv row 3, field id: 'not-a-uuid' is not a UUID" in err
    assert "Traceback" not in err
    assert partners(log) == {} and changes(log) == 0
    # --skip-bad: the good rows go in, the bad ones (and what hangs from them) are left out
    out = cli.json("import", str(directory), "--skip-bad")
    assert out["bad_count"] == 4 and out["organizations"] == 2
    got = partners(log)
    assert set(got) == {"Eastside Food Pantry", "Riverside Free Clinic"}
    assert got["Riverside Free Clinic"]["status"] == "active"  # its bad service left out
    assert "555-0999" not in (got["Eastside Food Pantry"]["phone"] or "")


def test_a_partner_rule_names_its_row(cli, log, directory, tables):
    tables["organizations.csv"][1][1] = "x" * 250  # longer than a partner's name may be
    write_dataset(directory, tables)
    err = cli("import", str(directory), code=1).stderr
    assert "organizations.csv row 2: The name is 250 characters long" in err


def test_a_name_already_in_the_directory_is_a_bad_row(cli, log, directory):
    cli("org", "add", "Harbor House")
    err = cli("import", str(directory), code=1).stderr
    assert "organizations.csv row 3: a different partner named 'Harbor House'" in err


def test_a_new_partner_close_to_one_in_the_log_is_reported(cli, log, directory):
    old = cli.new("org", "add", "East Side Food Pantry")
    r = cli("import", str(directory))
    assert "'Eastside Food Pantry' is close to existing partner 'East Side Food Pantry'" in r.stderr
    assert f"fieldlog org merge {old[:10]} {PANTRY.replace('-', '')[:10]}" in r.stderr
    out = cli.json("import", str(directory))
    assert out["notices"] == []  # nothing new this time: nothing to report


def test_a_zip_of_the_dataset(cli, log, directory, tmp_path):
    z = tmp_path / "county.zip"
    with zipfile.ZipFile(z, "w") as zf:
        for p in directory.iterdir():
            zf.write(p, f"export-2026/{p.name}")
    out = cli.json("import", str(z))
    assert out["format"] == "hsds" and out["organizations"] == 3
    assert cli.json("import", str(z))["skipped"] == 3


def test_a_zip_bomb_is_refused(cli, log, directory, tmp_path):
    z = tmp_path / "big.zip"
    with zipfile.ZipFile(z, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for p in directory.iterdir():
            if p.name != "services.csv":
                zf.write(p, p.name)
        zf.writestr("services.csv", "id\n" + "a" * (8 << 20))
    r = cli("import", str(z), "--zip-max", "1MB", code=1)
    assert "unzips to more than" in r.stderr and partners(log) == {}


def test_dry_run_writes_nothing(cli, log, directory):
    out = cli.json("import", str(directory), "--dry-run")
    assert out["dry_run"] and out["organizations"] == 3
    assert partners(log) == {} and changes(log) == 0


def test_a_lone_hsds_organizations_csv_says_import_the_folder(cli, log, directory):
    r = cli("import", str(directory / "organizations.csv"), code=1)
    assert "import the folder (or .zip)" in r.stderr


def test_a_required_column_missing_is_one_line(cli, log, directory, tables):
    tables["organizations.csv"] = [[c for i, c in enumerate(r) if i != 2]
                                   for r in tables["organizations.csv"]]  # fmt: skip
    write_dataset(directory, tables)
    r = cli("import", str(directory), code=1)
    assert "organizations.csv has no column 'description', which HSDS 3.0 requires" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_fieldlogs_own_organizations_csv_still_imports(cli, log, tmp_path):
    cli("org", "add", "Food Bank", "--services", "food", "--phone", "555-0100")
    dest = tmp_path / "orgs.csv"
    cli("export", "organizations", "--out", str(dest))
    folder = tmp_path / "all"
    cli("export", "all", "--out", str(folder))
    other = tmp_path / "other.db"
    cli("--db", str(other), "init", "--officer", "B")
    out = cli.json("--db", str(other), "import", str(dest))
    assert out["format"] == "export" and out["organizations"] == 1
    other2 = tmp_path / "other2.db"
    cli("--db", str(other2), "init", "--officer", "B")
    out = cli.json("--db", str(other2), "import", str(folder))
    assert out["format"] == "export" and out["organizations"] == 1


@pytest.mark.parametrize("ids", [(SHELTER, CLINIC)])
def test_ids_are_the_hsds_ids(cli, log, directory, ids):
    cli("import", str(directory))
    got = {p["id"] for p in partners(log).values()}
    assert {i.replace("-", "") for i in ids} <= got


def test_one_id_in_two_cases_is_refused_not_merged(cli, log, directory, tables):
    """frictionless tells ``ab…`` and ``AB…`` apart, a UUID does not: the second row would
    silently take the first one's place, so the import refuses and names both rows."""
    copy = list(tables["organizations.csv"][1])
    copy[0] = copy[0].upper()
    copy[1] = "Another Name Entirely"
    tables["organizations.csv"].append(copy)
    write_dataset(directory, tables)
    err = cli("import", str(directory), code=1).stderr
    n = len(tables["organizations.csv"])
    assert f"organizations.csv row {n}: its id {copy[0]} is row 2's id" in err
    assert "Traceback" not in err and partners(log) == {}


def test_a_deeply_nested_datapackage_is_one_line(cli, log, tmp_path):
    folder = tmp_path / "deep"
    folder.mkdir()
    (folder / "datapackage.json").write_text("[" * 200_000 + "]" * 200_000)
    r = cli("import", str(folder), code=1)
    assert r.exception is None or isinstance(r.exception, SystemExit), r.exception
    assert "Traceback" not in r.stderr + r.stdout and len(r.stderr.strip().splitlines()) == 1
    assert partners(log) == {}


def test_a_row_with_thousands_of_extra_cells_is_one_line_at_once(cli, log, directory, tables):
    """frictionless checks each extra cell (minutes for a few thousand): a row far wider than
    its header is refused by a fast pass first."""
    tables["organizations.csv"][1] = tables["organizations.csv"][1] + [""] * 20_000
    write_dataset(directory, tables)
    err = cli("import", str(directory), code=1).stderr
    assert "organizations.csv row 2 has 20,0" in err and "Traceback" not in err
    assert partners(log) == {}
