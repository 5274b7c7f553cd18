"""bench/bench_tui.py run at a tiny size, so the benchmark cannot rot while the screens change:
it drives the dashboard, the contact form and the contact list's search through the same
conditions it waits on at 100,000 contacts, and a broken condition times out here."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "bench_tui.py"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_tui", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_tui"] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    module.TIMEOUT = 20.0  # a condition the screens no longer meet fails here, not in 60 s
    return module


def test_in_process_measures_run_on_a_small_log(bench: ModuleType, tmp_path: Path) -> None:
    db = bench.cached_log(300, tmp_path)
    assert bench.cached_log(300, tmp_path) == db  # the second call reuses the cached log
    out = bench.main(
        ["--db", str(db), "--repeat", "1", "--opens", "1", "--no-process", "--no-warmup",
         "--json"]
    )  # fmt: skip
    results, detail = out["results"], out["detail"]
    assert set(results) == {"launch_usable", "launch_figures", "launch_painted", "form", "search"}
    # usable (mounted, focused, painted) comes no later than the figures, and they no later
    # than the follow-ups table painted, all against the same baseline
    usable, figures = results["launch_usable"], results["launch_figures"]
    painted = results["launch_painted"]
    assert usable["baseline_ms"] == figures["baseline_ms"] == painted["baseline_ms"]
    assert usable["fieldlog_ms"] <= figures["fieldlog_ms"] <= painted["fieldlog_ms"]
    assert painted["fieldlog_ms"] == detail["followups_table_ms"]
    for r in results.values():
        assert r["fieldlog_ms"] > 0 and r["baseline_ms"] > 0
        assert r["verdict"] in {"PASS", "OVER"}
    # the baseline form mirrors the real one: its inputs, and the word went to the store
    assert detail["form_widgets"].get("Input", 0) >= 1
    assert detail["search_rows_shown"] > 0
    assert detail["search_calls"], "no store call carrying the searched word was recorded"
    assert "barbecue" in detail["search_calls"][0]["call"]


@pytest.mark.slow  # ~6 s: each child compiles its bytecode into a fresh cache folder
def test_new_process_launch_runs(bench: ModuleType, tmp_path: Path) -> None:
    db = bench.cached_log(300, tmp_path)
    mine, theirs = bench.launch_processes(str(db), 1, warmups=0)
    assert len(mine) == len(theirs) == 1
    # the child's three moments (usable, figures, table painted), each as (wall seconds from
    # its start, CPU seconds used by then)
    (usable, u_cpu), (figures, _), (painted, p_cpu) = mine[0]
    assert 0 < usable <= figures <= painted and 0 < u_cpu <= p_cpu
    assert theirs[0][0] > 0 and theirs[0][1] > 0
