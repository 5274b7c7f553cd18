"""Benchmark: many laptops syncing with one department store on PostgreSQL (issue 13, Scale).

    .venv/bin/python bench/bench_dept.py                     # 10 and 50 laptops (~3-4 min)
    .venv/bin/python bench/bench_dept.py --laptops 10 50 200 --seconds 30
    .venv/bin/python bench/bench_dept.py --laptops 10 --seconds 10 --no-isolation --json
    .venv/bin/python bench/bench_dept.py --laptops --history 1000000   # only the extra parts

One throwaway PostgreSQL on 127.0.0.1 (tests/lib/pg.py's server, with more connections,
``pg_stat_statements`` and function timing), then for each laptop count a fresh database:
``fieldlog dept setup`` (:func:`fieldlog.db.remotes.dept.setup`), a supervisor and N officers
enrolled with their own logins (:func:`fieldlog.db.remotes.roles.enroll`, units of
``--unit-size`` officers, so row-level security is in every pull and push), one real fieldlog
log (a ``Store`` file) per laptop, registered with the store from its own login and trusted by
the supervisor's laptop as ``fieldlog dept trust`` does (a laptop applies only changes from
enrolled devices). Then rounds until ``--seconds`` have passed: every laptop opens its log,
adds ``--adds`` contacts with a concern each and edits one of its earlier contacts, then runs
the real sync round (:func:`fieldlog.sync.sync_with`, its own connection, opened and closed
as ``fieldlog sync`` does). Laptops run in ``--workers`` processes, ``--concurrency`` syncs in
flight at once. After the rounds every laptop syncs twice more (settle) and the supervisor's
laptop (no unit: it sees the whole agency) once.

Printed per laptop count: syncs/s, p50/p99 sync time (connect included), lock waits (the
push lock's statement time from ``pg_stat_statements``, and ``pg_stat_activity`` sampled every
50 ms: the share of samples with a backend waiting on a lock, the most at once), the server's
cost per pushed change (the push's statements' execution time over the changes pushed, the
INSERT's share including the ``apply_change`` trigger; and the server's CPU time from /proc
over the changes pushed), what every sync costs whatever it pushes, the pull's cost per change
delivered, and convergence: every laptop's live records equal the ``fieldlog.contacts`` /
``concerns`` / ... rows its unit sees (every text column the two share), laptops of one unit
equal each other, the supervisor's laptop equals the agency's tables. Each count's per-change
cost is printed as a ratio to the first count's (the issue: flat from 10 to 200 laptops).

Then, each in a database of its own: the server's CPU per sync and per change when one laptop
pushes 0, 1, 10, 100 contacts a sync (``--batches``: a new backend's first use of the merge
functions against the marginal cost); ``--history`` synthetic changes (written with triggers
off) and the statements a no-op sync runs on them, timed as an officer, as the owner, and as
the officer with the policies' ``fieldlog.my_*()`` calls in scalar subqueries (a measured
suggestion); ``--storage`` demo contacts pushed by one laptop: bytes per change of every table
with its indexes, and the time of ``fieldlog.replay()``; and the 3-agency check: three
agencies in one database, a supervisor and an officer of each push, each login reads only its
agency's changes, state, current-state tables, trust list and heads, each laptop holds only
what its unit may see, and an officer's row naming another agency is refused (the same row
naming its own is not): PASS/FAIL.

Without ``fieldlog.db.remotes.dept`` (before the department schema exists) it runs against a
plain PostgreSQL remote, every laptop on the owner's login (``--plain`` forces that): then
every laptop pulls every change and convergence is laptop against laptop only.

The laptops and the server share the machine: the server's figures include waiting for a CPU
the laptops hold. Compare the ratios of one run, not milliseconds across machines. Figures
only: exits 0 (1 when a laptop's sync failed or convergence failed, to be noticed).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import secrets
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.lib.pg import PgServer  # noqa: E402

TABLES = ("contacts", "concerns", "referrals", "organizations")
AGENCY = "bench"
# Columns both sides have that are bookkeeping, not content (the typed table's hlc is the
# newest stamp; the laptop's is its own row stamp).
SKIP = {"hlc", "clocks", "updated_at", "created_at", "deleted", "agency", "unit"}
# Statements of a push other than its INSERT (and the lock): the held check, the counter read
# and move, the numbers taken, the audit head.
PUSH_SIDE = (
    "where origin = %s and origin_seq = any",
    "update fieldlog_meta",
    "insert into fieldlog_meta",
    "insert into fieldlog_heads",
    "taken_after",
    "order by seq limit 1000",
    "where key = %s",
)


# ---------------------------------------------------------------------- the server
class BenchServer(PgServer):
    """tests/lib/pg.py's server, launched with room for every laptop's connection and with
    the statistics the figures come from."""

    max_connections = 250

    def _launch(self, *, fsync: bool) -> None:
        opts = [
            f"-k {self.socket_dir}",
            "-h 127.0.0.1",
            f"-c max_connections={self.max_connections}",
            "-c shared_buffers=128MB",
            "-c listen_addresses=127.0.0.1",
            "-c shared_preload_libraries=pg_stat_statements",
            "-c pg_stat_statements.track=top",
            "-c track_functions=all",
        ]
        if not fsync:
            opts += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
        self.port = 0
        last: Exception | None = None
        from tests.lib.pg import _free_port

        for _ in range(5):
            self.port = _free_port()
            try:
                self._cmd(
                    str(self.bin_dir / "pg_ctl"),
                    "-D", str(self.data),
                    "-l", str(self.root / "server.log"),
                    "-o", " ".join([*opts, f"-p {self.port}"]),
                    "-w", "-t", "60",
                    "start",
                )  # fmt: skip
                return
            except RuntimeError as exc:
                last = exc
                time.sleep(0.2)
        raise RuntimeError(f"PostgreSQL would not start: {last}")


def dbname(url: str) -> str:
    return url.rsplit("/", 1)[1].split("?", 1)[0]


def dept_available() -> bool:
    try:
        from fieldlog.db.remotes import dept, roles  # noqa: F401
    except ImportError:
        return False
    return hasattr(dept, "setup") and hasattr(roles, "enroll")


# ---------------------------------------------------------------------- one laptop
@dataclass
class Laptop:
    index: int
    path: str
    officer: str
    unit: str | None
    url: str


def hood(lap: Laptop) -> str:
    return f"Beat {lap.index % 7}"


def make_laptop(lap: Laptop) -> dict[str, Any]:
    """A new log for ``lap``, registered with the store from its own login."""
    from fieldlog.db import devkeys
    from fieldlog.db.devices import Trust
    from fieldlog.db.remotes.factory import open_remote
    from fieldlog.db.store import Store

    with Store.open(lap.path) as s:
        s.set_officer(lap.officer)
        remote = open_remote(lap.url)
        try:
            Trust(s, remote, remote.store_id).prepare()
        finally:
            remote.close()
        key = devkeys.load(s)
        assert key is not None
        return {"index": lap.index, "device": key.device, "public": key.public}


def laptop_round(lap: Laptop, round_no: int, adds: int) -> dict[str, Any]:
    """One round of one laptop: open its log, add and edit, sync. Times the sync only."""
    from fieldlog import sync
    from fieldlog.db.remotes.factory import open_remote
    from fieldlog.db.store import Store

    out: dict[str, Any] = {"index": lap.index, "error": None, "pushed": 0, "pulled": 0}
    try:
        with Store.open(lap.path) as s:
            start = time.perf_counter()
            for j in range(adds):
                s.contacts.add(
                    {
                        "summary": f"{lap.officer} round {round_no} contact {j}",
                        "neighborhood": hood(lap),
                    },
                    concerns=[{"category": "noise", "description": f"r{round_no} c{j}"}],
                )
            mine = s.conn.execute(
                "SELECT id FROM contacts WHERE deleted = 0 AND officer = ? ORDER BY id LIMIT 1",
                [lap.officer],
            ).fetchone()
            if mine is not None and round_no > 0:
                s.contacts.update(mine[0], {"summary": f"{lap.officer} edited in {round_no}"})
            added, cpu = time.perf_counter(), time.thread_time()
            remote = open_remote(lap.url)
            try:
                result = sync.sync_with(s, remote)
            finally:
                remote.close()
            done = time.perf_counter()
            cpu = time.thread_time() - cpu
        out.update(
            add_s=added - start,
            sync_s=done - added,
            cpu_s=cpu,
            pushed=result.pushed,
            pulled=result.pulled,
            quarantined=result.quarantined,
            problems=result.seq_problems + result.audit_problems,
        )
    except Exception as exc:  # a failed sync is a figure (counted, first ones shown)
        out["error"] = f"{type(exc).__name__}: {exc}"
    return out


def run_chunk(laps: list[Laptop], round_no: int, adds: int, threads: int) -> list[dict]:
    """One worker process's share of a round, ``threads`` laptops at a time."""
    with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
        return list(pool.map(lambda lap: laptop_round(lap, round_no, adds), laps))


