"""WHEN parsing: what officers type, against a fixed clock (Wednesday 2026-11-25 10:00)."""

from __future__ import annotations

import time
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


# ---------------------------------------------------------------------- issue 11: more forms
def set_zone(monkeypatch, zone: str) -> None:
    """Another local zone for one test (tzset is POSIX-only: skip where it is missing)."""
    if not hasattr(time, "tzset"):
        pytest.skip("time.tzset is POSIX-only")
    monkeypatch.setenv("TZ", zone)
    time.tzset()


@pytest.fixture
def order(monkeypatch, tmp_path):
    """Set ``date_order`` in a config.toml of this test's own (None: no file, auto)."""
    from fieldlog import config

    def use(value: str | None) -> None:
        path = tmp_path / "config.toml"
        if value is None:
            path.unlink(missing_ok=True)
        else:
            path.write_text(f'date_order = "{value}"\n', encoding="utf-8")
        monkeypatch.setenv("FIELDLOG_CONFIG", str(path))
        config.clear_cache()

    yield use
    config.clear_cache()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Nov 24", "2026-11-24 00:00"),
        ("24 Nov", "2026-11-24 00:00"),
        ("nov. 24th", "2026-11-24 00:00"),
        ("24th of November", "2026-11-24 00:00"),
        ("November 24 2026", "2026-11-24 00:00"),
        ("November 24, 2026", "2026-11-24 00:00"),
        ("24 November 2025", "2025-11-24 00:00"),
        ("Nov 24 2:30pm", "2026-11-24 14:30"),
        ("Nov 24, 2026 at 14:30", "2026-11-24 14:30"),
        ("11/24", "2026-11-24 00:00"),
        ("11/24/2026", "2026-11-24 00:00"),
        ("11/24/26 9am", "2026-11-24 09:00"),
        ("24/11", "2026-11-24 00:00"),
        ("24/11/2026 14:00", "2026-11-24 14:00"),
        ("2026/11/24", "2026-11-24 00:00"),
        ("3/3", "2026-03-03 00:00"),  # the same either way: no need to ask
        ("12/24", "2025-12-24 00:00"),  # no year: the last one, like a weekday
        ("noon", "2026-11-25 12:00"),
        ("midnight", "2026-11-25 00:00"),
        ("12 noon", "2026-11-25 12:00"),
        ("2026-11-24 2:30pm", "2026-11-24 14:30"),
        ("2026-11-24 2:30", "2026-11-24 02:30"),
        ("2026-11-24 14:30:15", "2026-11-24 14:30"),
        ("2:30 pm", "2026-11-25 14:30"),
        ("2:30 p.m.", "2026-11-25 14:30"),
        ("9 AM", "2026-11-25 09:00"),
        ("12am", "2026-11-25 00:00"),
        ("12pm", "2026-11-25 12:00"),
        ("yesterday 2pm", "2026-11-24 14:00"),
        ("yesterday noon", "2026-11-24 12:00"),
        ("friday noon", "2026-11-20 12:00"),
        ("last fri 2:30 pm", "2026-11-20 14:30"),
        ("  yesterday   14:30 ", "2026-11-24 14:30"),
    ],
)
def test_more_forms_people_type(text, expected):
    assert local(text) == expected


@pytest.mark.parametrize(
    ("text", "future", "expected"),
    [
        ("Dec 31", False, "2025-12-31"),  # like a weekday: the last one
        ("Nov 25", False, "2026-11-25"),  # today counts
        ("Jun 1", False, "2026-06-01"),
        ("Nov 24", True, "2027-11-24"),  # a follow-up: the next one
        ("Nov 25", True, "2026-11-25"),  # today counts
        ("Jan 5", True, "2027-01-05"),
        ("1/25", True, "2027-01-25"),
    ],
)
def test_a_date_without_its_year(text, future, expected):
    assert dates.parse_day(text, future=future) == expected


@pytest.mark.parametrize("text", ["Feb 30", "2/30", "13/13", "0/5", "31/31/2026", "Feb 29"])
def test_days_that_do_not_exist(text):
    with pytest.raises(ValidationError) as err:
        dates.parse_when(text)
    assert f"There is no day '{text}'" in str(err.value)


@pytest.mark.parametrize(
    "text", ["13:00pm", "0pm", "noonish", "2:30m", "Novembre 24", "24 smarch", "11/24/2026/1"]
)
def test_still_unreadable(text):
    with pytest.raises(ValidationError):
        dates.parse_when(text)


