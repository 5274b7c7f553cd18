"""What a pulled change may hold: every change a remote hands back is checked like typed input.

A remote is input like any other: anyone who can write the shared file (or the database) can
put anything in it. So a pulled change applies only when it is exactly what a fieldlog could
have written: a known table, a 32-hex record id, a JSON object holding the record's whole state
(every field of the record, each the right type and passing the registry's rule for it: the
vocabularies, the length caps, no control characters, lists as JSON lists of strings, dates and
times real and in fieldlog's own format, ``deleted`` 0 or 1), valid clock stamps, and its
officer, origin and times as strings. :func:`check` says why when it is not (one line, for the
quarantine list); what passes is what a typed write could have stored, so ``list``, ``show``,
``edit`` and ``delete`` never meet a value they cannot read.

A change stamped ahead of this laptop's clock is not invalid (a laptop's clock drifts): it is
held until its time (:attr:`Checked.ahead_ms`), unless it is so far ahead (more than
:data:`MAX_AHEAD_MS`: a year 2999) that no clock is that wrong; then it is refused.

This module is part of the domain core: pure functions over the registry, no SQL, no I/O.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from fieldlog import models, records
from fieldlog.errors import ValidationError
from fieldlog.text import control_chars, printable

MAX_SKEW_MS = 60 * 60 * 1000  # a clock this far ahead is held (fieldlog.merge uses the same)
MAX_AHEAD_MS = 30 * 86_400_000  # further ahead than this: refused, not held
MIN_YEAR, MAX_YEAR = 1900, 2999  # as fieldlog.dates: stored times sort as text
META_FIELDS = ("officer", "origin", "created_at", "updated_at")
SEEN_CAP = 50_000  # field values remembered as valid in one round (see check's ``seen``)
MAX_ORIGIN = 64  # a device id is 12 hex digits; room for other forms, never a paragraph

# Stored forms: a time ``2026-11-24T14:30:00Z`` (milliseconds allowed), a day ``2026-11-24``,
# a stamp ``{wall_ms:013d}-{counter:05d}-{device}`` (fieldlog.clock).
_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_STAMP = re.compile(r"^(\d{13})-(\d{5,9})-([0-9A-Za-z_.-]{1,64})$")
_HEX32 = re.compile(r"^[0-9a-f]{32}$")

# Fields whose value is a time or a day (not checked by the registry's rules: the shells parse
# what a person types into these forms before the registry sees them).
TIME_FIELDS = records.TIME_FIELDS
DAY_FIELDS = frozenset({"follow_up_on", "last_verified"})
# Fields holding a record id: each table's parent column and the records it points to.
ID_FIELDS = {
    r.table: frozenset([*([r.parent[1]] if r.parent else []), *r.refs])
    for r in records.iter_types()
}
REQUIRED_IDS = {r.table: r.parent[1] for r in records.iter_types() if r.parent}
# The columns that are NOT NULL in the schema and have no rule of their own refusing None.
NOT_NULL = {"contacts": frozenset({"occurred_at"})}
# Fields a later release added (the review fields of a contact): a change pushed by an older
# fieldlog lacks exactly these, and is read without them (they are then not in
# ``Checked.fields``, so the merge leaves the local values as they are).
ADDED_FIELDS: dict[str, tuple[str, ...]] = dict(records.ADDED_FIELDS)
_ADDED = {t: frozenset(f) for t, f in ADDED_FIELDS.items()}
# Per table: the fields a change carries (its whole state), in the schema's order; the names
# its clocks may hold; its time fields.
_ORDER = {t: (*f, "deleted") for t, f in records.TABLE_FIELDS.items()}
_KNOWN = {t: frozenset(f) for t, f in _ORDER.items()}
_CLOCKED = {t: frozenset({*f, "*"}) for t, f in _ORDER.items()}
_TIMES = {t: tuple(n for n in f if n in TIME_FIELDS) for t, f in _ORDER.items()}


class Invalid(ValueError):
    """A pulled change that is not what a fieldlog writes; ``reason`` is one line."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Checked:
    """A change that passed: ``fields`` is ``{name: [value, stamp]}`` (what the merge reads),
    ``newest`` its newest stamp, and ``ahead_ms`` the wall time (ms) of its newest stamp or
    time when that is ahead of this laptop's clock by more than :data:`MAX_SKEW_MS` (it is then
    held until ``ahead_ms - MAX_SKEW_MS``), else None."""

    fields: dict[str, list[Any]]
    newest: str
    ahead_ms: int | None = None