def make_chunk(laps: list[Laptop], threads: int) -> list[dict]:
    with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
        return list(pool.map(make_laptop, laps))


def chunks(items: list[Laptop], n: int) -> list[list[Laptop]]:
    return [c for c in (items[i::n] for i in range(n)) if c]


# ---------------------------------------------------------------------- the store
@contextmanager
def owner_conn(url: str) -> Iterator[Any]:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        yield conn


def setup_store(server: PgServer, url: str, agency: str) -> None:
    from fieldlog.db.remotes import dept

    with server.admin_connect() as adm:  # the database owner makes the officers' logins
        adm.execute("ALTER ROLE fieldlog_test CREATEROLE")
    dept.setup(url, agency)


def enroll(
    server: PgServer, url: str, *, officer: str, role: str, unit: str | None, agency: str
) -> str:
    """An enrolled login for ``officer``; returns the laptop's URL."""
    from fieldlog.db.remotes import dept, roles

    password = secrets.token_hex(12)
    with dept.open_admin(url) as conn:
        got = roles.enroll(
            conn, officer=officer, role=role, unit=unit, agency=agency, password=password
        )
    return server.url(dbname(url), user=got.login, password=password)


def trust_all(sup: Laptop, devices: list[dict]) -> float:
    """The supervisor's laptop trusts every officer's device (``fieldlog dept trust``)."""
    from fieldlog.db.devices import Trust
    from fieldlog.db.remotes.factory import open_remote
    from fieldlog.db.store import Store

    start = time.perf_counter()
    with Store.open(sup.path) as s:
        remote = open_remote(sup.url)
        try:
            boss = Trust(s, remote, remote.store_id)
            boss.prepare()
            for d in devices:
                found = boss.state.find(d["device"], d["public"])
                assert found is not None, f"laptop {d['index']} did not register"
                if not found.trusted:
                    boss.trust(found.fingerprint, "officer")
        finally:
            remote.close()
    return time.perf_counter() - start


# ---------------------------------------------------------------------- lock sampling
class Sampler(threading.Thread):
    """Samples the database's backends every ``every`` seconds: how many wait on a lock
    (of them: on an advisory lock, a plain store's push lock; on a row lock, a department
    store's counter row: a row lock's waiter waits on the holder's transaction id or on the
    tuple) and how many are active."""

    def __init__(self, server: PgServer, db: str, every: float = 0.05) -> None:
        super().__init__(daemon=True)
        self.server, self.db, self.every = server, db, every
        self.samples: list[tuple[int, int, int, int]] = []
        self.halt = threading.Event()

    def run(self) -> None:
        with self.server.admin_connect(self.db) as conn:
            while not self.halt.is_set():
                row = conn.execute(
                    "SELECT count(*) FILTER (WHERE wait_event_type = 'Lock'), "
                    "count(*) FILTER (WHERE wait_event_type = 'Lock' "
                    "AND wait_event = 'advisory'), count(*) FILTER (WHERE state = 'active'), "
                    "count(*) FILTER (WHERE wait_event_type = 'Lock' "
                    "AND wait_event IN ('transactionid', 'tuple')) "
                    "FROM pg_stat_activity WHERE datname = %s AND backend_type = "
                    "'client backend' AND pid <> pg_backend_pid()",
                    [self.db],
                ).fetchone()
                assert row is not None
                self.samples.append((int(row[0]), int(row[1]), int(row[2]), int(row[3])))
                self.halt.wait(self.every)

    def figures(self) -> dict[str, float]:
        n = max(len(self.samples), 1)
        waiting = [s[0] for s in self.samples]
        return {
            "samples": len(self.samples),
            "share_waiting": round(sum(1 for w in waiting if w) / n, 3),
            "mean_waiting": round(sum(waiting) / n, 2),
            "max_waiting": max(waiting, default=0),
            "max_advisory": max((s[1] for s in self.samples), default=0),
            "max_row_lock": max((s[3] for s in self.samples), default=0),
            "share_row_lock": round(sum(1 for s in self.samples if s[3]) / n, 3),
            "mean_active": round(sum(s[2] for s in self.samples) / n, 2),
        }


