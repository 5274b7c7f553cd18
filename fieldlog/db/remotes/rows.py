"""What both remote backends share: a stored row read back whatever it holds, new rows
numbered from the store's own counter, and the methods both make the same way over their own
SQL (:class:`Backend`: the counters, pulls, pushes, a device's changes, heads, the trust
log).

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
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

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

if TYPE_CHECKING:
    from fieldlog.db.remotes.types import OutChange

__all__ = [
    "COUNTER",
    "LAYOUT",
    "LAYOUT_KEY",
    "LEGACY_SLACK",
    "PUSH_COLUMNS",
    "TRUST_COUNTER",
    "Backend",
    "allocate",
    "as_int",
    "as_text",
    "body_text",
    "change",
    "decode_body",
    "heads",
    "legacy_bound",
    "not_held",
    "parse_counter",
    "push_rows",
    "seq_report",
    "trust_records",
]

COUNTER = "seq_counter"  # fieldlog_meta: the highest seq the store handed out
TRUST_COUNTER = "trust_counter"  # fieldlog_meta: the highest trust-log id
LAYOUT_KEY = "layout"  # fieldlog_meta: the tables' layout, upgraded on open when older
LAYOUT = "2"  # 2: counters, sig, pushed_by, fieldlog_heads, fieldlog_trust
LEGACY_SLACK = 1024
# The columns a push writes, in the order of :func:`push_rows`.
PUSH_COLUMNS = ("seq", "origin", "origin_seq", "tbl", "row_id", "hlc", "body", "sig")

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


def not_held(changes: Iterable[OutChange], held: set[int]) -> list[OutChange]:
    """The changes of a push whose ``origin_seq`` the store does not hold yet (``held``),
    each once (a page may repeat one)."""
    seen = set(held)
    new = []
    for c in changes:
        if c.origin_seq not in seen:
            seen.add(c.origin_seq)
            new.append(c)
    return new


def push_rows(origin: str, seqs: list[int], new: list[OutChange]) -> list[tuple[Any, ...]]:
    """The stored rows of a push's new changes, one tuple of :data:`PUSH_COLUMNS` each."""
    return [
        (s, origin, c.origin_seq, c.tbl, c.row_id, c.hlc, body_text(c.body), c.sig or None)
        for s, c in zip(seqs, new, strict=True)
    ]


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


class Backend:
    """What both backend classes do the same way, each over its own connection and SQL (the
    Remote protocol's methods but ``open`` and ``close``). A backend sets ``conn``, ``url``,
    ``MARK`` (its parameter mark) and the SQL below, and provides ``_guard()`` (its errors as
    one-line :class:`SyncError`), ``_writing()`` (its push transaction, errors guarded),
    ``_counter(key)``, ``_taken(table, column)`` (for :func:`allocate`), ``_insert(origin,
    changes)`` and ``_keep_head(origin, head)``."""

    conn: Any
    url: str
    dense = True  # every seq is visible to this login (see Remote.dense)
    MARK: str
    PULL_SQL: str  # (after, counter, limit) -> the columns change() takes
    ORIGIN_SQL: str  # (origin, after, limit) -> the same, by origin_seq
    HEADS_SQL: str  # (origin) -> (origin, seq, hash, at, sig), oldest first
    TRUST_SQL: str  # (after, counter) -> (id, kind, subject, record, sig, signer, pushed_by)
    ADD_TRUST_SQL: str  # (id, kind, subject, record, sig, signer)

    def _guard(self) -> AbstractContextManager[None]:
        raise NotImplementedError

    def _writing(self) -> AbstractContextManager[None]:
        raise NotImplementedError

    def _counter(self, key: str = COUNTER) -> int:
        raise NotImplementedError

    def _taken(self, table: str, column: str) -> Callable[[int], list[int]]:
        raise NotImplementedError

    def _insert(self, origin: str, changes: list[OutChange]) -> int:
        raise NotImplementedError

    def _keep_head(self, origin: str, head: Head) -> None:
        raise NotImplementedError

    def _set_counter(self, value: int, key: str = COUNTER) -> None:
        """Move a counter (inside the caller's write transaction)."""
        m = self.MARK
        self.conn.execute(
            f"UPDATE fieldlog_meta SET value = {m} WHERE key = {m}", [str(value), key]
        )

    def head(self) -> int:
        with self._guard():
            return self._counter()

    def pull(self, after: int, limit: int) -> list[RemoteChange]:
        with self._guard():
            counter = self._counter()
            rows = self.conn.execute(self.PULL_SQL, [after, counter, limit]).fetchall()
        return [change(*row) for row in rows]

    def push(self, origin: str, changes: list[OutChange], head: Head | None = None) -> int:
        if not changes and head is None:
            return 0
        with self._writing():
            added = self._insert(origin, changes)
            if head is not None:
                self._keep_head(origin, head)
        return added

    def origin_changes(self, origin: str, after: int, limit: int) -> list[RemoteChange]:
        with self._guard():
            rows = self.conn.execute(self.ORIGIN_SQL, [origin, after, limit]).fetchall()
        return [change(*row) for row in rows]

    def _reading(self) -> AbstractContextManager[None]:
        """Reads that must see one snapshot of the store (a push committing between them
        would make its rows look planted); a backend without one guards only."""
        return self._guard()

    def _seq_counts(self, cursor: int) -> tuple[int, int, int]:
        """``(counter, rows at or below cursor, rows above the counter)``, from one snapshot."""
        m = self.MARK
        with self._reading():
            counter = self._counter()
            below, beyond = (
                int(self.conn.execute(sql, [n]).fetchone()[0])
                for sql, n in (
                    (f"SELECT count(*) FROM fieldlog_changes WHERE seq <= {m}", cursor),
                    (f"SELECT count(*) FROM fieldlog_changes WHERE seq > {m}", counter),
                )
            )
        return counter, below, beyond

    def check_seq(self, cursor: int) -> SeqReport:
        counter, below, beyond = self._seq_counts(cursor)
        return seq_report(counter, cursor, below, beyond)

    def heads(self, origin: str) -> list[Head]:
        with self._guard():
            rows = self.conn.execute(self.HEADS_SQL, [origin]).fetchall()
        return heads(rows)

    def trust_log(self, after: int = 0) -> list[TrustRecord]:
        with self._guard():
            counter = self._counter(TRUST_COUNTER)
            rows = self.conn.execute(self.TRUST_SQL, [after, counter]).fetchall()
        return trust_records(rows)

    # A laptop's check that the trust log still holds what it read (fieldlog.db.devices):
    # one count and a few entries, over the same rows trust_log reads (TRUST_SQL).
    def trust_count(self, upto: int) -> int:
        with self._guard():
            counter = self._counter(TRUST_COUNTER)
            sql = f"SELECT count(*) FROM ({self.TRUST_SQL}) AS upto"
            row = self.conn.execute(sql, [0, min(upto, counter)]).fetchone()
        return int(row[0])

    def trust_entries(self, after: int, upto: int) -> list[TrustRecord]:
        with self._guard():
            counter = self._counter(TRUST_COUNTER)
            rows = self.conn.execute(self.TRUST_SQL, [after, min(upto, counter)]).fetchall()
        return trust_records(rows)

    def add_trust(self, kind: str, subject: str, record: str, sig: str, signer: str) -> int:
        with self._writing():
            taken = self._taken("fieldlog_trust", "id")
            (number,) = allocate(self._counter(TRUST_COUNTER), 1, taken, self.url, "trust-log")
            self.conn.execute(self.ADD_TRUST_SQL, [number, kind, subject, record, sig, signer])
            self._set_counter(number, TRUST_COUNTER)
        return number
