"""What both remote backends share: a stored row read back whatever it holds, and new rows
numbered from the store's own counter.

A remote is a shared file or a shared database: anyone who can write it can put anything in
it. Reading it must never fail on what it finds:

- :func:`change` turns one stored row into a :class:`~fieldlog.db.remotes.types.RemoteChange`.
  A body that is not a JSON object, not valid UTF-8, longer than
  :data:`~fieldlog.db.remotes.types.BODY_LIMIT`, or holds ``NaN`` or a lone surrogate, comes
  back with ``body=None`` (the sync round quarantines it) and at most
  :data:`~fieldlog.db.remotes.types.MAX_BODY` characters of its text; the backends select only
  a prefix of a huge body in SQL, so a 50 MB body never reaches Python whole. Other columns of
  an odd type are coerced to text; a row whose ``origin_seq`` is not a whole number, or whose
  text columns are NULL or not UTF-8, comes back with ``body=None`` and ``origin_seq`` 0.
- :func:`allocate` numbers a push's new rows: the first free seqs above the counter
  (``fieldlog_meta`` key ``seq_counter``), read and moved in the push's own transaction. A
  row someone wrote straight into the store just above the counter is stepped over (it then
  sits below the counter and is pulled, and checked, like any other); one far above it (seq
  ``2**63 - 1``) is never reached, never pulled, and :func:`seq_report` counts it. A counter
  that cannot hold the page (tampered, near ``2**63``) is one :class:`SyncError` line.
- :func:`legacy_bound`: a remote made before the counter existed gets one on first open: the
  largest seq that is at most twice the number of rows plus 1024. Seqs there were handed out
  densely (1, 2, 3, ...), so that is the last real one, even with some rows deleted; a single
  planted huge seq is far above the bound and does not become the counter.

A backend helper: it imports only :mod:`fieldlog.db.remotes.types`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any

from fieldlog.db.remotes.types import (
    BODY_LIMIT,
    MAX_BODY,
    SEQ_MAX,
    Head,
    RemoteChange,
    SeqReport,
    SyncError,
    TrustRecord,
)

__all__ = [
    "COUNTER",
    "LAYOUT",
    "LAYOUT_KEY",
    "LEGACY_SLACK",
    "TRUST_COUNTER",
    "allocate",
    "as_int",
    "as_text",
    "body_text",
    "change",
    "decode_body",
    "heads",
    "legacy_bound",
    "parse_counter",
    "seq_report",
    "trust_records",
]

COUNTER = "seq_counter"  # fieldlog_meta: the highest seq the store handed out
TRUST_COUNTER = "trust_counter"  # fieldlog_meta: the highest trust-log id
LAYOUT_KEY = "layout"  # fieldlog_meta: the tables' layout, upgraded on open when older
LAYOUT = "2"  # 2: counters, sig, pushed_by, fieldlog_heads, fieldlog_trust
LEGACY_SLACK = 1024

_DIGITS = re.compile(r"[+-]?[0-9]{1,19}")
_LONE_SURROGATE = re.compile(r"\\u[dD][89abcdefABCDEF]")


def legacy_bound(count: int) -> int:
    """The highest seq a remote without a counter may have handed out, given its row count."""
    return 2 * count + LEGACY_SLACK


def as_text(value: Any) -> str | None:
    """A stored value as text: bytes decoded as UTF-8 (None when they are not UTF-8), numbers
    written out, NULL as None."""
    if value is None:
        return None
    if isinstance(value, bytes | bytearray | memoryview):
        try:
            return bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            return None
    return value if isinstance(value, str) else str(value)


def as_int(value: Any) -> int | None:
    """A stored value as a whole number in the 64-bit range, or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, bytes | bytearray | memoryview):
        value = as_text(value)
    if isinstance(value, float):
        value = int(value) if value.is_integer() else None
    elif isinstance(value, str):
        text = value.strip()
        value = int(text) if _DIGITS.fullmatch(text) else None
    if isinstance(value, int) and -SEQ_MAX - 1 <= value <= SEQ_MAX:
        return value
    return None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def decode_body(raw: Any, size: int | None) -> tuple[dict[str, Any] | None, str]:
    """``(body, text)`` for a stored body: the JSON object and the whole text, or None and at
    most :data:`MAX_BODY` characters of it. ``size`` is the stored length (the backends select
    only a prefix when it is over :data:`BODY_LIMIT`)."""
    if raw is None:
        return None, ""
    if isinstance(raw, bytes | bytearray | memoryview):
        data = bytes(raw)
        text = as_text(data)
        if text is None:
            return None, data.decode("utf-8", "replace")[:MAX_BODY]
    else:
        text = raw if isinstance(raw, str) else str(raw)
    if (size is not None and size > BODY_LIMIT) or len(text) > BODY_LIMIT:
        return None, text[:MAX_BODY]
    try:
        body = json.loads(text, parse_constant=_no_constant)
        if isinstance(body, dict) and _LONE_SURROGATE.search(text):
            # "\ud800" decodes to a str that no database can store: not usable either.
            json.dumps(body, ensure_ascii=False).encode("utf-8")
    except (ValueError, RecursionError, UnicodeError):
        return None, text[:MAX_BODY]
    if not isinstance(body, dict):
        return None, text[:MAX_BODY]
    return body, text


