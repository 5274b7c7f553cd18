"""Issue 11: one neighborhood typed many ways (Eastside / eastside / EASTSIDE / "East  Side")
is counted once in `fieldlog report`, under its first spelling, in every output; and the
report keeps every figure at 80 columns (the TUI's Report screen too)."""

from __future__ import annotations

import asyncio
import csv
import io
import re

import pytest

from fieldlog import render
from fieldlog.db import spellings
from fieldlog.db.store import Store

NOW = "2026-11-25T10:00:00-06:00"  # Wednesday, Chicago

# Stored in this order, all inside the report's default period (the last 7 days).
HOODS = ["Eastside", "eastside", "EASTSIDE", "East  Side", "east side", "ÉCOLE", "école", None]


@pytest.fixture
def as_typed(monkeypatch):
    """Names stored as typed, as logs written before issue 11 (or other laptops, synced or
    imported) hold them: today `add` stores a name in the log's spelling when it has one."""
    monkeypatch.setattr(spellings, "stored_spelling", lambda store, typed: typed)


@pytest.fixture
def mixed(cli, monkeypatch, as_typed):
    """Eight contacts: "Eastside" three ways, "East Side" two, "ÉCOLE" two (non-ASCII), none."""
    monkeypatch.setenv("FIELDLOG_NOW", NOW)
    cli("init", "--officer", "Dana Ruiz")
    for i, hood in enumerate(HOODS):
        args = ["add", f"Visit {i}", "--at", f"2026-11-2{i % 5} 09:00"]
        if hood:
            args += ["--hood", hood]
        if i < 3:  # a concern and a referral on each Eastside spelling
            args += ["--concern", "noise:music", "--refer", "Shelter:beds"]
        cli(*args)


def test_fold():
    assert spellings.fold("  East  Side ") == spellings.fold("east side") == "east side"
    assert spellings.fold("EASTSIDE") == spellings.fold("Eastside")
    assert spellings.fold("ÉCOLE") == spellings.fold("école")  # lower() and NOCASE: ASCII only
    assert spellings.fold("Straße") == spellings.fold("STRASSE")
    assert spellings.fold("e\u0301cole") == spellings.fold("\u00e9cole")  # decomposed é
    assert spellings.fold(None) == spellings.fold("   ") == ""
    assert spellings.fold("Eastside") != spellings.fold("East Side")  # spaces count, once


def test_report_counts_spellings_together_in_first_spelling(cli, mixed):
    data = cli.json("report")
    assert data["contacts_by_neighborhood"] == [
        {"neighborhood": "Eastside", "count": 3},
        {"neighborhood": "East Side", "count": 2},  # "East  Side" first: spaces collapsed
        {"neighborhood": "ÉCOLE", "count": 2},
        {"neighborhood": "(none)", "count": 1},
    ]
    assert data["contacts"] == [
        {"neighborhood": "(none)", "kind": "resident", "count": 1},
        {"neighborhood": "East Side", "kind": "resident", "count": 2},
        {"neighborhood": "Eastside", "kind": "resident", "count": 3},
        {"neighborhood": "ÉCOLE", "kind": "resident", "count": 2},
    ]
    summary = {r["group"]: r for r in data["summary"]}
    assert list(summary) == ["Eastside", "East Side", "ÉCOLE", "(none)"]
    assert summary["Eastside"]["contacts"] == 3
    assert summary["Eastside"]["concerns_opened"] == 3
    assert summary["Eastside"]["referrals"] == 3
    assert data["spellings"] == {
        "Eastside": ["EASTSIDE", "eastside"],
        "East Side": ["east side"],
        "ÉCOLE": ["école"],
    }

    out = cli("report").stdout
    assert "Counted as one neighborhood: Eastside (EASTSIDE, eastside)" in out
    rows = [line.split()[0] for line in out.splitlines() if line.strip()]
    assert "eastside" not in rows and "EASTSIDE" not in rows and "école" not in rows

    table = list(csv.DictReader(io.StringIO(cli("report", "--format", "csv").stdout)))
    hoods = [r for r in table if r["section"] == "contacts_by_neighborhood"]
    assert [(r["group"], r["count"]) for r in hoods] == [
        ("Eastside", "3"), ("East Side", "2"), ("ÉCOLE", "2"), ("(none)", "1"),
    ]  # fmt: skip
    md = cli("report", "--format", "md").stdout
    assert "| Eastside | 3 | 3 | 0 | 3 | 3 | 0 |" in md and "eastside" not in md


