"""bench/bench_search.py run at a tiny size, so the benchmark cannot rot while the search
changes: it builds its log, runs the old and the new queries on every kind of word and reports
each against the target."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "bench_search.py"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_search", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_search"] = module
    spec.loader.exec_module(module)
    return module


def test_bench_runs_on_a_small_log(bench: ModuleType, tmp_path: Path, capsys) -> None:
    db = bench.cached_log(200, tmp_path)
    assert bench.cached_log(200, tmp_path) == db  # the second call reuses the cached log
    out = bench.main(["--db", str(db), "--runs", "1", "--old-runs", "1", "--json"])
    assert out["contacts"] == 200 + sum(n for _, n in bench.RARE)
    kinds = {r["kind"] for r in out["words"]}
    assert kinds == {"common", "rare", "short", "several"}
    for r in out["words"]:
        assert r["tui"]["verdict"] in ("PASS", "OVER") and r["cli"]["new_ms"] >= 0
        if r["kind"] == "rare":
            assert r["same_as_old"] and r["hits"]  # ranked over every hit, as before
    assert '"words"' in capsys.readouterr().out
