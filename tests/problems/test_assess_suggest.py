"""The assessment's figures against a log with known counts, and suggest's clusters."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

from fieldlog import problems

PIVOT = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)  # the response started here
NOW = PIVOT + timedelta(days=60)


def _concern(store, at, *, hood="Eastside", category="youth", location=None, text="no lit court"):
    return store.contacts.add(
        {"summary": "Met a resident", "neighborhood": hood, "occurred_at": at,
         "location": location},
        concerns=[{"category": category, "description": text}],
    )  # fmt: skip


def _known_log(store):
    """Youth concerns in Eastside: 6 in the 30 days before the response, 3 in the 30 days
    before that, 2 in the first 30 days since and 1 in the next; plus concerns that must
    not count (another category, another neighborhood, a deleted one)."""
    for d in (1, 3, 5, 10, 20, 29):
        _concern(store, PIVOT - timedelta(days=d))
    for d in (31, 40, 59):
        _concern(store, PIVOT - timedelta(days=d))
    for d in (2, 15):
        _concern(store, PIVOT + timedelta(days=d))
    _concern(store, PIVOT + timedelta(days=45))
    _concern(store, PIVOT - timedelta(days=4), category="noise")
    _concern(store, PIVOT - timedelta(days=4), hood="Westside")
    gone = _concern(store, PIVOT - timedelta(days=4))
    store.contacts.delete(gone)
    pid = store.problems.add(
        "Youth at the court",
        neighborhood="Eastside",
        category="youth",
        started_at=PIVOT - timedelta(days=70),
    )
    store.problems.update(pid, response_started_at=PIVOT)  # the response started at PIVOT
    store.problems.phase(pid, "response")
    cid = store.contacts.add(
        {"summary": "Met the league coach", "neighborhood": "Eastside",
         "occurred_at": PIVOT + timedelta(days=3)},
        referrals=[{"agency": "Parks Dept", "reason": "lights"}],
    )  # fmt: skip
    rid = store.contacts.get(cid)["referrals"][0]["id"]
    store.referrals.update(rid, status="completed", outcome="lights fixed")
    store.orgs.add(name="Boys and Girls Club", kind="youth")
    store.problems.link(pid, [f"contact:{cid}", f"referral:{rid}", "Boys and Girls Club"])
    return pid


def test_assessment_counts_the_known_concerns(store):
    pid = _known_log(store)
    data = problems.assess(store, pid, now=NOW)
    by_side = {}
    for w in data["windows"]:
        by_side.setdefault(w["side"], []).append(w["concerns"])
    # Back to the oldest concern (59 days before): two periods, 3 then 6 (oldest first);
    # since: days 2 and 15, then day 45 (the coach's contact raised no concern).
    assert by_side == {"before": [3, 6], "since": [2, 1]}
    assert data["concerns_per_30d_before"] == 4.5
    assert data["change_percent"] == -66.7
    assert data["contacts_linked"] == 1
    assert data["referrals_linked"] == 1
    assert data["referral_outcomes"]["completed"] == 1
    assert data["partners"] == ["Boys and Girls Club", "Parks Dept"]
    assert data["concerns_per_30d_since"] == 1.5


def test_assess_formats(cli, store):
    pid = _known_log(store)
    short = store.records.short_id("problems", pid)
    md = cli("problem", "assess", short, "--format", "md").stdout
    assert md.startswith("# Assessment: Youth at the court")
    assert "| Period | Side | Days | Concerns |" in md
    rows = list(csv.reader(io.StringIO(cli("problem", "assess", short, "--format", "csv").stdout)))
    assert rows[0] == list(problems.ASSESS_CSV_COLUMNS)
    assert {r[1] for r in rows[1:]} == {"before", "since"}
    data = json.loads(cli("problem", "assess", short, "--json").stdout)
    assert data["problem"]["title"] == "Youth at the court"
    out = cli("problem", "assess", short).stdout
    assert "Concerns per 30 days" in out and "█" in out
    bad = cli("problem", "assess", short, "--format", "pdf", code=1)
    assert "format" in bad.stderr.lower() and "Traceback" not in bad.stderr


def test_report_has_a_problems_section(cli, store):
    _known_log(store)
    data = json.loads(cli("report", "--since", "2026-01-01", "--json").stdout)
    (row,) = data["problems"]
    assert (row["title"], row["phase"], row["referrals"]) == ("Youth at the court", "response", 1)
    assert "Problems worked" in cli("report", "--since", "2026-01-01").stdout
    assert "Problems worked" in cli("report", "--since", "2026-01-01", "--format", "md").stdout


def test_suggest_clusters_alike_open_concerns(store):
    now = datetime.now(UTC)
    _concern(store, now - timedelta(days=3), text="kids on the court after dark")
    _concern(store, now - timedelta(days=5), text="court lights broken")
    _concern(store, now - timedelta(days=4), hood="Northside", category="noise",
             location="5th and Main", text="loud music at the bar")  # fmt: skip
    _concern(store, now - timedelta(days=6), hood="Southside", category="noise",
             location="5th and Main", text="music until 3am")  # fmt: skip
    _concern(store, now - timedelta(days=2), hood="Westside", category="housing",
             text="abandoned house on Elm Street is open")  # fmt: skip
    _concern(store, now - timedelta(days=2), hood="Westside", category="disorder",
             text="abandoned house on Elm Street open")  # fmt: skip
    # the same words in two neighborhoods are two places, not one problem
    _concern(store, now - timedelta(days=1), hood="Lakeside", category="traffic",
             text="speeding on the bridge")  # fmt: skip
    _concern(store, now - timedelta(days=1), hood="Hillside", category="traffic",
             text="speeding on the bridge")  # fmt: skip
    _concern(store, now - timedelta(days=200), text="old youth concern")  # too old
    found = problems.suggest(store, since="90d")
    sets = sorted(sorted(c["description"] for c in cl.concerns) for cl in found)
    assert sets == [
        ["abandoned house on Elm Street is open", "abandoned house on Elm Street open"],
        ["court lights broken", "kids on the court after dark"],
        ["loud music at the bar", "music until 3am"],
    ]
    youth = next(c for c in found if c.category == "youth")
    assert youth.neighborhood == "Eastside" and "same category and neighborhood" in youth.reasons
    # Starting a problem from a cluster links its concerns: they leave the suggestions.
    pid = problems.start_from(store, youth)
    assert len(store.problems.get(pid)["concerns"]) == 2
    assert len(problems.suggest(store, since="90d")) == 2
    assert len(problems.suggest(store, since="90d", hood="Westside")) == 1
    assert problems.suggest(store, since="90d", hood="Lakeside") == []


def test_suggest_cli_start(cli, store):
    now = datetime.now(UTC)
    _concern(store, now - timedelta(days=3), text="kids on the court after dark")
    _concern(store, now - timedelta(days=5), text="court lights broken")
    listed = json.loads(cli("problem", "suggest", "--json").stdout)
    assert len(listed) == 1 and len(listed[0]["concerns"]) == 2
    out = cli("problem", "suggest", "--start", "1").stdout
    assert out.startswith("Started problem ")
    assert "No open concerns" in cli("problem", "suggest").stdout
    bad = cli("problem", "suggest", "--start", "3", code=1)
    assert "no clusters" in bad.stderr.lower() or "no cluster" in bad.stderr.lower()
