"""Benchmark: the cost of encryption at rest, encrypted vs plain, in one run.

    .venv/bin/python bench/bench_crypto.py                      # 100,000 contacts
    .venv/bin/python bench/bench_crypto.py --db /tmp/log100k.db  # reuse a plain demo log
    .venv/bin/python bench/bench_crypto.py --add-runs 21 --export-runs 5 --json

Three figures, each encrypted vs plain with the runs alternated (so drift in machine load hits
both alike) and medians compared:

1. ``fieldlog add`` (a new process per run, as bench/bench_add.py: a two-line launcher, cached
   bytecode in a temp ``PYTHONPYCACHEPREFIX``, 3 untimed warm-ups each) on a small log.
2. ``fieldlog export contacts --out FILE`` of a 100,000-contact demo log (wall time and peak
   RSS through ``os.wait4``); the encrypted log is the same log put through ``fieldlog
   encrypt``, so both hold the same pages. Both outputs are checked byte-identical.
3. ``Store.open`` in this process (what a command pays before its first query: for an
   encrypted log SQLCipher's key derivation, PBKDF2-HMAC-SHA512 with 256,000 iterations).

The passphrase comes from ``FIELDLOG_PASSPHRASE`` in the children's environment. Figures only:
it exits 0 unless a command fails.
"""

from __future__ import annotations

import argparse
import filecmp
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

PASSPHRASE = "bench passphrase"
LAUNCHER = "from fieldlog.cli import main\n\nmain()\n"
ADD_ARGS = ["Met the owner of the corner store", "--hood", "Eastside", "--concern",
            "noise:late music", "--tag", "bench"]  # fmt: skip
WARMUPS = 3


