"""`fieldlog report`: exact figures on a small log with a fixed clock, the period
boundaries, the groupings, CSV / Markdown / terminal output (the TUI Report screen on the
same log: tests/tui/test_tui_report.py)."""

from __future__ import annotations

import csv
import io

import pytest

from tests.lib.report_log import ODD_HOOD, build_report_log


@pytest.fixture
def log(cli, monkeypatch):
    """Six contacts; four inside the default period (2026-11-19 to 2026-11-25, whole days)."""
    return build_report_log(cli, monkeypatch)


def row(rows, group):
    return next(r for r in rows if r["group"] == group)


def test_default_period_figures(cli, log):
    data = cli.json("report")
    # The last 7 whole days, today included (Chicago midnights in UTC).
    assert data["period"]["since"] == "2026-11-19T06:00:00Z"
    assert data["period"]["until"] == "2026-11-26T06:00:00Z"
    assert data["period"]["days"] == 7
    assert data["by"] == "hood"
    assert data["as_of"] == "2026-11-25"
    assert data["totals"] == {
        "contacts": 4,
        "concerns_opened": 3,
        "concerns_resolved": 1,
        "concerns_still_open": 3,
        "referrals": 2,
        "followups_overdue": 3,
    }
    assert data["contacts"] == [
        {"neighborhood": ODD_HOOD, "kind": "phone", "count": 1},
        {"neighborhood": "Eastside", "kind": "business", "count": 1},
        {"neighborhood": "Eastside", "kind": "resident", "count": 1},
        {"neighborhood": "Westside", "kind": "resident", "count": 1},
    ]
    assert data["contacts_by_neighborhood"][0] == {"neighborhood": "Eastside", "count": 2}
    assert data["contacts_by_kind"][0] == {"kind": "resident", "count": 2}
    none = {"open": 0, "in_progress": 0, "referred": 0, "resolved": 0}
    assert data["concerns"] == [
        {"category": "noise", "opened": 2, "resolved": 0, "still_open": 2,
         "status": {**none, "open": 1, "referred": 1}},
        {"category": "housing", "opened": 1, "resolved": 0, "still_open": 1,
         "status": {**none, "referred": 1}},
        {"category": "traffic", "opened": 0, "resolved": 1, "still_open": 0, "status": none},
    ]  # fmt: skip
    made = {"made": 0, "accepted": 0, "declined": 0, "unreachable": 0, "completed": 0}
    assert data["referrals"] == [
        {"service": "housing", "count": 1, "status": {**made, "completed": 1}},
        {"service": "other", "count": 1, "status": {**made, "made": 1}},  # never "(none)" now
    ]
    assert data["followups_overdue"] == {"referrals": 1, "contacts": 2, "total": 3}
    figures = ("contacts", "concerns_opened", "concerns_resolved", "concerns_still_open",
               "referrals", "followups_overdue")  # fmt: skip
    summary = [[r["group"], *(r[k] for k in figures)] for r in data["summary"]]
    assert summary == [
        ["Eastside", 2, 2, 0, 2, 2, 0],
        ["Westside", 1, 1, 1, 1, 0, 3],  # the traffic concern resolved now; old follow-ups
        [ODD_HOOD, 1, 0, 0, 0, 0, 0],
    ]
    officers = [[r["group"], *(r[k] for k in figures)] for r in data["officers"]]
    assert officers == [["Dana Ruiz", 3, 3, 1, 3, 2, 3], ["Sam Lee", 1, 0, 0, 0, 0, 0]]


@pytest.mark.slow
def test_by_officer_and_category(cli, log):
    by_officer = cli.json("report", "--by", "officer")
    assert by_officer["summary"] == by_officer["officers"]
    assert [r["group"] for r in by_officer["summary"]] == ["Dana Ruiz", "Sam Lee"]

    data = cli.json("report", "--by", "category")
    figures = ("contacts", "concerns_opened", "concerns_resolved", "concerns_still_open",
               "referrals", "followups_overdue")  # fmt: skip
    assert [[r["group"], *(r[k] for k in figures)] for r in data["summary"]] == [
        ["noise", 2, 2, 0, 2, 1, 1],
        ["housing", 1, 1, 0, 1, 1, 0],
        ["(none)", 1, 0, 0, 0, 0, 2],  # the phone call; the grocery referral and contact
        ["traffic", 0, 0, 1, 0, 0, 0],
    ]
    assert row(data["officers"], "Dana Ruiz")["contacts"] == 3


