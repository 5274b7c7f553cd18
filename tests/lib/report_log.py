"""The small report log: six contacts on a fixed clock, shared by the report command's tests
and the TUI Report screen's."""

from __future__ import annotations

NOW = "2026-11-25T10:00:00-06:00"  # Wednesday, Chicago
ODD_HOOD = "=SUM(1+1)|[b]x"  # a formula, a pipe and markup in one user-typed name


def build_report_log(cli, monkeypatch) -> dict[str, str]:
    """Six contacts; four inside the default period (2026-11-19 to 2026-11-25, whole days)."""
    monkeypatch.setenv("FIELDLOG_NOW", NOW)
    cli("init", "--officer", "Dana Ruiz")
    c1 = cli.new(
        "add", "Music complaint", "--at", "2026-11-24 09:00", "--hood", "Eastside",
        "--concern", "noise:late music", "--refer", "Parks:court lighting",
    )  # fmt: skip
    c2 = cli.new(
        "add", "Rent issue", "--at", "2026-11-23 14:00", "--hood", "Eastside", "--kind",
        "business", "--concern", "housing:rent", "--refer", "Shelter:beds",
    )  # fmt: skip
    cli(
        "add", "Barking dogs", "--at", "2026-11-20 10:00", "--hood", "Westside",
        "--concern", "noise:dogs", "--follow-up", "2026-11-22",
    )  # fmt: skip
    c4 = cli.new(
        "add", "Speeders", "--at", "2026-11-10 10:00", "--hood", "Westside",
        "--concern", "traffic:speeding",
    )  # fmt: skip
    cli(
        "add", "Groceries", "--at", "2026-11-01 10:00", "--hood", "Westside",
        "--refer", "Food Bank:groceries", "--follow-up", "2026-11-05",
    )  # fmt: skip
    cli("concern", "update", cli.json("show", c4)["concerns"][0]["id"], "--resolution", "fixed")
    ref2 = cli.json("show", c2)["referrals"][0]["id"]
    cli("referral", "update", ref2, "--status", "completed")
    cli("init", "--officer", "Sam Lee")
    cli("add", "Phone call", "--at", "2026-11-25 08:00", "--hood", ODD_HOOD, "--kind", "phone")
    return {"c1": c1, "c2": c2}