def server_cpu(server: PgServer) -> float:
    """CPU seconds the server has used so far: the postmaster's own and its finished
    children's (a sync's backend ends with its connection), plus its running children's."""
    tick = os.sysconf("SC_CLK_TCK")

    def times(pid: int) -> tuple[int, list[int]]:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[1]), [int(x) for x in fields[11:15]]  # ppid; utime stime cu cs

    master = int((server.data / "postmaster.pid").read_text().split()[0])
    total = sum(times(master)[1])
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid, t = times(int(entry.name))
        except (OSError, ValueError, IndexError):
            continue
        if ppid == master:
            total += t[0] + t[1]
    return total / tick


def statement_costs(server: PgServer, db: str) -> dict[str, Any]:
    """Laptop statements' execution time by kind, from pg_stat_statements (the superuser's
    own statements, this bench's, left out)."""
    with server.admin_connect() as conn:  # the extension lives in the test database
        rows = conn.execute(
            "SELECT query, calls, total_exec_time, rows FROM pg_stat_statements s "
            "JOIN pg_database d ON d.oid = s.dbid JOIN pg_roles r ON r.oid = s.userid "
            "WHERE d.datname = %s AND NOT r.rolsuper",
            [db],
        ).fetchall()
    kinds: dict[str, list[float]] = {}
    for query, calls, total, nrows in rows:
        q = " ".join(str(query).split()).lower()
        if "pg_advisory_xact_lock" in q or "fieldlog.allocate(" in q:
            kind = "push_lock"  # plain: the advisory lock; department: the counter row's
        elif "fieldlog.pull_changes(" in q:
            kind = "pull"
        elif q.startswith("insert into fieldlog_changes"):
            kind = "insert"
        elif "from fieldlog_changes where seq >" in q and "count(" not in q:
            kind = "pull"
        elif any(p in q for p in PUSH_SIDE):
            kind = "push_other"
        elif "fieldlog_trust" in q:
            kind = "trust"
        else:
            kind = "per_sync"
        k = kinds.setdefault(kind, [0.0, 0.0, 0.0])
        k[0] += float(calls)
        k[1] += float(total)
        k[2] += float(nrows)
    return {
        k: {"calls": int(v[0]), "ms": round(v[1], 1), "rows": int(v[2])} for k, v in kinds.items()
    }


def reset_stats(server: PgServer, db: str) -> None:
    with server.admin_connect() as conn:
        conn.execute("SELECT pg_stat_statements_reset()")
    with server.admin_connect(db) as conn:
        conn.execute("SELECT pg_stat_reset()")


def function_costs(server: PgServer, db: str) -> dict[str, dict[str, float]]:
    with server.admin_connect(db) as conn:
        rows = conn.execute(
            "SELECT schemaname || '.' || funcname, calls, total_time, self_time "
            "FROM pg_stat_user_functions ORDER BY total_time DESC LIMIT 8"
        ).fetchall()
    return {
        str(name): {"calls": int(c), "total_ms": round(float(t), 1), "self_ms": round(float(s), 1)}
        for name, c, t, s in rows
    }


def sizes(server: PgServer, db: str, dept: bool) -> dict[str, Any]:
    """Bytes of the change log, state and typed tables (with indexes), and row counts."""
    schema = "fieldlog" if dept else "public"
    with server.admin_connect(db) as conn:
        rows = conn.execute(
            "SELECT c.relname, c.relkind, pg_total_relation_size(c.oid), "
            "pg_indexes_size(c.oid), c.oid FROM pg_class c JOIN pg_namespace n ON "
            "n.oid = c.relnamespace WHERE n.nspname = %s AND c.relkind IN ('r', 'p') "
            "AND NOT c.relispartition",
            [schema],
        ).fetchall()
        out: dict[str, Any] = {}
        for name, kind, total, idx, oid in rows:
            if kind == "p":  # partitioned: sum its partitions
                part = conn.execute(
                    "SELECT coalesce(sum(pg_total_relation_size(relid)), 0), "
                    "coalesce(sum(pg_indexes_size(relid)), 0) FROM pg_partition_tree(%s) "
                    "WHERE isleaf",
                    [oid],
                ).fetchone()
                assert part is not None
                total, idx = part
            count = conn.execute(f'SELECT count(*) FROM {schema}."{name}"').fetchone()
            out[str(name)] = {
                "rows": int(count[0]) if count else 0,
                "bytes": int(total),
                "index_bytes": int(idx),
            }
    return out


# ---------------------------------------------------------------------- convergence
def live_rows(path: str) -> dict[str, dict[str, dict[str, Any]]]:
    """A laptop's live records by table and id."""
    from fieldlog.db.store import Store

    out: dict[str, dict[str, dict[str, Any]]] = {}
    with Store.open(path) as s:
        for table in TABLES:
            cur = s.conn.execute(f"SELECT * FROM {table} WHERE deleted = 0")
            names = [d[0] for d in cur.description]
            out[table] = {r[0]: dict(zip(names, r, strict=True)) for r in cur.fetchall()}
    return out


