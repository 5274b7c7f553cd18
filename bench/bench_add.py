"""Benchmark: ``fieldlog add`` wall time against a bare one-command Typer + sqlite3 app.

Contract: ``fieldlog add`` wall time against a bare one-command Typer app that inserts one row
with sqlite3, alternated in one run, median ratio printed. Target: <= 0.40x (issue 16; it was
<= 1.1x before fieldlog stopped paying for Typer's pydantic adapters: the bare app still
does). Nothing on the add path imports Textual, Rich, sqlite-utils or pydantic.
bench/bench_startup.py puts the same ``add`` beside jrnl, ``python -c pass`` and the other
quick commands.

Both sides are launched the same way, ``python FILE.py ARGS`` with this interpreter, from
small scripts written to a temp dir, so interpreter start-up is paid equally. The log is
created (and migrated) once before timing; then 3 untimed warm-ups of each, then N pairs
(fieldlog, baseline) run back to back so that drift in machine load hits both alike.

Bytecode: by default the children run with ``PYTHONDONTWRITEBYTECODE`` removed and
``PYTHONPYCACHEPREFIX`` set to a folder in the temp dir, so both sides load cached ``.pyc``
after the warm-ups (as an installed fieldlog does) and nothing is written into the repo.
``--inherit-env`` runs the children with this process's environment unchanged instead (with
``PYTHONDONTWRITEBYTECODE=1`` the fieldlog sources are then compiled on every run, while the
site-packages ones are not).

Run:  .venv/bin/python bench/bench_add.py [--runs N] [--json] [--inherit-env]

It is a benchmark, not a test: it always exits 0 when both commands run (PASS/OVER is shown
for information).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

TARGET = 0.40
WARMUPS = 3

SUMMARY = "Met the owner of the corner store"
ADD_ARGS = [SUMMARY, "--hood", "Eastside", "--concern", "noise:late music", "--tag", "bench"]

LAUNCHER = "from fieldlog.cli import main\n\nmain()\n"

BASELINE = """\
import sqlite3
import sys
import uuid

import typer

app = typer.Typer()


@app.command()
def add(summary: str, hood: str = typer.Option(None, "--hood")) -> None:
    conn = sqlite3.connect(sys.argv[0] + ".db")
    conn.execute(
        "CREATE TABLE IF NOT EXISTS contacts("
        "id TEXT PRIMARY KEY, summary TEXT, hood TEXT, created_at TEXT)"
    )
    rid = uuid.uuid4().hex
    conn.execute(
        "INSERT INTO contacts VALUES (?, ?, ?, datetime('now'))", (rid, summary, hood)
    )
    conn.commit()
    conn.close()
    print(rid)


if __name__ == "__main__":
    app()
"""

PROBED = ("textual", "rich", "sqlite_utils", "pydantic")
PROBE = f"""\
import sys
sys.argv = ["fieldlog", "--db", sys.argv[1], "add", "import probe"]
from fieldlog.cli import main
try:
    main()
except SystemExit:
    pass
print(*(int(name in sys.modules) for name in {PROBED!r}))
"""


def child_env(tmp: Path, inherit: bool) -> dict[str, str]:
    """The children's environment: cached bytecode under ``tmp`` unless ``inherit``."""
    env = dict(os.environ)
    if not inherit:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(tmp / "pycache")
    return env


def run(cmd: list[str], cwd: Path, env: dict[str, str]) -> float:
    """Run ``cmd`` once and return its wall time in seconds (raises if it fails)."""
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, env=env, check=True, capture_output=True)
    return time.perf_counter() - start


