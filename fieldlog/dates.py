"""Reading the dates officers type, and showing stored ones.

Everything is stored in UTC (``2026-11-24T14:30:00Z``); people type and see local time.
WHEN accepts ISO dates and times (``2026-11-24``, ``2026-11-24 14:30``, ``2026-11-24 2:30pm``),
dates with a month name (``Nov 24``, ``24 Nov``, ``November 24 2026``) or slashes (``11/24``,
``11/24/2026``, ``24/11``, ``2026/11/24``), ``now``, ``today``, ``yesterday``, ``tomorrow``,
weekday names (``monday``, ``last fri``, ``next tue``), each with an optional time
(``yesterday 14:30``, ``friday noon``, ``Nov 24 2:30 pm``), ``2h ago``, ``in 3d``, bare
``3d``/``7d``/``2w``/``90m``, and a bare time (``14:30``, ``2:30pm``, ``noon``, ``midnight``:
midnight is 00:00, the start of its day).

A bare span (``3d``), a weekday or a date without its year points to the past (``Dec 3`` is
the last Dec 3, today counting), except for follow-up dates, which point to the future.
``11/12``, where either number could be the month, is read in the officer's order
(:mod:`fieldlog.date_order`).

A local time that does not exist (the hour skipped when clocks go forward) is refused with the
time to use; one that happens twice (clocks go back) is the first, and :attr:`When.warning`
says so. What a person types for when a contact happened (``--at``, the form's When) and a
follow-up day are also checked by :func:`parse_at` (refused in the future or ten or more years
ago) and :func:`parse_follow_up` (a day past is kept, with a warning); files and sync are not
(an old record stays importable). Warnings travel with the value (:attr:`When.warning`,
:attr:`Day.warning`): the shell shows them (the CLI on stderr, the TUI as a notice).

``FIELDLOG_NOW`` (an ISO date-time) fixes "now" for tests and demos.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from fieldlog.errors import ValidationError
from fieldlog.text import printable

WHEN_HELP = (
    "use a date like 2026-11-24, 'Nov 24 14:30' or '2026-11-24 2:30pm', today, yesterday, "
    "'yesterday 14:30', '2h ago', 3d, 7d, or a weekday like monday"
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
_MONTHS = {
    "jan": 1, "january": 1, "feb": 2, "february": 2, "mar": 3, "march": 3, "apr": 4, "april": 4,
    "may": 5, "jun": 6, "june": 6, "jul": 7, "july": 7, "aug": 8, "august": 8, "sep": 9,
    "sept": 9, "september": 9, "oct": 10, "october": 10, "nov": 11, "november": 11, "dec": 12,
    "december": 12,
}  # fmt: skip
_WORD_TIMES = {"noon": time(12, 0), "midday": time(12, 0), "midnight": time(0, 0)}

# Compiled once, on first use: ``fieldlog add`` without ``--at`` reads no date at all.
_ORDINAL = r"(?:st|nd|rd|th)?"
_SOURCES = {
    "span": r"^(?P<in>in\s+)?(?P<n>\d+)\s*(?P<unit>[a-z]+)(?P<ago>\s+ago)?$",
    "time": r"^(?P<h>\d{1,2})(?::(?P<m>\d{2}))?\s*(?P<ampm>[ap])?(?:\.?m\.?)?$",
    "iso_day": r"^\d{4}-\d{2}-\d{2}$",
    "iso_day_time": r"^(?P<day>\d{4}-\d{2}-\d{2})[t ]\s*(?P<time>\d.*)$",
    "month_date": (
        rf"^(?:(?P<mon>[a-z]+)\.?\s+(?P<d>\d{{1,2}}){_ORDINAL}"
        rf"|(?P<d2>\d{{1,2}}){_ORDINAL}\s+(?:of\s+)?(?P<mon2>[a-z]+)\.?)"
        r"(?:,?\s+(?P<y>\d{4}))?(?:,?\s+(?:at\s+)?(?P<time>\S.*))?$"
    ),
    "slash_date": (
        r"^(?P<a>\d{1,4})/(?P<b>\d{1,2})(?:/(?P<c>\d{2}|\d{4}))?"
        r"(?:,?\s+(?:at\s+)?(?P<time>\S.*))?$"
    ),
}
_compiled: dict[str, re.Pattern[str]] = {}


def _re(name: str) -> re.Pattern[str]:
    pattern = _compiled.get(name)
    if pattern is None:
        pattern = _compiled[name] = re.compile(_SOURCES[name])
    return pattern


# Plausibility of what a person types (parse_at, parse_follow_up).
FUTURE_SLACK = timedelta(minutes=5)  # a laptop clock a little behind the phone's
MAX_AGE_YEARS = 10


@dataclass(frozen=True)
class When:
    """A parsed WHEN: an aware UTC datetime, whether the person gave only a day, and a
    warning to show the person (a time that happens twice in a summer-time change)."""

    at: datetime
    date_only: bool = False
    warning: str | None = None

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
    from fieldlog import settings  # checks the value: a bad one is one line, never a traceback

    fixed = settings.fixed_now()
    return fixed if fixed is not None else datetime.now(UTC)


def now_local() -> datetime:
    return to_local(now())


def _local_midnight(d: date) -> datetime:
    return localize(datetime.combine(d, time(0, 0)))


def _clock(t: time) -> str:
    return f"{t.hour}:{t.minute:02d}"


def wall_time(naive: datetime, field: str = "when") -> When:
    """A wall-clock time typed by a person, read as local time: refused when the clocks skip
    it (summer time starts), the first of the two when they pass it twice (it ends)."""
    first = naive.replace(fold=0).astimezone()
    later = naive.replace(fold=1).astimezone()
    if first.replace(tzinfo=None) != naive.replace(fold=0):
        use = later.replace(tzinfo=None).time()  # Python moves a skipped time past the gap
        raise ValidationError(
            field,
            f"{_clock(naive.time())} does not exist on {naive.day} {naive:%B} in your time zone "
            f"(clocks went forward): use {_clock(use)}.",
        )
    warning = None
    if first.utcoffset() != later.utcoffset():
        offset = f"{first:%z}"
        warning = (
            f"{_clock(naive.time())} on {naive.day} {naive:%B} happens twice in your time zone "
            f"(clocks went back): taken as the first, before the change "
            f"(UTC{offset[:3]}:{offset[3:]})."
        )
    return When(first.astimezone(UTC), warning=warning)


def _parse_time(text: str) -> time | None:
    """``14:30``, ``2:30pm``, ``2 pm``, ``2:30 p.m.``, ``noon``, ``midnight``; None if not."""
    s = text.strip().removeprefix("at ").strip()
    if s in _WORD_TIMES:
        return _WORD_TIMES[s]
    if s.startswith("12 ") and s[3:].strip() in ("noon", "midnight"):
        return _WORD_TIMES[s[3:].strip()]
    m = _re("time").match(s)
    if not m:
        return None
    hour, minute = int(m["h"]), int(m["m"] or 0)
    if m["ampm"]:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if m["ampm"] == "p" else 0)
    elif m["m"] is None or s[-1:] in "m.":
        return None  # a bare number is not a time ("m" alone is no am/pm)
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


MIN_YEAR, MAX_YEAR = 1900, 2999  # stored text sorts as time only with four-digit years


def parse_when(text: str, *, future: bool = False, field: str = "when") -> When:
    """Parse what an officer typed; raise ValidationError naming the accepted forms."""
    try:
        when = _parse_when(text, future=future, field=field)
    except (OverflowError, OSError):  # "99999999d": past datetime's range; Windows: pre-1970
        when = None
    if when is None or not MIN_YEAR <= when.at.year <= MAX_YEAR:
        raise ValidationError(
            field,
            f"The {field} '{printable((text or '').strip())}' is out of range: use a date "
            f"between {MIN_YEAR} and {MAX_YEAR}.",
        )
    return when


def _cannot(field: str, raw: str, what: str = "date") -> ValidationError:
    return ValidationError(field, f"Cannot read the {what} '{printable(raw)}': {WHEN_HELP}.")


def _at_day(day: date, rest: str, field: str, raw: str) -> When:
    """A day, with the time typed after it (``rest``; none: the whole day)."""
    if not rest.strip():
        return When(_local_midnight(day).astimezone(UTC), True)
    t = _parse_time(rest)
    if t is None:
        raise _cannot(field, raw, "time in")
    return wall_time(datetime.combine(day, t), field)


def _year_for(month: int, day: int, today: date, future: bool) -> date | None:
    """A date typed without its year, like a weekday: the last one (today counts), or for a
    follow-up the next one. None: no such day in the years around (29 February)."""
    options = []
    for year in (today.year - 1, today.year, today.year + 1):
        try:
            options.append(date(year, month, day))
        except ValueError:  # 29 February of a common year
            continue
    if future:
        return next((d for d in options if d >= today), None)
    return next((d for d in reversed(options) if d <= today), None)


def _dated(
    year: int | None, month: int, day: int, rest: str, ctx: tuple[date, bool, str, str]
) -> When:
    today, future, field, raw = ctx
    if year is None:
        found = _year_for(month, day, today, future)
        if found is None:
            raise ValidationError(
                field, f"There is no day '{printable(raw)}' this year: check it, or give the year."
            )
    else:
        try:
            found = date(year, month, day)
        except ValueError:
            raise ValidationError(
                field, f"There is no day '{printable(raw)}': check the date."
            ) from None
    return _at_day(found, rest, field, raw)


def _month_date(m: re.Match[str], ctx: tuple[date, bool, str, str]) -> When | None:
    """``Nov 24``, ``24 Nov``, ``November 24, 2026 2:30pm``; None if the word is no month."""
    month = _MONTHS.get(m["mon"] or m["mon2"] or "")
    if month is None:
        return None
    day = int(m["d"] or m["d2"])
    return _dated(int(m["y"]) if m["y"] else None, month, day, m["time"] or "", ctx)


def _slash_date(m: re.Match[str], ctx: tuple[date, bool, str, str]) -> When:
    """``11/24``, ``24/11``, ``11/24/2026``, ``2026/11/24``; ``11/12`` in the date order."""
    field, raw = ctx[2], ctx[3]
    a, b, c = m["a"], m["b"], m["c"]
    rest = m["time"] or ""
    if len(a) == 4:  # year first: 2026/11/24
        if c is None:
            raise _cannot(field, raw)
        return _dated(int(a), int(b), int(c), rest, ctx)
    if len(a) == 3:
        raise _cannot(field, raw)
    x, y = int(a), int(b)
    year = None if c is None else int(c) + (2000 if len(c) == 2 else 0)
    if x > 12 and y > 12 or not x or not y:
        raise ValidationError(field, f"There is no day '{printable(raw)}': check the date.")
    if x > 12:
        month, day = y, x
    elif y > 12 or x == y:
        month, day = x, y
    else:
        from fieldlog.date_order import date_order  # lazy: only an ambiguous date asks

        order = date_order()
        if order is None:
            shown = f"{a}/{b}" + (f"/{c}" if c else "")
            readings = [_iso(year, mo, d, ctx) for mo, d in ((x, y), (y, x))]
            raise ValidationError(
                field,
                f"'{shown}' could be {_spoken(x, y)} or {_spoken(y, x)}: write it as "
                f"{readings[0]} or {readings[1]}, or set the order once: "
                "fieldlog config set date_order mdy (or dmy).",
            )
        month, day = (x, y) if order == "mdy" else (y, x)
    return _dated(year, month, day, rest, ctx)


def _iso(year: int | None, month: int, day: int, ctx: tuple[date, bool, str, str]) -> str:
    """How to write a reading of an ambiguous date unambiguously (its year as it would be)."""
    found = _year_for(month, day, ctx[0], ctx[1]) if year is None else None
    return (found or date(year or ctx[0].year, month, day)).isoformat()


def _spoken(month: int, day: int) -> str:
    return f"{day} {date(2000, month, 1):%B}"


def _parse_when(text: str, *, future: bool, field: str) -> When:
    raw = (text or "").strip()
    s = " ".join(raw.lower().split())
    if not s:
        raise ValidationError(field, f"The {field} is empty: {WHEN_HELP}.")
    current = now_local()
    today = current.date()
    ctx = (today, future, field, raw)

    # ISO date or date-time (or an ISO date and a time as people write it: 2026-11-24 2:30pm).
    try:
        if _re("iso_day").match(s):
            return When(_local_midnight(date.fromisoformat(s)).astimezone(UTC), True)
        m = _re("iso_day_time").match(s)
        if m:
            t = _parse_time(m["time"])
            if t is not None:
                return wall_time(datetime.combine(date.fromisoformat(m["day"]), t), field)
            dt = datetime.fromisoformat(raw.replace("Z", "+00:00").replace("z", "+00:00"))
            if dt.tzinfo is None:
                return wall_time(dt, field)
            return When(dt.astimezone(UTC))
    except ValueError:
        raise _cannot(field, raw) from None

    if s == "now":
        return When(current.astimezone(UTC))

    words = s.split(None, 1)
    head, rest = words[0], (words[1] if len(words) > 1 else "")
    day: date | None = None
    if head in ("today", "yesterday", "tomorrow", "tonight"):
        day = today + timedelta(days={"yesterday": -1, "tomorrow": 1}.get(head, 0))
    elif head in ("last", "next", "this") and rest.split(None, 1)[0] in _WEEKDAYS:
        parts = rest.split(None, 1)
        day = _weekday(
            today, _WEEKDAYS[parts[0]], forward=head == "next" or (head == "this" and future)
        )
        rest = parts[1] if len(parts) > 1 else ""
    elif head in _WEEKDAYS:
        day = _weekday(today, _WEEKDAYS[head], forward=future)
    if day is not None:
        return _at_day(day, rest, field, raw)

    t = _parse_time(s)
    if t is not None:
        return wall_time(datetime.combine(today, t), field)

    m = _re("month_date").match(s)
    if m:
        when = _month_date(m, ctx)
        if when is not None:
            return when
    m = _re("slash_date").match(s)
    if m:
        return _slash_date(m, ctx)

    m = _re("span").match(s)
    if m and m["unit"] in _UNITS and not (m["in"] and m["ago"]):
        seconds = int(m["n"]) * _UNITS[m["unit"]]
        forward = bool(m["in"]) or (future and not m["ago"])
        delta = timedelta(seconds=seconds)
        at = current + delta if forward else current - delta
        date_only = _UNITS[m["unit"]] >= 86400 and future
        if date_only:
            return When(_local_midnight(at.date()).astimezone(UTC), True)
        return When(at.astimezone(UTC))

    raise _cannot(field, raw)


def _weekday(today: date, weekday: int, *, forward: bool) -> date:
    if forward:
        return today + timedelta(days=(weekday - today.weekday()) % 7 or 7)
    return today - timedelta(days=(today.weekday() - weekday) % 7)


def parse_day(text: str, *, future: bool = True, field: str = "follow-up") -> str:
    """A WHEN reduced to a local calendar day, ``YYYY-MM-DD`` (follow-up dates)."""
    w = parse_when(text, future=future, field=field)
    return to_local(w.at).date().isoformat()


# ---------------------------------------------------------------------- what a person types
def check_happened(
    when: When, typed: str, *, label: str = "--at", field: str = "occurred_at"
) -> When:
    """Refuse a contact time a person typed that cannot be right: later than a few minutes
    from now (a typo in the year, or a follow-up typed as the time), or ten years ago or more
    (a field log is written as contacts happen). Import and sync do not come here."""
    shown = printable(" ".join(typed.split()))
    current = now()
    if when.at > current + FUTURE_SLACK:
        example = f"today {_clock(to_local(current).time())}"
        raise ValidationError(
            field,
            f"{label} {shown} is in the future: give the time the contact happened, "
            f"e.g. '{example}' or 'yesterday 14:30'.",
        )
    local_now = to_local(current)
    try:
        oldest = local_now.replace(year=local_now.year - MAX_AGE_YEARS)
    except ValueError:  # 29 February
        oldest = local_now.replace(year=local_now.year - MAX_AGE_YEARS, day=28)
    if when.at <= oldest:
        raise ValidationError(
            field,
            f"{label} {shown} is {MAX_AGE_YEARS} or more years ago: check the year "
            "(old records come in with 'fieldlog import').",
        )
    return when


def parse_at(text: str, *, label: str = "--at", field: str = "occurred_at") -> When:
    """When a contact happened, as a person typed it (``--at``, the form's When): read, then
    checked by :func:`check_happened`. A time that happens twice keeps its ``warning``."""
    return check_happened(parse_when(text, field=field), text, label=label, field=field)


@dataclass(frozen=True)
class Day:
    """A day a person typed, ``YYYY-MM-DD``, and a warning to show them (or None)."""

    day: str
    warning: str | None = None


def parse_follow_up(text: str, *, label: str = "--follow-up", field: str = "follow_up_on") -> Day:
    """A follow-up day as a person typed it. A day in the past is kept (a contact logged
    late from a notebook can be overdue already) with a warning that it is overdue: refusing
    it would lose the follow-up, saying nothing would hide a slip of the year."""
    day = parse_day(text, future=True, field=field)
    today = today_local()
    if day >= today:
        return Day(day)
    shown = printable(" ".join(text.split()))
    return Day(
        day,
        f"{label} {shown} is in the past ({day}): it is overdue already "
        "(edit it if that was a slip).",
    )


# ---------------------------------------------------------------------- stored times
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
