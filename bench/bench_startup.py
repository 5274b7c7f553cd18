"""Benchmark: the CLI's start-up tax, every quick command against its floors, in one run.

Contract (issue 16): ``fieldlog add`` <= 0.40x the bare one-command Typer app of
bench_add.py, <= 0.35x ``jrnl`` adding an entry, and within 4x of ``python -c pass``; and
``search RAREWORD``, ``list``, ``show ID`` and a no-op ``sync`` start as fast (each within 4x
of ``python -c pass``).

Every command is a new process launched the way bench_add.py launches it (``python FILE``
with this interpreter, fieldlog through a two-line launcher, cached bytecode in a temp
``PYTHONPYCACHEPREFIX``). One *round* runs each command once, back to back, so that a change
in machine load hits all of them alike; each ratio is computed inside a round (fieldlog's
time over the floor's time of the same round) and the median over the rounds is what is
compared with the target. Wall times and CPU times (user + system of the child, through
``os.wait4`` where there is one) are both printed: on a busy machine the CPU ratios are the
steadier ones.

Two reference rows have no target of their own: ``python -c 'import typer'`` (the part of
every command that is Typer's import, which fieldlog cannot shed while it keeps Typer) and
``search --json`` (the same search without Rich drawing the table).

The log is a demo log (``demo --contacts 200``) plus one contact holding a word nothing else
holds (what ``search`` looks for and ``show`` shows); ``sync`` runs against a SQLite remote
file it has synced with once already, so the timed run is a round with nothing to pull or
push.

jrnl is not a dependency: install it into a throwaway venv and give its ``jrnl`` script by
``--jrnl PATH`` or ``$FIELDLOG_BENCH_JRNL`` (default ``/tmp/jrnlvenv/bin/jrnl`` when it
exists); without it that comparison says "skipped". The journal is a plain (unencrypted)
one in the temp dir, through ``--config-file``.

    python3 -m venv /tmp/jrnlvenv && /tmp/jrnlvenv/bin/pip install jrnl
    .venv/bin/python bench/bench_startup.py [--runs N] [--jrnl PATH] [--json] [--inherit-env]

Figures only: it exits 0 unless a command fails (PASS/OVER is for information).
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

sys.path.insert(0, str(Path(__file__).parent))
from bench_add import ADD_ARGS, BASELINE, LAUNCHER, SUMMARY, child_env  # noqa: E402

WARMUPS = 2
RARE = "zanzibarite"
TARGETS = {"typer": 0.40, "jrnl": 0.35, "floor": 4.0}
DEFAULT_JRNL = "/tmp/jrnlvenv/bin/jrnl"

JRNL_CONFIG = """\
colors:
  body: none
  date: none
  tags: none
  title: none
default_hour: 9
default_minute: 0
editor: ''
encrypt: false
highlight: true
indent_character: '|'
journals:
  default:
    journal: {journal}
linewrap: 79
tagsymbols: '#@'
template: false
timeformat: '%F %r'
version: {version}
"""


def timed(cmd: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    """Run ``cmd`` once: (wall seconds, child CPU seconds). Raises if it fails."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    if hasattr(os, "wait4"):  # POSIX: the child's own CPU time
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        cpu = usage.ru_utime + usage.ru_stime
    else:
        proc.wait()
        wall = time.perf_counter() - start
        cpu = float("nan")
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.returncode != 0:
        raise subprocess.CalledProcessError(proc.returncode, cmd, stderr=err.encode())
    return wall, cpu


def setup(cwd: Path, env: dict[str, str], jrnl: str | None) -> dict[str, list[str]]:
    """Make the log, the remote, the baseline and jrnl's journal; return the commands."""
    py = sys.executable
    launcher = cwd / "run_fieldlog.py"
    launcher.write_text(LAUNCHER)
    baseline = cwd / "baseline_add.py"
    baseline.write_text(BASELINE)
    log, remote = cwd / "bench.db", cwd / "dept.fieldlog"
    fl = [py, str(launcher), "--db", str(log)]

    def once(*args: str) -> str:
        return subprocess.run(
            [*fl, *args], cwd=cwd, env=env, check=True, capture_output=True, text=True
        ).stdout

    once("init", "--officer", "Bench")
    once("demo", "--contacts", "200", "--yes")
    rid = once("add", f"Talked about the {RARE} mural", "--hood", "Eastside").strip()
    once("sync", str(remote))  # the first round pushes everything: later ones are no-ops
    commands = {
        "python -c pass": [py, "-c", "pass"],
        "python -c 'import typer'": [py, "-c", "import typer"],
        "typer baseline": [py, str(baseline), SUMMARY, "--hood", "Eastside"],
        "fieldlog add": [*fl, "add", *ADD_ARGS],
        f"fieldlog search {RARE}": [*fl, "search", RARE],
        f"fieldlog search {RARE} --json": [*fl, "search", RARE, "--json"],
        "fieldlog list": [*fl, "list"],
        "fieldlog show ID": [*fl, "show", rid],
        "fieldlog sync (no-op)": [*fl, "sync", str(remote)],
    }
    if jrnl:
        version = subprocess.run(
            [jrnl, "--version"], env=env, capture_output=True, text=True, check=True
        ).stdout.split()[1]
        config = cwd / "jrnl.yaml"
        config.write_text(JRNL_CONFIG.format(journal=cwd / "journal.txt", version=version))
        commands["jrnl add"] = [jrnl, "--config-file", str(config), SUMMARY]
        subprocess.run(commands["jrnl add"], cwd=cwd, env=env, check=True, capture_output=True)
    return commands


