"""``store.search.ranked``: the TUI's search, best first, with the field that matched, who and
when, the list's filters and pages."""

from __future__ import annotations

from fieldlog.db.search import WEIGHTS, fts_query


def fill(store) -> dict[str, str]:
    """Records where "lantern" matches once, twice, in the summary, in the notes, in a
    concern, a referral's reason and a partner's services text."""
    org = store.orgs.add(name="Harbor Lantern Trust", notes="runs the night market")
    ids = {
        "org": org,
        "twice": store.contacts.add(
            {
                "summary": "Lantern walk: lantern repairs",
                "person_name": "Ana Diaz",
                "neighborhood": "Eastside",
            }  # fmt: skip
        ),
        "summary": store.contacts.add(
            {
                "summary": "Lantern walk with residents",
                "neighborhood": "Westside",
                "organization": org,
            }  # fmt: skip
        ),
        "notes": store.contacts.add(
            {
                "summary": "Met the shop owners on Main Street about the weekend market",
                "notes": "they asked about a lantern for the alley behind the stores",
                "neighborhood": "Eastside",
                "kind": "business",
            }  # fmt: skip
        ),
    }
    ids["concern_contact"] = store.contacts.add(
        {"summary": "Door-knock on 5th", "person_name": "Bo Kim", "neighborhood": "Eastside"},
        [{"category": "infrastructure", "description": "broken lantern by the bus stop"}],
        [{"agency": "Public Works", "reason": "replace the lantern post"}],
    )
    contact = store.contacts.get(ids["concern_contact"])
    ids["concern"] = contact["concerns"][0]["id"]
    ids["referral"] = contact["referrals"][0]["id"]
    return ids


def test_stronger_matches_rank_first(store):
    ids = fill(store)
    hits = store.search.ranked("lantern")
    order = [h["id"] for h in hits]
    assert order.index(ids["twice"]) < order.index(ids["summary"])  # twice beats once
    assert order.index(ids["summary"]) < order.index(ids["notes"])  # summary beats notes
    assert {h["type"] for h in hits} == {"contact", "concern", "referral", "organization"}
    assert [h["score"] for h in hits] == sorted(h["score"] for h in hits)
    assert WEIGHTS["contacts"]["summary"] > WEIGHTS["contacts"]["notes"]


def test_each_hit_says_which_field_matched_who_and_when(store):
    ids = fill(store)
    hits = {h["id"]: h for h in store.search.ranked("lantern")}
    assert hits[ids["twice"]]["field"] == "summary"
    assert hits[ids["notes"]]["field"] == "notes"
    assert hits[ids["concern"]]["field"] == "description"
    assert hits[ids["referral"]]["field"] == "reason"
    assert hits[ids["org"]]["field"] == "name"
    # who: the person, else the contact's organization; a concern's is its contact's
    assert hits[ids["twice"]]["who"] == "Ana Diaz"
    assert hits[ids["summary"]]["who"] == "Harbor Lantern Trust"
    assert hits[ids["concern"]]["who"] == "Bo Kim"
    assert hits[ids["concern"]]["contact_id"] == ids["concern_contact"]
    assert hits[ids["concern"]]["title"] == "infrastructure"
    assert hits[ids["concern"]]["when"] == store.contacts.get(ids["concern_contact"])["occurred_at"]
    assert hits[ids["org"]]["when"] is None and hits[ids["org"]]["contact_id"] is None
    # the snippet marks the matched words, in the field that matched
    assert "\x02lantern\x03" in hits[ids["notes"]]["snippet"]
    assert hits[ids["twice"]]["snippet"].count("\x02") == 2
    assert hits[ids["twice"]]["short_id"] == ids["twice"][: len(hits[ids["twice"]]["short_id"])]


def test_several_words_and_a_prefix(store):
    ids = fill(store)
    # every word must match; the fields each matched are listed, the best one first
    hits = store.search.ranked("lantern dia")  # "dia" a prefix of the person's name, Diaz
    assert [h["id"] for h in hits] == [ids["twice"]]
    assert hits[0]["field"] == "summary" and set(hits[0]["fields"]) == {"summary", "person_name"}
    assert [h["id"] for h in store.search.ranked("lant")][:1] == [ids["twice"]]
    assert store.search.ranked("lantern zebra") == []
    assert store.search.ranked("  ") == []
    # a last word of one or two letters is a word, not a prefix of nearly everything
    assert store.search.ranked("lantern di") == []
    assert store.search.ranked("la") == [] and store.search.ranked("lan")
    assert fts_query("lantern a") == '"lantern" "a"'
    assert fts_query("lantern ab") == '"lantern" "ab"'
    assert fts_query("lantern abc") == '"lantern" "abc"*'
    assert fts_query("lantern ab", min_prefix=2) == '"lantern" "ab"*'


def test_filters_narrow_contacts_and_their_records(store):
    ids = fill(store)
    east = {h["id"] for h in store.search.ranked("lantern", filters={"hood": "eastside"})}
    assert ids["summary"] not in east  # Westside
    assert {ids["twice"], ids["notes"], ids["concern"], ids["referral"]} <= east
    assert ids["org"] not in east  # the partner has no neighborhood
    store.orgs.update(ids["org"], neighborhood="Eastside")
    assert ids["org"] in {
        h["id"] for h in store.search.ranked("lantern", filters={"hood": "Eastside"})
    }
    business = store.search.ranked("lantern", filters={"kind": "business"})
    assert [h["id"] for h in business] == [ids["notes"]]  # partners: only by hood
    assert store.search.ranked("lantern", filters={"since": "tomorrow"}) == []


def test_pages_and_deleted_records(store):
    ids = fill(store)
    every = [h["id"] for h in store.search.ranked("lantern")]
    pages = [h["id"] for o in range(0, len(every), 2) for h in
             store.search.ranked("lantern", limit=2, offset=o)]  # fmt: skip
    assert pages == every
    store.contacts.delete(ids["concern_contact"])
    left = {h["id"] for h in store.search.ranked("lantern")}
    assert not left & {ids["concern_contact"], ids["concern"], ids["referral"]}


def test_ranked_lets_fts5_sort_so_only_the_page_gets_snippets(store):
    """On a word in many records the search must not make a snippet for each of them:
    with ``ORDER BY rank`` FTS5 sorts by itself and SQLite evaluates the snippets of the
    LIMIT's rows only (a bm25() in ORDER BY would sort in a temp b-tree, after making every
    match's snippets: 4x slower on a common word of a 100,000-contact log)."""
    fill(store)
    plans = []
    real = store.query

    def spy(sql, params=()):
        if "MATCH" in sql:
            plans.append([p["detail"] for p in real(f"EXPLAIN QUERY PLAN {sql}", params)])
        return real(sql, params)

    store.query = spy
    try:
        assert store.search.ranked("lantern", limit=2)
        assert store.search.ranked("lantern", limit=2, filters={"hood": "Eastside"})
    finally:
        store.query = real
    assert plans  # one query per index with hits
    for plan in plans:
        assert not any("TEMP B-TREE" in d for d in plan), plan
