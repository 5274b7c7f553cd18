"""The search's cost is bounded on any word (issue 16): a word in more than
``search.CANDIDATES`` records of an index is ranked among its newest hits only, read newest
first with a LIMIT; a rarer one is ranked over every hit by FTS5, as before."""

from __future__ import annotations

import pytest

from fieldlog import records
from fieldlog.db import search
from fieldlog.db.search import WEIGHTS, bm25, idf, window


@pytest.fixture
def few(monkeypatch):
    """Three candidates per index, so a word in four records is a common word."""
    monkeypatch.setattr(search, "CANDIDATES", 3)
    return 3


def lanterns(store) -> list[str]:
    """Eight contacts with "lantern" in the summary, oldest first: the two oldest match it
    most (three times), so a ranking over every hit puts them first."""
    texts = ["lantern lantern lantern"] * 2 + [
        f"lantern walk number {i} with a long list of other words" for i in range(6)
    ]
    return [store.contacts.add({"summary": t}) for t in texts]


def statements(store, call):
    """The SQL ``call()`` runs (its own statements, not FTS5's internal ones)."""
    seen: list[str] = []
    store.conn.set_trace_callback(lambda sql: sql.startswith("--") or seen.append(sql))
    try:
        result = call()
    finally:
        store.conn.set_trace_callback(None)
    return result, seen


def fts5_order(store, table: str, match: str, since: int = 0) -> list[str]:
    """FTS5's own weighted bm25 order of the hits with rowid >= ``since`` (ties by id, as
    ``ranked`` breaks them)."""
    fts = f"{table}_fts"
    return [
        r["id"]
        for r in store.query(
            f"SELECT t.id FROM {fts} JOIN {table} t ON t.rowid = {fts}.rowid "
            f"WHERE {fts} MATCH ? AND {fts}.rowid >= ? "
            f"ORDER BY bm25({fts}, {search._weights(table)}), t.id",
            [match, since],
        )
    ]


def test_a_common_word_ranks_its_newest_hits_and_reads_no_more(store, few):
    ids = lanterns(store)
    hits, sql = statements(store, lambda: store.search.ranked("lantern"))
    newest = ids[-few:]
    assert [h["id"] for h in hits] == fts5_order(store, "contacts", '"lantern"*', 6)
    assert {h["id"] for h in hits} == set(newest)  # not the two strongest, older ones
    # the candidates come newest first with a LIMIT; nothing ranks the whole index
    assert any("ORDER BY contacts_fts.rowid DESC LIMIT 4" in s for s in sql), sql
    assert not any("rank" in s or "bm25(" in s for s in sql), sql
    assert all(h["field"] == "summary" and "\x02lantern\x03" in h["snippet"] for h in hits)
    # pages stop at the candidates
    assert len(store.search.ranked("lantern", limit=2, offset=2)) == 1


def test_asking_for_every_hit_ranks_every_hit(store, few):
    ids = lanterns(store)
    every = [h["id"] for h in store.search.ranked("lantern", every=True)]
    assert every[:2] == ids[:2] and len(every) == 8
    assert len(store.search.ranked("lantern", limit=50)) == few  # the TUI's pages stop
    # fieldlog search --json (no --limit) or --limit above the candidates: every hit
    assert [h["id"] for h in store.search.hits("lantern", limit=2**62)][:2] == ids[:2]


def test_a_rare_word_is_ranked_over_every_hit_as_before(store):
    ids = lanterns(store)
    hits, sql = statements(store, lambda: store.search.ranked("lantern"))
    assert [h["id"] for h in hits] == fts5_order(store, "contacts", '"lantern"*')
    assert [h["id"] for h in hits][:2] == ids[:2]
    assert any("ORDER BY contacts_fts.rank LIMIT" in s for s in sql)


