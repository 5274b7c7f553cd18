"""WHEN parsing: what officers type, against a fixed clock (Wednesday 2026-11-25 10:00)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from fieldlog import dates
from fieldlog.errors import ValidationError


@pytest.fixture(autouse=True)
def fixed_now(monkeypatch):
    monkeypatch.setenv("FIELDLOG_NOW", "2026-11-25T10:00:00-06:00")  # Chicago, a Wednesday


def local(text: str, **kw) -> str:
    return dates.parse_when(text, **kw).at.astimezone().strftime("%Y-%m-%d %H:%M")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("now", "2026-11-25 10:00"),
        ("today", "2026-11-25 00:00"),
        ("yesterday", "2026-11-24 00:00"),
        ("yesterday 14:30", "2026-11-24 14:30"),
        ("Yesterday 2:30pm", "2026-11-24 14:30"),
        ("tomorrow 9:00", "2026-11-26 09:00"),
        ("2h ago", "2026-11-25 08:00"),
        ("90m ago", "2026-11-25 08:30"),
        ("3d", "2026-11-22 10:00"),
        ("7d", "2026-11-18 10:00"),
        ("2w", "2026-11-11 10:00"),
        ("monday", "2026-11-23 00:00"),
        ("wed", "2026-11-25 00:00"),
        ("friday 16:00", "2026-11-20 16:00"),
        ("last fri", "2026-11-20 00:00"),
        ("next monday", "2026-11-30 00:00"),
        ("14:30", "2026-11-25 14:30"),
        ("2026-11-01", "2026-11-01 00:00"),
        ("2026-11-01 08:15", "2026-11-01 08:15"),
        ("2026-11-01T08:15", "2026-11-01 08:15"),
        ("2026-11-01T14:15Z", "2026-11-01 08:15"),
    ],
)
def test_past_words(text, expected):
    assert local(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3d", "2026-11-28"),
        ("in 3d", "2026-11-28"),
        ("friday", "2026-11-27"),
        ("monday", "2026-11-30"),
        ("wed", "2026-12-02"),
        ("tomorrow", "2026-11-26"),
        ("2026-12-24", "2026-12-24"),
        ("today", "2026-11-25"),
        ("2w", "2026-12-09"),
    ],
)
def test_follow_up_days_point_forward(text, expected):
    assert dates.parse_day(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "soon",
        "someday",
        "2026-02-30",
        "25:00",
        "yesterday noonish",
        "3 parsecs",
        "in 3d ago",
        "13pm",
        "2026-11-01 99:99",
    ],
)
def test_bad_dates_name_the_accepted_forms(text):
    with pytest.raises(ValidationError) as err:
        dates.parse_when(text)
    assert "yesterday 14:30" in str(err.value)


def test_stored_utc_shown_local():
    w = dates.parse_when("2026-07-04 12:00")  # CDT, UTC-5
    assert dates.to_storage(w.at) == "2026-07-04T17:00:00Z"
    assert dates.show_local("2026-07-04T17:00:00Z") == "2026-07-04 12:00"
    assert w.at.tzinfo == UTC


def test_until_a_day_covers_the_day():
    w = dates.parse_when("2026-11-20")
    assert w.date_only and w.end() - w.at == datetime(2, 1, 2) - datetime(2, 1, 1)