def now_ms() -> int:
    return int(time.time() * 1000)


def _shown(value: Any, limit: int = 40) -> str:
    """A value as a reason line quotes it: short, printable."""
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    text = printable(text, newlines=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def time_ms(value: Any, name: str) -> int:
    """A stored time (``2026-11-24T14:30:00.123Z``) as ms since the epoch; Invalid when it is
    not one, or not a real time (``2026-13-45T99...``)."""
    if not isinstance(value, str) or not _TIME.match(value):
        raise Invalid(f"{name} {_shown(value)} is not a time like 2026-11-24T14:30:00Z")
    try:
        dt = datetime.fromisoformat(value[:-1]).replace(tzinfo=UTC)
    except ValueError:
        raise Invalid(f"{name} {_shown(value)} is not a real time") from None
    if not MIN_YEAR <= dt.year <= MAX_YEAR:
        raise Invalid(f"{name} {_shown(value)} is out of range ({MIN_YEAR} to {MAX_YEAR})")
    return int(dt.timestamp() * 1000)


def check_day(value: Any, name: str) -> None:
    if not isinstance(value, str) or not _DAY.match(value):
        raise Invalid(f"{name} {_shown(value)} is not a day like 2026-11-24")
    try:
        d = date.fromisoformat(value)
    except ValueError:
        raise Invalid(f"{name} {_shown(value)} is not a real day") from None
    if not MIN_YEAR <= d.year <= MAX_YEAR:
        raise Invalid(f"{name} {_shown(value)} is out of range ({MIN_YEAR} to {MAX_YEAR})")


def stamp_ms(stamp: Any, name: str) -> int:
    """A clock stamp's wall time; Invalid when it is not a stamp fieldlog makes."""
    if not isinstance(stamp, str):
        raise Invalid(f"the clock of {name} is {_type(stamp)}, not a stamp")
    m = _STAMP.match(stamp)
    if m is None:
        raise Invalid(f"the clock of {name} {_shown(stamp)} is not a stamp")
    return int(m.group(1))


def _list(tbl: str, name: str, value: Any) -> None:
    """A list field as its column stores it: the text of a JSON list of strings, each one a
    word the registry's rule accepts as it is."""
    if not isinstance(value, str):
        raise Invalid(f"{name} is {_type(value)}, not a JSON list")
    try:
        items = json.loads(value)
    except ValueError:
        raise Invalid(f"{name} {_shown(value)} is not a JSON list") from None
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        raise Invalid(f"{name} {_shown(value)} is not a JSON list of words")
    try:
        cleaned = records.get(tbl).rules[name](items)
    except ValidationError as exc:
        raise Invalid(str(exc)) from None
    if cleaned != items:
        raise Invalid(f"{name} {_shown(value)} holds words no fieldlog stores as they are")


def check_value(tbl: str, name: str, value: Any) -> None:
    """One field's value, as its column stores it; Invalid with the reason."""
    if name == "deleted":
        if value not in (0, 1) or isinstance(value, bool | float):
            raise Invalid(f"deleted is {_shown(value)}, not 0 or 1")
        return
    if isinstance(value, bool) or not (value is None or isinstance(value, str | int | float)):
        raise Invalid(f"{name} is {_type(value)}")
    if name in records.LIST_FIELDS:
        _list(tbl, name, value)
        return
    if value is None:
        if name in NOT_NULL.get(tbl, ()) or name == REQUIRED_IDS.get(tbl):
            raise Invalid(f"{name} is empty")
        try:
            out = records.get(tbl).rules[name](None)
        except ValidationError as exc:  # a required text or choice
            raise Invalid(str(exc)) from None
        if out is not None:  # a field with a default is never stored empty
            raise Invalid(f"{name} is empty")
        return
    if not isinstance(value, str):
        raise Invalid(f"{name} is {_type(value)}, not text")
    if name in TIME_FIELDS:
        time_ms(value, name)
        return
    if name in DAY_FIELDS:
        check_day(value, name)
        return
    if name in ID_FIELDS.get(tbl, ()):
        if not _HEX32.match(value):
            raise Invalid(f"{name} {_shown(value)} is not a fieldlog id")
        return
    rule: Callable[[Any], Any] = records.get(tbl).rules[name]
    try:
        cleaned = rule(value)
    except ValidationError as exc:
        raise Invalid(printable(str(exc), newlines=False)) from None
    # Stored as a typed write stores it: a vocabulary word in its own spelling, text as the
    # rule leaves it (a synced record may keep the spaces a form would have trimmed, and the
    # line ends of a file written on Windows).
    lines = value.strip().replace("\r\n", "\n").replace("\r", "\n")
    if cleaned not in (value, value.strip(), lines):
        raise Invalid(f"{name} {_shown(value)} is not stored as fieldlog stores it")


def _meta(body: Mapping[str, Any]) -> list[int]:
    """Check the body's officer, origin and times; returns the times in ms."""
    officer = body.get("officer")
    if not isinstance(officer, str):
        raise Invalid(f"officer is {_type(officer)}, not text")
    if len(officer) > models.MAX_SHORT or control_chars(officer):
        raise Invalid("officer is too long or holds control characters")
    origin = body.get("origin")
    if not isinstance(origin, str) or not origin:
        raise Invalid(f"origin is {_type(origin)}, not a device id")
    if len(origin) > MAX_ORIGIN or control_chars(origin) or not origin.isprintable():
        raise Invalid(f"origin {_shown(origin)} is not a device id")
    return [time_ms(body.get(name), name) for name in ("created_at", "updated_at")]


def check(
    tbl: Any,
    row_id: Any,
    body: Any,
    hlc: Any = None,
    *,
    now: int | None = None,
    seen: set[tuple[Any, ...]] | None = None,
) -> Checked:
    """Check a pulled change of record ``row_id`` of ``tbl`` (``body``: the decoded JSON, None
    when it was not JSON); returns what the merge needs, or raises :class:`Invalid`.

    A body holds ``values`` (every field of the record and ``deleted``), ``clocks`` (a stamp
    per field changed since the record's creation, ``*`` for the rest), ``changed`` (the
    fields this change touched, ``*`` for a creation), and the record's ``officer``,
    ``origin``, ``created_at`` and ``updated_at``.

    ``seen``: the field values already found valid (``(table, field, type, value)``), kept by
    the caller for a round of pulls: a vocabulary word, a tag list, an empty field or a
    neighbourhood is checked once, not once a change (the rules are pure functions of the
    value)."""
    if not isinstance(tbl, str) or tbl not in records.REGISTRY:
        raise Invalid(f"unknown table {_shown(tbl)}")
    if not isinstance(row_id, str) or not _HEX32.match(row_id):
        raise Invalid(f"the record id {_shown(row_id)} is not a fieldlog id")
    return check_body(tbl, body, hlc, now=now, seen=seen)


def check_body(
    tbl: str,
    body: Any,
    hlc: Any = None,
    *,
    now: int | None = None,
    seen: set[tuple[Any, ...]] | None = None,
) -> Checked:
    """:func:`check` without the table and id (``tbl`` must be a record table)."""
    if not isinstance(body, dict):
        raise Invalid("the change is not a JSON object (not JSON, or too big)")
    values, clocks = body.get("values"), body.get("clocks")
    if not isinstance(values, dict):
        raise Invalid(f"values is {_type(values)}, not an object")
    if not isinstance(clocks, dict):
        raise Invalid(f"clocks is {_type(clocks)}, not an object")
    known = _KNOWN[tbl]
    order = _ORDER[tbl]
    if values.keys() != known:
        unknown = sorted(str(k) for k in values.keys() - known)
        if unknown:
            raise Invalid(f"a {records.NOUN[tbl]} has no field {_shown(unknown[0])}")
        absent = known - values.keys()
        if absent != _ADDED.get(tbl):  # an older fieldlog's change lacks all of them, or none
            missing = next(name for name in order if name in absent)
            raise Invalid(f"{missing} is missing (a change carries the whole record)")
        order = tuple(name for name in order if name in values)
    if seen is None:
        for name in order:
            check_value(tbl, name, values[name])
    else:
        for name in order:
            value = values[name]
            key = (tbl, name, type(value), value)  # the type: True == 1, but bool is refused
            try:
                if key in seen:
                    continue
            except TypeError:  # not hashable (a list, an object): checked, and refused
                check_value(tbl, name, value)
                continue
            check_value(tbl, name, value)
            if len(seen) < SEEN_CAP:
                seen.add(key)
    whole = records.get(tbl).whole
    why = whole(values) if whole else None
    if why:
        raise Invalid(why)
    walls = _meta(body)
    if not clocks.keys() <= _CLOCKED[tbl]:
        bad = sorted(str(k) for k in clocks.keys() - _CLOCKED[tbl])
        raise Invalid(f"clocks name no field of a {records.NOUN[tbl]}: {_shown(bad[0])}")
    for name, stamp in clocks.items():  # each distinct stamp read once
        walls.append(stamp_ms(stamp, name))
    star = clocks.get("*")
    fields: dict[str, list[Any]] = {}
    for name in order:
        stamp = clocks.get(name) or star
        if stamp is None or stamp == "":
            raise Invalid(f"the clock of {name} is missing")
        fields[name] = [values[name], stamp]
    if hlc is not None:
        walls.append(stamp_ms(hlc, "the change"))
    changed = body.get("changed", [])
    if not isinstance(changed, list) or not all(
        isinstance(c, str) and c in _CLOCKED[tbl] for c in changed
    ):
        raise Invalid(f"changed {_shown(changed)} is not a list of the record's fields")
    now = now_ms() if now is None else now
    top = max(walls)
    if top > now + MAX_AHEAD_MS:
        raise Invalid(f"stamped {_day(top)}, far in the future (no clock is that far ahead)")
    for name in _TIMES[tbl]:  # when it happened, was resolved, was reviewed
        if values.get(name) is not None and time_ms(values[name], name) > now + MAX_AHEAD_MS:
            raise Invalid(f"{name} {_shown(values[name])} is far in the future")
    newest = max(pair[1] for pair in fields.values())
    return Checked(fields, newest, top if top > now + MAX_SKEW_MS else None)


def _day(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d")


# ---------------------------------------------------------------------- vocabularies
_NOT_A_WORD = "zz-not-a-word-zz"


def vocabulary_words() -> list[str]:
    """Every word of every vocabulary in :mod:`fieldlog.models`."""
    out: set[str] = set()
    for name in dir(models):
        value = getattr(models, name)
        if name.isupper() and isinstance(value, tuple | frozenset | set):
            out |= {w for w in value if isinstance(w, str)}
    return sorted(out)


def vocabularies(table: str) -> dict[str, list[str]]:
    """The fields of ``table`` that take words of a vocabulary (a list field: each item),
    with the words, found by asking each field's rule: a rule that refuses a made-up word
    and takes some words of the vocabularies as they are is a choice."""
    out: dict[str, list[str]] = {}
    r = records.get(table)
    for name, rule in r.rules.items():
        if name in TIME_FIELDS or name in DAY_FIELDS or name in ID_FIELDS[table]:
            continue
        listed = name in r.lists

        def takes(word: str, rule: Any = rule, listed: bool = listed) -> bool:
            try:
                return bool(rule([word]) == [word] if listed else rule(word) == word)
            except ValidationError:
                return False

        if not takes(_NOT_A_WORD):
            allowed = [w for w in vocabulary_words() if takes(w)]
            if allowed:
                out[name] = allowed
    return out
