"""Record ids: UUIDv7 as 32 lowercase hex digits, and short prefixes for people to type.

UUIDv7 (RFC 9562 §5.7) puts a 48-bit Unix millisecond timestamp first, so ids sort by
creation time and never collide across laptops. Python 3.11 has no ``uuid.uuid7``; the layout
is eight lines, cheaper than importing a package on the quick-entry path (see bench/).
Ids are stored without hyphens so a typed prefix is a plain string prefix.
"""

from __future__ import annotations

import os
import time

MIN_PREFIX = 6
SHORT_LEN = 10  # 256 ms of timestamp: ids typed by hand rarely need more


def uuid7_hex(unix_ms: int | None = None, rand: int | None = None) -> str:
    """A new UUIDv7 as 32 hex digits; ``unix_ms`` fixes its timestamp (demo data, imports),
    ``rand`` (80 bits) its random part (seeded demo data, so screenshots are repeatable)."""
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
