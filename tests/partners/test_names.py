"""Near-duplicate partner names (issue 14): the folding, and the table of names that are the
same partner and names that are not."""

from __future__ import annotations

import pytest

from fieldlog import partners
from fieldlog.partners import CUTOFF, closest, fold_name, name_score, similar


@pytest.mark.parametrize(
    ("name", "folded"),
    [
        ("St. Mary's", "saint marys"),
        ("Parks Dept", "parks department"),
        ("Boys & Girls Club", "boys and girls club"),
        ("Community Ctr", "community center"),
        ("Hope Centre", "hope center"),
        ("  EASTSIDE   Food-Pantry ", "eastside food pantry"),
        ("Café Olé", "cafe ole"),
        ("Y.M.C.A.", "ymca"),
        ("Main St Church", "main street church"),  # a street after a name's own word
        ("Church of St. Francis", "church of saint francis"),
        ("Springfield PD", "springfield police department"),
        ("St. Mary\u2019s", "saint marys"),  # a typographic apostrophe
    ],
)
def test_fold_name(name, folded):
    assert fold_name(name) == folded


# The same partner, typed another way: offered instead of a new one.
SAME = [
    ("Parks Department", "Parks Dept"),
    ("St. Mary's", "Saint Marys"),
    ("Eastside Food Pantry", "East Side Food Pantry"),
    ("Boys & Girls Club", "Boys and Girls Club"),
    ("Community Center", "Community Ctr"),
    ("YMCA", "Y.M.C.A."),
    ("Fire Department", "Fire Dept."),
    ("Northside Tenants Association", "Northside Tenants Assn"),
    ("Riverside Mental Health Center", "Riverside Mental Health Ctr"),
    ("Springfield Police Department", "Springfield PD"),
    ("Parks Departmnet", "Parks Department"),  # typos
    ("Eastside Food Pantyr", "Eastside Food Pantry"),
    ("Salvaton Army", "Salvation Army"),
    ("Eastside Food Bnak", "Eastside Food Bank"),
    ("Parks", "Parks Department"),  # the short name officers type
    ("Legal Aid", "Legal Aid Society"),
    ("Eastside Food Pantry", "Eastside Pantry"),
    ("Habitat for Humanity", "Habitat Humanity"),
    ("Maple Street Block Club", "Maple St Block Club"),
    ("Church of St. Francis", "Church of Saint Francis"),
]

# Different partners whose names look alike: never offered.
DIFFERENT = [
    ("Parks Department", "Police Department"),
    ("Police Department", "Fire Department"),
    ("Eastside Food Pantry", "Westside Food Pantry"),
    ("Westside Youth Center", "Eastside Youth Center"),
    ("St. Mary's Church", "St. Mark's Church"),
    ("St. Mary's Church", "St. Mary's School"),
    ("Eastside Health Clinic", "Eastside Dental Clinic"),
    ("Riverside Mental Health Center", "Lakeside Mental Health Center"),
    ("Food Bank", "Food Pantry"),
    ("Food Bank", "Eastside Food Bank"),
    ("Lincoln Elementary", "Lincoln High School"),
    ("Hope House", "Hope Shelter"),
    ("Grace Church", "Grace Chapel"),
    ("Oak Street Block Club", "Maple Street Block Club"),
    ("First Baptist Church", "First Presbyterian Church"),
    ("Red Cross", "Parks Dept"),
    ("Department", "Parks Dept"),
    ("Housing Authority", "Parks Dept"),
    ("Good Shepherd Pantry", "Food Shepherd Pantry"),
]


@pytest.mark.parametrize(("a", "b"), SAME, ids=[f"{a}~{b}" for a, b in SAME])
def test_same_partner(a, b):
    assert name_score(a, b) >= CUTOFF
    assert name_score(b, a) >= CUTOFF  # either way round
    assert [m.name for m in closest(a, [("1", "Red Cross"), ("2", b), ("3", "City Hall")])] == [b]


@pytest.mark.parametrize(("a", "b"), DIFFERENT, ids=[f"{a}!{b}" for a, b in DIFFERENT])
def test_different_partners(a, b):
    assert name_score(a, b) < CUTOFF
    assert name_score(b, a) < CUTOFF
    assert closest(a, [("1", b)]) == []


def test_best_first_and_limited():
    candidates = [("1", "Parks Foundation"), ("2", "Parks Dept"), ("3", "Parks Department")]
    found = closest("Parks Dept.", candidates, limit=2)
    assert [m.id for m in found] == ["2", "3"]  # identical once folded, in the given order
    assert found[0].score == 100.0
    assert closest("", candidates) == [] and closest("Parks", []) == []


def test_similar_reads_the_live_directory(store):
    keep = store.orgs.add(name="Parks Dept")
    gone = store.orgs.add(name="Parks Department")
    store.orgs.add(name="Police Department")
    with store.write() as tx:
        tx.tombstone("organizations", gone)
    [m] = similar(store, "Parks Dpt.")
    assert (m.id, m.name) == (keep, "Parks Dept") and isinstance(m, partners.Match)
    assert similar(store, "Parks Dept", exclude=keep) == []
    assert similar(store, "   ") == []


def test_a_big_directory_stays_quick(store):
    """The fast C prefilter keeps a directory of thousands quick (an import checks every new
    partner against it)."""
    import time

    index = partners.NameIndex((str(i), f"Partner number {i} of the county") for i in range(5000))
    index.add("x", "Eastside Food Pantry")
    start = time.perf_counter()
    for _ in range(20):
        [m] = index.closest("East Side Food Pantry")
    assert m.id == "x"
    assert time.perf_counter() - start < 5