def child_env(tmp: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(tmp / "pycache")
    env.pop("FIELDLOG_PASSPHRASE", None)
    return env


def timed(cmd: list[str], env: dict[str, str], out: Path | None = None) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one child (stdout to ``out`` or discarded)."""
    with open(out or os.devnull, "wb") as fh:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.PIPE, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
    err = proc.stderr.read().decode() if proc.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"failed: {' '.join(cmd)}\n{err}")
    return wall, usage.ru_maxrss / 1024


def figures(plain: list[float], enc: list[float]) -> dict[str, Any]:
    pairs = [e / p for p, e in zip(plain, enc, strict=True)]
    return {
        "runs": len(plain),
        "plain_median": statistics.median(plain),
        "encrypted_median": statistics.median(enc),
        "plain_min": min(plain),
        "encrypted_min": min(enc),
        "ratio_of_medians": statistics.median(enc) / statistics.median(plain),
        "median_pair_ratio": statistics.median(pairs),
    }


def bench_add(tmp: Path, env: dict[str, str], runs: int) -> dict[str, Any]:
    launcher = tmp / "run_fieldlog.py"
    launcher.write_text(LAUNCHER)
    plain, enc = tmp / "add-plain.db", tmp / "add-enc.db"
    enc_env = {**env, "FIELDLOG_PASSPHRASE": PASSPHRASE}
    py = [sys.executable, str(launcher)]
    timed([*py, "--db", str(plain), "init", "--officer", "Bench"], env)
    timed([*py, "--db", str(enc), "init", "--officer", "Bench", "--encrypt"], enc_env)
    cmd_plain = [*py, "--db", str(plain), "add", *ADD_ARGS]
    cmd_enc = [*py, "--db", str(enc), "add", *ADD_ARGS]
    for _ in range(WARMUPS):
        timed(cmd_plain, env)
        timed(cmd_enc, enc_env)
    p_times, e_times = [], []
    for _ in range(runs):
        p_times.append(timed(cmd_plain, env)[0])
        e_times.append(timed(cmd_enc, enc_env)[0])
    return figures(p_times, e_times)


def bench_export(
    tmp: Path, env: dict[str, str], runs: int, contacts: int, db: Path | None
) -> dict[str, Any]:
    fl = [sys.executable, "-m", "fieldlog"]
    plain = tmp / "export-plain.db"
    made = 0.0
    if db is not None and db.exists():
        shutil.copyfile(db, plain)
    else:
        start = time.perf_counter()
        timed([*fl, "--db", str(plain), "demo", "--contacts", str(contacts), "--yes"], env)
        made = time.perf_counter() - start
        if db is not None:
            shutil.copyfile(plain, db)
    enc = tmp / "export-enc.db"
    shutil.copyfile(plain, enc)
    enc_env = {**env, "FIELDLOG_PASSPHRASE": PASSPHRASE}
    start = time.perf_counter()
    timed([*fl, "--db", str(enc), "encrypt"], enc_env)
    encrypt_s = time.perf_counter() - start
    out_p, out_e = tmp / "plain.csv", tmp / "enc.csv"
    cmd_p = [*fl, "--db", str(plain), "export", "contacts", "--out", str(out_p)]
    cmd_e = [*fl, "--db", str(enc), "export", "contacts", "--out", str(out_e)]
    timed(cmd_p, env)  # warm the page cache for both files
    timed(cmd_e, enc_env)
    p_times, e_times, p_rss, e_rss = [], [], [], []
    for _ in range(runs):
        w, r = timed(cmd_p, env)
        p_times.append(w)
        p_rss.append(r)
        w, r = timed(cmd_e, enc_env)
        e_times.append(w)
        e_rss.append(r)
    same = filecmp.cmp(out_p, out_e, shallow=False)
    rows = sum(1 for _ in open(out_p, encoding="utf-8")) - 1
    return {
        **figures(p_times, e_times),
        "rows": rows,
        "identical_output": same,
        "plain_peak_rss_mb": max(p_rss),
        "encrypted_peak_rss_mb": max(e_rss),
        "log_mb": plain.stat().st_size / 1e6,
        "demo_seconds": made,
        "encrypt_seconds": encrypt_s,
    }


def bench_open(tmp: Path, runs: int) -> dict[str, Any]:
    from fieldlog.db.store import Store

    plain, enc = tmp / "open-plain.db", tmp / "open-enc.db"
    Store.open(plain).close()
    Store.open(enc, passphrase=PASSPHRASE, encrypt=True).close()
    p_times, e_times = [], []
    for _ in range(runs):
        start = time.perf_counter()
        Store.open(plain).close()
        p_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        Store.open(enc, passphrase=PASSPHRASE).close()
        e_times.append(time.perf_counter() - start)
    return figures(p_times, e_times)


def report(r: dict[str, Any]) -> str:
    a, e, o = r["add"], r["export"], r["open"]
    ms = 1000
    return "\n".join(
        [
            f"Encrypted vs plain, Python {r['python']}, {r['cpus']} CPUs, "
            f"sqlcipher {r['sqlcipher']}",
            f"  fieldlog add ({a['runs']} alternated pairs): plain median "
            f"{a['plain_median'] * ms:.0f} ms, encrypted {a['encrypted_median'] * ms:.0f} ms: "
            f"{a['ratio_of_medians']:.2f}x (median pair ratio {a['median_pair_ratio']:.2f}x)",
            f"  export contacts, {e['rows']:,} rows ({e['runs']} alternated pairs): plain "
            f"median {e['plain_median']:.2f} s, encrypted {e['encrypted_median']:.2f} s: "
            f"{e['ratio_of_medians']:.2f}x (median pair ratio {e['median_pair_ratio']:.2f}x); "
            f"peak RSS {e['plain_peak_rss_mb']:.0f} / {e['encrypted_peak_rss_mb']:.0f} MB; "
            f"same bytes: {e['identical_output']}",
            f"  Store.open ({o['runs']} alternated pairs): plain {o['plain_median'] * ms:.1f} ms, "
            f"encrypted {o['encrypted_median'] * ms:.1f} ms "
            f"(+{(o['encrypted_median'] - o['plain_median']) * ms:.0f} ms: key derivation)",
            f"  fieldlog encrypt of the {e['log_mb']:.0f} MB log: {e['encrypt_seconds']:.1f} s"
            + (f"; demo data made in {e['demo_seconds']:.0f} s" if e["demo_seconds"] else ""),
        ]
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--contacts", type=int, default=100_000, help="demo contacts to export")
    ap.add_argument("--db", type=Path, help="a plain demo log to reuse (made and kept if missing)")
    ap.add_argument("--add-runs", type=int, default=15)
    ap.add_argument("--export-runs", type=int, default=3)
    ap.add_argument("--open-runs", type=int, default=15)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    from sqlcipher3 import dbapi2

    probe = dbapi2.connect(":memory:")
    cipher = probe.execute("PRAGMA cipher_version").fetchone()[0]
    probe.close()

    with tempfile.TemporaryDirectory(prefix="fieldlog-bench-crypto-") as t:
        tmp = Path(t)
        env = child_env(tmp)
        try:
            result = {
                "python": platform.python_version(),
                "cpus": os.cpu_count(),
                "sqlcipher": f"{cipher} (SQLite {dbapi2.sqlite_version})",
                "add": bench_add(tmp, env, args.add_runs),
                "export": bench_export(tmp, env, args.export_runs, args.contacts, args.db),
                "open": bench_open(tmp, args.open_runs),
            }
        except RuntimeError as exc:
            sys.stderr.write(f"{exc}\n")
            return 1
    print(json.dumps(result, indent=2) if args.json else report(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
