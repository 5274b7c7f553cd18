"""Hybrid logical clock (HLC) stamps for field-level last-writer-wins merging.

A stamp is a string ``"{wall_ms:013d}-{counter:05d}-{origin}"``: comparing two stamps as text
compares (wall time, counter, origin), which is exactly the total order the sync merge needs,
so SQL ``MAX()`` and ``ORDER BY`` work on them directly.
"""

from __future__ import annotations

import time
from dataclasses import dataclass


def format_stamp(wall_ms: int, counter: int, origin: str) -> str:
    return f"{wall_ms:013d}-{counter:05d}-{origin}"


def parse_stamp(stamp: str) -> tuple[int, int, str]:
    wall, counter, origin = stamp.split("-", 2)
    return int(wall), int(counter), origin


@dataclass
class HLC:
    """A device's clock. ``tick()`` for a local change, ``observe()`` for a received stamp."""

    origin: str
    wall_ms: int = 0
    counter: int = 0

    @classmethod
    def from_stamp(cls, origin: str, last: str | None) -> HLC:
        if not last:
            return cls(origin)
        wall, counter, _ = parse_stamp(last)
        return cls(origin, wall, counter)

    def tick(self, now_ms: int | None = None) -> str:
        now = int(time.time() * 1000) if now_ms is None else now_ms
        if now > self.wall_ms:
            self.wall_ms, self.counter = now, 0
        else:
            self.counter += 1
        return format_stamp(self.wall_ms, self.counter, self.origin)

    def observe(self, stamp: str, now_ms: int | None = None) -> None:
        """Move past a stamp seen from elsewhere (``local = max(local, remote, now)``)."""
        now = int(time.time() * 1000) if now_ms is None else now_ms
        wall, counter, _ = parse_stamp(stamp)
        if wall > self.wall_ms and wall > now:
            self.wall_ms, self.counter = wall, counter
        elif wall == self.wall_ms:
            self.counter = max(self.counter, counter)
