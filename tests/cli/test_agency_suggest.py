"""'Did you mean' for referral agencies close to a partner's name (issue 11)."""

from __future__ import annotations

import pytest

from fieldlog.cli import suggest
from fieldlog.errors import ValidationError


@pytest.mark.parametrize(
    ("typed", "partner"),
    [
        ("Parks Department", "Parks Dept"),
        ("St. Mary's", "Saint Marys"),
        ("Springfield Police Department", "Springfield PD"),
        ("Parks Deptartment", "Parks Dept"),
        ("Salvaton Army", "Salvation Army"),
        ("Boys & Girls Club", "Boys and Girls Club"),
        ("Legal Aid", "Legal Aid Society"),
    ],
)
def test_close_names(typed, partner):
    assert suggest.close_names(typed, ["Red Cross", partner, "Food Bank"]) == [partner]


@pytest.mark.parametrize(
    ("typed", "partner"),
    [
        ("Police Department", "Parks Department"),
        ("Red Cross", "Parks Dept"),
        ("Fire Dept", "Parks Dept"),
        ("Department", "Parks Dept"),
        ("Housing Authority", "Parks Dept"),
    ],
)
def test_names_not_close(typed, partner):
    assert suggest.close_names(typed, [partner]) == []


def test_check_agency(store):
    pid = store.orgs.add(name="Parks Dept", kind="government")
    assert suggest.check_agency(store, "Parks Dept", new_agency=False) == pid
    assert suggest.check_agency(store, "PARKS DEPT", new_agency=False) == pid
    assert suggest.check_agency(store, "Legal Aid Society", new_agency=False) is None
    with pytest.raises(ValidationError) as err:
        suggest.check_agency(store, "Parks Department", new_agency=False)
    assert str(err.value) == (
        "No partner is named 'Parks Department': did you mean 'Parks Dept'? Use that name, "
        "or --new-agency to refer to a new agency."
    )
    assert err.value.field == "agency"
    assert suggest.check_agency(store, "Parks Department", new_agency=True) is None


def test_several_close_partners_are_named(store):
    store.orgs.add(name="Legal Aid Society")
    store.orgs.add(name="Legal Aid Clinic")
    with pytest.raises(ValidationError, match="'Legal Aid Society' or 'Legal Aid Clinic'"):
        suggest.check_agency(store, "Legal Aid", new_agency=False)


def test_a_typo_names_its_partner_not_its_neighbour(store):
    """Issue 14: ``Westside`` is another partner than ``Eastside``, whatever the typo."""
    store.orgs.add(name="Eastside Food Bank")
    store.orgs.add(name="Westside Food Bank")
    with pytest.raises(ValidationError) as err:
        suggest.check_agency(store, "Eastside Food Bnak", new_agency=False)
    assert "'Eastside Food Bank'?" in str(err.value) and "Westside" not in str(err.value)


def _refs(cli, cid):
    return cli.json("show", cid)["referrals"]


def test_refer_refuses_a_close_name_in_a_script(cli):
    cli("org", "add", "Parks Dept", "--kind", "government")
    cid = cli.new("add", "Court lights out")
    out = cli("refer", cid, "Parks Department", code=1)
    assert "did you mean 'Parks Dept'?" in out.stderr and "--new-agency" in out.stderr
    assert _refs(cli, cid) == []
    cli("refer", cid, "Parks Department", "--new-agency")
    [ref] = _refs(cli, cid)
    assert ref["agency"] == "Parks Department" and ref["organization_id"] is None


def test_refer_links_an_exact_name_any_case(cli):
    cli("org", "add", "Parks Dept", "--kind", "government")
    cid = cli.new("add", "Court lights out")
    cli("refer", cid, "parks dept")
    [ref] = _refs(cli, cid)
    assert ref["agency"] == "Parks Dept" and ref["organization_id"] is not None


def test_refer_asks_on_a_terminal(cli, monkeypatch):
    cli("org", "add", "Parks Dept", "--kind", "government")
    cid = cli.new("add", "Court lights out")
    monkeypatch.setattr(suggest, "can_ask", lambda: True)
    out = cli("refer", cid, "Parks Department", input="y\n")
    assert "Refer to partner 'Parks Dept'?" in out.stderr
    [ref] = _refs(cli, cid)
    assert ref["agency"] == "Parks Dept" and ref["organization_id"] is not None
    cli("refer", cid, "Parks Department", input="n\n")
    assert sorted(r["agency"] for r in _refs(cli, cid)) == ["Parks Department", "Parks Dept"]
