"""Record ids: UUIDv7 as 32 lowercase hex digits, and short prefixes for people to type.

UUIDv7 (RFC 9562 §5.7) puts a 48-bit Unix millisecond timestamp first, so ids sort by
creation time and never collide across laptops. Python 3.11 has no ``uuid.uuid7``; the layout
is eight lines, cheaper than importing a package on the quick-entry path (see bench/).
Ids are stored without hyphens so a typed prefix is a plain string prefix.

Ids made in the same millisecond must still sort in the order they were made (a contact and
its concern, a burst of imports, sync's tie-breaks read that order). So the 12 ``rand_a`` bits
are a counter (RFC 9562 §6.2, method 1): seeded at random when the millisecond changes,
one up for each further id in that millisecond, and when the clock stands still or steps back
the last timestamp is reused, so ids never go backwards within a process. A counter that
runs out borrows the next millisecond. A lock makes this hold across threads.
"""

from __future__ import annotations

import os
import threading
import time

MIN_PREFIX = 6
SHORT_LEN = 10  # 256 ms of timestamp: ids typed by hand rarely need more


_COUNTER_MAX = 0xFFF  # rand_a: 12 bits
_SEED_MASK = 0x7FF  # a fresh millisecond starts in the lower half: at least 2048 ids of room
_lock = threading.Lock()
_last_ms = -1
_counter = 0
_clock_ns = time.time_ns  # the tests step it back and hold it still


def _reset_after_fork() -> None:
    """A child forked while another thread held the lock must not wait for it forever."""
    global _lock
    _lock = threading.Lock()


if hasattr(os, "register_at_fork"):  # POSIX only; Windows has no fork to guard against
    os.register_at_fork(after_in_child=_reset_after_fork)


def _next_stamp(rand_bits: int) -> tuple[int, int]:
    """This id's millisecond and counter: later than the previous id's, whatever the clock."""
    global _last_ms, _counter
    now = _clock_ns() // 1_000_000
    with _lock:
        if now > _last_ms:
            _last_ms, _counter = now, rand_bits & _SEED_MASK
        elif _counter < _COUNTER_MAX:
            _counter += 1  # same millisecond, or the clock stepped back: count on
        else:
            _last_ms, _counter = _last_ms + 1, rand_bits & _SEED_MASK  # borrow the next ms
        return _last_ms, _counter


def uuid7_hex(unix_ms: int | None = None, rand: int | None = None) -> str:
    """A new UUIDv7 as 32 hex digits; ``unix_ms`` fixes its timestamp (demo data, imports),
    ``rand`` (80 bits) its random part (seeded demo data, so screenshots are repeatable).
    Without either, ids of one process are strictly increasing (see the module docstring)."""
    if unix_ms is None and rand is None:
        bits = int.from_bytes(os.urandom(10), "big")
        ms, rand_a = _next_stamp(bits >> 68)
        rand_b = bits & ((1 << 62) - 1)
    else:
        ms = int(time.time() * 1000) if unix_ms is None else int(unix_ms)
        if rand is None:
            rand = int.from_bytes(os.urandom(10), "big")
        rand_a = rand >> 68 & 0xFFF  # 12 bits
        rand_b = rand & ((1 << 62) - 1)  # 62 bits
    value = (ms & ((1 << 48) - 1)) << 80 | 0x7 << 76 | rand_a << 64 | 0b10 << 62 | rand_b
    return f"{value:032x}"


def normalize_prefix(text: str) -> str:
    """What a person typed, as a comparable prefix: lower case, hyphens dropped."""
    return text.strip().lower().replace("-", "")


def is_hex(text: str) -> bool:
    return bool(text) and all(c in "0123456789abcdef" for c in text)
