"""Benchmark: search on a 1,000,000-contact log, bounded on any word (issue 16, part D).

Measures the in-process query of the TUI's search (``store.search.ranked(word)``, its first
page of 100) and of ``fieldlog search`` (``store.search.hits(word, limit=20)``) for common
words, rare words, one- and two-letter words and several words, each against **the code
before issue 16** in the same run (a copy of its queries below: ``old_ranked`` ranks every hit
with FTS5's ``ORDER BY rank``, prefix from 2 letters; ``old_hits`` is the UNION over the
indexes with ``ORDER BY rank LIMIT 20``, prefix from 1 letter). Target: <= 100 ms for any
word. Printed too, for scale: the **floor**, the unranked ``LIMIT 20`` of each index (what
touching the index costs at all: for a prefix word FTS5 reads every hit of every term it
expands to before the first row), and the hits of each word per index.

Each repeat is a pair, old then new, so drift in machine load hits both alike; one untimed
pair first warms the page cache. Medians are printed, with the median of the per-pair ratios
(old / new). The old query takes seconds on a common word: ``--old-runs`` pairs for those
(default 3), ``--runs`` for the new one alone after them (default 9).

The log is built once per size with ``fieldlog.demo.fill`` (its bulk path; the audit chain is
switched off while building, which search never reads) plus a few rare words
(:data:`RARE`), and kept in ``$TMPDIR/fieldlog-bench/search-N.db`` (reused while its contact
count matches; ``--fresh`` rebuilds it). 1,000,000 contacts: ~2.5 min, 1.8 GB. ``--db`` uses
a log you already have.

Run:  .venv/bin/python bench/bench_search.py [--contacts N] [--runs N] [--old-runs N]
                                            [--words W ...] [--db PATH] [--fresh] [--json]

A benchmark, not a test: it exits 0 whatever the figures (tests/unit/test_bench_search_smoke.py
runs it on a tiny log so it cannot rot).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TARGET_MS = 100.0
# Words the demo data has, by kind (the demo's texts repeat: most of its words are common).
WORDS: list[tuple[str, str]] = [
    ("common", "the"),
    ("common", "street"),
    ("common", "noise"),
    ("common", "with"),
    ("common", "resident"),
    ("rare", "quackenbush"),
    ("rare", "marigold"),
    ("short", "st"),
    ("short", "at"),
    ("short", "ca"),
    ("several", "spoke with"),
    ("several", "broken streetlight"),
    ("several", "kowalski the"),
    ("several", "quackenbush the"),
]
# Rare words added to the demo log: (word, how many contacts). Under search.CANDIDATES, so
# ranked over every hit, as before.
RARE = [("Quackenbush", 5), ("marigold", 400)]


def cached_log(contacts: int, folder: Path, *, fresh: bool = False) -> Path:
    """A demo log of ``contacts`` contacts plus :data:`RARE`, built once and kept in
    ``folder`` (rebuilt when its count does not match, or with ``fresh``). Built under a
    temporary name, then renamed, so an interrupted build is never reused."""
    from fieldlog.db.store import Store

    extra = sum(n for _, n in RARE)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"search-{contacts}.db"
    if path.exists() and not fresh:
        try:
            with Store.open(path) as store:
                if store.contacts.count() == contacts + extra:
                    return path
        except Exception as err:  # noqa: BLE001 - a broken cache is rebuilt
            print(f"rebuilding {path}: {err}", file=sys.stderr)
    for p in [*folder.glob(f"search-{contacts}.db*"), *folder.glob(f"search-{contacts}.part*")]:
        p.unlink()
    part = folder / f"search-{contacts}.part.db"
    print(f"making {contacts:,} demo contacts in {path}…", file=sys.stderr)
    start = time.perf_counter()
    build(part, contacts)
    part.rename(path)
    print(f"  made in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    return path


def build(path: Path, contacts: int) -> None:
    """The demo's bulk fill with the audit chain off (half the file, a third less time),
    then the rare words (:func:`add_rare`)."""
    from fieldlog import demo
    from fieldlog.db import audit
    from fieldlog.db.store import Store

    saved = audit.record, audit.append_inserted
    audit.record = lambda *a, **k: 0  # type: ignore[assignment]
    audit.append_inserted = lambda *a, **k: 0  # type: ignore[assignment]
    try:
        with Store.open(path) as store:
            store.set_officer("Ofc. Bench", "0001", "Eastside")
            demo.fill(store, contacts)
            add_rare(store)
    finally:
        audit.record, audit.append_inserted = saved


def add_rare(store: Any) -> None:
    """Contacts naming each of :data:`RARE`'s words, logged now (the newest records)."""
    import random

    from fieldlog import ids

    rnd = random.Random(16)
    with store.write() as tx:
        rows = []
        for word, n in RARE:
            for _ in range(n):
                row = tx.new_row(ids.uuid7_hex(int(time.time() * 1000), rnd.getrandbits(80)))
                rows.append({**row, "occurred_at": row["created_at"],
                             "summary": f"Talked with {word} about the block party",
                             "neighborhood": "Eastside", "kind": "resident",
                             "tags": []})  # fmt: skip
        tx.insert_many("contacts", rows)


