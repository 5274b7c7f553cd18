"""Benchmark: `fieldlog import` of a big contacts.csv, against a bare csv-to-SQLite loader.

    .venv/bin/python bench/bench_import.py                  # a 100 MB file
    .venv/bin/python bench/bench_import.py --mb 100 300     # two sizes: memory must not grow
    .venv/bin/python bench/bench_import.py --mb 1000 --json

For each size, a ``contacts.csv`` in the columns of ``fieldlog export contacts`` is generated
in /tmp (random-looking text, ~420 bytes a row, every row valid), then imported into a fresh
log by ``python -m fieldlog --db LOG import FILE --json``. The **baseline**, in the same run
and on the same file: a bare Python child that reads it with :mod:`csv` and inserts the rows
into a plain SQLite table in one transaction, 2,000 at a time (the floor for "parse and store":
no checks, no outbox, no audit, no search index). Each child's wall time, CPU time (user +
system) and peak RSS (``os.wait4`` rusage) are printed, with peak RSS per MB of file, seconds per
MB and the ratio to the baseline. Also printed: the RSS of ``fieldlog import`` of a one-row
file (what starting Python and fieldlog costs).

Target (issue 12): peak RSS <= 200 MB for a 1 GB file, and peak RSS that does not grow with
the file's size. Figures only: it exits 0 unless a command fails.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEADER = (
    "id,occurred_at,officer,kind,person_name,organization_id,neighborhood,beat,location,"
    "summary,notes,tags,follow_up_on,created_at,updated_at"
)
WORDS = (
    "youth league court lighting after school noise complaint block party pastor reyes "
    "corner store owner walkthrough parks dept housing referral follow up neighbors "
    "traffic speeding elm street crossing guard meeting community center volunteers"
).split()
BASELINE = """\
import csv, sqlite3, sys
src, db = sys.argv[1], sys.argv[2]
conn = sqlite3.connect(db, isolation_level=None)
conn.execute("CREATE TABLE contacts (" + ", ".join(f"c{i} TEXT" for i in range(15)) + ")")
conn.execute("BEGIN")
with open(src, encoding="utf-8-sig", newline="") as fh:
    rows = csv.reader(fh)
    next(rows)
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) == 2000:
            conn.executemany("INSERT INTO contacts VALUES (" + ",".join("?" * 15) + ")", batch)
            batch = []
    conn.executemany("INSERT INTO contacts VALUES (" + ",".join("?" * 15) + ")", batch)
