"""Problems travel like every record: field by field, their links and log entries as child
rows, so two officers working one problem offline both keep what they added (issue 15)."""

from __future__ import annotations

from fieldlog.db.store import Store
from tests.lib.sync_helpers import content, do_sync, fresh_copy, shared_contact


def test_problems_links_and_concurrent_log_entries_sync(pair, any_url, tmp_path):
    a, b = pair
    cid = shared_contact(a, b, any_url)
    kid = a.concerns.list()[0]["id"]
    pid = a.problems.add("Court lights out", neighborhood="Eastside", category="youth")
    a.problems.link(pid, [f"contact:{cid}"])
    do_sync(a, any_url)
    do_sync(b, any_url)
    assert b.problems.get(pid)["title"] == "Court lights out"
    assert [c["id"] for c in b.problems.get(pid)["contacts"]] == [cid]

    # Offline, both work the problem: each logs an entry and links a record, A changes the
    # plan, B the phase (different fields of the problem: both survive).
    a.problems.log(pid, "Walked the court with Parks staff")
    b.problems.log(pid, "Called the league coach")
    a.problems.plan(pid, "Lights on a timer, weekly check")
    b.problems.phase(pid, "analysis", note="3 calls in 2 weeks")
    b.problems.link(pid, [f"concern:{kid}"])
    a.problems.link(pid, [f"concern:{kid}"])  # the same link made on both laptops
    for _ in range(2):
        do_sync(a, any_url)
        do_sync(b, any_url)
    for s in (a, b):
        p = s.problems.get(pid)
        texts = {e["text"] for e in p["entries"]}
        assert {"Walked the court with Parks staff", "Called the league coach"} <= texts
        assert "Lights on a timer, weekly check" in texts
        assert "scanning -> analysis: 3 calls in 2 weeks" in texts
        assert p["plan"] == "Lights on a timer, weekly check"
        assert p["phase"] == "analysis"
        assert [k["id"] for k in p["concerns"]] == [kid]  # shown once, linked twice
        assert s.conflicts.list() == []
    assert content(a) == content(b) == content(fresh_copy(any_url, tmp_path))

    # An unlink on one laptop removes both link rows everywhere.
    a.problems.unlink(pid, [f"concern:{kid}"])
    do_sync(a, any_url)
    do_sync(b, any_url)
    assert b.problems.get(pid)["concerns"] == []


def test_a_deleted_problem_takes_its_links_and_entries(pair, any_url):
    a, b = pair
    shared_contact(a, b, any_url)
    pid = a.problems.add("Noise at the bar", neighborhood="Eastside")
    a.problems.log(pid, "Met the owner")
    do_sync(a, any_url)
    do_sync(b, any_url)
    b.problems.delete(pid)
    do_sync(b, any_url)
    do_sync(a, any_url)
    for s in (a, b):
        assert s.problems.list() == []
        assert s.query("SELECT count(*) AS n FROM problem_entries WHERE deleted = 0")[0]["n"] == 0


def test_a_fresh_laptop_gets_every_problem_row(pair, any_url, tmp_path):
    a, b = pair
    shared_contact(a, b, any_url)
    pid = a.problems.add("Dealing at the park", neighborhood="Eastside", partners=[])
    a.problems.log(pid, "First walk")
    do_sync(a, any_url)
    fresh: Store = fresh_copy(any_url, tmp_path)
    assert fresh.problems.get(pid)["entries"][0]["text"] == "First walk"