# ---------------------------------------------------------------------------- the old code
def old_ranked(store: Any, text: str, limit: int = 100) -> list[dict[str, Any]]:
    """``Search.ranked`` before issue 16: FTS5 ranks every hit of each index (its queries are
    the new code's exact path), the last word a prefix from two letters."""
    from fieldlog.db import search

    saved = search.PREFIX_MIN
    search.PREFIX_MIN = 2
    store.search._any = lambda r, w: True  # no early exit on a word an index lacks
    try:
        return store.search.ranked(text, limit=limit, every=True)  # type: ignore[no-any-return]
    finally:
        search.PREFIX_MIN = saved
        del store.search._any


def old_hits(store: Any, text: str, limit: int = 20) -> list[dict[str, Any]]:
    """``Search.hits`` before issue 16 (``fieldlog search``): one UNION over the indexes,
    ``ORDER BY rank LIMIT n``, the last word a prefix from one letter."""
    from fieldlog import records
    from fieldlog.db.search import fts_query, hits_sql

    match = fts_query(text, min_prefix=1)
    if match is None:
        return []
    sql = f"{hits_sql(snippets=True)} ORDER BY rank LIMIT {int(limit)}"
    rows = store.query(sql, [match] * len(records.FTS_COLUMNS))
    for r in rows:
        r["short_id"] = store.records.short_id(records.by_noun(r["type"]).table, r["id"])
    return rows  # type: ignore[no-any-return]


def floor(store: Any, text: str) -> int:
    """The unranked first 20 hits of each index: what reading the index costs at all."""
    from fieldlog import records
    from fieldlog.db.search import fts_query

    match = fts_query(text)
    if match is None:
        return 0
    return sum(
        len(store.conn.execute(f"SELECT rowid FROM {t}_fts WHERE {t}_fts MATCH ? LIMIT 20",
                               [match]).fetchall())
        for t in records.FTS_COLUMNS
    )  # fmt: skip


def per_index(store: Any, text: str) -> dict[str, int]:
    from fieldlog import records
    from fieldlog.db.search import fts_query

    match = fts_query(text)
    if match is None:
        return {}
    out = {}
    for t in records.FTS_COLUMNS:
        n = store.scalar(f"SELECT count(*) FROM {t}_fts WHERE {t}_fts MATCH ?", [match])
        if n:
            out[t] = int(n)
    return out


# ---------------------------------------------------------------------------- measuring
def timed(call: Callable[[], Any]) -> tuple[float, float]:
    """Wall and CPU seconds of ``call()`` (CPU: this process's, which other processes on a
    shared machine do not inflate; the query reads a log in the page cache)."""
    wall, cpu = time.perf_counter(), time.process_time()
    call()
    return time.perf_counter() - wall, time.process_time() - cpu


