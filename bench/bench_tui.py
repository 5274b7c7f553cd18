"""Benchmark: launch to a ready dashboard on a 100,000-contact log, against a plain Textual app.

Contract (issue 3): time from launch to the dashboard being ready on a 100,000-contact log,
against a plain Textual app with a header, an input, a DataTable and a footer, in one run;
target <= 1.5x.

Each side is a fresh ``python FILE.py`` process (imports included) that runs its app headless
(``App.run_test``, 100x30) and exits as soon as it is ready: for fieldlog, when the dashboard's
figures and follow-ups table are on screen (``DashboardScreen.loaded``, set after the worker's
counts arrive); for the baseline, when its first screen has mounted and refreshed. Pairs are
alternated so machine drift hits both alike; the medians and the median pair ratio are printed.

Run:  .venv/bin/python bench/bench_tui.py [--runs N] [--contacts N] [--db PATH]
(``--db`` reuses a demo log you already made; otherwise one is made in a temp folder, which
takes ~15 s for 100,000 contacts). A benchmark, not a test: it exits 0 whatever the ratio.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET = 1.5

FIELDLOG = """\
import asyncio, sys
from fieldlog.tui.app import make_app

async def main() -> None:
    app = make_app(sys.argv[1])
    async with app.run_test(size=(100, 30)) as pilot:
        while not getattr(app.screen, "loaded", False):
            await pilot.pause(0.005)

asyncio.run(main())
"""

BASELINE = """\
import asyncio
from textual.app import App
from textual.widgets import DataTable, Footer, Header, Input

class Plain(App):
    def compose(self):
        yield Header()
        yield Input(placeholder="search")
        yield DataTable()
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("When", "Summary")
        table.add_row("2026-11-25", "ready")

async def main() -> None:
    async with Plain().run_test(size=(100, 30)) as pilot:
        await pilot.pause()

asyncio.run(main())
"""


def timed(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, env=env)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--db", help="an existing log to open (skips making demo data)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
        db = args.db
        if not db:
            db = str(work / "bench.db")
            print(f"making {args.contacts} demo contacts…", file=sys.stderr)
            subprocess.run(
                [sys.executable, "-m", "fieldlog", "--db", db, "demo", "--contacts",
                 str(args.contacts)],
                check=True, capture_output=True, env=env,
            )  # fmt: skip
        (work / "fieldlog_launch.py").write_text(FIELDLOG)
        (work / "baseline.py").write_text(BASELINE)
        ours = [sys.executable, str(work / "fieldlog_launch.py"), db]
        base = [sys.executable, str(work / "baseline.py")]
        for _ in range(2):  # warm the page cache and the bytecode cache
            timed(ours, env)
            timed(base, env)
        mine, theirs = [], []
        for _ in range(args.runs):
            mine.append(timed(ours, env))
            theirs.append(timed(base, env))
        ratios = [a / b for a, b in zip(mine, theirs, strict=True)]
        m, t, r = statistics.median(mine), statistics.median(theirs), statistics.median(ratios)
        print(f"launch to ready dashboard, {args.runs} alternating pairs, log: {db}")
        print(f"  fieldlog tui : median {m * 1000:7.1f} ms   min {min(mine) * 1000:7.1f} ms")
        print(f"  plain Textual: median {t * 1000:7.1f} ms   min {min(theirs) * 1000:7.1f} ms")
        print(f"  median pair ratio {r:.2f}x   ratio of medians {m / t:.2f}x")
        print(f"  target <= {TARGET:.1f}x: {'PASS' if r <= TARGET else 'OVER'}")


if __name__ == "__main__":
    main()
