"""Reading the dates officers type, and showing stored ones.

Everything is stored in UTC (``2026-11-24T14:30:00Z``); people type and see local time.
WHEN accepts ISO dates and times, ``now``, ``today``, ``yesterday``, ``tomorrow`` (each with an
optional time, ``yesterday 14:30``), ``2h ago``, ``in 3d``, bare ``3d``/``7d``/``2w``/``90m``,
weekday names (``monday``, ``last fri``, ``next tue 9:00``) and a bare time (``14:30``).
A bare span (``3d``) or weekday points to the past, except for follow-up dates, which
point to the future.

``FIELDLOG_NOW`` (an ISO date-time) fixes "now" for tests and demos.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from fieldlog.errors import ValidationError

WHEN_HELP = (
    "use a date like 2026-11-24 or '2026-11-24 14:30', today, yesterday, 'yesterday 14:30', "
    "'2h ago', 3d, 7d, or a weekday like monday"
)

_UNITS = {
    "m": 60, "min": 60, "mins": 60, "minute": 60, "minutes": 60,
    "h": 3600, "hr": 3600, "hrs": 3600, "hour": 3600, "hours": 3600,
    "d": 86400, "day": 86400, "days": 86400,
    "w": 604800, "wk": 604800, "week": 604800, "weeks": 604800,
}  # fmt: skip
_WEEKDAYS = {
    "mon": 0, "monday": 0, "tue": 1, "tues": 1, "tuesday": 1, "wed": 2, "wednesday": 2,
    "thu": 3, "thur": 3, "thurs": 3, "thursday": 3, "fri": 4, "friday": 4,
    "sat": 5, "saturday": 5, "sun": 6, "sunday": 6,
}  # fmt: skip
_SPAN = re.compile(r"^(?P<in>in\s+)?(?P<n>\d+)\s*(?P<unit>[a-z]+)(?P<ago>\s+ago)?$")
_TIME = re.compile(r"^(?P<h>\d{1,2})(?::(?P<m>\d{2}))?\s*(?P<ampm>am|pm)?$")


@dataclass(frozen=True)
class When:
    """A parsed WHEN: an aware UTC datetime, and whether the person gave only a day."""

    at: datetime
    date_only: bool = False

    def end(self) -> datetime:
        """The exclusive upper bound it means in ``--until``: a whole day is included."""
        return self.at + timedelta(days=1) if self.date_only else self.at


def local_tz() -> tzinfo:
    """The local zone's offset *now*; use :func:`localize` / :func:`to_local` for other dates,
    which get the offset in force on their own day (summer time)."""
    tz = datetime.now().astimezone().tzinfo
    assert tz is not None
    return tz


def localize(naive: datetime) -> datetime:
    """A wall-clock time read as local time, with the offset in force on that date."""
    return naive.astimezone()


def to_local(dt: datetime) -> datetime:
    return dt.astimezone()


def now() -> datetime:
    """The current time, aware, in UTC (``FIELDLOG_NOW`` overrides it)."""
    fixed = os.environ.get("FIELDLOG_NOW")
    if fixed:
        dt = datetime.fromisoformat(fixed.replace("Z", "+00:00"))
        if dt.tzinfo is None:
            dt = localize(dt)
        return dt.astimezone(UTC)
    return datetime.now(UTC)


def now_local() -> datetime:
    return to_local(now())


def _local_midnight(d: date) -> datetime:
    return localize(datetime.combine(d, time(0, 0)))


def _parse_time(text: str) -> time | None:
    m = _TIME.match(text.strip())
    if not m:
        return None
    hour, minute = int(m["h"]), int(m["m"] or 0)
    if m["ampm"]:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if m["ampm"] == "pm" else 0)
    elif m["m"] is None:
        return None  # a bare number is not a time
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


MIN_YEAR, MAX_YEAR = 1900, 2999  # stored text sorts as time only with four-digit years


def parse_when(text: str, *, future: bool = False, field: str = "when") -> When:
    """Parse what an officer typed; raise ValidationError naming the accepted forms."""
    try:
        when = _parse_when(text, future=future, field=field)
    except OverflowError:  # "99999999d": past datetime's range
        when = None
    if when is None or not MIN_YEAR <= when.at.year <= MAX_YEAR:
        raise ValidationError(
            field,
            f"The {field} '{(text or '').strip()}' is out of range: use a date between "
            f"{MIN_YEAR} and {MAX_YEAR}.",
        )
    return when


def _parse_when(text: str, *, future: bool, field: str) -> When:
    raw = (text or "").strip()
    s = raw.lower()
    if not s:
        raise ValidationError(field, f"The {field} is empty: {WHEN_HELP}.")
    current = now_local()
    today = current.date()

    # ISO date or date-time.
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", s):
            return When(_local_midnight(date.fromisoformat(s)).astimezone(UTC), True)
        if re.match(r"^\d{4}-\d{2}-\d{2}[t ]\d", s):
            dt = datetime.fromisoformat(raw.replace("Z", "+00:00").replace("z", "+00:00"))
            if dt.tzinfo is None:
                dt = localize(dt)
            return When(dt.astimezone(UTC))
    except ValueError:
        raise ValidationError(field, f"Cannot read the date '{raw}': {WHEN_HELP}.") from None

    if s == "now":
        return When(current.astimezone(UTC))

    words = s.split(None, 1)
    head, rest = words[0], (words[1] if len(words) > 1 else "")
    day: date | None = None
    if head in ("today", "yesterday", "tomorrow"):
        day = today + timedelta(days={"today": 0, "yesterday": -1, "tomorrow": 1}[head])
    elif head in ("last", "next", "this") and rest.split(None, 1)[0] in _WEEKDAYS:
        parts = rest.split(None, 1)
        day = _weekday(
            today, _WEEKDAYS[parts[0]], forward=head == "next" or (head == "this" and future)
        )
        rest = parts[1] if len(parts) > 1 else ""
    elif head in _WEEKDAYS:
        day = _weekday(today, _WEEKDAYS[head], forward=future)
    if day is not None:
        if not rest:
            return When(_local_midnight(day).astimezone(UTC), True)
        t = _parse_time(rest.removeprefix("at ").strip())
        if t is None:
            raise ValidationError(field, f"Cannot read the time in '{raw}': {WHEN_HELP}.")
        return When(localize(datetime.combine(day, t)).astimezone(UTC))

    t = _parse_time(s)
    if t is not None:
        return When(localize(datetime.combine(today, t)).astimezone(UTC))

    m = _SPAN.match(s)
    if m and m["unit"] in _UNITS and not (m["in"] and m["ago"]):
        seconds = int(m["n"]) * _UNITS[m["unit"]]
        forward = bool(m["in"]) or (future and not m["ago"])
        delta = timedelta(seconds=seconds)
        at = current + delta if forward else current - delta
        date_only = _UNITS[m["unit"]] >= 86400 and future
        if date_only:
            return When(_local_midnight(at.date()).astimezone(UTC), True)
        return When(at.astimezone(UTC))

    raise ValidationError(field, f"Cannot read the date '{raw}': {WHEN_HELP}.")


def _weekday(today: date, weekday: int, *, forward: bool) -> date:
    if forward:
        return today + timedelta(days=(weekday - today.weekday()) % 7 or 7)
    return today - timedelta(days=(today.weekday() - weekday) % 7)


def parse_day(text: str, *, future: bool = True, field: str = "follow-up") -> str:
    """A WHEN reduced to a local calendar day, ``YYYY-MM-DD`` (follow-up dates)."""
    w = parse_when(text, future=future, field=field)
    return to_local(w.at).date().isoformat()


def to_storage(dt: datetime) -> str:
    """UTC, second precision, ``Z`` suffix: sorts as text."""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def stamp_now() -> str:
    """``created_at``/``updated_at``: UTC with milliseconds."""
    n = now()
    return n.strftime("%Y-%m-%dT%H:%M:%S.") + f"{n.microsecond // 1000:03d}Z"


def from_storage(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def show_local(text: str | None, *, seconds: bool = False) -> str:
    """A stored UTC time as local ``YYYY-MM-DD HH:MM``."""
    if not text:
        return ""
    dt = to_local(from_storage(text))
    return dt.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def today_local() -> str:
    return now_local().date().isoformat()