def change(
    seq: int,
    origin: Any,
    origin_seq: Any,
    tbl: Any,
    row_id: Any,
    hlc: Any,
    body: Any,
    size: Any,
    sig: Any = None,
    pushed_by: Any = None,
) -> RemoteChange:
    """One stored row as a :class:`RemoteChange`; never raises (see the module's text)."""
    decoded, text = decode_body(body, as_int(size))
    fields = [as_text(v) for v in (origin, tbl, row_id, hlc)]
    number = as_int(origin_seq)
    if number is None or any(f is None for f in fields):
        decoded = None  # a row no fieldlog wrote: quarantined, with what could be read of it
    o, t, r, h = (f if f is not None else "" for f in fields)
    return RemoteChange(
        seq=int(seq),
        origin=o,
        origin_seq=number if number is not None else 0,
        tbl=t,
        row_id=r,
        hlc=h,
        body=decoded,
        text=text,
        sig=None if sig is None else (as_text(sig) or ""),
        pushed_by=None if pushed_by is None else as_text(pushed_by),
    )


def parse_counter(value: Any, where: str, key: str = COUNTER) -> int:
    """A counter as stored in ``fieldlog_meta``; anything but a whole number from 0 to
    ``2**63 - 1`` is one line."""
    number = as_int(value)
    if number is None or number < 0:
        raise SyncError(
            f"The remote {where}'s {'sequence' if key == COUNTER else 'trust-log'} counter was "
            f"tampered with ({key} is {str(value)[:40]!r}, not a number): restore the store "
            "from a backup, or start a new store and sync every laptop to it (docs/sync.md)."
        )
    return number


def _walk(fetch: Callable[[int], list[int]], after: int) -> Iterator[int]:
    """Every occupied number above ``after``, in order, ``fetch`` a batch at a time."""
    while True:
        batch = fetch(after)
        if not batch:
            return
        yield from batch
        after = batch[-1]


def allocate(
    counter: int, n: int, fetch: Callable[[int], list[int]], where: str, what: str = "sequence"
) -> list[int]:
    """The ``n`` smallest numbers above ``counter`` that no stored row holds. ``fetch(after)``
    returns (a batch of) the numbers held above ``after``, ascending."""
    if n <= 0:
        return []
    if counter + n > SEQ_MAX:
        raise _exhausted(counter, where, what)
    taken = _walk(fetch, counter)
    nxt = next(taken, None)
    out: list[int] = []
    number = counter
    while len(out) < n:
        number += 1
        if number > SEQ_MAX:
            raise _exhausted(counter, where, what)
        while nxt is not None and nxt < number:
            nxt = next(taken, None)
        if nxt == number:
            continue
        out.append(number)
    return out


def _exhausted(counter: int, where: str, what: str) -> SyncError:
    return SyncError(
        f"The remote {where}'s {what} counter was tampered with (it is at {counter}, too close "
        f"to the largest number a store can hold): restore the store from a backup, or start "
        "a new store and sync every laptop to it (docs/sync.md)."
    )


def seq_report(counter: int, cursor: int, below: int, beyond: int) -> SeqReport:
    """The :class:`SeqReport` and its one-line problems."""
    problems = []
    if beyond:
        what = "change" if beyond == 1 else "changes"
        have = "has a number" if beyond == 1 else "have numbers"
        problems.append(
            f"{beyond} {what} in the remote {have} above its counter ({counter}): planted "
            "straight into the store, never pulled"
        )
    if cursor > counter:
        problems.append(
            f"the remote's counter ({counter}) is below this laptop's cursor ({cursor}): the "
            "store was rolled back or replaced"
        )
    return SeqReport(counter=counter, below=below, beyond=beyond, problems=tuple(problems))


def body_text(body: Any) -> str:
    """A body to store: :class:`OutChange` carries JSON text; a dict (tests) is encoded."""
    return body if isinstance(body, str) else json.dumps(body)


def heads(rows: list[Any]) -> list[Head]:
    """Stored ``(origin, seq, hash, at, sig)`` rows as heads, skipping any whose seq is not a
    number (no fieldlog wrote it)."""
    out = []
    for origin, seq, hash_, at, sig in rows:
        number = as_int(seq)
        if number is not None:
            text = [as_text(v) or "" for v in (origin, hash_, at, sig)]
            out.append(Head(text[0], number, text[1], text[2], text[3]))
    return out


def trust_records(rows: list[Any]) -> list[TrustRecord]:
    """Stored ``(id, kind, subject, record, sig, signer, pushed_by)`` rows as records."""
    out = []
    for number, *fields, pushed_by in rows:
        kind, subject, record, sig, signer = (as_text(v) or "" for v in fields)
        out.append(TrustRecord(int(number), kind, subject, record, sig, signer, as_text(pushed_by)))
    return out