@pytest.mark.slow
def test_period_boundaries(cli, log):
    # --until with a day includes that whole day: 20 Nov 10:00 and 23 Nov 14:00.
    data = cli.json("report", "--since", "2026-11-20", "--until", "2026-11-23")
    assert data["period"]["until"] == "2026-11-24T06:00:00Z"
    assert data["totals"]["contacts"] == 2
    assert data["totals"]["concerns_resolved"] == 0  # resolved on the 25th
    assert (
        cli.json("report", "--since", "2026-11-20", "--until", "2026-11-22")["totals"]["contacts"]
        == 1
    )
    # since is inclusive, an until with a time exclusive.
    assert cli.json("report", "--since", "2026-11-23 14:00")["totals"]["contacts"] == 3
    assert (
        cli.json("report", "--since", "2026-11-01", "--until", "2026-11-23 14:00")["totals"][
            "contacts"
        ]
        == 3
    )
    month = cli.json("report", "--since", "30d")
    assert month["totals"]["contacts"] == 6
    assert month["totals"]["concerns_opened"] == 4
    assert month["totals"]["concerns_still_open"] == 3


@pytest.mark.slow
def test_errors(cli, log):
    r = cli("report", "--since", "someday", code=1)
    assert r.stderr.count("\n") == 1 and "Cannot read the date 'someday'" in r.stderr
    r = cli("report", "--since", "2026-11-25", "--until", "2026-11-20", code=1)
    assert "The period is empty" in r.stderr and r.stderr.count("\n") == 1
    cli("report", "--by", "beat", code=2)
    cli("report", "--format", "pdf", code=2)


@pytest.mark.slow
def test_csv(cli, log):
    out = cli("report", "--format", "csv").stdout_bytes.decode()
    assert out.endswith("\r\n") and "\n" not in out.replace("\r\n", "")  # RFC 4180
    rows = list(csv.DictReader(io.StringIO(out, newline="")))
    assert list(rows[0]) == [
        "section", "group", "subgroup", "measure", "count", "period_start", "period_end",
    ]  # fmt: skip
    assert all(r["period_start"] == "2026-11-19 00:00" for r in rows)

    def get(section, group, measure, subgroup=""):
        return [
            r["count"]
            for r in rows
            if (r["section"], r["group"], r["measure"], r["subgroup"])
            == (section, group, measure, subgroup)
        ]

    assert get("by_hood", "Eastside", "contacts") == ["2"]
    assert get("by_hood", "Westside", "followups_overdue") == ["3"]
    # A name a spreadsheet would run as a formula is neutralised.
    assert get("by_hood", "'" + ODD_HOOD, "contacts") == ["1"]
    assert not any(r["group"].startswith("=") for r in rows)
    assert get("contacts", "Eastside", "count", "business") == ["1"]
    assert get("concerns", "noise", "status_referred") == ["1"]
    assert get("concerns", "traffic", "resolved") == ["1"]
    assert get("referrals", "housing", "status_completed") == ["1"]
    assert get("followups_overdue", "contacts", "count") == ["2"]
    assert get("by_officer", "Dana Ruiz", "referrals") == ["2"]


@pytest.mark.slow
def test_markdown(cli, log):
    md = cli("report", "--format", "md", "--by", "hood").stdout
    assert md.startswith("# fieldlog report\n")
    assert "## Summary by neighborhood" in md
    assert "| Neighborhood | Contacts | Concerns | Resolved | Still open |" in md
    assert "| Eastside | 2 | 2 | 0 | 2 | 2 | 0 |" in md
    assert "| =SUM(1+1)\\|[b]x | 1 | 0 | 0 | 0 | 0 | 0 |" in md  # the pipe escaped
    assert "## Per officer" in md and "| Dana Ruiz | 3 | 3 | 1 | 3 | 2 | 3 |" in md
    assert "## Contacts by neighborhood and kind" in md
    for line in md.splitlines():
        if line.startswith("|"):
            assert line.replace("\\|", "").count("|") == md.splitlines()[
                md.splitlines().index(line) - (1 if line.startswith("|---") else 0)
            ].replace("\\|", "").count("|")


@pytest.mark.slow
def test_terminal_tables_with_bars(cli, log):
    out = cli("report").stdout
    assert "Summary by neighborhood" in out
    assert "Per officer" in out and "Follow-ups overdue (as of 2026-11-25)" in out
    assert "█" in out  # the bar charts
    assert "[b]x" in out  # user text printed as typed, never as markup
    assert max(len(line) for line in out.splitlines()) <= 80