conn.execute("COMMIT")
"""


def generate(path: Path, mb: float) -> int:
    """A valid contacts export of about ``mb`` MB; returns its rows."""
    rnd = random.Random(12)
    target = int(mb * (1 << 20))
    base_ms = 1_735_689_600_000  # 2025-01-01 UTC
    n = 0
    with open(path, "w", encoding="utf-8", newline="") as out:
        out.write(HEADER + "\r\n")
        size = len(HEADER) + 2
        lines: list[str] = []
        while size < target:
            ms = base_ms + n * 1000
            rid = f"{ms:012x}7{rnd.getrandbits(76):019x}"
            day = f"2025-{1 + n % 12:02d}-{1 + n % 28:02d}"
            words = " ".join(rnd.choices(WORDS, k=12))
            notes = " ".join(rnd.choices(WORDS, k=30))
            line = (
                f"{rid},{day}T14:30:00-06:00,Sgt Ana Lee,resident,Person {n},,Eastside,B{n % 9},"
                f"{n} Main St,Met about {words},{notes},youth;night,{day},"
                f"{day}T20:30:00.000Z,{day}T20:30:00.000Z\r\n"
            )
            lines.append(line)
            size += len(line)
            n += 1
            if len(lines) == 5000:
                out.write("".join(lines))
                lines = []
        out.write("".join(lines))
    return n


def run(cmd: list[str]) -> tuple[float, float, float, str]:
    """Wall seconds, peak RSS (MB), CPU seconds (user + system) and stdout of one child."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out = proc.stdout.read().decode() if proc.stdout else ""
    err = proc.stderr.read().decode() if proc.stderr else ""
    if not hasattr(os, "wait4"):  # Windows: no rusage of a child; time only
        code = proc.wait()
        if code != 0:
            sys.exit(f"failed: {' '.join(cmd)}\n{err}")
        return time.perf_counter() - start, float("nan"), float("nan"), out
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{err}")
    return wall, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mb", type=float, nargs="+", default=[100.0], help="file sizes, MB")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="fieldlog-bench-import-"))
    env_py = [sys.executable]
    fieldlog = [*env_py, "-m", "fieldlog"]
    results = []
    try:
        (tmp / "base.py").write_text(BASELINE, encoding="utf-8")
        tiny = tmp / "tiny.csv"
        generate(tiny, 0.0001)
        _, start_rss, _, _ = run([*fieldlog, "--db", str(tmp / "tiny.db"), "import", str(tiny)])
        for mb in args.mb:
            src = tmp / f"contacts-{mb:g}mb.csv"
            print(f"generating {mb:g} MB ...", file=sys.stderr)
            rows = generate(src, mb)
            size_mb = src.stat().st_size / (1 << 20)
            bw, brss, bcpu, _ = run([*env_py, str(tmp / "base.py"), str(src), str(tmp / "b.db")])
            (tmp / "b.db").unlink()
            print(f"importing {mb:g} MB ...", file=sys.stderr)
            log = tmp / "log.db"
            fw, frss, fcpu, out = run([*fieldlog, "--db", str(log), "import", str(src), "--json"])
            imported = json.loads(out)["contacts"]
            for p in tmp.glob("log.db*"):
                p.unlink()
            src.unlink()
            results.append({
                "file_mb": round(size_mb, 1), "rows": rows, "imported": imported,
                "fieldlog_wall_s": round(fw, 1), "fieldlog_cpu_s": round(fcpu, 1),
                "fieldlog_peak_rss_mb": round(frss, 1),
                "fieldlog_rss_per_file_mb": round(frss / size_mb, 3),
                "fieldlog_s_per_mb": round(fw / size_mb, 3),
                "baseline_wall_s": round(bw, 1), "baseline_cpu_s": round(bcpu, 1),
                "baseline_peak_rss_mb": round(brss, 1),
                "wall_ratio": round(fw / bw, 1), "cpu_ratio": round(fcpu / bcpu, 1),
            })  # fmt: skip
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    summary = {
        "startup_rss_mb": round(start_rss, 1),
        "sizes": results,
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    if args.json:
        print(json.dumps(summary, indent=2))
        return
    print(f"fieldlog import of a 1-row file: peak RSS {start_rss:.1f} MB (start-up)")
    for r in results:
        ok = "PASS" if r["fieldlog_peak_rss_mb"] <= 200 else "OVER"
        print(
            f"{r['file_mb']:8.1f} MB, {r['rows']:,} rows (imported {r['imported']:,}):\n"
            f"  fieldlog  {r['fieldlog_wall_s']:7.1f} s wall, {r['fieldlog_cpu_s']:7.1f} s CPU, "
            f"peak RSS {r['fieldlog_peak_rss_mb']:6.1f} MB (target <= 200 MB) {ok}; "
            f"{r['fieldlog_rss_per_file_mb']:.3f} MB RSS per MB of file, "
            f"{r['fieldlog_s_per_mb']:.2f} s per MB\n"
            f"  baseline  {r['baseline_wall_s']:7.1f} s wall, {r['baseline_cpu_s']:7.1f} s CPU, "
            f"peak RSS {r['baseline_peak_rss_mb']:6.1f} MB (csv -> plain SQLite table)\n"
            f"  ratio     {r['wall_ratio']:.1f}x wall, {r['cpu_ratio']:.1f}x CPU"
        )
    if len(results) > 1:
        rss = [r["fieldlog_peak_rss_mb"] for r in results]
        print(f"peak RSS across sizes: {rss} MB (flat = streaming)")
    print(f"load average after: {summary['load_average']} (other work on the machine)")


if __name__ == "__main__":
    main()