def probe_imports(log: Path, cwd: Path, env: dict[str, str]) -> dict[str, bool]:
    """Run ``add`` in-process in a child and report which heavy packages got imported."""
    out = subprocess.run(
        [sys.executable, "-c", PROBE, str(log)],
        cwd=cwd,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    flags = [bool(int(x)) for x in out[-len(PROBED) :]]
    return dict(zip(PROBED, flags, strict=True))


def measure(runs: int, inherit_env: bool = False) -> dict[str, Any]:
    """Set up a temp log and both scripts, then time ``runs`` alternating pairs."""
    with tempfile.TemporaryDirectory(prefix="fieldlog-bench-") as tmp:
        cwd = Path(tmp)
        env = child_env(cwd, inherit_env)
        log = cwd / "bench.db"
        launcher = cwd / "run_fieldlog.py"
        baseline = cwd / "baseline_add.py"
        launcher.write_text(LAUNCHER)
        baseline.write_text(BASELINE)

        fieldlog_cmd = [sys.executable, str(launcher), "--db", str(log), "add", *ADD_ARGS]
        baseline_cmd = [sys.executable, str(baseline), SUMMARY, "--hood", "Eastside"]

        # Create and migrate the log outside the timed runs; pre-create the baseline's DB.
        subprocess.run(
            [sys.executable, str(launcher), "--db", str(log), "init", "--officer", "Bench"],
            cwd=cwd,
            env=env,
            check=True,
            capture_output=True,
        )
        run(baseline_cmd, cwd, env)

        for _ in range(WARMUPS):
            run(fieldlog_cmd, cwd, env)
            run(baseline_cmd, cwd, env)

        fieldlog_times: list[float] = []
        baseline_times: list[float] = []
        for _ in range(runs):
            fieldlog_times.append(run(fieldlog_cmd, cwd, env))
            baseline_times.append(run(baseline_cmd, cwd, env))

        imports = probe_imports(log, cwd, env)

    ratios = [f / b for f, b in zip(fieldlog_times, baseline_times, strict=True)]
    median_ratio = statistics.median(ratios)
    fl_med = statistics.median(fieldlog_times)
    bl_med = statistics.median(baseline_times)
    return {
        "runs": runs,
        "warmups": WARMUPS,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "bytecode": "inherited env" if inherit_env else "cached (temp PYTHONPYCACHEPREFIX)",
        "fieldlog_ms": {
            "median": fl_med * 1000,
            "min": min(fieldlog_times) * 1000,
            "max": max(fieldlog_times) * 1000,
        },
        "baseline_ms": {
            "median": bl_med * 1000,
            "min": min(baseline_times) * 1000,
            "max": max(baseline_times) * 1000,
        },
        "median_pair_ratio": median_ratio,
        "ratio_of_medians": fl_med / bl_med,
        "ratio_of_mins": min(fieldlog_times) / min(baseline_times),
        "target": TARGET,
        "verdict": "PASS" if median_ratio <= TARGET else "OVER",
        "imported_on_add_path": imports,
    }


def report(r: dict[str, Any]) -> str:
    """Format the figures from :func:`measure` for a terminal."""
    fl, bl = r["fieldlog_ms"], r["baseline_ms"]
    imp = r["imported_on_add_path"]
    lines = [
        f"fieldlog add vs bare Typer+sqlite3 add: {r['runs']} alternating pairs "
        f"({r['warmups']} warm-ups each), Python {r['python']}, {r['cpus']} CPUs, "
        f"bytecode: {r['bytecode']}",
        f"  fieldlog add : median {fl['median']:7.1f} ms   min {fl['min']:7.1f} ms"
        f"   max {fl['max']:7.1f} ms",
        f"  baseline     : median {bl['median']:7.1f} ms   min {bl['min']:7.1f} ms"
        f"   max {bl['max']:7.1f} ms",
        f"  median of per-pair ratios : {r['median_pair_ratio']:.3f}x",
        f"  ratio of medians          : {r['ratio_of_medians']:.3f}x",
        f"  ratio of mins             : {r['ratio_of_mins']:.3f}x",
        f"  target <= {r['target']:.2f}x (median pair ratio): {r['verdict']}",
        "  imported on the add path: " + " ".join(f"{k}={v}" for k, v in imp.items()),
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, measure, print; returns the exit code (0 unless a command failed)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--runs", type=int, default=21, help="Timed pairs (default 21).", metavar="N"
    )
    parser.add_argument("--json", action="store_true", help="Print the figures as JSON.")
    parser.add_argument(
        "--inherit-env",
        action="store_true",
        help="Run the children with this environment as is (no temp bytecode cache).",
    )
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    try:
        result = measure(args.runs, args.inherit_env)
    except subprocess.CalledProcessError as exc:
        sys.stderr.write(f"command failed ({exc.returncode}): {exc.cmd}\n")
        sys.stderr.write((exc.stderr or b"").decode(errors="replace"))
        return 1
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(report(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
