"""`fieldlog export hsds --out DIR`: the partner directory as an HSDS 3.0 dataset that
frictionless validates against the official schema (vendored, offline), with stable ids, the
export's file rules, --redact, --json; and the round trip export -> import into an empty log
-> the same partners."""

from __future__ import annotations

import csv
import json
import sqlite3
import uuid
import zipfile
from pathlib import Path

import pytest

from fieldlog.hsds import spec

FIELDS = (
    "id", "name", "kind", "contact_person", "phone", "email", "address", "neighborhood",
    "services", "status", "last_verified", "notes",
)  # fmt: skip


def partners(db: Path) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(
            f"SELECT {', '.join(FIELDS)} FROM organizations WHERE deleted = 0 ORDER BY id"
        ).fetchall()


def validate(target: Path):
    """What `frictionless validate DIR/datapackage.json` does, through its Python API."""
    from frictionless import Package

    report = Package(str(target)).validate()
    errors = [(t.name, e.type, getattr(e, "note", "")) for t in report.tasks for e in t.errors]
    return report.valid, errors


def read(folder: Path, name: str) -> list[dict[str, str]]:
    with open(folder / name, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture
def directory_log(cli) -> None:
    """A log whose partners use every field, with the awkward cases HSDS has to carry."""
    cli("init", "--officer", "Sgt Ana Lee")
    cli("org", "add", "Food Bank", "--kind", "nonprofit", "--services", "food,housing",
        "--phone", "555-0100; 555-0101 ext. 2 (fax)", "--email", "info@foodbank.org",
        "--address", "12 Main St, Springfield, IL 62701", "--hood", "Eastside",
        "--contact-person", "Ana Diaz", "--notes", "Open Tue and Thu\nask for Ana")  # fmt: skip
    cli("org", "add", "St. Mary's Church", "--kind", "faith", "--phone", "+1 (555) 0199",
        "--address", "behind the school on Elm", "--email", "pastor at stmarys dot org",
        "--services", "youth")  # fmt: skip
    cli("org", "add", "Old Youth Hub", "--kind", "youth", "--email", "a@hub.org, b@hub.org",
        "--address", "1 Oak Ave,Springfield, IL 62704, USA")  # fmt: skip
    cli("org", "edit", "Old Youth Hub", "--status", "defunct")
    cli("org", "add", "=Formula Partner", "--phone", "=1+2")


def test_the_export_validates_against_the_official_schema(cli, directory_log, tmp_path):
    out = tmp_path / "hsds"
    summary = cli.json("export", "hsds", "--out", str(out))
    assert summary["partners"] == 4 and summary["table"] == "hsds"
    assert summary["rows"]["organizations.csv"] == 4
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [spec.path_of(r) for r in spec.WRITTEN] + ["datapackage.json"]
    )
    ok, errors = validate(out / "datapackage.json")
    assert ok, errors
    # The descriptor is the official one: every table's schema exactly as published.
    written = json.loads((out / "datapackage.json").read_text())
    official = {r["name"]: r for r in spec.descriptor()["resources"]}
    assert written["version"] == "3.0.0" and written["name"] == "human_services_data"
    for r in written["resources"]:
        assert r["schema"] == official[r["name"]]["schema"], r["name"]
    # Each file has every column of its table, in the specification's order.
    for r in spec.WRITTEN:
        with open(out / spec.path_of(r), encoding="utf-8", newline="") as fh:
            assert next(csv.reader(fh)) == list(spec.fields(r))
    # what HSDS cannot hold is said (and travels as typed, as fieldlog attributes)
    assert any("pastor at stmarys dot org" in x for x in summary["left_out"])


def test_the_rows_and_their_keys(cli, directory_log, tmp_path):
    out = tmp_path / "hsds"
    cli("export", "hsds", "--out", str(out))
    orgs = {o["name"]: o for o in read(out, "organizations.csv")}
    bank = orgs["Food Bank"]
    assert str(uuid.UUID(bank["id"])) == bank["id"]  # canonical, with dashes
    assert bank["description"] == "Open Tue and Thu\nask for Ana"
    assert bank["email"] == "info@foodbank.org"
    assert orgs["=Formula Partner"]["description"] == "=Formula Partner"  # as stored, no '
    services = [s for s in read(out, "services.csv") if s["organization_id"] == bank["id"]]
    assert sorted(s["name"] for s in services) == ["Food", "Housing"]
    assert {s["status"] for s in services} == {"active"}
    assert services[0]["assured_date"]  # last_verified
    old = orgs["Old Youth Hub"]
    assert {s["status"] for s in read(out, "services.csv") if s["organization_id"] == old["id"]
            } == set()  # fmt: skip
    phones = [p for p in read(out, "phones.csv") if p["organization_id"] == bank["id"]]
    assert [(p["number"], p["extension"], p["type"]) for p in phones] == [
        ("555-0100", "", "voice"), ("555-0101", "2", "fax")
    ]  # fmt: skip
    (addr,) = read(out, "addresses.csv")[:1]
    assert (addr["address_1"], addr["city"], addr["state_province"], addr["postal_code"],
            addr["country"]) == ("12 Main St", "Springfield", "IL", "62701", "US")  # fmt: skip
    loc = next(x for x in read(out, "locations.csv") if x["id"] == addr["location_id"])
    assert loc["organization_id"] == bank["id"]
    (person,) = [c for c in read(out, "contacts.csv") if c["name"]]
    assert person["name"] == "Ana Diaz" and person["organization_id"] == bank["id"]
    terms = {t["id"]: t for t in read(out, "taxonomy_terms.csv")}
    kinds = [a for a in read(out, "attributes.csv") if terms[a["taxonomy_term_id"]]["code"] ==
             "kind"]  # fmt: skip
    assert {a["value"] for a in kinds} == {"nonprofit", "faith", "youth", "other"}


