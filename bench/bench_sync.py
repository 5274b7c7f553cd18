"""Benchmark: sync through a SQLite-file remote.

    .venv/bin/python bench/bench_sync.py              # 10,000-contact push; 1k vs 100k no-op
    .venv/bin/python bench/bench_sync.py --runs 7

1. **Push**: a log with 10,000 demo contacts (and their concerns, referrals and partners)
   pushed to an empty remote file, against a baseline that inserts the same rows (every
   column) into an empty SQLite file with one ``executemany`` per table in one transaction.
   Aim: ratio <= 3x.
2. **No-op sync**: a sync with nothing to do on a 1,000-contact log and on a 100,000-contact
   log (each already in step with its remote), alternated. Target: ratio <= 1.2x (a sync with
   nothing to do must not grow with the log).

Everything is timed in-process with ``time.perf_counter`` (opening the log and the remote
included); runs alternate so machine load hits both sides. Figures only: exits 0.
(bench/bench_sync_pg.py does the same against PostgreSQL.)
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fieldlog import demo, sync  # noqa: E402
from fieldlog.db.remotes.factory import open_remote
from fieldlog.db.store import Store  # noqa: E402

TABLES = ("organizations", "contacts", "concerns", "referrals")


def make_log(path: Path, contacts: int) -> None:
    with Store.open(path) as s:
        s.set_officer("Bench")
        demo.fill(s, contacts, seed=5)


def timed_sync(log: Path, url: str) -> tuple[float, sync.Result]:
    start = time.perf_counter()
    with Store.open(log) as s:
        remote = open_remote(url)
        try:
            result = sync.sync_with(s, remote)
        finally:
            remote.close()
    return time.perf_counter() - start, result


def baseline_insert(log: Path, target: Path) -> float:
    """The same rows into an empty file: one executemany per table, one transaction."""
    src = sqlite3.connect(log)
    data = {}
    for t in TABLES:
        cur = src.execute(f"SELECT * FROM {t}")
        data[t] = ([d[0] for d in cur.description], cur.fetchall())
    schema = [
        r[0]
        for r in src.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name IN "
            "('organizations', 'contacts', 'concerns', 'referrals')"
        )
    ]
    src.close()
    start = time.perf_counter()
    con = sqlite3.connect(target, isolation_level=None)
    con.execute("PRAGMA synchronous = FULL")
    con.execute("BEGIN")
    for sql in schema:
        con.execute(sql)
    for t in TABLES:
        cols, rows = data[t]
        con.executemany(
            f"INSERT INTO {t} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})", rows
        )
    con.execute("COMMIT")
    con.close()
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--push-contacts", type=int, default=10_000)
    ap.add_argument("--small", type=int, default=1_000)
    ap.add_argument("--big", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="fieldlog-bench-sync-"))
    out: dict[str, object] = {}

    # 1. push
    source = tmp / "push.db"
    make_log(source, args.push_contacts)
    push_t, base_t, changes = [], [], 0
    for i in range(args.runs):
        log = tmp / f"push{i}.db"
        con = sqlite3.connect(source)
        dst = sqlite3.connect(log)
        con.backup(dst)
        dst.close()
        con.close()
        t, result = timed_sync(log, str(tmp / f"remote{i}.fieldlog"))
        push_t.append(t)
        changes = result.pushed
        base_t.append(baseline_insert(source, tmp / f"baseline{i}.db"))
    ratio = statistics.median(p / b for p, b in zip(push_t, base_t, strict=True))
    out["push"] = {
        "contacts": args.push_contacts,
        "changes": changes,
        "sync_median_s": round(statistics.median(push_t), 3),
        "executemany_median_s": round(statistics.median(base_t), 3),
        "ratio_median": round(ratio, 2),
        "target": 3.0,
    }

    # 2. no-op
    logs = {}
    for n in (args.small, args.big):
        log, url = tmp / f"noop{n}.db", str(tmp / f"noop{n}.fieldlog")
        make_log(log, n)
        timed_sync(log, url)  # in step
        timed_sync(log, url)
        logs[n] = (log, url)
    small_t, big_t = [], []
    for _ in range(args.runs * 2):
        t, r = timed_sync(*logs[args.small])
        assert (r.pushed, r.pulled) == (0, 0)
        small_t.append(t)
        t, r = timed_sync(*logs[args.big])
        assert (r.pushed, r.pulled) == (0, 0)
        big_t.append(t)
    out["noop"] = {
        "small_contacts": args.small,
        "big_contacts": args.big,
        "small_median_ms": round(statistics.median(small_t) * 1000, 1),
        "big_median_ms": round(statistics.median(big_t) * 1000, 1),
        "ratio_median": round(statistics.median(big_t) / statistics.median(small_t), 2),
        "target": 1.2,
    }
    if args.json:
        print(json.dumps(out, indent=2))
        return
    p, n = out["push"], out["noop"]
    print(
        f"push {p['contacts']:,} contacts ({p['changes']:,} changes) to an empty remote: "
        f"{p['sync_median_s']} s vs executemany {p['executemany_median_s']} s, "
        f"ratio {p['ratio_median']}x (aim <= 3x) "
        f"{'PASS' if p['ratio_median'] <= 3 else 'OVER'}"
    )
    print(
        f"no-op sync: {n['small_contacts']:,} contacts {n['small_median_ms']} ms, "
        f"{n['big_contacts']:,} contacts {n['big_median_ms']} ms, ratio {n['ratio_median']}x "
        f"(target <= 1.2x) {'PASS' if n['ratio_median'] <= 1.2 else 'OVER'}"
    )


if __name__ == "__main__":
    main()
