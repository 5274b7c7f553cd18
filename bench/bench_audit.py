"""What the audit chain costs: fieldlog with its audit hook against the same fieldlog with the
hook switched off (monkeypatched to do nothing), in one run.

Measured, each as a fresh ``python`` process through a small launcher:

- ``fieldlog add`` (one contact with a concern and a referral), N alternated pairs;
- ``fieldlog demo --contacts 100000`` (the bulk insert path), into two fresh logs;
- ``fieldlog export contacts`` of those 100,000 contacts (the audit table makes the file
  bigger; the export reads none of it);
- ``fieldlog import`` of that export into two fresh logs (the per-row write path);
- ``fieldlog verify`` of the audited 100,000-contact log (for information: it has no
  "without" side).

    .venv/bin/python bench/bench_audit.py               # 15 add pairs, 100,000 contacts
    .venv/bin/python bench/bench_audit.py --contacts 20000 --runs 7
    .venv/bin/python bench/bench_audit.py --json
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

LAUNCHER = """\
import sys
if sys.argv.pop(1) == "off":
    import fieldlog.db.audit as audit
    audit.record = lambda *a, **k: 0           # _Tx.finish: the per-write entries
    audit.append_inserted = lambda *a, **k: 0  # Tx.insert_many: demo's bulk entries
from fieldlog.cli import main
sys.argv[0] = "fieldlog"
main()
"""

ADD = ["add", "Met the owner of the corner store", "--hood", "Eastside", "--concern",
       "noise:late music", "--refer", "Parks Dept:lights", "--tag", "bench"]  # fmt: skip


def run(launcher: Path, side: str, db: Path, *args: str, env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, str(launcher), side, "--db", str(db), *args],
        capture_output=True,
        text=True,
        env=env,
    )
    took = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"fieldlog {' '.join(args)} ({side}) failed:\n{proc.stderr}")
    return took


def size_mb(db: Path) -> float:
    total = sum(p.stat().st_size for p in db.parent.glob(db.name + "*") if p.is_file())
    return total / 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=15, help="add pairs (default 15)")
    ap.add_argument("--contacts", type=int, default=100_000, help="demo size (default 100000)")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    ap.add_argument("--keep", action="store_true", help="keep the temp folder (logs, CSV)")
    opts = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench_audit_"))
    launcher = tmp / "launch.py"
    launcher.write_text(LAUNCHER)
    env = {**os.environ, "PYTHONPYCACHEPREFIX": str(tmp / "pycache"), "FIELDLOG_HOME": str(tmp)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("FIELDLOG_DB", None)
    logs = {side: tmp / side / "log.db" for side in ("on", "off")}
    figures: dict[str, dict[str, float]] = {}

    def say(text: str) -> None:
        if not opts.json:
            print(text, flush=True)

    # add: N alternated pairs after warm-ups
    for side, db in logs.items():
        db.parent.mkdir()
        run(launcher, side, db, "init", "--officer", "Bench", env=env)
        for _ in range(3):
            run(launcher, side, db, *ADD, env=env)
    times: dict[str, list[float]] = {"on": [], "off": []}
    for _ in range(opts.runs):
        for side in ("on", "off"):
            times[side].append(run(launcher, side, logs[side], *ADD, env=env))
    ratios = [a / b for a, b in zip(times["on"], times["off"], strict=True)]
    figures["add"] = {
        "on_median_s": statistics.median(times["on"]),
        "off_median_s": statistics.median(times["off"]),
        "pair_ratio_median": statistics.median(ratios),
    }
    say(
        f"add ({opts.runs} pairs): with audit {figures['add']['on_median_s'] * 1000:.0f} ms, "
        f"without {figures['add']['off_median_s'] * 1000:.0f} ms, median pair ratio "
        f"{figures['add']['pair_ratio_median']:.2f}x"
    )

    # demo: one big fill per side, into fresh logs
    big = {side: tmp / f"big_{side}" / "log.db" for side in ("on", "off")}
    demo: dict[str, float] = {}
    for side in ("off", "on"):
        big[side].parent.mkdir()
        run(launcher, side, big[side], "init", "--officer", "Bench", env=env)
        demo[side] = run(
            launcher, side, big[side], "demo", "--contacts", str(opts.contacts), env=env
        )
    figures["demo"] = {
        "on_s": demo["on"],
        "off_s": demo["off"],
        "ratio": demo["on"] / demo["off"],
        "on_mb": size_mb(big["on"]),
        "off_mb": size_mb(big["off"]),
    }
    say(
        f"demo --contacts {opts.contacts}: with audit {demo['on']:.1f} s "
        f"({figures['demo']['on_mb']:.0f} MB), without {demo['off']:.1f} s "
        f"({figures['demo']['off_mb']:.0f} MB): {figures['demo']['ratio']:.2f}x"
    )

    # export of those contacts, alternated twice
    exp: dict[str, list[float]] = {"on": [], "off": []}
    for _ in range(2):
        for side in ("off", "on"):
            out = tmp / f"contacts_{side}.csv"
            exp[side].append(
                run(launcher, side, big[side], "export", "contacts", "--out", str(out), env=env)
            )
    figures["export"] = {
        "on_s": min(exp["on"]),
        "off_s": min(exp["off"]),
        "ratio": min(exp["on"]) / min(exp["off"]),
    }
    say(
        f"export contacts ({opts.contacts}): from the audited log {min(exp['on']):.2f} s, "
        f"from the other {min(exp['off']):.2f} s (best of 2): {figures['export']['ratio']:.2f}x"
    )

    # import of the export into fresh logs (the per-row write path)
    imp: dict[str, float] = {}
    for side in ("off", "on"):
        db = tmp / f"imp_{side}" / "log.db"
        db.parent.mkdir()
        run(launcher, side, db, "init", "--officer", "Bench", env=env)
        imp[side] = run(launcher, side, db, "import", str(tmp / "contacts_on.csv"), env=env)
    figures["import"] = {"on_s": imp["on"], "off_s": imp["off"], "ratio": imp["on"] / imp["off"]}
    say(
        f"import of {opts.contacts} contacts: with audit {imp['on']:.1f} s, without "
        f"{imp['off']:.1f} s: {figures['import']['ratio']:.2f}x"
    )

    took = run(launcher, "on", big["on"], "verify", env=env)
    figures["verify"] = {"s": took}
    say(f"verify of the audited {opts.contacts}-contact log: {took:.1f} s")

    if opts.json:
        print(json.dumps(figures, indent=2))
    if opts.keep:
        print(f"kept {tmp}", file=sys.stderr)
    else:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