def pairs(old: Callable[[], Any], new: Callable[[], Any], runs: int, alone: int) -> dict[str, Any]:
    """``runs`` pairs (old, new) after one untimed pair, then ``alone`` more of new."""
    old(), new()
    olds, news = [], []
    for _ in range(runs):
        olds.append(timed(old))
        news.append(timed(new))
    news += [timed(new) for _ in range(alone)]
    ratios = [o[0] / n[0] for o, n in zip(olds, news, strict=False)]
    new_ms = statistics.median(n[0] for n in news) * 1000
    new_cpu = statistics.median(n[1] for n in news) * 1000
    return {
        "old_ms": round(statistics.median(o[0] for o in olds) * 1000, 2),
        "old_cpu_ms": round(statistics.median(o[1] for o in olds) * 1000, 2),
        "new_ms": round(new_ms, 2),
        "new_cpu_ms": round(new_cpu, 2),
        "speedup": round(statistics.median(ratios), 1),
        "target_ms": TARGET_MS,
        "verdict": "PASS" if new_ms <= TARGET_MS else "OVER",
        "verdict_cpu": "PASS" if new_cpu <= TARGET_MS else "OVER",
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--contacts", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=9, help="timed runs of the new query")
    ap.add_argument("--old-runs", type=int, default=3, help="pairs with the old query")
    ap.add_argument("--words", nargs="*", help="words to measure (default: the built-in set)")
    ap.add_argument("--db", type=Path, help="a log to use instead of the cached demo log")
    ap.add_argument("--fresh", action="store_true", help="rebuild the cached log")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)

    from fieldlog.db import search
    from fieldlog.db.store import Store

    folder = Path(os.environ.get("TMPDIR") or tempfile.gettempdir()) / "fieldlog-bench"
    db = args.db or cached_log(args.contacts, folder, fresh=args.fresh)
    words = [("given", w) for w in args.words] if args.words else WORDS
    out: dict[str, Any] = {"db": str(db), "candidates": search.CANDIDATES, "words": []}
    with Store.open(db) as store:
        out["contacts"] = store.contacts.count()
        runs, alone = max(1, args.old_runs), max(0, args.runs - args.old_runs)
        for kind, word in words:
            row: dict[str, Any] = {"kind": kind, "word": word, "hits": per_index(store, word)}
            row["tui"] = pairs(lambda w=word: old_ranked(store, w),
                               lambda w=word: store.search.ranked(w), runs, alone)  # fmt: skip
            row["cli"] = pairs(lambda w=word: old_hits(store, w),
                               lambda w=word: store.search.hits(w), runs, alone)  # fmt: skip
            floors = [timed(lambda w=word: floor(store, w)) for _ in range(3)]
            row["floor_ms"] = round(statistics.median(f[0] for f in floors) * 1000, 2)
            row["floor_cpu_ms"] = round(statistics.median(f[1] for f in floors) * 1000, 2)
            if kind == "rare":  # ranked over every hit, as before: the same results
                row["same_as_old"] = [h["id"] for h in old_ranked(store, word)] == [
                    h["id"] for h in store.search.ranked(word)
                ]
            out["words"].append(row)
            if not args.json:
                print_row(row)
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        over = [r["word"] for r in out["words"] if r["tui"]["verdict"] == "OVER"]
        cpu = [r["word"] for r in out["words"] if r["tui"]["verdict_cpu"] == "OVER"]
        print(f"\n{out['contacts']:,} contacts, {search.CANDIDATES} candidates per index; "
              f"over {TARGET_MS:.0f} ms (TUI), wall: {', '.join(over) or 'none'}; "
              f"CPU: {', '.join(cpu) or 'none'}")  # fmt: skip
    return out


def print_row(row: dict[str, Any]) -> None:
    hits = sum(row["hits"].values())
    t, c = row["tui"], row["cli"]
    same = {True: " same as old", False: " DIFFERENT from old"}.get(row.get("same_as_old"), "")
    print(
        f"{row['kind']:7s} {row['word']!r:20s} {hits:>9,} hits | TUI old {t['old_ms']:7.0f} "
        f"new {t['new_ms']:5.1f} ms (cpu {t['new_cpu_ms']:5.1f}) {t['verdict']:4s} "
        f"{t['speedup']:6.1f}x | CLI old {c['old_ms']:7.0f} new {c['new_ms']:5.1f} "
        f"(cpu {c['new_cpu_ms']:5.1f}) | floor {row['floor_ms']:5.1f} (cpu "
        f"{row['floor_cpu_ms']:5.1f}){same}",
        flush=True,
    )


if __name__ == "__main__":
    main()
