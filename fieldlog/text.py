"""Text rules every layer shares: control characters and plurals.

Stored text is shown in a terminal, so a summary holding ``ESC ] 0 ;`` (a window title) or
``ESC [ 2 J`` (clear screen), typed, imported or synced, must never reach it raw.
:func:`printable` makes such text safe to print (each control character shown as a visible
``\\xNN`` escape); :func:`control_chars` finds them, for refusing them on input.
Nothing here imports anything: every layer may use it.
"""

from __future__ import annotations

import re

# C0 controls but tab and newline, DEL, and the C1 controls (U+0080-U+009F: a terminal reads
# U+009B as CSI, the same as ESC [); also the bidirectional overrides that reorder what is shown.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_CONTROL_NO_NEWLINE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    ch = match.group()
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(value: str, *, newlines: bool = True) -> str:
    """``value`` with every control character shown as a visible escape (``\\x1b``).

    Tabs and newlines are kept when ``newlines`` (notes print on several lines), else they are
    escaped too (one table cell, one line)."""
    pattern = _CONTROL if newlines else _CONTROL_NO_NEWLINE
    return pattern.sub(_escape, value) if pattern.search(value) else value


def control_chars(value: str, *, newlines: bool = False) -> list[str]:
    """The control characters in ``value``, as escapes (``['\\x1b']``); tab and newline are
    allowed when ``newlines`` (notes)."""
    pattern = _CONTROL if newlines else _CONTROL_NO_NEWLINE
    return sorted({_escape(m) for m in pattern.finditer(value)})


def plural(n: int, noun: str, many: str | None = None) -> str:
    """``1 concern``, ``2 concerns``, ``1 family``/``2 families`` (``many`` for the odd ones)."""
    if n == 1:
        return f"{n} {noun}"
    if many is None:
        consonant_y = noun.endswith("y") and noun[-2:-1] not in "aeiou"
        many = noun[:-1] + "ies" if consonant_y else noun + "s"
    return f"{n} {many}"


def md_cell(value: object) -> str:
    """``value`` as one Markdown table cell: on one line, ``|`` and ``\\`` escaped."""
    text = " ".join(str(value).split())
    return text.replace("\\", "\\\\").replace("|", "\\|")
