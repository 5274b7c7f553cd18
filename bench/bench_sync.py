"""Benchmark: sync through a SQLite-file remote.

    .venv/bin/python bench/bench_sync.py              # push, no-op, pull vs push, N laptops
    .venv/bin/python bench/bench_sync.py --runs 7
    .venv/bin/python bench/bench_sync.py --only pull laptops --pull-contacts 2000 --laptops 10 50

1. **Push**: a log with 10,000 demo contacts (and their concerns, referrals and partners)
   pushed to an empty remote file, against a baseline that inserts the same rows (every
   column) into an empty SQLite file with one ``executemany`` per table in one transaction.
   Aim: ratio <= 3x.
2. **No-op sync**: a sync with nothing to do on a 1,000-contact log and on a 100,000-contact
   log (each already in step with its remote), alternated. Target: ratio <= 1.2x (a sync with
   nothing to do must not grow with the log).

3. **Pull vs push**: the same changes (a log of ``--pull-contacts`` demo contacts) pushed by
   one laptop and pulled by another that has synced with the store before (it founded it and
   enrolled the pusher, so every change is verified, checked, merged and audited: not a first
   sync), each run a fresh remote. Target: pull/push <= 1.5x (median of the per-run ratios).
4. **N laptops** (``--laptops 10 50 200``): N enrolled laptops on one fresh remote; each round
   every laptop adds ``--each`` contacts with a concern and syncs (pushing its own, pulling
   everyone else's since its last sync), one after the other in this process. Printed: the
   sync time per change moved (pushed + pulled) over ``--rounds`` rounds after a warm-up, and
   its ratio to the first count's. Target: flat (ratio <= 1.2x). bench/bench_dept.py runs the
   concurrent case on a department store (logins, row-level security, many processes).

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

import inspect  # noqa: E402
from collections.abc import Callable  # noqa: E402
from typing import Any  # noqa: E402

from fieldlog import demo, sync  # noqa: E402
from fieldlog.db.remotes.factory import open_remote  # noqa: E402
from fieldlog.db.store import Store  # noqa: E402
from tests.lib.sync_helpers import enroll  # noqa: E402

TABLES = ("organizations", "contacts", "concerns", "referrals")


def make_log(path: Path, contacts: int) -> None:
    with Store.open(path) as s:
        s.set_officer("Bench")
        demo.fill(s, contacts, seed=5)


def timed_sync(log: Path, url: str, **kw: Any) -> tuple[float, sync.Result]:
    start = time.perf_counter()
    with Store.open(log) as s:
        remote = open_remote(url)
        try:
            result = sync.sync_with(s, remote, **kw)
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


def copy_file(src: Path, dst: Path) -> None:
    con, out = sqlite3.connect(src), sqlite3.connect(dst)
    con.backup(out)
    out.close()
    con.close()


# Pull and push timed alike: no snapshot left in the store at the end of either sync (a fully
# synced laptop leaves one every 10,000 changes: bench/bench_bootstrap.py times that).
NO_SNAPSHOT = {"replay": True} if "replay" in inspect.signature(sync.sync_with).parameters else {}


def pull_vs_push(source: Path, new_url: Callable[[], str], tmp: Path, runs: int) -> dict:
    """Section 3: per run a fresh remote (``new_url()``), founded by the pulling laptop, which
    enrolls a copy of ``source``; that copy pushes everything, then the puller pulls it."""
    push_t, pull_t, push_c, pull_c, changes = [], [], [], [], 0
    for i in range(runs):
        url = new_url()
        puller, pusher = tmp / f"puller{i}.db", tmp / f"pusher{i}.db"
        copy_file(source, pusher)
        with Store.open(puller) as b, Store.open(pusher) as a:
            b.set_officer("Puller")
            remote = open_remote(url)
            try:
                sync.sync_with(b, remote)  # founds the store
            finally:
                remote.close()
            enroll(url, b, a)
        cpu = time.process_time()
        t, pushed = timed_sync(pusher, url, **NO_SNAPSHOT)
        push_t.append(t)
        push_c.append(time.process_time() - cpu)
        cpu = time.process_time()
        t, pulled = timed_sync(puller, url, **NO_SNAPSHOT)
        pull_t.append(t)
        pull_c.append(time.process_time() - cpu)
        assert pulled.pulled == pushed.pushed and not pulled.quarantined, (pushed, pulled)
        changes = pushed.pushed
    ratio = statistics.median(b / a for a, b in zip(push_t, pull_t, strict=True))
    cpu_ratio = statistics.median(b / a for a, b in zip(push_c, pull_c, strict=True))
    return {
        "changes": changes,
        "push_median_s": round(statistics.median(push_t), 3),
        "pull_median_s": round(statistics.median(pull_t), 3),
        "ratio_median": round(ratio, 2),
        # this process's CPU (the laptop's side; a SQLite remote's too, not PostgreSQL's)
        "push_cpu_s": round(statistics.median(push_c), 3),
        "pull_cpu_s": round(statistics.median(pull_c), 3),
        "cpu_ratio_median": round(cpu_ratio, 2),
        "target": 1.5,
    }


def laptops(
    counts: list[int], new_url: Callable[[], str], tmp: Path, each: int, rounds: int
) -> dict:
    """Section 4: sync cost per change moved, for each number of laptops."""
    out: dict[str, dict] = {}
    first = first_cpu = None
    for n in counts:
        url = new_url()
        paths = [tmp / f"lap{n}-{i}.db" for i in range(n)]
        stores = []
        for i, path in enumerate(paths):
            s = Store.open(path)
            s.set_officer(f"Officer {i}")
            stores.append(s)
        remote = open_remote(url)
        try:
            sync.sync_with(stores[0], remote)  # the founder
        finally:
            remote.close()
        enroll_one_by_one(url, stores)
        for s in stores:
            s.close()
        times: list[float] = []
        cpus: list[float] = []
        moved = pulled = 0
        for r in range(rounds + 1):  # round 0: the warm-up (every laptop's first pulls)
            for i, path in enumerate(paths):
                with Store.open(path) as s:
                    for k in range(each):
                        s.contacts.add(
                            {"summary": f"Round {r} visit {k} by laptop {i}"},
                            concerns=[{"category": "noise", "description": "late music"}],
                        )
                cpu = time.process_time()
                t, res = timed_sync(path, url, **NO_SNAPSHOT)
                if r:
                    cpus.append(time.process_time() - cpu)
                    times.append(t)
                    moved += res.pushed + res.pulled
                    pulled += res.pulled
        per = sum(times) / moved
        per_cpu = sum(cpus) / moved
        first = first or per
        first_cpu = first_cpu or per_cpu
        out[str(n)] = {
            "laptops": n,
            "syncs": len(times),
            "changes_moved": moved,
            "changes_pulled": pulled,
            "sync_median_ms": round(statistics.median(times) * 1000, 1),
            "per_change_us": round(per * 1e6, 1),
            "ratio_to_first": round(per / first, 2),
            "cpu_per_change_us": round(per_cpu * 1e6, 1),  # this process (the laptops)
            "cpu_ratio_to_first": round(per_cpu / first_cpu, 2),
        }
    return out


def enroll_one_by_one(url: str, stores: list[Store]) -> None:
    """tests/lib/sync_helpers.enroll for many laptops, one remote connection open at a time
    (200 at once is more than a PostgreSQL server takes): each registers its key, then the
    founder (``stores[0]``, a supervisor) trusts every one, as ``fieldlog dept trust`` does."""
    from fieldlog.db import devkeys
    from fieldlog.db.devices import Trust

    for s in stores[1:]:
        remote = open_remote(url)
        try:
            Trust(s, remote, remote.store_id).prepare()
        finally:
            remote.close()
    remote = open_remote(url)
    try:
        boss = Trust(stores[0], remote, remote.store_id)
        boss.prepare()
        for s in stores[1:]:
            key = devkeys.load(s)
            assert key is not None
            d = boss.state.find(key.device, key.public)
            assert d is not None, "a laptop did not register"
            if not d.trusted:
                boss.trust(d.fingerprint, "officer")
    finally:
        remote.close()


def print_pull(p: dict, where: str) -> None:
    print(
        f"pull vs push ({where}), {p['changes']:,} changes: push {p['push_median_s']} s, "
        f"pull {p['pull_median_s']} s, ratio {p['ratio_median']}x (target <= 1.5x) "
        f"{'PASS' if p['ratio_median'] <= 1.5 else 'OVER'}; this process's CPU: push "
        f"{p['push_cpu_s']} s, pull {p['pull_cpu_s']} s, {p['cpu_ratio_median']}x"
    )


def print_laptops(rows: dict, where: str) -> None:
    for r in rows.values():
        print(
            f"{r['laptops']:>4} laptops ({where}): {r['syncs']} syncs, "
            f"{r['changes_moved']:,} changes moved, p50 sync {r['sync_median_ms']} ms, "
            f"{r['per_change_us']} us per change, ratio {r['ratio_to_first']}x "
            f"(target flat, <= 1.2x) {'PASS' if r['ratio_to_first'] <= 1.2 else 'OVER'}; "
            f"CPU {r['cpu_per_change_us']} us per change, {r['cpu_ratio_to_first']}x"
        )


def unbatched() -> None:
    """Apply every pulled page change by change, each in a savepoint (the fallback path:
    what a page did before it was batched), for a before/after figure in one checkout."""
    from fieldlog.db import pull

    def refuse(*_args: object, **_kw: object) -> None:
        raise pull._Unbatched

    pull.Pull._batch = refuse  # type: ignore[method-assign]


SECTIONS = ("push", "noop", "pull", "laptops")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--push-contacts", type=int, default=10_000)
    ap.add_argument("--small", type=int, default=1_000)
    ap.add_argument("--big", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=5)
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
    tmp = Path(tempfile.mkdtemp(prefix="fieldlog-bench-sync-"))
    out: dict[str, Any] = {}
    urls = iter(range(1_000_000))

    def new_url() -> str:
        return str(tmp / f"remote-{next(urls)}.fieldlog")

    if "pull" in args.only:
        source = tmp / "pull.db"
        make_log(source, args.pull_contacts)
        out["pull"] = pull_vs_push(source, new_url, tmp, args.runs)
    if "laptops" in args.only and args.laptops:
        out["laptops"] = laptops(args.laptops, new_url, tmp, args.each, args.rounds)
    if "push" in args.only:
        out.update(push_noop(args, tmp, "noop" in args.only))
    elif "noop" in args.only:
        out.update(push_noop(args, tmp, True, push=False))
    if args.json:
        print(json.dumps(out, indent=2))
        return
    if "push" in out:
        p = out["push"]
        print(
            f"push {p['contacts']:,} contacts ({p['changes']:,} changes) to an empty remote: "
            f"{p['sync_median_s']} s vs executemany {p['executemany_median_s']} s, "
            f"ratio {p['ratio_median']}x (aim <= 3x) "
            f"{'PASS' if p['ratio_median'] <= 3 else 'OVER'}"
        )
    if "noop" in out:
        n = out["noop"]
        print(
            f"no-op sync: {n['small_contacts']:,} contacts {n['small_median_ms']} ms, "
            f"{n['big_contacts']:,} contacts {n['big_median_ms']} ms, ratio "
            f"{n['ratio_median']}x (target <= 1.2x) "
            f"{'PASS' if n['ratio_median'] <= 1.2 else 'OVER'}"
        )
    if "pull" in out:
        print_pull(out["pull"], "SQLite remote")
    if "laptops" in out:
        print_laptops(out["laptops"], "SQLite remote")


def push_noop(args: argparse.Namespace, tmp: Path, noop: bool, *, push: bool = True) -> dict:
    """Sections 1 and 2."""
    out: dict[str, object] = {}
    if push:
        push_section(args, tmp, out)
    if noop:
        noop_section(args, tmp, out)
    return out


def push_section(args: argparse.Namespace, tmp: Path, out: dict) -> None:
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


def noop_section(args: argparse.Namespace, tmp: Path, out: dict) -> None:
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


if __name__ == "__main__":
    main()
