"""Which of ``11/12``'s numbers is the month: the ``date_order`` setting, else the locale.

Only an ambiguous slash date (both numbers 12 or less) asks: ``11/24`` and ``24/11`` read the
same everywhere. ``date_order`` in config.toml is ``mdy`` (November 12), ``dmy`` (11 December)
or ``auto``, the default: the officer's locale decides, read without changing it (never
``setlocale``, which is process-wide, nor ``nl_langinfo``, which is POSIX-only):

- POSIX (Linux, macOS from a terminal): the first of ``LC_ALL``, ``LC_TIME``, ``LANG`` that is
  set, as the C library reads them (``en_US.UTF-8`` -> US);
- Windows: the user's locale name from ``GetUserDefaultLocaleName`` (``en-US``);
- macOS without those variables (an app started from the Finder): ``defaults read -g
  AppleLocale``.

Month first: the United States and its territories, the Philippines, Micronesia, the Marshall
Islands, Palau; and China, Japan, Korea and Taiwan (year-month-day countries: a date without a
year is month/day). Every other country puts the day first. When the order cannot be told (no
locale, ``C``/``POSIX``, or Canada, where both are common), an ambiguous date is refused with
the fix (write the ISO date, or set ``date_order``): a guess could put a contact a month off.

Nothing is imported at module level but ``os`` and ``sys``: ``fieldlog add`` stays fast, and
this module is loaded only when an ambiguous date is typed.
"""

from __future__ import annotations

import os
import sys

MONTH_FIRST = frozenset(
    {"US", "AS", "GU", "MP", "PR", "UM", "VI", "PH", "FM", "MH", "PW", "CN", "JP", "KR", "TW"}
)
UNSURE = frozenset({"CA"})  # both orders in everyday use
ENV_NAMES = ("LC_ALL", "LC_TIME", "LANG")


def region_of(name: str | None) -> str | None:
    """The country of a locale name: ``en_US.UTF-8`` / ``en-US`` / ``de_DE@euro`` -> ``US`` /
    ``US`` / ``DE``; None for ``C``, ``POSIX`` or a name without one."""
    if not name:
        return None
    base = name.split(".", 1)[0].split("@", 1)[0]
    parts = base.replace("-", "_").split("_")
    if len(parts) < 2:
        return None
    region = parts[-1] if len(parts[-1]) == 2 else parts[1]  # zh_Hant_TW, sr_Latn_RS
    return region.upper() if len(region) == 2 and region.isalpha() else None


def windows_locale_name() -> str | None:
    """The user's locale on Windows (``en-US``), None elsewhere or when it cannot be read."""
    if sys.platform != "win32":
        return None
    try:
        import ctypes

        buf = ctypes.create_unicode_buffer(85)  # LOCALE_NAME_MAX_LENGTH
        if ctypes.windll.kernel32.GetUserDefaultLocaleName(buf, 85):
            return str(buf.value)
    except (AttributeError, OSError):
        pass
    return None


def mac_locale_name() -> str | None:
    """The macOS user locale (``en_US``) when no locale variable is set; None elsewhere."""
    if sys.platform != "darwin":
        return None
    import subprocess

    try:
        out = subprocess.run(
            ["defaults", "read", "-g", "AppleLocale"],
            capture_output=True,
            text=True,
            timeout=2,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def locale_name() -> str | None:
    """The locale name the officer runs under (see the module's docstring)."""
    for var in ENV_NAMES:
        value = os.environ.get(var)
        if value:  # the first one set decides, as in the C library (LC_ALL=C means C)
            return value
    return windows_locale_name() or mac_locale_name()


def from_locale() -> str | None:
    """``mdy`` or ``dmy`` from the locale; None when it cannot be told."""
    region = region_of(locale_name())
    if region is None or region in UNSURE:
        return None
    return "mdy" if region in MONTH_FIRST else "dmy"


def date_order() -> str | None:
    """``mdy`` or ``dmy``: the ``date_order`` setting, or the locale's when it is ``auto``;
    None when neither says (an ambiguous date is then refused)."""
    from fieldlog import config  # lazy: config.toml is read only for an ambiguous date

    setting = config.get("date_order", "auto")
    if setting in ("mdy", "dmy"):
        return str(setting)
    return from_locale()