def server_rows(
    server: PgServer, db: str, agency: str, unit: str | None
) -> tuple[dict[str, dict[str, dict[str, Any]]], dict[str, set[str]]]:
    """The current-state rows a laptop of ``unit`` sees (every unit's when None) and each
    table's text columns."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    text_cols: dict[str, set[str]] = {}
    with server.admin_connect(db) as conn:
        for table in TABLES:
            cols = conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = "
                "'fieldlog' AND table_name = %s AND data_type = 'text'",
                [table],
            ).fetchall()
            text_cols[table] = {c[0] for c in cols}
            where, params = "agency = %s", [agency]
            if unit is not None and table != "organizations":
                where += " AND unit = %s"
                params.append(unit)
            cur = conn.execute(f"SELECT * FROM fieldlog.{table} WHERE {where}", params)
            assert cur.description is not None
            names = [d[0] for d in cur.description]
            out[table] = {r[names.index("id")]: dict(zip(names, r, strict=True)) for r in cur}
    return out, text_cols


def compare(a: dict, b: dict, cols: dict[str, set[str]] | None) -> str | None:
    """None when ``a`` and ``b`` hold the same records (on ``cols`` per table, or on every
    column ``a`` has); else the first difference, in one line."""
    for table in TABLES:
        ta, tb = a.get(table, {}), b.get(table, {})
        if set(ta) != set(tb):
            only_a, only_b = set(ta) - set(tb), set(tb) - set(ta)
            return f"{table}: {len(only_a)} only on one side, {len(only_b)} only on the other"
        for rid, row in ta.items():
            other = tb[rid]
            names = (cols[table] if cols is not None else set(row)) & set(row) & set(other)
            for c in sorted(names - SKIP):
                if row[c] != other[c]:
                    return f"{table} {rid[:8]} {c}: {row[c]!r} != {other[c]!r}"
    return None


def convergence(
    server: PgServer, db: str, laps: list[Laptop], sup: Laptop | None, dept: bool
) -> dict[str, Any]:
    problems: list[str] = []
    by_unit: dict[str | None, list[Laptop]] = {}
    for lap in laps:
        by_unit.setdefault(lap.unit, []).append(lap)
    checked = 0
    for unit, members in by_unit.items():
        first = live_rows(members[0].path)
        if dept:
            rows, cols = server_rows(server, db, AGENCY, unit)
            diff = compare(first, rows, cols)
            if diff:
                problems.append(f"laptop {members[0].index} vs fieldlog tables: {diff}")
        for lap in members[1:]:
            diff = compare(first, live_rows(lap.path), None)
            checked += 1
            if diff:
                problems.append(f"laptop {lap.index} vs laptop {members[0].index}: {diff}")
        checked += 1
    if dept and sup is not None:
        rows, cols = server_rows(server, db, AGENCY, None)
        diff = compare(live_rows(sup.path), rows, cols)
        if diff:
            problems.append(f"supervisor's laptop vs fieldlog tables: {diff}")
    records = sum(len(v) for v in live_rows(laps[0].path).values())
    return {"laptops_checked": checked, "ok": not problems, "problems": problems[:5],
            "records_per_laptop_unit0": records}  # fmt: skip


# ---------------------------------------------------------------------- one laptop count
def pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def run_size(
    server: PgServer, tmp: Path, n: int, args: argparse.Namespace, dept: bool,
    pool: ProcessPoolExecutor,
) -> dict[str, Any]:  # fmt: skip
    url = server.fresh_database()
    db = dbname(url)
    folder = tmp / f"n{n}"
    folder.mkdir()
    t0 = time.perf_counter()
    unit_of = (lambda i: f"Unit {i // args.unit_size + 1}") if dept else (lambda i: None)
    sup: Laptop | None = None
    if dept:
        setup_store(server, url, AGENCY)
        if args.subquery_rules:
            subquery_rules(server, db)
        sup_url = enroll(server, url, officer="Sgt Bench", role="supervisor", unit=None,
                         agency=AGENCY)  # fmt: skip
        sup = Laptop(-1, str(folder / "sup.db"), "Sgt Bench", None, sup_url)
        make_laptop(sup)  # the first to register: it founds the trust list
    else:
        sup = Laptop(-1, str(folder / "sup.db"), "Sgt Bench", None, url)
        make_laptop(sup)
    laps = []
    for i in range(n):
        officer = f"Officer {i:03d}"
        lap_url = (
            enroll(server, url, officer=officer, role="officer", unit=unit_of(i), agency=AGENCY)
            if dept
            else url
        )
        laps.append(Laptop(i, str(folder / f"l{i:03d}.db"), officer, unit_of(i), lap_url))
    enrolled = time.perf_counter()
    threads = max(1, args.concurrency // args.workers)
    devices = [d for part in pool.map(make_chunk, chunks(laps, args.workers),
                                      [threads] * args.workers) for d in part]  # fmt: skip
    made = time.perf_counter()
    trust_s = trust_all(sup, devices)
    setup_s = time.perf_counter() - t0

    # rounds
    reset_stats(server, db)
    sampler = Sampler(server, db)
    sampler.start()
    results: list[dict] = []
    rounds = 0
    cpu0 = server_cpu(server)
    start = time.perf_counter()
    while rounds < args.min_rounds or time.perf_counter() - start < args.seconds:
        parts = chunks(laps, args.workers)
        for part in pool.map(run_chunk, parts, [rounds] * len(parts), [args.adds] * len(parts),
                             [threads] * len(parts)):  # fmt: skip
            results.extend(part)
        rounds += 1
        if rounds >= args.max_rounds:
            break
    wall = time.perf_counter() - start
    cpu_s = server_cpu(server) - cpu0
    sampler.halt.set()
    sampler.join()
    costs = statement_costs(server, db)
    funcs = function_costs(server, db)

    # settle: two passes so everything pushed is pulled everywhere, then the supervisor
    settle: list[dict] = []
    for _ in range(2):
        parts = chunks(laps, args.workers)
        for part in pool.map(run_chunk, parts, [-1] * len(parts), [0] * len(parts),
                             [threads] * len(parts)):  # fmt: skip
            settle.extend(part)
    sup_result = laptop_round(sup, -1, 0)
    conv = convergence(server, db, laps, sup, dept)
    conv["settle_errors"] = [r["error"] for r in settle + [sup_result] if r["error"]][:3]
    if conv["settle_errors"]:
        conv["ok"] = False
    stored = sizes(server, db, dept)
    if not args.keep:
        server.drop_database(url)
        shutil.rmtree(folder, ignore_errors=True)

    ok = [r for r in results if r["error"] is None]
    errors = [r["error"] for r in results if r["error"] is not None]
    sync_ms = [r["sync_s"] * 1000 for r in ok]
    pushed = sum(r["pushed"] for r in ok)
    pulled = sum(r["pulled"] for r in ok)

    def ms(kind: str) -> float:
        return float(costs.get(kind, {}).get("ms", 0.0))

    push_ms = ms("insert") + ms("push_other")
    busy_ms = sum(v["ms"] for k, v in costs.items() if k != "push_lock")
    return {
        "laptops": n,
        "units": len({lap.unit for lap in laps}),
        "rounds": rounds,
        "seconds": round(wall, 1),
        "setup_s": {
            "enroll": round(enrolled - t0, 1),
            "logs": round(made - enrolled, 1),
            "trust": round(trust_s, 1),
            "total": round(setup_s, 1),
        },  # fmt: skip
        "syncs": len(results),
        "errors": len(errors),
        "first_errors": errors[:3],
        "syncs_per_s": round(len(ok) / wall, 2) if wall else 0.0,
        "sync_ms": {
            "p50": round(pct(sync_ms, 0.5), 1),
            "p99": round(pct(sync_ms, 0.99), 1),
            "max": round(max(sync_ms, default=0.0), 1),
            "mean": round(statistics.fmean(sync_ms), 1) if sync_ms else 0.0,
        },
        "add_ms_p50": round(pct([r["add_s"] * 1000 for r in ok], 0.5), 1),
        "laptop_cpu_ms_p50": round(pct([r["cpu_s"] * 1000 for r in ok], 0.5), 1),
        "pushed": pushed,
        "pulled": pulled,
        "quarantined_max": max((r.get("quarantined", 0) for r in ok), default=0),
        "seq_problems": sorted({p for r in ok for p in r.get("problems", [])})[:3],
        "locks": {
            **sampler.figures(),
            "push_lock_ms_total": costs.get("push_lock", {}).get("ms", 0.0),
            "push_lock_ms_per_push": round(
                costs.get("push_lock", {}).get("ms", 0.0)
                / max(costs.get("push_lock", {}).get("calls", 0), 1),
                2,
            ),
        },
        "server": {
            "ms_per_change": round(push_ms / pushed, 3) if pushed else None,
            "cpu_ms_per_change": round(cpu_s * 1000 / pushed, 3) if pushed else None,
            "cpu_ms_per_sync": round(cpu_s * 1000 / max(len(ok), 1), 2),
            "cpu_share": round(cpu_s / wall / (os.cpu_count() or 1), 3) if wall else None,
            "all_ms_per_change": round(busy_ms / pushed, 3) if pushed else None,
            "per_sync_ms": round((ms("per_sync") + ms("trust")) / max(len(ok), 1), 2),
            "trust_ms_per_sync": round(ms("trust") / max(len(ok), 1), 2),
            "insert_ms_per_change": round(costs.get("insert", {}).get("ms", 0.0) / pushed, 3)
            if pushed
            else None,
            "pull_ms_per_delivered": round(costs.get("pull", {}).get("ms", 0.0) / pulled, 4)
            if pulled
            else None,
            "by_kind": costs,
            "functions": funcs,
        },
        "storage": stored,
        "convergence": conv,
    }


# ---------------------------------------------------------------------- batch size
def batch_costs(server: PgServer, tmp: Path, batches: list[int], repeat: int) -> list[dict]:
    """Server CPU per change when a sync pushes 1, 10, 100 ... contacts (each with a concern:
    two changes) on a connection of its own: what a backend's first use of the merge
    functions costs, amortized over the push."""
    from fieldlog import sync
    from fieldlog.db.remotes.factory import open_remote
    from fieldlog.db.store import Store

    url = server.fresh_database()
    folder = tmp / "batch"
    folder.mkdir()
    out = []
    try:
        setup_store(server, url, AGENCY)
        sup = Laptop(-1, str(folder / "sup.db"), "Sgt Batch", None, "")
        sup.url = enroll(server, url, officer=sup.officer, role="supervisor", unit=None,
                         agency=AGENCY)  # fmt: skip
        make_laptop(sup)
        with Store.open(sup.path) as s:
            for n in batches:
                cpu, wall, changes = 0.0, 0.0, 0
                for r in range(repeat):
                    for j in range(n):
                        s.contacts.add(
                            {"summary": f"batch {n} {r} {j}", "neighborhood": "B"},
                            concerns=[{"category": "noise", "description": "b"}],
                        )
                    before, start = server_cpu(server), time.perf_counter()
                    remote = open_remote(sup.url)
                    try:
                        got = sync.sync_with(s, remote)
                    finally:
                        remote.close()
                    time.sleep(0.05)  # the backend exits and is reaped
                    wall += time.perf_counter() - start
                    cpu += server_cpu(server) - before
                    changes += got.pushed
                out.append({
                    "contacts_per_sync": n,
                    "changes": changes,
                    "server_cpu_ms_per_change": round(cpu * 1000 / changes, 3) if changes else None,
                    "server_cpu_ms_per_sync": round(cpu * 1000 / repeat, 1),
                    "sync_ms": round(wall * 1000 / repeat, 1),
                })  # fmt: skip
    finally:
        server.drop_database(url)
    return out


# ---------------------------------------------------------------------- storage, replay
def storage_figures(server: PgServer, tmp: Path, contacts: int) -> dict[str, Any]:
    """One laptop with ``contacts`` demo contacts (their concerns, referrals, partners)
    pushes them to a new store: the push's time, the bytes per change and per live record
    of every table (indexes included), and the time of ``fieldlog.replay()`` (what setup
    runs on an upgraded store: every change folded again)."""
    from fieldlog import demo

    url = server.fresh_database()
    db = dbname(url)
    folder = tmp / "storage"
    folder.mkdir()
    try:
        setup_store(server, url, AGENCY)
        sup = Laptop(-1, str(folder / "sup.db"), "Sgt Storage", None, "")
        sup.url = enroll(server, url, officer=sup.officer, role="supervisor", unit=None,
                         agency=AGENCY)  # fmt: skip
        make_laptop(sup)
        from fieldlog.db.store import Store

        with Store.open(sup.path) as s:
            demo.fill(s, contacts, seed=5)
        start, cpu = time.perf_counter(), server_cpu(server)
        got = laptop_round(sup, -1, 0)
        push_s, push_cpu = time.perf_counter() - start, server_cpu(server) - cpu
        if got["error"]:
            return {"error": got["error"]}
        stored = sizes(server, db, True)
        with server.admin_connect(db) as conn:
            conn.execute("VACUUM ANALYZE")
        stored = sizes(server, db, True)
        with server.admin_connect(db) as conn:
            start = time.perf_counter()
            row = conn.execute("SELECT fieldlog.replay()").fetchone()
            replay_s = time.perf_counter() - start
        changes = stored["fieldlog_changes"]["rows"]
        live = sum(stored[t]["rows"] for t in TABLES)
        return {
            "contacts": contacts,
            "changes": changes,
            "live_records": live,
            "push_s": round(push_s, 1),
            "push_server_cpu_s": round(push_cpu, 1),
            "replay_s": round(replay_s, 1),
            "replayed": int(row[0]) if row else 0,
            "bytes_per_change": {
                k: round(v["bytes"] / changes) for k, v in stored.items() if changes
            },
            "index_bytes_per_change": {
                k: round(v["index_bytes"] / changes) for k, v in stored.items() if changes
            },
            "tables": stored,
        }
    finally:
        server.drop_database(url)


# ---------------------------------------------------------------------- a long history
PROBE_SQL = {
    # what a sync runs that reads the history (rows.Backend.check_seq: the maintained count
    # minus the rows above the cursor; the pull: one index per branch of the read policy)
    "check_seq at the counter (seq_report)": "SELECT * FROM fieldlog.seq_report(%(top)s)",
    "check_seq 1000 back (seq_report)": "SELECT * FROM fieldlog.seq_report(%(back)s)",
    "pull after a cursor 1000 back": (
        "SELECT seq, body FROM fieldlog.pull_changes(%(back)s, %(top)s, 2000) ORDER BY seq"
    ),
    "pull after a cursor a tenth back": (
        "SELECT seq, body FROM fieldlog.pull_changes(%(tenth)s, %(top)s, 2000) ORDER BY seq"
    ),
    # layout 1's pull, for comparison: the policy filters every new row of the agency
    "pull a tenth back, policy as filter": (
        "SELECT seq, body FROM fieldlog.fieldlog_changes WHERE seq > %(tenth)s "
        "AND seq <= %(top)s ORDER BY seq LIMIT 2000"
    ),
}


def subquery_rules(server: PgServer, db: str) -> int:
    """Every row-level security policy of the store with each ``fieldlog.my_*()`` call in a
    scalar subquery (``(SELECT fieldlog.my_unit())``): PostgreSQL then computes it once per
    statement (an InitPlan) instead of once per row. A suggestion measured, not the store's
    DDL (roles.py's). Returns how many policies it changed."""

    def wrap(expr: str | None) -> str | None:
        if expr is None:
            return None
        return re.sub(r"(?<!SELECT )(fieldlog\.my_\w+\(\))", r"(SELECT \1)", expr)

    changed = 0
    with server.admin_connect(db) as conn:
        pols = conn.execute(
            "SELECT policyname, tablename, qual, with_check FROM pg_policies "
            "WHERE schemaname = 'fieldlog'"
        ).fetchall()
        for name, table, qual, check in pols:
            parts = []
            if qual and wrap(qual) != qual:
                parts.append(f"USING ({wrap(qual)})")
            if check and wrap(check) != check:
                parts.append(f"WITH CHECK ({wrap(check)})")
            if parts:
                conn.execute(f'ALTER POLICY "{name}" ON fieldlog."{table}" {" ".join(parts)}')
                changed += 1
    return changed


def history_probe(server: PgServer, rows: int, units: int) -> dict[str, Any]:
    """``rows`` synthetic changes of one agency (``units`` units; written with triggers off,
    so not folded), then the statements a sync runs that read the history, timed as an
    officer of one unit (row-level security in the path) and as the owner (none): how a
    no-op sync grows with the store."""
    import psycopg

    url = server.fresh_database()
    db = dbname(url)
    try:
        setup_store(server, url, AGENCY)
        officer_url = enroll(server, url, officer="Officer Probe", role="officer",
                             unit="Unit 1", agency=AGENCY)  # fmt: skip
        body = json.dumps({"officer": "x", "values": {"summary": "y" * 400}, "clocks": {}})
        start = time.perf_counter()
        with server.admin_connect(db) as conn:
            conn.execute("SET session_replication_role = replica")  # no triggers
            conn.execute(  # 500 devices, each its officer's login; the record columns as
                # fieldlog_record sets them (the record's unit and officer: the pusher's)
                "INSERT INTO fieldlog.fieldlog_changes (agency, unit, seq, origin, origin_seq, "
                "tbl, row_id, hlc, body, sig, pushed_by, record_unit, record_officer) "
                "SELECT %s, 'Unit ' || (g %% %s + 1), g, 'dev' || (g %% 500), g, 'contacts', "
                "md5(g::text), '0', %s, repeat('s', 88), 'fl_x' || (g %% 500), "
                "'Unit ' || (g %% %s + 1), 'Officer ' || (g %% 500) FROM generate_series(1, %s) g",
                [AGENCY, units, body, units, rows],
            )
            conn.execute(  # the agency's counter and count (the count triggers were off)
                "UPDATE fieldlog.counters SET seq = %s, rows = %s WHERE agency = %s",
                [rows, rows, AGENCY],
            )
            conn.execute("VACUUM ANALYZE fieldlog.fieldlog_changes")
        filled = time.perf_counter() - start
        params = {"top": rows, "back": rows - 1000, "tenth": rows - rows // 10}
        out: dict[str, Any] = {"rows": rows, "units": units, "fill_s": round(filled, 1)}
        for who, who_url in (("officer", officer_url), ("owner", url), ("fixed", officer_url)):
            if who == "fixed":
                subquery_rules(server, db)
            with psycopg.connect(who_url, autocommit=True) as conn:
                for name, sql in PROBE_SQL.items():
                    best = float("inf")
                    for _ in range(3):
                        t0 = time.perf_counter()
                        conn.execute(sql, params).fetchall()
                        best = min(best, time.perf_counter() - t0)
                    out.setdefault(name, {})[who] = round(best * 1000, 1)
        return out
    finally:
        server.drop_database(url)


# ---------------------------------------------------------------------- isolation
def isolation(server: PgServer, tmp: Path) -> dict[str, Any]:
    """Three agencies in one database: each officer reads only their agency's rows, and a
    push naming another agency is refused."""
    import psycopg

    from fieldlog import sync
    from fieldlog.db.remotes.factory import open_remote
    from fieldlog.db.store import Store

    agencies = ["County Sheriff", "City Police", "Transit Police"]
    url = server.fresh_database()
    folder = tmp / "agencies"
    folder.mkdir()
    failures: list[str] = []
    urls: dict[str, str] = {}
    sups: dict[str, str] = {}
    devices: dict[str, str] = {}
    partitions: dict[str, dict[str, int]] = {}
    try:
        for agency in agencies:
            setup_store(server, url, agency)
        for k, agency in enumerate(agencies):
            # The agency's supervisor founds its trust list, then trusts the officer's laptop.
            sup = Laptop(-1, str(folder / f"s{k}.db"), f"Sgt {k}", None, "")
            sup.url = enroll(server, url, officer=sup.officer, role="supervisor", unit=None,
                             agency=agency)  # fmt: skip
            lap = Laptop(k, str(folder / f"a{k}.db"), f"Deputy {k}", "North", "")
            lap.url = enroll(server, url, officer=lap.officer, role="officer", unit="North",
                             agency=agency)  # fmt: skip
            urls[agency] = lap.url
            sups[agency] = sup.url
            make_laptop(sup)
            dev = make_laptop(lap)
            devices[agency] = dev["device"]
            trust_all(sup, [dev])
            for who in (sup, lap):
                with Store.open(who.path) as s:
                    s.contacts.add(
                        {"summary": f"{agency} by {who.officer}", "neighborhood": "Downtown"},
                        concerns=[{"category": "youth", "description": agency}],
                    )
                    remote = open_remote(who.url)
                    try:
                        sync.sync_with(s, remote)
                    finally:
                        remote.close()
        for k, agency in enumerate(agencies):
            mine, both = f"{agency} by Deputy {k}", f"{agency} by Sgt {k}"
            # The officer sees their unit's rows (the supervisor, of no unit, made the other).
            for path, who_url, want in (
                (folder / f"a{k}.db", urls[agency], {mine}),
                (folder / f"s{k}.db", sups[agency], {mine, both}),
            ):
                with Store.open(path) as s:  # pulls what its login may see
                    remote = open_remote(who_url)
                    try:
                        sync.sync_with(s, remote)
                    finally:
                        remote.close()
                    seen = {r[0] for r in s.conn.execute("SELECT summary FROM contacts")}
                if seen != want:
                    failures.append(f"{agency}'s laptop {path.name} holds {sorted(seen)}")
        checks = [
            ("fieldlog.fieldlog_changes", "agency"),
            ("fieldlog.state", "agency"),
            ("fieldlog.contacts", "agency"),
            ("fieldlog.concerns", "agency"),
        ]
        for agency, login_url in [(a, u) for a in agencies for u in (urls[a], sups[a])]:
            who = login_url.split("//", 1)[1].split(":", 1)[0]
            with psycopg.connect(login_url, autocommit=True) as conn:
                for table, col in checks:
                    try:
                        rows = conn.execute(f"SELECT DISTINCT {col} FROM {table}").fetchall()
                    except psycopg.Error as exc:
                        failures.append(
                            f"{who} ({agency}) cannot read {table}: {exc}".splitlines()[0]
                        )
                        continue
                    got = {r[0] for r in rows}
                    if got != {agency}:
                        failures.append(f"{who} ({agency}) reads {table} rows of {sorted(got)}")
                for table in ("fieldlog.fieldlog_trust", "fieldlog.fieldlog_heads"):
                    n = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
                    total = server.execute(url, f"SELECT count(*) FROM {table}")[0][0]
                    if n is None or not 0 < n[0] < total:
                        seen_n = n[0] if n else 0
                        failures.append(f"{who} ({agency}) reads {seen_n} of {total} of {table}")
            if login_url == urls[agency]:
                k = agencies.index(agency)
                failures += cross_push(
                    login_url, who, f"Deputy {k}", agency, agencies, devices[agency]
                )
        # How many agencies' partitions an officer's pull reads: with the policy's
        # my_agency() called per row, every partition; in a subquery, only its own.
        for label in ("as set up", "with subqueries"):
            if label == "with subqueries":
                subquery_rules(server, dbname(url))
            with psycopg.connect(urls[agencies[0]], autocommit=True) as conn:
                plan = conn.execute(
                    "EXPLAIN (ANALYZE, COSTS OFF, FORMAT JSON) SELECT seq FROM "
                    "fieldlog.fieldlog_changes WHERE seq > 0 ORDER BY seq LIMIT 2000"
                ).fetchone()
            nodes = list(plan_nodes(plan[0] if plan else []))
            mine = [n for n in nodes if str(n.get("Relation Name", "")).startswith(
                "fieldlog_changes_a_")]  # fmt: skip
            partitions[label] = {
                "in_plan": len(mine),
                "executed": sum(1 for n in mine if n.get("Actual Loops", 0) > 0),
            }
    except Exception as exc:
        failures.append(f"{type(exc).__name__}: {exc}".splitlines()[0])
    finally:
        server.drop_database(url)
    return {"agencies": agencies, "ok": not failures, "failures": failures,
            "partitions": partitions}  # fmt: skip


def plan_nodes(plan: Any) -> Iterator[dict]:
    """Every node of an EXPLAIN (FORMAT JSON) plan."""
    if isinstance(plan, list):
        for p in plan:
            yield from plan_nodes(p)
    elif isinstance(plan, dict):
        if "Node Type" in plan:
            yield plan
        for key in ("Plan", "Plans"):
            if key in plan:
                yield from plan_nodes(plan[key])


def cross_push(
    url: str, who: str, officer: str, agency: str, agencies: list[str], device: str
) -> list[str]:
    """An officer's row naming another agency is refused; the same row naming their own
    (the control, rolled back) is not, so the refusal is about the agency."""
    import psycopg

    insert = (
        "INSERT INTO fieldlog.fieldlog_changes (agency, unit, seq, origin, origin_seq, tbl, "
        "row_id, hlc, body) VALUES (%s, 'North', %s, %s, 900000, 'contacts', %s, "
        "'0000000000000-0000-000000000000', %s)"
    )
    # The number fieldlog.allocate hands out in the same transaction (a push may use no other)
    allocate = "SELECT seq FROM fieldlog.allocate(%s, ARRAY[900000]::bigint[])"
    body = json.dumps({"officer": officer, "values": {"summary": "probe"}, "clocks": {}})
    out: list[str] = []
    with psycopg.connect(url) as conn:
        for target in [agency] + [a for a in agencies if a != agency]:
            try:
                row = conn.execute(allocate, [device]).fetchone()
                conn.execute(insert, [target, row[0] if row else 0, device, "0" * 32, body])
                if target != agency:
                    out.append(f"{who} ({agency}) could push a row into {target}")
            except psycopg.Error as exc:
                if target == agency:
                    first = str(exc).splitlines()[0]
                    out.append(f"(probe) {who}'s control row in its own agency refused: {first}")
            conn.rollback()
    return out


# ---------------------------------------------------------------------- main
def report(out: dict[str, Any]) -> None:
    runs = out["runs"]
    base = runs[0]["server"]["ms_per_change"] if runs else None
    cpu_base = runs[0]["server"]["cpu_ms_per_change"] if runs else None
    print(
        f"fieldlog department store bench, {out['mode']} mode"
        f"{' (policies with subqueries)' if out['args'].get('subquery_rules') else ''}, fsync "
        f"{'on' if out['fsync'] else 'off'}, {out['machine']}, {out['date']}"
    )
    for r in runs:
        s, lk, c = r["server"], r["locks"], r["convergence"]
        ratio = (
            f"{s['ms_per_change'] / base:.2f}x" if base and s["ms_per_change"] is not None else "-"
        )
        cpu = s["cpu_ms_per_change"]
        cpu_ratio = f"{cpu / cpu_base:.2f}x" if cpu_base and cpu is not None else "-"
        print(
            f"\n{r['laptops']} laptops ({r['units']} units), {r['rounds']} rounds in "
            f"{r['seconds']} s (setup {r['setup_s']['total']} s)\n"
            f"  syncs: {r['syncs']} ({r['errors']} failed), {r['syncs_per_s']}/s; sync time "
            f"p50 {r['sync_ms']['p50']} ms, p99 {r['sync_ms']['p99']} ms, "
            f"max {r['sync_ms']['max']} ms\n"
            f"  changes pushed {r['pushed']}, delivered {r['pulled']}; laptop CPU per sync "
            f"p50 {r['laptop_cpu_ms_p50']} ms\n"
            f"  locks: a backend waiting in {lk['share_waiting'] * 100:.1f}% of "
            f"{lk['samples']} samples (most at once {lk['max_waiting']}, advisory "
            f"{lk['max_advisory']}, on a row lock {lk['max_row_lock']} at most and in "
            f"{lk['share_row_lock'] * 100:.1f}% of samples); push lock (department: "
            f"fieldlog.allocate, the counter row) {lk['push_lock_ms_per_push']} ms per push, "
            f"{lk['push_lock_ms_total']} ms in all\n"
            f"  server per pushed change: {s['ms_per_change']} ms (INSERT with apply "
            f"{s['insert_ms_per_change']} ms), ratio to {runs[0]['laptops']} laptops: {ratio}\n"
            f"  server CPU: {s['cpu_ms_per_change']} ms per pushed change, ratio "
            f"{cpu_ratio}; {s['cpu_ms_per_sync']} ms per sync; "
            f"{(s['cpu_share'] or 0) * 100:.0f}% of the machine\n"
            f"  server per sync (trust list, checks, meta): {s['per_sync_ms']} ms (trust "
            f"{s['trust_ms_per_sync']} ms); pull {s['pull_ms_per_delivered']} ms per change "
            f"delivered; everything over the pushed changes {s['all_ms_per_change']} ms\n"
            f"  convergence: {'PASS' if c['ok'] else 'FAIL'} ({c['laptops_checked']} laptops"
            f"{', supervisor' if out['mode'] == 'dept' else ''})"
        )
        for p in c["problems"] + c.get("settle_errors", []) + r["first_errors"]:
            print(f"    {p}")
        for p in r["seq_problems"]:
            print(f"    sync said: {p}")
    if out.get("batches"):
        repeat = out["args"]["batch_repeat"]
        print("\nserver CPU per change by push size (one laptop, a connection per sync):")
        for b in out["batches"]:
            print(
                f"  {b['contacts_per_sync']:>5} contacts a sync ({b['changes'] // repeat} "
                f"changes): {b['server_cpu_ms_per_sync']} ms a sync, "
                f"{b['server_cpu_ms_per_change'] or '-'} ms per change; sync {b['sync_ms']} ms"
            )
    h = out.get("history")
    if h:
        print(
            f"\na history of {h['rows']:,} changes ({h['units']} units; best of 3, ms, as an "
            "officer of one unit / as the owner / as the officer with the rule's my_*() in "
            "subqueries):"
        )
        for name in PROBE_SQL:
            print(f"  {name}: {h[name]['officer']} / {h[name]['owner']} / {h[name]['fixed']}")
    st = out.get("storage")
    if st and "error" not in st:
        per = st["bytes_per_change"]
        idx = st["index_bytes_per_change"]
        total = sum(per.values())
        print(
            f"\nstorage: {st['contacts']} demo contacts = {st['changes']} changes, "
            f"{st['live_records']} live records; pushed in {st['push_s']} s (server CPU "
            f"{st['push_server_cpu_s']} s); {total} bytes per change in all (change log "
            f"{per.get('fieldlog_changes')}, of it indexes {idx.get('fieldlog_changes')}; "
            f"state {per.get('state')}; typed tables "
            f"{sum(per.get(t, 0) for t in TABLES)}); replay {st['replay_s']} s"
        )
    elif st:
        print(f"\nstorage: {st['error']}")
    iso = out.get("isolation")
    if iso is not None:
        print(f"\n3-agency isolation: {'PASS' if iso['ok'] else 'FAIL'}")
        for f in iso["failures"]:
            print(f"    {f}")
        for label, p in iso.get("partitions", {}).items():
            print(
                f"  an officer's pull, policies {label}: {p['in_plan']} agency partitions in "
                f"the plan, {p['executed']} of them executed"
            )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--laptops", type=int, nargs="*", default=[10, 50], help="none: only isolation")
    ap.add_argument("--seconds", type=float, default=15.0, help="rounds budget per count")
    ap.add_argument("--min-rounds", type=int, default=2)
    ap.add_argument("--max-rounds", type=int, default=1000)
    ap.add_argument("--adds", type=int, default=2, help="contacts per laptop per round")
    ap.add_argument("--unit-size", type=int, default=10, help="officers per unit")
    ap.add_argument("--workers", type=int, default=2, help="laptop processes")
    ap.add_argument("--concurrency", type=int, default=8, help="syncs in flight at once")
    ap.add_argument("--plain", action="store_true", help="plain PostgreSQL remote, no dept")
    ap.add_argument("--no-isolation", action="store_true")
    ap.add_argument(
        "--subquery-rules",
        action="store_true",
        help="run the laptops with the policies' my_*() calls in scalar subqueries",
    )
    ap.add_argument("--batches", type=int, nargs="*", default=[0, 1, 10, 100],
                    help="contacts per sync for the batch-size figures (none: skip)")  # fmt: skip
    ap.add_argument("--batch-repeat", type=int, default=3)
    ap.add_argument(
        "--history",
        type=int,
        default=50_000,
        help="synthetic changes for the long-history figures (0: skip)",
    )
    ap.add_argument("--history-units", type=int, default=50)  # fmt: skip
    ap.add_argument("--storage", type=int, default=2000,
                    help="demo contacts for the storage and replay figures (0: skip)")  # fmt: skip
    ap.add_argument("--fsync", action="store_true", help="run the server with fsync on")
    ap.add_argument("--keep", action="store_true", help="keep the databases and logs")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    dept = not args.plain and dept_available()
    BenchServer.max_connections = max(100, args.concurrency + 60)
    tmp = Path(tempfile.mkdtemp(prefix="fieldlog-bench-dept-"))
    server = BenchServer.start(fsync=args.fsync)
    out: dict[str, Any] = {
        "mode": "dept" if dept else "plain",
        "fsync": args.fsync,
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{os.cpu_count()} cores, Python {platform.python_version()}, "
        f"load {os.getloadavg()[0]:.1f} at start",
        "args": {k: v for k, v in vars(args).items() if k != "json"},
        "runs": [],
    }
    import multiprocessing

    try:
        with server.admin_connect() as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=args.workers, mp_context=ctx) as pool:
            for n in args.laptops:
                out["runs"].append(run_size(server, tmp, n, args, dept, pool))
                if not args.json:
                    print(f"... {n} laptops done", file=sys.stderr)
        if dept and args.history:
            out["history"] = history_probe(server, args.history, args.history_units)
        if dept and args.storage:
            out["storage"] = storage_figures(server, tmp, args.storage)
        if dept and args.batches:
            out["batches"] = batch_costs(server, tmp, args.batches, args.batch_repeat)
        if dept and not args.no_isolation:
            out["isolation"] = isolation(server, tmp)
    finally:
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    out["machine"] += f", load {os.getloadavg()[0]:.1f} at end"
    if args.json:
        print(json.dumps(out, indent=2, default=str))
    else:
        report(out)
    failed = any(r["errors"] or not r["convergence"]["ok"] for r in out["runs"])
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
