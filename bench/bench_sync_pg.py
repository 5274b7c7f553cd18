"""Benchmark: sync through a PostgreSQL remote (a throwaway local server, tests/pg.py).

    .venv/bin/python bench/bench_sync_pg.py              # 10,000-contact push; 1k vs 100k no-op
    .venv/bin/python bench/bench_sync_pg.py --runs 7 --big 20000
    .venv/bin/python bench/bench_sync_pg.py --no-fsync   # the server without fsync
    .venv/bin/python bench/bench_sync_pg.py --only pull laptops --laptops 10 50 200

1. **Push**: a log with 10,000 demo contacts (and their concerns, referrals and partners)
   pushed to an empty PostgreSQL remote (a fresh database each run), against a baseline that
   inserts the same rows (every column of the four tables) into fresh tables of the same
   server with one psycopg ``executemany`` per table in one transaction. Aim: ratio <= 3x.
2. **No-op sync**: a sync with nothing to do on a 1,000-contact log and on a 100,000-contact
   log (each already in step with its own remote database), alternated. Target: ratio <= 1.2x.

3. **Pull vs push** and 4. **N laptops**: bench/bench_sync.py's sections 3 and 4 (the same
   code), each remote a fresh database of this server. Targets: pull/push <= 1.5x; the sync
   cost per change flat from 10 to 200 laptops.

The server is started by this script (installed PostgreSQL binaries; data in a temp folder,
removed at the end) and listens on 127.0.0.1: connections are TCP with a scram-sha-256 login,
as a laptop's would be (without the network's latency). fsync is on unless --no-fsync.
Everything is timed in-process with ``time.perf_counter`` (opening the log and connecting to
the remote included); runs alternate so machine load hits both sides. Figures only: exits 0.
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

from tests.lib.pg import PgServer

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_sync import (  # noqa: E402  (the same helpers and sections)
    SECTIONS,
    TABLES,
    laptops,
    make_log,
    print_laptops,
    print_pull,
    pull_vs_push,
    timed_sync,
    unbatched,
)


def copy_log(src: Path, dst: Path) -> None:
    con, out = sqlite3.connect(src), sqlite3.connect(dst)
    con.backup(out)
    out.close()
    con.close()


def read_rows(log: Path) -> dict[str, tuple[list[str], list[str], list[tuple]]]:
    """Per table: column names, PostgreSQL types (bigint where every value is an integer),
    rows."""
    src = sqlite3.connect(log)
    data = {}
    for t in TABLES:
        cur = src.execute(f"SELECT * FROM {t}")
        cols = [d[0] for d in cur.description]
        rows = cur.fetchall()
        types = []
        for i in range(len(cols)):
            values = [r[i] for r in rows if r[i] is not None]
            ints = values and all(isinstance(v, int) for v in values)
            types.append("bigint" if ints else "text")
        data[t] = (cols, types, rows)
    src.close()
    return data


def baseline_insert(url: str, data: dict[str, tuple[list[str], list[str], list[tuple]]]) -> float:
    """The same rows into empty tables: one executemany per table, one transaction."""
    import psycopg

    start = time.perf_counter()
    with psycopg.connect(url) as conn:
        with conn.cursor() as cur:
            for t in TABLES:
                cols, types, rows = data[t]
                body = ", ".join(f"{c} {ty}" for c, ty in zip(cols, types, strict=True))
                cur.execute(f"CREATE TABLE base_{t} ({body})")
                cur.executemany(
                    f"INSERT INTO base_{t} ({', '.join(cols)}) "
                    f"VALUES ({', '.join(['%s'] * len(cols))})",
                    rows,
                )
        conn.commit()
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--push-contacts", type=int, default=10_000)
    ap.add_argument("--small", type=int, default=1_000)
    ap.add_argument("--big", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--no-fsync", action="store_true", help="run the server with fsync=off")
    ap.add_argument("--pull-contacts", type=int, default=10_000)
    ap.add_argument("--laptops", type=int, nargs="*", default=[10, 50, 200])
    ap.add_argument("--each", type=int, default=1, help="contacts (with a concern) a round")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--only", nargs="+", choices=SECTIONS, default=list(SECTIONS))
    ap.add_argument(
        "--unbatched", action="store_true", help="pull change by change (as before the batch)"
    )
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if args.unbatched:
        unbatched()
    tmp = Path(tempfile.mkdtemp(prefix="fieldlog-bench-sync-pg-"))
    server = PgServer.start(fsync=not args.no_fsync)
    out: dict[str, object] = {"fsync": not args.no_fsync}
    try:
        if "pull" in args.only:
            source = tmp / "pull.db"
            make_log(source, args.pull_contacts)
            out["pull"] = pull_vs_push(source, server.fresh_database, tmp, args.runs)
        if "laptops" in args.only and args.laptops:
            out["laptops"] = laptops(
                args.laptops, server.fresh_database, tmp, args.each, args.rounds
            )
        push_noop(args, server, tmp, out)
    finally:
        server.stop()
    if args.json:
        print(json.dumps(out, indent=2))
        return
    print(f"PostgreSQL (fsync {'on' if out['fsync'] else 'off'}), {args.runs} runs, medians:")
    if "push" in out:
        p = out["push"]
        assert isinstance(p, dict)
        print(
            f"push {p['contacts']:,} contacts ({p['changes']:,} changes) to an empty remote: "
            f"{p['sync_median_s']} s vs executemany of the {p['rows']:,} rows "
            f"{p['executemany_median_s']} s, ratio {p['ratio_median']}x (aim <= 3x) "
            f"{'PASS' if p['ratio_median'] <= 3 else 'OVER'}"
        )
    if "noop" in out:
        n = out["noop"]
        assert isinstance(n, dict)
        print(
            f"no-op sync: {n['small_contacts']:,} contacts {n['small_median_ms']} ms, "
            f"{n['big_contacts']:,} contacts {n['big_median_ms']} ms, ratio "
            f"{n['ratio_median']}x (target <= 1.2x) "
            f"{'PASS' if n['ratio_median'] <= 1.2 else 'OVER'}   "
            f"(first push of the {n['big_contacts']:,}: {n['big_first_push_s']} s)"
        )
    if "pull" in out:
        assert isinstance(out["pull"], dict)
        print_pull(out["pull"], "PostgreSQL remote")
    if "laptops" in out:
        assert isinstance(out["laptops"], dict)
        print_laptops(out["laptops"], "PostgreSQL remote")


def push_noop(args: argparse.Namespace, server: PgServer, tmp: Path, out: dict) -> None:
    """Sections 1 and 2."""
    if "push" in args.only:
        # 1. push
        source = tmp / "push.db"
        make_log(source, args.push_contacts)
        data = read_rows(source)
        rows = sum(len(d[2]) for d in data.values())
        push_t, base_t, changes = [], [], 0
        for i in range(args.runs):
            log = tmp / f"push{i}.db"
            copy_log(source, log)
            url = server.fresh_database()
            t, result = timed_sync(log, url)
            push_t.append(t)
            changes = result.pushed
            base_t.append(baseline_insert(server.fresh_database(), data))
        ratio = statistics.median(p / b for p, b in zip(push_t, base_t, strict=True))
        out["push"] = {
            "contacts": args.push_contacts,
            "changes": changes,
            "rows": rows,
            "sync_median_s": round(statistics.median(push_t), 3),
            "executemany_median_s": round(statistics.median(base_t), 3),
            "ratio_median": round(ratio, 2),
            "target": 3.0,
        }

    if "noop" in args.only:
        # 2. no-op
        logs = {}
        setup = {}
        for n in (args.small, args.big):
            log, url = tmp / f"noop{n}.db", server.fresh_database()
            start = time.perf_counter()
            make_log(log, n)
            made = time.perf_counter()
            timed_sync(log, url)  # in step
            setup[n] = (round(made - start, 1), round(time.perf_counter() - made, 1))
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
            "big_first_push_s": setup[args.big][1],
            "small_median_ms": round(statistics.median(small_t) * 1000, 1),
            "big_median_ms": round(statistics.median(big_t) * 1000, 1),
            "ratio_median": round(statistics.median(big_t) / statistics.median(small_t), 2),
            "target": 1.2,
        }


if __name__ == "__main__":
    main()
