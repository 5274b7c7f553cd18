"""Duplicate partners offered instead of created (issue 14): ``org add``, ``--refer`` on
``fieldlog add`` and ``refer``, and an import of partners."""

from __future__ import annotations

import csv

import pytest

from fieldlog.cli import suggest


@pytest.fixture
def parks(cli) -> str:
    return cli.new("org", "add", "Parks Dept", "--kind", "government")


def names(cli) -> list[str]:
    return sorted(o["name"] for o in cli.json("org", "list"))


def test_org_add_refuses_a_close_name_in_a_script(cli, parks):
    r = cli("org", "add", "Parks Department", "--phone", "555-0100", code=1)
    [line] = r.stderr.strip().splitlines()
    assert "'Parks Department' is close to the partner 'Parks Dept'" in line
    assert "--new" in line and parks[:6] in line
    assert names(cli) == ["Parks Dept"]  # nothing written
    r = cli("org", "add", "Parks Department", "--json", code=1)  # --json never asks
    assert "--new" in r.stderr and r.stdout == ""
    cli("org", "add", "Parks Department", "--new")
    assert names(cli) == ["Parks Department", "Parks Dept"]


def test_org_add_of_an_unrelated_name_is_not_stopped(cli, parks):
    cli("org", "add", "Police Department")
    cli("org", "add", "Saint Marys")
    r = cli("org", "add", "St. Mary's", code=1)
    assert "'Saint Marys'" in r.stderr
    assert names(cli) == ["Parks Dept", "Police Department", "Saint Marys"]


def test_org_add_asks_on_a_terminal(cli, parks, monkeypatch):
    monkeypatch.setattr(suggest, "can_ask", lambda: True)
    r = cli("org", "add", "Parks Department", input="y\n")
    assert "Did you mean 'Parks Dept'" in r.stderr
    assert "Nothing added" in r.stdout and "fieldlog org edit" in r.stdout
    assert names(cli) == ["Parks Dept"]
    r = cli("org", "add", "Parks Department", input="n\n")
    assert names(cli) == ["Parks Department", "Parks Dept"]


def test_the_same_name_is_still_refused(cli, parks):
    r = cli("org", "add", "PARKS DEPT", code=1)
    assert "already in the directory" in r.stderr


def test_refer_on_add_links_the_partner_or_refuses(cli, parks, monkeypatch):
    """``fieldlog add --refer``: an exact name links at once; a close one is refused in a
    script (nothing written) with the partner named, and asked on a terminal."""
    cid = cli.new("add", "Court lights out", "--refer", "parks dept:lights")
    [ref] = cli.json("show", cid)["referrals"]
    assert ref["organization_id"] == parks and ref["agency"] == "Parks Dept"
    before = len(cli.json("list"))
    r = cli("add", "Court lights out again", "--refer", "Parks Department:lights", code=1)
    assert "did you mean 'Parks Dept'?" in r.stderr and "--new-agency" in r.stderr
    assert len(cli.json("list")) == before
    monkeypatch.setattr(suggest, "can_ask", lambda: True)
    r = cli("add", "Lights once more", "--refer", "Parks Dpt.:lights", input="y\n")
    assert "Refer to partner 'Parks Dept'?" in r.stderr
    [ref] = cli.json("show", r.stdout.strip().splitlines()[-1])["referrals"]
    assert ref["organization_id"] == parks
    # An unrelated agency is an agency of its own, unlinked, and asks nothing.
    cid = cli.new("add", "Noise", "--refer", "Police Department:noise")
    [ref] = cli.json("show", cid)["referrals"]
    assert ref["organization_id"] is None and ref["agency"] == "Police Department"


def write_orgs(cli, tmp_path, rows):
    """An organizations.csv as ``fieldlog export organizations`` writes it, with ``rows``
    (name, id) changed in."""
    out = tmp_path / "orgs.csv"
    cli("export", "organizations", "--out", str(out), "--force")
    with out.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        header = reader.fieldnames
        template = next(reader)
    path = tmp_path / "in.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, header)
        w.writeheader()
        for name, rid in rows:
            w.writerow({**template, "name": name, "id": rid})
    return path


def test_import_refuses_a_partner_close_to_one_in_the_directory(cli, parks, tmp_path):
    new_id = "01" + "ab" * 15
    path = write_orgs(cli, tmp_path, [("Parks Department", new_id)])
    r = cli("import", str(path), code=1)
    assert "'Parks Department' is close to the partner 'Parks Dept'" in r.stderr
    assert parks in r.stderr  # the fix: that partner's id
    assert names(cli) == ["Parks Dept"]
    # Two new partners of one file close to each other: the second is refused too.
    path = write_orgs(cli, tmp_path, [("Food Pantry", new_id), ("Food Pantyr", "02" + "cd" * 15)])
    r = cli("import", str(path), code=1)
    assert "'Food Pantyr' is close to the partner 'Food Pantry'" in r.stderr
    # Different partners import; the round trip of the directory itself is untouched.
    path = write_orgs(cli, tmp_path, [("Police Department", new_id)])
    cli("import", str(path))
    assert names(cli) == ["Parks Dept", "Police Department"]
    again = tmp_path / "all.csv"
    cli("export", "organizations", "--out", str(again), "--force")
    cli("import", str(again))
    assert names(cli) == ["Parks Dept", "Police Department"]