def test_ambiguous_slash_date_follows_the_setting(order):
    order("mdy")
    assert local("11/12") == "2026-11-12 00:00"
    order("dmy")
    assert local("11/12") == "2025-12-11 00:00"  # the last 11 December
    assert local("11/12/2025 9:00") == "2025-12-11 09:00"
    assert local("11/24") == "2026-11-24 00:00"  # unambiguous whatever the order


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"LANG": "en_US.UTF-8"}, "2026-11-12 00:00"),
        ({"LANG": "en_PH.UTF-8"}, "2026-11-12 00:00"),
        ({"LANG": "en_GB.UTF-8"}, "2025-12-11 00:00"),
        ({"LANG": "de_DE@euro"}, "2025-12-11 00:00"),
        ({"LC_TIME": "fr_FR.UTF-8", "LANG": "en_US.UTF-8"}, "2025-12-11 00:00"),
        ({"LC_ALL": "en_US", "LC_TIME": "en_GB.UTF-8"}, "2026-11-12 00:00"),
        ({"LANG": "ja_JP.UTF-8"}, "2026-11-12 00:00"),  # month before day
    ],
)
def test_auto_order_reads_the_locale(monkeypatch, order, env, expected):
    order(None)
    for name in ("LC_ALL", "LC_TIME", "LANG"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert local("11/12") == expected


@pytest.mark.parametrize("lang", [None, "C", "POSIX", "C.UTF-8", "en_CA.UTF-8"])
def test_unknown_order_refuses_an_ambiguous_date_with_the_fix(monkeypatch, order, lang):
    from fieldlog import date_order

    order(None)
    for name in ("LC_ALL", "LC_TIME", "LANG"):
        monkeypatch.delenv(name, raising=False)
    if lang:
        monkeypatch.setenv("LANG", lang)
    monkeypatch.setattr(date_order, "windows_locale_name", lambda: None)
    monkeypatch.setattr(date_order, "mac_locale_name", lambda: None)
    with pytest.raises(ValidationError) as err:
        dates.parse_when("11/12")
    msg = str(err.value)
    assert "'11/12' could be 12 November or 11 December" in msg
    assert "2026-11-12 or 2025-12-11" in msg and "config set date_order mdy" in msg
    assert local("24/11") == "2026-11-24 00:00"  # no need to know the order


def test_windows_and_mac_locales_without_the_variables(monkeypatch, order):
    """The branches that run without LANG (Windows, a macOS app), forced on Linux."""
    import subprocess
    import sys

    from fieldlog import date_order

    order(None)
    for name in ("LC_ALL", "LC_TIME", "LANG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setattr(date_order, "windows_locale_name", lambda: "en-US")
    assert date_order.date_order() == "mdy"
    monkeypatch.setattr(date_order, "windows_locale_name", lambda: "en-GB")
    assert date_order.date_order() == "dmy"

    monkeypatch.undo()  # back to Linux, then pretend to be a Mac
    order(None)
    for name in ("LC_ALL", "LC_TIME", "LANG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(sys, "platform", "darwin")
    assert date_order.windows_locale_name() is None
    ran = []

    def fake_run(args, **kw):
        ran.append(args)
        return subprocess.CompletedProcess(args, 0, stdout="en_US\n", stderr="")

    monkeypatch.setattr(subprocess, "run", fake_run)
    assert date_order.date_order() == "mdy"
    assert ran == [["defaults", "read", "-g", "AppleLocale"]]


@pytest.mark.parametrize(
    ("name", "region"),
    [("en_US.UTF-8", "US"), ("en-US", "US"), ("zh_Hant_TW", "TW"), ("sr_RS@latin", "RS"),
     ("C", None), ("POSIX", None), ("C.UTF-8", None), ("", None), ("English_United States", None)],
)  # fmt: skip
def test_region_of_a_locale_name(name, region):
    from fieldlog.date_order import region_of

    assert region_of(name) == region


# ---------------------------------------------------------------------- summer time
def test_a_time_skipped_by_the_clocks_is_refused_with_the_time_to_use(monkeypatch):
    set_zone(monkeypatch, "America/New_York")
    for text in ("2026-03-08 02:30", "2026-03-08 2:30am", "Mar 8 2026 2:30", "2026-03-08T02:30"):
        with pytest.raises(ValidationError) as err:
            dates.parse_when(text)
        assert str(err.value) == (
            "2:30 does not exist on 8 March in your time zone (clocks went forward): use 3:30."
        )
    assert dates.parse_when("2026-03-08 03:30").warning is None
    assert dates.parse_when("2026-03-08").date_only  # the day itself is fine
    assert dates.parse_when("2026-03-08T02:30:00Z").warning is None  # UTC: no wall clock


def test_a_half_hour_change_too(monkeypatch):
    set_zone(monkeypatch, "Australia/Lord_Howe")
    with pytest.raises(ValidationError, match="use 2:45"):
        dates.parse_when("2026-10-04 2:15")


def test_a_time_passed_twice_is_the_first_and_says_so(monkeypatch):
    set_zone(monkeypatch, "America/New_York")
    w = dates.parse_when("2026-11-01 1:30am")
    assert dates.to_storage(w.at) == "2026-11-01T05:30:00Z"  # 01:30 EDT, the first
    assert w.warning and "happens twice" in w.warning and "UTC-04:00" in w.warning
    assert dates.parse_when("2026-11-01 2:30am").warning is None


# ---------------------------------------------------------------------- what a person types
@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("2036-01-01", "--at 2036-01-01 is in the future: give the time the contact happened, "
                       "e.g. 'today 10:00'"),
        ("tomorrow", "--at tomorrow is in the future"),
        ("14:30", "--at 14:30 is in the future"),  # later today
        ("2016-11-25 10:00", "--at 2016-11-25 10:00 is 10 or more years ago: check the year"),
        ("1990-01-01", "10 or more years ago"),
    ],
)  # fmt: skip
def test_implausible_contact_times_are_refused(typed, message):
    with pytest.raises(ValidationError) as err:
        dates.parse_at(typed)
    assert message in str(err.value)
    assert err.value.field == "occurred_at"


@pytest.mark.parametrize(
    "typed", ["now", "10:04", "today", "yesterday 14:30", "2016-11-26", "3d", "Nov 24"]
)
def test_plausible_contact_times_pass(typed):
    assert dates.parse_at(typed).at <= dates.now() + dates.FUTURE_SLACK


def test_the_label_names_the_form_field():
    with pytest.raises(ValidationError, match="^When 2036-01-01 is in the future"):
        dates.parse_at("2036-01-01", label="When")


def test_old_and_future_times_still_read_where_nobody_typed_them():
    """Import and sync read stored times without the plausibility rule."""
    assert dates.parse_when("2001-05-05").at.year == 2001
    assert dates.parse_when("2040-05-05T10:00:00Z").at.year == 2040


def test_a_follow_up_in_the_past_is_kept_with_a_warning():
    today = dates.parse_follow_up("today")
    assert today == dates.Day("2026-11-25")
    ahead = dates.parse_follow_up("friday")
    assert ahead.day == "2026-11-27" and ahead.warning is None
    past = dates.parse_follow_up("2026-11-01")
    assert past.day == "2026-11-01"
    assert past.warning == (
        "--follow-up 2026-11-01 is in the past (2026-11-01): it is overdue already "
        "(edit it if that was a slip)."
    )


# ---------------------------------------------------------------------- FIELDLOG_NOW
@pytest.mark.parametrize("value", ["garbage", "2026-13-01", "tomorrow"])
def test_a_bad_fieldlog_now_is_one_line(monkeypatch, value):
    from fieldlog.errors import SettingError

    monkeypatch.setenv("FIELDLOG_NOW", value)
    with pytest.raises(SettingError) as err:
        dates.now()
    assert f"FIELDLOG_NOW='{value}' is not a date and time" in str(err.value)
    assert "unset it" in str(err.value) and "\n" not in str(err.value)


def test_escapes_in_a_date_are_shown_not_sent():
    with pytest.raises(ValidationError) as err:
        dates.parse_when("\x1b[2Jmonday")
    assert "\x1b" not in str(err.value) and "\\x1b[2Jmonday" in str(err.value)


def test_dates_stays_light():
    """``fieldlog add`` imports dates: no date library, no config file read at import."""
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-c", "import fieldlog.dates, sys; print(' '.join(sys.modules))"],
        capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    for heavy in ("dateutil", "dateparser", "fieldlog.config", "fieldlog.date_order", "locale",
                  "difflib", "platformdirs"):  # fmt: skip
        assert heavy not in out, heavy