def measure(runs: int, jrnl: str | None, inherit_env: bool = False) -> dict[str, Any]:
    """Set up, then ``runs`` rounds of every command (after untimed warm-up rounds)."""
    with tempfile.TemporaryDirectory(prefix="fieldlog-startup-") as tmp:
        cwd = Path(tmp)
        env = child_env(cwd, inherit_env)
        commands = setup(cwd, env, jrnl)
        for _ in range(WARMUPS):
            for cmd in commands.values():
                timed(cmd, cwd, env)
        walls: dict[str, list[float]] = {name: [] for name in commands}
        cpus: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(runs):
            for name, cmd in commands.items():
                wall, cpu = timed(cmd, cwd, env)
                walls[name].append(wall)
                cpus[name].append(cpu)

    def ratio(num: str, den: str, times: dict[str, list[float]]) -> float:
        return statistics.median(a / b for a, b in zip(times[num], times[den], strict=True))

    comparisons = [("fieldlog add", "typer baseline", "typer")]
    if "jrnl add" in commands:
        comparisons.append(("fieldlog add", "jrnl add", "jrnl"))
    comparisons += [(name, "python -c pass", "floor") for name in commands if "fieldlog" in name]
    comparisons.append(("python -c 'import typer'", "python -c pass", "floor"))
    rows = []
    for num, den, target in comparisons:
        wall, cpu = ratio(num, den, walls), ratio(num, den, cpus)
        rows.append(
            {
                "what": f"{num} / {den}",
                "wall_ratio": wall,
                "cpu_ratio": cpu,
                "target": TARGETS[target],
                "verdict": "PASS" if wall <= TARGETS[target] else "OVER",
            }
        )
    return {
        "runs": runs,
        "warmups": WARMUPS,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "bytecode": "inherited env" if inherit_env else "cached (temp PYTHONPYCACHEPREFIX)",
        "jrnl": jrnl or "skipped",
        "median_ms": {
            name: {
                "wall": statistics.median(walls[name]) * 1000,
                "cpu": statistics.median(cpus[name]) * 1000,
                "min_wall": min(walls[name]) * 1000,
            }
            for name in commands
        },
        "ratios": rows,
    }


def report(r: dict[str, Any]) -> str:
    """Format the figures from :func:`measure` for a terminal."""
    lines = [
        f"CLI start-up: {r['runs']} rounds ({r['warmups']} warm-up rounds), Python "
        f"{r['python']}, {r['cpus']} CPUs, bytecode: {r['bytecode']}",
        f"  {'command':36} {'wall ms':>9} {'min ms':>9} {'cpu ms':>9}",
    ]
    for name, ms in r["median_ms"].items():
        lines.append(f"  {name:36} {ms['wall']:9.1f} {ms['min_wall']:9.1f} {ms['cpu']:9.1f}")
    if r["jrnl"] == "skipped":
        lines.append(
            "  jrnl add                           skipped (no --jrnl / FIELDLOG_BENCH_JRNL)"
        )
    lines.append("  median per-round ratios (target on the wall ratio):")
    for row in r["ratios"]:
        lines.append(
            f"  {row['what']:54} wall {row['wall_ratio']:6.2f}x  cpu {row['cpu_ratio']:6.2f}x"
            f"  target <= {row['target']:.2f}x  {row['verdict']}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, measure, print; returns the exit code (0 unless a command failed)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21, metavar="N", help="Rounds (default 21).")
    parser.add_argument(
        "--jrnl",
        metavar="PATH",
        default=os.environ.get("FIELDLOG_BENCH_JRNL")
        or (DEFAULT_JRNL if Path(DEFAULT_JRNL).exists() else None),
        help="jrnl's script (default: $FIELDLOG_BENCH_JRNL, else /tmp/jrnlvenv/bin/jrnl).",
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
    if args.jrnl and not Path(args.jrnl).exists():
        sys.stderr.write(f"no jrnl at {args.jrnl}: that comparison is skipped\n")
        args.jrnl = None
    try:
        result = measure(args.runs, args.jrnl, args.inherit_env)
    except subprocess.CalledProcessError as exc:
        sys.stderr.write(f"command failed ({exc.returncode}): {exc.cmd}\n")
        sys.stderr.write((exc.stderr or b"").decode(errors="replace"))
        return 1
    print(json.dumps(result, indent=2) if args.json else report(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
