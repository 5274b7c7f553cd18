"""Record ids: UUIDv7, 32 hex digits, and in creation order even within one millisecond."""

from __future__ import annotations

import threading
import uuid

from fieldlog import ids


def test_ids_are_uuid7(cli):
    full = cli.new("add", "Id check")
    u = uuid.UUID(full)
    assert u.version == 7 and u.variant == uuid.RFC_4122
    assert len(full) == 32 and full == full.lower() and ids.is_hex(full)

    # thousands in a tight loop: many share a millisecond, and still sort as they were made
    made = [ids.uuid7_hex() for _ in range(5000)]
    assert made == sorted(made)
    assert len(set(made)) == len(made)
    assert len({i[:12] for i in made}) < len(made)  # the loop did make ids in the same ms
    for i in made[:: len(made) // 10]:
        u = uuid.UUID(i)
        assert u.version == 7 and u.variant == uuid.RFC_4122 and len(i) == 32


def test_ids_never_go_backwards_when_the_clock_does(monkeypatch):
    clock = iter([5_000_000, 5_000_000, 4_000_000, 4_000_000, 5_000_001, 3_000_000])
    monkeypatch.setattr(ids, "_clock_ns", lambda: next(clock) * 1_000_000 + 999)
    monkeypatch.setattr(ids, "_last_ms", -1)
    made = [ids.uuid7_hex() for _ in range(6)]
    assert made == sorted(made) and len(set(made)) == 6
    stamps = [int(i[:12], 16) for i in made]
    assert stamps == [5_000_000, 5_000_000, 5_000_000, 5_000_000, 5_000_001, 5_000_001]


def test_a_full_counter_borrows_the_next_millisecond(monkeypatch):
    monkeypatch.setattr(ids, "_clock_ns", lambda: 7_000_000 * 1_000_000)
    monkeypatch.setattr(ids, "_last_ms", -1)
    made = [ids.uuid7_hex() for _ in range(4096 + 10)]  # more than one counter can hold
    assert made == sorted(made) and len(set(made)) == len(made)
    assert int(made[-1][:12], 16) > 7_000_000  # borrowed ahead rather than wrapping round


def test_ids_from_many_threads_are_unique_and_each_threads_sorted():
    out: list[list[str]] = [[] for _ in range(8)]

    def make(n: int) -> None:
        out[n].extend(ids.uuid7_hex() for _ in range(2000))

    threads = [threading.Thread(target=make, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    every = [i for chunk in out for i in chunk]
    assert len(set(every)) == len(every)
    for chunk in out:
        assert chunk == sorted(chunk)


def test_fixed_timestamp_and_random_part_are_repeatable():
    """Seeded demo data and imports pass both: the same id every time (no counter)."""
    a = ids.uuid7_hex(1_700_000_000_000, 12345)
    assert a == ids.uuid7_hex(1_700_000_000_000, 12345)
    assert int(a[:12], 16) == 1_700_000_000_000


def test_ids_import_where_there_is_no_fork(monkeypatch):
    """Windows has no os.register_at_fork: the module still imports and makes ordered ids."""
    import importlib
    import os

    from fieldlog import ids

    monkeypatch.delattr(os, "register_at_fork")
    fresh = importlib.reload(ids)
    try:
        made = [fresh.uuid7_hex() for _ in range(200)]
        assert made == sorted(made) and len(set(made)) == len(made)
    finally:
        monkeypatch.undo()
        importlib.reload(ids)