def test_python_bm25_is_fts5_bm25(store):
    """The bounded ranking's formula, row lengths and index averages give FTS5's own
    scores when the word's frequency is exact."""
    lanterns(store)
    store.contacts.add({"summary": "Lantern", "notes": "a lantern by the door", "location": "x"})
    sr, r = store.search, records.get("contacts")
    match = '"lantern"*'
    rows = sr._newest(r, "", ["contacts_fts MATCH ?"], [match])
    total, avgdl = sr._averages("contacts_fts")
    assert total == store.contacts.count()
    weights = [WEIGHTS["contacts"].get(c, 1.0) for c in records.FTS_COLUMNS["contacts"]]
    idfs = [idf(total, len(rows))]
    mine = {
        rowid: bm25(sum(w * (m or "").count("\x02") for w, m in zip(weights, marked, strict=True)),
                    sum(search.varints(sz)), avgdl, idfs)
        for rowid, sz, *marked in rows
    }  # fmt: skip
    theirs = dict(
        store.conn.execute(
            f"SELECT rowid, bm25(contacts_fts, {search._weights('contacts')}) FROM contacts_fts "
            "WHERE contacts_fts MATCH ?",
            [match],
        ).fetchall()
    )
    assert mine == pytest.approx(theirs, rel=1e-12)


def test_short_words_are_words_not_prefixes(store, few):
    main = store.contacts.add({"summary": "Walk on Main St"})
    for i in range(5):
        store.contacts.add({"summary": f"staff meeting {i}", "location": "station"})
    assert [h["id"] for h in store.search.ranked("st")] == [main]
    assert len(store.search.ranked("sta")) == 3  # a prefix from three letters, bounded
    assert search.phrases("main st") == ['"main"', '"st"']
    assert search.phrases("main sta") == ['"main"', '"sta"*']


def test_several_words_and_filters_stay_bounded(store, few):
    ids = lanterns(store)
    east = [store.contacts.add({"summary": f"lantern walk {i}", "neighborhood": "Eastside"})
            for i in range(4)]  # fmt: skip
    hits, sql = statements(store, lambda: store.search.ranked("lantern walk"))
    assert {h["id"] for h in hits} == set(east[-few:])
    assert not any("rank" in s for s in sql), sql
    got = store.search.ranked("lantern", filters={"hood": "eastside"})
    assert {h["id"] for h in got} == set(east[-few:])
    assert store.search.ranked("lantern zebra") == []  # a word no record has
    # the newest-first read with a join for the filters is still FTS5's own order
    plan = store.query(
        "EXPLAIN QUERY PLAN SELECT contacts_fts.rowid FROM contacts_fts "
        "JOIN contacts t ON t.rowid = contacts_fts.rowid WHERE contacts_fts MATCH ? "
        "AND t.neighborhood = ? ORDER BY contacts_fts.rowid DESC LIMIT 4",
        ['"lantern"*', "Eastside"],
    )
    assert not any("TEMP B-TREE" in p["detail"] for p in plan), plan
    assert ids


@pytest.mark.parametrize("candidates", [3, 1000])
def test_what_officers_type_is_never_syntax(store, monkeypatch, candidates):
    monkeypatch.setattr(search, "CANDIDATES", candidates)
    lanterns(store)
    store.contacts.add({"summary": "after-school NOT court (court) a:b -x 'quoted'"})
    for q in ['"', "*", "NOT", "AND OR", "a:b", "(court", "court)", "-x", "'", "lantern NOT",
              "NEAR(a b)", "lantern *", "after-school", "^lantern", "lantern +"]:  # fmt: skip
        store.search.ranked(q)
        store.search.hits(q)
        store.search.count(q)
    assert store.search.ranked("after-school")
    assert store.search.count("lantern") == 8


def test_hits_keep_their_shape(store, few):
    lanterns(store)
    hits = store.search.hits("lantern", limit=2)
    assert len(hits) == 2
    assert list(hits[0]) == ["type", "id", "contact_id", "rank", "title", "snippet", "short_id"]
    assert hits[0]["rank"] <= hits[1]["rank"]


def test_window_keeps_the_most_matched_words():
    text = " ".join(f"w{i}" for i in range(30)) + " \x02lantern\x03 end"
    got = window(text, 5)
    assert got == "… w26 w27 w28 w29 \x02lantern\x03 …"  # 5 words, the match among them
    assert window("short \x02text\x03", 16) == "short \x02text\x03"