def test_first_spelling_is_the_earliest_created_live_record(cli, monkeypatch, as_typed):
    """Not the first stored: a record synced in later can be older. Deleted ones don't count."""
    monkeypatch.setenv("FIELDLOG_NOW", "2026-11-25T10:00:00-06:00")
    cli("init", "--officer", "Dana Ruiz")
    cli("add", "Stored first, made last", "--at", "2026-11-24 09:00", "--hood", "eastside")
    monkeypatch.setenv("FIELDLOG_NOW", "2026-11-25T08:00:00-06:00")
    cli("add", "Made first of the live ones", "--at", "2026-11-24 09:00", "--hood", "EastSide")
    monkeypatch.setenv("FIELDLOG_NOW", "2026-11-25T07:00:00-06:00")
    gone = cli.new("add", "Made first, deleted", "--at", "2026-11-24 09:00", "--hood", "EASTSIDE")
    cli("delete", gone, "--yes")
    monkeypatch.setenv("FIELDLOG_NOW", "2026-11-25T10:00:00-06:00")
    data = cli.json("report")
    assert data["contacts_by_neighborhood"] == [{"neighborhood": "EastSide", "count": 2}]
    assert data["spellings"] == {"EastSide": ["eastside"]}


def test_first_spelling_lookup(store, as_typed):
    """The candidate from stored order wins unless another spelling has an older record."""
    store.contacts.add({"summary": "a", "neighborhood": "Harbor"})
    store.contacts.add({"summary": "b", "neighborhood": "HARBOR"})
    assert spellings.first_spelling(store, ["HARBOR", "Harbor"]) == "Harbor"
    # Make the second one older, as a record synced from another laptop would be.
    store.conn.execute(
        "UPDATE contacts SET created_at = '2020-01-01T00:00:00.000Z' WHERE neighborhood = 'HARBOR'"
    )
    assert spellings.first_spelling(store, ["Harbor", "HARBOR"]) == "HARBOR"
    assert spellings.first_spelling(store, ["Nowhere"]) is None
    assert spellings.matching(store, " harbor ") == ["HARBOR", "Harbor"]
    assert spellings.matching(store, "Westside") == []
    names = spellings.Names.of(store)
    assert names.show("harbor") == "HARBOR" and names.show("Quay  Road") == "Quay Road"


def test_distinct_values_skip_scan_uses_the_index(store):
    """The neighborhoods are read one index seek each, never by reading every contact."""
    store.contacts.add({"summary": "a", "neighborhood": "Harbor"})
    plan = store.query(
        "EXPLAIN QUERY PLAN WITH RECURSIVE d(v) AS (SELECT min(neighborhood) FROM contacts "
        "UNION ALL SELECT (SELECT min(neighborhood) FROM contacts WHERE neighborhood > d.v) "
        "FROM d WHERE d.v IS NOT NULL) SELECT v FROM d WHERE v IS NOT NULL"
    )
    details = " ".join(p["detail"] for p in plan)
    assert "contacts_hood" in details and "SCAN contacts " not in details + " "
    assert spellings.distinct_values(store) == ["Harbor"]


def test_search_partner_hood_filter_matches_any_spelling(store):
    org = store.orgs.add(name="Lantern Trust", neighborhood="East  Side")
    hits = store.search.ranked("lantern", filters={"hood": "east side"})
    assert [h["id"] for h in hits] == [org]
    assert store.search.ranked("lantern", filters={"hood": "Westside"}) == []


# ---------------------------------------------------------------------- 80 columns
OUTCOMES = ("made", "accepted", "declined", "unreach", "completed")
STATUSES = ("open", "in progress", "referred", "resolved")


@pytest.fixture
def demo_log(cli, monkeypatch):
    monkeypatch.setenv("FIELDLOG_NOW", NOW)
    cli("demo", "--contacts", "150")


def at_width(monkeypatch, width: int) -> None:
    monkeypatch.setenv("COLUMNS", str(width))
    monkeypatch.setattr(render.console, "_width", width)


