"""Benchmark: a new laptop's first sync, bootstrapped from the store's snapshot vs replayed.

    .venv/bin/python bench/bench_bootstrap.py                    # 100,000 contacts, both
    .venv/bin/python bench/bench_bootstrap.py --contacts 5000 --runs 1 --backend sqlite

A founder laptop fills a log with ``--contacts`` demo contacts (and their concerns, referrals
and partners: :func:`fieldlog.demo.fill`) and pushes it to an empty remote (a SQLite file, and
a plain PostgreSQL database on a throwaway server), then leaves the signed snapshot of its
state in the remote (:func:`fieldlog.db.bootstrap.publish`, timed on its own). Then, in
alternated pairs, a new empty laptop's first ``sync_with`` loads that snapshot (bootstrap) and
another's replays every change (``replay=True``); each is timed in-process from opening the
log to the end of the round (the remote opened inside), and the two logs are checked to hold
the same records with the same clocks. Target: bootstrap <= 10 s for 100,000 contacts.
Figures only: exits 0.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fieldlog import demo, records, sync  # noqa: E402
from fieldlog.db import bootstrap  # noqa: E402
from fieldlog.db.devices import Trust  # noqa: E402
from fieldlog.db.remotes.factory import open_remote  # noqa: E402
from fieldlog.db.store import Store  # noqa: E402

TARGET_S = 10.0


def founder(tmp: Path, url: str, contacts: int, *, dept: bool = False) -> dict[str, float]:
    log = tmp / "founder.db"
    with Store.open(log) as s:
        s.set_officer("Founder")
        start = time.perf_counter()
        demo.fill(s, contacts, seed=5)
        made = time.perf_counter()
        every, bootstrap.SNAPSHOT_EVERY = bootstrap.SNAPSHOT_EVERY, 2**62
        try:
            remote = open_remote(url)
            try:
                sync.sync_with(s, remote)
                sync.sync_with(s, remote)  # pulls its own pushes back: at the head
                pushed = time.perf_counter()
                trust = Trust(s, remote, remote.store_id)
                trust.prepare()
                if dept:  # the store's own state is the snapshot: nothing to write
                    rows = 0
                else:
                    rows = bootstrap.publish(s, remote, remote.store_id, trust, force=True)
                    assert rows, "no snapshot written"
            finally:
                remote.close()
        finally:
            bootstrap.SNAPSHOT_EVERY = every
    return {
        "fill_s": round(made - start, 1),
        "push_s": round(pushed - made, 1),
        "snapshot_write_s": round(time.perf_counter() - pushed, 2),
        "snapshot_rows": rows,
    }


def first_sync(log: Path, url: str, *, replay: bool) -> tuple[float, sync.Result]:
    """Wall seconds of the round (and, in ``CPU``, this process's CPU seconds: on a busy
    machine the wall time mostly measures the others)."""
    start = time.perf_counter()
    cpu = time.process_time()
    with Store.open(log) as s:
        s.set_officer("New laptop")
        remote = open_remote(url)
        try:
            result = sync.sync_with(s, remote, replay=replay)
        finally:
            remote.close()
    CPU.append(time.process_time() - cpu)
    return time.perf_counter() - start, result


CPU: list[float] = []


def state(log: Path) -> dict[str, list[tuple]]:
    with Store.open(log) as s:
        return {
            t: s.conn.execute(f"SELECT * FROM {t} ORDER BY id").fetchall()
            for t in records.in_sync_order()
        }


def run(
    backend: str,
    url: str,
    tmp: Path,
    contacts: int,
    runs: int,
    new_url: str | None = None,
    replay: bool = True,
) -> dict[str, object]:
    made = founder(tmp, url, contacts, dept=new_url is not None)
    url = new_url or url
    boot_t: list[float] = []
    replay_t: list[float] = []
    boot_cpu: list[float] = []
    replay_cpu: list[float] = []
    same = True
    loaded = pulled = 0
    for i in range(runs):
        b, r = tmp / f"boot{i}.db", tmp / f"replay{i}.db"
        t, res = first_sync(b, url, replay=False)
        boot_t.append(t)
        boot_cpu.append(CPU[-1])
        loaded = res.bootstrapped
        assert res.bootstrapped, f"did not bootstrap: {res.notices}"
        if not replay:
            continue
        t, res = first_sync(r, url, replay=True)
        replay_t.append(t)
        replay_cpu.append(CPU[-1])
        pulled = res.pulled
        assert not res.bootstrapped
        same = same and state(b) == state(r)
    boot = statistics.median(boot_t)
    rep = statistics.median(replay_t) if replay_t else float("nan")
    return {
        "backend": backend,
        "contacts": contacts,
        **made,
        "bootstrapped_records": loaded,
        "replayed_changes": pulled,
        "bootstrap_median_s": round(boot, 2),
        "replay_median_s": round(rep, 2),
        "bootstrap_cpu_s": round(statistics.median(boot_cpu), 2),
        "replay_cpu_s": round(statistics.median(replay_cpu), 2) if replay_cpu else None,
        "speedup": round(rep / boot, 1),
        "same_rows_and_clocks": same,
        "target_s": TARGET_S,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--contacts", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument(
        "--backend", choices=("sqlite", "postgres", "dept", "both", "all"), default="all"
    )
    ap.add_argument("--skip-replay", action="store_true", help="time the bootstrap only")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="fieldlog-bench-bootstrap-"))
    out: list[dict[str, object]] = []

    def done(o: dict[str, object]) -> None:
        if hasattr(os, "getloadavg"):  # POSIX only: how busy the machine was
            o["load_1min"] = round(os.getloadavg()[0], 1)
        out.append(o)
        if not args.json:
            show(o, args.runs)

    rp = not args.skip_replay
    if args.backend in ("sqlite", "both", "all"):
        (tmp / "sqlite").mkdir()
        url = str(tmp / "sqlite" / "dept.fieldlog")
        done(run("sqlite", url, tmp / "sqlite", args.contacts, args.runs, replay=rp))
    if args.backend in ("postgres", "dept", "both", "all"):
        from tests.lib.pg import Dept, PgServer, allow_enroll

        server = PgServer.start(fsync=False)
        try:
            if args.backend != "dept":
                (tmp / "pg").mkdir()
                url = server.fresh_database()
                done(run("postgres", url, tmp / "pg", args.contacts, args.runs, replay=rp))
            if args.backend in ("dept", "all"):
                (tmp / "dept").mkdir()
                allow_enroll(server)
                store = Dept(server, server.fresh_dept_database(), tmp / "dept")
                boss = store.enroll("Founder", "supervisor")
                new = store.enroll("New laptop", "officer")
                done(run("dept", boss, tmp / "dept", args.contacts, args.runs, new, rp))
        finally:
            server.stop()
    if args.json:
        print(json.dumps(out, indent=2))


def show(o: dict[str, object], runs: int) -> None:
    ok = "PASS" if float(o["bootstrap_median_s"]) <= TARGET_S else "OVER"  # type: ignore[arg-type]
    print(
        f"{o['backend']}: first sync of a new laptop, {o['contacts']:,} contacts "
        f"({o['bootstrapped_records']:,} records), {runs} run(s), medians: bootstrap "
        f"{o['bootstrap_median_s']} s vs replay of {o['replayed_changes']:,} changes "
        f"{o['replay_median_s']} s ({o['speedup']}x faster; target <= {TARGET_S:g} s) {ok}; "
        f"this process's CPU: bootstrap {o['bootstrap_cpu_s']} s, replay {o['replay_cpu_s']} s; "
        f"same rows and clocks: {o['same_rows_and_clocks']}; the founder wrote the "
        f"snapshot in {o['snapshot_write_s']} s (push {o['push_s']} s); load {o.get('load_1min')}",
        flush=True,
    )


if __name__ == "__main__":
    main()
