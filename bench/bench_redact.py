"""Benchmark: `fieldlog export TABLE --redact` against the same export without it.

    .venv/bin/python bench/bench_redact.py                       # 100,000 contacts
    .venv/bin/python bench/bench_redact.py --db /tmp/log.db      # reuse a demo log
    .venv/bin/python bench/bench_redact.py --table all --runs 3  # every table, into a folder
    .venv/bin/python bench/bench_redact.py --names 20000         # + building the matcher

Both sides run ``fieldlog --db DB export TABLE --out FILE`` (``all``: a folder), alternating,
after one untimed run of each; wall time, CPU time (user + system, with forked helpers) and
peak RSS per run, as bench_export.py measures them. ``--names N`` also times building one
export's matcher (:class:`fieldlog.export.Redactor`) from N invented names and N addresses,
which happens once per export. Figures only: it exits 0 unless a command fails.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run(cmd: list[str]) -> tuple[float, float, float]:
    """Wall seconds, peak RSS (MB) and CPU seconds of one child (and what it waited for)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        err = proc.stderr.read().decode() if proc.stderr else ""
        sys.exit(f"failed: {' '.join(cmd)}\n{err}")
    return wall, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime  # Linux: KB


def build_time(n: int) -> float:
    from fieldlog.export import Redactor

    rnd = random.Random(7)

    def word() -> str:
        return "".join(rnd.choice("abcdefghijklmnoprstuvwyz") for _ in range(rnd.randint(3, 9)))

    names = [f"{word().title()} {word().title()}" for _ in range(n)]
    values = [f"{rnd.randint(1, 999)} {word().title()} St" for _ in range(n)]
    start = time.perf_counter()
    Redactor(names, values)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--contacts", type=int, default=100_000)
    ap.add_argument("--db", help="an existing log to reuse (made with fieldlog demo if missing)")
    ap.add_argument("--table", default="contacts")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--names", type=int, default=0, help="also time a matcher of N names")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="fieldlog-bench-redact-"))
    db = Path(args.db) if args.db else tmp / "log.db"
    fieldlog = [sys.executable, "-m", "fieldlog", "--db", str(db)]
    if not db.exists():
        print(f"making a demo log of {args.contacts:,} contacts in {db} ...", file=sys.stderr)
        subprocess.run([*fieldlog, "demo", "--contacts", str(args.contacts)], check=True,
                       stdout=subprocess.DEVNULL)  # fmt: skip
    out = tmp / ("out" if args.table == "all" else "out.csv")
    plain_cmd = [*fieldlog, "export", args.table, "--out", str(out)]
    redact_cmd = [*plain_cmd, "--redact"]
    run(plain_cmd)
    run(redact_cmd)
    plain, redact = [], []
    for _ in range(args.runs):
        plain.append(run(plain_cmd))
        redact.append(run(redact_cmd))
    p = statistics.median(w for w, _, _ in plain)
    r = statistics.median(w for w, _, _ in redact)
    result = {
        "table": args.table,
        "plain_wall_s": [round(w, 3) for w, _, _ in plain],
        "redact_wall_s": [round(w, 3) for w, _, _ in redact],
        "plain_cpu_s": [round(c, 2) for _, _, c in plain],
        "redact_cpu_s": [round(c, 2) for _, _, c in redact],
        "ratio_of_medians": round(r / p, 2),
        "peak_rss_mb_redact": round(max(m for _, m, _ in redact), 1),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    if args.names:
        result["matcher_build_s"] = round(build_time(args.names), 2)
        result["matcher_names"] = args.names
    shutil.rmtree(tmp, ignore_errors=True)  # the outputs (and a demo log made here)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"export {args.table} (s):        {result['plain_wall_s']}  median {p:.2f}")
    print(f"export {args.table} --redact (s): {result['redact_wall_s']}  median {r:.2f}")
    print(f"CPU s:                  plain {result['plain_cpu_s']}, redact {result['redact_cpu_s']}")
    print(f"ratio (medians):        {result['ratio_of_medians']:.2f}x")
    print(f"peak RSS --redact:      {result['peak_rss_mb_redact']:.1f} MB")
    if args.names:
        print(f"matcher of {args.names:,} names + addresses: {result['matcher_build_s']} s")
    print(f"load average after:     {result['load_average']}")


if __name__ == "__main__":
    main()