def test_a_second_export_is_identical(cli, directory_log, tmp_path):
    cli("export", "hsds", "--out", str(tmp_path / "a"))
    cli("export", "hsds", "--out", str(tmp_path / "b"))
    for p in (tmp_path / "a").iterdir():
        assert p.read_bytes() == (tmp_path / "b" / p.name).read_bytes(), p.name


def test_round_trip_into_an_empty_log(cli, directory_log, db_path, tmp_path):
    out = tmp_path / "hsds"
    cli("export", "hsds", "--out", str(out))
    other = tmp_path / "other.db"
    cli("--db", str(other), "init", "--officer", "Det B")
    got = cli.json("--db", str(other), "import", str(out))
    assert got["format"] == "hsds" and got["organizations"] == 4 and got["notices"] == []
    assert partners(other) == partners(db_path)
    # and back again: the same dataset, byte for byte
    cli("--db", str(other), "export", "hsds", "--out", str(tmp_path / "again"))
    for p in out.iterdir():
        assert p.read_bytes() == (tmp_path / "again" / p.name).read_bytes(), p.name
    assert cli.json("--db", str(other), "import", str(out))["skipped"] == 4


def test_a_zip(cli, directory_log, db_path, tmp_path):
    z = tmp_path / "partners.zip"
    cli("export", "hsds", "--out", str(z))
    with zipfile.ZipFile(z) as zf:
        assert "datapackage.json" in zf.namelist()
        zf.extractall(tmp_path / "unzipped")
    ok, errors = validate(tmp_path / "unzipped" / "datapackage.json")
    assert ok, errors
    other = tmp_path / "other.db"
    cli("--db", str(other), "init", "--officer", "Det B")
    cli("--db", str(other), "import", str(z))
    assert partners(other) == partners(db_path)


def test_redact_leaves_out_people_and_notes(cli, directory_log, tmp_path):
    out = tmp_path / "hsds"
    summary = cli.json("export", "hsds", "--out", str(out), "--redact")
    assert summary["redacted"]
    text = "".join(p.read_text() for p in out.iterdir() if p.suffix == ".csv")
    assert "Ana Diaz" not in text and "ask for Ana" not in text
    assert "info@foodbank.org" in text and "555-0100" in text  # the partner's own details
    ok, errors = validate(out / "datapackage.json")
    assert ok, errors


def test_file_rules_and_refusals(cli, directory_log, tmp_path):
    out = tmp_path / "hsds"
    cli("export", "hsds", "--out", str(out))
    r = cli("export", "hsds", "--out", str(out), code=1)
    assert "already exists" in r.stderr and "--force" in r.stderr
    cli("export", "hsds", "--out", str(out), "--force")
    assert oct((out / "organizations.csv").stat().st_mode & 0o777) == "0o600"
    assert "--out FOLDER" in cli("export", "hsds", code=1).stderr
    r = cli("export", "hsds", "--out", str(tmp_path / "x"), "--since", "2026-01-01", code=1)
    assert "--since does not apply to 'hsds'" in r.stderr
    assert "--excel" in cli("export", "hsds", "--out", str(tmp_path / "y"), "--excel",
                            code=1).stderr  # fmt: skip
    plain = tmp_path / "file.txt"
    plain.write_text("x")
    assert "is not a folder" in cli("export", "hsds", "--out", str(plain), code=1).stderr
    only = cli.json("export", "hsds", "--out", str(tmp_path / "defunct"), "--status", "defunct")
    assert only["partners"] == 1


def test_the_quick_path_never_imports_frictionless(cli, db_path):
    """`fieldlog add` (and importing the HSDS modules) stays clear of frictionless."""
    import subprocess
    import sys

    cli("init", "--officer", "T")
    code = (
        "import sys\nfrom fieldlog.cli import main\n"
        f"sys.argv = ['fieldlog', '--db', {str(db_path)!r}, 'add', 'Quick one']\n"
        "try:\n    main()\nexcept SystemExit as e:\n    assert not e.code\n"
        "import fieldlog.importer, fieldlog.hsds.export, fieldlog.hsds.read\n"
        "print(' '.join(sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(out.stdout.split())
    assert "frictionless" not in loaded and "validators" not in loaded
