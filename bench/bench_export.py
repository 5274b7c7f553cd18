"""Benchmark: `fieldlog export contacts` vs the sqlite3 shell's CSV export of the same table.

    .venv/bin/python bench/bench_export.py                       # 1,000,000 contacts
    .venv/bin/python bench/bench_export.py --contacts 100000
    .venv/bin/python bench/bench_export.py --db /tmp/log1m.db    # reuse a demo log

Both sides write the whole contacts table to a file in /tmp (the baseline:
``sqlite3 -csv -header DB "SELECT <the export's columns> FROM contacts WHERE deleted = 0"``,
the columns from the record registry; fieldlog: ``fieldlog --db DB export contacts --out -``
with stdout on the file, which also converts times to local ISO 8601, joins the tag lists and
neutralises formula cells). Runs alternate; each child's wall time (perf_counter around the
process), peak RSS and CPU time (user + system of the whole process tree: ``os.wait4``
rusage, which counts any process fieldlog forks) are printed, and the load average: the wall
ratio depends on other work sharing the cores, the CPU ratio much less. Targets: median
pair CPU ratio <= 2.0x (the main figure) and wall ratio <= 2.0x, fieldlog peak RSS < 100 MB.
Figures only: it exits 0 unless a command fails.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from fieldlog.export import COLUMNS as EXPORT_COLUMNS  # noqa: E402 (the repository's copy)

COLUMNS = ", ".join(EXPORT_COLUMNS["contacts"])  # what `fieldlog export contacts` writes


def run(cmd: list[str], out: Path) -> tuple[float, float, float]:
    """Wall seconds, peak RSS (MB) and CPU seconds (user + system, with the processes it
    waited for) of one child writing its stdout to ``out``."""
    with open(out, "wb") as fh:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode() if proc.stderr else ""
    if proc.returncode != 0:
        sys.exit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{err}")
    return wall, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime  # Linux: KB


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--contacts", type=int, default=1_000_000)
    ap.add_argument("--db", help="an existing log to reuse (made with fieldlog demo if missing)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    sqlite = shutil.which("sqlite3")
    if sqlite is None:
        sys.exit("the sqlite3 command-line shell is needed (apt-get install sqlite3)")
    tmp = Path(tempfile.mkdtemp(prefix="fieldlog-bench-export-"))
    db = Path(args.db) if args.db else tmp / "log.db"
    fieldlog = [sys.executable, "-m", "fieldlog", "--db", str(db)]
    if not db.exists():
        print(f"making a demo log of {args.contacts:,} contacts in {db} ...", file=sys.stderr)
        subprocess.run([*fieldlog, "demo", "--contacts", str(args.contacts)], check=True,
                       stdout=subprocess.DEVNULL)  # fmt: skip
    rows = int(
        subprocess.run(
            [sqlite, str(db), "SELECT count(*) FROM contacts WHERE deleted = 0"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout  # fmt: skip
    )
    base_cmd = [sqlite, "-csv", "-header", str(db),
                f"SELECT {COLUMNS} FROM contacts WHERE deleted = 0"]  # fmt: skip
    ours_cmd = [*fieldlog, "export", "contacts", "--out", "-"]
    # One untimed run of each: the page cache holds the log for both sides.
    run(base_cmd, tmp / "base.csv")
    run(ours_cmd, tmp / "ours.csv")
    base, ours = [], []
    for _ in range(args.runs):
        base.append(run(base_cmd, tmp / "base.csv"))
        ours.append(run(ours_cmd, tmp / "ours.csv"))
    sizes = {k: (tmp / f"{k}.csv").stat().st_size for k in ("base", "ours")}
    b = statistics.median(w for w, _, _ in base)
    o = statistics.median(w for w, _, _ in ours)
    ratios = [ow / bw for (ow, _, _), (bw, _, _) in zip(ours, base, strict=True)]
    cpu_ratios = [oc / max(bc, 1e-9) for (_, _, oc), (_, _, bc) in zip(ours, base, strict=True)]
    bc_med = statistics.median(c for _, _, c in base)
    oc_med = statistics.median(c for _, _, c in ours)
    result = {
        "rows": rows,
        "runs": args.runs,
        "sqlite3_wall_s": [round(w, 3) for w, _, _ in base],
        "fieldlog_wall_s": [round(w, 3) for w, _, _ in ours],
        "sqlite3_cpu_s": [round(c, 2) for _, _, c in base],
        "fieldlog_cpu_s": [round(c, 2) for _, _, c in ours],
        "median_sqlite3_s": round(b, 3),
        "median_fieldlog_s": round(o, 3),
        "ratio_of_medians": round(o / b, 2),
        "median_pair_ratio": round(statistics.median(ratios), 2),
        "median_sqlite3_cpu_s": round(bc_med, 2),
        "median_fieldlog_cpu_s": round(oc_med, 2),
        "cpu_ratio_of_medians": round(oc_med / max(bc_med, 1e-9), 2),
        "median_pair_cpu_ratio": round(statistics.median(cpu_ratios), 2),
        "peak_rss_mb_sqlite3": round(max(r for _, r, _ in base), 1),
        "peak_rss_mb_fieldlog": round(max(r for _, r, _ in ours), 1),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "bytes": sizes,
    }
    shutil.rmtree(tmp) if not args.db else [p.unlink() for p in tmp.glob("*.csv")]
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"contacts exported:      {rows:,}")
    print(f"sqlite3 -csv (s):       {result['sqlite3_wall_s']}  median {b:.2f}")
    print(f"fieldlog export (s):    {result['fieldlog_wall_s']}  median {o:.2f}")
    print(f"pair ratios:            {[round(r, 2) for r in ratios]}")
    print(f"CPU s (user+sys):       sqlite3 {result['sqlite3_cpu_s']} median {bc_med:.2f}, "
          f"fieldlog {result['fieldlog_cpu_s']} median {oc_med:.2f} (every process)")  # fmt: skip
    print(f"CPU pair ratios:        {[round(r, 2) for r in cpu_ratios]}")
    cpu = result["median_pair_cpu_ratio"]
    wall = result["median_pair_ratio"]
    print(f"CPU ratio (median pair): {cpu:.2f}x  (target <= 2.0x) "
          + ("PASS" if cpu <= 2.0 else "OVER"))  # fmt: skip
    print(f"wall ratio (median pair): {wall:.2f}x  (target <= 2.0x) "
          + ("PASS" if wall <= 2.0 else "OVER"))  # fmt: skip
    print(f"peak RSS fieldlog:      {result['peak_rss_mb_fieldlog']:.1f} MB  (target < 100 MB) "
          + ("PASS" if result["peak_rss_mb_fieldlog"] < 100 else "OVER"))  # fmt: skip
    print(f"peak RSS sqlite3:       {result['peak_rss_mb_sqlite3']:.1f} MB")
    print(f"output bytes:           sqlite3 {sizes['base']:,}, fieldlog {sizes['ours']:,}")
    print(f"load average after:     {result['load_average']} (other work on the machine)")


if __name__ == "__main__":
    main()