def section(out: str, title: str) -> str:
    """The lines of one table of the terminal report (its title to the blank line after)."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(title))
    end = next((i for i in range(start, len(lines)) if not lines[i].strip()), len(lines))
    return "\n".join(lines[start:end])


def test_report_at_80_columns_keeps_every_outcome_column(cli, demo_log, monkeypatch):
    at_width(monkeypatch, 80)
    out = cli("report").stdout
    assert max(len(line) for line in out.splitlines()) <= 80
    assert "…" not in out  # no heading nor figure cut short
    refs = section(out, "Referrals by service and outcome")
    for word in ("Service", "Refer-", *OUTCOMES):
        assert word in refs, word
    status = section(out, "Concerns opened in the period, by status now")
    for word in STATUSES:
        assert word in status, word
    assert "Still" in section(out, "Concerns by category")
    # The totals line breaks between phrases, never inside one.
    head = out.splitlines()[1:3]
    assert head[0].endswith(",") and re.match(r"\d+ follow-ups? overdue$", head[1]), head


@pytest.mark.parametrize("width", [100, 120])
def test_report_wide_keeps_one_concerns_table(cli, demo_log, monkeypatch, width):
    at_width(monkeypatch, width)
    out = cli("report").stdout
    assert max(len(line) for line in out.splitlines()) <= width and "…" not in out
    concerns = section(out, "Concerns by category (opened in the period, by status now)")
    for word in ("Opened", "Resolved", *STATUSES):
        assert word in concerns, word
    assert "by status now" not in out.replace("(opened in the period, by status now)", "")
    refs = section(out, "Referrals by service and outcome")
    assert "unreachable" in refs and "█" in refs  # one line of headings, and the chart


def test_csv_and_markdown_unchanged_by_width(cli, demo_log, monkeypatch):
    at_width(monkeypatch, 80)
    narrow = cli("report", "--format", "csv").stdout, cli("report", "--format", "md").stdout
    at_width(monkeypatch, 120)
    assert narrow == (
        cli("report", "--format", "csv").stdout,
        cli("report", "--format", "md").stdout,
    )
    assert "concern_status" not in narrow[0] and "by_service" not in narrow[0]


# ---------------------------------------------------------------------- the TUI
@pytest.mark.slow
def test_tui_report_screen_spellings_and_outcomes_at_80(cli, mixed, db_path):
    from fieldlog.tui.app import make_app
    from fieldlog.tui.screens.report import ReportScreen
    from tests.lib.tui import SIZE, settle, static_text

    async def flow():
        app = make_app(db_path)
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            await pilot.press("R")
            await settle(app, pilot)
            assert isinstance(app.screen, ReportScreen)
            assert "8 contacts, 3 concerns" in static_text(app.screen, "#rep-title")
            figures = static_text(app.screen, "#rep-figures")
            assert "Counted as one neighborhood: Eastside (EASTSIDE, eastside)" in figures
            hoods = section(figures, "Contacts by neighborhood")
            assert re.search(r"^Eastside +3 ", hoods, re.M) and "eastside" not in hoods
            refs = section(figures, "Referrals by service and outcome")
            assert all(word in refs for word in OUTCOMES)
            assert "in progress" in section(figures, "Concerns opened in the period")

    asyncio.run(flow())


def test_store_names_without_variants_cost_no_lookup(tmp_path):
    """A log where every name has one spelling reads only the index (no per-name query)."""
    with Store.open(tmp_path / "one.db") as store:
        for hood in ("Harbor", "Quay", "Old Town"):
            store.contacts.add({"summary": "x", "neighborhood": hood})
        seen = []
        real = store.query

        def spy(sql, params=()):
            seen.append(sql)
            return real(sql, params)

        store.query = spy
        names = spellings.Names.of(store)
        assert len(seen) == 1 and names.variants == {} and names.show("quay") == "quay"


def test_stored_spelling_for_new_input(store):
    """What the write path could store for a typed name (proposed; not wired in)."""
    assert spellings.stored_spelling(store, "EASTSIDE") == "EASTSIDE"  # a new name: as typed
    store.contacts.add({"summary": "a", "neighborhood": "Eastside"})
    assert spellings.stored_spelling(store, " EASTSIDE ") == "Eastside"
    store.contacts.add({"summary": "b", "neighborhood": "eastside"})
    assert spellings.stored_spelling(store, "EastSide") == "Eastside"
    assert spellings.stored_spelling(store, "Westside") == "Westside"


def test_add_stores_a_name_in_the_logs_spelling(cli):
    """`--hood EASTSIDE` on a log that says "Eastside" stores "Eastside": the log keeps one
    spelling of each name (a new name is stored as typed), and `list --hood` finds any."""
    cli("init", "--officer", "Dana Ruiz")
    cli("add", "First", "--hood", "Eastside")
    cli("add", "Second", "--hood", "EASTSIDE")
    cli("add", "Third", "--hood", "  eastside ")
    cli("add", "Fourth", "--hood", "Harbor")
    hoods = [c["neighborhood"] for c in cli.json("list")]
    assert sorted(hoods) == ["Eastside", "Eastside", "Eastside", "Harbor"]
    assert len(cli.json("list", "--hood", "EASTside")) == 3
